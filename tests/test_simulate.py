"""Integrators against the exact harmonic oscillator: orders, conservation, faults."""

import warnings

import numpy as np
import pytest
import sympy as sp

import symhamil as sh
from symhamil import catalog

SHO = catalog.harmonic_oscillator()
Q0 = np.zeros((3, 1))
P0 = np.array([[1.0], [2.0], [3.0]])

# A log-log fit over a factor of 8 in h recovers a scheme's order to about 1-2%
# in its asymptotic range; 0.1 is loose enough for rounding, tight enough that
# a scheme of the neighbouring order fails.
ORDER_TOL = 0.1


def _exact_q(traj):
    return P0 * np.sin(traj.t)  # circles through (0, p0): q = p0 sin t


def _order(method, hs):
    errs = []
    for h in hs:
        tr = sh.simulate(
            SHO, Q0, P0, h=h, steps=round(4 / h), method=method, substeps=1, warn_above=None
        )
        errs.append(np.abs(tr.q[..., 0] - _exact_q(tr)).max())
    slope = np.polyfit(np.log(hs), np.log(errs), 1)[0]
    return slope, errs


def test_verlet_is_second_order():
    slope, _ = _order("verlet", [0.1, 0.05, 0.025, 0.0125])
    assert abs(slope - 2) < ORDER_TOL


def test_rk4_is_fourth_order():
    slope, _ = _order("rk4", [0.2, 0.1, 0.05, 0.025])
    assert abs(slope - 4) < ORDER_TOL


def test_one_rk4_serves_simulation_rollout_and_shooting():
    """RK4 is written once (systems.integrators.rk4_step): simulate's march over a
    (d, R) state and the rollouts' integrate over (R, d) do the same arithmetic,
    so a declared system and its rollout agree bit for bit."""
    from symhamil.systems.integrators import integrate

    well = catalog.double_well()
    q0, p0 = np.array([[0.3], [1.2]]), np.array([[0.5], [-0.1]])
    tr = sh.simulate(well, q0, p0, h=0.01, steps=300, method="rk4", substeps=3)
    grad = sh.as_potential(well).gradient
    q, p = integrate(grad, q0, p0, 0.01, 300, well.mass_array, substeps=3)
    np.testing.assert_array_equal(q, tr.q)
    np.testing.assert_array_equal(p, tr.p)


def test_substeps_refine_a_fixed_step_scheme():
    coarse = sh.simulate(SHO, Q0, P0, h=0.1, steps=40, substeps=1, warn_above=None)
    fine = sh.simulate(SHO, Q0, P0, h=0.1, steps=40, substeps=4, warn_above=None)
    err = [np.abs(t.q[..., 0] - _exact_q(t)).max() for t in (coarse, fine)]
    assert err[0] / err[1] == pytest.approx(16, rel=0.05)  # (h / (h/4))^2


def test_adaptive_rk_error_follows_its_tolerance():
    errs = []
    tols = [1e-6, 1e-8, 1e-10, 1e-12]
    for tol in tols:
        tr = sh.simulate(SHO, Q0, P0, h=0.1, steps=100, method="rk", rtol=tol, atol=tol)
        errs.append(np.abs(tr.q[..., 0] - _exact_q(tr)).max())
    # "Tolerance proportionality": error ~ C * tol, within a factor 10 over 6 decades.
    slope = np.polyfit(np.log(tols), np.log(errs), 1)[0]
    assert abs(slope - 1) < ORDER_TOL
    assert errs[-1] < 1e-10


def test_exact_flow_is_the_circle():
    tr = sh.simulate(SHO, Q0, P0, h=0.01, steps=1000, method="exact")
    np.testing.assert_allclose(tr.q[..., 0], _exact_q(tr), atol=1e-12)
    np.testing.assert_allclose(tr.p[..., 0], P0 * np.cos(tr.t), atol=1e-12)
    assert tr.energy_error.max() < 1e-12


def test_exact_flow_with_mass_frequency_and_linear_term():
    m, w, f = 2.0, 3.0, 0.5
    qq = sp.Symbol("q")
    s = sh.System(coords=(qq,), V=m * w**2 * qq**2 / 2 - f * qq, masses=(m,))
    tr = sh.simulate(s, [[0.0]], [[0.0]], h=0.01, steps=300, method="exact")
    # Starting at rest: q(t) = f/(m w^2) (1 - cos w t).
    np.testing.assert_allclose(tr.q[0, :, 0], f / (m * w**2) * (1 - np.cos(w * tr.t)), atol=1e-13)


def test_exact_refuses_nonlinear_systems():
    with pytest.raises(ValueError, match="polynomial of degree <= 2"):
        sh.simulate(catalog.double_well(), [0.0], [0.5], h=0.01, steps=10, method="exact")


def test_verlet_energy_error_is_bounded_and_second_order():
    """Symplectic: energy oscillates at O(h^2) without drift over 10^5 steps."""
    dw = catalog.double_well()
    q0, p0 = [[-0.15], [0.95]], [[-0.48], [-0.41]]  # left well, and across the barrier
    maxerr = {}
    for h in (0.02, 0.01):
        tr = sh.simulate(dw, q0, p0, h=h, steps=100_000, substeps=1, warn_above=None)
        E = tr.energy(dw)
        dE = np.abs(E - E[:, :1])
        tenth = dE.shape[1] // 10
        # No drift: the last tenth is no worse than the first (a non-symplectic
        # scheme of this order grows linearly, by ~10x over these windows).
        assert np.all(dE[:, -tenth:].max(axis=1) < 1.5 * dE[:, :tenth].max(axis=1))
        maxerr[h] = dE.max()
    assert maxerr[0.02] / maxerr[0.01] == pytest.approx(4, rel=0.15)
    assert maxerr[0.01] < 1e-3


def test_rk4_energy_drifts_where_verlet_does_not():
    """The contrast that makes the previous test meaningful."""
    dw = catalog.double_well()
    tr = sh.simulate(
        dw, [[0.95]], [[-0.41]], h=0.05, steps=20_000, method="rk4", substeps=1, warn_above=None
    )
    dE = np.abs(tr.energy(dw)[0] - tr.energy(dw)[0, 0])
    assert dE[-2000:].max() > 3 * dE[:2000].max()


def test_vectorised_matches_one_at_a_time_and_leaves_inputs_alone():
    dw = catalog.double_well()
    q0 = np.array([[-0.2], [0.3], [1.5]])
    p0 = np.array([[0.1], [-0.4], [0.0]])
    saved = q0.copy(), p0.copy()
    together = sh.simulate(dw, q0, p0, h=0.01, steps=50)
    for r in range(3):
        alone = sh.simulate(dw, q0[r], p0[r], h=0.01, steps=50)
        np.testing.assert_array_equal(alone.q[0], together.q[r])
    np.testing.assert_array_equal(q0, saved[0])
    np.testing.assert_array_equal(p0, saved[1])


def _head_on_coulomb(substeps):
    # Particles at rest 0.05 apart fall into each other: a close encounter that a
    # fixed step cannot resolve. The second pair is far apart and harmless.
    q0 = np.array([[0.025, 0, 0, -0.025, 0, 0], [1.0, 0, 0, -1.0, 0, 0]])
    p0 = np.array([[0, 0.001, 0, 0, -0.001, 0], [0, 0.2, 0, 0, -0.2, 0]])
    return sh.simulate(
        catalog.coulomb_pair(),
        q0,
        p0,
        h=0.01,
        steps=100,
        substeps=substeps,
        drop_above=None,
        warn_above=1e-4,
    )


def test_close_encounters_are_reported():
    with pytest.warns(sh.EnergyErrorWarning, match=r"1 of 2 trajectories .*worst .*trajectory 0"):
        tr = _head_on_coulomb(substeps=1)
    assert tr.energy_error[0] > 1e-2 and tr.energy_error[1] < 1e-6


def test_close_encounters_can_be_dropped():
    q0 = np.array([[0.025, 0, 0, -0.025, 0, 0], [1.0, 0, 0, -1.0, 0, 0]])
    p0 = np.array([[0, 0.001, 0, 0, -0.001, 0], [0, 0.2, 0, 0, -0.2, 0]])
    with pytest.warns(sh.EnergyErrorWarning, match="dropped 1 of 2"):
        tr = sh.simulate(
            catalog.coulomb_pair(), q0, p0, h=0.01, steps=100, substeps=1, drop_above=1e-4
        )
    assert tr.R == 1
    np.testing.assert_array_equal(tr.q[0, 0], q0[1])
    # The same selection after the fact, from the recorded errors.
    with pytest.warns(sh.EnergyErrorWarning):
        full = _head_on_coulomb(substeps=1)
    assert full.drop_energy_errors(1e-4).R == 1


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"q0": [[0.0, 1.0]]}, ValueError, r"q0 must have shape \(R, 1\)"),
        ({"p0": [[0.0], [1.0]]}, ValueError, "different numbers of trajectories"),
        ({"h": 0.0}, ValueError, "h must be finite and > 0"),
        ({"h": -0.1}, ValueError, "h must be finite and > 0"),
        ({"steps": 0}, ValueError, "steps must be a whole number >= 1"),
        ({"substeps": 2.5}, ValueError, "substeps must be a whole number"),
        ({"method": "euler"}, ValueError, "unknown method 'euler'"),
        ({"q0": [[np.nan]]}, ValueError, "q0 is not finite for trajectory 0"),
    ],
)
def test_bad_simulation_input(kwargs, error, message):
    args = {"q0": [[0.0]], "p0": [[1.0]], "h": 0.1, "steps": 10} | kwargs
    with pytest.raises(error, match=message):
        sh.simulate(SHO, **args)


def test_singular_initial_condition_is_refused():
    with pytest.raises(ValueError, match="force is not finite at q0"):
        sh.simulate(catalog.kepler(), [[0.0, 0.0]], [[1.0, 0.0]], h=0.01, steps=10)


def test_diverged_trajectories_are_dropped_with_a_warning():
    qq = sp.Symbol("q")
    # A well with a barrier at q = 1: the first trajectory stays inside, the second
    # starts outside and escapes to infinity in finite time.
    blowup = sh.System(coords=(qq,), V=qq**2 / 2 - qq**4 / 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.warns(sh.EnergyErrorWarning, match="dropped 1 of 2 .* non-finite"):
            tr = sh.simulate(
                blowup,
                [[0.0], [5.0]],
                [[0.1], [0.0]],
                h=0.1,
                steps=2000,
                substeps=1,
                warn_above=None,
            )
    assert tr.R == 1
