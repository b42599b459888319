"""The noise in measured trajectories, estimated from the data, and smoothing.

For samples x_i = s(t_i) + e_i of a smooth signal s with white noise e of
standard deviation sigma, the m-th difference of x is dominated by the noise:
its variance is sigma^2 * C(2m, m) (the signal's part is O(h^m)). symhamil uses
m = 6, and a median-based (robust) spread, so that a few outliers or a gap do
not inflate the estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np
from scipy.signal import savgol_filter

from .trajectories import Trajectories

__all__ = ["NoiseLevel", "noise_level", "smooth"]

#: The order of the differences the estimate is taken from.
ORDER = 6
#: Median absolute deviation to standard deviation, for Gaussian noise.
_MAD_TO_STD = 1.4826


@dataclass(frozen=True)
class NoiseLevel:
    """Estimated noise per coordinate.

    Attributes
    ----------
    q, p : ndarray, shape (d,)
        Standard deviation of the noise of each coordinate and momentum (p is
        None for positions-only data).
    q_fraction, p_fraction : ndarray, shape (d,)
        The same, as fractions of each coordinate's standard deviation.
    """

    q: np.ndarray
    p: np.ndarray | None
    q_fraction: np.ndarray
    p_fraction: np.ndarray | None

    @property
    def fraction(self) -> float:
        """The largest noise fraction of any coordinate or momentum."""
        parts = [self.q_fraction] + ([] if self.p_fraction is None else [self.p_fraction])
        return float(np.max(np.concatenate(parts)))

    def __repr__(self) -> str:
        def pct(a):
            return ", ".join(f"{100 * v:.3g}%" for v in a)

        p = "not measured" if self.p_fraction is None else pct(self.p_fraction)
        return f"NoiseLevel(of the spread: q {pct(self.q_fraction)}; p {p})"


def _differences(x: np.ndarray, traj: Trajectories, order: int) -> np.ndarray:
    """order-th differences of x (R, N+1, d) inside the pieces, shape (n, d)."""
    dx = np.diff(x, n=order, axis=1)
    if traj.ragged or traj.bridged:
        return dx[traj.measured(order)]
    return dx.reshape(-1, x.shape[2])


def _sigma(x: np.ndarray, traj: Trajectories) -> np.ndarray:
    """Noise standard deviation of x (R, N+1, d) along axis 1, per component."""
    if int(traj.sizes.max()) <= ORDER:
        raise ValueError(
            f"estimating noise needs more than {ORDER} samples per trajectory; the "
            f"longest has {int(traj.sizes.max())}."
        )
    return sigma_from_differences(_differences(x, traj, ORDER))


def sigma_from_differences(dx: np.ndarray) -> np.ndarray:
    """White-noise standard deviation per component from ORDER-th differences (n, d):
    a robust spread (median absolute deviation) over sqrt(C(2 ORDER, ORDER))."""
    if dx.shape[0] == 0:
        return np.zeros(dx.shape[1])
    mad = np.median(np.abs(dx - np.median(dx, axis=0)), axis=0)
    return _MAD_TO_STD * mad / np.sqrt(comb(2 * ORDER, ORDER))


def noise_level(traj: Trajectories) -> NoiseLevel:
    """The noise of each coordinate and momentum of ``traj``, estimated from the data.

    Examples
    --------
    >>> import numpy as np, symhamil as sh
    >>> tr = sh.datasets.harmonic_circles(R=5, steps=1000)
    >>> rng = np.random.default_rng(0)
    >>> noisy = sh.Trajectories(q=tr.q + 0.01 * rng.standard_normal(tr.q.shape), p=tr.p, h=tr.h)
    >>> round(float(sh.noise_level(noisy).q[0]), 3)
    0.01
    """

    def spread(x):
        ok = traj.ragged or traj.bridged
        s = (x[traj.measured()] if ok else x.reshape(-1, traj.dim)).std(axis=0)
        return np.where(s > 0, s, 1.0)

    sq = _sigma(traj.q, traj)
    if not traj.has_momenta:
        return NoiseLevel(sq, None, sq / spread(traj.q), None)
    sp_ = _sigma(traj.p, traj)
    return NoiseLevel(sq, sp_, sq / spread(traj.q), sp_ / spread(traj.p))


def smooth(traj: Trajectories, window: int, order: int = 3) -> Trajectories:
    """``traj`` with q and p smoothed along time by a Savitzky-Golay filter.

    Parameters
    ----------
    window : int
        Odd number of samples of the filter (more smooths more, and bends
        sharp turns of the signal more). A piece shorter than the window is
        smoothed with the longest odd window it holds (left as it is when that
        is not longer than ``order + 1``).
    order : int
        Degree of the local polynomials.
    """
    if isinstance(window, bool) or int(window) != window or window < order + 2 or window % 2 == 0:
        raise ValueError(
            f"the smoothing window must be an odd whole number > order + 1 = {order + 1}; "
            f"got {window!r}."
        )
    if window > traj.sizes.max():
        raise ValueError(
            f"the smoothing window ({window} samples) is longer than the trajectories "
            f"({int(traj.sizes.max())} samples)."
        )

    def filt(x):
        if x is None:
            return None
        if not traj.ragged:
            return savgol_filter(x, int(window), order, axis=1)
        out = x.copy()
        for r, n in enumerate(traj.sizes):
            w = min(int(window), int(n) - (1 - int(n) % 2))
            if w > order + 1:
                out[r, :n] = savgol_filter(x[r, :n], w, order, axis=0)
        return out

    return Trajectories(
        q=filt(traj.q),
        p=filt(traj.p),
        h=traj.h,
        names=traj.names,
        t0=traj.t0,
        lengths=traj.lengths,
        masses=traj.masses,
        sampling=traj.sampling,
        observed=traj.observed,
        box=traj.box,
    )


#: Data whose largest noise fraction (of a coordinate's spread) is below this
#: count as clean: pair losses and the residual rule serve them best.
QUIET = 1e-4


@dataclass(frozen=True)
class Plan:
    """How force-SINDy (and the neural weak loss) treat a data set.

    Attributes
    ----------
    kind : str
        The observations (:func:`symhamil.losses.pairs`).
    select : {"residual", "bic"}
    window : int or None
        Steps per test function of the weak form.
    smooth : int or None
        Savitzky-Golay window applied first.
    noise : NoiseLevel or None
        The estimate the choices came from (None when too few samples).
    """

    kind: str
    select: str
    window: int | None
    smooth: int | None
    noise: NoiseLevel | None

    def prepare(self, traj: Trajectories) -> Trajectories:
        """``traj``, smoothed if the plan says so."""
        return traj if self.smooth is None else smooth(traj, self.smooth)


def plan(traj: Trajectories, *, kind=None, select=None, window=None, smooth=None) -> Plan:
    """The defaults for ``traj``: what is given is kept, the rest chosen from the noise.

    Clean data (noise below :data:`QUIET` of the spread): midpoint pairs (verlet
    triples without momenta) and the residual rule. Noisy data: the weak form
    with a window from :func:`choose_window`, and BIC.
    """
    from .losses import default_loss

    noise = noise_level(traj) if int(traj.sizes.max()) > ORDER else None
    noisy = noise is not None and noise.fraction > QUIET
    kind = kind or ("weak" if noisy else default_loss(traj))
    select = select or ("bic" if noisy else "residual")
    if kind == "weak" and window is None:
        window = choose_window(traj, noise)
    if smooth is None and kind == "weak":
        smooth = choose_smoothing(traj, noise)
    return Plan(kind, select, window if kind == "weak" else None, smooth, noise)


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


#: Window of the weak form, in units of the time scale.
WINDOW_FRACTION = 1.2
#: The shortest weak window, in steps: fewer samples per test function make
#: its quadrature coarse (T1 exact data, q only: 2e-6 at 200 steps, 0.9% at 50).
MIN_WINDOW = 32
#: Noise fraction above which the data are smoothed first.
SMOOTH_ABOVE = 0.02
#: Smoothing window, in units of the time scale.
SMOOTH_FRACTION = 0.08


def time_scale(traj: Trajectories, noise: NoiseLevel | None = None) -> float:
    """tau = spread(q) / spread(dq/dt), the time over which the motion changes.

    With momenta, dq/dt is p / m. Without, it comes from displacements over the
    fewest steps k whose spread stands 10 times above the noise (the noise of a
    displacement is sqrt(2) sigma_q), with the noise's share removed.
    """
    valid = traj.valid() if traj.ragged else None

    def spread(x):
        x = x[valid] if valid is not None else x.reshape(-1, traj.dim)
        return x.std(axis=0)

    s_q = spread(traj.q)
    if traj.has_momenta:
        m = 1.0 if traj.masses is None else traj.masses
        s_v = spread(traj.p / m)
    else:
        sigma = np.zeros(traj.dim) if noise is None else noise.q
        longest = int(traj.sizes.max()) - 1
        k = 1
        while True:
            dq = traj.q[:, k:] - traj.q[:, :-k]
            dq = dq[traj.valid(k)] if traj.ragged else dq.reshape(-1, traj.dim)
            var = dq.var(axis=0)
            if np.all(var >= 200 * sigma**2) or 2 * k > longest:
                break
            k *= 2
        s_v = np.sqrt(np.maximum(var - 2 * sigma**2, 0)) / (k * traj.h)
    ok = (s_v > 0) & (s_q > 0)
    return float(np.median(s_q[ok] / s_v[ok])) if ok.any() else float(traj.N * traj.h)
