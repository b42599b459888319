"""Benchmark: what the data hold beside a potential (issue 20), side by side with
a plain reference in one run.

Cases (synthetic stand-ins for measured data; nothing is tuned to a data set):

damped pendulum  c = 1.3, gamma = 0.01 /s, 556 frames at 6 per second, 0.005 rad
                 noise (1% of the swing), seeds 0-4. symhamil: force_sindy with
                 {cos q, sin q, q, q^2, q^3, q^4} and the frictions {p^2/2, |p|,
                 |p|^3/3}. Reference: plain least squares of
                 d(omega)/dt = -c sin q - gamma omega + b on central differences
                 (what one would write by hand, knowing the law).
coupled carts    m2/m1 = 2.5, springs 4, 2, 3, 30 fps for 20 s, positions only,
                 0.5% noise, seeds 0-4. symhamil: force_sindy(masses="fit") with
                 the quadratic library. Reference: force_sindy with the true
                 masses typed in (``--masses 1 2.5``).
Kepler 3-D       three exact orbits, l = 1.10, 1.14, 0.89, h = 0.005, library
                 {1, 1/r, 1/r^2, r, r^2, log r}: radial_force_sindy against
                 force_sindy on Library.radial (the Cartesian route).

Run: python benchmarks/bench_beyond_potential.py
"""

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import sympy as sp

import symhamil as sh

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_central import RADIAL, kepler_3d  # the tests' data
from test_friction import FRICTIONS, GAMMA, LIBRARY, C, _noisy_pendulum, p_q, q
from test_masses import LIBRARY as CARTS
from test_masses import RATIO, TRUE_FREQUENCIES, carts, frequencies

warnings.simplefilter("ignore")


def timed(f):
    tic = time.perf_counter()
    out = f()
    return out, time.perf_counter() - tic


def pendulum():
    print("damped pendulum: relative error of c, of gamma; support; seconds")
    for seed in range(5):
        tr = _noisy_pendulum(seed)
        fit, t = timed(lambda tr=tr: sh.force_sindy(tr, LIBRARY, friction=FRICTIONS))
        c = -fit.coefficients.get(sp.cos(q), np.nan)
        g = fit.friction_coefficients.get(p_q**2 / 2, np.nan)
        right = set(fit.coefficients) == {sp.cos(q)} and set(fit.friction_coefficients) == {
            p_q**2 / 2
        }
        # Reference: least squares on central differences of the measured omega.
        x, w, h = tr.q[0, :, 0], tr.p[0, :, 0], tr.h
        a = (w[2:] - w[:-2]) / (2 * h)
        A = np.c_[-np.sin(x[1:-1]), -w[1:-1], np.ones(a.size)]
        (c_ref, g_ref, _), *_ = np.linalg.lstsq(A, a, rcond=None)
        print(
            f"  seed {seed}: symhamil c {abs(c - C) / C:.1e}, gamma {abs(g - GAMMA) / GAMMA:.1e},"
            f" {'right' if right else 'WRONG'} support, {t:.1f} s | least squares c "
            f"{abs(c_ref - C) / C:.1e}, gamma {abs(g_ref - GAMMA) / GAMMA:.1e}"
        )


def carts_case():
    print("coupled carts: relative error of m2/m1, worst of the two frequencies; seconds")
    for seed in range(5):
        data = carts(seed=seed)
        fit, t = timed(lambda d=data: sh.force_sindy(d, CARTS, masses="fit"))
        given = sh.Trajectories(q=data.q, p=None, h=data.h, names=data.names,
                                masses=[1.0, RATIO])  # fmt: skip
        ref, t_ref = timed(lambda g=given: sh.force_sindy(g, CARTS))
        ref = ref.replace(masses=(1.0, RATIO))
        err = np.max(np.abs(frequencies(fit) / TRUE_FREQUENCIES - 1))
        err_ref = np.max(np.abs(frequencies(ref) / TRUE_FREQUENCIES - 1))
        ratio = fit.masses[1] / fit.masses[0]
        print(
            f"  seed {seed}: masses fitted: ratio {abs(ratio - RATIO) / RATIO:.1e}, frequencies "
            f"{err:.1e}, {t:.1f} s | masses given: frequencies {err_ref:.1e}, {t_ref:.1f} s"
        )


def kepler_case():
    print("Kepler 3-D, exact: |GM - 1|; support; seconds")
    orbits = kepler_3d()
    kep = sh.catalog.kepler(k=1, dim=3)
    cart = sh.Library.radial(RADIAL.terms, kep.coords)
    for name, f in (
        ("radial_force_sindy", lambda: sh.radial_force_sindy(orbits, RADIAL)),
        ("Library.radial", lambda: sh.force_sindy(orbits, cart)),
    ):
        fit, t = timed(f)
        (_, gm), *others = fit.coefficients.items()
        print(f"  {name:>18}: {abs(gm + 1):.1e}, {len(others) + 1} term(s), {t:.2f} s")


if __name__ == "__main__":
    pendulum()
    carts_case()
    kepler_case()
