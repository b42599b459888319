"""The integrators that learned potentials are run with, written once.

:func:`rk4_step` is the classical Runge-Kutta method (order 4) for Hamilton's
equations of a separable H = p^2/2m + V(q); :func:`simulate` of a declared
system, :func:`~symhamil.rollout` of a learned potential and the shooting of
:func:`~symhamil.refine` all step with it. Arrays of any layout broadcast: the
positions and momenta may be (K, d) with masses (d,), or (d, K) with masses
(d, 1).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..base.checks import whole_number
from ..data.noise import time_scale

__all__ = ["MAX_SUBSTEPS", "STEPS_PER_TAU", "integrate", "rk4_step", "substeps_for"]


def rk4_step(q, p, force: Callable, inv_m, dt: float, f_q=None, drag: Callable | None = None):
    """One classical RK4 step of dq/dt = p / m, dp/dt = F(q) (- dR/dp with ``drag``).

    Parameters
    ----------
    q, p : ndarray
        The state (any layout that ``force`` and ``inv_m`` broadcast with).
    force : callable
        F(q) = -grad V(q), same shape as ``q``.
    inv_m : ndarray
        1 / m, broadcastable against ``p``.
    dt : float
    f_q : ndarray, optional
        F(q) when the caller has it already (the last step's end).
    drag : callable, optional
        dR/dp (q, p) of a Rayleigh dissipation function R (friction), same
        shape as ``p``; subtracted from the force.

    Returns
    -------
    q, p : ndarray
        The state after ``dt`` (new arrays).
    """

    if drag is None:  # the conservative step, without a call per stage more
        k1q, k1p = inv_m * p, force(q) if f_q is None else f_q
        k2q, k2p = inv_m * (p + 0.5 * dt * k1p), force(q + 0.5 * dt * k1q)
        k3q, k3p = inv_m * (p + 0.5 * dt * k2p), force(q + 0.5 * dt * k2q)
        k4q, k4p = inv_m * (p + dt * k3p), force(q + dt * k3q)
    else:
        k1q = inv_m * p
        k1p = (force(q) if f_q is None else f_q) - drag(q, p)
        p2, q2 = p + 0.5 * dt * k1p, q + 0.5 * dt * k1q
        k2q, k2p = inv_m * p2, force(q2) - drag(q2, p2)
        p3, q3 = p + 0.5 * dt * k2p, q + 0.5 * dt * k2q
        k3q, k3p = inv_m * p3, force(q3) - drag(q3, p3)
        p4, q4 = p + dt * k3p, q + dt * k3q
        k4q, k4p = inv_m * p4, force(q4) - drag(q4, p4)
    return (
        q + (dt / 6) * (k1q + 2 * k2q + 2 * k3q + k4q),
        p + (dt / 6) * (k1p + 2 * k2p + 2 * k3p + k4p),
    )


#: Runge-Kutta steps per time scale tau (a relative error of ~(1/100)^4 per tau).
STEPS_PER_TAU = 100


def integrate(
    grad: Callable[[np.ndarray], np.ndarray],
    q0: np.ndarray,
    p0: np.ndarray,
    h: float,
    steps: int,
    masses: np.ndarray,
    substeps: int = 1,
    drag: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Hamilton's equations dq/dt = p / m, dp/dt = -grad V(q) (- dR/dp) by classical RK4.

    Parameters
    ----------
    grad : callable
        Maps positions (K, d) to grad V (K, d).
    q0, p0 : ndarray, shape (K, d)
        Initial states of K trajectories, integrated together.
    h : float
        Output interval; each is covered by ``substeps`` RK4 steps.
    steps : int
        Output intervals.
    masses : ndarray, shape (d,)
    drag : callable, optional
        Maps positions and momenta (K, d), (K, d) to dR/dp (K, d), the friction
        force of a Rayleigh dissipation function R(q, p) (with a minus sign).

    Returns
    -------
    q, p : ndarray, shape (K, steps + 1, d)
    """
    K, d = q0.shape
    q_out = np.empty((K, steps + 1, d))
    p_out = np.empty((K, steps + 1, d))
    q, p = np.array(q0, dtype=float), np.array(p0, dtype=float)
    q_out[:, 0], p_out[:, 0] = q, p
    dt = h / substeps
    inv_m = 1.0 / masses

    def force(x):
        return -grad(x)

    with np.errstate(all="ignore"):  # a blow-up shows as non-finite output, checked by callers
        for n in range(steps):
            for _ in range(substeps):
                q, p = rk4_step(q, p, force, inv_m, dt, drag=drag)
            q_out[:, n + 1], p_out[:, n + 1] = q, p
    return q_out, p_out


#: The most RK4 steps per sample interval a rollout takes.
MAX_SUBSTEPS = 10_000


def substeps_for(traj, substeps: int | None = None, tau: float | None = None) -> int:
    """RK4 steps per sample interval of ``traj``: ``substeps`` checked, or enough
    for STEPS_PER_TAU per time scale ``tau`` (the data's own by default)."""
    if substeps is not None:
        return whole_number(substeps, "substeps", 1, MAX_SUBSTEPS)
    tau = time_scale(traj) if tau is None else tau
    return max(1, math.ceil(STEPS_PER_TAU * traj.h / tau))
