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


def damped_pendulum(
    seed: int = 0,
    c: float = 1.3,
    gamma: float = 0.0091,
    offset: float = 0.02,
    vscale: float = 1.05,
    fps: float = 6.0,
    n: int = 556,
    q0: float = 1.0,
    noise: float = 0.002,
):
    """A pendulum as a camera films it, made to carry the model errors of measured
    data: dq/dt = p, dp/dt = -c sin q - gamma p (friction the model lacks), the
    angle read with an ``offset`` (V = -c cos(q - offset): a sin q term appears),
    the angular velocity on a scale ``vscale`` off, ``fps`` frames per second,
    ``n`` frames and Gaussian noise of ``noise`` rad on the angle (and the matching
    noise of a finite-difference velocity). The defaults follow a measured
    pendulum: c = 1.3 /s^2, gamma = 0.0091 /s, 556 frames at 6 per second."""
    import numpy as np
    from scipy.integrate import solve_ivp

    import symhamil as sh

    rng = np.random.default_rng(seed)
    t = np.arange(n) / fps
    sol = solve_ivp(
        lambda _, y: [y[1], -c * np.sin(y[0]) - gamma * y[1]],
        (0, t[-1]),
        [q0, 0.0],
        t_eval=t,
        method="DOP853",
        rtol=1e-11,
        atol=1e-12,
    )
    q = sol.y[0] + offset + noise * rng.standard_normal(n)
    p = vscale * sol.y[1] + vscale * noise * fps * 0.5 * rng.standard_normal(n)
    return sh.Trajectories(q=q[None, :, None], p=p[None, :, None], h=1 / fps, names=("q",))


def double_pendulum(seed: int = 0, fps: float = 30.0, seconds: float = 20.0, noise: float = 0.002,
                    angles=(1.2, -0.6), g: float = 9.81):  # fmt: skip
    """Two equal rods (masses and lengths 1) filmed at ``fps``: the angles only,
    with Gaussian noise of ``noise`` rad. Its kinetic energy,
    T = w1^2 + w2^2/2 + w1 w2 cos(q1 - q2), is not sum p^2/2m: the mass matrix
    couples the angles and depends on them."""
    import numpy as np
    from scipy.integrate import solve_ivp

    import symhamil as sh

    def rhs(_, y):
        a, b, wa, wb = y
        s, c = np.sin(a - b), np.cos(a - b)
        M = np.array([[2.0, c], [c, 1.0]])
        f = np.array([-s * wb**2 - 2 * g * np.sin(a), s * wa**2 - g * np.sin(b)])
        return [wa, wb, *np.linalg.solve(M, f)]

    t = np.arange(int(seconds * fps) + 1) / fps
    sol = solve_ivp(rhs, (0, t[-1]), [*angles, 0.0, 0.0], t_eval=t, method="DOP853",
                    rtol=1e-11, atol=1e-12)  # fmt: skip
    rng = np.random.default_rng(seed)
    q = sol.y[:2].T + noise * rng.standard_normal((t.size, 2))
    return sh.Trajectories(q=q[None], p=None, h=1 / fps, names=("q1", "q2"))


def coloured_pendulum(seed: int = 0, rho: float = 0.8, noise: float = 0.01, offset: float = 0.02):
    """The pendulum of :func:`damped_pendulum` without friction, filmed at 6
    frames per second, with coloured noise: an AR(1) process of lag-one
    correlation ``rho`` and standard deviation ``noise`` rad on the angle (and
    the matching one on the velocity), as a tracker that smooths leaves it."""
    import numpy as np

    clean = damped_pendulum(seed, gamma=0.0, offset=offset, vscale=1.0, noise=0.0)
    rng = np.random.default_rng(1000 + seed)
    n = clean.N + 1

    def ar(scale):
        e = np.empty(n)
        e[0] = scale * rng.standard_normal()
        kicks = scale * np.sqrt(1 - rho**2) * rng.standard_normal(n)
        for k in range(1, n):
            e[k] = rho * e[k - 1] + kicks[k]
        return e

    return type(clean)(q=clean.q + ar(noise)[None, :, None],
                       p=clean.p + ar(1.14 * noise)[None, :, None], h=clean.h,
                       names=clean.names)  # fmt: skip


def kepler_orbits(h: float):
    """Three exact Kepler orbits (V = -1/r, GM = 1) sampled every ``h``, and the
    system: at h = 0.65, h / tau = 0.49, as planets sampled every 8 days. RK4
    at dt = 1e-3 between samples: exact to 1e-12."""
    import numpy as np

    import symhamil as sh

    kepler = sh.catalog.kepler()
    q0 = np.array([[1.0, 0.0], [1.5, 0.0], [0.8, 0.0]])
    p0 = np.array([[0.0, 1.1], [0.0, 0.7], [0.0, 1.25]])
    orbits = sh.simulate(kepler, q0, p0, h=h, steps=round(100 / h), substeps=round(h / 1e-3))
    return kepler, orbits


def central_orbits(noise: float, seed: int = 0):
    """Four orbits of V = -1/r + 0.1 r^2 at h = 0.15 (about 40 samples per orbit),
    with Gaussian noise of ``noise`` of each coordinate's spread on q and p; the
    coordinates are q0, q1."""
    import numpy as np
    import sympy as sp

    import symhamil as sh

    x, y = sp.symbols("q0 q1")
    r = sp.sqrt(x**2 + y**2)
    system = sh.System(coords=(x, y), V=-1 / r + sp.Rational(1, 10) * r**2)
    q0 = np.array([[1.0, 0.0], [1.5, 0.0], [0.8, 0.0], [2.0, 0.0]])
    p0 = np.array([[0.0, 1.1], [0.0, 0.9], [0.0, 1.25], [0.0, 0.8]])
    clean = sh.simulate(system, q0, p0, h=0.15, steps=400, substeps=100)
    rng = np.random.default_rng(seed)
    sq, sp_ = clean.q.std(axis=(0, 1)), clean.p.std(axis=(0, 1))
    return sh.Trajectories(q=clean.q + noise * sq * rng.standard_normal(clean.q.shape),
                           p=clean.p + noise * sp_ * rng.standard_normal(clean.p.shape),
                           h=clean.h)  # fmt: skip
