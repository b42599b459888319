"""symhamil.data.noise: the noise level estimated from the data, and smoothing."""

import numpy as np
import pytest

import symhamil as sh
from symhamil.data.noise import smooth

#: 50,000 samples per coordinate: the robust estimate's spread is ~1%; 5% leaves margin.
NOISE_RTOL = 0.05


@pytest.fixture(scope="module")
def t1():
    return sh.datasets.bhat2019("double_well_T1").head(5001)


@pytest.mark.parametrize("fraction", [0.001, 0.01, 0.05])
def test_noise_level_recovers_added_gaussian_noise(t1, fraction):
    rng = np.random.default_rng(1)
    sq, sp_ = t1.q.std(), t1.p.std()
    noisy = sh.Trajectories(
        q=t1.q + fraction * sq * rng.standard_normal(t1.q.shape),
        p=t1.p + 2 * fraction * sp_ * rng.standard_normal(t1.p.shape),
        h=t1.h,
    )
    level = sh.noise_level(noisy)
    assert level.q[0] == pytest.approx(fraction * sq, rel=NOISE_RTOL)
    assert level.p[0] == pytest.approx(2 * fraction * sp_, rel=NOISE_RTOL)
    assert "%" in repr(level)


def test_clean_data_have_no_noise(t1):
    # The author's data are exact to ~1e-9: the estimate is at rounding level.
    assert sh.noise_level(t1).q_fraction[0] < 1e-9


def test_smoothing_keeps_a_smooth_signal_and_checks_its_window(t1):
    s = smooth(t1, 101)
    # A cubic Savitzky-Golay filter over 0.1 time units barely bends these orbits.
    assert np.abs(s.q - t1.q).max() < 1e-3 * np.ptp(t1.q)
    for bad in (100, 2, 10**6):
        with pytest.raises(ValueError, match="smoothing window"):
            smooth(t1, bad)


def test_one_learn_run_estimates_noise_and_time_scale_once_per_data_set(tmp_path):
    """The estimates are kept on the frozen Trajectories: the plan, force-SINDy (both
    forms), shooting, the bootstrap, the network and the rollouts of one
    ``symhamil learn`` run read them instead of estimating again (it was 6 noise
    and more than 10 time-scale estimates)."""
    import collections

    from conftest import write_pendulum_csv

    import symhamil.data.noise as noise
    from symhamil.apps.learn import LearnSettings, learn

    csv = write_pendulum_csv(tmp_path / "p.csv", steps=150, substeps=50)
    counts = collections.Counter()
    estimate_noise, estimate_tau = noise._estimate_noise, noise._estimate_time_scale

    def counted_noise(traj):
        counts["noise", id(traj)] += 1
        return estimate_noise(traj)

    def counted_tau(traj, level):
        counts["tau", id(traj), level is None] += 1
        return estimate_tau(traj, level)

    settings = LearnSettings(
        data=str(csv), columns={"t": "time", "q": ["angle"], "v": ["omega"], "trajectory": "run"},
        library="1, cos(angle), angle**2", network=True, bootstrap=10, time_limit=2.0,
    )  # fmt: skip
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(noise, "_estimate_noise", counted_noise)
        mp.setattr(noise, "_estimate_time_scale", counted_tau)
        learn(settings, tmp_path / "out", report=False, say=lambda s: None)
    assert counts and max(counts.values()) == 1, counts
    assert sum(1 for k in counts if k[0] == "noise") == 1  # one data set, one estimate
