"""Lennard-Jones argon from ASE's molecular dynamics, back to sigma and epsilon.

ASE runs the molecular dynamics with its own ``LennardJones`` calculator
(sigma = 3.405 angstrom, epsilon = 0.0104 eV) and ``VelocityVerlet`` (2 fs) on
an fcc crystal heated to 120 K in a periodic box, and writes an ASE trajectory
file; ``symhamil learn`` reads it back through ASE, recovers phi(r) by pair
force-SINDy and by a neural pair potential, and writes the report with phi(r)
over the histogram of pair distances. Needs the [md] extra (ASE).

Run: python examples/argon_from_ase.py [--atoms 256] [--no-network] [--out argon]
(256 atoms, cutoff 3 sigma: about 8 minutes with the network, 15 s without,
on 2 cores.)
"""

import argparse
import warnings
from pathlib import Path

import numpy as np
from ase import units
from ase.calculators.lj import LennardJones
from ase.lattice.cubic import FaceCenteredCubic
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
from ase.md.verlet import VelocityVerlet

from symhamil.cli import main as symhamil

SIGMA, EPSILON = 3.405, 0.0104


def run_md(path: Path, atoms: int, steps: int) -> float:
    """ASE's own MD; returns the cutoff (3 sigma for 256 atoms, 2.5 sigma for 108,
    whose box is too short for 3 sigma)."""
    size = {108: 3, 256: 4, 500: 5}[atoms]
    rc = (3.0 if atoms >= 256 else 2.5) * SIGMA
    crystal = FaceCenteredCubic(directions=[[1, 0, 0], [0, 1, 0], [0, 0, 1]], symbol="Ar",
                                size=(size,) * 3, latticeconstant=5.7, pbc=True)  # fmt: skip
    crystal.calc = LennardJones(sigma=SIGMA, epsilon=EPSILON, rc=rc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        MaxwellBoltzmannDistribution(crystal, temperature_K=120, rng=np.random.default_rng(0))
    VelocityVerlet(crystal, 2 * units.fs, trajectory=str(path)).run(steps)
    return rc


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--atoms", type=int, default=256, choices=(108, 256, 500))
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--no-network", action="store_true")
    ap.add_argument("--out", default="argon")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rc = run_md(out / "argon.traj", args.atoms, args.steps)
    truth = f"4*{EPSILON}*(({SIGMA}/r)**12 - ({SIGMA}/r)**6)"
    cmd = ["learn", str(out / "argon.traj"), "--cutoff", str(rc), "--truth", truth,
           "--out", str(out / "learned")]  # fmt: skip
    raise SystemExit(symhamil(cmd + (["--no-network"] if args.no_network else [])))
