"""Model selection on the threshold path, and the settings of it as one value.

:class:`Selection` says how a model is chosen: a fixed threshold, or a path of
thresholds searched by a rule - the paper's relative-residual rule or the
Bayesian information criterion. Every learner takes one (``selection=``); the
data's plan (:func:`symhamil.learning.planning.plan`) supplies the rule when the
value leaves it open.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace

import numpy as np

from .fit import PathStep
from .library import Library
from .regression import _lstsq, _relative_residual, stlsq

__all__ = ["DEFAULT_THRESHOLDS", "SELECTIONS", "Selection"]

#: The paper's thresholds run from 1 downwards; 20 per decade down to 1e-8.
DEFAULT_THRESHOLDS = tuple(10.0 ** (-np.arange(0, 8 * 20 + 1) / 20))


#: How a model is chosen along the threshold path.
SELECTIONS = ("residual", "bic")


@dataclass(frozen=True)
class Selection:
    """How a sparse model is chosen, as one frozen, validated value.

    Parameters
    ----------
    rule : {"residual", "bic"}, optional
        The rule along the threshold path: ``"residual"`` lowers lambda from 1
        until the relative residual ||y - Theta beta|| / ||y - mean y|| is at
        most max(rtol, ratio * r_full), r_full being that of least squares on
        the whole library (the paper's protocol); ``"bic"`` takes the model of
        least Bayesian information criterion on the whole path. By default the
        data's plan chooses (BIC on noisy data), and ``"residual"`` where there
        is no plan (values of a network or a formula).
    threshold : float, optional
        A fixed lambda >= 0: no path, no rule.
    thresholds : sequence of float, optional
        The lambdas of the path, largest first; by default 20 per decade from 1
        down to 1e-8 (:data:`DEFAULT_THRESHOLDS`).
    rtol, ratio : float
        The residual rule's absolute floor and factor over r_full. The paper's
        absolute 1e-10 is reachable only by exact targets; a network's values
        stop at r_full, and a model that misses a true term sits far above it.

    Examples
    --------
    >>> Selection(rule="bic").rule
    'bic'
    >>> Selection(threshold=0.05).threshold
    0.05
    """

    rule: str | None = None
    threshold: float | None = None
    thresholds: tuple[float, ...] | None = None
    rtol: float = 1e-10
    ratio: float = 2.0

    def __post_init__(self) -> None:
        if self.rule is not None and self.rule not in SELECTIONS:
            raise ValueError(
                f"unknown selection rule {self.rule!r}; choose one of {', '.join(SELECTIONS)}."
            )
        t = self.threshold
        if t is not None:
            if (
                isinstance(t, bool)
                or not isinstance(t, int | float)
                or not (math.isfinite(t) and t >= 0)
            ):
                raise ValueError(f"threshold must be a finite number >= 0; got {t!r}.")
            object.__setattr__(self, "threshold", float(t))
        if self.thresholds is not None:
            try:
                ts = tuple(float(x) for x in self.thresholds)
            except (TypeError, ValueError):
                raise ValueError(
                    f"thresholds must be a sequence of numbers; got {self.thresholds!r}."
                ) from None
            if not ts or not all(math.isfinite(x) and x >= 0 for x in ts):
                raise ValueError(
                    "thresholds must be one or more finite numbers >= 0, largest first."
                )
            object.__setattr__(self, "thresholds", ts)
        for name in ("rtol", "ratio"):
            v = getattr(self, name)
            if (
                isinstance(v, bool)
                or not isinstance(v, int | float)
                or not (math.isfinite(v) and v >= 0)
            ):
                raise ValueError(f"{name} must be a finite number >= 0; got {v!r}.")
            object.__setattr__(self, name, float(v))

    @property
    def path(self) -> tuple[float, ...]:
        """The thresholds searched, largest first."""
        return DEFAULT_THRESHOLDS if self.thresholds is None else self.thresholds

    def replace(self, **changes) -> Selection:
        """A copy with some settings changed (validated again)."""
        return replace(self, **changes)

    def with_rule(self, rule: str) -> Selection:
        """This selection with ``rule`` where it leaves the rule open."""
        return self if self.rule is not None else replace(self, rule=rule)

    def describe(self) -> dict:
        """The settings as plain JSON-ready values (a fit's provenance)."""
        out = {"rule": self.rule, "threshold": self.threshold}
        if self.threshold is None:
            path = self.path
            out |= {"thresholds": f"{len(path)} from {path[0]:.3g} to {path[-1]:.3g}"}
            if self.rule == "residual":
                out |= {"rtol": self.rtol, "ratio": self.ratio}
        return out


#: The loose keywords of symhamil 0.1 and the Selection field each stands for.
LOOSE = {"select": "rule", "threshold": "threshold", "thresholds": "thresholds",
         "rtol": "rtol", "ratio": "ratio"}  # fmt: skip


def as_selection(selection, where: str, **loose) -> Selection:
    """``selection`` (a Selection or None), or one made of the loose keywords of
    an older call to ``where`` (deprecated: each warns once); not both."""
    unknown = sorted(set(loose) - set(LOOSE))
    if unknown:
        raise TypeError(f"{where}() got an unexpected keyword argument {unknown[0]!r}")
    given = {k: v for k, v in loose.items() if v is not None}
    if given:
        fields = ", ".join(f"{LOOSE[k]}=..." for k in given)
        warnings.warn(
            f"{where}({', '.join(f'{k}=...' for k in given)}) is deprecated since symhamil "
            f"0.2; pass selection=symhamil.Selection({fields}).",
            DeprecationWarning,
            stacklevel=3,
        )
    if selection is None:
        return Selection(**{LOOSE[k]: v for k, v in given.items()})
    if not isinstance(selection, Selection):
        raise TypeError(f"selection must be a symhamil.Selection; got {type(selection).__name__}.")
    if given:
        raise ValueError(
            f"give the selection settings once: selection=Selection(...) or "
            f"{', '.join(given)}=..., not both."
        )
    return selection


#: Residuals below this share of the target's norm are rounding, not evidence:
#: on exact data every model at that level fits equally, and the fewest terms win.
BIC_FLOOR = 1e-12


def _bic(theta, y, beta) -> float:
    """n log(RSS/n) + k log n: the Bayesian information criterion of a least-squares model."""
    n, k = len(y), int(np.count_nonzero(beta))
    rss = float(np.sum((y - theta @ beta) ** 2))
    floor = (BIC_FLOOR**2) * float(np.sum(y**2))
    return n * np.log(max(rss, floor, np.finfo(float).tiny) / n) + k * np.log(n)


def _select_bic(theta, y, library: Library, keep, thresholds):
    """Every distinct model of the whole path, and the one of least BIC.

    On noisy data the residual-ratio rule keeps dense models (noise dominates
    the residual); BIC charges log(n) per term, so a term must explain more than
    noise to stay.
    """
    path, best, last = [], None, None
    for lam_k in thresholds:
        b = stlsq(theta, y, lam_k, keep)
        if last is not None and np.array_equal(b != 0, last != 0):
            continue  # the same model as the previous threshold's
        last = b
        crit = _bic(theta, y, b) if np.any(b) else np.inf
        path.append(
            PathStep(
                float(lam_k),
                tuple(t for t, c in zip(library.terms, b, strict=True) if c != 0),
                _relative_residual(theta, y, b),
                float(crit),
            )
        )
        if best is None or crit < best[0]:
            best = (crit, b, float(lam_k), path[-1].residual)
    _, beta, lam, res = best
    return beta, lam, res, tuple(path)


def _fit_path(
    theta, y, library: Library, keep, selection: Selection
) -> tuple[np.ndarray, float, float, tuple[PathStep, ...]]:
    """The model ``selection`` chooses: (beta, threshold, residual, path)."""
    threshold = selection.threshold
    if threshold is not None:
        beta = stlsq(theta, y, threshold, keep)
        res = _relative_residual(theta, y, beta)
        step = PathStep(
            float(threshold), tuple(np.array(library.terms, dtype=object)[beta != 0]), res
        )
        return beta, float(threshold), res, (step,)
    thresholds = selection.path
    if selection.rule == "bic":
        return _select_bic(theta, y, library, keep, thresholds)
    full = _lstsq(theta, y)
    tol = max(selection.rtol, selection.ratio * _relative_residual(theta, y, full))
    path = []
    beta, lam, res = full, 0.0, _relative_residual(theta, y, full)
    for lam_k in thresholds:
        b = stlsq(theta, y, lam_k, keep)
        r = _relative_residual(theta, y, b)
        path.append(
            PathStep(
                float(lam_k), tuple(t for t, c in zip(library.terms, b, strict=True) if c != 0), r
            )
        )
        if r <= tol:
            beta, lam, res = b, float(lam_k), r
            break
    return beta, lam, res, tuple(path)
