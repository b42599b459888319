"""PairPotential: one network phi_theta(r) shared by every pair of N particles.

V(q) = sum_{i<j} phi_theta(|q_i - q_j|), so the estimator is a
:class:`NeuralPotential` whose network takes one input, the distance, and whose
``_V`` sums it over pairs; the losses, optimizers, checkpoints, stopping rules
and ``tf.distribute`` support are those of :class:`NeuralPotential` unchanged.

Training evaluates phi on a fixed list of particle pairs: every pair that comes
within the cutoff in some sample of the training data (all pairs without a
cutoff), masked per sample. Its length grows with N (at fixed density and
duration), not N^2, and its shapes stay static for XLA. Evaluation on new
positions builds its own neighbour list (:func:`symhamil.data.geometry.pair_list`).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from ..data.geometry import (
    Geometry,
    check_geometry,
    chunks,
    displacements,
    pair_distances,
    pair_list,
)
from ..data.trajectories import Trajectories
from . import _network as net
from ._potential import NeuralPotential

__all__ = ["PairPotential"]


class PairPotential(NeuralPotential):
    """A neural pair potential phi_theta(r) for N particles in s dimensions.

    Parameters
    ----------
    particles : int
        N >= 2.
    dim : int
        The spatial dimension s, as the keyword of :meth:`symhamil.System.pairwise`
        names it; the data have N s coordinates x1, y1, z1, x2, ... and the
        model's :attr:`dim` is N s (the number of coordinates, as everywhere),
        its :attr:`space` s.
    hidden : tuple of int
        Widths of phi's hidden layers.
    activation : {"tanh", "elu", "softplus"}
    box : float or sequence of float, length s, optional
        Periodic orthorhombic box (minimum images).
    cutoff : float, optional
        Pairs at r >= cutoff do not interact (half the box by default in a box).
    dtype : {"float64", "float32"}
    seed : int
    features : {"inverse", "identity"}
        The network's input: 1/r (the default; the steep short-range wall of
        Lennard-Jones or a close encounter then spans most of the input range)
        or r itself. Either way phi is one exact function of r.

    Attributes
    ----------
    As :class:`NeuralPotential`; ``arch_`` describes phi's network (one input).

    Examples
    --------
    >>> pm = PairPotential(particles=8, dim=3).fit(traj)          # doctest: +SKIP
    >>> pm.pair_potential(np.linspace(0.8, 2.5, 50)[:, None])     # doctest: +SKIP
    >>> sh.to_sympy(pm, (sh.catalog.R,))                          # doctest: +SKIP
    """

    def __init__(
        self,
        particles: int,
        dim: int,
        hidden=(16, 16),
        activation: str = "tanh",
        box=None,
        cutoff: float | None = None,
        dtype: str = "float64",
        seed: int = 0,
        features: str = "inverse",
    ) -> None:
        particles, space, box, cutoff = check_geometry(particles, dim, box, cutoff)
        if features not in ("inverse", "identity"):
            raise ValueError(
                f"features must be 'inverse' (1/r) or 'identity' (r); got {features!r}."
            )
        # No scaling yet: phi's network takes r in the data's units.
        super().__init__(1, hidden, activation, features, "linear", dtype, seed, scaling=None)
        self.particles, self.space, self.box, self.cutoff = particles, space, box, cutoff
        # The data's dimension; the network itself takes one input (arch_.dim = 1).
        self.dim = particles * space
        self._pair_index: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def geometry(self) -> Geometry:
        """Particles, space, box and cutoff as one value."""
        return Geometry(self.particles, self.space, self.box, self.cutoff)

    # ------------------------------------------------------------------ the model
    def _V(self, x):
        """V of configurations x (K, N s) on the training pair list, shape (K,)."""
        i, j = self._pair_index
        X = tf.reshape(x, (-1, self.particles, self.space))
        d = tf.gather(X, i, axis=1) - tf.gather(X, j, axis=1)  # (K, P, s)
        if self.box is not None:
            box = tf.constant(self.box, dtype=x.dtype)
            d = d - box * tf.round(d / box)
        r = tf.sqrt(tf.reduce_sum(d * d, axis=-1))  # (K, P)
        phi = tf.reshape(self._phi(tf.reshape(r, (-1, 1))), tf.shape(r))
        if self.cutoff is not None:
            phi = tf.where(r < self.cutoff, phi, tf.zeros_like(phi))
        return tf.reduce_sum(phi, axis=1)

    def _net(self, x):
        return self._V(x)  # the data are not scaled (scaling=None)

    def _phi(self, r):
        return net.forward(self.variables_, r, self._act, self._feats, False)

    def _use_pairs(self, traj: Trajectories) -> None:
        """The union of interacting pairs over the data's samples; compiled losses
        hold the old list, so they are dropped when it changes."""
        N = self.particles
        if self.cutoff is None:
            a, b = np.triu_indices(N, 1)
        else:
            X = traj.positions().reshape(-1, N, self.space)
            keys = [np.unique((i % N) * N + j % N)
                    for i, j in (pair_list(c, self.box, self.cutoff)
                                 for c in chunks(X, N, self.cutoff))]  # fmt: skip
            a, b = np.divmod(np.unique(np.concatenate(keys)), N)
        new = (a.astype(np.int32), b.astype(np.int32))
        old = self._pair_index
        if old is None or not (np.array_equal(old[0], new[0]) and np.array_equal(old[1], new[1])):
            self._pair_index = new
            self._compiled = {}
            for opt in getattr(self, "_optimizers", {}).values():
                opt._compiled = {}

    def _scale_input(self, traj: Trajectories) -> None:
        """Before the first step: map the data's range of the input (1/r or r)
        onto [-1, 1] in the first layer (Glorot weights assume inputs of order one; LJ argon has r
        of 3 to 10 angstrom). The network stays one exact function of r."""
        stride = max(1, traj.n_points // 200)
        r = pair_distances(traj, self.particles, self.space, self.box, self.cutoff, stride)
        x = 1.0 / r if self.features == "inverse" else r
        lo, hi = float(np.min(x)), float(np.max(x))
        a = 2.0 / max(hi - lo, 1e-12)
        W, b = self.variables_[0], self.variables_[1]
        b.assign(b - a * (lo + hi) / 2 * W[0])
        W.assign(W * a)

    def fit(self, traj: Trajectories, steps: int | None = None, **kwargs) -> PairPotential:
        """Train on trajectories of the N particles; as :meth:`NeuralPotential.fit`.
        The time limit counts from here (the pair lists take their share)."""
        self._fit_started = time.perf_counter()
        try:
            self._check_data(traj)
            if self.n_steps_ == 0 and self.n_lbfgs_ == 0 and not getattr(self, "_scaled", False):
                self._scale_input(traj)
                self._scaled = True
            self._use_pairs(traj)
            return super().fit(traj, steps, **kwargs)
        finally:
            self._fit_started = None

    # ------------------------------------------------------------------ evaluation
    def _phi_and_slope(self, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        key = ("pair",)
        if key not in self._compiled:

            def fn(x):
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    v = self._phi(x)
                    total = tf.reduce_sum(v)
                return v, tape.gradient(total, x)[:, 0]

            spec = tf.TensorSpec([None, 1], self._tf_dtype)
            self._compiled[key] = tf.function(fn, input_signature=[spec], autograph=False)
        v, g = self._compiled[key](tf.constant(r.reshape(-1, 1), dtype=self._tf_dtype))
        return v.numpy().astype(float), g.numpy().astype(float)

    def pair_potential(self, r) -> np.ndarray:
        """phi at distances ``r``: shape (K, 1) or (K,) -> (K,)."""
        r = np.asarray(r, dtype=float)
        if r.ndim == 2 and r.shape[1] != 1:
            raise ValueError(f"pair_potential takes distances of shape (K, 1); got {r.shape}.")
        return self._phi_and_slope(r.reshape(-1))[0]

    def _configs(self, q) -> tuple[np.ndarray, tuple[int, ...]]:
        q = np.asarray(q, dtype=float)
        if q.ndim == 0 or q.shape[-1] != self.dim:
            raise ValueError(
                f"expected positions of shape (..., {self.dim}) for {self.particles} "
                f"particles in {self.space}-D; got shape {q.shape}."
            )
        return q.reshape(-1, self.particles, self.space), q.shape[:-1]

    def potential(self, q) -> np.ndarray:
        """V(q) = sum over pairs of phi (shifted to 0 at the cutoff): (..., N s) -> (...)."""
        X, lead = self._configs(q)
        shift = 0.0 if self.cutoff is None else self.pair_potential([self.cutoff])[0]
        out = []
        for c in chunks(X, self.particles, self.cutoff):
            i, j = pair_list(c, self.box, self.cutoff)
            d = displacements(c.reshape(-1, self.space), i, j, self.box)
            phi, _ = self._phi_and_slope(np.sqrt(np.einsum("pa,pa->p", d, d)))
            out.append(np.bincount(i // self.particles, phi - shift, c.shape[0]))
        return np.concatenate(out).reshape(lead)

    def gradient(self, q) -> np.ndarray:
        """grad V(q): (..., N s) -> (..., N s)."""
        X, lead = self._configs(q)
        out = []
        for c in chunks(X, self.particles, self.cutoff):
            n = c.shape[0] * self.particles
            i, j = pair_list(c, self.box, self.cutoff)
            d = displacements(c.reshape(-1, self.space), i, j, self.box)
            r = np.sqrt(np.einsum("pa,pa->p", d, d))
            _, slope = self._phi_and_slope(r)
            w = slope / r
            g = np.stack(
                [np.bincount(i, w * d[:, a], n) - np.bincount(j, w * d[:, a], n)
                 for a in range(self.space)], axis=-1,
            )  # fmt: skip
            out.append(g.reshape(c.shape[0], -1))
        return np.concatenate(out).reshape((*lead, self.dim))

    # ------------------------------------------------------------------ files
    def _geometry(self) -> dict:
        return {
            "particles": self.particles,
            "dim": self.space,
            "box": None if self.box is None else self.box.tolist(),
            "cutoff": self.cutoff,
        }

    def save(self, path: str | os.PathLike) -> None:
        """Write phi's network and the pair geometry to a folder."""
        net.save_weights(
            Path(path),
            self.arch_,
            self.get_weights(),
            {
                "pairs": self._geometry(),
                "history": self.history_.tolist(),
                "n_steps": self.n_steps_,
                "n_lbfgs": self.n_lbfgs_,
            },
        )

    @classmethod
    def load(cls, path: str | os.PathLike, features=None) -> PairPotential:
        """Read a pair potential written by :meth:`save` (checked as NeuralPotential.load)."""
        path = Path(path)
        cfg = net.read_config(path)
        geo = cfg.get("pairs")
        if not isinstance(geo, dict):
            raise ValueError(f"{path}: not a saved PairPotential (no pair geometry).")
        single = NeuralPotential.load(path)
        try:
            model = cls(
                geo["particles"],
                geo["dim"],
                single.hidden,
                single.activation,
                geo["box"],
                geo["cutoff"],
                single.dtype,
                single.seed,
                single.features,
            )
        except (ValueError, TypeError, KeyError, OverflowError) as exc:
            raise ValueError(f"{path}: not a readable saved PairPotential ({exc}).") from None
        model.set_weights(single.get_weights())
        model.history_, model.n_steps_, model.n_lbfgs_ = (
            single.history_,
            single.n_steps_,
            single.n_lbfgs_,
        )
        model.loss_, model._scaled = single.loss_, True
        return model

    def __repr__(self) -> str:
        where = "" if self.box is None else f", box={self.box.tolist()}"
        cut = "" if self.cutoff is None else f", cutoff={self.cutoff:g}"
        return (
            f"PairPotential(particles={self.particles}, dim={self.space}, hidden={self.hidden}, "
            f"activation={self.activation!r}, features={self.features!r}{where}{cut})"
        )
