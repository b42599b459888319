"""symhamil.compare: recovered against true potentials, term by term."""

import numpy as np
import pytest
import sympy as sp

import symhamil as sh
from symhamil.interpret.compare import compare

q = sp.Symbol("q")


def test_comparison_table_by_hand():
    cmp = compare(
        2.1 * q + 2.9 * q**2 + 0.01 * q**3 + 5, 2 * q + 3 * q**2, (q,), points=[[0.0], [1.0]]
    )
    rows = {row.term: row for row in cmp.rows}
    assert rows[q].relative_error == pytest.approx(0.05)
    assert rows[q**2].relative_error == pytest.approx(0.1 / 3)
    assert rows[q**3].relative_error == np.inf and not cmp.same_support
    # grad: (2.1 + 5.8 q + 0.03 q^2) vs (2 + 6 q): 2.1 vs 2 at q = 0, 7.93 vs 8 at q = 1;
    # the largest difference 0.1 over the largest true gradient 8.
    assert cmp.gradient_error == pytest.approx(0.1 / 8)
    assert "q^{2}" in cmp.latex_table() and "begin{align*}" in cmp.latex_side_by_side()
    assert "rel. error" in cmp.table()


def test_a_system_and_a_pair_system_are_one_kind_of_thing_to_every_consumer():
    """One protocol (Hamiltonian): compare, as_potential, rollout and simulate take a
    System and a PairSystem alike; a pair system's truth is phi in r."""
    from symhamil.systems.hamiltonian import Hamiltonian

    springs = sh.catalog.pair_spring(k=2, particles=3, dim=2)
    well = sh.catalog.double_well()
    assert isinstance(springs, Hamiltonian) and isinstance(well, Hamiltonian)
    assert not isinstance(well.V, Hamiltonian)
    r = sh.catalog.R
    cmp = compare(2 * r**2 - 4 * r, springs, (r,))
    assert cmp.same_support and cmp.max_relative_error == 0.0
    x = np.random.default_rng(0).uniform(0, 2, (5, 6))
    pot = sh.as_potential(springs)
    np.testing.assert_array_equal(pot.gradient(x), -springs.force(x))
    # T, H, kinetic and energy are written once (Separable) and agree with the numbers.
    p = np.ones((5, 6))
    np.testing.assert_allclose(springs.energy(x, p), springs.potential(x) + 0.5 * 6)
    assert sp.simplify(well.H - well.T - well.V) == 0


def test_a_truth_with_an_offset_angle_is_split_into_the_librarys_terms():
    """-c cos(q - q0) (a pendulum read with an offset) against a fit in cos q and
    sin q: the truth is split by the angle-sum formula, exactly."""
    q = sp.Symbol("q")
    truth = -1.3 * sp.cos(q - 0.02)
    fit = -1.3 * np.cos(0.02) * sp.cos(q) - 1.3 * np.sin(0.02) * sp.sin(q)
    cmp = sh.compare(fit, truth, (q,))
    assert cmp.same_support
    assert cmp.max_relative_error < 1e-12
