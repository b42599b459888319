"""Declare a new system from scratch, check it, simulate it, save the data.

Run: python examples/declare_a_system.py [--out DIR]
"""

import argparse
from pathlib import Path

import numpy as np
import sympy as sp

import symhamil as sh


def main(out: Path) -> None:
    # A 2-D anharmonic oscillator with a coupling parameter, given as a Hamiltonian.
    x, y, px, py, g = sp.symbols("x y p_x p_y g")
    H = px**2 / 2 + py**2 / 2 + (x**2 + y**2) / 2 + g * x**2 * y**2
    system = sh.System.from_hamiltonian(H, (x, y), (px, py), params={g: 0.3}, name="coupled")
    print("H =", system.H)
    for eq in system.equations:
        print("  ", eq)

    # Something that is not a separable Hamiltonian is refused, with the term named.
    try:
        sh.System.from_hamiltonian(H + x * px, (x, y), (px, py), params={g: 0.3})
    except ValueError as exc:
        print("refused:", exc)

    rng = np.random.default_rng(0)
    traj = sh.simulate(
        system,
        rng.uniform(-1, 1, (5, 2)),
        rng.uniform(-1, 1, (5, 2)),
        h=0.01,
        steps=2000,
        method="verlet",
        substeps=10,
    )
    print(traj, "max relative energy error", f"{traj.energy_error.max():.2e}")
    out.mkdir(parents=True, exist_ok=True)
    traj.save(out / "coupled.npz")
    back = sh.Trajectories.load(out / "coupled.npz")
    assert np.array_equal(back.q, traj.q)
    print("saved to", out / "coupled.npz")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=Path("out"))
    main(ap.parse_args().out)
