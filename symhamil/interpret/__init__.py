"""Interpreting a learned potential: formulas from a network (``export``),
comparison with the truth (``compare``), and rollouts against the data
(``rollout``).
"""
