"""symhamil.potentials: one way from a System, a model, an expression or a function to arrays."""

import numpy as np
import pytest
import sympy as sp

import symhamil as sh

#: Same closed form through lambdify on both sides: agreement to rounding.
RTOL = 1e-13


def test_system_expression_and_function_agree():
    well = sh.catalog.double_well()
    q = well.coords[0]
    x = np.linspace(-1, 3, 9)[:, None]
    a = sh.as_potential(well)
    b = sh.as_potential(well.V, (q,))
    c = sh.as_potential(lambda pts: well.potential(pts))
    np.testing.assert_allclose(a.values(x), b.values(x), rtol=RTOL)
    np.testing.assert_allclose(c.values(x), b.values(x), rtol=RTOL)
    np.testing.assert_allclose(a.gradient(x), b.gradient(x), rtol=RTOL)
    # grad V = 4q^3 - 12q^2 + 6q + 2 by hand
    xs = x[:, 0]
    np.testing.assert_allclose(b.gradient(x)[:, 0], 4 * xs**3 - 12 * xs**2 + 6 * xs + 2, rtol=RTOL)
    assert c.gradient is None
    with pytest.raises(TypeError, match="values only, not a gradient"):
        c.require_gradient()


def test_a_constant_expression_broadcasts():
    q = sp.Symbol("q")
    pot = sh.as_potential(sp.Integer(3), (q,))
    assert pot.values(np.zeros((4, 1))).shape == (4,)
    np.testing.assert_array_equal(pot.gradient(np.zeros((4, 1))), np.zeros((4, 1)))


def test_refusals():
    q, a = sp.symbols("q a")
    with pytest.raises(ValueError, match=r"uses \['a'\]"):
        sh.as_potential(a * q**2, (q,))
    with pytest.raises(ValueError, match="needs its symbols"):
        sh.as_potential(q**2)
    with pytest.raises(TypeError, match="got int"):
        sh.as_potential(3)
