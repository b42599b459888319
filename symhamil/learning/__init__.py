"""What every learner shares: the observations of grad V, the data's plan, the
training specification.

``observations`` is the one registry of observation kinds (forward and midpoint
pairs, verlet triples, weak windows): a new kind is added there and nowhere
else. ``planning`` reads the data's noise and time scale once and chooses the
observations, window, smoothing and selection. ``training`` holds
:class:`~symhamil.TrainingSpec`.
"""
