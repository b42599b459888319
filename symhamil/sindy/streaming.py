"""Least squares over more rows than fit in memory: frames streamed, or spread
over a Dask cluster, and compressed to a triangle of the library's size.

Force matching on a large dump has 3 N_atoms rows per frame (12 million for
4000 atoms x 100 frames x 3 x 10 terms is 1 GB of library columns). Every
least-squares question the threshold path asks depends on the rows only
through the triangle R of a QR factorisation of [Theta | y] (the columns'
Gram matrix, kept as its Cholesky factor): for any subset S of columns,
||y - Theta_S b|| = ||r_y - R_S b||. Chunks of frames are factorised one at a
time (or on Dask workers) and their triangles combined by one more QR, the
tall-skinny QR of Demmel et al. (2012). It is the normal equations
accumulated frame by frame, without squaring the condition number (the
inverse powers r^-1 .. r^-12 reach 1e9, whose square would swamp float64).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import reduce

import numpy as np
import scipy.linalg

__all__ = ["Moments", "stream_moments"]


@dataclass(frozen=True)
class Moments:
    """The rows [Theta | y] of a least-squares problem, compressed.

    Parameters
    ----------
    triangle : ndarray, shape (min(n, J+1), J+1)
        R of the QR factorisation of [Theta | y].
    rows : int
        n, the number of rows it stands for.
    total : float
        The sum of y (the relative residual is taken about y's mean).
    """

    triangle: np.ndarray
    rows: int
    total: float

    @classmethod
    def of(cls, theta: np.ndarray, y: np.ndarray) -> Moments:
        """The moments of rows ``theta`` (n, J) and targets ``y`` (n,)."""
        a = np.column_stack([theta, y])
        r = scipy.linalg.qr(a, mode="r", check_finite=False)[0]
        return cls(r[: min(a.shape)], len(y), float(np.sum(y)))

    def __add__(self, other: Moments) -> Moments:
        """The moments of both sets of rows."""
        r = scipy.linalg.qr(np.vstack([self.triangle, other.triangle]), mode="r")[0]
        width = r.shape[1]
        return Moments(r[:width], self.rows + other.rows, self.total + other.total)

    def system(self) -> tuple[np.ndarray, np.ndarray]:
        """Rows (m, J) and targets (m,), m <= J + 2, equivalent to the originals.

        Least squares on any subset of columns gives the same coefficients and
        residual norm; the targets' spread about their mean, the relative
        residual's scale, is the originals' too: the rows are turned by one
        Householder reflection so that the targets' sum matches (a zero row
        added first leaves room for it).
        """
        r = np.vstack([self.triangle, np.zeros((1, self.triangle.shape[1]))])
        m, ry = r.shape[0], r[:, -1]
        norm2 = float(ry @ ry)
        if norm2 > 0:
            # Want 1^T y' = s with s^2 / m = (sum y)^2 / n, so that
            # ||y' - mean y'||^2 = ||y||^2 - (sum y)^2 / n. A unit w with
            # w . r_y = s / sqrt(m), and the reflection H taking 1/sqrt(m) to w
            # (H^T 1 = sqrt(m) w), do it: 1^T (H r_y) = sqrt(m) w . r_y = s.
            c = self.total / np.sqrt(self.rows)
            along = min(c**2 / norm2, 1.0)
            k = int(np.argmin(np.abs(ry)))
            u = np.zeros(m)
            u[k] = 1.0
            u -= (u @ ry) / norm2 * ry
            u /= np.linalg.norm(u)
            w = c / norm2 * ry + np.sqrt(1.0 - along) * u
            e = np.full(m, 1 / np.sqrt(m))
            v = e - w
            if np.linalg.norm(v) > 1e-14:
                r = r - np.outer(2 * v / (v @ v), v @ r)
        return r[:, :-1], r[:, -1]


def stream_moments(
    rows_of: Callable, chunks: Sequence, client=None, progress: Callable | None = None
) -> Moments:
    """The moments of every chunk's rows, one chunk in memory at a time.

    Parameters
    ----------
    rows_of : callable
        ``rows_of(*chunk) -> (theta (n, J), y (n,))``; picklable when a client
        is given (it runs on the workers).
    chunks : sequence of tuple
        The arguments of each call.
    client : dask.distributed.Client, optional
        Factorise the chunks on the cluster's workers; only the triangles,
        (J+1)^2 numbers each, come back.
    progress : callable, optional
        Called with (done, total) after each chunk (without a client).
    """
    if client is not None:
        scattered = client.scatter(list(chunks))
        futures = client.map(_moments_of, [rows_of] * len(scattered), scattered)
        return reduce(Moments.__add__, client.gather(futures))
    total, out = len(chunks), None
    for k, chunk in enumerate(chunks):
        m = _moments_of(rows_of, chunk)
        out = m if out is None else out + m
        if progress is not None:
            progress(k + 1, total)
    return out


def _moments_of(rows_of, chunk) -> Moments:
    return Moments.of(*rows_of(*chunk))
