"""Three Kepler orbits in 3-D with different angular momenta: V(r) from one radial library.

Two ways to one formula:

1. ``Library.radial``: terms of r = |q| written in x, y, z; force-SINDy fits
   every orbit together in Cartesian coordinates, and the result prints in r.
2. ``radial_force_sindy``: each orbit reduced to its radius, its own measured
   centrifugal term l^2/2mr^2 subtracted, and one V(r) fitted to all.

Run: python examples/kepler_3d.py [--noise 0.0]
"""

import argparse
import time
import warnings

import numpy as np
import sympy as sp

import symhamil as sh


def main(noise: float) -> None:
    kepler = sh.catalog.kepler(k=1, dim=3)  # V = -1/r, GM = 1
    q0 = np.array([[1.0, 0.0, 0.0], [0.0, 1.5, 0.0], [0.7, 0.0, 0.7]])
    p0 = np.array([[0.0, 1.1, 0.1], [-0.7, 0.0, 0.3], [0.0, 0.9, 0.0]])
    orbits = sh.simulate(kepler, q0, p0, h=0.005, steps=1500, method="rk")
    if noise:
        rng = np.random.default_rng(0)
        orbits = sh.Trajectories(
            q=orbits.q + noise * orbits.q.std() * rng.standard_normal(orbits.q.shape),
            p=orbits.p + noise * orbits.p.std() * rng.standard_normal(orbits.p.shape),
            h=orbits.h, names=orbits.names,
        )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # with noise, l is conserved only to the noise
        _, ell = sh.reduce_radial(orbits)
    print("angular momenta of the orbits:", np.round(ell, 4))
    in_r = ["1", "1/r", "1/r**2", "r", "r**2", "log(r)"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # log r and the powers nearly combine; l with noise
        tic = time.perf_counter()
        cartesian = sh.force_sindy(orbits, sh.Library.radial(in_r, kepler.coords))
        t1 = time.perf_counter() - tic
        r = sp.Symbol("r")
        tic = time.perf_counter()
        radial = sh.radial_force_sindy(
            orbits, sh.Library([sp.sympify(t, {"r": r}) for t in in_r], (r,))
        )
        t2 = time.perf_counter() - tic
    for name, fit, took in (("Library.radial", cartesian, t1), ("radial_force_sindy", radial, t2)):
        gm = -next(iter(fit.coefficients.values()))
        print(f"{name:>18}: V = {fit.rounded()}   (GM error {abs(gm - 1):.1e}, {took:.2f} s)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--noise", type=float, default=0.0, help="noise, share of the spread")
    main(ap.parse_args().noise)
