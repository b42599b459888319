"""The data value and what is measured of it.

:class:`~symhamil.Trajectories` (frozen, read-only arrays), measured samples cut
into regular pieces (``samples``), the noise level and time scale of the data
(``noise``), and the geometry of many bodies (``geometry``: particles, space,
box, neighbour lists). No file format lives here; readers are in
:mod:`symhamil.readers`.
"""
