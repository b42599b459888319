"""The geometry of many bodies: particles in a space, a periodic box, a cutoff.

Coordinates of N particles in s dimensions are particle-major (x1, y1, z1, x2,
...). This module names them, validates a geometry once
(:func:`check_geometry`), and finds the interacting pairs of configurations:
all pairs without a cutoff, else a k-d tree (:class:`scipy.spatial.cKDTree`)
in time and memory linear in the number of pairs, between nearest images in a
periodic orthorhombic box (the minimum-image convention).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import scipy.spatial
import sympy as sp

__all__ = [
    "Geometry",
    "as_geometry",
    "axis_symbols",
    "check_geometry",
    "pair_distances",
    "pair_list",
    "particle_coords",
]

#: Configurations are processed in chunks of about this many pairs, which bounds
#: the memory of one force evaluation (a few hundred MB at most).
CHUNK_PAIRS = 2_000_000

AXES = "xyz"


def axis_symbols(dim: int) -> tuple[sp.Symbol, ...]:
    """The symbols of one particle's position: (x, y, z)[:dim], or a1, a2, ... above 3."""
    return tuple(sp.Symbol(a) for a in AXES[:dim]) if dim <= 3 else sp.symbols(f"a1:{dim + 1}")


def particle_coords(particles: int, dim: int) -> tuple[sp.Symbol, ...]:
    """Coordinates named per particle and axis: x1, y1, z1, x2, ... (particle-major)."""
    axes = [a.name for a in axis_symbols(dim)]
    return tuple(sp.Symbol(f"{a}{k}") for k in range(1, particles + 1) for a in axes)


def check_species(species, particles: int) -> tuple[int, ...] | None:
    """``species`` as a tuple of N ints, or None (also for a single kind)."""
    if species is None:
        return None
    try:
        out = tuple(int(s) for s in np.asarray(species).reshape(-1))
    except (TypeError, ValueError):
        raise ValueError(
            f"species must be whole numbers, one per particle; got {species!r}."
        ) from None
    if len(out) != particles:
        raise ValueError(f"species gives {len(out)} types for {particles} particles.")
    return out if len(set(out)) > 1 else None


def check_geometry(particles, dim, box=None, cutoff=None, *, total=None):
    """Validated (particles, dim, box, cutoff).

    Parameters
    ----------
    particles : int
        N >= 2.
    dim : int
        Spatial dimension s >= 1.
    box : float or sequence of float, length s, optional
        Side lengths of a periodic orthorhombic box.
    cutoff : float, optional
        Pairs at distances >= cutoff do not interact. With a box and no cutoff,
        half the shortest side.
    total : int, optional
        The number of coordinates of the data (N s), checked when given.

    Returns
    -------
    tuple (int, int, ndarray of shape (s,) or None, float or None)
    """
    for name, v, low in (("particles", particles, 2), ("dim", dim, 1)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < low:
            raise ValueError(f"{name} must be a whole number >= {low}; got {v!r}.")
    particles, dim = int(particles), int(dim)
    if total is not None and total != particles * dim:
        raise ValueError(
            f"the data have {total} coordinates, but particles={particles} in dim={dim} "
            f"need {particles * dim} (particle-major: x1, y1, z1, x2, ...)."
        )
    if box is not None:
        try:
            box = np.broadcast_to(np.asarray(box, dtype=float), (dim,)).copy()
        except (TypeError, ValueError):
            raise ValueError(
                f"box must be one side length or {dim} of them (an orthorhombic periodic "
                f"box); got {box!r}."
            ) from None
        if not (np.isfinite(box).all() and (box > 0).all()):
            raise ValueError(f"the box sides must be finite and > 0; got {box.tolist()}.")
    if cutoff is not None:
        try:
            cutoff = float(cutoff)
        except (TypeError, ValueError):
            raise TypeError(f"cutoff must be a number; got {cutoff!r}.") from None
        if not (np.isfinite(cutoff) and cutoff > 0):
            raise ValueError(f"cutoff must be finite and > 0; got {cutoff}.")
    if box is not None:
        if cutoff is None:
            cutoff = float(box.min()) / 2
        elif 2 * cutoff > box.min() * (1 + 1e-12):
            raise ValueError(
                f"the box side {box.min():g} is shorter than twice the cutoff {cutoff:g}: a "
                "particle would meet two images of another within the cutoff, which the "
                "minimum-image convention cannot count. Use a larger box (more particles) "
                f"or a cutoff <= {box.min() / 2:g}."
            )
    return particles, dim, box, cutoff


@dataclass(frozen=True, eq=False)
class Geometry:
    """Where many bodies live: N particles in s dimensions, a periodic box, a cutoff.

    One validated value, made once (by a reader, a simulation or the user) and
    carried by :attr:`symhamil.Trajectories.geometry` to every learner.

    Parameters
    ----------
    particles : int
        N >= 2.
    space : int
        The spatial dimension s >= 1; the data have N s coordinates
        (:attr:`dim`), particle-major: x1, y1, z1, x2, ...
    box : float or sequence of float, length s, optional
        Side lengths of a periodic orthorhombic box (read-only array).
    cutoff : float, optional
        Pairs at distances >= cutoff do not interact. With a box and no
        cutoff, half the shortest side.
    species : sequence of int, length N, optional
        Each particle's type (an atomic number, a LAMMPS atom type), when there
        are several: each pair of types then has its own pair potential
        (:attr:`pair_types`). None for one kind of particle.

    Examples
    --------
    >>> g = Geometry(particles=8, space=3, box=2.0)
    >>> g.dim, g.box.tolist(), g.cutoff
    (24, [2.0, 2.0, 2.0], 1.0)
    """

    particles: int
    space: int
    box: np.ndarray | None = None
    cutoff: float | None = None
    species: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        particles, space, box, cutoff = check_geometry(
            self.particles, self.space, self.box, self.cutoff
        )
        if box is not None:
            box.flags.writeable = False
        species = check_species(self.species, particles)
        for name, v in (("particles", particles), ("space", space), ("box", box),
                        ("cutoff", cutoff), ("species", species)):  # fmt: skip
            object.__setattr__(self, name, v)

    @property
    def pair_types(self) -> tuple[tuple[int, int], ...]:
        """The pairs of types (a <= b) that occur, in order; ((0, 0),) for one kind."""
        if self.species is None:
            return ((0, 0),)
        kinds = sorted(set(self.species))
        counts = {k: self.species.count(k) for k in kinds}
        return tuple(
            (a, b) for i, a in enumerate(kinds) for b in kinds[i:] if a != b or counts[a] > 1
        )

    @cached_property
    def _type_table(self) -> tuple[np.ndarray, np.ndarray]:
        """(each particle's type rank (N,), the pair-type index of two ranks (T, T));
        made once: the pair sums ask for every chunk of every MD step."""
        kinds = sorted(set(self.species))
        rank = np.searchsorted(kinds, np.asarray(self.species))
        table = np.full((len(kinds), len(kinds)), -1, dtype=np.int64)
        for p, (a, b) in enumerate(self.pair_types):
            ra, rb = kinds.index(a), kinds.index(b)
            table[ra, rb] = table[rb, ra] = p
        return rank, table

    def pair_of(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """The index in :attr:`pair_types` of each pair of particles i, j
        (indices into the particles, or into K configurations' flat N K)."""
        if self.species is None:
            return np.zeros(np.shape(i), dtype=np.int64)
        rank, table = self._type_table
        n = self.particles
        return table[rank[np.asarray(i) % n], rank[np.asarray(j) % n]]

    @property
    def dim(self) -> int:
        """The number of coordinates, N s."""
        return self.particles * self.space

    @property
    def coords(self) -> tuple[sp.Symbol, ...]:
        """x1, y1, z1, x2, ... (particle-major)."""
        return particle_coords(self.particles, self.space)

    def with_cutoff(self, cutoff: float | None) -> Geometry:
        """This geometry with another cutoff (validated against the box)."""
        return replace(self, cutoff=cutoff)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Geometry):
            return NotImplemented
        same_box = (self.box is None and other.box is None) or (
            self.box is not None and other.box is not None and np.array_equal(self.box, other.box)
        )
        return (self.particles, self.space, self.cutoff, self.species) == (
            other.particles, other.space, other.cutoff, other.species
        ) and same_box  # fmt: skip

    __hash__ = None

    def __repr__(self) -> str:
        box = "" if self.box is None else f", box={self.box.tolist()}"
        cut = "" if self.cutoff is None else f", cutoff={self.cutoff:g}"
        kinds = "" if self.species is None else f", species of {len(set(self.species))} types"
        return f"Geometry(particles={self.particles}, space={self.space}{box}{cut}{kinds})"

    @classmethod
    def of(cls, traj, particles=None, space=None, box=None, cutoff=None) -> Geometry:
        """The geometry of ``traj``: what is given wins, the rest from the data
        (:attr:`~symhamil.Trajectories.geometry`), checked against its d."""
        known = traj.geometry
        species = None
        if known is not None:
            species = known.species
            particles = known.particles if particles is None else particles
            space = known.space if space is None else space
            box = known.box if box is None else box
        if space is None:
            if box is not None:
                space = np.size(box)
            elif particles is not None and traj.dim % int(particles) == 0:
                space = traj.dim // int(particles)
            else:
                raise ValueError(
                    "say how the coordinates split into particles: give the geometry "
                    "(symhamil.Geometry(particles=N, space=s)), or trajectories that carry "
                    "one (read_ase, simulate of a pair system)."
                )
        if particles is None:
            if traj.dim % int(space):
                raise ValueError(
                    f"the data's {traj.dim} coordinates do not split into space={space}."
                )
            particles = traj.dim // int(space)
        if species is not None and len(species) != int(particles):
            species = None  # the data's types are for another split into particles
        geometry = cls(particles, space, box, cutoff, species)  # validated once, here
        if geometry.dim != traj.dim:
            raise ValueError(
                f"the data have {traj.dim} coordinates, but particles={geometry.particles} in "
                f"dim={geometry.space} need {geometry.dim} (particle-major: x1, y1, z1, x2, ...)."
            )
        return geometry


def as_geometry(traj, geometry=None, cutoff=None, **loose) -> Geometry:
    """The geometry a pair learner uses on ``traj``: ``geometry``, else one made
    of the ``particles``, ``dim`` (the spatial dimension, as the pair learners'
    keyword names it) and ``box`` keywords and the data's own; with ``cutoff``
    when given; checked against the data's coordinates.
    """
    given = {k: v for k, v in loose.items() if v is not None}
    if geometry is None:
        geometry = Geometry.of(
            traj, given.get("particles"), given.get("dim"), given.get("box"), cutoff
        )
    elif not isinstance(geometry, Geometry):
        raise TypeError(
            f"geometry must be a symhamil.Geometry; got {type(geometry).__name__}: "
            "geometry=symhamil.Geometry(particles=N, space=s, box=...), or particles=, dim=, "
            "box=, or nothing for the data's own."
        )
    elif given:
        raise ValueError(f"give geometry= or {', '.join(given)}=, not both.")
    elif geometry.dim != traj.dim:
        raise ValueError(
            f"the data have {traj.dim} coordinates, but {geometry!r} has {geometry.dim}."
        )
    if cutoff is not None and cutoff != geometry.cutoff:
        geometry = geometry.with_cutoff(cutoff)
    return geometry


def displacements(x: np.ndarray, i: np.ndarray, j: np.ndarray, box) -> np.ndarray:
    d = x[i] - x[j]
    if box is not None:
        d -= box * np.rint(d / box)
    return d


def pair_list(X: np.ndarray, box=None, cutoff=None) -> tuple[np.ndarray, np.ndarray]:
    """The interacting pairs of K configurations, as flat indices.

    Parameters
    ----------
    X : ndarray, shape (K, N, s)
        Positions.
    box : ndarray, shape (s,), optional
    cutoff : float, optional

    Returns
    -------
    i, j : ndarray of int, shape (P,)
        Indices into ``X.reshape(K * N, s)`` of each pair (i < j within one
        configuration); every pair closer than ``cutoff`` (nearest image in a
        box), or all pairs when there is no cutoff.
    """
    K, N, _ = X.shape
    if cutoff is None:
        a, b = np.triu_indices(N, 1)
        base = (np.arange(K) * N)[:, None]
        return (base + a).reshape(-1), (base + b).reshape(-1)
    out_i, out_j = [], []
    for k in range(K):
        x = X[k]
        if box is not None:
            x = np.mod(x, box)
            # mod can return exactly box for tiny negatives; the tree wants [0, box).
            x[x >= box] = 0.0
        tree = scipy.spatial.cKDTree(x, boxsize=box)
        pr = tree.query_pairs(cutoff, output_type="ndarray")
        out_i.append(pr[:, 0] + k * N)
        out_j.append(pr[:, 1] + k * N)
    return np.concatenate(out_i), np.concatenate(out_j)


def pair_distances(
    traj, particles=None, dim=None, box=None, cutoff=None, stride: int = 1, *, geometry=None
):
    """Distances of the interacting pairs in trajectories, for histograms.

    Parameters
    ----------
    traj : Trajectories, q of shape (R, N+1, N_p s)
    particles, dim, box, cutoff, geometry
        As in :func:`symhamil.pair_force_sindy`: by default the data's own
        geometry (:attr:`~symhamil.Trajectories.geometry`).
    stride : int
        Use every ``stride``-th sample.

    Returns
    -------
    ndarray, shape (P,)
    """
    g = as_geometry(traj, geometry, cutoff, particles=particles, dim=dim, box=box)
    particles, dim, box, cutoff = g.particles, g.space, g.box, g.cutoff
    X = traj.positions()[::stride].reshape(-1, particles, dim)
    out = []
    for X_c in chunks(X, particles, cutoff):
        i, j = pair_list(X_c, box, cutoff)
        d = displacements(X_c.reshape(-1, dim), i, j, box)
        out.append(np.sqrt(np.einsum("pa,pa->p", d, d)))
    dist = np.concatenate(out)
    if dist.size == 0:
        raise ValueError(
            f"no pair of particles comes within the cutoff {cutoff:g} in any sample; the "
            "interaction cannot be seen. Raise the cutoff."
        )
    check_apart(dist, None, None, particles)
    return dist


def check_apart(r: np.ndarray, i, j, particles: int) -> None:
    """Refuse coincident particles (r = 0): no pair potential is defined there."""
    zero = np.flatnonzero(~(r > 0))
    if zero.size == 0:
        return
    which = ""
    if i is not None:
        a, b = int(i[zero[0]]), int(j[zero[0]])
        which = f" (particles {a % particles + 1} and {b % particles + 1})"
    raise ValueError(
        f"{zero.size} pair(s) of particles coincide{which}: at distance 0 (or NaN) no pair "
        "potential is defined. Drop the frames where atoms overlap, or check the positions."
    )


def chunks(X: np.ndarray, particles: int, cutoff) -> list[np.ndarray]:
    """Configurations in groups whose pairs fit in about CHUNK_PAIRS."""
    per = particles * (particles - 1) // 2 if cutoff is None else 50 * particles
    step = max(1, CHUNK_PAIRS // max(per, 1))
    return [X[k : k + step] for k in range(0, X.shape[0], step)]
