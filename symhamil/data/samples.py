"""Measured samples in: time stamps, gaps, irregular steps, several runs, text files.

:func:`from_samples` turns samples (t_k, q_k[, p_k]) into regular pieces - a
possibly ragged :class:`~symhamil.Trajectories` - and says what it cut and
dropped in a :class:`SamplingReport`. :func:`read_csv` reads such samples from a
delimited text file with named columns. Errors name the column, the row and the
fault, and never print whole arrays.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass

import numpy as np

from .noise import ORDER, _cache, noise_level, sigma_from_differences, time_scale

__all__ = [
    "SamplingReport",
    "SamplingWarning",
    "check_masses",
    "from_samples",
    "inside",
    "momentum_ratio",
    "step_of",
    "velocity_ratio",
]


def inside(lengths, n: int) -> np.ndarray:
    """(R, n) mask: True where point j is inside piece r (j < lengths[r])."""
    return np.arange(n)[None, :] < np.asarray(lengths)[:, None]


class SamplingWarning(UserWarning):
    """Something in measured samples a user should look at (e.g. p far from m dq/dt)."""


#: Gaps shorter than this share of the time scale are bridged by default ...
GAP_FRACTION = 0.05
#: ... and always gaps of up to this many lost samples.
MIN_GAP = 2

#: Measured momenta farther than this (relative) from m dq/dt are reported by a warning.
VELOCITY_MISMATCH = 0.02


@dataclass(frozen=True)
class SamplingReport:
    """What :func:`from_samples` did with the samples.

    Attributes
    ----------
    samples : int
        Samples given.
    used : int
        Samples in the pieces kept.
    h : float
        The step: the slope of the stamps against their frame numbers over the
        pieces (least squares), started from the median of the smallest frequent
        step (see :func:`step_of`), so that regular gaps do not inflate it and
        rounded stamps do not drift.
    pieces : int
        Pieces kept.
    cuts : tuple of (float, float)
        (time, step) of every step that differed from h by more than the
        tolerance (a gap); the data were cut there.
    dropped_nonfinite, dropped_duplicates, dropped_short : int
        Samples left out: with NaN/inf values, with a repeated time stamp, in
        pieces shorter than the shortest allowed.
    filled : int
        Missing samples bridged inside pieces (gaps of up to ``max_gap``).
    jitter : float
        Largest distance of a kept time stamp from the clock (the straight line
        through its piece's stamps against their frame numbers), in units of h.
    velocity_ratio : tuple of float, optional
        For each coordinate, the measured p / m over dq/dt (fitted over windows
        of the pieces): 1 when the momenta agree with the positions.
    rounding : float
        The decimal the time stamps were rounded to (0.001 for a camera's
        milliseconds), when they were: the steps then vary by up to it, and
        are still read as one regular clock.
    t_first : float
        The first time stamp; cuts are printed as times after it.
    """

    samples: int
    used: int
    h: float
    pieces: int
    cuts: tuple[tuple[float, float], ...]
    dropped_nonfinite: int
    dropped_duplicates: int
    dropped_short: int
    jitter: float
    velocity_ratio: tuple[float, ...] | None = None
    filled: int = 0
    rounding: float = 0.0
    t_first: float = 0.0

    def __str__(self) -> str:
        lines = [
            f"{self.used} of {self.samples} samples in {self.pieces} regular piece(s), "
            f"step h = {self.h:.7g}"
        ]
        if self.rounding:
            lines.append(
                f"time stamps rounded to {self.rounding:g}: read as one clock, h from a "
                "straight line through the stamps against their frame numbers"
            )
        if self.cuts:
            # Offsets from the first stamp: Julian dates or Unix times printed
            # whole would hide the place in their last digits.
            shown = ", ".join(f"{t - self.t_first:.6g} (step {s:.4g})" for t, s in self.cuts[:5])
            more = f" and {len(self.cuts) - 5} more" if len(self.cuts) > 5 else ""
            lines.append(
                f"cut at {len(self.cuts)} irregular step(s), at times after the first stamp "
                f"({self.t_first:.10g}): {shown}{more}"
            )
        for n, why in (
            (self.dropped_nonfinite, "with NaN or inf values"),
            (self.dropped_duplicates, "with a repeated time stamp"),
            (self.dropped_short, "in pieces too short to use"),
        ):
            if n:
                lines.append(f"dropped {n} sample(s) {why}")
        if self.filled:
            lines.append(
                f"bridged {self.filled} missing sample(s) inside pieces (filled by "
                "interpolation for the integrals; no likelihood or pair uses them)"
            )
        if self.jitter > 1e-9:
            lines.append(f"time stamps deviate from the regular grid by up to {self.jitter:.2g} h")
        if self.velocity_ratio is not None:
            r = ", ".join(f"{v:.4f}" for v in self.velocity_ratio)
            lines.append(f"measured p / (m dq/dt) = {r}")
        return "\n".join(lines)


def _column(name: str, a, n: int | None, *, allow_2d: bool = True) -> np.ndarray:
    """``a`` as float64 of shape (n,) or (n, d); errors name the argument."""
    if np.iscomplexobj(a):
        raise TypeError(
            f"{name} holds complex numbers; measured samples are real (give the real part, "
            "or the modulus, explicitly)."
        )
    try:
        a = np.asarray(a, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must hold numbers.") from None
    if a.ndim == 1:
        a = a[:, None] if allow_2d else a
    if a.ndim != (2 if allow_2d else 1):
        raise ValueError(
            f"{name} must have shape (n,){' or (n, d)' if allow_2d else ''}; got {a.shape}."
        )
    if n is not None and a.shape[0] != n:
        raise ValueError(f"{name} has {a.shape[0]} samples but t has {n}.")
    return a


def check_masses(masses, d: int):
    """``masses`` as None or a tuple of d finite positive floats (one number for all)."""
    if masses is None:
        return None
    if np.iscomplexobj(masses):
        raise TypeError(f"masses must be real numbers; got {masses!r}.")
    try:
        m = np.asarray(masses, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise TypeError(f"masses must be numbers; got {masses!r}.") from None
    if m.size not in (1, d):
        raise ValueError(
            f"{m.size} masses for {d} coordinate(s); give one mass, or one per coordinate."
        )
    if not (np.isfinite(m).all() and (m > 0).all()):
        raise ValueError(f"masses must be finite and > 0; got {m.tolist()}.")
    return tuple(float(x) for x in np.broadcast_to(m, (d,)))


def step_of(steps: np.ndarray, rtol: float) -> float:
    """The sampling step of a series with gaps: the median of the smallest
    frequent step, not the median of all steps.

    Steps are grouped within ``rtol``; the smallest group holding at least a
    fifth of the steps gives h. Data missing every third sample (steps h, 2h,
    h, 2h, ...) then have h, not 1.5h; regular data with a few gaps have the
    median of their regular steps.
    """
    s = np.sort(steps[steps > 0])
    if s.size == 0:
        return float(np.median(steps))
    hi = np.searchsorted(s, s * (1 + 2 * rtol), side="right")
    counts = hi - np.arange(s.size)
    frequent = np.flatnonzero(counts >= max(1, 0.2 * s.size))
    if frequent.size == 0:
        return float(np.median(s))
    i = int(frequent[0])
    return float(np.median(s[i : hi[i]]))


def _in_order_of_appearance(keys: np.ndarray) -> np.ndarray:
    """Integer ids 0, 1, ... of ``keys``, numbered in order of first appearance."""
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return np.argsort(np.argsort(first))[inverse.reshape(-1)]


def _restarts(t: np.ndarray, ids: np.ndarray, min_points: int, stacklevel: int) -> np.ndarray:
    """Ids that split runs written one after another where time goes back.

    Two runs concatenated without a run column restart their clocks: sorted by
    time they would interleave. Where every stretch between the steps back is a
    usable piece, each stretch becomes a run of its own; otherwise the rows are
    only out of order and are sorted. Either way a SamplingWarning says so.
    """
    by_id = np.argsort(ids, kind="stable")  # file order within each id
    back = np.zeros(t.size, dtype=bool)
    same = ids[by_id][1:] == ids[by_id][:-1]
    back[by_id[1:]] = same & (np.diff(t[by_id]) < 0)
    n_back = int(back.sum())
    if n_back == 0:
        return ids
    first = int(np.flatnonzero(back)[0])
    seg = np.zeros(t.size, dtype=np.int64)
    seg[by_id] = np.cumsum(back[by_id])  # the stretch a sample is in (unique with its id)
    new = _in_order_of_appearance(ids * (n_back + 1) + seg)
    sizes = np.bincount(new)
    if sizes.min() >= min_points:
        warnings.warn(
            f"time goes back at {n_back} place(s) (first at sample {first}: t = {t[first]:.10g}); "
            f"read as {sizes.size} runs one after another. Give a trajectory column to say "
            "which samples belong together.",
            SamplingWarning,
            stacklevel=stacklevel,
        )
        return new
    warnings.warn(
        f"the samples are not in time order (time goes back at {n_back} place(s), first at "
        f"sample {first}); they were sorted by time. If the file holds several runs, give a "
        "trajectory column.",
        SamplingWarning,
        stacklevel=stacklevel,
    )
    return ids


def from_samples(
    build,
    t,
    q,
    p=None,
    *,
    trajectory=None,
    masses=None,
    names=None,
    rtol: float = 0.01,
    min_points: int = 3,
    max_gap: int | None = None,
    trajectory_names=None,
):
    """The pieces of measured samples, built by ``build`` (the Trajectories class).

    See :meth:`symhamil.Trajectories.from_samples`, which passes itself as
    ``build``: this module sits below the Trajectories value and never imports
    it. The stages: check the columns, order the samples (runs, restarts,
    duplicates, non-finite values), find h and cut into regular pieces
    (bridging short gaps), lay the pieces on a grid, report.
    """
    args = dict(trajectory=trajectory, masses=masses, names=names, rtol=rtol,
                min_points=min_points, trajectory_names=trajectory_names)  # fmt: skip
    if max_gap is not None:
        return _one_pass(build, t, q, p, max_gap=max_gap, **args)
    # Bridge gaps shorter than GAP_FRACTION of the motion's time scale (at least
    # MIN_GAP samples): the time scale needs pieces first, so a first pass
    # bridges MIN_GAP, and a second one as much as the data allow. Fewer cuts
    # keep the shooting segments whole (T1, 10% of samples lost at random, 1%
    # noise: cutting at gaps of 3 doubled the error; bridging them left it
    # within 5%).
    first = _one_pass(build, t, q, p, max_gap=MIN_GAP, **args)
    noise = noise_level(first) if int(first.sizes.max()) > ORDER else None
    wide = int(GAP_FRACTION * time_scale(first, noise) / first.h)
    if wide <= MIN_GAP or first.sampling.cuts == ():
        return first
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)  # the first pass said it
        return _one_pass(build, t, q, p, max_gap=wide, **args)


#: Frames between a warning raised in :func:`_one_pass` and the user's call
#: (_one_pass, from_samples, Trajectories.from_samples).
_USER = 4


def _one_pass(
    build, t, q, p, *, trajectory, masses, names, rtol, min_points, max_gap, trajectory_names
):
    """One pass of :func:`from_samples` with a given ``max_gap``."""
    t, q, p, ids = _checked_columns(t, q, p, trajectory, rtol, min_points, max_gap)
    n, d = q.shape
    masses = check_masses(masses, d)
    labels = None
    if trajectory_names is not None:
        labels = [str(x) for x in trajectory_names]
    elif trajectory is not None:  # the runs' own names, for messages
        raw = np.asarray(trajectory)
        labels = [raw[i].item() for i in np.sort(np.unique(raw, return_index=True)[1])]
    order, dropped_nonfinite, dropped_duplicates = _ordered(t, q, p, ids, min_points)
    ts, gid = t[order], ids[order]
    if labels is not None and len(np.unique(gid)) != len(labels):
        labels = None  # runs were split where their clocks restart
    h, kept, cuts, dropped_short, rounding = _regular_pieces(
        ts, gid, rtol, min_points, max_gap, labels
    )
    # Grid index of every kept sample within its piece.
    grid = [np.rint((ts[a:b] - ts[a]) / h).astype(np.int64) for a, b in kept]
    lengths = np.array([int(k[-1]) + 1 for k in grid], dtype=np.int64)
    width = int(lengths.max())
    observed = np.zeros((len(kept), width), dtype=bool)
    for r, k in enumerate(grid):
        observed[r, k] = True
    # Each piece's clock: the straight line through its stamps against their
    # frame numbers (t0 its value at the first frame), and the stamps' distance
    # from it.
    lines = [float(np.mean(ts[a:b] - h * k)) for (a, b), k in zip(kept, grid, strict=True)]
    t0 = np.array(lines)
    jitter = max(
        float(np.max(np.abs(ts[a:b] - (c + h * k))))
        for (a, b), k, c in zip(kept, grid, lines, strict=True)
    )
    qs = _on_grid(q[order], kept, grid, width)
    ps = None if p is None else _on_grid(p[order], kept, grid, width)
    ratio = None
    if ps is not None:
        m = np.ones(d) if masses is None else np.asarray(masses, dtype=float)
        # The noise of q from windows of measured samples only (pieces too
        # short for a window leave it to velocity_ratio).
        sigma = None
        if qs.shape[1] > ORDER:
            measured = np.lib.stride_tricks.sliding_window_view(observed, ORDER + 1, axis=1)
            windows = measured.all(axis=-1) & inside(lengths - ORDER, qs.shape[1] - ORDER)
            sixth = np.diff(qs, n=ORDER, axis=1)[windows]
            sigma = sigma_from_differences(sixth) if len(sixth) else None
        ratio = velocity_ratio(qs, ps / m, lengths, h, sigma)
    report = SamplingReport(
        samples=n,
        used=int(observed.sum()),
        h=h,
        pieces=len(kept),
        cuts=cuts,
        dropped_nonfinite=dropped_nonfinite,
        dropped_duplicates=dropped_duplicates,
        dropped_short=dropped_short,
        jitter=jitter / h,
        velocity_ratio=ratio,
        filled=int(lengths.sum() - observed.sum()),
        rounding=rounding,
        t_first=float(ts[0]),
    )
    if ratio is not None and max(abs(v - 1) for v in ratio) > VELOCITY_MISMATCH:
        m = np.ones(d) if masses is None else np.asarray(masses, dtype=float)
        warnings.warn(
            f"the measured momenta disagree with the positions: p / (m dq/dt) = "
            f"{', '.join(f'{v:.3f}' for v in ratio)} (1 if they agree). "
            f"{scale_offer(ratio, m)}, or learn from positions only (p=None).",
            SamplingWarning,
            stacklevel=_USER,
        )
    return build(
        q=qs,
        p=ps,
        h=h,
        names=names,
        t0=t0 if len(kept) > 1 else float(t0[0]),
        lengths=lengths,
        masses=masses,
        sampling=report,
        observed=None if observed[inside(lengths, width)].all() else observed,
    )


def _checked_columns(t, q, p, trajectory, rtol, min_points, max_gap):
    """The columns as arrays, the settings checked, and each sample's run id."""
    t = _column("t", t, None, allow_2d=False)
    n = t.shape[0]
    q = _column("q", q, n)
    d = q.shape[1]
    if p is not None:
        p = _column("p", p, n)
        if p.shape[1] != d:
            raise ValueError(f"p has {p.shape[1]} components per sample but q has {d}.")
    if not (isinstance(rtol, int | float) and 0 < rtol < 0.5):
        raise ValueError(f"rtol must be a number in (0, 0.5); got {rtol!r}.")
    if isinstance(min_points, bool) or int(min_points) != min_points or min_points < 2:
        raise ValueError(f"min_points must be a whole number >= 2; got {min_points!r}.")
    if isinstance(max_gap, bool) or int(max_gap) != max_gap or max_gap < 0:
        raise ValueError(f"max_gap must be a whole number >= 0; got {max_gap!r}.")
    ids = np.zeros(n, dtype=np.int64)
    if trajectory is not None:
        raw = np.asarray(trajectory)
        if raw.shape != (n,):
            raise ValueError(
                f"trajectory must give one id per sample, shape ({n},); got {raw.shape}."
            )
        ids = _in_order_of_appearance(raw)
    return t, q, p, ids


def _ordered(t, q, p, ids, min_points):
    """The usable samples in (run, time) order: (order, dropped non-finite,
    dropped duplicates). Runs that restart their clocks get ids of their own."""
    n = t.shape[0]
    finite = np.isfinite(t) & np.isfinite(q).all(axis=1)
    if p is not None:
        finite &= np.isfinite(p).all(axis=1)
    if finite.any():
        ids[finite] = _restarts(t[finite], ids[finite], min_points, stacklevel=_USER + 2)
    dropped_nonfinite = int(n - finite.sum())
    # Non-finite samples are gaps: the sample is removed, and the step across it,
    # now about 2h, cuts the piece there.
    keep = np.flatnonzero(finite)
    order = keep[np.lexsort((t[keep], ids[keep]))]
    dup = np.zeros(order.size, dtype=bool)
    dup[1:] = (ids[order][1:] == ids[order][:-1]) & (t[order][1:] == t[order][:-1])
    dropped_duplicates = int(dup.sum())
    if dropped_duplicates:
        # The first sample of a time stamp, in file order, is kept (lexsort is stable).
        kept_of = np.maximum.accumulate(np.where(dup, 0, np.arange(order.size)))
        values = q if p is None else np.concatenate([q, p], axis=1)
        differ = dup & (values[order] != values[order[kept_of]]).any(axis=1)
        if differ.any():
            i = int(order[np.flatnonzero(differ)[0]])
            warnings.warn(
                f"{int(differ.sum())} repeated time stamp(s) carry other values than the "
                f"first sample at that time (first at sample {i}, t = {t[i]:.10g}); the first "
                "one in file order was kept. Several runs? Give a trajectory column.",
                SamplingWarning,
                stacklevel=_USER + 1,
            )
    order = order[~dup]
    if order.size < 2:
        raise ValueError(
            f"only {order.size} usable sample(s) of {n} (finite values, distinct times); "
            "a trajectory needs at least 2."
        )
    return order, dropped_nonfinite, dropped_duplicates


#: Stamps that are all multiples of a decimal at most this share of h, while
#: their steps vary by that decimal, were rounded to it (a camera's
#: milliseconds at 30 frames per second: 0.03 h).
ROUNDING_SHARE = 0.25


def rounding_of(ts: np.ndarray, steps: np.ndarray, h: float) -> float:
    """The decimal the stamps ``ts`` were rounded to, or 0 when they were not.

    The coarsest power of ten at most ROUNDING_SHARE h that divides every stamp,
    if the steps near h spread by about it (an exact grid divides by small
    decimals too, but its steps are all equal; steps spread by many quanta are
    irregular, not rounded).
    """
    near = steps[np.abs(steps - h) < 0.5 * h]
    if near.size < 2 or not np.isfinite(ts).all():
        return 0.0
    top = float(np.max(np.abs(ts))) or 1.0
    for e in range(int(np.floor(np.log10(ROUNDING_SHARE * h))), -13, -1):
        quantum = 10.0**e
        x = ts / quantum
        if np.max(np.abs(x - np.rint(x))) <= 1e-6 + 4 * np.finfo(float).eps * top / quantum:
            # Rounding moves a step by less than two quanta: steps that spread
            # further are irregular, not rounded.
            spread = float(np.percentile(near, 95) - np.percentile(near, 5))
            return quantum if 0.5 * quantum <= spread <= 2 * quantum else 0.0
    return 0.0


def _clock(ts: np.ndarray, m: np.ndarray, kept) -> float | None:
    """h as the slope of the stamps against their frame numbers (least squares,
    one intercept per piece): rounded or jittery stamps average out, and a clock
    whose median step is rounded (0.033 s for 0.033378 s) does not drift."""
    num = den = 0.0
    for a, b in kept:
        if b - a < 2:
            continue
        k = np.concatenate([[0.0], np.cumsum(m[a : b - 1])])
        k, t = k - k.mean(), ts[a:b] - ts[a:b].mean()
        num, den = num + float(k @ t), den + float(k @ k)
    return num / den if den > 0 else None


def _regular_pieces(ts, gid, rtol, min_points, max_gap, labels=None):
    """h, the regular pieces (start, stop) of at least ``min_points`` samples, the
    cuts (time, step), the samples dropped in shorter pieces, and the stamps'
    rounding.

    A step of m h (m = 2 .. max_gap + 1) is a gap of m - 1 missing samples: it
    is bridged, the missing samples filled and flagged; any other irregular step
    cuts the data. Steps match within rtol h, plus the stamps' rounding. h starts
    as the median step and is then the clock's slope through the pieces.
    """
    steps = np.diff(ts)
    same = gid[1:] == gid[:-1]
    if not same.any():
        raise ValueError("every trajectory id has a single sample; nothing to difference.")
    h = step_of(steps[same], rtol)
    rounding = rounding_of(ts, steps[same], h)
    _one_clock(steps, gid, same, h, rtol * h + rounding, labels)
    for _ in range(2):  # from the median step, then from the clock's slope
        slack = rtol * h + rounding
        m = np.rint(steps / h)
        bridged = same & (m >= 2) & (m <= max_gap + 1) & (np.abs(steps - m * h) <= slack)
        regular = same & ((np.abs(steps - h) <= slack) | bridged)
        cut_at = np.flatnonzero(~regular)
        bounds = np.concatenate([[0], cut_at + 1, [ts.size]])
        pieces = list(itertools.pairwise(bounds))
        kept = [(a, b) for a, b in pieces if b - a >= min_points]
        fitted = _clock(ts, np.where(regular, m, 1.0), kept)
        if fitted is None or abs(fitted - h) <= 1e-12 * h:
            break
        h = fitted
    cuts = tuple((float(ts[i + 1]), float(steps[i])) for i in cut_at if same[i])
    dropped_short = int(sum(b - a for a, b in pieces if b - a < min_points))
    if not kept:
        longest = max(b - a for a, b in pieces)
        raise ValueError(
            f"no regular piece has {min_points} samples (the longest has {longest}); the "
            f"steps vary by more than rtol = {rtol} of h = {h:.6g}. Raise rtol or resample "
            "the data onto a regular grid."
        )
    return h, kept, cuts, dropped_short, rounding


def _one_clock(steps, gid, same, h, slack, labels) -> None:
    """Refuse, by name, a trajectory sampled at a step that is not a whole
    multiple of the others' (planets at 8 and 12 days in one file): its steps
    would all be irregular, and it would be dropped without a word."""
    runs = np.unique(gid[1:][same])
    if runs.size < 2:
        return
    for g in runs:
        own = steps[same & (gid[1:] == g)]
        if own.size < 2:
            continue
        hg = step_of(own, slack / h)
        n = np.rint(hg / h)
        if n < 1 or abs(hg - n * h) > n * slack:
            name = repr(labels[g]) if labels is not None and g < len(labels) else f"run {g}"
            raise ValueError(
                f"trajectory {name} has step {hg:.6g}, the others {h:.6g}: symhamil learns "
                "from one step for all trajectories. Read it separately, or resample it to "
                "the step of the others."
            )


def _on_grid(x, kept, grid, width) -> np.ndarray:
    """Samples in order (n, d) -> pieces on the grid (R, width, d), NaN past each end.

    Missing samples are filled by linear interpolation in time: the trapezoid
    rule of the weak form over them is then the trapezoid rule over the samples
    that exist; likelihoods and pairs skip them.
    """
    d = x.shape[1]
    out = np.full((len(kept), width, d), np.nan)
    for r, ((a, b), k) in enumerate(zip(kept, grid, strict=True)):
        vals = x[a:b]
        full = np.arange(int(k[-1]) + 1)
        out[r, : full.size] = np.stack([np.interp(full, k, vals[:, j]) for j in range(d)], axis=1)
    return out


def scale_offer(ratio, masses) -> str:
    """What would make measured momenta agree with the positions: the masses
    scaled by the measured p / (m dq/dt), or the momenta divided by it."""
    fitted = ", ".join(f"{r * m:.4g}" for r, m in zip(ratio, masses, strict=True))
    divide = ", ".join(f"{r:.4g}" for r in ratio)
    return (
        f"Masses of {fitted} would make them agree (p = m dq/dt with the masses the data "
        f"imply), as would momenta divided by {divide} (a velocity column on another "
        "scale); check the masses and the units"
    )


def momentum_ratio(traj) -> tuple[float, ...] | None:
    """p / (m dq/dt) of ``traj`` per coordinate (:func:`velocity_ratio`, with the
    noise of q from measured samples only), estimated once per Trajectories
    value; None without momenta or with too few samples to tell."""
    if not traj.has_momenta or int(traj.sizes.max()) <= ORDER:
        return None
    cache = _cache(traj)
    if "velocity ratio" not in cache:
        cache["velocity ratio"] = velocity_ratio(
            traj.q, traj.p / traj.mass_array, traj.sizes, traj.h, noise_level(traj).q
        )
    return cache["velocity ratio"]


def velocity_ratio(q, v, lengths, h, sigma=None) -> tuple[float, ...] | None:
    """Least-squares c in int v dt = c (q(t + kh) - q(t)), per coordinate: how
    the measured velocities ``v`` (R, N+1, d) compare with the positions'
    motion (1 if they agree); None when the noise of q swamps the displacements.

    Windows of k steps, a quarter of the time scale spread(q) / spread(v):
    integrals over them average the noise of v, and displacements over them
    stand well above the noise of q. The noise variance of the displacements
    (2 sigma_q^2, sigma_q from sixth differences) is taken out of the
    denominator, so noise in q does not pull c towards 0 (errors in variables).
    ``sigma`` (d,): the noise of q when known (from measured samples only: the
    sixth differences here would run over samples filled in across gaps, whose
    interpolation hides noise, and read 5% noise with 10% of the samples
    missing as p / (m dq/dt) = 0.967).
    """
    d = q.shape[2]
    inside = np.arange(q.shape[1])[None, :] < lengths[:, None]
    s_q, s_v = q[inside].std(axis=0), v[inside].std(axis=0)
    ok = (s_v > 0) & (s_q > 0)
    tau = float(np.median(s_q[ok] / s_v[ok])) if ok.any() else 10 * h
    # Simpson's rule over an even number of steps: the trapezoid's O(h^2) bias
    # is 2% at h / tau = 0.5 (exact orbits read as momenta 2% off scale).
    k0 = max(2, 2 * round(0.125 * tau / h))
    if sigma is None:
        sixth = np.diff(q, n=ORDER, axis=1)[
            np.arange(q.shape[1] - ORDER)[None, :] < (lengths - ORDER)[:, None]
        ]
        sigma = sigma_from_differences(sixth)
    num, den, count = np.zeros(d), np.zeros(d), 0
    for r, n in enumerate(lengths):
        n = int(n)
        k = min(k0, (n - 1) // 2 * 2)
        if k < 2:
            continue
        s = np.arange(0, n - k, k)
        weights = np.ones(k + 1)
        weights[1:-1:2], weights[2:-1:2] = 4.0, 2.0
        weights *= h / 3
        dq = q[r, s + k] - q[r, s]
        iv = sum(c * v[r, s + j] for j, c in enumerate(weights))
        num += np.sum(iv * dq, axis=0)
        den += np.sum(dq * dq, axis=0)
        count += s.size
    den = den - count * 2 * sigma**2
    if not (den > 0).all():
        return None
    return tuple(float(x) for x in num / den)
