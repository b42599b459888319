"""Radial reduction and the effective potential."""

import warnings

import numpy as np
import pytest
import sympy as sp

import symhamil as sh
from symhamil import catalog

r, ell_sym = sp.Symbol("r"), sp.Symbol("l")
H = 0.001
# Central differences (p[n+1] - p[n-1]) / 2h carry an error h^2/6 |p'''| ~ 1e-6
# relative at h = 1e-3; 1e-5 of max |V_eff'| bounds it with margin.
ACCEL_RTOL = 1e-5


def test_effective_potential_is_exact():
    cf = catalog.central_force()
    V_eff = sh.effective_potential(cf, ell_sym)
    assert sp.simplify(V_eff - (1 / r + 1 / (10 - r) + ell_sym**2 / (2 * r**2))) == 0
    V5 = sh.effective_potential(catalog.central_force(L=5), sp.Rational(1, 2))
    assert sp.simplify(V5 - (1 / r + 1 / (5 - r) + 1 / (8 * r**2))) == 0
    kep = sh.effective_potential(catalog.kepler(k=2, mass=3, dim=3), ell_sym)
    assert sp.simplify(kep - (-2 / r + ell_sym**2 / (6 * r**2))) == 0


def test_effective_potential_refuses_non_central_and_many_ells():
    x, y, z = sp.symbols("x y z")
    aniso = sh.System(coords=(x, y, z), V=x**2 + 2 * y**2 + z**2)
    with pytest.raises(ValueError, match="not central"):
        sh.effective_potential(aniso, 1.0)
    with pytest.raises(ValueError, match="one value of l"):
        sh.effective_potential(catalog.central_force(), np.array([0.5, 0.7]))
    with pytest.raises(ValueError, match="3-D system"):
        sh.effective_potential(catalog.kepler(dim=2), 1.0)


def _check_reduced_dynamics(radial, V_eff, energy_rtol):
    V = sp.lambdify(r, V_eff)
    dV = sp.lambdify(r, sp.diff(V_eff, r))
    R, P = radial.q[0, :, 0], radial.p[0, :, 0]
    E = P**2 / 2 + V(R)
    assert np.ptp(E) / abs(E[0]) < energy_rtol
    accel = (P[2:] - P[:-2]) / (2 * radial.h)
    assert np.abs(accel + dV(R[1:-1])).max() < ACCEL_RTOL * np.abs(dV(R)).max()


def test_simulated_central_force_obeys_the_reduced_dynamics():
    cf = catalog.central_force()
    x0 = np.random.default_rng(0).uniform(-1, 1, size=(1, 6))  # the paper's recipe
    traj = sh.simulate(cf, x0[:, :3], x0[:, 3:], h=H, steps=20000, method="rk")
    with warnings.catch_warnings():
        warnings.simplefilter("error", sh.ConservationWarning)
        radial, ell = sh.reduce_radial(traj)
    assert radial.names == ("r",) and radial.q.shape == (1, 20001, 1)
    np.testing.assert_allclose(ell, np.linalg.norm(np.cross(x0[0, :3], x0[0, 3:])), rtol=1e-9)
    # DOP853 at 1e-12 conserves the full energy to ~1e-11; so must the reduced one.
    _check_reduced_dynamics(radial, sh.effective_potential(cf, ell[0]), energy_rtol=1e-9)


def test_author_radial_trajectory_obeys_the_reduced_dynamics():
    radial = sh.datasets.bhat2019("central_force_radial").select(0)
    ell = np.sqrt(2 * sh.datasets.CENTRAL_FORCE_RADIAL_L2_HALF)
    # l^2/2 is published to 6 digits: an error of 5e-7 in it moves the energy by
    # at most 5e-7 / r_min^2 ~ 4e-7, so 1e-6 relative is the honest bound.
    _check_reduced_dynamics(
        radial, sh.effective_potential(catalog.central_force(), ell), energy_rtol=1e-6
    )


def test_non_conserved_angular_momentum_warns():
    he = sh.System(
        coords=sp.symbols("x y z"),
        V=sum(c * s**2 for c, s in zip((1, 2, 3), sp.symbols("x y z"), strict=True)),
    )
    traj = sh.simulate(he, [[1.0, 0.5, 0.2]], [[0.0, 0.3, 0.1]], h=0.01, steps=300)
    with pytest.warns(sh.ConservationWarning, match="angular momentum .* not conserved"):
        sh.reduce_radial(traj)


def test_reduce_refuses_wrong_dimension():
    traj = sh.Trajectories(q=np.ones((1, 11, 1)), p=np.ones((1, 11, 1)), h=0.01)
    with pytest.raises(ValueError, match="2-D or 3-D trajectories"):
        sh.reduce_radial(traj)
