"""How a network is trained, as one frozen value (no TensorFlow here).

:class:`TrainingSpec` groups the settings of ``NeuralPotential.fit`` that decide
what is computed - loss, optimizer, step counts, rates, which pairs, stopping
rules - as diffrax groups ``SaveAt`` and step-size control. It is validated on
construction, so a bad setting is refused before any TensorFlow work; it is
the key a checkpoint is checked against, and the key of a cache of finished
models. Settings that only steer a run (checkpoint folder, time limit, chunk
size, progress output, a ``tf.distribute`` strategy) stay arguments of ``fit``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

import numpy as np

from .observations import check_loss, pairs
from .planning import Plan, choose_window, plan

__all__ = ["OPTIMIZERS", "Scaling", "TrainingSpec", "choose_scaling"]

OPTIMIZERS = ("gd", "adam", "lbfgs", "adam+lbfgs")

#: The first-order learning rate when none is given: the paper's gradient-descent
#: rate, which is also a good Adam rate for these small networks.
DEFAULT_LEARNING_RATE = 0.01


def _whole(name: str, v, low: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ValueError(f"{name} must be a whole number >= {low}; got {v!r}.")
    if int(v) != v or v < low:
        raise ValueError(f"{name} must be a whole number >= {low}; got {v!r}.")
    return int(v)


def _positive(name: str, v, allow_none: bool = True, upper: float | None = None):
    if v is None and allow_none:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float) or not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a finite number > 0; got {v!r}.")
    if upper is not None and v >= upper:
        raise ValueError(f"{name} must be < {upper}; got {v!r}.")
    return float(v)


@dataclass(frozen=True)
class TrainingSpec:
    """What a training run computes. All keyword arguments of ``fit`` with these names.

    Parameters
    ----------
    loss : {"midpoint", "forward", "verlet", "weak"}, optional
        ``"forward"`` is the paper's loss (3), biased by O(h); ``"midpoint"``
        averages grad V over q_i and q_{i+1}, biased by O(h^2); ``"verlet"``
        compares second differences of q with grad V (positions only, O(h^2));
        ``"weak"`` integrates against smooth test functions over windows of
        ``weak_window`` steps (noisy data). See :mod:`symhamil.learning.observations`. By default
        (None) ``fit`` chooses from the data as force-SINDy does
        (:func:`symhamil.learning.planning.plan`): midpoint, or verlet without momenta, on
        clean data; weak on noisy data.
    weak_window : int, optional
        Steps per test function of the weak loss; chosen from the data's time
        scale when not given (:func:`symhamil.learning.planning.choose_window`).
    optimizer : {"adam+lbfgs", "adam", "gd", "lbfgs"}
        ``"gd"`` is the paper's plain gradient descent; the default runs Adam,
        then refines with SciPy's L-BFGS-B (history 50).
    steps : int
        Total first-order (gd/adam) steps of the model (per window with
        ``window``); steps already taken, also those resumed from a checkpoint,
        count. With ``"adam+lbfgs"`` this is a maximum (see ``handover``).
    lbfgs_steps : int
        Total L-BFGS-B iterations (a maximum; see ``lbfgs_tol``).
    learning_rate : float, optional
        First-order rate; 0.01 by default.
    stride : int
        Use every ``stride``-th (i, i+1) pair.
    batch_trajectories : int, optional
        Mini-batches of this many trajectories, drawn afresh every step.
    window, window_step : int, optional
        Train on consecutive windows of ``window`` points (the paper's schedule),
        ``steps`` steps each; the L-BFGS stage then refines on the last window.
    target_loss : float, optional
        Stop as soon as the training loss is <= this.
    handover : float or None
        ``"adam+lbfgs"`` only: Adam hands over to L-BFGS-B once its loss falls
        by less than this factor over ``patience`` steps (0.5: by less than half).
        Adam is only a warm start for the quasi-Newton stage, which converges
        far faster once the loss stops dropping steeply. None runs all ``steps``.
    lbfgs_tol : float or None
        L-BFGS-B stops once its loss falls by less than this fraction over
        ``patience`` iterations (converged to the data's noise or to the
        network's capacity). The loss's own scale sets no threshold, so the rule
        holds for exact and for noisy data alike. None runs all ``lbfgs_steps``.
    patience : int
        The window, in steps or iterations, of the two stopping rules.
    """

    loss: str | None = None
    optimizer: str = "adam+lbfgs"
    steps: int = 2000
    lbfgs_steps: int = 2000
    learning_rate: float | None = None
    stride: int = 1
    batch_trajectories: int | None = None
    window: int | None = None
    window_step: int | None = None
    target_loss: float | None = None
    handover: float | None = 0.5
    lbfgs_tol: float | None = 1e-3
    patience: int = 100
    weak_window: int | None = None

    def __post_init__(self) -> None:
        if self.loss is not None:
            check_loss(self.loss)
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(
                f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}."
            )
        set_ = object.__setattr__
        set_(self, "steps", _whole("steps", self.steps, 0))
        set_(self, "lbfgs_steps", _whole("lbfgs_steps", self.lbfgs_steps, 0))
        set_(self, "stride", _whole("stride", self.stride, 1))
        set_(self, "patience", _whole("patience", self.patience, 1))
        lows = {"batch_trajectories": 1, "window": 2, "window_step": 1, "weak_window": 4}
        for name, low in lows.items():
            v = getattr(self, name)
            if v is not None:
                set_(self, name, _whole(name, v, low))
        set_(self, "learning_rate", _positive("learning_rate", self.learning_rate))
        if self.target_loss is not None:
            t = self.target_loss
            if isinstance(t, bool) or not isinstance(t, int | float) or math.isnan(t):
                raise ValueError(f"target_loss must be a number; got {t!r}.")
            set_(self, "target_loss", float(t))
        set_(self, "handover", _positive("handover", self.handover, upper=1.0))
        set_(self, "lbfgs_tol", _positive("lbfgs_tol", self.lbfgs_tol, upper=1.0))

    # ------------------------------------------------------------------ derived
    @property
    def rate(self) -> float:
        """The learning rate in use."""
        return DEFAULT_LEARNING_RATE if self.learning_rate is None else self.learning_rate

    @property
    def first_order(self) -> str | None:
        """The first-order method (``"gd"`` or ``"adam"``), or None for L-BFGS-B alone."""
        return {"adam+lbfgs": "adam", "lbfgs": None}.get(self.optimizer, self.optimizer)

    @property
    def uses_lbfgs(self) -> bool:
        return "lbfgs" in self.optimizer

    def resolve(self, traj, how: Plan | None = None) -> TrainingSpec:
        """This spec with the loss (and weak window) chosen for ``traj`` where not given.

        The choice is the data's plan ``how`` (made once by
        :func:`~symhamil.learning.planning.plan` and shared with force-SINDy),
        or one made here. Raises a ValueError, before any training, when the
        loss cannot be used on ``traj`` (a momentum loss on positions-only
        data, a weak window longer than the data).
        """
        spec = self
        if spec.loss is None:
            if how is None:
                how = plan(traj, window=spec.weak_window)
            window = spec.weak_window if spec.weak_window is not None else how.window
            spec = spec.replace(loss=how.kind, weak_window=window if how.kind == "weak" else None)
        elif spec.loss == "weak" and spec.weak_window is None:
            weak_plan = how is not None and how.kind == "weak"
            spec = spec.replace(weak_window=how.window if weak_plan else choose_window(traj))
        if spec.loss != "weak" and spec.weak_window is not None:
            spec = spec.replace(weak_window=None)
        pairs(traj, spec.loss, spec.stride, spec.weak_window)  # fails here if unusable
        return spec

    def replace(self, **changes) -> TrainingSpec:
        """A copy with some settings changed (validated again)."""
        return replace(self, **changes)

    @classmethod
    def from_kwargs(cls, spec: TrainingSpec | None = None, **kwargs) -> TrainingSpec:
        """``spec`` (or the defaults) with keyword arguments of ``fit`` applied.

        Unknown names are refused with the list of known ones.
        """
        names = {f.name for f in fields(cls)}
        bad = sorted(set(kwargs) - names)
        if bad:
            raise TypeError(
                f"unknown training setting(s) {', '.join(bad)}; known: {', '.join(sorted(names))}."
            )
        base = spec if spec is not None else cls()
        return replace(base, **kwargs) if kwargs else base

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> TrainingSpec:
        return cls.from_kwargs(**d)

    def resume_key(self) -> dict:
        """The settings a checkpoint must share to be resumed: all but the totals.

        ``steps``, ``lbfgs_steps`` and ``target_loss`` may grow between calls
        (train on), every other setting changes what the saved steps computed.
        """
        d = self.to_json()
        for k in ("steps", "lbfgs_steps", "target_loss"):
            d.pop(k)
        return d

    def describe(self) -> str:
        """One line: loss, optimiser and step counts."""
        opt = self.optimizer.replace("+", " + ")
        parts = []
        if self.first_order:
            parts.append(f"{self.steps} steps")
        if self.uses_lbfgs:
            parts.append(f"{self.lbfgs_steps} L-BFGS-B")
        counts = " + ".join(parts)
        lr = f", lr {self.learning_rate:g}" if self.learning_rate else ""
        extra = f", stride {self.stride}" if self.stride > 1 else ""
        if self.window:
            extra += f", windows of {self.window} points"
        stop = []
        if self.optimizer == "adam+lbfgs" and self.handover is not None:
            stop.append("Adam hands over on a plateau")
        if self.uses_lbfgs and self.lbfgs_tol is not None:
            stop.append(f"L-BFGS-B stops below {self.lbfgs_tol:g} gain per {self.patience}")
        tail = f" (at most; {', '.join(stop)})" if stop else ""
        loss = "loss chosen from the data" if self.loss is None else f"{self.loss} loss"
        if self.weak_window:
            loss += f" (windows of {self.weak_window} steps)"
        return f"{loss}; {opt}{lr}, {counts}{tail}{extra}"


#: Spreads of q inside this range are left as they are: a tanh network with
#: Glorot-initialised weights works on inputs of order one. The paper's data
#: (spreads 0.3 to 4.2) sit inside; pixels (~100) and angstroms of a crystal
#: far from the origin do not.
INPUT_RANGE = (0.1, 10.0)
#: Products force x input scale (the size of V's variation) inside this range
#: are left as they are. The paper's data (0.04 to 18) sit inside; forces in
#: pixels/s^2 (~1e5 px^2/s^2), AU/day^2 (~1e-4) or joules (~1e-21) do not.
OUTPUT_RANGE = (0.01, 100.0)
#: A coordinate is shifted when its mean lies further than this many spreads
#: from the origin (a cart at x = 300 px that moves by 50 px).
SHIFT_BEYOND = 3.0


@dataclass(frozen=True)
class Scaling:
    """V(q) = output * u((q - shift) / scale): the network u sees numbers of order one.

    Real data come in their own units (pixels, AU and days, joules). The network
    u is trained on shifted and scaled positions and on forces divided by
    ``force``, so that its weights, Adam's steps and the loss are of order one
    whatever the units; V, its gradient, the reported losses and the SymPy
    export are in the data's units. Powers of ten keep the exported formula
    readable. The identity scaling changes nothing.

    Attributes
    ----------
    shift : tuple of float, length d
    scale : float
        One scale for all coordinates (keeps distances and the loss's weighting
        of the coordinates as they are).
    output : float
    """

    shift: tuple[float, ...]
    scale: float = 1.0
    output: float = 1.0

    def __post_init__(self) -> None:
        shift = tuple(float(c) for c in self.shift)
        if not all(math.isfinite(c) for c in shift):
            raise ValueError(f"a scaling's shift must be finite; got {shift}.")
        for name in ("scale", "output"):
            v = getattr(self, name)
            if (
                isinstance(v, bool)
                or not isinstance(v, int | float)
                or not (math.isfinite(v) and v > 0)
            ):
                raise ValueError(f"a scaling's {name} must be a finite number > 0; got {v!r}.")
            object.__setattr__(self, name, float(v))
        object.__setattr__(self, "shift", shift)

    @classmethod
    def identity(cls, dim: int) -> Scaling:
        return cls((0.0,) * dim)

    @property
    def is_identity(self) -> bool:
        return self.scale == 1.0 and self.output == 1.0 and not any(self.shift)

    @property
    def force(self) -> float:
        """The unit of grad V: output / scale."""
        return self.output / self.scale

    def describe(self, names=None) -> str:
        """One line, e.g. "network units: u = (q - 300)/100, V = 100000 net(u)"."""
        names = names or [f"q{i}" for i in range(len(self.shift))]
        us = [
            (f"({n} - {c:g})" if c else n) + (f"/{self.scale:g}" if self.scale != 1 else "")
            for n, c in zip(names, self.shift, strict=True)
        ]
        u = us[0] if len(us) == 1 else f"({', '.join(us)})"
        out = f"{self.output:g} " if self.output != 1 else ""
        return f"network units: u = {u}, V = {out}net(u)"

    def to_json(self) -> dict:
        return {"shift": list(self.shift), "scale": self.scale, "output": self.output}

    @classmethod
    def from_json(cls, d, dim: int) -> Scaling:
        """The scaling saved as ``d`` (None: the identity, as saved before scalings)."""
        if d is None:
            return cls.identity(dim)
        if not isinstance(d, dict) or set(d) != {"shift", "scale", "output"}:
            raise ValueError(f"a saved scaling has keys shift, scale and output; got {d!r}")
        if not isinstance(d["shift"], list) or len(d["shift"]) != dim:
            raise ValueError(f"a saved scaling's shift must list {dim} numbers; got {d['shift']}")
        return cls(tuple(d["shift"]), d["scale"], d["output"])


def _decade(x: float, bounds: tuple[float, float]) -> float:
    """1 when ``x`` lies within ``bounds``, else the power of ten nearest to it."""
    if not (math.isfinite(x) and x > 0) or bounds[0] <= x <= bounds[1]:
        return 1.0
    return 10.0 ** round(math.log10(x))


def choose_scaling(
    traj,
    kind: str,
    stride: int = 1,
    window: int | None = None,
    *,
    scale: bool = True,
    shift: bool = True,
) -> Scaling:
    """The scaling that brings ``traj`` and its loss's targets to numbers of order one.

    Parameters
    ----------
    traj : Trajectories
    kind, stride, window
        The loss whose targets (forces) set the output's unit
        (:func:`~symhamil.learning.observations.pairs`).
    scale : bool
        False keeps q's unit (a custom feature function takes q in the data's
        units) and scales only the output.
    shift : bool
        False keeps q's origin (features of differences q1 - q2, which a
        shift per coordinate would not keep).

    Returns
    -------
    Scaling
        Powers of ten; the identity for data already of order one.
    """
    q = traj.positions().reshape(-1, traj.dim)
    mean = q.mean(axis=0)
    spread = float(np.sqrt(np.mean((q - mean) ** 2)))
    unit = _decade(spread, INPUT_RANGE) if scale else 1.0
    far = shift and scale
    origin = tuple(
        float(round(m / unit) * unit) if far and abs(m) > SHIFT_BEYOND * spread else 0.0
        for m in mean
    )
    pr = pairs(traj, kind, stride, window)
    dp = pr.dp if pr.mask is None else pr.dp[pr.mask.astype(bool)]
    top = float(np.max(np.abs(dp))) if dp.size else 0.0
    # The root mean square without overflow (forces of 1e160 have been seen in tests).
    finite = top > 0 and np.isfinite(top)
    force = top * float(np.sqrt(np.mean(np.square(dp / top)))) if finite else 1.0
    return Scaling(origin, unit, _decade(force * unit, OUTPUT_RANGE))
