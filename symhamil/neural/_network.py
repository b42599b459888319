"""The neural potential V(q; theta): a small MLP held as plain TensorFlow variables.

Plain variables rather than a Keras model: the network is a handful of matrices,
and owning them keeps the compiled training loop, the flattening for L-BFGS,
checkpoints and the export to SymPy simple and exact. Activations and feature
maps come from :mod:`symhamil.base.layers`, where each is named once.
"""

from __future__ import annotations

import itertools
import json
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import tensorflow as tf

from ..base.files import write_json, write_npz
from ..base.layers import ACTIVATIONS, FEATURES, activation, feature

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
        if self.features in FEATURES:
            return FEATURES[self.features].width(self.dim)
        assert self.feature_dim is not None
        return self.feature_dim


def check_architecture(dim, hidden, activation_name, features, output, dtype) -> None:
    """Refuse a bad configuration before any TensorFlow work, saying what to do."""
    if isinstance(dim, bool) or not isinstance(dim, int | np.integer) or dim < 1:
        raise ValueError(f"dim must be a whole number >= 1; got {dim!r}.")
    hidden = tuple(hidden)
    if not hidden or not all(
        isinstance(w, int | np.integer) and not isinstance(w, bool) and w >= 1 for w in hidden
    ):
        raise ValueError(f"hidden must be a tuple of layer widths >= 1; got {hidden!r}.")
    activation(activation_name)
    if not callable(features):
        fmap = feature(features)
        if fmap.pairs and dim % 2:
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


def activation_fn(name: str) -> Callable:
    """The TensorFlow form of the activation ``name``."""
    form = ACTIVATIONS[name].tensorflow
    return lambda x: form(tf, x)


def feature_map(arch: Architecture, custom: Callable | None) -> Callable:
    """The input feature layer as a TensorFlow function (K, d) -> (K, f)."""
    if arch.features in FEATURES:
        form = FEATURES[arch.features].tensorflow
        return lambda x: form(tf, x)
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
    # Weights first: config.json marks a complete save, so it is written last.
    write_npz(path / "weights.npz", **{f"w{i}": w for i, w in enumerate(weights)})
    write_json(path / "config.json", {"architecture": arch.to_json(), **extra}, indent=2)


def read_config(path: Path) -> dict:
    cfg = path / "config.json"
    if not cfg.exists():
        raise FileNotFoundError(f"{path}: no config.json; not a saved NeuralPotential.")
    try:
        data = json.loads(cfg.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{cfg}: not readable JSON ({exc}); the folder is damaged.") from None
    if not isinstance(data, dict):
        raise ValueError(f"{cfg}: expected a JSON object.")
    return data


def read_weights(path: Path) -> list[np.ndarray]:
    """The kernels and biases w0, w1, ... of ``path/weights.npz``, checked finite."""
    file = path / "weights.npz"
    try:
        with np.load(file, allow_pickle=False) as data:
            n = len([k for k in data.files if k[:1] == "w" and k[1:].isdigit()])
            raw = [data[f"w{i}"] for i in range(n)]
            bad = [i for i, w in enumerate(raw) if w.dtype.kind not in "fiu"]
            if bad:
                raise ValueError(f"array w{bad[0]} holds {raw[bad[0]].dtype} values, not reals")
            weights = [np.asarray(w, dtype=float) for w in raw]
    except FileNotFoundError:
        raise FileNotFoundError(f"{file}: no such file; the model folder is incomplete.") from None
    except (OSError, EOFError, KeyError, ValueError, AttributeError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{file}: not a readable weights file ({exc}).") from None
    for i, w in enumerate(weights):
        if not np.isfinite(w).all():
            raise ValueError(f"{file}: array w{i} holds non-finite values (NaN or inf).")
    return weights
