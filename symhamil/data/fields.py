"""The checks of each field of :class:`~symhamil.Trajectories`, written once.

Each function takes what a user passed and returns the validated value (a
private float64 copy for arrays, unless already frozen all the way down), or
raises an error that says what is wrong and what to do. The value's
``__post_init__`` calls them in order; the file reader (:mod:`.npz`) uses them
too, so a file and a constructor are held to the same rules.
"""

from __future__ import annotations

import numpy as np

from ..base.checks import whole_number
from ..base.parsing import check_name
from .samples import inside as _valid

__all__ = [
    "check_array",
    "check_box",
    "check_energy_error",
    "check_h",
    "check_lengths",
    "check_masses",
    "check_names",
    "check_observed",
    "check_particles",
    "check_shapes",
    "check_t0",
]


def _frozen(a: np.ndarray) -> bool:
    """True when neither ``a`` nor any array it is a view of can be written."""
    while a is not None:
        if not isinstance(a, np.ndarray) or a.flags.writeable:
            return False
        a = a.base
    return True


def check_array(name: str, a, where: str, lengths: np.ndarray | None = None) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype.kind not in "fiu":
        raise TypeError(f"{where}{name} must hold real numbers; got dtype {a.dtype}.")
    if a.ndim != 3:
        raise ValueError(
            f"{where}{name} must have shape (R, N+1, d) = (trajectories, time "
            f"points, dimension); got shape {a.shape}. Use a[None] for one "
            "trajectory, a[..., None] for a 1-D system."
        )
    # A private copy unless ``a`` is already frozen all the way down (a slice of
    # another Trajectories' arrays): a caller must not be able to write NaN into
    # data that were validated.
    padded = lengths is not None and bool(np.any(lengths < a.shape[1]))
    a = a.astype(np.float64, copy=padded or not _frozen(a))
    valid = None if not padded else _valid(lengths, a.shape[1])
    bad = ~np.isfinite(a) if valid is None else ~np.isfinite(a) & valid[..., None]
    if bad.any():
        r, n, k = np.argwhere(bad)[0]
        raise ValueError(
            f"{where}{name} has {int(bad.sum())} non-finite value(s) (NaN or inf); "
            f"the first at trajectory {r}, point {n}, component {k}. Drop or "
            "repair those samples first (Trajectories.from_samples splits at gaps)."
        )
    if padded:
        # Padding repeats each piece's last sample: finite, so elementwise code
        # runs, and every consumer masks it out with ``valid``.
        last = a[np.arange(a.shape[0]), lengths - 1]
        a = np.where(valid[..., None], a, last[:, None, :])
    return a


def check_lengths(lengths, q: np.ndarray) -> np.ndarray | None:
    """Lengths of ragged pieces, one whole number per trajectory; None when all are full."""
    if lengths is None:
        return None
    n = np.asarray(lengths)
    if n.dtype.kind not in "iu" or n.ndim != 1 or q.ndim != 3 or n.shape != q.shape[:1]:
        raise ValueError(
            f"lengths must be one whole number per trajectory, shape ({q.shape[0]},); "
            f"got {n.dtype} of shape {n.shape}."
        )
    if n.size and (n.min() < 2 or n.max() > q.shape[1]):
        raise ValueError(
            f"each length must be between 2 and N+1 = {q.shape[1]}; got "
            f"{int(n.min())} to {int(n.max())}."
        )
    return None if bool(np.all(n == q.shape[1])) else n.astype(np.int64)


def check_shapes(q: np.ndarray, p: np.ndarray | None) -> None:
    """q and p alike, at least one trajectory of two points in one dimension."""
    if p is not None and q.shape != p.shape:
        raise ValueError(
            f"q and p must have the same shape (R, N+1, d); got q {q.shape} and p {p.shape}."
        )
    if q.shape[0] < 1:
        raise ValueError("Trajectories need at least one trajectory (R >= 1).")
    if q.shape[1] < 2:
        raise ValueError(
            f"each trajectory needs at least two time points to form a "
            f"difference (p[i+1] - p[i])/h; got {q.shape[1]}."
        )
    if q.shape[2] < 1:
        raise ValueError("the dimension d must be at least 1.")


def check_h(h) -> float:
    """The time step: one finite number > 0."""
    try:
        h = float(h)
    except (TypeError, ValueError):
        raise TypeError(
            "h must be one number, the time step; for time stamps that are not "
            "evenly spaced use Trajectories.from_samples(t, q, p)."
        ) from None
    if not (np.isfinite(h) and h > 0):
        raise ValueError(f"the time step h must be finite and > 0; got {h}.")
    return h


def check_names(names, d: int) -> tuple[str, ...]:
    """d distinct coordinate names (q, or q0, q1, ... by default)."""
    names = (
        (("q",) if d == 1 else tuple(f"q{i}" for i in range(d)))
        if names is None
        else tuple(str(n) for n in names)
    )
    if len(names) != d:
        raise ValueError(f"got {len(names)} coordinate names for dimension {d}.")
    for n in names:
        check_name(n, "coordinate")
    if len(set(names)) != d:
        raise ValueError(f"the coordinate names {names} repeat a name.")
    return names


def check_t0(t0, R: int) -> float | np.ndarray:
    """The start time: one finite number, or one per trajectory."""
    if not _numeric(t0):
        raise TypeError(f"t0 must be a number; got {type(t0).__name__}.")
    t0 = np.asarray(t0, dtype=float)
    if t0.ndim > 1 or (t0.ndim == 1 and t0.shape != (R,)):
        raise ValueError(
            f"t0 must be a single number or one per trajectory, shape ({R},); "
            f"got shape {t0.shape}."
        )
    if not np.isfinite(t0).all():
        raise ValueError("the start time t0 must be finite.")
    return float(t0) if t0.ndim == 0 else t0


def check_energy_error(err, R: int) -> np.ndarray | None:
    if err is None:
        return None
    err = np.asarray(err, dtype=float).reshape(-1)
    if err.shape != (R,):
        raise ValueError(f"energy_error must have shape (R,) = ({R},); got {err.shape}.")
    return err


def check_masses(masses, d: int) -> np.ndarray | None:
    if masses is None:
        return None
    masses = np.broadcast_to(np.asarray(masses, dtype=float), (d,)).copy()
    if not (np.isfinite(masses).all() and (masses > 0).all()):
        raise ValueError(f"masses must be finite and > 0; got {masses.tolist()}.")
    return masses


def check_observed(observed, shape: tuple[int, int]) -> np.ndarray | None:
    """Which samples were measured, (R, N+1) booleans; None when all were."""
    if observed is None:
        return None
    observed = np.array(observed, dtype=bool)
    if observed.shape != shape:
        raise ValueError(f"observed must have shape (R, N+1) = {shape}; got {observed.shape}.")
    return None if observed.all() else observed


def check_box(box, d: int) -> np.ndarray | None:
    if box is None:
        return None
    box = np.atleast_1d(np.asarray(box, dtype=float)).copy()
    if box.ndim != 1 or d % box.size or not (np.isfinite(box).all() and (box > 0).all()):
        raise ValueError(
            f"box must be the side lengths of a periodic box, finite and > 0, one per "
            f"spatial axis (d = {d} coordinates must split into particles of that "
            f"many axes); got {box.tolist()}."
        )
    return box


def check_md_steps(steps) -> int | None:
    return None if steps is None else whole_number(steps, "md_steps (MD steps between samples)", 1)


def check_particles(particles, d: int, box: np.ndarray | None) -> int | None:
    if particles is None:
        return None
    if (
        isinstance(particles, bool)
        or not isinstance(particles, int | np.integer)
        or not (1 <= particles and d % particles == 0)
    ):
        raise ValueError(
            f"particles must be a whole number >= 1 that divides the d = {d} "
            f"coordinates (particle-major: x1, y1, z1, x2, ...); got {particles!r}."
        )
    particles = int(particles)
    if box is not None and box.size * particles != d:
        raise ValueError(
            f"{particles} particles with a box of {box.size} sides need "
            f"{particles * box.size} coordinates; the data have {d}."
        )
    return particles


def _numeric(x) -> bool:
    try:
        return np.asarray(x).dtype.kind in "fiu"
    except (TypeError, ValueError):
        return False
