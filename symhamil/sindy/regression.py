"""Sparse regression: column-scaled least squares and STLSQ (the paper's SINDy
algorithm). Choosing a model on the threshold path is :mod:`.selection`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["stlsq"]


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
