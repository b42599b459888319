"""A recovered pair potential phi(r) where MD engines run it: a LAMMPS
``pair_style table`` file and an ASE calculator.

Both take phi as a SymPy expression in one symbol (a fit's ``expression``, or
any formula); its derivative is taken symbolically, so the forces are the
formula's own, not finite differences of a table.
"""

from __future__ import annotations

import os

import numpy as np
import sympy as sp

from ..base.checks import positive_number, whole_number
from ..base.files import write_text
from ..data.geometry import chunks, displacements, pair_list
from ..data.trajectories import Trajectories
from ..systems.potentials import as_potential

__all__ = ["check_rerun", "lammps_table", "pair_calculator", "rerun_check"]


def _phi(phi, symbol=None):
    """phi and dphi/dr as NumPy functions of r; the symbol is phi's own."""
    phi = getattr(phi, "expression", phi)
    phi = sp.sympify(phi)
    free = sorted(phi.free_symbols, key=lambda s: s.name)
    if symbol is None:
        if len(free) > 1:
            raise ValueError(f"phi = {phi} has several symbols; name the distance (symbol=).")
        symbol = free[0] if free else sp.Symbol("r")
    elif set(free) - {symbol}:
        raise ValueError(f"phi = {phi} uses symbols other than the distance {symbol}.")
    pot = as_potential(phi, (symbol,))  # values and the gradient, lambdified once
    values, gradient = pot.require_values(), pot.require_gradient()

    def value(r):
        r = np.asarray(r, dtype=float)
        return np.asarray(values(r.reshape(-1, 1)), dtype=float).reshape(r.shape)

    def slope(r):
        r = np.asarray(r, dtype=float)
        return np.asarray(gradient(r.reshape(-1, 1)), dtype=float).reshape(r.shape)

    return value, slope


def lammps_table(
    phi, path, rmin: float, rmax: float, n: int = 1000, *, keyword: str = "SYMHAMIL",
    symbol=None,
) -> str:  # fmt: skip
    """Write phi(r) as a LAMMPS ``pair_style table`` file.

    Parameters
    ----------
    phi : sympy.Expr or SparseFit
        In one symbol, the distance.
    path : path
        Written atomically.
    rmin, rmax : float
        The table's range (LAMMPS errors on pairs closer than rmin; rmax is the
        cutoff to give ``pair_coeff``).
    n : int
        Rows, evenly spaced in r (``N n R rmin rmax``).
    keyword : str
        The section's name, as ``pair_coeff * * file KEYWORD`` names it.

    Returns
    -------
    str
        The ``pair_style``/``pair_coeff`` lines to use it with, e.g.
        ``pair_style table linear 1000`` and ``pair_coeff * * phi.table SYMHAMIL 10.2``.
    """
    rmin = positive_number(rmin, "rmin")
    rmax = positive_number(rmax, "rmax")
    n = whole_number(n, "n (rows)", 2, 10_000_000)
    if not rmax > rmin:
        raise ValueError(f"rmax must exceed rmin; got {rmin} and {rmax}.")
    if not keyword.isidentifier():
        raise ValueError(
            f"the keyword must be one word of letters, digits and _; got {keyword!r}."
        )
    value, slope = _phi(phi, symbol)
    r = np.linspace(rmin, rmax, n)
    with np.errstate(all="ignore"):
        e, f = value(r), -slope(r)
    if not (np.isfinite(e).all() and np.isfinite(f).all()):
        raise ValueError(
            f"phi is not finite everywhere on [{rmin}, {rmax}]; start the table further out."
        )
    rows = "\n".join(
        f"{i + 1} {ri:.10g} {ei:.16e} {fi:.16e}"
        for i, (ri, ei, fi) in enumerate(zip(r, e, f, strict=True))
    )
    text = (
        f"# phi(r) = {sp.sstr(getattr(phi, 'expression', phi))}, written by symhamil\n"
        f"# energy in the file's units (eV for ASE), force = -dphi/dr\n\n"
        f"{keyword}\nN {n} R {rmin:.10g} {rmax:.10g}\n\n{rows}\n"
    )
    write_text(path, text)
    return f"pair_style table linear {n}\npair_coeff * * {os.fspath(path)} {keyword} {rmax:.10g}"


def pair_calculator(phi, cutoff: float, *, symbol=None, shift: bool = True):
    """An ASE calculator of the pair potential sum_{i<j} phi(r_ij), r_ij < cutoff.

    Parameters
    ----------
    phi : sympy.Expr or SparseFit
        In one symbol, the distance (angstrom; phi in eV).
    cutoff : float
    shift : bool
        Shift phi by phi(cutoff) so that the energy is continuous (as ASE's
        ``LennardJones`` does); the forces are not changed.

    Returns
    -------
    ase.calculators.calculator.Calculator
        With ``energy``, ``energies`` and ``forces``, periodic boxes included
        (ASE's neighbour list counts every image within the cutoff).
    """
    from ase.calculators.calculator import Calculator, all_changes
    from ase.neighborlist import neighbor_list

    cutoff = positive_number(cutoff, "cutoff")
    value, slope = _phi(phi, symbol)
    offset = float(value(np.array(cutoff))) if shift else 0.0

    class PairCalculator(Calculator):
        implemented_properties = ("energy", "energies", "forces", "free_energy")

        def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
            super().calculate(atoms, properties, system_changes)
            i, d, D = neighbor_list("idD", self.atoms, cutoff)
            # Each pair comes twice, (i, j) and (j, i): half its energy each.
            e = 0.5 * (value(d) - offset)
            energies = np.bincount(i, weights=e, minlength=len(self.atoms))
            # The force on i from j: -d/dr_i phi(|r_j - r_i|) = phi'(d) D / d.
            pull = (slope(d) / d)[:, None] * D
            forces = np.zeros((len(self.atoms), 3))
            np.add.at(forces, i, pull)
            self.results = {"energy": float(energies.sum()), "free_energy": float(energies.sum()),
                            "energies": energies, "forces": forces}  # fmt: skip

    return PairCalculator()


#: A re-run reproduces the data when its positions stay within this share of
#: the data's own motion over the record (the right phi with the data's
#: integrator: 4e-15 on 108 argon atoms over 400 steps; epsilon 10% high: 0.064).
RERUN_TOLERANCE = 1e-3

#: Blocks of consecutive frames whose spread gives a histogram's sampling error
#: (fewer on short records: at least MIN_BLOCK_FRAMES frames each, and at
#: least MIN_BLOCKS blocks, else no verdict). Calibrated on 6 independent NVE
#: argon runs (108 atoms, 400 steps, the same phi): the 15 pairs' largest t
#: was 2.7 against a bar of 4.7 with 16 blocks (3.4 against 4.3 with 25).
RDF_BLOCKS, MIN_BLOCK_FRAMES, MIN_BLOCKS = 16, 2, 4
#: The chance that a right phi's histogram is called different, over all bins.
RDF_ALPHA = 0.01


def check_rerun(traj, geometry) -> None:
    """What :func:`rerun_check` needs, refused with what to do: momenta to start
    from, a periodic box and a cutoff, and one kind of atom (the calculator runs
    one pair law)."""
    if traj.p is None:
        raise ValueError(
            "the re-run starts from the first frame's momenta, and the data hold none "
            "(a dump with velocities vx vy vz, or a .traj, has them); leave out the re-run."
        )
    if geometry.box is None or geometry.cutoff is None:
        raise ValueError("the re-run needs a periodic box and a cutoff.")
    if geometry.species is not None:
        raise ValueError(
            "the re-run runs one pair law, and these atoms are of several species; leave "
            "out the re-run."
        )


def rerun_check(phi, traj, geometry, *, timestep: float | None = None, bins: int = 60) -> dict:
    """Run MD with ``phi`` (ASE's velocity Verlet and :func:`pair_calculator`)
    from the data's first frame for as long as the data, and compare the
    positions and the distribution of pair distances with the data's.

    Parameters
    ----------
    phi : sympy.Expr or SparseFit
    traj : Trajectories
        Many bodies in a periodic box, with momenta (the start's velocities).
    geometry : Geometry
        Particles, box and cutoff.
    timestep : float, optional
        The MD step (ASE's time unit); by default the time between frames.
    bins : int
        Bins of the distance histogram over (0, cutoff].

    Returns
    -------
    dict
        ``trajectory_error``: the RMS difference of the re-run's positions and
        the data's, over the RMS distance the data moved; ``rdf_difference``:
        the largest difference of the two histograms of pair distances per
        frame, over the data's peak; ``agrees``: the trajectory error within
        RERUN_TOLERANCE; ``rdf_t``, ``rdf_bar``, ``rdf_agrees``: the histograms
        compared against their sampling noise (:func:`rdf_within_noise`;
        None when the record is too short to measure it); ``edges``, ``data``,
        ``rerun``: the histograms (mean counts per frame, shape (bins,)).

    Notes
    -----
    A chaotic many-body run leaves any path that is not exactly its own
    within some hundreds of steps, so for long records the positions say
    little and the distribution of pair distances is the test: the right phi
    reproduces it to within the sampling noise, a wrong one does not.
    """
    from ase import Atoms
    from ase.md.verlet import VelocityVerlet

    check_rerun(traj, geometry)
    N, s = geometry.particles, geometry.space
    dt = traj.h if timestep is None else positive_number(timestep, "timestep")
    per_frame = max(1, round(traj.h / dt))
    masses = np.asarray(traj.mass_array).reshape(N, s)[:, 0]
    atoms = Atoms(positions=traj.q[0, 0].reshape(N, s), cell=np.diag(geometry.box), pbc=True,
                  masses=masses, momenta=traj.p[0, 0].reshape(N, s))  # fmt: skip
    atoms.calc = pair_calculator(phi, geometry.cutoff)
    frames = [atoms.get_positions()]
    dyn = VelocityVerlet(atoms, traj.h / per_frame)
    for _ in range(int(traj.sizes[0]) - 1):
        dyn.run(per_frame)
        frames.append(atoms.get_positions(wrap=False))
    rerun = Trajectories(q=np.stack(frames).reshape(1, len(frames), N * s), p=None, h=traj.h,
                         box=geometry.box, particles=N)  # fmt: skip
    edges = np.linspace(0.0, geometry.cutoff, bins + 1)

    data_q = traj.q[0, : len(frames)]
    moved = np.sqrt(np.mean((data_q - data_q[0]) ** 2))
    error = np.sqrt(np.mean((rerun.q[0] - data_q) ** 2))
    per_data, per_rerun = (
        _histograms(traj.piece(0), geometry, bins),
        _histograms(rerun, geometry, bins),
    )
    data, again = per_data.mean(axis=0), per_rerun.mean(axis=0)
    rdf = float(np.max(np.abs(data - again)) / max(np.max(data), 1e-300))
    t, bar = rdf_within_noise(per_data, per_rerun)
    return {"trajectory_error": float(error / moved) if moved > 0 else float("inf"),
            "rdf_difference": rdf, "agrees": bool(error <= RERUN_TOLERANCE * moved),
            "rdf_t": t, "rdf_bar": bar, "rdf_agrees": None if t is None else bool(t <= bar),
            "edges": edges.tolist(), "data": data.tolist(), "rerun": again.tolist()}  # fmt: skip


def _histograms(traj, geometry, bins: int) -> np.ndarray:
    """Counts of pair distances in ``bins`` equal bins over (0, cutoff] in each
    frame of the first trajectory, shape (frames, bins)."""
    N, s = geometry.particles, geometry.space
    edges = np.linspace(0.0, geometry.cutoff, bins + 1)
    out = []
    for X in chunks(traj.q[0].reshape(-1, N, s), N, geometry.cutoff):
        i, j = pair_list(X, geometry.box, geometry.cutoff)
        d = displacements(X.reshape(-1, s), i, j, geometry.box)
        dist = np.sqrt(np.einsum("pa,pa->p", d, d))
        h = np.zeros((len(X), bins))
        inside = dist <= edges[-1]
        k = np.clip(np.searchsorted(edges, dist[inside], side="right") - 1, 0, bins - 1)
        np.add.at(h, (i[inside] // N, k), 1.0)
        out.append(h)
    return np.concatenate(out)


def rdf_within_noise(a: np.ndarray, b: np.ndarray, blocks: int | None = None):
    """The largest difference of two mean histograms in units of its sampling
    error, and the bar it must stay under.

    Frames of MD are correlated, so the error of a mean histogram is taken from
    the spread of its means over ``blocks`` consecutive blocks of frames (the
    blocking method of Flyvbjerg and Petersen): se_k = std(block means_k) /
    sqrt(blocks), per bin, for each record; t_k = |a_k - b_k| / sqrt(se_a^2 +
    se_b^2). The bar is Student's t with blocks - 1 degrees of freedom at
    RDF_ALPHA two-sided, Bonferroni-corrected for the bins compared (those that
    hold any count), so a right phi fails it in about RDF_ALPHA of records.

    Parameters
    ----------
    a, b : ndarray, shape (frames, bins)
        Counts per frame of the two records.
    blocks : int, optional
        By default RDF_BLOCKS, fewer on short records (at least
        MIN_BLOCK_FRAMES frames each).

    Returns
    -------
    t : float or None
        The largest t_k (inf where a bin differs with no spread at all); None
        when the records are too short for MIN_BLOCKS blocks.
    bar : float or None
    """
    from scipy.stats import t as student

    frames = min(len(a), len(b))
    if blocks is None:
        blocks = min(RDF_BLOCKS, frames // MIN_BLOCK_FRAMES)
    if blocks < MIN_BLOCKS or frames < MIN_BLOCK_FRAMES * blocks:
        return None, None

    def mean_and_error(x):
        means = np.stack([part.mean(axis=0) for part in np.array_split(x, blocks)])
        return x.mean(axis=0), means.std(axis=0, ddof=1) / np.sqrt(blocks)

    (ma, ea), (mb, eb) = mean_and_error(a), mean_and_error(b)
    used = (ma > 0) | (mb > 0)
    if not used.any():
        return 0.0, float("inf")
    diff, se = np.abs(ma - mb)[used], np.hypot(ea, eb)[used]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(se > 0, diff / se, np.where(diff > 0, np.inf, 0.0))
    bar = float(student.ppf(1 - RDF_ALPHA / (2 * used.sum()), blocks - 1))
    return float(t.max()), bar
