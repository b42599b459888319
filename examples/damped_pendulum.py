"""A damped pendulum filmed by a camera: learn V(q) and the friction R(p) together.

The pendulum obeys dq/dt = p, dp/dt = -c sin(q) - gamma p; the camera reads the
angle with an offset a (so V = -c cos(q - a): a sin q term appears), at 6 frames
per second, with 1% noise. force-SINDy with a friction library (Rayleigh
functions in p_q: linear damping p_q^2/2, Coulomb friction |p_q|, quadratic
drag |p_q|^3/3) selects the potential's and the friction's terms together;
the damped rollout follows the whole record, where a potential alone drifts a
full phase.

Run: python examples/damped_pendulum.py [--seed 0] [--gamma 0.01]
"""

import argparse
import time
import warnings

import numpy as np
import sympy as sp

import symhamil as sh


def film(c, gamma, offset, seed, fps=6.0, seconds=92.5, noise=0.005):
    """The camera's record: angles (offset, noisy) and angular velocities."""
    q, p_q = sp.symbols("q p_q")
    pendulum = sh.System(coords=(q,), V=-c * sp.cos(q))
    steps = int(seconds * fps)
    tr = sh.simulate(pendulum, [1.0], [0.0], h=1 / fps, steps=steps, method="rk",
                     friction=gamma * p_q**2 / 2)  # fmt: skip
    rng = np.random.default_rng(seed)
    angle = tr.q + offset + noise * rng.standard_normal(tr.q.shape)
    omega = tr.p + noise * fps * 0.5 * rng.standard_normal(tr.p.shape)
    return sh.Trajectories(q=angle, p=omega, h=tr.h, names=("q",))


def main(seed: int, gamma: float, c: float = 1.3, offset: float = 0.02) -> None:
    data = film(c, gamma, offset, seed)
    q, p_q = data.coords[0], data.momentum_symbols[0]
    print(f"data: {data}; momenta named {data.momentum_symbols}")
    library = sh.Library([sp.cos(q), sp.sin(q), q, q**2, q**3, q**4], (q,))
    friction = sh.Library([p_q**2 / 2, sp.Abs(p_q), sp.Abs(p_q) ** 3 / 3], (p_q,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sh.LibraryWarning)  # cos q ~ q^2 at these swings
        tic = time.perf_counter()
        fit = sh.force_sindy(data, library, friction=friction)
        took = time.perf_counter() - tic
        plain = sh.force_sindy(data, library)
    print(f"V = {fit.rounded()}")
    print(f"R = {fit.rounded_friction()}   ({took:.1f} s; {fit.method})")
    for term, value in {**fit.coefficients, **fit.friction_coefficients}.items():
        print(f"   {term!s:>14}: {value:+.6f} +- {fit.stderr[term]:.2g}")
    # -c cos(q - a) = -c cos(a) cos q - c sin(a) sin q
    cos_c, sin_c = fit.coefficients.get(sp.cos(q), 0.0), fit.coefficients.get(sp.sin(q), 0.0)
    a = np.arctan2(-sin_c, -cos_c)
    print(
        f"c = {np.hypot(cos_c, sin_c):.5f} (true {c}), offset = {a:.4f} "
        f"rad (true {offset}), gamma = {fit.friction_coefficients.get(p_q**2 / 2, 0):.5f} "
        f"(true {gamma})"
    )
    for name, f in (("with friction", fit), ("potential alone", plain)):
        ro = sh.rollout(f, data)
        verdict = sh.assess(f, data)
        print(f"{name:>16}: rollout RMS {ro.rms:.3g} rad over {data.t[-1]:.0f} s; {verdict}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--gamma", type=float, default=0.01)
    a = ap.parse_args()
    main(a.seed, a.gamma)
