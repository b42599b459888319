"""Systems declared in SymPy: construction, refusals, Hamilton's equations, numerics."""

import numpy as np
import pytest
import sympy as sp

import symhamil as sh
from symhamil import catalog

q, p = sp.symbols("q p")
q1, q2, p1, p2 = sp.symbols("q1 q2 p1 p2")

# Central differences of a smooth potential in float64 at step 1e-5 are accurate
# to ~1e-10 relative; 1e-7 leaves room for the conditioning of steep potentials.
FD_RTOL = 1e-7


def test_defaults_and_derived_quantities():
    s = sh.System(coords=(q,), V=q**2 / 2)
    assert s.momenta == (p,)
    assert s.masses == (1,)
    assert sp.simplify(s.T - p**2 / 2) == 0
    assert sp.simplify(s.H - (p**2 + q**2) / 2) == 0
    assert s.equations == (
        sp.Eq(
            sp.Derivative(sp.Function("q")(sp.Symbol("t", real=True)), sp.Symbol("t", real=True)),
            sp.Function("p")(sp.Symbol("t", real=True)),
        ),
        sp.Eq(
            sp.Derivative(sp.Function("p")(sp.Symbol("t", real=True)), sp.Symbol("t", real=True)),
            -sp.Function("q")(sp.Symbol("t", real=True)),
        ),
    )


def test_system_is_frozen_and_hashable():
    s = sh.System(coords=(q,), V=q**2)
    with pytest.raises(AttributeError):
        s.V = q**4
    assert hash(s) == hash(sh.System(coords=(q,), V=q**2))


def test_from_hamiltonian_reads_masses_and_potential():
    s = sh.System.from_hamiltonian(p1**2 / 4 + 3 * p2**2 + q1**4 + q1 * q2 + 7, (q1, q2), (p1, p2))
    assert s.masses == (2, sp.Rational(1, 6))
    assert sp.expand(s.V - (q1**4 + q1 * q2 + 7)) == 0
    assert sp.expand(s.H - (p1**2 / 4 + 3 * p2**2 + q1**4 + q1 * q2 + 7)) == 0


def test_parameters_are_symbolic_and_numeric():
    k = sp.Symbol("k")
    s = sh.System(coords=(q,), V=k * q**2 / 2, params={k: 4.0})
    assert s.V == k * q**2 / 2  # the expression keeps the name
    np.testing.assert_allclose(s.force([[0.5]]), [[-2.0]])
    s2 = sh.System.from_hamiltonian(p**2 / (2 * k) + q**2, (q,), (p,), params={k: 2.0})
    assert s2.masses == (k,)
    np.testing.assert_allclose(s2.mass_array, [2.0])


@pytest.mark.parametrize(
    ("H", "coords", "momenta", "message"),
    [
        (p**2 / 2 + q * p, (q,), (p,), r"not separable: the term p\*q"),
        (p**2 / 2 + sp.exp(q) * p**2, (q,), (p,), r"not separable: the term p\*\*2\*exp\(q\)"),
        (p**4 + q**2, (q,), (p,), r"kinetic energy term p\*\*4 is not allowed"),
        (p**2 / 2 + p**4 + q**2, (q,), (p,), r"kinetic energy term p\*\*4 is not allowed"),
        (
            p1**2 / 2 + p2**2 / 2 + p1 * p2 + q1**2,
            (q1, q2),
            (p1, p2),
            r"kinetic energy term p1\*p2 is not allowed",
        ),
        (p**2 / 2 + p + q**2, (q,), (p,), r"kinetic energy term p is not allowed"),
        (-(p**2) / 2 + q**2, (q,), (p,), r"mass -1 is not positive"),
        (q**2 + 0 * p, (q,), (p,), r"no p\*\*2 term"),
        (sp.sqrt(1 + p**2) + q**2, (q,), (p,), r"sqrt\(p\*\*2 \+ 1\) is not a quadratic form"),
        (p**2 / 2 + sp.Symbol("g") * q, (q,), (p,), r"free symbols g"),
    ],
)
def test_from_hamiltonian_refuses_with_the_offending_term(H, coords, momenta, message):
    with pytest.raises(ValueError, match=message):
        sh.System.from_hamiltonian(H, coords, momenta)


def test_from_hamiltonian_refuses_nonpositive_symbolic_mass():
    m = sp.Symbol("m")
    with pytest.raises(ValueError, match="not positive"):
        sh.System.from_hamiltonian(p**2 / (2 * m) + q**2, (q,), (p,), params={m: -1.0})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"coords": (q,), "V": q**2 * sp.Symbol("a")}, "free symbols a"),
        ({"coords": (q,), "V": q**2, "masses": (0,)}, "mass of coordinate q must be positive"),
        ({"coords": (q,), "V": q**2, "masses": (1, 2)}, "one mass per coordinate"),
        ({"coords": (q1, q2), "V": q1**2, "momenta": (p1,)}, "2 coordinates but 1 momenta"),
        ({"coords": (q,), "V": q**2 + p}, "free symbols p"),
        ({"coords": (q, q), "V": q**2}, "repeated symbol"),
        ({"coords": (), "V": sp.S(0)}, "at least one coordinate"),
    ],
)
def test_system_refuses_bad_declarations(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sh.System(**kwargs)


def _hand_derived():
    """Hamilton's equations of each catalog system, derived by hand."""
    qs = sp.symbols("q")
    r3 = sp.symbols("qx qy qz")
    rr = sp.sqrt(sum(x**2 for x in r3))
    c = sp.symbols("q1x q1y q1z q2x q2y q2z")
    dist = sp.sqrt(sum((c[i] - c[i + 3]) ** 2 for i in range(3)))
    x, y = sp.symbols("x y")
    return {
        "harmonic_oscillator": (catalog.harmonic_oscillator(), [-qs]),
        "double_well": (catalog.double_well(), [-(4 * qs**3 - 12 * qs**2 + 6 * qs + 2)]),
        # -grad(1/r + 1/(10 - r)) = q/r^3 - q/(r (10 - r)^2)
        "central_force": (
            catalog.central_force(),
            [xi / rr**3 - xi / (rr * (10 - rr) ** 2) for xi in r3],
        ),
        # -grad(-1/(4 pi |q1 - q2|)): particle 1 is pulled towards particle 2.
        "coulomb_pair": (
            catalog.coulomb_pair(),
            [-(c[i] - c[i + 3]) / (4 * sp.pi * dist**3) for i in range(3)]
            + [(c[i] - c[i + 3]) / (4 * sp.pi * dist**3) for i in range(3)],
        ),
        "pendulum": (catalog.pendulum(), [-sp.sin(qs)]),
        "henon_heiles": (catalog.henon_heiles(), [-x - 2 * x * y, -y - x**2 + y**2]),
        "kepler": (
            catalog.kepler(),
            [
                -r3[0] / sp.sqrt(r3[0] ** 2 + r3[1] ** 2) ** 3,
                -r3[1] / sp.sqrt(r3[0] ** 2 + r3[1] ** 2) ** 3,
            ],
        ),
    }


@pytest.mark.parametrize("name", list(_hand_derived()))
def test_hamilton_equations_match_hand_derivation(name):
    system, pdot = _hand_derived()[name]
    qdot_sym, pdot_sym = system.rhs
    for qd, pm, m in zip(qdot_sym, system.momenta, system.masses, strict=True):
        assert sp.simplify(qd - pm / m) == 0
    for got, want in zip(pdot_sym, pdot, strict=True):
        assert sp.simplify(got - want) == 0
    assert len(system.equations) == 2 * system.dim


@pytest.mark.parametrize("name", list(_hand_derived()))
def test_numeric_force_is_minus_gradient(name):
    system = _hand_derived()[name][0]
    rng = np.random.default_rng(1)
    Q = rng.uniform(0.3, 0.9, size=(4, 5, system.dim))
    if name == "coulomb_pair":
        Q[..., 3:] *= -1  # keep the particles apart
    eps = 1e-5
    fd = np.stack(
        [
            (system.potential(Q + eps * e) - system.potential(Q - eps * e)) / (2 * eps)
            for e in np.eye(system.dim)
        ],
        axis=-1,
    )
    F = system.force(Q)
    assert F.shape == Q.shape
    assert system.potential(Q).shape == Q.shape[:-1]
    np.testing.assert_allclose(F, -fd, rtol=FD_RTOL, atol=FD_RTOL * np.abs(fd).max())


def test_numeric_functions_broadcast_constants_and_check_shape():
    s = sh.System(coords=(q1, q2), V=3 * q1)  # force is constant, potential ignores q2
    Q = np.zeros((7, 2))
    np.testing.assert_array_equal(s.force(Q), np.tile([-3.0, 0.0], (7, 1)))
    assert s.energy(Q, np.ones((7, 2))).shape == (7,)
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2\)"):
        s.potential(np.zeros((7, 3)))


def test_catalog_paper_potentials_are_exact():
    r = sp.Symbol("r", positive=True)
    dw = catalog.double_well()
    (qq,) = dw.coords
    assert sp.expand(dw.V - (qq**4 - 4 * qq**3 + 3 * qq**2 + 2 * qq - 1)) == 0
    cf = catalog.central_force()
    assert (
        sp.simplify(
            cf.V.subs(dict(zip(cf.coords, (r, 0, 0), strict=True))) - (1 / r + 1 / (10 - r))
        )
        == 0
    )
    cp = catalog.coulomb_pair()
    assert cp.masses == (1, 1, 1, sp.Rational(1, 2), sp.Rational(1, 2), sp.Rational(1, 2))
    assert (
        sp.simplify(
            cp.V.subs(dict(zip(cp.coords, (r, 0, 0, 0, 0, 0), strict=True))) + 1 / (4 * sp.pi * r)
        )
        == 0
    )
