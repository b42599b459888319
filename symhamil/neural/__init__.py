"""Neural potentials in TensorFlow: the only part of symhamil that imports it.

>>> from symhamil.neural import NeuralPotential        # doctest: +SKIP
>>> model = NeuralPotential(dim=1, hidden=(16, 16)).fit(traj)  # doctest: +SKIP

Rooms: ``_network`` (the MLP and its files), ``_data`` (tensors and the loss),
``_optimizers`` (GD, Adam, distributed steps, L-BFGS-B), ``_checkpoint``,
``_run`` (one training run: stages, history, stopping rules), ``_potential``
(the estimator), ``_pairs`` (its many-body form, one phi(r) for every pair).
"""

import contextlib
import os
import sys


@contextlib.contextmanager
def _quiet_stderr():
    """Silence file descriptor 2 while TensorFlow loads.

    TensorFlow 2.21 prints its start-up banners (oneDNN, CPU features) through
    absl before TF_CPP_MIN_LOG_LEVEL is read, so only the descriptor itself can
    keep them off a user's terminal. Python exceptions still propagate.
    """
    try:
        saved = os.dup(2)
    except OSError:  # pragma: no cover - no stderr descriptor (embedded interpreters)
        yield
        return
    sys.stderr.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


# TensorFlow's C++ logs (CPU feature banners, XLA notices) are not the user's
# business; SYMHAMIL_TF_LOGS=1 keeps them. Must be set before TensorFlow loads.
if not os.environ.get("SYMHAMIL_TF_LOGS"):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with _quiet_stderr():
        import tensorflow  # noqa: F401


class _NoRetracingNotice:
    """Drops TensorFlow's "triggered tf.function retracing" warning.

    symhamil compiles one function per model and per training-data layout by
    design (a reproduction trains a dozen models), which TensorFlow counts as
    retracing of the same Python function; the notice suggests fixes that do
    not apply. Every other TensorFlow warning passes.
    """

    def filter(self, record) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


if not os.environ.get("SYMHAMIL_TF_LOGS"):
    import tensorflow as _tf

    _tf.get_logger().addFilter(_NoRetracingNotice())

from ..learning.training import OPTIMIZERS, TrainingSpec  # noqa: E402
from ._checkpoint import FolderInUse  # noqa: E402
from ._pairs import PairPotential  # noqa: E402
from ._potential import NeuralPotential  # noqa: E402
from ._run import TrainingError  # noqa: E402

__all__ = [
    "OPTIMIZERS",
    "FolderInUse",
    "NeuralPotential",
    "PairPotential",
    "TrainingError",
    "TrainingSpec",
]
