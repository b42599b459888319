"""Neural potentials in TensorFlow: the only part of symhamil that imports it.

>>> from symhamil.neural import NeuralPotential        # doctest: +SKIP
>>> model = NeuralPotential(dim=1, hidden=(16, 16)).fit(traj)  # doctest: +SKIP

Rooms: ``_network`` (the MLP and its files), ``_data`` (tensors and the loss),
``_optimizers`` (GD, Adam, distributed steps, L-BFGS-B), ``_checkpoint``,
``_run`` (one training run: stages, history, stopping rules), ``_potential``
(the estimator).
"""

from ..training import OPTIMIZERS, TrainingSpec
from ._potential import NeuralPotential
from ._run import TrainingError

__all__ = ["OPTIMIZERS", "NeuralPotential", "TrainingError", "TrainingSpec"]
