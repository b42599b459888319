"""A verdict on a learned potential: does the model explain the data?

:func:`assess` puts a learned V (a fit, a formula, a network) back against the
trajectories it came from and asks what a careful experimenter would ask:

* **Rollouts.** Run from each piece's first state, how long do they stay on
  the data (in time scales), and how far off are they after one time scale,
  against the noise?
* **Energy.** The data's energy under the learned H, E = sum m qdot^2 / 2 + V(q),
  is constant for a closed system; a steady fall over the record is friction.
* **Residuals.** The force residual r = M qddot + grad V(q) is noise for a
  model that holds. Above the noise it is a signal, and what it correlates
  with names the cause: the velocities (friction), the other coordinates'
  accelerations and products of velocities (a kinetic energy that is not
  sum p^2/2m, as in a double pendulum), or nothing of these (a term missing
  from the library).
* **Uncertainty.** Coefficients within two standard errors of zero, or with
  no standard error at all.
* **Sampling.** A time step that is a large part of the time scale resolves
  the motion poorly.

Derivatives of q come from local cubic fits (Savitzky-Golay) over about a
quarter of the time scale; their noise is known from the filter's weights,
so the residual is compared with what the noise alone would leave.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
from scipy.integrate import cumulative_trapezoid
from scipy.signal import savgol_coeffs, savgol_filter

from ..data.trajectories import Trajectories
from ..learning.planning import Plan, use_plan
from ..systems.friction import drag_function
from ..systems.potentials import as_potential
from .rollout import Rollout, at_masses, rollout

__all__ = ["Assessment", "assess", "verdict"]

#: A rollout that leaves the data (an error above LOST of the spread of q)
#: within this many time scales does not describe the motion.
MIN_HORIZON_TAUS = 1.0
#: The share of the spread of q at which a rollout has lost the data.
LOST = 0.25
#: The energy under the learned H may drift by this share of the potential's
#: range over the record (and must be significant against its scatter).
MAX_DRIFT = 0.1
#: ... and may swing about its trend by this share of V's range (block means
#: of 20 blocks; a right pendulum at 1% noise: 0.7%, a double pendulum fitted
#: as separable: 7-34%).
MAX_SCATTER = 0.05
#: The force residual may be this many times what the noise alone leaves...
MAX_EXCESS = 3.0
#: ... or this share of the forces (a bias of the derivatives on exact data).
RESIDUAL_FLOOR = 0.02
#: A residual that smooth functions of the motion explain this much of is a
#: signal, not noise (a pendulum fitted with q^2 alone at 1.5 rad: 0.9).
MIN_STRUCTURE = 0.3
#: A group of regressors (velocities; coupling terms) that explains this share
#: of the residual's variance is named as its likely cause.
CAUSE_SHARE = 0.3
#: Sampling whose step is this share of the time scale or more resolves it poorly.
COARSE = 0.5


@dataclass(frozen=True)
class Assessment:
    """Whether a learned potential explains the data, and why not.

    Attributes
    ----------
    adequate : bool
        True when none of the checks failed.
    reasons : tuple of str
        One sentence per failed check, with its figure and the likely cause
        where the evidence points to one; empty when adequate.
    figures : Mapping {str: float}
        The numbers behind the verdict (read-only): ``horizon_taus`` (time
        until a rollout leaves the data, in time scales, capped at the
        record), ``rollout_error`` (RMS rollout error over the first time
        scale, in noise units), ``energy_drift`` (change of the data's energy
        under the learned H over the record, a share of V's range),
        ``energy_scatter`` (its swing about the drift, the same share),
        ``residual_excess`` (RMS force residual over what the noise leaves),
        ``residual_share`` (RMS force residual over RMS force),
        ``friction_share`` and ``kinetic_share`` (the residual variance the
        velocities, and the coupling terms, explain), ``unsupported`` (terms
        within two standard errors of zero) and ``h_over_tau``.
    causes : tuple of str
        The likely causes named (among "friction", "kinetic energy", "missing
        term", "coarse sampling").
    rollout : Rollout or None
        The rollouts the verdict judged (not in :meth:`to_json`), for a caller
        that reports them too.
    """

    adequate: bool
    reasons: tuple[str, ...] = ()
    figures: Mapping = field(default_factory=dict)
    causes: tuple[str, ...] = ()
    rollout: Rollout | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reasons", tuple(self.reasons))
        object.__setattr__(self, "causes", tuple(self.causes))
        object.__setattr__(self, "figures", MappingProxyType(dict(self.figures)))

    def to_json(self) -> dict:
        """``{"adequate", "reasons", "causes", "figures"}``, JSON-ready (a figure
        that is not finite is written as None)."""
        figs = {k: (float(v) if math.isfinite(v) else None) for k, v in self.figures.items()}
        return {"adequate": self.adequate, "reasons": list(self.reasons),
                "causes": list(self.causes), "figures": figs}  # fmt: skip

    def __str__(self) -> str:
        return verdict(self.adequate, self.reasons)


def verdict(adequate: bool, reasons) -> str:
    """The verdict in one line (the terminal's and the report's)."""
    if adequate:
        return "adequate: explains the data to within their noise"
    return "NOT ADEQUATE: " + "; ".join(reasons)


def assess(target, traj: Trajectories, *, plan: Plan | None = None) -> Assessment:
    """Check a learned potential against the trajectories it should explain.

    Parameters
    ----------
    target : SparseFit, sympy.Expr, NeuralPotential, System or Potential
        The learned V in ``traj``'s coordinates (anything :func:`symhamil.rollout`
        runs). A SparseFit's standard errors are checked too.
    traj : Trajectories, q of shape (R, N+1, d)
        The data (the masses are ``traj.masses``).
    plan : Plan, optional
        The data's plan (:func:`symhamil.plan`), made once: its noise and time
        scale, and whether the momenta are used.

    Notes
    -----
    The thresholds are module constants, each with the measurement behind
    it: a rollout must stay within a quarter of the spread of q for
    :data:`MIN_HORIZON_TAUS` time scales; the energy may drift by
    :data:`MAX_DRIFT` and swing by :data:`MAX_SCATTER` of V's range; the force
    residual may exceed the noise's share :data:`MAX_EXCESS` times (or stay
    below :data:`RESIDUAL_FLOOR` of the forces).

    Returns
    -------
    Assessment

    Examples
    --------
    >>> import symhamil as sh
    >>> pend = sh.catalog.pendulum()
    >>> tr = sh.simulate(pend, [[1.0]], [[0.0]], h=0.05, steps=400)
    >>> sh.assess(pend.V, tr).adequate
    True
    """
    if not isinstance(traj, Trajectories):
        raise TypeError(f"assess needs symhamil.Trajectories; got {type(traj).__name__}.")
    moved = at_masses(target, traj)  # a fit's own masses, from the positions
    how = use_plan(moved, plan if moved is traj else None)
    data = how.observed(moved)
    pot = as_potential(_expression(target), data.coords)
    grad, values = pot.require_gradient(), pot.require_values()
    tau, h = how.tau, data.h
    noise_q = np.zeros(data.dim) if how.noise is None else np.asarray(how.noise.q)
    figures: dict[str, float] = {"h_over_tau": h / tau}
    reasons: list[str] = []
    causes: list[str] = []

    ro = _rollouts(target, data, how, noise_q, figures, reasons)
    derivs = _derivatives(data, tau)
    # A fit with friction: dp/dt = -grad V - dR/dp, and E plus the work done
    # against friction is what stays constant.
    drag = drag_function(getattr(target, "friction", 0), data.coords)
    if derivs is not None:
        qs, vs, as_, w = derivs
        m = data.mass_array
        drags = None if drag is None else [drag(x, m * v) for x, v in zip(qs, vs, strict=True)]
        _energy(qs, vs, m, values, data, figures, reasons, causes, drags)
        q, v, a = (np.concatenate(x) for x in (qs, vs, as_))  # (n, d)
        force = grad(q) + (0.0 if drags is None else np.concatenate(drags))
        _residual(m * a + force, force, q, v, m, noise_q, w, h, figures, reasons, causes)
    _uncertainty(target, figures, reasons)
    if figures["h_over_tau"] >= COARSE and reasons:
        causes.append("coarse sampling")
        reasons.append(
            f"the sampling resolves the motion poorly (h / tau = {figures['h_over_tau']:.2f}): "
            "the observations' bias grows with it"
        )
    causes = tuple(dict.fromkeys(causes))
    return Assessment(not reasons, tuple(reasons), figures, causes, ro)


def _expression(target):
    """A SparseFit's expression; anything else as it is."""
    expr = getattr(target, "expression", None)
    return expr if expr is not None and hasattr(target, "library") else target


def _rollouts(target, data, how, noise_q, figures, reasons) -> Rollout:
    ro = rollout(target, data, plan=how)
    spread = float(np.sqrt(np.sum(data.positions().var(axis=0))))
    sigma = float(np.sqrt(np.sum(noise_q**2)))
    lost = ro.error > LOST * spread  # NaN compares False
    lost |= ~np.isfinite(ro.error) & data.measured()
    first = np.where(lost.any(axis=1), lost.argmax(axis=1), data.sizes - 1)
    taus = float(np.median(first * data.h / how.tau))
    figures["horizon_taus"] = taus
    figures["rollout_error"] = ro.rms_horizon / sigma if sigma > 0 else math.inf
    if not np.isfinite(ro.rms_horizon) or taus < MIN_HORIZON_TAUS:
        reasons.append(
            f"its rollouts leave the data within {taus:.2g} time scales (error over a "
            f"quarter of the spread of q; RMS error {ro.rms_horizon:.3g} over the first "
            f"time scale, noise {sigma:.3g})"
        )
    return ro


def _derivatives(data: Trajectories, tau: float):
    """q, dq/dt and d2q/dt2 from local cubics over about a quarter of tau, for
    every piece long enough (lists of (n_r, d) arrays, the filter's edges left
    out), and the filter's window; None when no piece is long enough."""
    w = max(int(0.25 * tau / data.h) // 2 * 2 + 1, 5)
    qs, vs, as_ = [], [], []
    half = w // 2  # the filter's edges extrapolate
    for r in range(data.R):
        n = int(data.sizes[r])
        if n < w + 2 * half + 4:
            continue
        x = data.q[r, :n]
        cut = slice(half, n - half)
        qs.append(savgol_filter(x, w, 3, axis=0)[cut])
        vs.append(savgol_filter(x, w, 3, deriv=1, delta=data.h, axis=0)[cut])
        as_.append(savgol_filter(x, w, 3, deriv=2, delta=data.h, axis=0)[cut])
    return (qs, vs, as_, w) if qs else None


def _energy(qs, vs, m, values, data, figures, reasons, causes, drags=None) -> None:
    """The drift of E = sum m v^2/2 + V(q) over the record, by one line through
    the block means of E of every piece (20 blocks each, each piece about its
    own mean), as a share of V's range over the data. With the model's
    friction forces ``drags`` (dR/dp along each piece), the work done against
    them, int v . dR/dp dt, is added: that sum is conserved."""
    d = data.dim
    Vs = [values(q.reshape(-1, d)) for q in qs]
    scale = float(np.ptp(np.concatenate(Vs)))
    if not scale > 0:
        return
    xs, ys, span = [], [], 0.0
    for k, (v, V) in enumerate(zip(vs, Vs, strict=True)):
        E = 0.5 * np.sum(m * v**2, axis=1) + V
        if drags is not None:
            E = E + cumulative_trapezoid(np.sum(v * drags[k], axis=1), dx=data.h, initial=0.0)
        block = max(1, E.size // 20)
        nb = E.size // block
        if nb < 4:
            continue
        tb = (np.arange(nb * block) * data.h).reshape(nb, block).mean(axis=1)
        Eb = E[: nb * block].reshape(nb, block).mean(axis=1)
        xs.append(tb - tb.mean())
        ys.append(Eb - Eb.mean())
        span = max(span, float(tb[-1] - tb[0]))
    if not xs:
        return
    x, y = np.concatenate(xs), np.concatenate(ys)
    slope = float(np.sum(x * y) / np.sum(x**2))
    resid = y - slope * x
    se = float(np.sqrt(np.sum(resid**2) / max(resid.size - 2, 1) / np.sum(x**2)))
    drift = slope * span / scale
    figures["energy_drift"] = drift
    figures["energy_scatter"] = float(np.sqrt(np.mean(resid**2))) / scale
    if figures["energy_scatter"] > MAX_SCATTER:
        reasons.append(
            f"the learned H is not conserved along the data: its value swings by "
            f"{100 * figures['energy_scatter']:.0f}% of V's range about its trend"
        )
    if abs(drift) > MAX_DRIFT and abs(slope) > 3 * se:
        if drift < 0:
            causes.append("friction")
            reasons.append(
                f"the data lose energy under the learned H: {-100 * drift:.0f}% of V's "
                "range over the record, steadily (friction, which a potential cannot hold)"
            )
        else:
            reasons.append(
                f"the data gain energy under the learned H: {100 * drift:.0f}% of V's range "
                "over the record (a drive, or a drifting scale of q)"
            )


def _residual(r, force, q, v, m, noise_q, w, h, figures, reasons, causes) -> None:
    """The force residual against the noise, and what it correlates with."""
    d = r.shape[1]
    # Noise of m * (d2q/dt2 from the filter): sigma_q * m * ||filter weights||.
    c2 = savgol_coeffs(w, 3, deriv=2, delta=h)
    expected = float(np.sqrt(np.mean((m * noise_q) ** 2) * np.sum(c2**2)))
    rms_r = float(np.sqrt(np.mean(r**2)))
    rms_f = float(np.sqrt(np.mean(force**2)))
    figures["residual_excess"] = rms_r / expected if expected > 0 else math.inf
    figures["residual_share"] = rms_r / rms_f if rms_f > 0 else math.inf
    y, V_ = r, v
    total = float(np.sum((y - y.mean(axis=0)) ** 2))
    if total <= 0:
        return
    # Each component's residual on its own velocity (friction), and on the
    # terms a kinetic energy (1/2) qdot^T M(q) qdot brings into M(q) qddot +
    # (dM/dq) qdot qdot: every acceleration and every product of velocities,
    # each times 1, z_l and z_l z_m (z the standardised positions) for the
    # unknown dependence of M on q. The accelerations are the model's own,
    # -grad V / m: the measured ones carry the residual's own noise, and
    # regressing on them would "explain" that noise (the filter's first and
    # second derivatives have uncorrelated noise, so the velocities may be
    # the measured ones).
    z = (q - q.mean(axis=0)) / np.where(q.std(axis=0) > 0, q.std(axis=0), 1.0)
    shapes = [np.ones(len(z))] + [z[:, i] for i in range(d)]
    shapes += [z[:, i] * z[:, j] for i in range(d) for j in range(i, d)]
    # A residual of the positions alone is a term V lacks; what velocities or
    # the coupling terms explain beyond it names friction or the kinetic energy.
    cubes = [
        z[:, i] * z[:, j] * z[:, k] for i in range(d) for j in range(i, d) for k in range(j, d)
    ]
    positions = np.column_stack(shapes + cubes)
    model_a = -force / m
    motion = [model_a[:, i] for i in range(d)]
    motion += [V_[:, i] * V_[:, j] for i in range(d) for j in range(i, d)]
    coupled = np.column_stack([f * g for f in motion for g in shapes])
    base = _explained(y, [positions] * d)
    friction = (
        _explained(y, [np.column_stack([positions, V_[:, [i]]]) for i in range(d)]) - base
    ) / total
    kinetic = (_explained(y, [np.column_stack([positions, coupled])] * d) - base) / total
    every = np.column_stack([positions, coupled, V_])
    structured = _explained(y, [every] * d) / total
    figures["position_share"] = base / total
    figures["friction_share"] = friction
    figures["kinetic_share"] = kinetic
    figures["structured_share"] = structured
    # Noise alone lets p regressors explain about p / n of it; a residual that
    # these smooth functions of the motion explain far beyond that is a signal,
    # even where the noise of the second derivatives hides its size.
    chance = every.shape[1] / len(y)
    systematic = figures["residual_share"] > RESIDUAL_FLOOR and (
        figures["residual_excess"] > MAX_EXCESS or structured > max(MIN_STRUCTURE, 5 * chance)
    )
    if not systematic:
        return
    named = []
    if kinetic >= CAUSE_SHARE and kinetic > friction:
        causes.append("kinetic energy")
        named.append(
            f"{100 * kinetic:.0f}% of it follows the other coordinates' accelerations and "
            "products of velocities: the kinetic energy is not sum p^2/2m (coupled or "
            "position-dependent masses, as in a double pendulum)"
        )
    if friction >= CAUSE_SHARE:
        causes.append("friction")
        named.append(f"{100 * friction:.0f}% of it follows the velocities (friction)")
    if not named:
        causes.append("missing term")
        named.append(
            f"{100 * base / total:.0f}% of it is a function of the positions: a term the "
            "library lacks"
            if base / total >= CAUSE_SHARE
            else "neither the positions, the velocities nor the couplings explain it"
        )
    reasons.append(
        f"its force residual is {100 * figures['residual_share']:.2g}% of the forces "
        f"({figures['residual_excess']:.3g} times what the noise alone leaves) and has a "
        "structure: " + "; ".join(named)
    )


def _explained(y, columns) -> float:
    """Residual variance of each component y[:, i] explained by least squares
    on ``columns[i]`` (with a constant), summed over components."""
    out = 0.0
    for i, X in enumerate(columns):
        X = np.column_stack([np.ones(len(y)), X])
        beta = np.linalg.lstsq(X, y[:, i], rcond=None)[0]
        fitted = X @ beta
        out += float(np.sum((fitted - fitted.mean()) ** 2))
    return out


def _uncertainty(target, figures, reasons) -> None:
    stderr = getattr(target, "stderr", None)
    coefficients = getattr(target, "coefficients", None)
    if stderr is None or coefficients is None:
        return
    bad = [t for t, s in stderr.items() if not np.isfinite(s)]
    weak = [t for t, c in coefficients.items() if np.isfinite(stderr.get(t, np.nan))
            and abs(c) < 2 * stderr[t]]  # fmt: skip
    figures["unsupported"] = float(len(weak))
    if bad:
        reasons.append(
            f"no standard error could be computed for {', '.join(map(str, bad))} (the "
            "coefficients are not identified by the data)"
        )
    if weak:
        reasons.append(
            f"{', '.join(map(str, weak))}: within two standard errors of zero, so the data "
            f"do not support {'them' if len(weak) > 1 else 'it'}"
        )
