"""Benchmark: the cost of many bodies, N = 8 to 4096 particles.

A 3-D Lennard-Jones fluid (sigma = epsilon = 1, cutoff 2.5 sigma) in a periodic
box at fixed density 0.8 (so the pairs within the cutoff grow like N; the
boxes of 8 and 64 particles are shorter than 5 sigma, so there the cutoff is
half the box, as the minimum-image convention requires), 20
velocity-Verlet samples (h = 0.005) from a jittered simple-cubic lattice. For
each N, in a fresh process (so the peak memory is that N's own):

* pairs within the cutoff per sample, and N(N-1)/2 for comparison;
* ``sh.pair_force_sindy`` with the inverse powers 1..12 (``kind="midpoint"``,
  ``select="bic"``): wall time and the recovered sigma, epsilon;
* ``PairPotential`` training: ms per Adam step (full batch, 50 steps fused in
  one compiled call after a warm-up call that compiles), and the process's peak
  resident memory.

Then, for N = 64: the same 30 Adam steps on one device and on a
``tf.distribute.MirroredStrategy`` over two logical CPU devices, from the same
initial weights; the loss curves agree to rounding.

Run: python benchmarks/bench_pairs.py [--sizes 8 64 512 4096]
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

DENSITY, CUTOFF, H, SAMPLES = 0.8, 2.5, 0.005, 20


def fluid(N: int, seed: int = 0):
    """Simulated LJ fluid of about N particles (the lattice is rounded to n^3)."""
    import symhamil as sh

    n = round(N ** (1 / 3))
    L = (n**3 / DENSITY) ** (1 / 3)
    a = L / n
    g = np.stack(np.meshgrid(*[np.arange(n)] * 3, indexing="ij"), -1).reshape(-1, 3) * a
    rng = np.random.default_rng(seed)
    q0 = (g + rng.uniform(-0.05, 0.05, g.shape) * a).reshape(-1)
    p0 = rng.normal(0, 1.0, g.shape)
    p0 -= p0.mean(0)
    cutoff = min(CUTOFF, L / 2)
    system = sh.catalog.lennard_jones(particles=n**3, dim=3, box=L, cutoff=cutoff)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # energy error ~3e-4 at h = 0.005 is expected
        traj = sh.simulate(system, q0, p0.reshape(-1), h=H, steps=SAMPLES - 1, substeps=1)
    return system, traj


def one(N: int) -> dict:
    import symhamil as sh
    from symhamil.data.geometry import pair_distances

    t = time.perf_counter()
    system, traj = fluid(N)
    t_sim = time.perf_counter() - t
    N = system.particles
    pairs = pair_distances(traj, cutoff=system.cutoff).size / traj.n_points
    r = sh.catalog.R
    t = time.perf_counter()
    lib = sh.Library.inverse_powers(r, 12, constant=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # inverse powers are nearly collinear; said in the docs
        # Velocity-Verlet samples: the midpoint observation is exact. Twenty samples
        # are too few for the noise estimate, so the kind is given; BIC, not the
        # residual rule, finds the sparse model among collinear inverse powers.
        fit = sh.pair_force_sindy(
            traj, lib, cutoff=system.cutoff, kind="midpoint", selection=sh.Selection(rule="bic")
        )
    t_sindy = time.perf_counter() - t
    c12, c6 = fit.coefficients.get(r**-12, np.nan), fit.coefficients.get(r**-6, np.nan)

    import tensorflow as tf

    from symhamil.neural import PairPotential

    model = PairPotential(particles=N, dim=3, box=system.box, cutoff=system.cutoff)
    model.fit(traj, steps=5, optimizer="adam", lbfgs_steps=0, verbose=False, chunk=5)  # compiles
    t = time.perf_counter()
    model.fit(traj, steps=55, optimizer="adam", lbfgs_steps=0, verbose=False, chunk=50)
    ms_step = 1e3 * (time.perf_counter() - t) / 50
    del tf
    return {
        "N": N,
        "cutoff": system.cutoff,
        "pairs": pairs,
        "all_pairs": N * (N - 1) // 2,
        "simulate_s": t_sim,
        "sindy_s": t_sindy,
        "sigma_err": abs((c12 / -c6) ** (1 / 6) - 1),
        "eps_err": abs(c6**2 / (4 * c12) - 1),
        "ms_per_step": ms_step,
        "peak_MiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def mirrored() -> dict:
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )
    from symhamil.neural import PairPotential

    system, traj = fluid(64)
    # Two trajectories so that each replica gets one.
    _, traj2 = fluid(64, seed=1)
    traj = traj.concatenate(traj2)
    kw = dict(steps=30, optimizer="adam", lbfgs_steps=0, verbose=False)
    geo = dict(particles=64, dim=3, box=system.box, cutoff=system.cutoff)
    one_dev = PairPotential(**geo).fit(traj, **kw)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    two = PairPotential(**geo)
    two.fit(traj, strategy=strategy, **kw)
    a, b = one_dev.history_, two.history_
    return {
        "replicas": strategy.num_replicas_in_sync,
        "first_loss": float(a[0]),
        "last_loss": (float(a[-1]), float(b[-1])),
        "max_rel_diff": float(np.max(np.abs(a - b) / np.abs(a))),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[8, 64, 512, 4096])
    ap.add_argument("--one", type=int)
    ap.add_argument("--mirrored", action="store_true")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return
    if args.mirrored:
        print(json.dumps(mirrored()))
        return
    print(f"LJ fluid, density {DENSITY}, cutoff {CUTOFF}, {SAMPLES} samples; one process per N")
    print(f"{'N':>6} {'cutoff':>6} {'pairs<rc':>9} {'all pairs':>10} {'simulate':>9} {'SINDy':>8} "
          f"{'sigma err':>9} {'eps err':>8} {'ms/step':>8} {'peak MiB':>9}")  # fmt: skip
    rows = []
    for N in args.sizes:
        out = subprocess.run([sys.executable, __file__, "--one", str(N)],
                             capture_output=True, text=True, check=True)  # fmt: skip
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(f"{row['N']:>6} {row['cutoff']:>6.2f} {row['pairs']:>9.0f} {row['all_pairs']:>10} "
              f"{row['simulate_s']:>8.2f}s {row['sindy_s']:>7.2f}s {row['sigma_err']:>9.1e} "
              f"{row['eps_err']:>8.1e} {row['ms_per_step']:>8.2f} {row['peak_MiB']:>9.0f}",
              flush=True)  # fmt: skip
    if len(rows) > 1:
        a, b = rows[-2], rows[-1]
        k = b["pairs"] / a["pairs"]
        ks, kt = b["sindy_s"] / a["sindy_s"], b["ms_per_step"] / a["ms_per_step"]
        print(f"pairs x{k:.0f} from N={a['N']} to {b['N']}: SINDy time x{ks:.0f}, "
              f"ms/step x{kt:.0f}")  # fmt: skip
    out = subprocess.run([sys.executable, __file__, "--mirrored"],
                         capture_output=True, text=True, check=True)  # fmt: skip
    m = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"MirroredStrategy over {m['replicas']} logical CPUs, N = 64, 30 Adam steps: loss "
          f"{m['first_loss']:.4g} -> {m['last_loss'][0]:.6g} (one device) / "
          f"{m['last_loss'][1]:.6g} (mirrored), max relative difference "
          f"{m['max_rel_diff']:.1e}")  # fmt: skip


if __name__ == "__main__":
    main()
