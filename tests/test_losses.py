"""symhamil.learning.observations: the (i, i+1) pairs, momentum differences and averages."""

import numpy as np
import pytest
import sympy as sp

import symhamil as sh
from symhamil.learning.observations import average, pairs, trajectory_loss


@pytest.fixture(scope="module")
def traj():
    rng = np.random.default_rng(1)
    q, p = rng.normal(size=(3, 11, 2)), rng.normal(size=(3, 11, 2))
    return sh.Trajectories(q=q, p=p, h=0.1)


@pytest.mark.parametrize("stride", [1, 3])
def test_pairs_by_hand(traj, stride):
    pr = pairs(traj, "midpoint", stride)
    i = np.arange(0, 10, stride)
    np.testing.assert_array_equal(pr.index, i)
    np.testing.assert_array_equal(pr.start, traj.q[:, i])
    np.testing.assert_array_equal(pr.end, traj.q[:, i + 1])
    np.testing.assert_allclose(pr.dp, (traj.p[:, i + 1] - traj.p[:, i]) / 0.1, rtol=1e-15)


def test_average_forward_and_midpoint():
    a, b = np.array([1.0, 2.0]), np.array([3.0, 6.0])
    np.testing.assert_array_equal(average("forward", a, b), a)
    np.testing.assert_array_equal(average("midpoint", a, b), [2.0, 4.0])


def test_loss_of_the_exact_oscillator_is_the_analytic_bias(sho_data):
    """No training: the forward difference has an O(h) bias, the midpoint one O(h^2).

    The forward residual is ~ (h/2) p'' = -(h/2) q; over circles of radius i = 1..10
    its mean square is (h/2)^2 mean(i^2)/2 = 4.8e-4 at h = 0.01 (+ O(h^3)).
    """
    sho = sh.catalog.harmonic_oscillator()
    data = sho_data
    forward = trajectory_loss(sho, data, "forward")
    assert forward == pytest.approx(0.25e-4 * np.mean(np.arange(1, 11) ** 2) / 2, rel=0.05)
    q = sp.Symbol("q")
    # The same potential given as a SymPy expression or a gradient function.
    assert trajectory_loss(q**2 / 2, data, "forward") == pytest.approx(forward, rel=1e-12)
    grad = sh.Potential(gradient=lambda x: x)
    assert trajectory_loss(grad, data, "midpoint") < 1e-3 * forward


def test_bad_kind_and_stride(traj):
    with pytest.raises(ValueError, match="unknown loss 'central'"):
        pairs(traj, "central")
    with pytest.raises(ValueError, match="stride must be a whole number >= 1"):
        pairs(traj, "forward", 0)
