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
from ..data.geometry import pair_distances
from ..data.trajectories import Trajectories
from ..systems.potentials import as_potential

__all__ = ["lammps_table", "pair_calculator", "rerun_check"]


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
        RERUN_TOLERANCE; ``edges``, ``data``, ``rerun``: the histograms.
    """
    from ase import Atoms
    from ase.md.verlet import VelocityVerlet

    if traj.p is None:
        raise ValueError("the re-run starts from the first frame's momenta; the data hold none.")
    if geometry.box is None or geometry.cutoff is None:
        raise ValueError("the re-run needs a periodic box and a cutoff.")
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

    def histogram(tr):
        return np.histogram(pair_distances(tr, geometry=geometry), bins=edges)[0] / tr.n_points

    data_q = traj.q[0, : len(frames)]
    moved = np.sqrt(np.mean((data_q - data_q[0]) ** 2))
    error = np.sqrt(np.mean((rerun.q[0] - data_q) ** 2))
    data, again = histogram(traj.piece(0)), histogram(rerun)
    rdf = float(np.max(np.abs(data - again)) / max(np.max(data), 1e-300))
    return {"trajectory_error": float(error / moved) if moved > 0 else float("inf"),
            "rdf_difference": rdf, "agrees": bool(error <= RERUN_TOLERANCE * moved),
            "edges": edges.tolist(), "data": data.tolist(), "rerun": again.tolist()}  # fmt: skip


#: A re-run reproduces the data when its positions stay within this share of
#: the data's own motion over the record (the right phi with the data's
#: integrator: 4e-15 on 108 argon atoms over 400 steps; epsilon 10% high: 0.064).
RERUN_TOLERANCE = 1e-3
