"""The data's plan: how force-SINDy and the neural weak loss treat a data set.

:func:`plan` reads the noise of the data (:mod:`symhamil.data.noise`) and chooses the
observation kind (the weak form on noisy data, else the pair loss the data call
for), the selection rule, the weak form's window and any smoothing. It sits
above the noise estimates and the losses, which it chooses between.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

from ..data.noise import ORDER, NoiseLevel, noise_level, smooth, time_scale
from ..data.samples import VELOCITY_MISMATCH, SamplingWarning, momentum_ratio, scale_offer
from ..data.trajectories import Trajectories
from .observations import MOMENTUM_LOSSES, default_loss

__all__ = ["QUIET", "Plan", "choose_smoothing", "choose_window", "plan", "use_plan"]


#: Data whose largest noise fraction (of a coordinate's spread) is below this
#: count as clean: pair losses and the residual rule serve them best.
QUIET = 1e-4


@dataclass(frozen=True)
class Plan:
    """How force-SINDy (and the neural weak loss) treat a data set.

    Attributes
    ----------
    kind : str
        The observations (:func:`symhamil.learning.observations.pairs`).
    select : {"residual", "bic", "cv"}
    window : int or None
        Steps per test function of the weak form.
    smooth : int or None
        Savitzky-Golay window applied first.
    noise : NoiseLevel or None
        The estimate the choices came from (None when too few samples).
    tau : float
        The data's time scale (:func:`~symhamil.data.noise.time_scale`, with
        the noise when there is an estimate): the window, the shooting
        segments, the rollout's horizon and its Runge-Kutta steps all use it.
    momenta : bool
        Whether the measured momenta are used. False when they disagree with
        the positions' motion (p / (m dq/dt) off 1 by more than
        :data:`~symhamil.data.samples.VELOCITY_MISMATCH`): then every learner
        works from the positions (:meth:`observed`), which define dq/dt.
    coarse : bool
        Whether the sampling resolves the motion poorly (:func:`plan`): then
        force-SINDy chooses and fits by shooting between the samples.
    """

    kind: str
    select: str
    window: int | None
    smooth: int | None
    noise: NoiseLevel | None
    tau: float
    momenta: bool = True
    coarse: bool = False

    def replace(self, **changes) -> Plan:
        """A copy with some choices changed (the estimates stay)."""
        return replace(self, **changes)

    def observed(self, traj: Trajectories) -> Trajectories:
        """What the learners use of ``traj``: without its momenta when the plan
        leaves them out (:attr:`Trajectories.positions_only`, made once)."""
        return traj if self.momenta else traj.positions_only

    def prepare(self, traj: Trajectories) -> Trajectories:
        """``traj`` as the regression uses it: :meth:`observed`, then smoothed
        if the plan says so."""
        traj = self.observed(traj)
        return traj if self.smooth is None else smooth(traj, self.smooth)


def plan(
    traj: Trajectories, *, kind=None, select=None, window=None, smooth=None, momenta=None
) -> Plan:
    """The defaults for ``traj``: what is given is kept, the rest chosen from the noise.

    Measured momenta that disagree with the positions' motion (a velocity
    column on another scale, wrong masses) are left out, with a
    SamplingWarning that gives the ratio: the positions define dq/dt, and a
    potential fitted to momenta on a scale 5% off is 5% off (``momenta=True``
    keeps them, ``momenta=False`` leaves them out whatever they say; a
    ``kind`` that needs momenta keeps them too). With no masses given, a ratio
    off 1 may also be the masses (p = m dq/dt): give them, and the potential
    from the positions is in energy units.

    Clean data (noise below :data:`QUIET` of the spread): midpoint pairs (verlet
    triples without momenta) and the residual rule. Noisy data: the weak form
    with a window from :func:`choose_window`, and cross-validation by blocks
    with the one-standard-error rule (:class:`~symhamil.Selection`): measured
    data are never exactly the model, and in-sample criteria then keep terms
    that fit the systematic error.

    Coarse data (a step of :data:`COARSE` of the time scale or more, or noise
    that the differences cannot see because the signal dominates them while
    their upper bound is above QUIET): pair observations and
    cross-validation, then shooting between the samples (exact for any step)
    chooses among the simplest supports and fits their coefficients. The weak
    form needs many samples per time scale; exact orbits at h / tau = 0.5 are
    not noisy data.
    """

    if momenta is None and kind is not None and kind in MOMENTUM_LOSSES:
        momenta = True  # observations that need p, asked for by name: p is used
    if momenta is None:
        momenta = _momenta_agree(traj)
    if not momenta:
        traj = traj.positions_only
    noise = noise_level(traj) if int(traj.sizes.max()) > ORDER else None
    noisy = noise is not None and noise.fraction > QUIET
    tau = time_scale(traj, noise)
    coarse = traj.h >= COARSE * tau or (noisy and noise.coarse)
    kind = kind or (default_loss(traj) if coarse or not noisy else "weak")
    select = select or ("cv" if noisy or coarse else "residual")
    if kind == "weak" and window is None:
        window = choose_window(traj, noise)
    if smooth is None and kind == "weak":
        smooth = choose_smoothing(traj, noise)
    return Plan(
        kind,
        select,
        window if kind == "weak" else None,
        smooth,
        noise,
        tau,
        bool(momenta),
        bool(coarse),
    )


def _momenta_agree(traj: Trajectories) -> bool:
    """False, with a SamplingWarning, when ``traj``'s momenta are off the
    positions' motion by more than VELOCITY_MISMATCH; True otherwise (also
    when there is too little motion to tell)."""
    ratio = momentum_ratio(traj)
    if ratio is None or max(abs(r - 1) for r in ratio) <= VELOCITY_MISMATCH:
        return True
    warnings.warn(
        f"the measured momenta disagree with the positions: p / (m dq/dt) = "
        f"{', '.join(f'{r:.3f}' for r in ratio)} (1 if they agree), so the potential is "
        f"learned from the positions alone. {scale_offer(ratio, traj.mass_array)}; or keep "
        "the momenta with symhamil.plan(traj, momenta=True).",
        SamplingWarning,
        stacklevel=3,
    )
    return False


def use_plan(traj: Trajectories, given: Plan | None = None, **overrides) -> Plan:
    """``given`` (a plan made once and passed to every learner), or a plan of
    ``traj`` with the ``overrides`` (kind, select, window, smooth) kept.

    Giving both is an error: a plan is the whole set of choices.
    """
    if given is None:
        return plan(traj, **overrides)
    if not isinstance(given, Plan):
        raise TypeError(
            f"plan must be a symhamil Plan (symhamil.plan(traj)); got {type(given).__name__}."
        )
    named = [k for k, v in overrides.items() if v is not None]
    if named:
        raise ValueError(
            f"give plan= or {', '.join(f'{k}=' for k in named)}, not both: a plan holds "
            "every choice (make it with symhamil.plan(traj, kind=...))."
        )
    return given


def choose_window(traj: Trajectories, noise: NoiseLevel | None = None) -> int:
    """Steps per test function of the weak form, from the data's time scale.

    k h = WINDOW_FRACTION * tau, tau = spread(q) / spread(dq/dt) (:func:`time_scale`):
    long enough to average many samples' noise, short enough that the bump still
    resolves the motion. On the double well T1 (tau = 0.66) windows from 0.3 to
    1.2 tau all find the support at 0.1-5% noise; 1.2 tau gave the smallest
    errors at every level, and 2.4 tau lost the support in some seeds
    (measured with ``benchmarks/bench_noise.py``'s data, docs/measured-data.md).
    """
    k = round(WINDOW_FRACTION * time_scale(traj, noise) / traj.h)
    return int(min(max(k, MIN_WINDOW), int(traj.sizes.max()) - 1))


def choose_smoothing(traj: Trajectories, noise: NoiseLevel | None) -> int | None:
    """Savitzky-Golay window for very noisy data, or None.

    Above SMOOTH_ABOVE noise, the noise of q inside the library's gradients
    biases the regression (errors in variables); smoothing over a small part of
    the time scale (SMOOTH_FRACTION tau) halves the error there (T1 at 5%:
    2.6e-3 -> 9.7e-4). Below, it only bends the signal.
    """
    if noise is None or noise.fraction <= SMOOTH_ABOVE:
        return None
    w = int(SMOOTH_FRACTION * time_scale(traj, noise) / traj.h) // 2 * 2 + 1
    return w if 7 <= w <= int(traj.sizes.max()) else None


#: A step of this share of the time scale or more is coarse sampling (a
#: pendulum filmed at 6 frames per second: 0.18; Mercury every 8 days: 0.57).
COARSE = 0.3
#: Window of the weak form, in units of the time scale.
WINDOW_FRACTION = 1.2
#: The shortest weak window, in steps: fewer samples per test function make
#: its quadrature coarse (T1 exact data, q only: 2e-6 at 200 steps, 0.9% at 50).
MIN_WINDOW = 32
#: Noise fraction above which the data are smoothed first.
SMOOTH_ABOVE = 0.02
#: Smoothing window, in units of the time scale.
SMOOTH_FRACTION = 0.08
