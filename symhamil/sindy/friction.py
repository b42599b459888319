"""Friction as a formula: a Rayleigh dissipation function R(q, p) beside V(q).

The data's momenta obey dp/dt = -grad V(q) - dR/dp (q, p); linear damping is
R = gamma p^2/2 (force -gamma p), quadratic drag R = c |p|^3/3 (-c |p| p),
Coulomb friction R = mu |p| (-mu sign p). Each friction term enters
force-SINDy's linear system as one more column, dR_k/dp at the observations,
so V and R are selected together; shooting and rollouts integrate the damped
dynamics.

Terms are written in the momentum symbols named after the coordinates
(:func:`symhamil.data.trajectories.momentum_symbols`: q -> p_q), and may
depend on the coordinates too.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..data.trajectories import Trajectories, momentum_symbols
from .library import Library

__all__ = ["drag_columns", "friction_library", "is_friction_term"]


def friction_library(friction, traj: Trajectories) -> Library:
    """``friction`` checked against the data, over (coordinates, momenta).

    Parameters
    ----------
    friction : Library
        Rayleigh functions in ``traj.momentum_symbols`` (and the coordinates).

    Returns
    -------
    Library
        The same terms over the symbols ``traj.coords + traj.momentum_symbols``,
        which :func:`drag_columns` evaluates at stacked (q, p).
    """
    momenta = traj.momentum_symbols
    allowed = (*traj.coords, *momenta)
    shown = ", ".join(s.name for s in momenta)
    if not isinstance(friction, Library):
        raise TypeError(
            f"friction must be a symhamil.Library of Rayleigh functions R in {shown}; got "
            f"{type(friction).__name__}. Example: sh.Library([p**2 / 2, sp.Abs(p)], (p,)) "
            f"with p = traj.momentum_symbols[0]."
        )
    names = {s.name for s in allowed}
    strange = sorted(s.name for s in friction.symbols if s.name not in names)
    if strange:
        raise ValueError(
            f"the friction library is written in {', '.join(strange)}, which are neither the "
            f"data's coordinates nor their momenta; write it in {shown} "
            "(traj.momentum_symbols), e.g. p_q**2/2 for linear damping."
        )
    by_name = {s.name: s for s in allowed}
    terms = tuple(t.xreplace({s: by_name[s.name] for s in t.free_symbols}) for t in friction.terms)
    for t in terms:
        if not t.free_symbols & set(momenta):
            raise ValueError(
                f"the friction term {t} does not depend on the momenta {shown}: dR/dp is "
                "zero, so it is no friction. Put terms of the coordinates alone in the "
                "potential's library."
            )
    return Library(terms, allowed)


def is_friction_term(term: sp.Expr, coords) -> bool:
    """Whether a term of a joint fit is friction (it holds a momentum symbol)."""
    names = {s.name for s in momentum_symbols(coords)}
    return any(s.name in names for s in term.free_symbols)


def drag_columns(library: Library, q: np.ndarray, p: np.ndarray) -> np.ndarray:
    """dR_k/dp of each friction term at the states (q, p), each (..., d).

    Returns
    -------
    ndarray, shape (..., d, K)
    """
    d = q.shape[-1]
    x = np.concatenate([q, p], axis=-1)
    g = library.gradient(x.reshape(-1, 2 * d))  # (n, 2d, K): d/dq then d/dp
    return g[:, d:, :].reshape((*q.shape, -1))
