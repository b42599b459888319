"""The paper's central-force problem: simulate in 3-D, reduce to (r, dr/dt).

Checks that the reduced motion conserves the effective-potential energy
V_eff(r) = 1/r + 1/(10 - r) + l^2 / (2 r^2), derived symbolically, and does the
same for the paper author's published radial trajectory.

Run: python examples/central_force_reduction.py [--steps N]
"""

import argparse

import numpy as np
import sympy as sp

import symhamil as sh


def reduced_energy_spread(radial, V_eff):
    r = radial.coords[0]
    V = sp.lambdify(r, V_eff)
    E = radial.p[..., 0] ** 2 / 2 + V(radial.q[..., 0])
    return np.ptp(E, axis=1) / np.abs(E[:, 0])


def main(steps: int) -> None:
    cf = sh.catalog.central_force(L=10)
    x0 = np.random.default_rng(0).uniform(-1, 1, size=(1, 6))  # the paper's recipe
    traj = sh.simulate(cf, x0[:, :3], x0[:, 3:], h=0.001, steps=steps, method="rk")
    radial, ell = sh.reduce_radial(traj)
    V_eff = sh.effective_potential(cf, ell[0])
    print("l =", ell[0], " V_eff(r) =", V_eff)
    print("relative spread of the reduced energy:", reduced_energy_spread(radial, V_eff)[0])

    author = sh.datasets.bhat2019("central_force_radial").select(0)
    l_author = np.sqrt(2 * sh.datasets.CENTRAL_FORCE_RADIAL_L2_HALF)
    V_author = sh.effective_potential(cf, l_author)
    print(
        "author's trajectory 0, l^2/2 = 0.465515: relative spread",
        reduced_energy_spread(author, V_author)[0],
    )


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=int, default=20000)
    main(ap.parse_args().steps)
