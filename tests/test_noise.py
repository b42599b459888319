"""symhamil.noise: the noise level estimated from the data, and smoothing."""

import numpy as np
import pytest

import symhamil as sh
from symhamil.noise import smooth

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
