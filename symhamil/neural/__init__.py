"""Neural potentials in TensorFlow: the only part of symhamil that imports it.

>>> from symhamil.neural import NeuralPotential        # doctest: +SKIP
>>> model = NeuralPotential(dim=1, hidden=(16, 16)).fit(traj, steps=2000)  # doctest: +SKIP
"""

from ._potential import OPTIMIZERS, NeuralPotential, TrainingError

__all__ = ["OPTIMIZERS", "NeuralPotential", "TrainingError"]
