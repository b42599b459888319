"""Reduction of a 3-D central-force system to its radial motion.

For V = V(|q|) and mass m, the angular momentum l = |q x p| is conserved and the
radius obeys m r'' = -d/dr [V(r) + l^2 / (2 m r^2)]: a one-dimensional system
with the *effective potential* V_eff(r) = V(r) + l^2 / (2 m r^2).
"""

from __future__ import annotations

import warnings

import numpy as np
import sympy as sp

from ..data.trajectories import Trajectories
from .system import System

__all__ = ["ConservationWarning", "effective_potential", "radial_potential", "reduce_radial"]

#: Default tolerance on the relative spread of l = |q x p| along a trajectory.
#: Fine integrators conserve it to ~1e-9; a spread above 1e-6 means the force is
#: not central or the data are noisy, and the reduction's premise fails.
L_CONSERVATION_RTOL = 1e-6


class ConservationWarning(UserWarning):
    """A quantity that the reduction assumes conserved varies along the data."""


def _radius_symbol() -> sp.Symbol:
    # Plain symbol, equal to Trajectories.coords[0] of a reduced trajectory.
    return sp.Symbol("r")


def reduce_radial(
    traj: Trajectories, mass: float = 1.0, rtol: float = L_CONSERVATION_RTOL
) -> tuple[Trajectories, np.ndarray]:
    """Reduce 2-D or 3-D trajectories of one particle to (r, m dr/dt), every
    trajectory at once, each with its own angular momentum.

    Parameters
    ----------
    traj : Trajectories
        q, p of shape (R, N+1, 3), or (R, N+1, 2) for planar motion.
    mass : float
        The particle's mass m (p = m dq/dt).
    rtol : float
        Warn (:class:`ConservationWarning`) when l = |q x p| varies along a
        trajectory by more than this, relative to its mean.

    Returns
    -------
    radial : Trajectories
        q = r, p = m dr/dt (= m (q . p) / (m r)), shape (R, N+1, 1), names ("r",).
    ell : ndarray, shape (R,)
        The angular momentum |q x p| of each trajectory (its time average).
    """
    if traj.dim not in (2, 3):
        raise ValueError(
            "radial reduction needs 2-D or 3-D trajectories of one particle (d = 2 or 3); "
            f"got d = {traj.dim}."
        )
    if not mass > 0:
        raise ValueError(f"mass must be positive; got {mass}.")
    q, p = traj.q, traj.require_momenta("the radial reduction (angular momentum q x p)")
    r = np.linalg.norm(q, axis=-1)
    if np.any(r == 0):
        raise ValueError(
            "a trajectory passes through the origin, where the radius has no "
            "derivative; drop it first."
        )
    rdot = np.einsum("rnk,rnk->rn", q, p) / (mass * r)
    if traj.dim == 2:  # the z component of q x p, as a vector of one entry
        Lvec = (q[..., 0] * p[..., 1] - q[..., 1] * p[..., 0])[..., None]
    else:
        Lvec = np.cross(q, p)
    lnorm = np.linalg.norm(Lvec, axis=-1)
    w = traj.valid().astype(float)  # padding of ragged pieces repeats their last sample
    ell = (lnorm * w).sum(axis=1) / w.sum(axis=1)
    # The vector, not only its length, must be conserved for planar motion.
    mean_L = (Lvec * w[..., None]).sum(axis=1, keepdims=True) / w.sum(axis=1)[:, None, None]
    spread = np.max(np.linalg.norm(Lvec - mean_L, axis=-1), axis=1)
    rel = spread / np.maximum(ell, np.finfo(float).tiny)
    if np.any(rel > rtol):
        worst = int(np.argmax(rel))
        warnings.warn(
            f"angular momentum q x p is not conserved in {int((rel > rtol).sum())} of "
            f"{rel.size} trajectories (worst relative spread {rel[worst]:.3g} in "
            f"trajectory {worst}, tolerance {rtol}); the force may not be central or "
            "the data noisy, so the radial reduction is only approximate.",
            ConservationWarning,
            stacklevel=2,
        )
    radial = Trajectories(
        q=r[..., None],
        p=(mass * rdot)[..., None],
        h=traj.h,
        names=("r",),
        t0=traj.t0,
        lengths=traj.lengths,
    )
    return radial, ell


def radial_potential(system: System, check_points: int = 16, seed: int = 0) -> sp.Expr:
    """V of a 3-D central system as an expression in r = |q| (parameters substituted).

    V is evaluated on the ray q = (r, 0, 0) with r > 0, which is exact for a
    rotation-invariant V; that invariance is checked numerically at random
    points, and a V that is not central is refused.
    """
    if system.dim != 3:
        raise ValueError(
            f"a radial potential needs a 3-D system of one particle; this one has "
            f"d = {system.dim}."
        )
    if len({float(m) for m in system.mass_array}) != 1:
        raise ValueError(f"a central-force particle has one mass; got masses {system.masses}.")
    rp = sp.Symbol("r", positive=True)
    V = system.substituted()
    # sqrt(r**2) evaluates to r for a positive r, so no simplify() is needed (it
    # would also merge 1/r + 1/(L - r) into one fraction).
    Vr = V.xreplace(dict(zip(system.coords, (rp, 0, 0), strict=True)))
    rng = np.random.default_rng(seed)
    pts = rng.normal(size=(check_points, 3))
    pts *= rng.uniform(0.5, 2.0, size=(check_points, 1)) / np.linalg.norm(
        pts, axis=1, keepdims=True
    )
    f = sp.lambdify(rp, Vr, "numpy")
    with np.errstate(all="ignore"):
        got = system.potential(pts)
        want = np.asarray(f(np.linalg.norm(pts, axis=1)), dtype=float) * np.ones(check_points)
    ok = np.isfinite(got) & np.isfinite(want)
    if not np.allclose(got[ok], want[ok], rtol=1e-10, atol=1e-12):
        raise ValueError(
            f"the potential {system.V} is not central (it depends on the direction "
            "of q, not only on |q|); the radial reduction does not apply."
        )
    return Vr.xreplace({rp: _radius_symbol()})


def effective_potential(system: System, ell) -> sp.Expr:
    """The effective potential V(r) + l^2 / (2 m r^2) of a 3-D central system.

    Parameters
    ----------
    system : System
        A 3-D central-force system (V depends on |q| only; one mass m).
    ell : float or sympy.Expr
        The angular momentum l (a number from :func:`reduce_radial`, or a symbol).

    Returns
    -------
    sympy.Expr
        An expression in the plain symbol ``r`` (``radial.coords[0]``).

    Examples
    --------
    >>> import sympy as sp
    >>> from symhamil import catalog
    >>> l = sp.Symbol("l")
    >>> effective_potential(catalog.central_force(), l)
    l**2/(2*r**2) + 1/(10 - r) + 1/r
    """
    arr = np.asarray(ell, dtype=object)
    if arr.size != 1:
        raise ValueError(
            f"effective_potential takes one value of l, got {arr.size}; l differs "
            "between trajectories, so pass ell[k] for trajectory k."
        )
    ell = sp.sympify(arr.reshape(()).item())
    if ell.is_number and not ell.is_real:
        raise ValueError(f"l must be real; got {ell}.")
    r = _radius_symbol()
    m = system.substituted(system.masses[0])
    return radial_potential(system) + ell**2 / (2 * m * r**2)
