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
from typing import TYPE_CHECKING

import numpy as np
from scipy.signal import savgol_filter

if TYPE_CHECKING:  # only a type here: noise estimates sit below the Trajectories value
    from .trajectories import Trajectories

__all__ = [
    "NoiseLevel",
    "initial_momenta",
    "momenta",
    "noise_level",
    "rounding",
    "smooth",
]

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
    coarse : bool
        True when the differences of some coordinate are dominated by the
        signal, not the noise: the sampling resolves the motion too poorly to
        see the noise, and the figures are upper bounds (:func:`noise_level`).
    """

    q: np.ndarray
    p: np.ndarray | None
    q_fraction: np.ndarray
    p_fraction: np.ndarray | None
    coarse: bool = False

    @property
    def fraction(self) -> float:
        """The largest noise fraction of any coordinate or momentum."""
        parts = [self.q_fraction] + ([] if self.p_fraction is None else [self.p_fraction])
        return float(np.max(np.concatenate(parts)))

    def __repr__(self) -> str:
        def pct(a):
            return ", ".join(f"{100 * v:.3g}%" for v in a)

        p = "not measured" if self.p_fraction is None else pct(self.p_fraction)
        bound = "at most " if self.coarse else ""
        return f"NoiseLevel(of the spread: {bound}q {pct(self.q_fraction)}; p {p})"


def _differences(x: np.ndarray, traj: Trajectories, order: int) -> np.ndarray:
    """order-th differences of x (R, N+1, d) inside the pieces, shape (n, d)."""
    dx = np.diff(x, n=order, axis=1)
    if traj.ragged or traj.bridged:
        return dx[traj.measured(order)]
    return dx.reshape(-1, x.shape[2])


def _sigma(x: np.ndarray, traj: Trajectories) -> tuple[np.ndarray, np.ndarray]:
    """Noise standard deviation of x (R, N+1, d) along axis 1, per component, and
    whether some component's differences are dominated by its signal.

    White noise gives the same estimate from differences of any order; a
    signal sampled coarsely gives less and less as the order grows (its m-th
    difference shrinks like (h omega / 2)^m once normalised). Where the 10th
    differences give less than :data:`RESOLVED` of the 6th, the smallest
    estimate over orders 6 to 12 is kept, an upper bound on the noise: exact
    orbits at h / tau = 0.5 read as 0.2% noise from 6th differences alone.
    """
    if int(traj.sizes.max()) <= ORDER:
        raise ValueError(
            f"estimating noise needs more than {ORDER} samples per trajectory; the "
            f"longest has {int(traj.sizes.max())}."
        )
    sigma = sigma_from_differences(_differences(x, traj, ORDER))
    if int(traj.sizes.max()) <= HIGHEST:
        return sigma, np.zeros(sigma.shape, dtype=bool)
    higher = [sigma_from_differences(_differences(x, traj, m), m) for m in (8, 10, 12)]
    coarse = higher[1] < RESOLVED * sigma
    low = np.min([sigma, *higher], axis=0)
    return np.where(coarse, low, sigma), coarse


#: The highest order of differences looked at, and the share of the 6th-order
#: estimate below which the 10th-order one shows the signal, not the noise
#: (white noise: 1.00 +- 0.05 at a few hundred samples; exact orbits at
#: h / tau = 0.38: 0.2).
HIGHEST = 12
RESOLVED = 0.7
#: An upper bound on the noise below this share of the spread leaves the data
#: clean whatever the truth (the plan's QUIET).
SEEN = 1e-4


def sigma_from_differences(dx: np.ndarray, order: int = ORDER) -> np.ndarray:
    """White-noise standard deviation per component from ``order``-th differences
    (n, d): a robust spread (median absolute deviation) over sqrt(C(2m, m))."""
    if dx.shape[0] == 0:
        return np.zeros(dx.shape[1])
    mad = np.median(np.abs(dx - np.median(dx, axis=0)), axis=0)
    return _MAD_TO_STD * mad / np.sqrt(comb(2 * order, order))


def _cache(traj) -> dict:
    """The estimates already made for ``traj``.

    A Trajectories value is frozen and its arrays are read-only, so an estimate
    made once holds for its lifetime: it is kept in the instance (as
    ``functools.cached_property`` keeps values), and every later call - the
    data's plan, force-SINDy, the network, the bootstrap, rollouts - reads it
    instead of estimating again.
    """
    return traj.__dict__.setdefault("_estimates", {})


def noise_level(traj: Trajectories) -> NoiseLevel:
    """The noise of each coordinate and momentum of ``traj``, estimated from the data
    (once per Trajectories value; later calls return the same estimate).

    Examples
    --------
    >>> import numpy as np, symhamil as sh
    >>> tr = sh.datasets.harmonic_circles(R=5, steps=1000)
    >>> rng = np.random.default_rng(0)
    >>> noisy = sh.Trajectories(q=tr.q + 0.01 * rng.standard_normal(tr.q.shape), p=tr.p, h=tr.h)
    >>> round(float(sh.noise_level(noisy).q[0]), 3)
    0.01
    """

    cache = _cache(traj)
    if "noise" not in cache:
        cache["noise"] = _estimate_noise(traj)
    return cache["noise"]


def _estimate_noise(traj: Trajectories) -> NoiseLevel:
    def spread(x):
        ok = traj.ragged or traj.bridged
        s = (x[traj.measured()] if ok else x.reshape(-1, traj.dim)).std(axis=0)
        return np.where(s > 0, s, 1.0)

    # A bound that is small either way (a clean coordinate's differences are
    # its signal's too) says nothing: only a bound above SEEN makes data coarse.
    sq, cq = _sigma(traj.q, traj)
    fq = sq / spread(traj.q)
    coarse = bool(np.any(cq & (fq > SEEN)))
    if not traj.has_momenta:
        return NoiseLevel(sq, None, fq, None, coarse)
    sp_, cp = _sigma(traj.p, traj)
    fp = sp_ / spread(traj.p)
    return NoiseLevel(sq, sp_, fq, fp, coarse or bool(np.any(cp & (fp > SEEN))))


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

    return traj.with_values(filt(traj.q), filt(traj.p))


def time_scale(traj: Trajectories, noise: NoiseLevel | None = None) -> float:
    """tau = spread(q) / spread(dq/dt), the time over which the motion changes.

    With momenta, dq/dt is p / m. Without, it comes from displacements over the
    fewest steps k whose spread stands 10 times above the noise (the noise of a
    displacement is sqrt(2) sigma_q), with the noise's share removed. Estimated
    once per Trajectories value, without noise and with the data's own
    estimate (:func:`noise_level`); another ``noise`` is not cached.
    """
    cache = _cache(traj)
    if noise is None or traj.has_momenta:  # with momenta, tau does not use the noise
        key = "tau"
    elif noise is cache.get("noise"):
        key = "tau with noise"
    else:
        return _estimate_time_scale(traj, noise)
    if key not in cache:
        cache[key] = _estimate_time_scale(traj, noise)
    return cache[key]


def _estimate_time_scale(traj: Trajectories, noise: NoiseLevel | None) -> float:
    valid = traj.valid() if traj.ragged else None

    def spread(x):
        x = x[valid] if valid is not None else x.reshape(-1, traj.dim)
        return x.std(axis=0)

    s_q = spread(traj.q)
    if traj.has_momenta:
        m = traj.mass_array
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


def momenta(traj: Trajectories, window: int = 5) -> np.ndarray:
    """p at every sample: measured, or m dq/dt from a local cubic fit over
    ``window`` samples of each piece (a five-point derivative, O(h^4)).

    Returns
    -------
    ndarray, shape (R, N+1, d)
        Zero past each piece's length.
    """
    if traj.has_momenta:
        return np.where(traj.valid()[..., None], traj.p, 0.0)
    out = np.zeros(traj.q.shape)
    m = traj.mass_array
    for r in range(traj.R):
        n = int(traj.sizes[r])
        x = traj.q[r, :n]
        w = min(window, n - (1 - n % 2))
        if w >= 5:
            v = savgol_filter(x, w, 3, deriv=1, delta=traj.h, axis=0)
        else:
            v = np.gradient(x, traj.h, axis=0)
        out[r, :n] = m * v
    return out


def initial_momenta(traj: Trajectories, at: np.ndarray | None = None, window: int = 9):
    """p at sample ``at`` of each piece: measured, or m dq/dt from a local cubic
    fit over ``window`` samples (:func:`momenta`).

    Parameters
    ----------
    at : ndarray of int, shape (R,), optional
        The sample of each piece; its first by default.

    Returns
    -------
    ndarray, shape (R, d)
    """
    at = np.zeros(traj.R, dtype=int) if at is None else np.asarray(at)
    return momenta(traj, window)[np.arange(traj.R), at]


#: Values rounding() reads (spread over the array): enough to see a text
#: file's digits, few enough to cost nothing.
ROUNDING_SAMPLE = 2000


def rounding(values) -> np.ndarray:
    """The rounding error's standard deviation of each value, as written.

    Text files write a fixed number of significant digits (LAMMPS's %g: 6;
    extended XYZ: 8 decimals); the number of digits D that reproduces the
    most sampled values (the mode of each value's fewest digits) is the
    file's: positions unwrapped across a periodic box gain digits from the
    box's multiples, spread over 7 to 17, and values that end in zeros need
    fewer. Each value v is then
    off by up to half a unit in its last digit, uniformly: a standard
    deviation of 10^(floor(log10 |v|) - D + 1) / sqrt(12). Binary files need
    all 17 digits and give float64's own rounding.

    Parameters
    ----------
    values : array_like
        Any shape.

    Returns
    -------
    ndarray, the shape of ``values``
    """
    v = np.asarray(values, dtype=float)
    flat = v.reshape(-1)
    sample = flat[:: max(1, flat.size // ROUNDING_SAMPLE)]
    sample = sample[np.isfinite(sample) & (sample != 0)]
    need = []
    for x in sample:
        d = 1
        while d < 17 and float(f"{x:.{d}g}") != x:
            d += 1
        need.append(d)
    digits = int(np.bincount(need).argmax()) if need else 17
    mag = np.floor(np.log10(np.where(np.isfinite(v) & (v != 0), np.abs(v), 1.0)))
    return 10.0 ** (mag - digits + 1) / np.sqrt(12)
