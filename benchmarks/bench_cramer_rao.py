"""Benchmark: the default force_sindy against the Cramer-Rao bound of whole trajectories.

Three systems, each simulated exactly (RK at rtol 1e-12) from a handful of
initial conditions, with Gaussian noise of 1% of each coordinate's standard
deviation added to q and p (seeds 1-10):

pendulum        V = -c cos q, c = 1; 4 swings of amplitude 0.5 to 2.5 rad;
                library {1, cos q, sin q, q, q^2}
Henon-Heiles    V = (x^2 + y^2)/2 + x^2 y - y^3/3; 4 orbits at energies
                0.06-0.12 (regular and mildly chaotic); polynomials to degree 3
tilted quartic  V = q^4/4 - q^2/2 + q/10; 4 orbits, two in a well and two over
                the barrier; polynomials to degree 6

Every system: h = 0.05, 1001 samples per orbit (50 time units, 6-8 periods).

The bound is the inverse Fisher information of the noisy samples with respect
to the coefficients of the true terms, with every orbit's initial state a
nuisance parameter ("whole"), or with every segment of 2 tau its own free
start ("2 tau segments", what shooting over independent segments can reach).
The Fisher information is J^T J of the residuals in noise units, J by forward
differences of RK4 trajectories (the refinement's own machinery). The bound's
"expected median" is the median over 5,000 Gaussian draws from the bound's
covariance of the largest relative coefficient error: what an efficient
unbiased estimator's median error would be.

Two estimators side by side: symhamil's default ``force_sindy(traj, lib)``,
and the reference, the same regression refined by shooting over independent
segments of 2 tau only (symhamil's default before shooting was continued to
whole pieces). For each: exact supports out of the seeds, the median of the largest
relative coefficient error, the ratio of that median to the whole-trajectory
bound's expected median, the fit's own standard errors against the bound (the
largest ratio over the true terms, median over seeds: 1 is efficient), the RMS
of the errors in units of those standard errors (1 when the intervals are
honest) and the mean wall time of one fit. The median of a few seeds scatters:
over 10 seeds, by about 25% about its expectation.

Run: python benchmarks/bench_cramer_rao.py [--seeds N]   (20 seeds: about 5 minutes)
"""

import sys
import time
import warnings

import numpy as np
import sympy as sp
from bench_noise import noisy as with_noise  # the same noise model, written once

import symhamil as sh
from symhamil.data.noise import noise_level, time_scale
from symhamil.sindy.refinement import (
    SEGMENT_FRACTION,
    _batched_gradient,
    _segments,
    _Shooting,
    refine,
)
from symhamil.systems.integrators import substeps_for

q, x, y = sp.symbols("q x y")
H, STEPS, NOISE = 0.05, 1000, 0.01


def _system(V, coords, name):
    return sh.System(coords=coords, V=V, name=name)


def cases():
    """(name, system, true potential's varying terms {term: coefficient}, library, q0, p0)."""
    pend = _system(-sp.cos(q), (q,), "pendulum")
    amps = np.array([0.5, 1.2, 1.9, 2.5])
    yield (
        "pendulum",
        pend,
        {sp.cos(q): -1.0},
        sh.Library([sp.Integer(1), sp.cos(q), sp.sin(q), q, q**2], (q,)),
        amps[:, None],
        np.zeros((4, 1)),
    )
    hh = sh.catalog.henon_heiles()
    q0 = np.array([[0.0, 0.1], [0.0, -0.15], [0.0, 0.2], [0.1, 0.0]])
    energies = np.array([0.06, 0.08, 0.1, 0.12])
    V0 = np.array([float(hh.V.subs({x: a, y: b})) for a, b in q0])
    p0 = np.stack([np.sqrt(2 * (energies - V0)), np.zeros(4)], axis=1)
    yield (
        "Henon-Heiles",
        hh,
        {x**2: 0.5, y**2: 0.5, x**2 * y: 1.0, y**3: -1 / 3},
        sh.Library.polynomial((x, y), 3),
        q0,
        p0,
    )
    quart = _system(q**4 / 4 - q**2 / 2 + q / 10, (q,), "tilted quartic")
    yield (
        "tilted quartic",
        quart,
        {q: 0.1, q**2: -0.5, q**4: 0.25},
        sh.Library.polynomial((q,), 6),
        np.array([[-1.3], [0.6], [1.8], [-2.0]]),
        np.zeros((4, 1)),
    )


def noisy(traj, seed):
    """bench_noise's noise: NOISE of each coordinate's spread on q and p."""
    return with_noise(traj, NOISE, seed)


def bound(traj, truth, segment=None):
    """Relative standard deviations and covariance (relative units) of the true
    terms' coefficients: whole pieces, or segments of ``segment`` samples."""
    terms = list(truth)
    beta = np.array([truth[t] for t in terms])
    noise = noise_level(noisy(traj, 0))  # the estimate the fits use
    sigmas = [NOISE * traj.q.std(axis=(0, 1)), NOISE * traj.p.std(axis=(0, 1))]
    tau = time_scale(traj, noise)
    L = int(traj.sizes.max()) if segment is None else segment
    seg = _segments(traj, L)
    problem = _Shooting(
        traj, seg, sigmas, traj.mass_array, substeps_for(traj, None, tau),
        _batched_gradient(terms, traj.coords), len(terms),
    )  # fmt: skip
    states = np.stack([traj.q[seg.rows, seg.starts], traj.p[seg.rows, seg.starts]], axis=1)
    r, _ = problem.evaluate(beta, states)
    A, B = problem.jacobian(beta, states, r)
    U = np.einsum("snk,snl->skl", B, B)
    W = np.einsum("snk,snj->skj", B, A)
    info = np.einsum("snj,snl->jl", A, A) - np.einsum("skj,skl->jl", W, np.linalg.solve(U, W))
    cov = np.linalg.inv(info) / np.outer(beta, beta)
    return np.sqrt(np.diag(cov)), cov, tau


def expected_median(cov, draws=5000):
    z = np.random.default_rng(0).multivariate_normal(np.zeros(len(cov)), cov, size=draws)
    return float(np.median(np.abs(z).max(axis=1)))


def _fmt(values) -> str:
    return "[" + ", ".join(f"{v:.2e}" for v in values) + "]"


def default_fit(data, lib):
    """symhamil's default: coefficients and standard errors of force_sindy."""
    fit = sh.force_sindy(data, lib)
    return dict(fit.coefficients), dict(fit.stderr or {})


def segments_fit(data, lib):
    """The reference (symhamil before this benchmark): the same regression, then
    shooting over independent segments of 2 tau only."""
    fit = sh.force_sindy(data, lib, refine=False)
    r = refine(fit, data, continuation=False)
    return dict(r.coefficients), dict(r.stderr)


ESTIMATORS = {"force_sindy (default)": default_fit, "segments of 2 tau only": segments_fit}


def measure(estimate, clean, truth, lib, rel, seeds) -> dict:
    errs, exact, secs, eff, zs = [], 0, [], [], []
    for seed in seeds:
        data = noisy(clean, seed)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got, se = estimate(data, lib)
        secs.append(time.perf_counter() - t0)
        exact += {t for t in got if t.free_symbols} == set(truth)
        errs.append(max(abs(got.get(t, 0.0) - c) / abs(c) for t, c in truth.items()))
        # The fit's own standard errors against the bound (1 = efficient).
        pairs = zip(truth.items(), rel, strict=True)
        eff.append(max(se.get(t, np.inf) / abs(c) / b for (t, c), b in pairs))
        zs += [(got.get(t, 0.0) - c) / se.get(t, np.inf) for t, c in truth.items()]
    return {
        "exact": exact,
        "median": float(np.median(errs)),
        "stderr_ratio": float(np.median(eff)),
        "z_rms": float(np.sqrt(np.mean(np.square(zs)))),
        "seconds": float(np.mean(secs)),
    }


def main() -> None:
    seeds = range(1, 11)
    if "--seeds" in sys.argv:
        seeds = range(1, 1 + int(sys.argv[sys.argv.index("--seeds") + 1]))
    n = len(seeds)
    print(f"1% noise on q and p, h = {H}, {STEPS + 1} samples x 4 orbits; seeds {list(seeds)}")
    rows = []
    for name, system, truth, lib, q0, p0 in cases():
        clean = sh.simulate(system, q0, p0, h=H, steps=STEPS, method="rk")
        rel, cov, tau = bound(clean, truth)
        seg_len = round(SEGMENT_FRACTION * tau / H)
        rel_seg, cov_seg, _ = bound(clean, truth, seg_len)
        whole, segs = expected_median(cov), expected_median(cov_seg)
        print(
            f"\n{name}: tau = {tau:.3g}, segments of 2 tau = {seg_len} samples\n"
            f"  bound, whole trajectories: rel. std {_fmt(rel)}, "
            f"expected median of the largest error {whole:.3g}\n"
            f"  bound, 2-tau segments:     rel. std {_fmt(rel_seg)}, "
            f"expected median {segs:.3g}"
        )
        for label, estimate in ESTIMATORS.items():
            m = measure(estimate, clean, truth, lib, rel, seeds)
            rows.append((name, label, whole, segs, m))
            print(
                f"  {label}: exact {m['exact']}/{n}, median largest error {m['median']:.3g} = "
                f"{m['median'] / whole:.2f} x the whole-trajectory bound, "
                f"{m['seconds']:.2f} s per fit; standard errors {m['stderr_ratio']:.2f} x the "
                f"bound's, errors / standard errors RMS {m['z_rms']:.2f}"
            )
    print(
        "\n| system | estimator | exact | median error | / whole bound | / 2-tau bound | "
        "stderr / bound | RMS error / stderr | s/fit |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, label, whole, segs, m in rows:
        print(
            f"| {name} | {label} | {m['exact']}/{n} | {m['median']:.3g} | "
            f"{m['median'] / whole:.2f} | {m['median'] / segs:.2f} | {m['stderr_ratio']:.2f} | "
            f"{m['z_rms']:.2f} | {m['seconds']:.2f} |"
        )


if __name__ == "__main__":
    main()
