"""Interpreting a learned potential: formulas from a network (``export``),
comparison with the truth (``compare``), rollouts against the data
(``rollout``), a verdict on whether a learned potential explains the data
(``assess``), and a pair potential where MD engines run it (``md_export``: a
LAMMPS table, an ASE calculator).
"""
