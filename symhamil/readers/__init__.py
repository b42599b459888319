"""Where data come in: delimited text files and molecular-dynamics files.

A new file format is a new module here that returns a
:class:`~symhamil.Trajectories`.
"""

from .md import read_ase
from .tables import coordinate_names, read_csv

__all__ = ["coordinate_names", "read_ase", "read_csv"]
