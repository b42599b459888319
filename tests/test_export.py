"""Export of trained networks to SymPy; series and Pade forms."""

import numpy as np
import pytest
import sympy as sp

from symhamil.interpret.export import elu, lambdify_deep, pade, taylor, to_sympy
from symhamil.neural import NeuralPotential

# float64 networks evaluated two ways (TensorFlow vs lambdify of the SymPy
# expression) differ only by rounding in a different operation order: ~1e-15.
EXPORT_RTOL = 1e-10

q = sp.Symbol("q")
S6 = sp.symbols("a1:7")


@pytest.mark.parametrize(
    ("dim", "kwargs"),
    [
        (1, {"activation": "tanh"}),
        (1, {"activation": "elu"}),
        (1, {"activation": "softplus"}),
        (1, {"activation": "softplus", "output": "exponential"}),
        (1, {"activation": "elu", "output": "exponential"}),
        (6, {"features": "difference"}),
        (6, {"features": "distance", "hidden": (8, 8, 8)}),
    ],
)
def test_export_matches_the_network(dim, kwargs):
    model = NeuralPotential(dim=dim, seed=4, **kwargs)
    symbols = (q,) if dim == 1 else S6
    expr = to_sympy(model, symbols)
    f = sp.lambdify(symbols, expr, "numpy", cse=True)
    x = np.random.default_rng(1).uniform(-2, 2, size=(64, dim))
    want = model.potential(x)
    got = np.asarray(f(*x.T), dtype=float)
    np.testing.assert_allclose(got, want, rtol=EXPORT_RTOL, atol=EXPORT_RTOL * np.abs(want).max())


def test_export_structure():
    model = NeuralPotential(dim=1, hidden=(3,), activation="elu", output="exponential")
    expr = to_sympy(model, (q,))
    assert isinstance(expr, sp.exp) and expr.has(elu)
    pw = expr.rewrite(sp.Piecewise)
    assert pw.has(sp.Piecewise) and not pw.has(elu)
    w = model.get_weights()
    assert sp.Float(w[0][0, 0], 17) in expr.atoms(sp.Float)
    soft = to_sympy(NeuralPotential(dim=1, hidden=(2,), activation="softplus"), (q,))
    assert soft.has(sp.log) and soft.has(sp.exp)


def test_export_refuses_wrong_symbols():
    with pytest.raises(ValueError, match="d = 1 coordinates; got 2"):
        to_sympy(NeuralPotential(dim=1), sp.symbols("a b"))


def test_pade_of_a_rational_function_gives_it_back():
    r = sp.Symbol("r")
    R = (1 + 2 * r) / (3 - r + r**2)
    approx = pade(R, r, 0.5, 1, 2, interval=(0.0, 1.0))
    assert approx.max_error < 1e-12
    num, den = sp.fraction(sp.together(approx.expression))
    assert sp.degree(sp.expand(num), r) == 1 and sp.degree(sp.expand(den), r) == 2


def test_taylor_of_the_network_converges():
    model = NeuralPotential(dim=1, activation="softplus", seed=2)
    expr = to_sympy(model, (q,))
    errs = [
        taylor(expr, q, 0.0, n, interval=(-0.3, 0.3), target=model.potential).max_error
        for n in (2, 4, 6)
    ]
    assert errs[0] > errs[1] > errs[2]
    assert errs[2] < 1e-5


@pytest.mark.parametrize(
    "kwargs",
    [
        {"features": "difference", "hidden": (16,) * 8},
        {"features": "distance", "hidden": (8,) * 8},
    ],
)
def test_deep_coulomb_networks_export_and_evaluate(kwargs):
    """The paper's two Coulomb architectures, where sympy.lambdify takes minutes."""
    model = NeuralPotential(dim=6, seed=2, **kwargs)
    f = lambdify_deep(S6, to_sympy(model, S6))
    x = np.random.default_rng(0).normal(size=(50, 6))
    want = model.potential(x)
    np.testing.assert_allclose(
        f(*x.T), want, rtol=EXPORT_RTOL, atol=EXPORT_RTOL * np.abs(want).max()
    )
