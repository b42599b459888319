"""Honest answers when the model is not exactly right: selection under model
error (issue 19). The data are made to carry what measured data carry -
friction the model lacks, an angle offset, velocities on another scale, a
coarse frame rate - with a library whose terms are nearly collinear."""

import warnings

import numpy as np
import pytest
import sympy as sp
from conftest import central_orbits, damped_pendulum, double_pendulum, kepler_orbits

import symhamil as sh
from symhamil.sindy.selection import CYCLES, FOLDS, folds

q = sp.Symbol("q")
#: The measured pendulum's library: cos q ~ 1 - q^2/2 + q^4/24 over the swing.
PENDULUM_LIBRARY = sh.Library([sp.Integer(1), sp.cos(q), sp.sin(q), q, q**2, q**3, q**4], (q,))
#: V = -c cos(q - offset) = -c cos(offset) cos q - c sin(offset) sin q: both are physics.
RIGHT_SUPPORTS = ({sp.cos(q)}, {sp.cos(q), sp.sin(q)})
#: The issue's bar for c; positions only measured 0.03-0.2% off (the friction,
#: 0.0091 /s, is not in the model and biases it a little).
C_TOLERANCE = 0.01


def positions_only(traj):
    return sh.Trajectories(q=traj.q, p=None, h=traj.h, names=traj.names)


@pytest.mark.parametrize(
    "seed", [0, 1, *(pytest.param(s, marks=pytest.mark.slow) for s in (2, 3, 4))]
)
def test_a_damped_pendulum_with_an_offset_keeps_the_simplest_support(seed):
    """6 frames per second, friction, an offset of 0.02 rad, velocities 5% off and
    7 nearly collinear terms: the default (cross-validation by blocks of time, one
    standard error) keeps cos q and the offset's sin q, nothing else."""
    data = damped_pendulum(seed)
    for traj in (data, positions_only(data)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = sh.force_sindy(traj, PENDULUM_LIBRARY)
        assert set(fit.coefficients) in RIGHT_SUPPORTS, fit.expression
        c = -fit.coefficients[sp.cos(q)]
        assert abs(c / (1.3 * np.cos(0.02)) - 1) < C_TOLERANCE


def test_momenta_off_the_positions_scale_are_left_out_with_a_warning():
    """Velocities 5% off scale would make c 2.7% off (shooting splits the
    difference between q and p); the positions define dq/dt, so the plan leaves
    the momenta out and says so, and keeps them when told."""
    data = damped_pendulum(0)
    with pytest.warns(sh.SamplingWarning, match=r"p / \(m dq/dt\) = 1\.05"):
        how = sh.plan(data)
    assert not how.momenta and how.observed(data).p is None
    assert how.observed(data) is data.positions_only  # made once
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sh.force_sindy(data, PENDULUM_LIBRARY, plan=how)
        kept = sh.force_sindy(data, PENDULUM_LIBRARY, plan=sh.plan(data, momenta=True))
    assert "positions only" in fit.method
    assert fit.provenance[0].settings["momenta"] is False
    c, c_p = -fit.coefficients[sp.cos(q)], -kept.coefficients[sp.cos(q)]
    truth = 1.3 * np.cos(0.02)
    assert abs(c / truth - 1) < C_TOLERANCE < abs(c_p / truth - 1)
    # Momenta that agree are kept without a word.
    with warnings.catch_warnings():
        warnings.simplefilter("error", sh.SamplingWarning)
        assert sh.plan(damped_pendulum(0, vscale=1.0)).momenta


def test_the_in_sample_criterion_keeps_spurious_terms_there():
    """Why cross-validation is the default on noisy data: on the same data BIC,
    which counts every row as independent, keeps terms that only fit the model
    error (the residuals are correlated over the pendulum's period)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bic = sh.force_sindy(
            damped_pendulum(0), PENDULUM_LIBRARY, selection=sh.Selection(rule="bic"), refine=False
        )
        cv = sh.force_sindy(damped_pendulum(0), PENDULUM_LIBRARY, refine=False)
    assert len(bic.coefficients) >= 4 and set(cv.coefficients) in RIGHT_SUPPORTS
    selection = next(s for s in cv.provenance if s.step == "selection")
    assert selection.settings["rule"] == "cv"
    # Every candidate is on the path with its held-out error as its criterion.
    assert all(np.isfinite(step.criterion) for step in cv.path)
    assert len(cv.path) >= 2 ** (len(PENDULUM_LIBRARY) - 1) - 1  # all 63 subsets of 6 terms


def test_blocks_hold_out_whole_pieces_or_stretches_of_time():
    where = np.stack([np.repeat(np.arange(10), 4), np.tile(np.arange(4), 10)], axis=1)
    f = folds(where, len(where))
    # Ten pieces: each block holds two whole pieces.
    assert all(len(set(f[where[:, 0] == r])) == 1 for r in range(10))
    assert np.bincount(f).tolist() == [8] * FOLDS
    # One piece: FOLDS * CYCLES stretches of time dealt in turn, so every block
    # holds stretches from the start, the middle and the end of the record.
    n = 400
    one = folds(np.stack([np.zeros(n, int), np.arange(n)], axis=1), n)
    stretch = n // (FOLDS * CYCLES)
    assert np.array_equal(one, (np.arange(n) // stretch) % FOLDS)
    for b in range(FOLDS):
        rows = np.flatnonzero(one == b)
        assert rows.min() < n // CYCLES and rows.max() >= n - n // CYCLES


def test_the_data_choose_a_network_like_potential_s_support_by_held_out_error():
    """sindy(target, lib, points, data=traj): a smooth systematic error (what a
    network carries) makes the values' own rule keep q^3 and q^4; the data, by
    held-out force error, keep only what they support."""
    data = damped_pendulum(0)
    target = -1.3 * sp.cos(q - 0.02) + 0.002 * q**4 - 0.003 * q**3
    points = data.q.reshape(-1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = sh.sindy(target, PENDULUM_LIBRARY, points)
        fit = sh.sindy(target, PENDULUM_LIBRARY, points, data=data)
    assert {q**3, q**4} <= set(values.coefficients)
    assert set(fit.coefficients) - {sp.Integer(1)} in RIGHT_SUPPORTS
    assert "held-out error" in fit.method


# ---------------------------------------------------------------- the verdict
def _fit(traj, library, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sh.force_sindy(traj, library, **kw)


def test_a_closed_pendulum_fitted_right_is_adequate():
    data = damped_pendulum(0, gamma=0.0, offset=0.0, vscale=1.0, noise=0.01)
    a = sh.assess(_fit(data, PENDULUM_LIBRARY), data)
    assert a.adequate and a.reasons == () and a.causes == ()
    # Measured: horizon = the whole record (98 time scales), energy drift 0.3%.
    assert a.figures["horizon_taus"] > 50 and abs(a.figures["energy_drift"]) < 0.02
    assert str(a).startswith("adequate")


def test_friction_is_named_when_the_data_lose_energy():
    """The right V, but 54% of its range of energy lost over the record: the
    model (a closed system) does not hold, and the verdict says why."""
    data = damped_pendulum(0)
    with pytest.warns(sh.SamplingWarning, match="momenta disagree"):
        a = sh.assess(_fit(data, PENDULUM_LIBRARY), data)
    assert not a.adequate and "friction" in a.causes
    assert a.figures["energy_drift"] < -0.3
    assert any("lose energy" in r for r in a.reasons)
    back = a.to_json()
    assert back["adequate"] is False and back["causes"] == list(a.causes)


def test_a_double_pendulum_is_not_a_separable_system():
    """Two rods filmed at 30 frames per second: any V fitted with sum p^2/2m
    leaves a residual that the coupling terms explain (measured 78%), and the
    verdict names the kinetic energy."""
    data = double_pendulum(0)
    q1, q2 = data.coords
    lib = sh.Library([sp.cos(q1), sp.cos(q2), sp.cos(q1 - q2), q1**2, q2**2, q1 * q2], (q1, q2))
    a = sh.assess(_fit(data, lib), data)
    assert not a.adequate and "kinetic energy" in a.causes
    assert a.figures["kinetic_share"] > 0.5
    assert any("not sum p^2/2m" in r for r in a.reasons)


def test_a_missing_term_is_named_when_the_residual_is_a_function_of_q():
    """A pendulum swinging to 1.5 rad fitted with q^2 alone: the period can be
    matched, the force's shape cannot."""
    data = damped_pendulum(0, gamma=0.0, offset=0.0, vscale=1.0, q0=1.5)
    a = sh.assess(_fit(data, sh.Library([q**2], (q,))), data)
    assert not a.adequate and a.causes == ("missing term",)
    assert a.figures["position_share"] > 0.5
    good = sh.assess(_fit(data, sh.Library([sp.cos(q)], (q,))), data)
    assert good.adequate


def test_coefficients_the_data_do_not_support_are_named():
    data = damped_pendulum(0, gamma=0.0, offset=0.0, vscale=1.0, noise=0.01)
    fit = _fit(data, sh.Library([sp.cos(q), q**3], (q,)), selection=sh.Selection(threshold=0))
    a = sh.assess(fit, data)
    weak = [t for t, c in fit.coefficients.items() if abs(c) < 2 * fit.stderr[t]]
    assert weak == [q**3]
    assert not a.adequate and any("q**3: within two standard errors" in r for r in a.reasons)
    assert a.figures["unsupported"] == 1


def test_assess_refuses_what_is_not_trajectories():
    with pytest.raises(TypeError, match=r"assess needs symhamil\.Trajectories"):
        sh.assess(sp.cos(q), np.zeros((3, 10, 1)))


def test_a_library_in_other_names_than_the_data_s_is_refused_with_both():
    """x, y against the default q0, q1: matched by position, shooting would
    differentiate by the wrong symbols; the error names both and both fixes."""
    x, y = sp.symbols("x y")
    data = sh.Trajectories(q=np.zeros((1, 20, 2)), p=np.zeros((1, 20, 2)), h=0.1)
    with pytest.raises(ValueError, match=r"written in x, y but .* named q0, q1") as err:
        sh.force_sindy(data, sh.Library([x**2, y**2, x * y], (x, y)))
    assert "names=('x', 'y')" in str(err.value)


# ---------------------------------------------------------------- coarse is not noisy
#: The issue's bar for GM on exact coarse orbits (measured 1.3e-9 at h/tau 0.49).
GM_TOLERANCE = 1e-5


@pytest.mark.slow  # 9 s; the default suite's budget (test_sindy fits Kepler's radial library)
def test_coarse_exact_orbits_give_one_over_r_from_a_radial_library():
    """The 'let the data decide' library {1, 1/r, 1/r^2, r, r^2, 1/r^3, log r} on
    exact orbits at h / tau ~ 0.5: the plan sees coarse sampling, not noise;
    shooting between the samples (exact for any step) chooses among the simplest
    supports and fits GM."""
    kepler, orbits = kepler_orbits(0.65)
    x, y = kepler.coords
    r = sp.sqrt(x**2 + y**2)
    lib = sh.Library([sp.Integer(1), 1 / r, 1 / r**2, r, r**2, 1 / r**3, sp.log(r)], (x, y))
    how = sh.plan(orbits)
    assert how.coarse and how.kind == "midpoint" and 0.4 < orbits.h / how.tau < 0.6
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sh.force_sindy(orbits, lib, plan=how)
    assert set(fit.coefficients) == {1 / r}
    assert abs(-fit.coefficients[1 / r] - 1) < GM_TOLERANCE
    assert "chosen by trajectory BIC" in fit.method


def test_the_noise_estimate_tells_coarse_sampling_from_noise():
    """Sixth differences of exact orbits at h / tau = 0.49 read as 0.2% noise;
    higher orders fall (the signal), white noise stays: the estimate is then an
    upper bound and says so."""
    _, orbits = kepler_orbits(0.65)
    level = sh.noise_level(orbits)
    assert level.coarse and "at most" in repr(level)
    rng = np.random.default_rng(0)
    noisy = sh.Trajectories(q=orbits.q + 1e-2 * rng.standard_normal(orbits.q.shape),
                            p=orbits.p, h=orbits.h)  # fmt: skip
    _, fine = kepler_orbits(0.05)
    assert not sh.noise_level(fine).coarse
    noisy_fine = sh.Trajectories(q=fine.q + 1e-3 * rng.standard_normal(fine.q.shape),
                                 p=fine.p, h=fine.h)  # fmt: skip
    assert not sh.noise_level(noisy_fine).coarse
    assert abs(sh.noise_level(noisy_fine).q[0] / 1e-3 - 1) < 0.1
    assert sh.noise_level(noisy).q[0] > 5e-3  # noise above the signal's share is seen


def test_observations_named_by_the_user_are_the_whole_route():
    """kind="midpoint" means midpoint pairs and nothing after them: no shooting
    (the old default refined them, and on coarse orbits made GM 13 times off)."""
    kepler, orbits = kepler_orbits(0.65)
    x, y = kepler.coords
    lib = sh.Library([1 / sp.sqrt(x**2 + y**2)], (x, y))
    fit = sh.force_sindy(orbits, lib, kind="midpoint")
    assert "refined" not in fit.method and fit.stderr is None
    assert [s.step for s in fit.provenance] == ["regression", "selection"]


# ---------------------------------------------------------------- intervals
@pytest.mark.slow
@pytest.mark.parametrize("data", ["coloured noise", "friction and offset"])
def test_intervals_cover_the_truth_or_the_fit_says_the_model_fails(data):
    """20 seeds of a pendulum whose model is not exactly right: coloured noise
    (AR(1), lag-one correlation 0.8 at 6 frames per second), or friction with an
    angle offset. For every term of the truth that a fit keeps, its 95%
    interval holds the true coefficient, or the fit's assessment says the model
    does not hold: in at least 90% of the cases (the issue's bar; a binomial at
    95% falls below it with probability < 1%). Measured: coloured noise, 31 of
    32 intervals cover (the residuals' lag-one correlation, median 0.63, widens
    them by 2.1x) and 4 of 20 fits are flagged; friction and offset, 40 of 40
    cover and all 20 fits are flagged (the data lose energy)."""
    from conftest import coloured_pendulum

    truth = {sp.cos(q): -1.3 * np.cos(0.02), sp.sin(q): -1.3 * np.sin(0.02)}
    honest = []
    for seed in range(20):
        traj = coloured_pendulum(seed) if data == "coloured noise" else damped_pendulum(seed)
        fit = _fit(traj, PENDULUM_LIBRARY)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            adequate = sh.assess(fit, traj).adequate
        for term, c in truth.items():
            if term in fit.coefficients:
                lo, hi = fit.intervals[term]
                assert np.isfinite(fit.stderr[term])
                honest.append(not adequate or lo <= c <= hi)
    assert len(honest) >= 20 and np.mean(honest) >= 0.9


def test_shooting_never_leaves_the_regression_for_a_worse_fit():
    """The issue's central potential -1/r + 0.1 r^2 at 0.1% noise, h = 0.15 (about
    40 samples per orbit): shooting's starts were smoothed over 21 samples (half
    an orbit) and the refinement went from -1.00006/r + 0.09999 r^2 to -0.615/r +
    0.198 r^2. Now the starts are smoothed over at most 0.1 tau and the
    coefficients keep their own best states before the joint fit, so the
    refinement only ever lowers the misfit to the raw samples (measured error
    2e-5; the bar is the weak form's own, 1e-3)."""
    data = central_orbits(1e-3)
    x, y = data.coords
    r = sp.sqrt(x**2 + y**2)
    lib = sh.Library([sp.Integer(1), 1 / r, r**2], (x, y))
    weak = _fit(data, lib, refine=False)
    shot = sh.refine(weak, data)
    for term, c in {1 / r: -1.0, r**2: 0.1}.items():
        assert abs(shot.coefficients[term] / c - 1) < 1e-3
        assert np.isfinite(shot.stderr[term])


def test_noisy_momenta_with_gaps_are_not_read_as_off_scale():
    """T1 at 5% noise with 10% of the samples missing (bridged by interpolation):
    the sixth differences over filled-in samples hid noise, and p / (m dq/dt)
    read 0.967, so the momenta were dropped and the fit went 300x off. The
    noise now comes from measured samples only: 0.992, and p is kept."""
    t1 = sh.datasets.bhat2019("double_well_T1").head(2001)
    rng = np.random.default_rng(1)
    q_ = t1.q + 0.05 * t1.q.std() * rng.standard_normal(t1.q.shape)
    p_ = t1.p + 0.05 * t1.p.std() * rng.standard_normal(t1.p.shape)
    t = np.broadcast_to(t1.t, q_.shape[:2]).reshape(-1)
    ids = np.repeat(np.arange(t1.R), t1.N + 1)
    keep = rng.random(t.size) >= 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("error", sh.SamplingWarning)  # no momenta warning
        gappy = sh.Trajectories.from_samples(
            t[keep], q_.reshape(-1)[keep], p_.reshape(-1)[keep], trajectory=ids[keep]
        )
        how = sh.plan(gappy)
    assert how.momenta and abs(gappy.sampling.velocity_ratio[0] - 1) < 0.02


def test_pieces_shorter_than_a_difference_window_do_not_crash_the_velocity_check():
    """Pieces shorter than a sixth-difference window (every sixth frame lost,
    gaps not bridged): the velocity check must still run (it once failed with
    numpy's 'window shape cannot be larger than input'). Rounded camera stamps
    made such pieces before they were read as one clock; now they are one piece,
    and the velocities' 5% scale error is measured on it."""
    tr = damped_pendulum(0, fps=29.97, n=300)
    keep = np.arange(tr.N + 1) % 6 != 5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sh.SamplingWarning)
        pieces = sh.Trajectories.from_samples(tr.t[keep], tr.q[0][keep], tr.p[0][keep],
                                              max_gap=0)  # fmt: skip
        assert pieces.sampling.pieces > 1 and int(pieces.sizes.max()) <= 7
        clock = sh.Trajectories.from_samples(np.round(tr.t, 3), tr.q[0], tr.p[0])
    assert clock.sampling.pieces == 1 and clock.sampling.rounding == 0.001
    # vscale = 1.05 and friction: p / (m dq/dt) a little above 1.05 (measured 1.052).
    assert clock.sampling.velocity_ratio[0] == pytest.approx(1.05, abs=0.01)
