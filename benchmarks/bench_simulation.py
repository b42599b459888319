"""Benchmark: the paper's Coulomb data set with Stormer-Verlet.

R = 1000 trajectories x 10000 steps, h = 0.001, d = 6, 10 Verlet substeps per
saved sample (100,000 force evaluations on 1000 particles pairs), standard
normal initial conditions as in the paper.

Side by side in one run:
- reference: a textbook vectorised velocity Verlet on (R, d) arrays calling the
  public ``System.force`` (strided columns, a fresh array per force call);
- symhamil: ``simulate(..., method="verlet")`` ((d, R) rows, in-place updates).

Run: python benchmarks/bench_simulation.py [--trajectories R] [--steps N]
"""

import argparse
import time
import warnings

import numpy as np

import symhamil as sh


def reference_verlet(system, q0, p0, h, steps, substeps):
    dt = h / substeps
    minv = 1.0 / system.mass_array
    q, p = q0.copy(), p0.copy()
    qs = np.empty((q0.shape[0], steps + 1, q0.shape[1]))
    ps = np.empty_like(qs)
    qs[:, 0], ps[:, 0] = q, p
    F = system.force(q)
    for n in range(1, steps + 1):
        for _ in range(substeps):
            p = p + 0.5 * dt * F
            q = q + dt * minv * p
            F = system.force(q)
            p = p + 0.5 * dt * F
        qs[:, n], ps[:, n] = q, p
    return qs, ps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--trajectories", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=10000)
    ap.add_argument("--substeps", type=int, default=10)
    args = ap.parse_args()
    system = sh.catalog.coulomb_pair()
    rng = np.random.default_rng(0)
    shape = (args.trajectories, 6)
    q0, p0 = rng.standard_normal(shape), rng.standard_normal(shape)
    system.force(q0)  # lambdify once, outside the timings

    t = time.perf_counter()
    q_ref, _ = reference_verlet(system, q0, p0, 0.001, args.steps, args.substeps)
    t_ref = time.perf_counter() - t

    t = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        traj = sh.simulate(
            system, q0, p0, h=0.001, steps=args.steps, substeps=args.substeps, warn_above=1e-4
        )
    t_sym = time.perf_counter() - t

    print(
        f"Coulomb pair, R={args.trajectories}, steps={args.steps}, substeps={args.substeps}, "
        "h=0.001, d=6"
    )
    print(f"{'':28s}{'wall time [s]':>14s}")
    print(f"{'reference (R, d) Verlet':28s}{t_ref:14.1f}")
    print(
        f"{'symhamil simulate(verlet)':28s}{t_sym:14.1f}   (ratio {t_ref / t_sym:.2f}x, "
        "energy errors included)"
    )
    print(f"max |q_symhamil - q_reference| = {np.abs(traj.q - q_ref).max():.2e}")
    err = traj.energy_error
    print(
        f"relative energy error: median {np.median(err):.1e}, 99th percentile "
        f"{np.percentile(err, 99):.1e}, max {err.max():.1e}; "
        f"{int((err > 1e-4).sum())} trajectories above 1e-4"
    )
    for w in caught:
        print("warning:", w.message)


if __name__ == "__main__":
    main()
