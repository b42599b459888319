"""The optimizers: gradient descent and Adam in compiled chunks, data-parallel steps
under ``tf.distribute``, and SciPy's L-BFGS-B.

They only move weights and report losses; the bookkeeping (history, best
weights, deadlines, checkpoints, stopping rules) is the training run's
(:mod:`._run`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.optimize
import tensorflow as tf

from ._data import TrainingData, loss_and_grads

#: Adam's constants (Kingma & Ba's defaults).
ADAM_B1, ADAM_B2, ADAM_EPS = 0.9, 0.999, 1e-8


class FirstOrder:
    """Gradient descent or Adam on a model's variables, with its state (moments, step).

    One per model and method, kept across ``fit`` calls so that training on
    continues Adam's moments and reuses the compiled functions.
    """

    def __init__(self, model, method: str) -> None:
        self.model, self.method = model, method
        v = model.variables_
        self.prev = [tf.Variable(w) for w in v]  # the last weights whose loss was finite
        self.m = [tf.Variable(tf.zeros_like(w)) for w in v]
        self.v = [tf.Variable(tf.zeros_like(w)) for w in v]
        self.t = tf.Variable(tf.constant(0.0, model._tf_dtype))
        self._compiled: dict = {}

    # ------------------------------------------------------------------ state
    def state(self) -> dict[str, np.ndarray]:
        out = {f"m{i}": s.numpy() for i, s in enumerate(self.m)}
        out |= {f"v{i}": s.numpy() for i, s in enumerate(self.v)}
        return out | {"t": self.t.numpy()}

    def load_state(self, arrays) -> None:
        for name, slots in (("m", self.m), ("v", self.v)):
            for i, s in enumerate(slots):
                s.assign(arrays[f"{name}{i}"])
        self.t.assign(arrays["t"])

    def remember(self) -> None:
        """Take the current weights as the last known-finite ones (after a load)."""
        for p, w in zip(self.prev, self.model.variables_, strict=True):
            p.assign(w)

    def restore(self) -> None:
        """Back to the weights before the last update."""
        for p, w in zip(self.prev, self.model.variables_, strict=True):
            w.assign(p)

    # ------------------------------------------------------------------ update
    def _apply(self, grads, lr) -> None:
        """One update of the weights (inside a tf.function)."""
        weights = self.model.variables_
        for p, w in zip(self.prev, weights, strict=True):
            p.assign(w)
        if self.method == "gd":
            for w, gr in zip(weights, grads, strict=True):
                w.assign_sub(lr * gr)
            return
        t = self.t.assign_add(1.0)
        scale = tf.sqrt(1 - ADAM_B2**t) / (1 - ADAM_B1**t)
        for w, gr, m, v in zip(weights, grads, self.m, self.v, strict=True):
            m.assign(ADAM_B1 * m + (1 - ADAM_B1) * gr)
            v.assign(ADAM_B2 * v + (1 - ADAM_B2) * tf.square(gr))
            w.assign_sub(lr * scale * m / (tf.sqrt(v) + ADAM_EPS))

    def _guarded(self, loss, grads, lr):
        """Update only when the loss is finite; returns the loss."""

        def update():
            self._apply(grads, lr)
            return tf.constant(0)

        tf.cond(tf.math.is_finite(loss), update, lambda: tf.constant(0))
        return loss

    # ------------------------------------------------------------------ compiled loops
    def chunk(self, data: TrainingData, batch: int | None, size: int, seed: int) -> Callable:
        """A compiled function running up to ``n <= size`` steps in one call.

        ``fn(points, dp, mask, lr, target, step0, n) -> (steps done, losses[size])``.
        ``n`` is a tensor argument and the losses go to a buffer of static length
        ``size``, so one compilation serves every chunk length. A step whose loss
        is non-finite or <= ``target`` ends the call.
        """
        key = ("chunk", data.key, batch, size, data.jit)
        if key in self._compiled:
            return self._compiled[key]
        model, loss_key = self.model, data.key

        def run(points, dp, mask, lr, target, step0, n):
            R = tf.shape(points)[0]

            def body(i, stop, losses):
                bidx = None
                if batch is not None:
                    s = tf.stack([tf.constant(seed, tf.int64), step0 + tf.cast(i, tf.int64)])
                    u = tf.random.stateless_uniform((R,), seed=s, dtype=tf.float32)
                    bidx = tf.argsort(u)[:batch]
                loss, grads = loss_and_grads(model, points, dp, mask, loss_key, bidx)
                loss = self._guarded(loss, grads, lr)
                losses = tf.tensor_scatter_nd_update(losses, [[i]], [loss])
                stop = tf.logical_or(tf.logical_not(tf.math.is_finite(loss)), loss <= target)
                return i + 1, stop, losses

            i, _, losses = tf.while_loop(
                lambda i, stop, _l: tf.logical_and(i < n, tf.logical_not(stop)),
                body,
                (tf.constant(0), tf.constant(False), tf.zeros(size, model._tf_dtype)),
            )
            return i, losses

        self._compiled[key] = tf.function(run, jit_compile=data.jit, autograph=False)
        return self._compiled[key]

    def distributed(self, strategy, data: TrainingData) -> Callable:
        """One data-parallel step under a tf.distribute strategy: ``step(lr) -> loss``.

        The trajectories are split across the replicas; each computes its part of
        the loss (its squared residuals over the global count) and the gradient of
        that part; the parts are summed across replicas, so the update equals the
        single-device one up to rounding.
        """
        key = ("dist", id(strategy), id(data))
        if key in self._compiled:
            return self._compiled[key]
        model = self.model
        shards = np.array_split(np.arange(data.R), strategy.num_replicas_in_sync)
        total = tf.reduce_sum(data.mask)

        def shard(ctx):
            idx = shards[ctx.replica_id_in_sync_group]
            return tuple(tf.gather(a, idx) for a in (data.points, data.dp, data.mask))

        dist = strategy.experimental_distribute_values_from_function(shard)

        def replica(args):
            points, dp, mask = args
            loss, grads = loss_and_grads(model, points, dp, mask, data.key)
            frac = tf.reduce_sum(mask) / total
            return loss * frac, [g * frac for g in grads]

        @tf.function(autograph=False)
        def step(lr):
            loss, grads = strategy.run(replica, args=(dist,))
            loss = strategy.reduce(tf.distribute.ReduceOp.SUM, loss, axis=None)
            grads = [strategy.reduce(tf.distribute.ReduceOp.SUM, g, axis=None) for g in grads]
            return self._guarded(loss, grads, lr)

        self._compiled[key] = step
        return step


def lbfgs(
    model,
    data: TrainingData,
    maxiter: int,
    callback: Callable[[np.ndarray, float], None],
    interrupt: Callable[[], bool] | None = None,
) -> tuple[np.ndarray, float]:
    """SciPy's L-BFGS-B (history 50) on the model's flattened weights.

    SciPy's own tolerances are off: ``callback(x, loss)`` runs after every
    iteration and raises StopIteration to stop (the training run's rules).
    ``interrupt()`` is asked before every evaluation (a line search may make
    several per iteration); when it says True the search ends at the best
    point evaluated so far. Returns the final weights (flat) and loss; the
    model holds them too.
    """
    variables = model.variables_
    shapes = [tuple(v.shape) for v in variables]
    sizes = [int(np.prod(s)) for s in shapes]
    dtype = variables[0].dtype.as_numpy_dtype

    def assign_in_graph(flat):
        for v, part, s in zip(variables, tf.split(flat, sizes), shapes, strict=True):
            v.assign(tf.reshape(part, s))

    def value_and_grad(flat, points, dp, mask):
        # The weights are set inside the compiled call: one call per evaluation
        # instead of one eager assign per variable (18 for an 8-layer network).
        assign_in_graph(flat)
        value, grads = loss_and_grads(model, points, dp, mask, data.key)
        return value, tf.concat([tf.reshape(g, (-1,)) for g in grads], axis=0)

    compiled = tf.function(value_and_grad, autograph=False, jit_compile=data.jit)

    def assign(flat):
        off = 0
        for v, s, n in zip(variables, shapes, sizes, strict=True):
            v.assign(flat[off : off + n].reshape(s))
            off += n

    best = [np.inf, None]  # the lowest loss evaluated and its weights

    def fun(flat):
        if interrupt is not None and best[1] is not None and interrupt():
            raise _Interrupted
        value, grad = compiled(flat.astype(dtype), data.points, data.dp, data.mask)
        value = float(value)
        if value < best[0]:
            best[:] = [value, flat.copy()]
        if not np.isfinite(value):
            # An infinite value makes the line search step back; NaN would poison it.
            return np.inf, np.zeros(flat.size)
        return value, grad.numpy().astype(float)

    def on_iteration(intermediate_result):  # SciPy passes the result by this name only
        callback(intermediate_result.x, float(intermediate_result.fun))

    x0 = np.concatenate([w.numpy().reshape(-1).astype(float) for w in variables])
    try:
        res = _minimize(fun, x0, on_iteration, maxiter)
    except _Interrupted:
        assign(best[1])
        return best[1], float(best[0])
    assign(res.x)
    return res.x, float(res.fun)


class _Interrupted(Exception):
    """Raised inside L-BFGS-B's objective to leave SciPy's loop between evaluations."""


def _minimize(fun, x0: np.ndarray, on_iteration, maxiter: int):
    return scipy.optimize.minimize(
        fun,
        x0,
        jac=True,
        method="L-BFGS-B",
        callback=on_iteration,
        options={
            "maxiter": maxiter,
            "maxcor": 50,
            "ftol": 0.0,
            "gtol": 0.0,
            "maxfun": 2 * maxiter,
        },
    )
