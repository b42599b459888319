"""symhamil.compare: recovered against true potentials, term by term."""

import numpy as np
import pytest
import sympy as sp

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
