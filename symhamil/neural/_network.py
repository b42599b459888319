"""The neural potential V(q; theta): a small MLP held as plain TensorFlow variables.

Plain variables rather than a Keras model: the network is a handful of matrices,
and owning them keeps the compiled training loop, the flattening for L-BFGS,
checkpoints and the export to SymPy simple and exact.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import tensorflow as tf

ACTIVATIONS = ("tanh", "elu", "softplus")
FEATURES = ("identity", "difference", "distance")
OUTPUTS = ("linear", "exponential")
DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class Architecture:
    """Everything that fixes the shapes and the function of the network."""

    dim: int
    hidden: tuple[int, ...] = (16, 16)
    activation: str = "tanh"
    features: str = "identity"
    output: str = "linear"
    dtype: str = "float64"
    seed: int = 0
    feature_dim: int | None = field(default=None, compare=False)

    def to_json(self) -> dict:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    def shapes(self) -> list[tuple[int, ...]]:
        """Kernel and bias shapes, input to output."""
        widths = [self.input_width, *self.hidden, 1]
        out: list[tuple[int, ...]] = []
        for a, b in itertools.pairwise(widths):
            out += [(a, b), (b,)]
        return out

    @property
    def input_width(self) -> int:
        if self.features == "identity":
            return self.dim
        if self.features == "difference":
            return self.dim // 2
        if self.features == "distance":
            return 1
        assert self.feature_dim is not None
        return self.feature_dim


def check_architecture(dim, hidden, activation, features, output, dtype) -> None:
    """Refuse a bad configuration before any TensorFlow work, saying what to do."""
    if isinstance(dim, bool) or int(dim) != dim or dim < 1:
        raise ValueError(f"dim must be a whole number >= 1; got {dim!r}.")
    hidden = tuple(hidden)
    if not all(isinstance(w, int | np.integer) and w >= 1 for w in hidden):
        raise ValueError(f"hidden must be a tuple of layer widths >= 1; got {hidden!r}.")
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}."
        )
    if not callable(features) and features not in FEATURES:
        raise ValueError(
            f"unknown features {features!r}; choose one of {', '.join(FEATURES)}, "
            "or pass a function of q."
        )
    if features in ("difference", "distance") and dim % 2:
        raise ValueError(
            f"features={features!r} takes two particles' positions (q1, q2) of "
            f"equal dimension, so dim must be even; got {dim}."
        )
    if output not in OUTPUTS:
        raise ValueError(f"unknown output {output!r}; choose one of {', '.join(OUTPUTS)}.")
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose one of {', '.join(DTYPES)}.")


def glorot_uniform(shapes, seed: int) -> list[np.ndarray]:
    """Glorot-uniform kernels and zero biases from a seeded NumPy generator."""
    rng = np.random.default_rng(seed)
    weights = []
    for s in shapes:
        if len(s) == 2:
            limit = np.sqrt(6.0 / (s[0] + s[1]))
            weights.append(rng.uniform(-limit, limit, size=s))
        else:
            weights.append(np.zeros(s))
    return weights


def _activation(name: str) -> Callable:
    return {"tanh": tf.tanh, "elu": tf.nn.elu, "softplus": tf.nn.softplus}[name]


def feature_map(arch: Architecture, custom: Callable | None) -> Callable:
    """The input feature layer as a TensorFlow function (K, d) -> (K, f)."""
    half = arch.dim // 2
    if arch.features == "identity":
        return lambda x: x
    if arch.features == "difference":
        return lambda x: x[:, :half] - x[:, half:]
    if arch.features == "distance":
        return lambda x: tf.norm(x[:, :half] - x[:, half:], axis=1, keepdims=True)
    if custom is None:
        raise ValueError(
            "this network was built with a custom feature function; pass it again "
            "with features=... when loading."
        )
    return custom


def forward(variables, x, act: Callable, feats: Callable, exponential: bool):
    """V at points x (K, d): composition of affine maps and activations, shape (K,)."""
    h = feats(x)
    n = len(variables) // 2
    for k in range(n - 1):
        h = act(tf.matmul(h, variables[2 * k]) + variables[2 * k + 1])
    out = tf.matmul(h, variables[-2])[:, 0] + variables[-1][0]
    return tf.exp(out) if exponential else out


def save_weights(path: Path, arch: Architecture, weights: list[np.ndarray], extra: dict) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.json").write_text(
        json.dumps({"architecture": arch.to_json(), **extra}, indent=2)
    )
    np.savez(path / "weights.npz", **{f"w{i}": w for i, w in enumerate(weights)})


def read_config(path: Path) -> dict:
    cfg = path / "config.json"
    if not cfg.exists():
        raise FileNotFoundError(f"{path}: no config.json; not a saved NeuralPotential.")
    return json.loads(cfg.read_text())


def read_weights(path: Path, n: int) -> list[np.ndarray]:
    with np.load(path / "weights.npz") as data:
        return [data[f"w{i}"] for i in range(n)]
