"""Friction as a formula: Rayleigh dissipation functions R(q, p) fitted beside V(q)
(issue 20, item 1). dp/dt = -grad V - dR/dp; R = gamma p^2/2 is linear damping."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import warnings

import numpy as np
import pytest
import sympy as sp
from conftest import damped_pendulum

import symhamil as sh
from symhamil.systems.integrators import integrate

q = sp.Symbol("q")
p_q = sp.Symbol("p_q")
OSCILLATOR = sh.System(coords=(q,), V=q**2 / 2)
PENDULUM = sh.System(coords=(q,), V=-sp.cos(q))
#: A library whose terms nearly span one another at small swings (cos q and
#: q^2, sin q and q), as a physicist would try.
LIBRARY = sh.Library([sp.cos(q), sp.sin(q), q, q**2, q**3, q**4], (q,))
#: Linear damping, Coulomb friction and quadratic drag.
FRICTIONS = sh.Library([p_q**2 / 2, sp.Abs(p_q), sp.Abs(p_q) ** 3 / 3], (p_q,))


def damped_oscillator(t, gamma):
    """q(t) of q'' + gamma q' + q = 0 from q = 1, q' = 0 (underdamped)."""
    wd = np.sqrt(1 - gamma**2 / 4)
    return np.exp(-gamma * t / 2) * (np.cos(wd * t) + gamma / (2 * wd) * np.sin(wd * t))


def test_momentum_symbols_are_named_after_the_coordinates():
    tr = sh.Trajectories(q=np.zeros((1, 4, 2)), p=None, h=0.1, names=("x1", "theta"))
    assert tr.momentum_symbols == (sp.Symbol("p_x1"), sp.Symbol("p_theta"))


def test_simulate_runs_the_damped_dynamics_exactly():
    # The damped oscillator's closed form, by DOP853 and by RK4 (whose error
    # must fall 16-fold when the step halves: order 4 with the friction too).
    gamma = 0.3
    R = gamma * p_q**2 / 2
    tr = sh.simulate(OSCILLATOR, [1.0], [0.0], h=0.05, steps=400, method="rk", friction=R)
    exact = damped_oscillator(tr.t, gamma)
    assert np.max(np.abs(tr.q[0, :, 0] - exact)) < 1e-9
    assert tr.energy_error is None  # the energy falls; nothing to check
    errors = []
    for sub in (2, 4):
        rk = sh.simulate(OSCILLATOR, [1.0], [0.0], h=0.05, steps=400, method="rk4",
                         substeps=sub, friction=R)  # fmt: skip
        errors.append(np.max(np.abs(rk.q[0, :, 0] - exact)))
    assert 14 < errors[0] / errors[1] < 18


def test_simulate_refuses_friction_with_a_conservative_scheme():
    with pytest.raises(ValueError, match="with friction use method='rk'"):
        sh.simulate(OSCILLATOR, [1.0], [0.0], h=0.05, steps=10, friction=p_q**2 / 2)
    with pytest.raises(ValueError, match="neither the coordinates nor their momenta"):
        sh.simulate(OSCILLATOR, [1.0], [0.0], h=0.05, steps=10, method="rk",
                    friction=sp.Symbol("v") ** 2)  # fmt: skip


def test_integrate_with_drag_matches_the_closed_form():
    gamma = 0.2
    q_sim, _ = integrate(lambda x: x, np.array([[1.0]]), np.array([[0.0]]), 0.1, 200,
                             np.ones(1), 10, drag=lambda x, y: gamma * y)  # fmt: skip
    exact = damped_oscillator(0.1 * np.arange(201), gamma)
    assert np.max(np.abs(q_sim[0, :, 0] - exact)) < 1e-8


@pytest.mark.parametrize(
    ("R", "term", "value"),
    [(0.05 * p_q**2 / 2, p_q**2 / 2, 0.05), (0.02 * sp.Abs(p_q), sp.Abs(p_q), 0.02)],
)
def test_force_sindy_recovers_friction_from_clean_data(R, term, value):
    # 100 samples per time scale: the midpoint observations' O(h^2) bias is
    # ~1e-5 of the force; Coulomb friction's jump at p = 0 costs one pair per
    # reversal, hence the looser tolerance there.
    tr = sh.simulate(PENDULUM, [1.0], [0.0], h=0.01, steps=3000, method="rk", friction=R)
    fit = sh.force_sindy(tr, LIBRARY, friction=FRICTIONS)
    assert set(fit.coefficients) == {sp.cos(q)}
    assert set(fit.friction_coefficients) == {term}
    assert fit.coefficients[sp.cos(q)] == pytest.approx(-1.0, rel=1e-4)
    assert fit.friction_coefficients[term] == pytest.approx(value, rel=2e-3)
    assert sp.simplify(fit.friction - fit.friction_coefficients[term] * term) == 0
    assert fit.library.terms == LIBRARY.terms[:]  # the potential's library, no constant
    assert "R = " in repr(fit) and "p_{q}" in fit.friction_latex()


def test_position_dependent_friction():
    # R(q, p) = 0.05 (1 + q^2) p^2/2: damping that grows away from the bottom
    # (a pendulum through a viscous layer), one term of q and p.
    R = 0.05 * (1 + q**2) * p_q**2 / 2
    tr = sh.simulate(PENDULUM, [1.2], [0.0], h=0.01, steps=3000, method="rk", friction=R)
    terms = sh.Library([p_q**2 / 2, q**2 * p_q**2 / 2, sp.Abs(p_q)], (q, p_q))
    fit = sh.force_sindy(tr, LIBRARY, friction=terms)
    assert set(fit.friction_coefficients) == {p_q**2 / 2, q**2 * p_q**2 / 2}
    for t in fit.friction_coefficients:
        assert fit.friction_coefficients[t] == pytest.approx(0.05, rel=1e-3)
    assert sp.simplify(fit.friction.subs({q: 0.3, p_q: 0.7}) - R.subs({q: 0.3, p_q: 0.7})) == (
        pytest.approx(0, abs=1e-4)
    )


def test_clean_damped_data_are_adequate_with_friction():
    # The verdict counts the work done against the fitted friction: a damped
    # fit that explains the data is adequate, the potential alone is not, and
    # its cause is named; the damped rollout follows the record.
    tr = sh.simulate(PENDULUM, [1.0], [0.0], h=0.05, steps=800, method="rk",
                     friction=0.02 * p_q**2 / 2)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sh.LibraryWarning)
        fit = sh.force_sindy(tr, LIBRARY, friction=sh.Library([p_q**2 / 2], (p_q,)))
        plain = sh.force_sindy(tr, LIBRARY)
    assert sh.assess(fit, tr).adequate
    verdict = sh.assess(plain, tr)
    assert not verdict.adequate and "friction" in verdict.causes
    # Midpoint's O(h^2) bias at h = 0.05 leaves c 2e-4 off: a phase drift of
    # ~4e-3 rad over the 40 s; the potential alone is off by the whole swing.
    assert sh.rollout(fit, tr).rms < 1e-2 * sh.rollout(plain, tr).rms


def test_friction_survives_json():
    tr = sh.simulate(PENDULUM, [1.0], [0.0], h=0.01, steps=1000, method="rk",
                     friction=0.05 * p_q**2 / 2)  # fmt: skip
    fit = sh.force_sindy(tr, LIBRARY, friction=FRICTIONS)
    back = sh.SparseFit.from_json(fit.to_json())
    assert back.friction_coefficients == fit.friction_coefficients
    assert back.friction_library.terms == fit.friction_library.terms
    assert sp.simplify(back.friction - fit.friction) == 0


def test_bad_friction_libraries_are_refused_before_any_work():
    tr = sh.simulate(PENDULUM, [1.0], [0.0], h=0.01, steps=100)
    with pytest.raises(ValueError, match=r"does not depend on the momenta p_q"):
        sh.force_sindy(tr, LIBRARY, friction=sh.Library([q**2, p_q**2], (q, p_q)))
    p = sp.Symbol("p")
    with pytest.raises(ValueError, match=r"write it in p_q \(traj.momentum_symbols\)"):
        sh.force_sindy(tr, LIBRARY, friction=sh.Library([p**2 / 2], (p,)))
    with pytest.raises(TypeError, match=r"friction must be a symhamil\.Library"):
        sh.force_sindy(tr, LIBRARY, friction=p_q**2 / 2)


#: The issue's pendulum: 6 frames per second, 1% noise (0.005 rad on swings of
#: 1 rad, about 1% of the angle's spread), gamma = 0.01 /s, 556 frames (93 s).
GAMMA = 0.01
C = 1.3
#: Targets of the issue: c within 0.5%, gamma within 10%.
C_TOL, GAMMA_TOL = 5e-3, 0.1


def _noisy_pendulum(seed, **kw):
    return damped_pendulum(seed, c=C, gamma=GAMMA, offset=0.0, vscale=1.0, noise=0.005, **kw)


def _horizon(fit, tr, sigma=0.005):
    """How long a fit's rollout stays within the noise: started from the state
    that fits the first swing best (least squares; a measured state carries the
    noise of p, 2.6 times that of q in angle after a quarter swing), the first
    time its RMS error over one swing exceeds twice the noise (the whole
    record if never)."""
    from scipy.optimize import least_squares

    from symhamil.systems.friction import drag_function

    grad = sh.as_potential(fit.expression, tr.coords).require_gradient()
    drag = drag_function(fit.friction, tr.coords)
    swing = int(2 * np.pi / np.sqrt(C) / tr.h) + 1

    def sim(state, n):
        qs, _ = integrate(grad, state[None, :1], state[None, 1:], tr.h, n, np.ones(1), 20,
                          drag=drag)  # fmt: skip
        return qs[0, :, 0]

    start = [tr.q[0, 0, 0], tr.p[0, 0, 0]]
    x = least_squares(lambda s: sim(s, swing - 1) - tr.q[0, :swing, 0], start).x
    e2 = (sim(x, tr.N) - tr.q[0, :, 0]) ** 2
    rms = np.sqrt(np.convolve(e2, np.ones(swing) / swing, mode="valid"))
    out = np.flatnonzero(rms > 2 * sigma)
    return tr.h * (out[0] if out.size else tr.N)


@pytest.mark.slow  # 9 s; test_clean_damped_data_are_adequate_with_friction is its quick form
def test_damped_pendulum_friction_route_holds_the_record():
    tr = _noisy_pendulum(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sh.LibraryWarning)  # cos q ~ q^2 at these swings
        fit = sh.force_sindy(tr, LIBRARY, friction=sh.Library([p_q**2 / 2], (p_q,)))
        plain = sh.force_sindy(tr, LIBRARY)
    assert set(fit.coefficients) == {sp.cos(q)}
    assert set(fit.friction_coefficients) == {p_q**2 / 2}
    assert -fit.coefficients[sp.cos(q)] == pytest.approx(C, rel=C_TOL)
    gamma = fit.friction_coefficients[p_q**2 / 2]
    assert gamma == pytest.approx(GAMMA, rel=GAMMA_TOL)
    lo, hi = fit.intervals[p_q**2 / 2]
    assert lo < GAMMA < hi
    # Measured over five seeds: the whole record (92.5 s) against 1.0-1.2 s.
    held, lost = _horizon(fit, tr), _horizon(plain, tr)
    assert held >= 5 * lost and held == pytest.approx(tr.h * tr.N)
    assert sh.assess(fit, tr).adequate
    verdict = sh.assess(plain, tr)
    assert not verdict.adequate and "friction" in verdict.causes


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5))
def test_damped_pendulum_target_over_five_seeds(seed):
    # The target, with the whole friction library: linear damping must
    # win over Coulomb friction and quadratic drag.
    tr = _noisy_pendulum(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sh.LibraryWarning)
        fit = sh.force_sindy(tr, LIBRARY, friction=FRICTIONS)
    assert set(fit.coefficients) == {sp.cos(q)}
    assert set(fit.friction_coefficients) == {p_q**2 / 2}
    assert -fit.coefficients[sp.cos(q)] == pytest.approx(C, rel=C_TOL)
    assert fit.friction_coefficients[p_q**2 / 2] == pytest.approx(GAMMA, rel=GAMMA_TOL)


@pytest.mark.slow  # 5 s; the default suite's budget
def test_positions_only_with_an_offset():
    # A camera's angle, read with an offset a (V = -c cos(q - a) brings
    # -c sin(a) sin q) and velocities on a wrong scale (dropped by the plan):
    # friction is fitted from m dq/dt estimated from the positions.
    a = 0.02
    tr = damped_pendulum(0, c=C, gamma=GAMMA, offset=a, vscale=1.05, noise=0.005)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sh.force_sindy(tr, LIBRARY, friction=sh.Library([p_q**2 / 2], (p_q,)))
    assert set(fit.coefficients) == {sp.cos(q), sp.sin(q)}
    assert fit.coefficients[sp.sin(q)] == pytest.approx(-C * np.sin(a), rel=0.1)
    assert fit.friction_coefficients[p_q**2 / 2] == pytest.approx(GAMMA, rel=GAMMA_TOL)


@pytest.mark.slow  # 6 s of training
def test_the_network_learns_v_with_a_known_friction(tmp_path):
    # The network route takes force-SINDy's sparse R (or any R): its force joins
    # the targets, and the network learns V alone. A network at this record's
    # noise lands within ~2% of c (measured 1.3%), and its checkpoints refuse
    # a run with another friction.
    from symhamil.neural import NeuralPotential

    tr = _noisy_pendulum(0)
    R = GAMMA * p_q**2 / 2
    ck = tmp_path / "ck"
    model = NeuralPotential(dim=1, seed=0).fit(tr, friction=R, verbose=False, checkpoint_dir=ck)
    assert sp.simplify(model.friction_ - R) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sh.LibraryWarning)
        fit = sh.sindy(model, LIBRARY, tr, data=tr)
    assert set(fit.coefficients) == {sp.cos(q)}
    assert -fit.coefficients[sp.cos(q)] == pytest.approx(C, rel=0.03)
    with pytest.raises(ValueError, match="other friction"):
        NeuralPotential(dim=1, seed=0).fit(tr, friction=2 * R, verbose=False, checkpoint_dir=ck)
    with pytest.raises(ValueError, match="neither the coordinates nor their momenta"):
        NeuralPotential(dim=1).fit(tr, friction=sp.Symbol("v") ** 2, verbose=False)


@pytest.mark.slow  # 6 s of training
def test_the_network_chooses_a_sparse_friction_from_a_library():
    # A friction library instead of R: the network learns V, and the sparse R
    # is chosen from what V leaves (the "a trained V plus a sparse R").
    # A regression, without shooting: from the true V, gamma comes out 11%,
    # 18% and 11% off over seeds 0-2 (seed 1 even prefers |p|); force-SINDy's
    # shooting takes it to 0.2%. Hence REGRESSION_TOL here.
    REGRESSION_TOL = 0.25
    from symhamil.neural import NeuralPotential

    tr = _noisy_pendulum(0)
    model = NeuralPotential(dim=1, seed=0).fit(tr, friction=FRICTIONS, verbose=False)
    assert set(model.friction_coefficients_) == {p_q**2 / 2}
    assert model.friction_coefficients_[p_q**2 / 2] == pytest.approx(GAMMA, rel=REGRESSION_TOL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sh.LibraryWarning)
        fit = sh.sindy(model, LIBRARY, tr, data=tr)
    assert -fit.coefficients[sp.cos(q)] == pytest.approx(C, rel=0.03)
    # The same choice from force-SINDy's potential, by the public function.
    terms = sh.select_friction(
        sh.as_potential(-C * sp.cos(q), (q,)).require_gradient(), tr, FRICTIONS
    )
    assert set(terms) == {p_q**2 / 2}
    assert terms[p_q**2 / 2] == pytest.approx(GAMMA, rel=REGRESSION_TOL)
