"""NeuralPotential: a scikit-learn-like estimator of V(q) from trajectories."""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.optimize
import tensorflow as tf

from ..losses import LOSSES, pair_indices, trajectory_loss
from ..trajectories import Trajectories
from . import _network as net

__all__ = ["OPTIMIZERS", "NeuralPotential", "TrainingError"]

OPTIMIZERS = ("gd", "adam", "lbfgs", "adam+lbfgs")
CHECKPOINT = "checkpoint.npz"
#: Training sets with more coordinates than this get XLA-compiled loops. XLA pays
#: off only on large sets: its compilation (~1.4 s per function here) exceeds
#: what it saves over a few hundred steps on a few thousand points.
XLA_MIN_SIZE = 5_000


class TrainingError(RuntimeError):
    """Training cannot go on (a loss that turned NaN); the message says where it stopped."""


class _Data:
    """One training set as tensors, laid out so that the loss needs no gather.

    points : (R, M, d) the positions grad V is evaluated at
    dp     : (R, P, d) the momentum differences (p_{i+1} - p_i) / h of the P pairs
    layout : how grad V at ``points`` lines up with the pairs (static)
        "forward"  M = P, the q_i of each pair;
        "shared"   M = P + 1, all points (midpoint, stride 1): q_i = [:-1], q_{i+1} = [1:];
        "pairs"    M = 2P, the q_i then the q_{i+1} (midpoint, stride > 1).
    Static slices keep the backward pass free of XLA's slow scatter-add, which a
    gather's gradient would need.
    """

    def __init__(self, traj: Trajectories, kind: str, stride: int, dtype) -> None:
        i = pair_indices(traj.N, stride)
        q = traj.q
        if kind == "forward":
            self.layout, pts = "forward", q[:, i]
        elif stride == 1:
            self.layout, pts = "shared", q
        else:
            self.layout, pts = "pairs", np.concatenate([q[:, i], q[:, i + 1]], axis=1)
        self.points = tf.constant(pts, dtype=dtype)
        self.dp = tf.constant((traj.p[:, i + 1] - traj.p[:, i]) / traj.h, dtype=dtype)
        self.R = traj.R
        self.size = int(pts.size)


class NeuralPotential:
    """A neural network potential V(q; theta) trained on the paper's loss.

    Parameters
    ----------
    dim : int
        Dimension d of q.
    hidden : tuple of int
        Widths of the hidden layers (the paper: (16, 16); Coulomb: (16,) * 8).
    activation : {"tanh", "elu", "softplus"}
    features : {"identity", "difference", "distance"} or callable
        Input layer: q itself; q1 - q2 (the two halves of q); |q1 - q2|; or a
        TensorFlow function (K, d) -> (K, f) of your own.
    output : {"linear", "exponential"}
        V = net(q), or V = exp(net(q)) (the paper's central-force variant).
    dtype : {"float64", "float32"}
    seed : int
        Seeds the Glorot-uniform initial weights and the mini-batch draws.

    Attributes
    ----------
    history_ : ndarray, shape (steps,)
        Training loss at every step (first-order steps, then L-BFGS iterations).
    loss_ : float
        The last training loss.
    n_steps_ : int
        First-order steps taken (resumed ones included).
    fit_time_ : float
        Wall time of the last ``fit`` in seconds.
    windows_visited_ : list of int
        Windows trained on, in order, when ``fit(window=...)`` is used.
    """

    def __init__(
        self,
        dim: int,
        hidden=(16, 16),
        activation: str = "tanh",
        features="identity",
        output: str = "linear",
        dtype: str = "float64",
        seed: int = 0,
    ) -> None:
        net.check_architecture(dim, hidden, activation, features, output, dtype)
        self._custom = features if callable(features) else None
        feat_name = "custom" if callable(features) else features
        self.dim, self.hidden, self.activation = (
            int(dim),
            tuple(int(w) for w in hidden),
            activation,
        )
        self.features, self.output, self.dtype, self.seed = features, output, dtype, int(seed)
        self._tf_dtype = tf.float64 if dtype == "float64" else tf.float32
        feature_dim = None
        if self._custom is not None:
            probe = self._custom(tf.zeros((1, self.dim), dtype=self._tf_dtype))
            feature_dim = int(probe.shape[-1])
        self.arch_ = net.Architecture(
            self.dim, self.hidden, activation, feat_name, output, dtype, self.seed, feature_dim
        )
        self._feats = net.feature_map(self.arch_, self._custom)
        self._act = net._activation(activation)
        self.variables_ = [
            tf.Variable(w, dtype=self._tf_dtype)
            for w in net.glorot_uniform(self.arch_.shapes(), self.seed)
        ]
        self.history_ = np.zeros(0)
        self.n_steps_ = 0
        self.loss_ = float("nan")
        self.fit_time_ = 0.0
        self.windows_visited_: list[int] = []
        self._compiled: dict = {}

    # ------------------------------------------------------------------ evaluation
    def _V(self, x):
        return net.forward(
            self.variables_, x, self._act, self._feats, self.output == "exponential"
        )

    def _flat_points(self, q) -> tuple[tf.Tensor, tuple[int, ...]]:
        q = np.asarray(q, dtype=float)
        if q.ndim == 0 or q.shape[-1] != self.dim:
            raise ValueError(
                f"expected positions of shape (..., {self.dim}) for this "
                f"{self.dim}-dimensional potential; got shape {q.shape}."
            )
        return tf.constant(q.reshape(-1, self.dim), dtype=self._tf_dtype), q.shape[:-1]

    def potential(self, q) -> np.ndarray:
        """V(q). q : array_like, shape (..., d) -> ndarray, shape (...)."""
        x, lead = self._flat_points(q)
        return self._compiled_eval("V")(x).numpy().astype(float).reshape(lead)

    def gradient(self, q) -> np.ndarray:
        """grad V(q) by automatic differentiation. (..., d) -> (..., d)."""
        x, lead = self._flat_points(q)
        return self._compiled_eval("grad")(x).numpy().astype(float).reshape((*lead, self.dim))

    def _compiled_eval(self, what: str):
        key = ("eval", what)
        if key not in self._compiled:
            if what == "V":
                # A closure per model, not the bound method: TensorFlow counts traces
                # per Python function, and many models would look like retracing.
                def fn(x):
                    return self._V(x)
            else:

                def fn(x):
                    with tf.GradientTape() as tape:
                        tape.watch(x)
                        v = tf.reduce_sum(self._V(x))
                    return tape.gradient(v, x)

            spec = tf.TensorSpec([None, self.dim], self._tf_dtype)
            self._compiled[key] = tf.function(fn, input_signature=[spec], autograph=False)
        return self._compiled[key]

    def __call__(self, q) -> np.ndarray:
        return self.potential(q)

    def loss(self, traj: Trajectories, kind: str = "forward", stride: int = 1) -> float:
        """The training loss of this network on ``traj`` (see :mod:`symhamil.losses`)."""
        self._check_data(traj)
        return trajectory_loss(self.gradient, traj, kind, stride)

    # ------------------------------------------------------------------ weights
    def get_weights(self) -> list[np.ndarray]:
        """Kernels and biases, input to output, as float64 arrays."""
        return [v.numpy().astype(float) for v in self.variables_]

    def set_weights(self, weights) -> NeuralPotential:
        shapes = [tuple(v.shape) for v in self.variables_]
        got = [tuple(np.shape(w)) for w in weights]
        if got != shapes:
            raise ValueError(f"weights of shapes {got} do not fit this architecture {shapes}.")
        for v, w in zip(self.variables_, weights, strict=True):
            v.assign(np.asarray(w))
        return self

    @classmethod
    def from_model(cls, model: NeuralPotential, **changes) -> NeuralPotential:
        """A new network with ``model``'s weights and some settings changed.

        The paper's central-force recipe: train with elu, then continue with
        ``NeuralPotential.from_model(m, activation="softplus", output="exponential")``.
        Only settings that keep the weight shapes may change (activation, output,
        dtype); the weights are copied exactly.
        """
        bad = set(changes) - {"activation", "output", "dtype", "seed"}
        if bad:
            raise ValueError(
                f"from_model can change activation, output, dtype and seed, not "
                f"{', '.join(sorted(bad))}: those change the weights' shapes."
            )
        kw = {
            "dim": model.dim,
            "hidden": model.hidden,
            "activation": model.activation,
            "features": model.features,
            "output": model.output,
            "dtype": model.dtype,
            "seed": model.seed,
        } | changes
        new = cls(**kw)
        return new.set_weights(model.get_weights())

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike) -> None:
        """Write configuration (``config.json``) and weights (``weights.npz``) to a folder."""
        if self._custom is not None:
            warnings.warn(
                "a custom feature function is not saved; pass it again to load().", stacklevel=2
            )
        net.save_weights(
            Path(path),
            self.arch_,
            self.get_weights(),
            {"history": self.history_.tolist(), "n_steps": self.n_steps_},
        )

    @classmethod
    def load(cls, path: str | os.PathLike, features: Callable | None = None) -> NeuralPotential:
        """Read a network written by :meth:`save`."""
        path = Path(path)
        cfg = net.read_config(path)
        a = cfg["architecture"]
        feats = features if a["features"] == "custom" else a["features"]
        if feats is None:
            raise ValueError(
                f"{path} was saved with a custom feature function; pass it as "
                "features=... to load()."
            )
        model = cls(
            a["dim"],
            tuple(a["hidden"]),
            a["activation"],
            feats,
            a["output"],
            a["dtype"],
            a["seed"],
        )
        model.set_weights(net.read_weights(path, len(model.variables_)))
        model.history_ = np.asarray(cfg.get("history", []), dtype=float)
        model.n_steps_ = int(cfg.get("n_steps", 0))
        model.loss_ = float(model.history_[-1]) if model.history_.size else float("nan")
        return model

    def __repr__(self) -> str:
        return (
            f"NeuralPotential(dim={self.dim}, hidden={self.hidden}, activation="
            f"{self.activation!r}, features={self.arch_.features!r}, output={self.output!r},"
            f" dtype={self.dtype!r})"
        )

    # ------------------------------------------------------------------ training
    def _check_data(self, traj) -> None:
        if not isinstance(traj, Trajectories):
            raise TypeError(
                f"fit needs symhamil.Trajectories; got {type(traj).__name__}. Build "
                "them with symhamil.Trajectories(q=..., p=..., h=...)."
            )
        if traj.dim != self.dim:
            raise ValueError(
                f"the trajectories have dimension d = {traj.dim} but this network "
                f"takes d = {self.dim}; build NeuralPotential(dim={traj.dim}, ...)."
            )

    def _loss_and_grads(self, points, dp, layout: str, batch_idx=None):
        if batch_idx is not None:
            points = tf.gather(points, batch_idx)
            dp = tf.gather(dp, batch_idx)
        with tf.GradientTape() as outer:
            x = tf.reshape(points, (-1, self.dim))
            with tf.GradientTape() as inner:
                inner.watch(x)
                v = tf.reduce_sum(self._V(x))
            g = tf.reshape(inner.gradient(v, x), tf.shape(points))
            if layout == "forward":
                ga = g
            elif layout == "shared":
                ga = 0.5 * (g[:, :-1] + g[:, 1:])
            else:
                half = tf.shape(dp)[1]
                ga = 0.5 * (g[:, :half] + g[:, half:])
            loss = tf.reduce_mean(tf.square(dp + ga))
        grads = outer.gradient(loss, self.variables_)
        # The output bias never reaches grad V, so its gradient is None (and
        # unconnected_gradients=ZERO crashes on some variables): zero it here.
        grads = [
            tf.zeros_like(w) if gr is None else gr
            for gr, w in zip(grads, self.variables_, strict=True)
        ]
        return loss, grads

    def _first_order_chunk(
        self, optimizer: str, layout: str, batch: int | None, size: int, jit: bool = True
    ):
        """A compiled function running up to ``n <= size`` optimizer steps in one call.

        ``n`` is a tensor argument and the losses go to a buffer of static length
        ``size``, so one compilation serves every chunk length.
        """
        key = ("chunk", optimizer, layout, batch, size, jit)
        if key in self._compiled:
            return self._compiled[key]

        def run(points, dp, lr, target, step0, n):
            R = tf.shape(points)[0]

            def body(i, stop, losses):
                bidx = None
                if batch is not None:
                    seed = tf.stack([tf.cast(self.seed, tf.int64), step0 + tf.cast(i, tf.int64)])
                    u = tf.random.stateless_uniform((R,), seed=seed, dtype=tf.float32)
                    bidx = tf.argsort(u)[:batch]
                loss, grads = self._loss_and_grads(points, dp, layout, bidx)
                finite = tf.math.is_finite(loss)

                def update():
                    self._apply_update(grads, optimizer, lr)
                    return tf.constant(0)

                tf.cond(finite, update, lambda: tf.constant(0))
                losses = tf.tensor_scatter_nd_update(losses, [[i]], [loss])
                stop = tf.logical_or(tf.logical_not(finite), loss <= target)
                return i + 1, stop, losses

            i, _, losses = tf.while_loop(
                lambda i, stop, _l: tf.logical_and(i < n, tf.logical_not(stop)),
                body,
                (tf.constant(0), tf.constant(False), tf.zeros(size, self._tf_dtype)),
            )
            return i, losses

        self._compiled[key] = tf.function(run, jit_compile=jit, autograph=False)
        return self._compiled[key]

    def _apply_update(self, grads, optimizer: str, lr) -> None:
        """One gradient-descent or Adam update of the weights (inside a tf.function)."""
        slots = self._slots
        # Keep the weights whose loss is known finite, to fall back on.
        for p, w in zip(slots["prev"], self.variables_, strict=True):
            p.assign(w)
        if optimizer == "gd":
            for w, gr in zip(self.variables_, grads, strict=True):
                w.assign_sub(lr * gr)
            return
        t = slots["t"].assign_add(1.0)  # Adam, defaults of Kingma & Ba
        b1, b2, eps = 0.9, 0.999, 1e-8
        scale = tf.sqrt(1 - b2**t) / (1 - b1**t)
        for w, gr, m, v in zip(self.variables_, grads, slots["m"], slots["v"], strict=True):
            m.assign(b1 * m + (1 - b1) * gr)
            v.assign(b2 * v + (1 - b2) * tf.square(gr))
            w.assign_sub(lr * scale * m / (tf.sqrt(v) + eps))

    def _distributed_chunk(self, strategy, optimizer: str, data: _Data):
        """One data-parallel step under a tf.distribute strategy.

        The trajectories are split across the replicas; each computes its part of
        the loss (its squared residuals over the global count) and the gradient of
        that part; the parts are summed across replicas, so the update equals the
        single-device one up to rounding.
        """
        key = ("dist", id(strategy), optimizer, id(data))
        if key in self._compiled:
            return self._compiled[key]
        n_rep = strategy.num_replicas_in_sync
        shards = np.array_split(np.arange(data.R), n_rep)
        total = tf.cast(tf.size(data.dp), self._tf_dtype)

        def shard(ctx):
            idx = shards[ctx.replica_id_in_sync_group]
            return tf.gather(data.points, idx), tf.gather(data.dp, idx)

        dist = strategy.experimental_distribute_values_from_function(shard)

        def replica(args):
            points, dp = args
            loss, grads = self._loss_and_grads(points, dp, data.layout)
            frac = tf.cast(tf.size(dp), self._tf_dtype) / total
            return loss * frac, [g * frac for g in grads]

        @tf.function(autograph=False)
        def step(lr):
            loss, grads = strategy.run(replica, args=(dist,))
            loss = strategy.reduce(tf.distribute.ReduceOp.SUM, loss, axis=None)
            grads = [strategy.reduce(tf.distribute.ReduceOp.SUM, g, axis=None) for g in grads]

            def update():
                self._apply_update(grads, optimizer, lr)
                return tf.constant(0)

            tf.cond(tf.math.is_finite(loss), update, lambda: tf.constant(0))
            return loss

        self._compiled[key] = step
        return step

    def _init_slots(self) -> None:
        if not hasattr(self, "_slots") or len(self._slots["m"]) != len(self.variables_):
            self._slots = {
                "prev": [tf.Variable(w) for w in self.variables_],
                "m": [tf.Variable(tf.zeros_like(w)) for w in self.variables_],
                "v": [tf.Variable(tf.zeros_like(w)) for w in self.variables_],
                "t": tf.Variable(tf.constant(0.0, self._tf_dtype)),
            }

    # -- checkpoints
    def _training_signature(self, **settings) -> dict:
        return {"architecture": self.arch_.to_json(), "training": settings}

    def _write_checkpoint(self, folder: Path, signature: dict, stage: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "config.json").write_text(json.dumps(signature, indent=2))
        arrays = {f"w{i}": w for i, w in enumerate(self.get_weights())}
        for name in ("m", "v"):
            arrays |= {f"{name}{i}": s.numpy() for i, s in enumerate(self._slots[name])}
        arrays |= {
            "t": self._slots["t"].numpy(),
            "history": self.history_,
            "n_steps": self.n_steps_,
            "stage": stage,
            "windows": np.asarray(self.windows_visited_, dtype=int),
        }
        tmp = folder / (CHECKPOINT + ".tmp.npz")
        np.savez(tmp, **arrays)
        os.replace(tmp, folder / CHECKPOINT)  # atomic: an interruption never leaves half a file

    def _read_checkpoint(self, folder: Path, signature: dict) -> str | None:
        ck = folder / CHECKPOINT
        if not ck.exists():
            return None
        saved = json.loads((folder / "config.json").read_text())
        if saved["architecture"] != signature["architecture"]:
            diff = {
                k: (saved["architecture"].get(k), v)
                for k, v in signature["architecture"].items()
                if saved["architecture"].get(k) != v
            }
            changes = ", ".join(f"{k}: saved {a!r}, now {b!r}" for k, (a, b) in diff.items())
            raise ValueError(
                f"the checkpoint in {folder} was written by a different "
                f"architecture ({changes}); "
                "use another checkpoint_dir or the matching architecture."
            )
        if saved["training"] != signature["training"]:
            raise ValueError(
                f"the checkpoint in {folder} was written with other training "
                f"settings ({saved['training']}, now {signature['training']}); "
                "use another checkpoint_dir or resume=False to start afresh."
            )
        with np.load(ck) as d:
            self.set_weights([d[f"w{i}"] for i in range(len(self.variables_))])
            for name in ("m", "v"):
                for i, s in enumerate(self._slots[name]):
                    s.assign(d[f"{name}{i}"])
            self._slots["t"].assign(d["t"])
            self.history_ = d["history"].astype(float)
            self.n_steps_ = int(d["n_steps"])
            self.windows_visited_ = d["windows"].tolist()
            return str(d["stage"])

    # -- fit
    def fit(
        self,
        traj: Trajectories,
        steps: int = 2000,
        *,
        loss: str = "midpoint",
        optimizer: str = "adam+lbfgs",
        learning_rate: float | None = None,
        lbfgs_steps: int = 2000,
        stride: int = 1,
        batch_trajectories: int | None = None,
        window: int | None = None,
        window_step: int | None = None,
        target_loss: float | None = None,
        time_limit: float | None = None,
        checkpoint_dir: str | os.PathLike | None = None,
        checkpoint_every: int = 1000,
        resume: bool = True,
        chunk: int = 500,
        verbose: bool | None = None,
        strategy: tf.distribute.Strategy | None = None,
    ) -> NeuralPotential:
        """Train on trajectories; returns self.

        Parameters
        ----------
        traj : Trajectories
            q, p of shape (R, N+1, d), d = ``dim``.
        steps : int
            Total first-order (gd/adam) steps of this model (per window with
            ``window``). Steps already taken count, also those resumed from a
            checkpoint: to train on, call ``fit`` again with a larger number.
        loss : {"midpoint", "forward"}
            ``"forward"`` is the paper's loss (3), biased by O(h); ``"midpoint"``
            averages grad V over q_i and q_{i+1}, biased by O(h^2).
        optimizer : {"adam+lbfgs", "adam", "gd", "lbfgs"}
            ``"gd"`` is the paper's plain gradient descent; the default runs Adam
            then refines with SciPy's L-BFGS-B (history 50).
        learning_rate : float, optional
            0.01 (the paper's gradient-descent rate; a good Adam rate here too).
        lbfgs_steps : int
            Maximum L-BFGS-B iterations.
        stride : int
            Use every ``stride``-th (i, i+1) pair.
        batch_trajectories : int, optional
            Mini-batches of this many trajectories, drawn afresh every step.
        window, window_step : int, optional
            Train on consecutive windows of ``window`` points (the paper's schedule),
            ``steps`` steps each; see :meth:`Trajectories.windows`. The L-BFGS
            stage, if any, then refines on the last window.
        target_loss : float, optional
            Stop as soon as the training loss is <= this.
        time_limit : float, optional
            Stop after this many seconds of wall time, keeping the best weights.
        checkpoint_dir : path, optional
            Write a checkpoint every ``checkpoint_every`` steps and at the end;
            a later ``fit`` with the same folder resumes from it.
        chunk : int
            Steps fused into one compiled call.
        verbose : bool, optional
            Progress lines on stderr; by default only when stderr is a terminal.
        strategy : tf.distribute.Strategy, optional
            Data-parallel first-order steps (e.g. ``tf.distribute.MirroredStrategy``
            over several GPUs): trajectories are split across the replicas and the
            gradients summed. One compiled call per step; the L-BFGS stage runs on
            the default device.
        """
        t_start = time.perf_counter()
        # ---- validate everything before any expensive work
        self._check_data(traj)
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}.")
        if optimizer not in OPTIMIZERS:
            raise ValueError(
                f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)}."
            )
        for name, v in (
            ("steps", steps),
            ("lbfgs_steps", lbfgs_steps),
            ("checkpoint_every", checkpoint_every),
            ("chunk", chunk),
        ):
            if isinstance(v, bool) or int(v) != v or v < (0 if "steps" in name else 1):
                raise ValueError(
                    f"{name} must be a whole number >= {0 if 'steps' in name else 1}; got {v!r}."
                )
        pair_indices(traj.N, stride)
        if batch_trajectories is not None and not 1 <= batch_trajectories <= traj.R:
            raise ValueError(
                f"batch_trajectories must be between 1 and R = {traj.R}; got {batch_trajectories}."
            )
        if strategy is not None and batch_trajectories is not None:
            raise ValueError(
                "batch_trajectories is not supported together with strategy; the "
                "strategy already splits the trajectories across replicas."
            )
        if time_limit is not None and not time_limit > 0:
            raise ValueError(f"time_limit must be > 0 seconds; got {time_limit}.")
        lr = learning_rate if learning_rate is not None else 0.01
        if not (np.isfinite(lr) and lr > 0):
            raise ValueError(f"learning_rate must be finite and > 0; got {lr}.")
        windows = traj.windows(window, window_step) if window is not None else (traj,)
        if verbose is None:
            verbose = sys.stderr.isatty()
        first_order = {"adam+lbfgs": "adam", "lbfgs": None}.get(optimizer, optimizer)
        target = -np.inf if target_loss is None else float(target_loss)
        deadline = np.inf if time_limit is None else t_start + time_limit

        self._init_slots()
        folder = Path(checkpoint_dir) if checkpoint_dir is not None else None
        signature = self._training_signature(
            loss=loss,
            optimizer=optimizer,
            learning_rate=lr,
            stride=stride,
            batch_trajectories=batch_trajectories,
            window=window,
            window_step=window_step,
            R=traj.R,
            N=traj.N,
            h=traj.h,
        )
        stage = None
        if folder is not None and resume:
            stage = self._read_checkpoint(folder, signature)
        if folder is not None and stage is None:
            self.history_, self.n_steps_, self.windows_visited_ = np.zeros(0), 0, []
        history = [self.history_]
        best = (np.inf, self.get_weights())
        last_ckpt = "none"

        def record(values) -> None:
            nonlocal best
            history.append(np.asarray(values, dtype=float))
            if values.size and np.isfinite(values[-1]) and values[-1] < best[0]:
                best = (float(values[-1]), self.get_weights())

        def checkpoint(stage_name: str) -> None:
            nonlocal last_ckpt
            if folder is not None:
                self.history_ = np.concatenate(history)
                self._write_checkpoint(folder, signature, stage_name)
                last_ckpt = f"{folder / CHECKPOINT} (step {self.n_steps_})"

        stopped = False
        # ---- first-order stage, window by window
        total = steps * len(windows)
        if first_order is not None and stage != "lbfgs":
            datas = [_Data(w, loss, stride, self._tf_dtype) for w in windows]
            lr_t = tf.constant(lr, self._tf_dtype)
            target_t = tf.constant(target, self._tf_dtype)
            while self.n_steps_ < total and not stopped:
                k = self.n_steps_ // steps
                if not self.windows_visited_ or self.windows_visited_[-1] != k:
                    self.windows_visited_.append(k)
                d = datas[k]
                n = min(
                    chunk,
                    steps - self.n_steps_ % steps,
                    checkpoint_every - self.n_steps_ % checkpoint_every,
                )
                if strategy is None:
                    fn = self._first_order_chunk(
                        first_order,
                        d.layout,
                        batch_trajectories,
                        min(chunk, checkpoint_every),
                        jit=d.size > XLA_MIN_SIZE,
                    )
                    done, values = fn(
                        d.points,
                        d.dp,
                        lr_t,
                        target_t,
                        tf.constant(self.n_steps_, tf.int64),
                        tf.constant(n),
                    )
                    done = int(done)
                    values = values.numpy()[:done].astype(float)
                else:
                    step_fn = self._distributed_chunk(strategy, first_order, d)
                    values = []
                    for _ in range(n):
                        values.append(float(step_fn(lr_t)))
                        if not np.isfinite(values[-1]) or values[-1] <= target:
                            break
                    done, values = len(values), np.asarray(values)
                if not np.isfinite(values[-1]):
                    bad = self.n_steps_ + done - 1
                    if bad > 0:
                        # Back to the weights before the last update: their loss
                        # (values[-2], or the previous chunk's last) was finite.
                        self.set_weights([p.numpy() for p in self._slots["prev"]])
                    self.n_steps_ = max(bad - 1, 0)
                    record(values[:-1])
                    checkpoint("first-order")
                    raise TrainingError(
                        f"the training loss became {values[-1]} at step {bad}; the model keeps "
                        f"the weights of step {self.n_steps_}, whose loss was finite; last good "
                        f"checkpoint: {last_ckpt}. Lower the learning rate or check the data."
                    )
                self.n_steps_ += done
                record(values)
                if verbose:
                    print(
                        f"  step {self.n_steps_}/{total}  loss {values[-1]:.4e}", file=sys.stderr
                    )
                if values[-1] <= target:
                    stopped = True
                elif time.perf_counter() > deadline:
                    stopped = True
                    self.set_weights(best[1])
                if self.n_steps_ % checkpoint_every == 0 or stopped or self.n_steps_ >= total:
                    checkpoint("first-order")
        # ---- quasi-Newton refinement
        if optimizer in ("lbfgs", "adam+lbfgs") and not stopped and lbfgs_steps > 0:
            self._lbfgs(
                windows[-1],
                loss,
                stride,
                lbfgs_steps,
                target,
                deadline,
                record,
                checkpoint,
                checkpoint_every,
                verbose,
            )
            if time.perf_counter() > deadline:
                self.set_weights(best[1])
            checkpoint("lbfgs")
        self.history_ = np.concatenate(history)
        self.loss_ = float(self.history_[-1]) if self.history_.size else float("nan")
        self.fit_time_ = time.perf_counter() - t_start
        return self

    def _lbfgs(
        self,
        traj,
        loss,
        stride,
        maxiter,
        target,
        deadline,
        record,
        checkpoint,
        checkpoint_every,
        verbose,
    ) -> None:
        data = _Data(traj, loss, stride, self._tf_dtype)
        shapes = [tuple(v.shape) for v in self.variables_]
        sizes = [int(np.prod(s)) for s in shapes]

        def value_and_grad(points, dp):
            value, grads = self._loss_and_grads(points, dp, data.layout)
            return value, tf.concat([tf.reshape(g, (-1,)) for g in grads], axis=0)

        value_and_grad = tf.function(
            value_and_grad,
            autograph=False,
            jit_compile=data.size > XLA_MIN_SIZE,
        )

        def assign(flat):
            off = 0
            for v, s, n in zip(self.variables_, shapes, sizes, strict=True):
                v.assign(flat[off : off + n].reshape(s))
                off += n

        def fun(flat):
            assign(flat)
            value, grad = value_and_grad(data.points, data.dp)
            return float(value), grad.numpy().astype(float)

        values: list[float] = []

        def callback(intermediate_result):
            values.append(float(intermediate_result.fun))
            if len(values) % checkpoint_every == 0:
                assign(intermediate_result.x)
                record(np.asarray(values))
                values.clear()
                checkpoint("lbfgs")
            if verbose and len(values) % 100 == 0:
                print(f"  L-BFGS  loss {intermediate_result.fun:.4e}", file=sys.stderr)
            if intermediate_result.fun <= target or time.perf_counter() > deadline:
                raise StopIteration

        x0 = np.concatenate([w.reshape(-1) for w in self.get_weights()])
        res = scipy.optimize.minimize(
            fun,
            x0,
            jac=True,
            method="L-BFGS-B",
            callback=callback,
            options={
                "maxiter": maxiter,
                "maxcor": 50,
                "ftol": 0.0,
                "gtol": 0.0,
                "maxfun": 2 * maxiter,
            },
        )
        assign(res.x)
        record(np.asarray(values))
