"""The geometry of many bodies: particles in a space, a periodic box, a cutoff.

Coordinates of N particles in s dimensions are particle-major (x1, y1, z1, x2,
...). This module names them, validates a geometry once
(:func:`check_geometry`), and finds the interacting pairs of configurations:
all pairs without a cutoff, else a k-d tree (:class:`scipy.spatial.cKDTree`)
in time and memory linear in the number of pairs, between nearest images in a
periodic orthorhombic box (the minimum-image convention).
"""

from __future__ import annotations

import numpy as np
import scipy.spatial
import sympy as sp

__all__ = [
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


def pair_distances(traj, particles=None, dim=None, box=None, cutoff=None, stride=1):
    """Distances of the interacting pairs in trajectories, for histograms.

    Parameters
    ----------
    traj : Trajectories, q of shape (R, N+1, N_p s)
    particles, dim, box, cutoff
        As in :func:`symhamil.pair_force_sindy` (box from ``traj.box`` by default).
    stride : int
        Use every ``stride``-th sample.

    Returns
    -------
    ndarray, shape (P,)
    """
    particles, dim, box, cutoff = geometry_of(traj, particles, dim, box, cutoff)
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


def geometry_of(traj, particles, dim, box, cutoff):
    """Geometry for pair learners: box from the data when not given; ``dim`` from
    the box or ``particles``."""
    box = traj.box if box is None else box
    if dim is None:
        if box is not None:
            dim = np.size(box)
        elif particles is not None and traj.dim % int(particles) == 0:
            dim = traj.dim // int(particles)
        else:
            raise ValueError(
                "say how the coordinates split into particles: give particles=N and dim=s "
                "(or trajectories with a box)."
            )
    if particles is None:
        if traj.dim % int(dim):
            raise ValueError(f"the data's {traj.dim} coordinates do not split into dim={dim}.")
        particles = traj.dim // int(dim)
    return check_geometry(particles, dim, box, cutoff, total=traj.dim)


def chunks(X: np.ndarray, particles: int, cutoff) -> list[np.ndarray]:
    """Configurations in groups whose pairs fit in about CHUNK_PAIRS."""
    per = particles * (particles - 1) // 2 if cutoff is None else 50 * particles
    step = max(1, CHUNK_PAIRS // max(per, 1))
    return [X[k : k + step] for k in range(0, X.shape[0], step)]
