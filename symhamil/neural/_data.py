"""Training data as tensors, and the training loss with its gradient.

The pairs, momentum differences and forward/midpoint averaging come from
:mod:`symhamil.losses` (written once there); this module only lays them out for
TensorFlow so that the loss needs no gather.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..losses import average, pairs
from ..trajectories import Trajectories

#: When XLA compiles (``jit_compile=True``). Its compilation costs 0.5-1.4 s per
#: function here, and it saves ~0.5 ms per step on 10,000 points: it pays off on
#: long first-order loops over more than XLA_MIN_SIZE coordinates (at least
#: XLA_MIN_STEPS planned steps), and otherwise - L-BFGS-B, self-stopping runs of
#: a few hundred steps - only on sets over XLA_MIN_SIZE_SHORT coordinates.
XLA_MIN_SIZE = 5_000
XLA_MIN_STEPS = 1_000
XLA_MIN_SIZE_SHORT = 20_000


class TrainingData:
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

    def __init__(
        self, traj: Trajectories, kind: str, stride: int, dtype, long_run: bool = False
    ) -> None:
        pr = pairs(traj, kind, stride)
        if kind == "forward":
            self.layout, pts = "forward", pr.start
        elif stride == 1:
            self.layout, pts = "shared", traj.q
        else:
            self.layout, pts = "pairs", np.concatenate([pr.start, pr.end], axis=1)
        self.kind = kind
        self.points = tf.constant(pts, dtype=dtype)
        self.dp = tf.constant(pr.dp, dtype=dtype)
        self.R = traj.R
        self.size = int(pts.size)
        self.jit = self.size > (XLA_MIN_SIZE if long_run else XLA_MIN_SIZE_SHORT)


def averaged(kind: str, layout: str, g, n_pairs):
    """grad V at the layout's points (R, M, d) -> the average per pair (R, P, d)."""
    if layout == "forward":
        return average(kind, g, None)
    if layout == "shared":
        return average(kind, g[:, :-1], g[:, 1:])
    return average(kind, g[:, :n_pairs], g[:, n_pairs:])


def loss_and_grads(model, points, dp, kind: str, layout: str, batch_idx=None):
    """The mean squared residual and its gradient with respect to the weights.

    Runs inside a tf.function. The output bias never reaches grad V, so its
    gradient is None (and ``unconnected_gradients=ZERO`` crashes on some
    variables): it is zeroed here.
    """
    if batch_idx is not None:
        points = tf.gather(points, batch_idx)
        dp = tf.gather(dp, batch_idx)
    with tf.GradientTape() as outer:
        x = tf.reshape(points, (-1, model.dim))
        with tf.GradientTape() as inner:
            inner.watch(x)
            v = tf.reduce_sum(model._V(x))
        g = tf.reshape(inner.gradient(v, x), tf.shape(points))
        loss = tf.reduce_mean(tf.square(dp + averaged(kind, layout, g, tf.shape(dp)[1])))
    grads = outer.gradient(loss, model.variables_)
    grads = [
        tf.zeros_like(w) if gr is None else gr
        for gr, w in zip(grads, model.variables_, strict=True)
    ]
    return loss, grads
