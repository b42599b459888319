"""Two carts coupled by springs, filmed from above: find the mass ratio nobody gave.

The carts (m2 / m1 = 2.5) hang between two walls on springs k1, k2 (between the
carts) and k3. Filmed at 30 frames per second, positions only, 0.5% noise.
Without the masses there is no potential per unit mass in these coordinates
(the force matrix per unit mass is not symmetric); force-SINDy with
``masses="fit"`` finds the ratio that makes the forces a gradient, and V in
units of the first cart's mass.

Run: python examples/coupled_carts.py [--seed 0] [--ratio 2.5]
"""

import argparse
import time
import warnings

import numpy as np
import sympy as sp

import symhamil as sh


def film(ratio, seed, k=(4.0, 2.0, 3.0), fps=30.0, seconds=20.0, noise=0.005):
    """Two runs of the carts' positions, with noise of ``noise`` of each spread."""
    x1, x2 = sp.symbols("x1 x2")
    k1, k2, k3 = k
    V = k1 * x1**2 / 2 + k2 * (x2 - x1) ** 2 / 2 + k3 * x2**2 / 2
    carts = sh.System(coords=(x1, x2), V=V, masses=(1.0, ratio))
    tr = sh.simulate(carts, [[0.3, -0.1], [-0.2, 0.25]], [[0.0, 0.2], [0.1, 0.0]],
                     h=1 / fps, steps=int(seconds * fps), method="rk")  # fmt: skip
    rng = np.random.default_rng(seed)
    q = tr.q + noise * tr.q.std(axis=(0, 1)) * rng.standard_normal(tr.q.shape)
    return sh.Trajectories(q=q, p=None, h=tr.h, names=("x1", "x2")), carts


def modes(K, m):
    """Normal-mode frequencies (rad/s) of stiffness K at diagonal masses m."""
    return np.sqrt(np.sort(np.linalg.eigvalsh(K / np.sqrt(np.outer(m, m)))))


def stiffness(expr, coords):
    return np.array([[float(sp.diff(expr, a, b)) for b in coords] for a in coords])


def main(seed: int, ratio: float) -> None:
    data, carts = film(ratio, seed)
    x1, x2 = data.coords
    library = sh.Library.polynomial((x1, x2), 2, constant=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unit = sh.force_sindy(data, library)  # as if both masses were 1
        tic = time.perf_counter()
        fit = sh.force_sindy(data, library, masses="fit")
        took = time.perf_counter() - tic
    print(f"unit masses:  V = {unit.rounded()}; {sh.assess(unit, data)}")
    print(f"masses fitted ({took:.1f} s): V = {fit.rounded()}")
    m, se = fit.masses, fit.masses_stderr
    print(f"  m2/m1 = {m[1] / m[0]:.5f} +- {se[1] / m[0]:.2g} (true {ratio})")
    got = modes(stiffness(fit.expression, (x1, x2)), np.array(m))
    true = modes(stiffness(carts.V, (x1, x2)), np.asarray(carts.masses, dtype=float))
    for g, t in zip(got, true, strict=True):
        print(f"  normal mode {g:.5f} rad/s (true {t:.5f}, {100 * (g - t) / t:+.3f}%)")
    print(f"  {sh.assess(fit, data)}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ratio", type=float, default=2.5)
    a = ap.parse_args()
    main(a.seed, a.ratio)
