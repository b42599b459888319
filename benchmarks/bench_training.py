"""Benchmark: training speed against a reference written the paper's way.

In one process, on the harmonic-oscillator data (10 exact circles x 1000 steps,
h = 0.01) and the author's double-well T1 data (10 x 5000 steps, h = 0.001):

1. ms per step of full-batch gradient descent (lr 0.01, the paper's loss (3)):
   (a) reference: grad V by ``batch_jacobian``, one graph-mode call per step;
   (b) symhamil: the same optimizer in its compiled multi-step loop.
2. time to target: wall time until the training loss first reaches the paper's
   final training loss (1.33e-3 and 7.85e-5). Both gradient-descent versions do
   the same arithmetic from the same initial weights, so the reference needs the
   same number of steps as symhamil's GD; its time is that count times its
   measured ms/step (beyond ``--gd-steps`` the count is extrapolated by a power
   law fitted to the tail of the loss curve, and said so). symhamil's default
   recipe (Adam lr 0.03 for 100 steps, then L-BFGS-B, on every 5th pair) is
   timed on the same forward loss, XLA compilation included; and so is the
   default call with no tuning at all,
   ``NeuralPotential(dim=1, hidden=(16, 16)).fit(traj, loss="forward", target_loss=...)``.
3. a default ``fit(traj)`` on small data (a few hundred points), exact and with
   1% noise on p: it must return in seconds, stopping by itself.

Run: python benchmarks/bench_training.py [--gd-steps N]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf

import symhamil as sh
from symhamil.neural import NeuralPotential
from symhamil.neural._data import XLA_MIN_STEPS


def reference_ms_per_step(model: NeuralPotential, traj, steps: int, dtype=tf.float64) -> float:
    """The paper's way: batch_jacobian for grad V, one tf.function call per GD step."""
    d = traj.dim
    x = tf.constant(traj.q[:, :-1].reshape(-1, d), dtype=dtype)
    y = tf.constant(((traj.p[:, 1:] - traj.p[:, :-1]) / traj.h).reshape(-1, d), dtype=dtype)
    weights = [tf.Variable(w, dtype=dtype) for w in model.get_weights()]

    def V(z):
        h = z
        for k in range(len(weights) // 2 - 1):
            h = tf.tanh(h @ weights[2 * k] + weights[2 * k + 1])
        return h @ weights[-2] + weights[-1]  # (K, 1)

    @tf.function
    def step():
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                inner.watch(x)
                v = V(x)
            g = inner.batch_jacobian(v, x)[:, 0, :]
            loss = tf.reduce_mean(tf.reduce_sum((y + g) ** 2, axis=1))
        grads = outer.gradient(loss, weights)
        for w, gr in zip(weights, grads, strict=True):
            if gr is not None:
                w.assign_sub(0.01 * gr)
        return loss

    step()  # trace
    t = time.perf_counter()
    for _ in range(steps):
        step()
    return 1e3 * (time.perf_counter() - t) / steps


def steps_to(history: np.ndarray, target: float) -> tuple[float, bool]:
    hit = np.flatnonzero(history <= target)
    if hit.size:
        return float(hit[0] + 1), False
    # Power law loss ~ a * n^-b on the last half of the curve, extrapolated.
    n = np.arange(1, history.size + 1)
    tail = slice(history.size // 2, None)
    b, loga = np.polyfit(np.log(n[tail]), np.log(history[tail]), 1)
    if b >= 0:
        return float("inf"), True
    return float(np.exp((np.log(target) - loga) / b)), True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--gd-steps", type=int, default=20000)
    ap.add_argument("--ref-steps", type=int, default=200)
    args = ap.parse_args()
    sho = sh.datasets.harmonic_circles()
    dw = sh.datasets.bhat2019("double_well_T1").head(5001)
    rows = []
    for name, traj, target in (
        ("harmonic oscillator", sho, 1.33e-3),
        ("double well T1", dw, 7.85e-5),
    ):
        per_step = {}
        for dtype, tfdtype in (("float64", tf.float64), ("float32", tf.float32)):
            ref_ms = reference_ms_per_step(
                NeuralPotential(dim=1, seed=0), traj, args.ref_steps, tfdtype
            )
            gd = NeuralPotential(dim=1, seed=0, dtype=dtype)
            # Compile outside the timing; a run of XLA_MIN_STEPS or more is a long run
            # (XLA on sets over 5,000 coordinates), as the GD runs to the target are.
            warm = XLA_MIN_STEPS
            gd.fit(traj, steps=warm, optimizer="gd", loss="forward")
            t = time.perf_counter()
            gd.fit(traj, steps=warm + args.ref_steps * 2, optimizer="gd", loss="forward")
            per_step[dtype] = (ref_ms, 1e3 * (time.perf_counter() - t) / (args.ref_steps * 2))

        # Steps plain GD needs to reach the target (same arithmetic as the reference).
        gd = NeuralPotential(dim=1, seed=0)
        gd.fit(traj, steps=args.gd_steps, optimizer="gd", loss="forward", target_loss=target)
        n_target, extrapolated = steps_to(gd.history_, target)

        t = time.perf_counter()
        fast = NeuralPotential(dim=1, seed=0).fit(
            traj,
            steps=100,
            learning_rate=0.03,
            stride=5,
            loss="forward",
            target_loss=target,
            lbfgs_steps=3000,
        )
        fast_time = time.perf_counter() - t
        t = time.perf_counter()
        default = NeuralPotential(dim=1, hidden=(16, 16), seed=0).fit(
            traj, loss="forward", target_loss=target
        )
        default_time = time.perf_counter() - t
        rows.append(
            (
                name,
                per_step,
                n_target,
                extrapolated,
                fast_time,
                fast.loss(traj, "forward"),
                target,
                default_time,
                default.loss(traj, "forward"),
            )
        )

    print("Per step, full-batch gradient descent, lr 0.01, loss (3) [ms/step]:")
    print(f"{'problem':22s}{'dtype':>9s}{'reference':>11s}{'symhamil':>10s}{'ratio':>8s}")
    for name, per_step, *_ in rows:
        for dtype, (r, s) in per_step.items():
            print(f"{name:22s}{dtype:>9s}{r:11.2f}{s:10.2f}{r / s:8.2f}")
    print()
    print("Time to the paper's final training loss (float64):")
    print(
        f"{'problem':22s}{'target':>9s}{'GD steps':>10s}{'reference [s]':>15s}"
        f"{'symhamil [s]':>14s}{'ratio':>8s}{'loss reached':>14s}"
    )
    for name, per_step, n, ex, ft, loss, target, *_ in rows:
        rt = per_step["float64"][0] * n / 1e3
        print(
            f"{name:22s}{target:9.2e}{n:>9.0f}{'*' if ex else ' '}{rt:15.1f}{ft:14.2f}"
            f"{rt / ft:8.0f}{loss:14.3e}"
        )
    print("* extrapolated from the tail of the GD loss curve (power law), beyond --gd-steps.")
    print("symhamil recipe: Adam (lr 0.03, 100 steps) then L-BFGS-B, every 5th pair (stride 5),")
    print("stopping at the target; wall time includes XLA compilation. 'loss reached' is on all")
    print("pairs.")
    print()
    print("The default call, no tuning: fit(traj, loss='forward', target_loss=target):")
    print(f"{'problem':22s}{'reference [s]':>15s}{'default [s]':>13s}{'ratio':>8s}{'loss':>12s}")
    for name, per_step, n, _, _, _, _, dt, dloss in rows:
        rt = per_step["float64"][0] * n / 1e3
        print(f"{name:22s}{rt:15.1f}{dt:13.2f}{rt / dt:8.0f}{dloss:12.3e}")
    print()
    print("A default fit(traj) on small data (stops by itself):")
    rng = np.random.default_rng(0)
    small = sh.datasets.harmonic_circles(R=3, steps=100)
    noisy = sh.Trajectories(
        q=small.q,
        p=small.p + 0.01 * small.p.std() * rng.standard_normal(small.p.shape),
        h=small.h,
    )
    for label, data in (("exact, 303 points", small), ("1% noise on p, 303 points", noisy)):
        t = time.perf_counter()
        m = NeuralPotential(dim=1, seed=0).fit(data)
        print(
            f"  {label:28s}{time.perf_counter() - t:7.2f} s  {m.n_steps_} Adam + "
            f"{m.n_lbfgs_} L-BFGS-B, loss {m.loss_:.3e}"
        )


if __name__ == "__main__":
    main()
