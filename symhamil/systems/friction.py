"""Friction in the equations of motion: dR/dp of a Rayleigh dissipation
function R(q, p), written in the momentum symbols named after the coordinates
(q -> p_q), as a function the integrators call."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import sympy as sp

from ..data.trajectories import momentum_symbols

__all__ = ["drag_function"]


def drag_function(
    friction: sp.Expr, coords
) -> Callable[[np.ndarray, np.ndarray], np.ndarray] | None:
    """dR/dp of the Rayleigh function ``friction`` as a function of (q, p), each
    (K, d) -> (K, d); None when R is zero."""
    friction = sp.sympify(friction)
    if friction == 0:
        return None
    coords = tuple(coords)
    momenta = momentum_symbols(coords)
    by_name = {s.name: s for s in (*coords, *momenta)}
    strange = sorted(s.name for s in friction.free_symbols if s.name not in by_name)
    if strange:
        raise ValueError(
            f"the friction R = {friction} uses {', '.join(strange)}, which are neither the "
            f"coordinates nor their momenta ({', '.join(by_name)})."
        )
    friction = friction.xreplace({s: by_name[s.name] for s in friction.free_symbols})
    real = {s: sp.Dummy(s.name, real=True) for s in (*coords, *momenta)}
    back = {v: k for k, v in real.items()}
    comps = [sp.diff(friction.xreplace(real), real[m]).xreplace(back) for m in momenta]
    f = sp.lambdify((*coords, *momenta), comps, "numpy", cse=True)

    def drag(q, p):
        out = f(*q.T, *p.T)
        return np.stack([np.broadcast_to(c, q.shape[:1]) for c in out], axis=1)

    return drag
