"""Masses nobody gave: force_sindy(..., masses="fit") (issue 20, item 2).

Two carts coupled by springs, m2/m1 = 2.5: without the right mass ratio the
forces per unit mass are not a gradient (the force matrix per unit mass is not
symmetric), which is what identifies the ratio."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import warnings

import numpy as np
import pytest
import sympy as sp

import symhamil as sh

x1, x2 = sp.symbols("x1 x2")
#: Springs to the walls (4, 3) and between the carts (2).
K1, K2, K3 = 4.0, 2.0, 3.0
RATIO = 2.5
STIFFNESS = np.array([[K1 + K2, -K2], [-K2, K2 + K3]])
LIBRARY = sh.Library.polynomial((x1, x2), 2, constant=False)
#: The issue's targets: the ratio within 2%, both normal-mode frequencies within 0.5%.
RATIO_TOL, FREQUENCY_TOL = 0.02, 0.005


def carts(seed=0, noise=0.005, fps=30.0, seconds=20.0, p_scale=1.0):
    """Two pieces filmed at ``fps``: positions with Gaussian noise of ``noise`` of
    each coordinate's spread, and momenta on a scale ``p_scale`` off."""
    V = K1 * x1**2 / 2 + K2 * (x2 - x1) ** 2 / 2 + K3 * x2**2 / 2
    system = sh.System(coords=(x1, x2), V=V, masses=(1.0, RATIO))
    tr = sh.simulate(system, [[0.3, -0.1], [-0.2, 0.25]], [[0.0, 0.2], [0.1, 0.0]],
                     h=1 / fps, steps=int(seconds * fps), method="rk")  # fmt: skip
    rng = np.random.default_rng(seed)
    q = tr.q + noise * tr.q.std(axis=(0, 1)) * rng.standard_normal(tr.q.shape)
    return sh.Trajectories(q=q, p=p_scale * tr.p, h=tr.h, names=("x1", "x2"))


def frequencies(fit) -> np.ndarray:
    """The normal-mode frequencies of a quadratic fit at its masses, ascending."""
    c = fit.coefficients
    K = np.array([[2 * c.get(x1**2, 0.0), c.get(x1 * x2, 0.0)],
                  [c.get(x1 * x2, 0.0), 2 * c.get(x2**2, 0.0)]])  # fmt: skip
    return _frequencies(K, np.array(fit.masses))


def _frequencies(K, m):
    scaled = K / np.sqrt(np.outer(m, m))
    return np.sqrt(np.sort(np.linalg.eigvalsh(scaled)))


TRUE_FREQUENCIES = _frequencies(STIFFNESS, np.array([1.0, RATIO]))


#: Exact positions at 300 fps: second differences are biased by (omega h)^2 / 12,
#: 6e-6 of the forces here.
EXACT = 1e-4


def test_exact_data_give_the_mass_ratio_exactly():
    fit = sh.force_sindy(carts(noise=0.0, fps=300.0, seconds=5.0), LIBRARY, masses="fit")
    assert fit.masses[0] == 1.0 and fit.masses_stderr[0] == 0.0
    assert fit.masses[1] == pytest.approx(RATIO, rel=EXACT)
    # V in units of m1 = 1: the springs themselves.
    expected = {x1**2: (K1 + K2) / 2, x1 * x2: -K2, x2**2: (K2 + K3) / 2}
    assert set(fit.coefficients) == set(expected)
    for t, c in expected.items():
        assert fit.coefficients[t] == pytest.approx(c, rel=EXACT)
    assert "masses by regression" in fit.method


def test_without_the_masses_there_is_no_potential():
    # The signal: at unit masses the forces per unit mass have no potential, and
    # the best symmetric fit misses them by far more than the noise.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = carts(noise=0.0, fps=300.0, seconds=5.0)
        wrong = sh.force_sindy(data.positions_only, LIBRARY, refine=False)
        right = sh.force_sindy(data, LIBRARY, masses="fit")
    assert wrong.residual > 1e3 * right.residual


@pytest.mark.slow  # 4 s; the exact-data tests cover the default suite
def test_noisy_positions_give_the_ratio_and_the_frequencies():
    # 0.5% noise, positions only in effect: the measured momenta are 3 times too
    # large, and masses="fit" learns from the positions.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sh.force_sindy(carts(seed=0, p_scale=3.0), LIBRARY, masses="fit")
    ratio = fit.masses[1] / fit.masses[0]
    assert ratio == pytest.approx(RATIO, rel=RATIO_TOL)
    np.testing.assert_allclose(frequencies(fit), TRUE_FREQUENCIES, rtol=FREQUENCY_TOL)
    # The standard error is shooting's and covers the truth at 3 sigma.
    assert 0 < fit.masses_stderr[1] < 0.01
    assert abs(fit.masses[1] - RATIO) < 3 * fit.masses_stderr[1]
    assert "masses fitted by shooting" in fit.method
    back = sh.SparseFit.from_json(fit.to_json())
    assert back.masses == fit.masses and back.masses_stderr == fit.masses_stderr


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(1, 5))
def test_noisy_carts_over_more_seeds(seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sh.force_sindy(carts(seed=seed), LIBRARY, masses="fit")
    assert fit.masses[1] == pytest.approx(RATIO, rel=RATIO_TOL)
    np.testing.assert_allclose(frequencies(fit), TRUE_FREQUENCIES, rtol=FREQUENCY_TOL)


def test_one_known_mass_sets_the_scale():
    data = carts(noise=0.0, fps=300.0, seconds=5.0)
    fit = sh.force_sindy(data, LIBRARY, masses={"x1": 0.35})
    assert fit.masses[0] == 0.35
    assert fit.masses[1] == pytest.approx(0.35 * RATIO, rel=EXACT)
    assert fit.coefficients[x1 * x2] == pytest.approx(-0.35 * K2, rel=EXACT)


@pytest.mark.parametrize(
    ("masses", "error", "message"),
    [
        ({"x1": "fit", "x2": "fit"}, ValueError, "give one"),
        ({"y": 1.0}, ValueError, "'y', which is not a coordinate"),
        ({"x1": -1.0}, ValueError, "the mass of x1"),
        ("guess", ValueError, "'fit' or a dict"),
        ((1.0, 2.0), TypeError, "a dict by coordinate name"),
    ],
)
def test_bad_mass_requests_are_refused(masses, error, message):
    with pytest.raises(error, match=message):
        sh.force_sindy(carts(noise=0.0, seconds=1.0), LIBRARY, masses=masses)
