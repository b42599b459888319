"""The linear system of force-SINDy, Theta beta = y: one row per observation and
component, from the data's observations of grad V (pairs, triples or weak
windows) and the library's gradients, or their pair sums for many bodies."""

from __future__ import annotations

import numpy as np

from ..data.geometry import as_geometry
from ..data.noise import momenta
from ..data.trajectories import Trajectories
from ..learning.observations import pairs
from ..systems.pairs import PairLibrary
from .friction import drag_columns
from .library import Library

__all__ = ["drag_equations", "force_equations", "places"]


def _pair_forces(target, data: Trajectories, library: Library, geometry=None):
    """For a pair potential phi(r) learned from many bodies (one library symbol,
    data of more coordinates): the pair sums of the terms, in ``geometry``, else
    that of the network ``target`` belongs to (``model.pair_potential``, a
    bound method), else the data's. None for a single system."""
    if len(library.symbols) != 1 or data.dim == 1:
        return None
    if geometry is None:
        geometry = getattr(getattr(target, "__self__", target), "geometry", None)
    return PairLibrary(library.terms, library.symbols[0], as_geometry(data, geometry))


def force_equations(
    traj: Trajectories,
    library: Library,
    kind: str,
    stride: int = 1,
    window: int | None = None,
    forces=None,
    known=None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The linear system of force-SINDy: Theta beta = y, one row per observation
    and component.

    Parameters
    ----------
    traj : Trajectories
    library : Library
        Terms that vary (a constant has no gradient).
    kind, stride, window
        As in :func:`symhamil.learning.observations.pairs`.
    forces : object with ``gradient(points)``, optional
        Gradients of the terms in place of ``library.gradient``: the pair sums
        of :class:`symhamil.systems.pairs.PairLibrary` for many bodies.
    known : callable, optional
        The gradient of a known part of the potential, (R, ..., d) -> (R, ...,
        d) with the trajectory first (it may differ between trajectories: the
        centrifugal l^2/2mr^2 of each orbit); moved to the right-hand side.

    Returns
    -------
    theta : ndarray, shape (n * d, J)
    y : ndarray, shape (n * d,)
    time : ndarray of int, shape (n * d, 2)
        The trajectory and the first sample of each row's observation (for
        resampling blocks of the data).
    """
    pr = pairs(traj, kind, stride, window)
    d = traj.dim
    library = library if forces is None else forces

    def grads(q):  # (R, P, d) -> (R, P, d, J)
        return library.gradient(q.reshape(-1, d)).reshape((*q.shape, -1))

    g = pr.gathered(grads)
    theta = pr.rows(g).reshape(-1, g.shape[-1])
    y = -pr.rows(pr.dp).reshape(-1)
    if known is not None:
        y = y - pr.rows(pr.gathered(known)).reshape(-1)
    return theta, y, places(pr)


def places(pr) -> np.ndarray:
    """The piece and first sample of each row of an observations' system (for
    resampling and holding out blocks of the data), shape (n * d, 2)."""
    R = pr.dp.shape[0]
    where = np.stack(
        np.broadcast_arrays(np.arange(R)[:, None, None], pr.index[None, :, None]), axis=-1
    )  # (R, P, 1, 2)
    return pr.rows(np.broadcast_to(where, (*pr.dp.shape, 2))).reshape(-1, 2)


def drag_equations(
    traj: Trajectories, friction: Library, kind: str, stride: int = 1, window: int | None = None
) -> np.ndarray:
    """The friction's columns of force-SINDy's system, in the rows of
    :func:`force_equations`: dR_k/dp at the same observations.

    Parameters
    ----------
    traj : Trajectories
        Without momenta, p = m dq/dt is estimated at every sample
        (:func:`symhamil.data.noise.momenta`).
    friction : Library
        Over (coordinates, momenta), as :func:`~symhamil.sindy.friction.friction_library`
        makes it.

    Returns
    -------
    ndarray, shape (n * d, K)
    """
    pr = pairs(traj, kind, stride, window)
    g = pr.gathered_states(lambda q, p: drag_columns(friction, q, p), momenta(traj))
    return pr.rows(g).reshape(-1, g.shape[-1])
