"""Sampled trajectories: a frozen value holding q and p on an equispaced time grid."""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import sympy as sp

from ._io import write_npz
from .parsing import check_name

if TYPE_CHECKING:
    from .system import System

__all__ = ["Trajectories", "energy_error", "load_radial"]


def _frozen(a: np.ndarray) -> bool:
    """True when neither ``a`` nor any array it is a view of can be written."""
    while a is not None:
        if not isinstance(a, np.ndarray) or a.flags.writeable:
            return False
        a = a.base
    return True


def _check_array(name: str, a, where: str) -> np.ndarray:
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
    a = a.astype(np.float64, copy=not _frozen(a))
    bad = ~np.isfinite(a)
    if bad.any():
        r, n, k = np.argwhere(bad)[0]
        raise ValueError(
            f"{where}{name} has {int(bad.sum())} non-finite value(s) (NaN or inf); "
            f"the first at trajectory {r}, point {n}, component {k}. Drop or "
            "repair those trajectories first."
        )
    return a


def energy_error(system: System, q: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Relative energy error of each trajectory.

    max_n |E_n - E_0| / max(|E_0|, mean_n T_n): relative to the initial energy, or
    to the mean kinetic energy where E_0 is near zero (a trajectory can have
    E_0 = 0 and still move), so the number stays meaningful in both cases.

    Parameters
    ----------
    q, p : ndarray, shape (R, N+1, d)

    Returns
    -------
    ndarray, shape (R,)
    """
    T = system.kinetic(p)
    E = T + system.potential(q)
    # A trajectory at rest at a minimum has E_0 = T = 0 and only rounding in E:
    # a floor of 1e-10 of the energy's size keeps that from reading as an error.
    floor = 1e-10 * (1.0 + np.abs(E).max(axis=1))
    scale = np.maximum(np.maximum(np.abs(E[:, 0]), T.mean(axis=1)), floor)
    return np.max(np.abs(E - E[:, :1]), axis=1) / scale


@dataclass(frozen=True, eq=False)
class Trajectories:
    """R trajectories of a d-dimensional system sampled at N+1 times spaced h.

    Parameters
    ----------
    q, p : array_like, shape (R, N+1, d)
        Positions and momenta; stored as read-only float64.
    h : float
        Time step between samples, > 0.
    names : sequence of str, length d, optional
        Coordinate names; ``q0, q1, ...`` by default (``q`` when d = 1).
    energy_error : ndarray, shape (R,), optional
        Relative energy error of each trajectory, set by :func:`~symhamil.simulate`.
    t0 : float
        Time of the first sample.

    Examples
    --------
    >>> import numpy as np
    >>> tr = Trajectories(q=np.zeros((2, 5, 1)), p=np.ones((2, 5, 1)), h=0.1)
    >>> tr.R, tr.N, tr.dim, float(tr.t[-1])
    (2, 4, 1, 0.4)
    """

    q: np.ndarray
    p: np.ndarray
    h: float
    names: tuple[str, ...] | None = None
    energy_error: np.ndarray | None = None
    t0: float = 0.0

    def __post_init__(self) -> None:
        q = _check_array("q", self.q, "")
        p = _check_array("p", self.p, "")
        if q.shape != p.shape:
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
        try:
            h = float(self.h)
        except (TypeError, ValueError):
            raise TypeError(f"h must be a number; got {self.h!r}.") from None
        if not (np.isfinite(h) and h > 0):
            raise ValueError(f"the time step h must be finite and > 0; got {h}.")
        d = q.shape[2]
        names = (
            (("q",) if d == 1 else tuple(f"q{i}" for i in range(d)))
            if self.names is None
            else tuple(str(n) for n in self.names)
        )
        if len(names) != d:
            raise ValueError(f"got {len(names)} coordinate names for dimension {d}.")
        for n in names:
            check_name(n, "coordinate")
        if len(set(names)) != d:
            raise ValueError(f"the coordinate names {names} repeat a name.")
        try:
            t0 = float(self.t0)
        except (TypeError, ValueError):
            raise TypeError(f"t0 must be a number; got {self.t0!r}.") from None
        if not np.isfinite(t0):
            raise ValueError(f"the start time t0 must be finite; got {t0}.")
        err = self.energy_error
        if err is not None:
            err = np.asarray(err, dtype=float).reshape(-1)
            if err.shape != (q.shape[0],):
                raise ValueError(
                    f"energy_error must have shape (R,) = ({q.shape[0]},); got {err.shape}."
                )
        for name, a in (("q", q), ("p", p), ("energy_error", err)):
            if a is not None:
                a = a.view()
                a.flags.writeable = False
            object.__setattr__(self, name, a)
        object.__setattr__(self, "h", h)
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "t0", t0)

    # ------------------------------------------------------------------ shape
    @property
    def R(self) -> int:
        """Number of trajectories."""
        return self.q.shape[0]

    @property
    def N(self) -> int:
        """Number of steps; each trajectory has N + 1 points."""
        return self.q.shape[1] - 1

    @property
    def dim(self) -> int:
        """Dimension d of q (and p)."""
        return self.q.shape[2]

    @property
    def t(self) -> np.ndarray:
        """Sample times, shape (N+1,)."""
        return self.t0 + self.h * np.arange(self.N + 1)

    @property
    def coords(self) -> tuple[sp.Symbol, ...]:
        """The coordinate names as SymPy symbols."""
        return tuple(sp.Symbol(n) for n in self.names)

    def __repr__(self) -> str:
        return (
            f"Trajectories(R={self.R}, N+1={self.N + 1}, d={self.dim}, h={self.h}, "
            f"names={self.names})"
        )

    def _replace(self, q, p, *, energy_error=None, t0=None) -> Trajectories:
        return Trajectories(
            q=q,
            p=p,
            h=self.h,
            names=self.names,
            energy_error=energy_error,
            t0=self.t0 if t0 is None else t0,
        )

    # ------------------------------------------------------------------ physics
    def _check_system(self, system: System) -> None:
        if system.dim != self.dim:
            raise ValueError(
                f"system has dimension {system.dim} but the trajectories have "
                f"dimension {self.dim}."
            )

    def energy(self, system: System) -> np.ndarray:
        """Energy of every sample under ``system``, shape (R, N+1)."""
        self._check_system(system)
        return system.energy(self.q, self.p)

    def relative_energy_error(self, system: System) -> np.ndarray:
        """Each trajectory's relative energy error, shape (R,); see :func:`energy_error`."""
        self._check_system(system)
        return energy_error(system, self.q, self.p)

    # ------------------------------------------------------------------ slicing
    def select(self, index) -> Trajectories:
        """Pick trajectories: an int, a slice, an index array or a boolean mask of length R."""
        idx = np.arange(self.R)[index]
        idx = np.atleast_1d(idx)
        if idx.size == 0:
            raise ValueError("this selection keeps no trajectory.")
        err = None if self.energy_error is None else self.energy_error[idx]
        return self._replace(self.q[idx], self.p[idx], energy_error=err)

    __getitem__ = select

    def drop_energy_errors(self, tol: float) -> Trajectories:
        """Keep only the trajectories whose recorded relative energy error is <= ``tol``."""
        if self.energy_error is None:
            raise ValueError(
                "these trajectories carry no energy errors; compute them with "
                "relative_energy_error(system) or simulate them with symhamil."
            )
        keep = self.energy_error <= tol
        if not keep.any():
            raise ValueError(
                f"every trajectory has relative energy error above {tol} (smallest "
                f"{self.energy_error.min():.3g})."
            )
        return self.select(keep)

    def head(self, n: int) -> Trajectories:
        """The first ``n`` points (n >= 2) of every trajectory."""
        return self.points(0, n)

    def points(self, start: int, stop: int) -> Trajectories:
        """Points ``start`` (inclusive) to ``stop`` (exclusive) of every trajectory."""
        start, stop, _ = slice(start, stop).indices(self.N + 1)
        if stop - start < 2:
            raise ValueError(
                f"a slice of trajectories needs at least 2 points; points "
                f"[{start}, {stop}) of {self.N + 1} give {max(stop - start, 0)}."
            )
        return self._replace(
            self.q[:, start:stop],
            self.p[:, start:stop],
            energy_error=self.energy_error,
            t0=self.t0 + start * self.h,
        )

    def windows(self, n: int, step: int | None = None) -> tuple[Trajectories, ...]:
        """Consecutive windows of ``n`` points, as the paper trains on them.

        Window k holds points ``k*step .. k*step + n - 1``. With the default
        ``step = n`` (the paper's "first 100 points, then the next 100") the pair of
        points across a window boundary belongs to no window; ``step = n - 1`` makes
        consecutive windows share one point so that every (i, i+1) pair is in
        exactly one window. A last, incomplete window is dropped.
        """
        step = n if step is None else int(step)
        if n < 2 or n > self.N + 1:
            raise ValueError(f"window length must be between 2 and N+1 = {self.N + 1}; got {n}.")
        if step < 1:
            raise ValueError(f"window step must be >= 1; got {step}.")
        return tuple(self.points(s, s + n) for s in range(0, self.N + 2 - n, step))

    def split(
        self, n_train: int | float, shuffle: bool = False, seed: int | None = None
    ) -> tuple[Trajectories, Trajectories]:
        """Split by trajectory into (train, test).

        ``n_train`` is a count of trajectories, or a fraction in (0, 1). With
        ``shuffle`` the trajectories are permuted by ``numpy.random.default_rng(seed)``.
        """
        k = round(n_train * self.R) if isinstance(n_train, float) else int(n_train)
        if not 1 <= k < self.R:
            raise ValueError(
                f"a split needs at least one trajectory on each side; n_train="
                f"{n_train} gives {k} of {self.R}."
            )
        order = np.random.default_rng(seed).permutation(self.R) if shuffle else np.arange(self.R)
        return self.select(order[:k]), self.select(order[k:])

    def concatenate(self, other: Trajectories) -> Trajectories:
        """These trajectories and ``other`` (same h, N and d) as one set."""
        if (other.h, other.N, other.dim) != (self.h, self.N, self.dim):
            raise ValueError(
                "only trajectories with the same h, N and d can be joined; got "
                f"{(self.h, self.N, self.dim)} and {(other.h, other.N, other.dim)}."
            )
        errs = None
        if self.energy_error is not None and other.energy_error is not None:
            errs = np.concatenate([self.energy_error, other.energy_error])
        return self._replace(
            np.concatenate([self.q, other.q]), np.concatenate([self.p, other.p]), energy_error=errs
        )

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike) -> None:
        """Write to exactly ``path`` (no suffix added), atomically, as ``.npz`` with arrays
        q, p, h, names, t0 (and energy_error); folders are created as needed."""
        arrays = {
            "q": self.q,
            "p": self.p,
            "h": np.float64(self.h),
            "names": np.array(self.names),
            "t0": np.float64(self.t0),
        }
        if self.energy_error is not None:
            arrays["energy_error"] = self.energy_error
        write_npz(path, **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Trajectories:
        """Read trajectories written by :meth:`save` (or any ``.npz`` with q, p, h).

        Checks that the arrays are there with shape (R, N+1, d), real and finite,
        and that h > 0; the error names the file and what is wrong.
        """
        where = f"{os.fspath(path)}: "
        data = _open_npz(path, where, "q, p and h")
        try:
            with data:
                q, p, h, names, err, t0 = _read_members(data, where)
        except (OSError, EOFError, KeyError, zipfile.BadZipFile, TypeError) as exc:
            raise ValueError(f"{where}a damaged or unexpected member ({exc}).") from None
        except ValueError as exc:
            msg = str(exc)
            raise ValueError(msg if msg.startswith(where) else f"{where}{msg}") from None
        try:
            return cls(
                q=_check_array("q", q, where),
                p=_check_array("p", p, where),
                h=float(h.reshape(())),
                names=names,
                energy_error=err,
                t0=t0,
            )
        except (ValueError, TypeError) as exc:
            msg = str(exc)
            raise type(exc)(msg if msg.startswith(where) else where + msg) from None


def _open_npz(path, where: str, arrays: str):
    """An open ``.npz`` (no pickles), or an error that names the file."""
    try:
        data = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise FileNotFoundError(f"{where}no such file.") from None
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{where}not a readable .npz file ({exc}).") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError(f"{where}is a single array (.npy), not an .npz with {arrays}.")
    return data


def _read_members(data, where: str):
    keys = set(data.files)
    if {"r", "rdot"} <= keys and "q" not in keys:
        raise ValueError(
            f"{where}holds radial arrays r and rdot, not q and p; load it "
            "with symhamil.load_radial."
        )
    missing = {"q", "p", "h"} - keys
    if missing:
        raise ValueError(
            f"{where}missing array(s) {', '.join(sorted(missing))}; a "
            f"trajectory file needs q, p (R, N+1, d) and h. It has "
            f"{', '.join(sorted(keys)) or 'nothing'}."
        )
    h = data["h"]
    if h.size != 1:
        raise ValueError(f"{where}h must be a single number; got shape {h.shape}.")
    q, p = data["q"], data["p"]
    names = tuple(str(n) for n in data["names"].reshape(-1)) if "names" in keys else None
    err = data["energy_error"] if "energy_error" in keys else None
    t0 = 0.0
    if "t0" in keys:
        t0_arr = data["t0"]
        if t0_arr.size != 1 or t0_arr.dtype.kind not in "fiu":
            raise ValueError(
                f"{where}t0 must be a single number; got {t0_arr.shape} {t0_arr.dtype}."
            )
        t0 = float(t0_arr.reshape(()))
    if h.dtype.kind not in "fiu":
        raise ValueError(f"{where}h must be a number; got dtype {h.dtype}.")
    return q, p, h, names, err, t0


def load_radial(path: str | os.PathLike) -> Trajectories:
    """Load radial trajectories stored as arrays ``r``, ``rdot`` (R, N+1) and ``h``.

    This is the format of the paper author's central-force data. The result is a
    one-dimensional :class:`Trajectories` with coordinate ``r`` and momentum
    ``dr/dt`` (unit mass).

    Returns
    -------
    Trajectories
        q = r[..., None], p = rdot[..., None], shape (R, N+1, 1), names ("r",).
    """
    where = f"{os.fspath(path)}: "
    data = _open_npz(path, where, "r, rdot and h")
    with data:
        missing = {"r", "rdot", "h"} - set(data.files)
        if missing:
            raise ValueError(
                f"{where}missing array(s) {', '.join(sorted(missing))}; a radial "
                "file needs r, rdot of shape (R, N+1) and h."
            )
        try:
            r, rdot, h = data["r"], data["rdot"], data["h"]
        except (OSError, EOFError, ValueError, zipfile.BadZipFile) as exc:
            raise ValueError(f"{where}a damaged member ({exc}).") from None
    if r.ndim == 1:
        r, rdot = r[None], rdot[None]
    if r.ndim != 2 or r.shape != rdot.shape:
        raise ValueError(
            f"{where}r and rdot must both have shape (R, N+1); got {r.shape} and {rdot.shape}."
        )
    if np.any(np.asarray(r) <= 0):
        raise ValueError(f"{where}r must be positive (it is a distance).")
    if h.size != 1 or h.dtype.kind not in "fiu":
        raise ValueError(f"{where}h must be a single number; got {h.shape} {h.dtype}.")
    try:
        return Trajectories(
            q=_check_array("r", r[..., None], where),
            p=_check_array("rdot", rdot[..., None], where),
            h=float(np.reshape(h, ())),
            names=("r",),
        )
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        raise type(exc)(msg if msg.startswith(where) else where + msg) from None
