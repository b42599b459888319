"""Sampled trajectories: a frozen value holding q and p on an equispaced time grid."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import sympy as sp

from .fields import (
    check_array,
    check_box,
    check_energy_error,
    check_h,
    check_lengths,
    check_masses,
    check_md_steps,
    check_names,
    check_observed,
    check_particles,
    check_shapes,
    check_t0,
)
from .geometry import Geometry, check_species
from .npz import read_radial, read_trajectories, write_trajectories
from .samples import from_samples
from .samples import inside as _valid

if TYPE_CHECKING:
    from ..systems.system import System

__all__ = ["Trajectories", "energy_error", "load_radial", "momentum_symbols"]

#: A repr names at most this many coordinates (the first and last halves).
REPR_NAMES = 12


def momentum_symbols(coords) -> tuple[sp.Symbol, ...]:
    """The momentum conjugate to each coordinate, named after it: q -> p_q, x1 -> p_x1.

    Friction (Rayleigh dissipation functions R(q, p)) is written in these.

    Examples
    --------
    >>> import sympy as sp
    >>> momentum_symbols(sp.symbols("x y"))
    (p_x, p_y)
    """
    return tuple(sp.Symbol(f"p_{getattr(c, 'name', c)}") for c in coords)


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
    """R trajectories of a d-dimensional system sampled at up to N+1 times spaced h.

    Regular data fill the arrays; measured data with gaps come as pieces of
    different lengths (:meth:`from_samples`), stored padded to the longest with
    ``lengths`` saying how many points of each are real. Every consumer uses
    only the (i, i+1) pairs inside a piece (:meth:`valid`).

    Parameters
    ----------
    q : array_like, shape (R, N+1, d)
        Positions; stored as read-only float64.
    p : array_like, shape (R, N+1, d), optional
        Momenta. ``None`` for positions-only data: the learners then use second
        differences of q and learn V per unit mass (or for ``masses``).
    h : float
        Time step between samples, > 0.
    names : sequence of str, length d, optional
        Coordinate names; ``q0, q1, ...`` by default (``q`` when d = 1).
    energy_error : ndarray, shape (R,), optional
        Relative energy error of each trajectory, set by :func:`~symhamil.simulate`.
    t0 : float or array_like, shape (R,)
        Time of the first sample (of each piece).
    lengths : array_like of int, shape (R,), optional
        Points in each trajectory (2 <= lengths[r] <= N+1); all N+1 by default.
        Values past a piece's length are ignored (they may be NaN).
    masses : array_like, shape (d,), optional
        The mass of each coordinate; positions-only learning multiplies the
        accelerations by it. Unit masses when not given.
    sampling : SamplingReport, optional
        What :meth:`from_samples` split or dropped.
    observed : array_like of bool, shape (R, N+1), optional
        False at samples that were not measured but filled in (gaps bridged by
        :meth:`from_samples`): integrals use the filled values, while pairs,
        triples, noise estimates and likelihoods skip them. All measured by
        default.
    box : array_like, shape (s,), optional
        The side lengths of a periodic orthorhombic box, for many particles in s
        dimensions (coordinates x1, y1, z1, x2, ...; d = N s); set by
        :func:`~symhamil.read_ase`. The pair learners use it for minimum images.
    particles : int, optional
        The number of particles N when the d coordinates are N bodies in s = d / N
        dimensions; set by :func:`~symhamil.read_ase` and by
        :func:`~symhamil.simulate` of a pair system. With ``box`` it makes
        :attr:`geometry`, which the pair learners read.
    forces : array_like, shape (R, N+1, d), optional
        The forces -grad V at each sample, as molecular-dynamics engines store
        them (:func:`~symhamil.read_ase` keeps them); the pair learners then
        fit them directly (force matching), whatever the frame spacing.
    md_steps : int, optional
        The molecular-dynamics steps between consecutive samples, when an
        engine integrated with velocity Verlet at h / md_steps and wrote every
        md_steps-th step (read from the file by :func:`~symhamil.read_ase`);
        the pair learners then use an observation exact for that spacing.
    species : sequence of int, length ``particles``, optional
        Each particle's type, when there are several (set by
        :func:`~symhamil.read_ase` from the atomic numbers or LAMMPS types):
        the pair learners fit one pair potential per pair of types.

    Examples
    --------
    >>> import numpy as np
    >>> tr = Trajectories(q=np.zeros((2, 5, 1)), p=np.ones((2, 5, 1)), h=0.1)
    >>> tr.R, tr.N, tr.dim, float(tr.t[-1])
    (2, 4, 1, 0.4)
    """

    q: np.ndarray
    p: np.ndarray | None
    h: float
    names: tuple[str, ...] | None = None
    energy_error: np.ndarray | None = None
    t0: float | np.ndarray = 0.0
    lengths: np.ndarray | None = None
    masses: np.ndarray | None = None
    sampling: object | None = None
    observed: np.ndarray | None = None
    box: np.ndarray | None = None
    particles: int | None = None
    forces: np.ndarray | None = None
    md_steps: int | None = None
    species: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        q0 = np.asarray(self.q)
        lengths = check_lengths(self.lengths, q0)
        q = check_array("q", q0, "", lengths)
        p = None if self.p is None else check_array("p", self.p, "", lengths)
        check_shapes(q, p)
        forces = None
        if self.forces is not None:
            forces = check_array("forces", self.forces, "", lengths)
            if forces.shape != q.shape:
                raise ValueError(
                    f"forces must have the shape of q, {q.shape}; got {forces.shape}."
                )
        R, _, d = q.shape
        box = check_box(self.box, d)
        checked = {
            "q": q,
            "p": p,
            "h": check_h(self.h),
            "names": check_names(self.names, d),
            "t0": check_t0(self.t0, R),
            "energy_error": check_energy_error(self.energy_error, R),
            "lengths": lengths,
            "masses": check_masses(self.masses, d),
            "observed": check_observed(self.observed, q.shape[:2]),
            "box": box,
            "particles": check_particles(self.particles, d, box),
            "forces": forces,
            "md_steps": check_md_steps(self.md_steps),
            "species": None,
        }
        if self.species is not None:
            n = checked["particles"]
            if n is None:
                raise ValueError("species need particles= (how many bodies the coordinates are).")
            checked["species"] = check_species(self.species, n)
        for name, a in checked.items():
            if isinstance(a, np.ndarray):
                a = a.view()
                a.flags.writeable = False
            object.__setattr__(self, name, a)

    # ------------------------------------------------------------------ shape
    @property
    def R(self) -> int:
        """Number of trajectories (pieces)."""
        return self.q.shape[0]

    @property
    def N(self) -> int:
        """Number of steps of the longest trajectory; it has N + 1 points."""
        return self.q.shape[1] - 1

    @property
    def dim(self) -> int:
        """Dimension d of q (and p)."""
        return self.q.shape[2]

    @cached_property
    def positions_only(self) -> Trajectories:
        """These trajectories without their momenta (themselves when none were
        measured), made once: what learners use when the measured momenta
        disagree with the positions (:func:`symhamil.plan`)."""
        return self if self.p is None else self.with_values(self.q, None)

    def with_values(self, q, p) -> Trajectories:
        """Other values of q and p on the same pieces: the clock, lengths, masses,
        sampling report, measured samples and geometry kept (smoothing, or
        leaving the momenta out). q, p of shape (R, N+1, d), p may be None."""
        return Trajectories(
            q=q,
            p=p,
            h=self.h,
            names=self.names,
            t0=self.t0,
            lengths=self.lengths,
            masses=self.masses,
            sampling=self.sampling,
            observed=self.observed,
            box=self.box,
            particles=self.particles,
            forces=self.forces,
            md_steps=self.md_steps,
            species=self.species,
        )

    @cached_property
    def geometry(self) -> Geometry | None:
        """The many-body geometry of the data (particles, space, box), or None.

        Known when ``particles`` or ``box`` was given (a box of s sides makes
        d / s particles) and there are two particles or more; the cutoff is the
        learner's (half the box by default; :meth:`Geometry.with_cutoff`).
        """
        if self.particles is None and self.box is None:
            return None
        particles = self.particles if self.particles is not None else self.dim // self.box.size
        if particles < 2:  # one body: no pairs
            return None
        species = self.species if self.particles is not None else None
        return Geometry(particles, self.dim // particles, self.box, species=species)

    @property
    def mass_array(self) -> np.ndarray:
        """The masses of the d coordinates, shape (d,); 1 where none were given."""
        return np.ones(self.dim) if self.masses is None else np.asarray(self.masses, dtype=float)

    @property
    def has_momenta(self) -> bool:
        """False for positions-only data (p is None)."""
        return self.p is not None

    @property
    def ragged(self) -> bool:
        """True when the trajectories have different lengths."""
        return self.lengths is not None

    @property
    def sizes(self) -> np.ndarray:
        """Points in each trajectory, shape (R,)."""
        return (
            np.full(self.R, self.N + 1, dtype=np.int64) if self.lengths is None else self.lengths
        )

    def valid(self, offset: int = 0) -> np.ndarray:
        """(R, N+1-offset) mask: True where points j .. j+offset all lie inside their piece.

        ``valid(1)`` marks the (i, i+1) pairs, ``valid(2)`` the triples of second
        differences.
        """
        return _valid(self.sizes - offset, self.N + 1 - offset)

    def measured(self, offset: int = 0) -> np.ndarray:
        """(R, N+1-offset) mask: samples j .. j+offset all inside their piece and measured.

        ``measured(1)`` marks the pairs a pair loss may use, ``measured(2)`` the
        triples of second differences; filled-in samples (gaps bridged by
        :meth:`from_samples`) are never part of one.
        """
        v = self.valid(offset)
        if self.observed is None:
            return v
        out = v.copy()
        for k in range(offset + 1):
            out &= self.observed[:, k : k + v.shape[1]]
        return out

    @property
    def bridged(self) -> bool:
        """True when some samples inside the pieces were filled in, not measured."""
        return self.observed is not None

    @property
    def n_points(self) -> int:
        """Total number of measured points (without padding or filled-in samples)."""
        return int(self.measured().sum()) if self.bridged else int(self.sizes.sum())

    def positions(self) -> np.ndarray:
        """Every measured point q, shape (n_points, d) (no padding, no filled samples)."""
        if self.ragged or self.bridged:
            return self.q[self.measured()]
        return self.q.reshape(-1, self.dim)

    @property
    def t(self) -> np.ndarray:
        """Sample times, shape (N+1,), or (R, N+1) when pieces start at different times."""
        steps = self.h * np.arange(self.N + 1)
        return self.t0 + steps if np.ndim(self.t0) == 0 else self.t0[:, None] + steps

    @property
    def coords(self) -> tuple[sp.Symbol, ...]:
        """The coordinate names as SymPy symbols."""
        return tuple(sp.Symbol(n) for n in self.names)

    @property
    def momentum_symbols(self) -> tuple[sp.Symbol, ...]:
        """The momenta conjugate to :attr:`coords` as SymPy symbols (q -> p_q), the
        symbols a friction library (Rayleigh functions R(q, p)) is written in."""
        return momentum_symbols(self.names)

    def __repr__(self) -> str:
        extra = ""
        if self.ragged:
            extra += f", lengths {int(self.sizes.min())}..{int(self.sizes.max())}"
        if not self.has_momenta:
            extra += ", positions only"
        names = self.names
        if len(names) > REPR_NAMES:
            # 4096 atoms are 12,288 names: a repr a terminal can still show.
            k = REPR_NAMES // 2
            names = f"({', '.join(map(repr, names[:k]))}, ... {len(names) - 2 * k} more ..., "
            names += f"{', '.join(map(repr, self.names[-k:]))})"
        return (
            f"Trajectories(R={self.R}, N+1={self.N + 1}, d={self.dim}, h={self.h}, "
            f"names={names}{extra})"
        )

    def require_momenta(self, what: str) -> np.ndarray:
        """p, or an error saying that ``what`` needs momenta."""
        if self.p is None:
            raise ValueError(
                f"{what} needs momenta p, and these trajectories hold positions only. "
                "Use a positions-only method (the 'verlet' loss) or give p."
            )
        return self.p

    def _replace(
        self, q, p, *, energy_error=None, t0=None, lengths=None, observed=None, forces=None
    ) -> Trajectories:
        return Trajectories(
            q=q,
            p=p,
            h=self.h,
            names=self.names,
            energy_error=energy_error,
            t0=self.t0 if t0 is None else t0,
            lengths=lengths,
            masses=self.masses,
            observed=observed,
            box=self.box,
            particles=self.particles,
            forces=forces,
            md_steps=self.md_steps,
            species=self.species,
        )

    # ------------------------------------------------------------------ physics
    def _check_system(self, system: System) -> None:
        if system.dim != self.dim:
            raise ValueError(
                f"system has dimension {system.dim} but the trajectories have "
                f"dimension {self.dim}."
            )

    def energy(self, system: System) -> np.ndarray:
        """Energy of every sample under ``system``, shape (R, N+1) (padding repeats
        each piece's last value)."""
        self._check_system(system)
        return system.energy(self.q, self.require_momenta("the energy"))

    def relative_energy_error(self, system: System) -> np.ndarray:
        """Each trajectory's relative energy error, shape (R,); see :func:`energy_error`."""
        self._check_system(system)
        return energy_error(system, self.q, self.require_momenta("the energy error"))

    # ------------------------------------------------------------------ slicing
    def select(self, index) -> Trajectories:
        """Pick trajectories: an int, a slice, an index array or a boolean mask of length R."""
        idx = np.arange(self.R)[index]
        idx = np.atleast_1d(idx)
        if idx.size == 0:
            raise ValueError("this selection keeps no trajectory.")
        err = None if self.energy_error is None else self.energy_error[idx]
        t0 = self.t0 if np.ndim(self.t0) == 0 else self.t0[idx]
        lengths = None if self.lengths is None else self.lengths[idx]
        n = self.N + 1 if lengths is None else int(lengths.max())
        return self._replace(
            self.q[idx, :n],
            None if self.p is None else self.p[idx, :n],
            energy_error=err,
            t0=t0,
            lengths=lengths,
            observed=None if self.observed is None else self.observed[idx, :n],
            forces=None if self.forces is None else self.forces[idx, :n],
        )

    __getitem__ = select

    def piece(self, r: int) -> Trajectories:
        """Trajectory ``r`` alone, without padding (R = 1)."""
        n = int(self.sizes[r])
        return self._replace(
            self.q[r : r + 1, :n],
            None if self.p is None else self.p[r : r + 1, :n],
            energy_error=None if self.energy_error is None else self.energy_error[r : r + 1],
            t0=self.t0 if np.ndim(self.t0) == 0 else float(self.t0[r]),
            observed=None if self.observed is None else self.observed[r : r + 1, :n],
            forces=None if self.forces is None else self.forces[r : r + 1, :n],
        )

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
        """Points ``start`` (inclusive) to ``stop`` (exclusive) of every trajectory.

        Pieces that keep fewer than 2 points are left out.
        """
        start, stop, _ = slice(start, stop).indices(self.N + 1)
        if stop - start < 2:
            raise ValueError(
                f"a slice of trajectories needs at least 2 points; points "
                f"[{start}, {stop}) of {self.N + 1} give {max(stop - start, 0)}."
            )
        t0 = self.t0 + start * self.h
        obs = None if self.observed is None else self.observed[:, start:stop]
        if not self.ragged:
            return self._replace(
                self.q[:, start:stop],
                None if self.p is None else self.p[:, start:stop],
                energy_error=self.energy_error,
                t0=t0,
                observed=obs,
                forces=None if self.forces is None else self.forces[:, start:stop],
            )
        lengths = np.clip(self.lengths - start, 0, stop - start)
        keep = lengths >= 2
        if not keep.any():
            raise ValueError(f"no piece has 2 points in [{start}, {stop}).")
        return Trajectories(
            q=self.q[keep, start:stop],
            p=None if self.p is None else self.p[keep, start:stop],
            h=self.h,
            names=self.names,
            energy_error=None if self.energy_error is None else self.energy_error[keep],
            t0=t0 if np.ndim(t0) == 0 else t0[keep],
            lengths=lengths[keep],
            masses=self.masses,
            observed=None if obs is None else obs[keep],
            box=self.box,
            particles=self.particles,
            forces=None if self.forces is None else self.forces[keep, start:stop],
            md_steps=self.md_steps,
            species=self.species,
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
        """These trajectories and ``other`` (same h and d) as one set; different
        lengths give ragged trajectories."""
        if (other.h, other.dim, other.has_momenta, other.md_steps) != (
            self.h,
            self.dim,
            self.has_momenta,
            self.md_steps,
        ):
            raise ValueError(
                "only trajectories with the same h, d and MD steps between samples (and both "
                "with or both without momenta) can be joined; got "
                f"{(self.h, self.dim, self.md_steps)} and {(other.h, other.dim, other.md_steps)}."
            )
        errs = None
        if self.energy_error is not None and other.energy_error is not None:
            errs = np.concatenate([self.energy_error, other.energy_error])
        n = max(self.N, other.N) + 1

        def pad(a):
            return np.concatenate([a, np.repeat(a[:, -1:], n - a.shape[1], axis=1)], axis=1)

        t0 = (
            self.t0
            if np.ndim(self.t0) == 0 and np.ndim(other.t0) == 0 and self.t0 == other.t0
            else np.concatenate(
                [np.broadcast_to(self.t0, (self.R,)), np.broadcast_to(other.t0, (other.R,))]
            )
        )
        lengths = np.concatenate([self.sizes, other.sizes])
        observed = None
        if self.bridged or other.bridged:

            def obs(tr):
                o = np.ones(tr.q.shape[:2], bool) if tr.observed is None else tr.observed
                return np.concatenate([o, np.ones((tr.R, n - o.shape[1]), bool)], axis=1)

            observed = np.concatenate([obs(self), obs(other)])
        return self._replace(
            np.concatenate([pad(self.q), pad(other.q)]),
            None if self.p is None else np.concatenate([pad(self.p), pad(other.p)]),
            energy_error=errs,
            t0=t0,
            lengths=lengths,
            observed=observed,
            forces=None
            if self.forces is None or other.forces is None
            else np.concatenate([pad(self.forces), pad(other.forces)]),
        )

    # ------------------------------------------------------------------ measured data
    @classmethod
    def from_samples(
        cls,
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
    ) -> Trajectories:
        """Trajectories from measured samples with time stamps, split at gaps.

        The samples are sorted by time within each trajectory id. A step of m h
        (h the data's step; m = 2 .. ``max_gap`` + 1) is a gap of m - 1 lost
        samples. It is bridged, the lost samples filled by linear interpolation
        and marked in ``observed`` (integrals use them, pairs and likelihoods do
        not). Any other step that differs from h by more than ``rtol`` (plus the
        stamps' rounding: a camera's milliseconds) cuts the data (a long gap, a
        jump of the clock, a change of rate); a sample that is not finite counts
        as lost. Pieces shorter than ``min_points`` are dropped. h is the slope
        of the stamps against their frame numbers, so rounded or jittery stamps
        make one clock that does not drift. A trajectory whose step is not a
        whole multiple of the others' is refused by name. What was cut, bridged
        and dropped is in ``.sampling`` (a :class:`SamplingReport`).

        Parameters
        ----------
        t : array_like, shape (n,)
            Time of each sample.
        q : array_like, shape (n,) or (n, d)
            Positions.
        p : array_like, shape (n,) or (n, d), optional
            Momenta; ``None`` for positions-only data.
        trajectory : array_like, shape (n,), optional
            Which trajectory (experiment, run) each sample belongs to; samples of
            different trajectories are never joined.
        masses : float or array_like, shape (d,), optional
        names : sequence of str, optional
            Coordinate names.
        rtol : float
            Relative tolerance on the step.
        min_points : int
            Shortest piece kept (3: one second difference).
        max_gap : int, optional
            Most consecutive lost samples bridged (0: cut at every gap). By
            default gaps shorter than 5% of the motion's time scale
            spread(q) / spread(dq/dt), and always gaps of up to 2 samples.
        trajectory_names : sequence of str, optional
            When ``trajectory`` holds codes 0, 1, ... (as a file reader makes
            them), the trajectories' names, for messages.

        Returns
        -------
        Trajectories
            Possibly ragged; ``lengths`` gives each piece's number of points.
        """
        return from_samples(
            cls,
            t,
            q,
            p,
            trajectory=trajectory,
            masses=masses,
            names=names,
            rtol=rtol,
            min_points=min_points,
            max_gap=max_gap,
            trajectory_names=trajectory_names,
        )

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike) -> None:
        """Write to exactly ``path`` (no suffix added), atomically, as ``.npz`` with arrays
        q, p, h, names, t0 (and energy_error, lengths, masses, observed, box,
        particles, forces); folders are created as needed."""
        write_trajectories(path, self)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Trajectories:
        """Read trajectories written by :meth:`save` (or any ``.npz`` with q, p, h).

        Checks that the arrays are there with shape (R, N+1, d), real and finite,
        and that h > 0; the error names the file and what is wrong.
        """
        return _named(read_trajectories(path), cls)


def _named(read: tuple[str, dict], cls) -> Trajectories:
    where, fields = read
    try:
        return cls(**fields)
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        raise type(exc)(msg if msg.startswith(where) else where + msg) from None


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
    return _named(read_radial(path), Trajectories)
