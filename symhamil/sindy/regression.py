"""Sparse regression: column-scaled least squares, STLSQ, the threshold path and
the rules that choose a model on it (relative residual, BIC)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .fit import PathStep
from .library import Library

__all__ = ["DEFAULT_THRESHOLDS", "SELECTIONS", "stlsq"]


def _lstsq(theta: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least squares with the columns scaled to unit norm first.

    Library columns can differ by many orders of magnitude (r^-12 near a close
    encounter next to r); unscaled, LAPACK's cut-off on small singular values,
    relative to the largest, would drop the small columns entirely.
    """
    norms = np.linalg.norm(theta, axis=0)
    norms[norms == 0] = 1.0
    return np.linalg.lstsq(theta / norms, y, rcond=None)[0] / norms


def stlsq(
    theta: np.ndarray,
    y: np.ndarray,
    threshold: float,
    keep: Sequence[int] = (),
    max_iter: int = 100,
) -> np.ndarray:
    """Sequentially thresholded least squares (the paper's SINDy algorithm).

    (i) ordinary least squares; (ii) every coefficient with |beta| < threshold is
    set to zero and frozen there; refit on the remaining columns; repeat until
    the support stops changing.

    Parameters
    ----------
    theta : ndarray, shape (K, J)
    y : ndarray, shape (K,)
    threshold : float
    keep : sequence of int
        Columns never thresholded (the constant of a potential, which is
        arbitrary and must not be forced to zero).

    Returns
    -------
    ndarray, shape (J,)
    """
    J = theta.shape[1]
    support = np.ones(J, dtype=bool)
    beta = np.zeros(J)
    keep_mask = np.zeros(J, dtype=bool)
    keep_mask[list(keep)] = True
    for _ in range(max_iter):
        beta = np.zeros(J)
        if support.any():
            beta[support] = _lstsq(theta[:, support], y)
        new = support & ((np.abs(beta) >= threshold) | keep_mask)
        if np.array_equal(new, support):
            break
        support = new
    beta[~support] = 0.0
    return beta


def _relative_residual(theta, y, beta) -> float:
    scale = np.linalg.norm(y - y.mean())
    return float(np.linalg.norm(y - theta @ beta) / (scale if scale > 0 else 1.0))


#: The paper's thresholds run from 1 downwards; 20 per decade down to 1e-8.
DEFAULT_THRESHOLDS = tuple(10.0 ** (-np.arange(0, 8 * 20 + 1) / 20))


#: How a model is chosen along the threshold path.
SELECTIONS = ("residual", "bic")


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
    theta, y, library: Library, keep, threshold, rtol, ratio, thresholds, select="residual"
) -> tuple[np.ndarray, float, float, tuple[PathStep, ...]]:
    if threshold is not None:
        beta = stlsq(theta, y, threshold, keep)
        res = _relative_residual(theta, y, beta)
        step = PathStep(
            float(threshold), tuple(np.array(library.terms, dtype=object)[beta != 0]), res
        )
        return beta, float(threshold), res, (step,)
    thresholds = DEFAULT_THRESHOLDS if thresholds is None else thresholds
    if select == "bic":
        return _select_bic(theta, y, library, keep, thresholds)
    full = _lstsq(theta, y)
    tol = max(rtol, ratio * _relative_residual(theta, y, full))
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


def _check_threshold(threshold) -> None:
    if threshold is not None and not (
        isinstance(threshold, int | float) and np.isfinite(threshold) and threshold >= 0
    ):
        raise ValueError(f"threshold must be a finite number >= 0; got {threshold!r}.")
