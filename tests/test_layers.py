"""symhamil.base.layers: each activation and feature map's TensorFlow and SymPy forms agree."""

import numpy as np
import pytest
import sympy as sp
import tensorflow as tf

from symhamil.base.layers import ACTIVATIONS, FEATURES, activation, feature

#: float64 evaluations of the same closed form by two libraries: a few ulp apart.
AGREE_RTOL = 1e-12


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_forms_agree(name):
    form = ACTIVATIONS[name]
    x = np.linspace(-6.0, 6.0, 241)
    s = sp.Symbol("s")
    via_sympy = sp.lambdify(s, form.sympy(s), "numpy")(x)
    via_tf = form.tensorflow(tf, tf.constant(x, tf.float64)).numpy()
    np.testing.assert_allclose(via_tf, via_sympy, rtol=AGREE_RTOL, atol=AGREE_RTOL)


@pytest.mark.parametrize("name", list(FEATURES))
def test_feature_forms_agree(name):
    form = FEATURES[name]
    d = 6
    xs = sp.symbols(f"x0:{d}")
    x = np.random.default_rng(0).normal(size=(50, d))
    exprs = form.sympy(list(xs))
    assert len(exprs) == form.width(d)
    via_sympy = np.stack(
        [np.broadcast_to(sp.lambdify(xs, e, "numpy")(*x.T), (50,)) for e in exprs], axis=1
    )
    via_tf = form.tensorflow(tf, tf.constant(x, tf.float64)).numpy()
    np.testing.assert_allclose(via_tf, via_sympy, rtol=AGREE_RTOL, atol=AGREE_RTOL)


def test_unknown_names_list_the_known_ones():
    with pytest.raises(ValueError, match="unknown activation 'relu'; choose one of tanh"):
        activation("relu")
    with pytest.raises(ValueError, match="unknown features 'polar'; choose one of identity"):
        feature("polar")
