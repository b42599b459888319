"""A property test of System.from_hamiltonian on generated Hamiltonians.

Valid separable H = sum a_i p_i**2 + V(q) (a_i > 0) are accepted with masses
1/(2 a_i) and the right V; anything else is refused with a ValueError - never
another exception, never a hang.
"""

import time

import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symhamil as sh

q1, q2, p1, p2 = sp.symbols("q1 q2 p1 p2")
#: Examples per property: bounded so the default suite stays fast (~1 s each).
EXAMPLES = 60

atoms_q = st.sampled_from([q1, q2, sp.Integer(1), sp.Rational(1, 2), sp.Integer(3)])
functions = st.sampled_from([sp.sin, sp.cos, sp.exp, lambda x: x**2, lambda x: x**3])


@st.composite
def potentials(draw):
    terms = draw(st.lists(st.tuples(functions, atoms_q, atoms_q), min_size=1, max_size=4))
    return sp.Add(*(f(a) * b for f, a, b in terms))


coefficients = st.sampled_from([sp.Rational(1, 2), sp.Integer(2), sp.Rational(1, 8), 0.25])


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(potentials(), coefficients, coefficients)
def test_valid_separable_hamiltonians_are_accepted(V, a1, a2):
    H = a1 * p1**2 + a2 * p2**2 + V
    sysm = sh.System.from_hamiltonian(H, (q1, q2), (p1, p2))
    assert [sp.nsimplify(m) for m in sysm.masses] == [
        sp.nsimplify(1 / (2 * a1)),
        sp.nsimplify(1 / (2 * a2)),
    ]
    assert sp.simplify(sysm.V - V) == 0


bad_kinetic = st.sampled_from(
    [
        p1 * p2,  # cross term
        p1,  # linear
        p1**4,  # quartic
        -(p1**2),  # negative mass
        q1 * p1**2,  # position-dependent mass
        sp.sqrt(1 + p1**2),  # not quadratic
        sp.I * p1**2,  # complex
        sp.nan * p1**2,
        sp.zoo * p1**2,
        sp.Abs(q1) + p1**2 / 2,  # V without a closed-form gradient
        sp.Function("f")(q1) + p1**2 / 2,  # undefined function
        sp.I * q1**2 + p1**2 / 2,  # complex potential
    ]
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(potentials(), bad_kinetic)
def test_everything_else_is_refused_with_a_value_error(V, bad):
    H = bad + p2**2 / 2 + V
    t = time.perf_counter()
    try:
        sh.System.from_hamiltonian(H, (q1, q2), (p1, p2))
    except ValueError:
        pass
    else:
        raise AssertionError(f"accepted {H}")
    assert time.perf_counter() - t < 10  # no hang
