import os

import pytest

# Keep TensorFlow quiet wherever a test imports it (only symhamil.neural does).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def sho_data():
    """The paper's harmonic-oscillator data: 10 exact circles through (0, i), h = 0.01."""
    import symhamil as sh

    return sh.datasets.harmonic_circles()


def write_pendulum_csv(path, steps: int = 300, drop: float = 0.0, substeps: int = 100):
    """A pendulum (V = 1 - cos q) filmed at 6 frames per second, as a CSV file: angle
    and angular velocity with ~1% noise, a share ``drop`` of the frames missing, two
    runs (column ``run``: A and B)."""
    import numpy as np

    import symhamil as sh

    pend = sh.catalog.pendulum()
    tr = sh.simulate(pend, [[1.5], [1.0]], [[0.0], [0.3]], h=1 / 6, steps=steps,
                     substeps=substeps)  # fmt: skip
    rng = np.random.default_rng(0)
    rows = ["time,angle,omega,run"]
    for r in range(tr.R):
        for k, t in enumerate(tr.t):
            if drop and rng.random() < drop:
                continue
            a = tr.q[r, k, 0] + 0.014 * rng.standard_normal()
            w = tr.p[r, k, 0] + 0.01 * rng.standard_normal()
            rows.append(f"{t:.4f},{a:.6f},{w:.6f},{'AB'[r]}")
    path.write_text("\n".join(rows) + "\n")
    return path
