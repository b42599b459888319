"""Everything that draws or typesets, shared by every application: LaTeX
escaping and the one safe PDF builder (``latex``), and the figures (``plots``,
matplotlib imported only when drawing).
"""
