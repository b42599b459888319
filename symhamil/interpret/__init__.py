"""Interpreting a learned potential: formulas from a network (``export``),
comparison with the truth (``compare``), rollouts against the data
(``rollout``), and a verdict on whether a learned potential explains the data
(``assess``).
"""
