"""Rollouts: a learned potential run forward from measured states.

:func:`rollout` simulates a potential (a formula, a fit, a network, a System)
from each piece's first measured state and reports how far its positions drift
from the measurement. It integrates with the one RK4 of
:mod:`symhamil.systems.integrators` over all pieces at once, with ``substeps``
steps per sample interval. Fitting coefficients by shooting is
:func:`symhamil.refine` (in :mod:`symhamil.sindy.refinement`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..base.checks import positive_number
from ..data.noise import initial_momenta
from ..data.trajectories import Trajectories
from ..learning.planning import Plan, use_plan
from ..systems.friction import drag_function
from ..systems.hamiltonian import Hamiltonian
from ..systems.integrators import integrate, substeps_for
from ..systems.potentials import as_potential

__all__ = ["Rollout", "at_masses", "rollout"]


@dataclass(frozen=True, eq=False)
class Rollout:
    """A potential run forward from measured states, against the measurement.

    Attributes
    ----------
    t : ndarray, shape (R, N+1)
        Time since each piece's first sample.
    q : ndarray, shape (R, N+1, d)
        Simulated positions (padding past each piece's length is NaN).
    error : ndarray, shape (R, N+1)
        |q_simulated - q_measured| (Euclidean over the d coordinates); NaN past
        each piece's length.
    horizon : float
        T of :attr:`rms_horizon`.
    """

    t: np.ndarray
    q: np.ndarray
    error: np.ndarray
    horizon: float

    @property
    def rms(self) -> float:
        """RMS position error over every sample of every piece."""
        return float(np.sqrt(np.nanmean(self.error**2)))

    @property
    def rms_horizon(self) -> float:
        """RMS position error over the first ``horizon`` seconds of every piece."""
        inside = self.t <= self.horizon * (1 + 1e-12)
        return float(np.sqrt(np.nanmean(np.where(inside, self.error, np.nan) ** 2)))

    def __repr__(self) -> str:
        return (
            f"Rollout(RMS position error {self.rms_horizon:.3g} over the first "
            f"{self.horizon:.3g} s, {self.rms:.3g} over whole pieces)"
        )


def rollout(
    target,
    traj: Trajectories,
    *,
    horizon: float | None = None,
    substeps: int | None = None,
    plan: Plan | None = None,
) -> Rollout:
    """Simulate ``target`` from each piece's first measured state; compare positions.

    Parameters
    ----------
    target : System, SparseFit, NeuralPotential, sympy.Expr or Potential
        The potential (a SparseFit's expression is used, with its friction:
        the damped dynamics dp/dt = -grad V - dR/dp are run).
    traj : Trajectories
        Measured pieces; positions-only pieces start from a local estimate of
        m dq/dt (:func:`initial_momenta`).
    horizon : float, optional
        The T of the short-time RMS; by default the data's time scale tau.
    substeps : int, optional
        RK4 steps per sample interval; by default enough for ~100 per tau.
    plan : Plan, optional
        The data's plan (:func:`symhamil.plan`), made once: tau is its time
        scale. By default made here (the noise and tau are kept in ``traj``,
        so a second call costs nothing).

    Returns
    -------
    Rollout
    """
    positive_number(horizon, "horizon", allow_none=True)  # checked before any work
    moved = at_masses(target, traj)  # a fit's own masses, from the positions
    how = use_plan(moved, plan if moved is traj else None)
    traj = moved
    traj, tau = how.observed(traj), how.tau  # momenta off scale: start from the positions
    n_sub = substeps_for(traj, substeps, tau)
    grad = _gradient(target, traj)
    masses = traj.mass_array
    if isinstance(target, Hamiltonian) and traj.masses is None:
        masses = target.mass_array
    p0 = initial_momenta(traj)
    drag = drag_function(getattr(target, "friction", 0), traj.coords)
    q_sim, _ = integrate(grad, traj.q[:, 0], p0, traj.h, traj.N, masses, n_sub, drag=drag)
    valid = traj.valid()
    q_sim = np.where(valid[..., None], q_sim, np.nan)
    err = np.linalg.norm(q_sim - traj.q, axis=2)
    valid = traj.measured()  # no error against a filled-in sample
    t = np.broadcast_to(traj.h * np.arange(traj.N + 1), valid.shape)
    T = tau if horizon is None else float(horizon)
    return Rollout(t.copy(), q_sim, np.where(valid, err, np.nan), T)


def at_masses(target, traj: Trajectories) -> Trajectories:
    """``traj`` at the masses a fit found (``force_sindy(..., masses="fit")``),
    from its positions (measured momenta were on an unknown scale); else ``traj``."""
    masses = getattr(target, "masses", None)
    if masses is None or isinstance(target, Hamiltonian):
        return traj
    if np.array_equal(traj.mass_array, masses) and not traj.has_momenta:
        return traj
    return replace(traj.positions_only, masses=np.asarray(masses))


def _gradient(target, traj: Trajectories):
    expr = getattr(target, "expression", None)
    if expr is not None and hasattr(target, "library"):  # a SparseFit
        target = expr
    if isinstance(target, Hamiltonian):  # a declared system: its own coordinates
        return as_potential(target, target.coords).require_gradient()
    return as_potential(target, traj.coords).require_gradient()
