"""The network's building blocks, each named once with its TensorFlow and SymPy forms.

One table of activations (:data:`ACTIVATIONS`) and one of input feature maps
(:data:`FEATURES`). The neural sub-package builds the network from the
TensorFlow forms, :func:`symhamil.to_sympy` writes it out from the SymPy forms,
and a test checks that the two agree to 1e-12 from this table. This module
never imports TensorFlow: a TensorFlow form is a function that receives the
``tensorflow`` module as its first argument.

To add an activation or a feature map, add one entry here; nothing else
switches on the names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import sympy as sp

__all__ = ["ACTIVATIONS", "FEATURES", "Activation", "FeatureMap", "activation", "elu", "feature"]


class elu(sp.Function):  # named in lower case like sympy.tanh and sympy.exp
    """The exponential linear unit, elu(x) = x for x >= 0, exp(x) - 1 otherwise.

    A named function rather than a bare Piecewise: nested Piecewise layers make
    SymPy fold every inner case into the outer conditions (slow, and lambdify
    then prints conditions NumPy refuses). ``expr.rewrite(sympy.Piecewise)``
    gives the explicit Piecewise form.
    """

    nargs = 1

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return x if x >= 0 else sp.exp(x) - 1
        return None

    def fdiff(self, argindex=1):
        x = self.args[0]
        return sp.Piecewise((1, x >= 0), (sp.exp(x), True))

    def _eval_rewrite_as_Piecewise(self, x, **kwargs):
        return sp.Piecewise((x, x >= 0), (sp.exp(x) - 1, True))

    def _eval_is_real(self):
        return self.args[0].is_real

    def _numpycode(self, printer):
        x = printer._print(self.args[0])
        np_ = printer._module_format("numpy")
        # expm1 of min(x, 0): no overflow warning from the branch where() discards.
        return f"{np_}.where({x} >= 0, {x}, {np_}.expm1({np_}.minimum({x}, 0)))"

    def _latex(self, printer):
        return rf"\operatorname{{elu}}{{\left({printer._print(self.args[0])} \right)}}"


@dataclass(frozen=True)
class Activation:
    """A hidden layer's nonlinearity.

    Attributes
    ----------
    name : str
    sympy : callable, sympy.Expr -> sympy.Expr
        Built with ``evaluate=False``: SymPy's automatic simplification of
        tanh/exp/log inspects the whole argument, which grows exponentially with
        depth on a network's nested sums.
    tensorflow : callable, (tf, tensor) -> tensor
    """

    name: str
    sympy: Callable[[sp.Expr], sp.Expr]
    tensorflow: Callable


@dataclass(frozen=True)
class FeatureMap:
    """The input layer: positions q (K, d) to the network's inputs (K, f).

    Attributes
    ----------
    name : str
    width : callable, d -> f
    sympy : callable, sequence of d symbols -> list of f expressions
    tensorflow : callable, (tf, tensor (K, d)) -> tensor (K, f)
    pairs : bool
        Takes two particles' positions (q1, q2) of equal dimension, so d is even.
    """

    name: str
    width: Callable[[int], int]
    sympy: Callable[[Sequence[sp.Expr]], list]
    tensorflow: Callable
    pairs: bool = False


def _difference(xs: Sequence[sp.Expr]) -> list:
    half = len(xs) // 2
    return [xs[i] - xs[i + half] for i in range(half)]


def _tf_difference(tf, x):
    half = x.shape[-1] // 2
    return x[:, :half] - x[:, half:]


ACTIVATIONS = MappingProxyType(
    {
        a.name: a
        for a in (
            Activation("tanh", lambda x: sp.tanh(x, evaluate=False), lambda tf, x: tf.tanh(x)),
            Activation(
                "softplus",
                lambda x: sp.log(sp.Add(1, sp.exp(x, evaluate=False)), evaluate=False),
                lambda tf, x: tf.nn.softplus(x),
            ),
            Activation("elu", lambda x: elu(x, evaluate=False), lambda tf, x: tf.nn.elu(x)),
        )
    }
)

FEATURES = MappingProxyType(
    {
        f.name: f
        for f in (
            FeatureMap("identity", lambda d: d, list, lambda tf, x: x),
            # 1/x: for pair potentials phi(r), whose steep short-range wall would
            # otherwise occupy a sliver of the input range.
            FeatureMap(
                "inverse", lambda d: d, lambda xs: [1 / x for x in xs], lambda tf, x: 1.0 / x
            ),
            FeatureMap("difference", lambda d: d // 2, _difference, _tf_difference, pairs=True),
            FeatureMap(
                "distance",
                lambda d: 1,
                lambda xs: [sp.sqrt(sum(c**2 for c in _difference(xs)))],
                lambda tf, x: tf.norm(_tf_difference(tf, x), axis=1, keepdims=True),
                pairs=True,
            ),
        )
    }
)


def activation(name: str) -> Activation:
    """The activation called ``name``; an unknown name is refused, listing the known ones."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}.")
    return ACTIVATIONS[name]


def feature(name: str) -> FeatureMap:
    """The feature map called ``name``; an unknown name is refused, listing the known ones."""
    if name not in FEATURES:
        raise ValueError(
            f"unknown features {name!r}; choose one of {', '.join(FEATURES)}, "
            "or pass a function of q."
        )
    return FEATURES[name]
