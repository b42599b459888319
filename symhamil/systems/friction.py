"""Friction in the equations of motion: dR/dp of a Rayleigh dissipation
function R(q, p), written in the momentum symbols named after the coordinates
(q -> p_q), as a function the integrators call."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import sympy as sp

from ..data.trajectories import momentum_symbols

__all__ = ["drag_function"]


def drag_function(friction: sp.Expr, coords, params=()) -> Callable[..., np.ndarray] | None:
    """dR/dp of the Rayleigh function ``friction`` as a function of (q, p), each
    (K, d) -> (K, d); None when R is zero.

    With ``params`` (symbols of R besides the coordinates and momenta, such as
    the coefficients of its terms), the function takes their values too, one
    row per state: (q, p, values (K, len(params))) -> (K, d).
    """
    friction = sp.sympify(friction)
    if friction == 0:
        return None
    coords, params = tuple(coords), tuple(params)
    momenta = momentum_symbols(coords)
    by_name = {s.name: s for s in (*coords, *momenta)}
    strange = sorted(
        s.name for s in friction.free_symbols if s.name not in by_name and s not in params
    )
    if strange:
        raise ValueError(
            f"the friction R = {friction} uses {', '.join(strange)}, which are neither the "
            f"coordinates nor their momenta ({', '.join(by_name)})."
        )
    friction = friction.xreplace(
        {s: by_name[s.name] for s in friction.free_symbols if s not in params}
    )
    # For real p, |p| has the derivative sign(p) (Coulomb friction).
    real = {s: sp.Dummy(s.name, real=True) for s in (*coords, *momenta)}
    back = {v: k for k, v in real.items()}
    comps = [sp.diff(friction.xreplace(real), real[m]).xreplace(back) for m in momenta]
    f = sp.lambdify((*coords, *momenta, *params), comps, "numpy", cse=True)

    def drag(q, p, values=None):
        out = f(*q.T, *p.T, *(() if values is None else values.T))
        return np.stack([np.broadcast_to(c, q.shape[:1]) for c in out], axis=1)

    return drag
