import os

import pytest

# Keep TensorFlow quiet wherever a test imports it (only symhamil.neural does).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def sho_data():
    """The paper's harmonic-oscillator data: 10 exact circles through (0, i), h = 0.01."""
    import symhamil as sh

    return sh.datasets.harmonic_circles()
