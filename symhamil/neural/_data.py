"""Training data as tensors, and the training loss with its gradient.

The observations (pairs, triples, weak windows) and their stencils come from
:mod:`symhamil.learning.observations` (written once there); this module only lays them out for
TensorFlow so that the loss needs no gather.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..data.noise import momenta
from ..data.trajectories import Trajectories
from ..learning.observations import OBSERVATIONS, average, pairs

#: When XLA compiles (``jit_compile=True``). Its compilation costs 0.5-1.4 s per
#: function here, and it saves ~0.5 ms per step on 10,000 points: it pays off on
#: long first-order loops over more than XLA_MIN_SIZE coordinates (at least
#: XLA_MIN_STEPS planned steps), and otherwise - L-BFGS-B, self-stopping runs of
#: a few hundred steps - only on sets over XLA_MIN_SIZE_SHORT coordinates.
XLA_MIN_SIZE = 5_000
XLA_MIN_STEPS = 1_000
XLA_MIN_SIZE_SHORT = 20_000
#: The network's weak loss starts a window every window / WEAK_OVERLAP steps.
WEAK_OVERLAP = 8


class TrainingData:
    """One training set as tensors, laid out so that the loss needs no gather.

    points : (R, M, d) the positions grad V is evaluated at
    dp     : (R, P, d) the targets (p_{i+1} - p_i) / h of the P observations, or
             their analogues (second differences, weak windows)
    mask   : (R, P, 1) 1 for observations inside their piece, 0 for padding
    Points and targets are in the network's own units (``scaling``: positions
    shifted and scaled, targets divided by its force unit), so the loss here is
    the data's loss divided by ``scaling.force ** 2``.
    layout : how grad V at ``points`` lines up with the observations (static)
        "forward"  M = P, the q_i of each pair (or centre of each triple);
        "shared"   M = P + 1, all points (midpoint, stride 1): q_i = [:-1], q_{i+1} = [1:];
        "pairs"    M = 2P, the q_i then the q_{i+1} (midpoint, stride > 1);
        "stencil"  M = N + 1, all points; a strided convolution with the weak
                   form's weights gives one value per window.
    Static slices and convolutions keep the backward pass free of XLA's slow
    scatter-add, which a gather's gradient would need.
    """

    def __init__(
        self,
        traj: Trajectories,
        kind: str,
        stride: int,
        dtype,
        long_run: bool = False,
        weak_window: int | None = None,
        scaling=None,
        drag=None,
    ) -> None:
        # Weak windows every window/8 steps: a network has many weights, and half-
        # overlapping windows of a short record leave it too few observations.
        step = None if weak_window is None else max(1, weak_window // WEAK_OVERLAP)
        pr = pairs(traj, kind, stride, weak_window, step)
        self.stencil = None
        gathers = OBSERVATIONS[kind].gathers
        if gathers == "start":
            self.layout, pts = "forward", pr.start
        elif gathers == "window":
            self.layout, pts = "stencil", traj.q
            self.stencil = (tuple(float(w) for w in pr.weights), pr.step)
        elif stride == 1:
            self.layout, pts = "shared", traj.q
        else:
            self.layout, pts = "pairs", np.concatenate([pr.start, pr.end], axis=1)
        self.kind = kind
        dp = pr.dp
        if drag is not None:
            # A known friction (dp/dt = -grad V - dR/dp): its force joins the
            # targets, so the network learns V alone.
            d = traj.dim

            def rows(q, p):
                return drag(q.reshape(-1, d), p.reshape(-1, d)).reshape(q.shape)

            dp = dp + pr.gathered_states(rows, momenta(traj))
        if scaling is not None and not scaling.is_identity:
            pts = (pts - np.asarray(scaling.shift)) / scaling.scale
            dp = dp / scaling.force
        self.points = tf.constant(pts, dtype=dtype)
        self.dp = tf.constant(dp, dtype=dtype)
        mask = np.ones(pr.dp.shape[:2]) if pr.mask is None else pr.mask.astype(float)
        self.mask = tf.constant(mask[..., None], dtype=dtype)
        self.count = pr.count
        self.R = traj.R
        self.size = int(pts.size)
        self.jit = self.size > (XLA_MIN_SIZE if long_run else XLA_MIN_SIZE_SHORT)

    @property
    def key(self) -> tuple:
        """What a compiled loss depends on besides the tensors."""
        return (self.kind, self.layout, self.stencil)


def averaged(kind: str, layout: str, g, n_pairs, stencil=None):
    """grad V at the layout's points (R, M, d) -> the combination per observation (R, P, d)."""
    if layout == "forward":
        return average(kind, g, None)
    if layout == "shared":
        return average(kind, g[:, :-1], g[:, 1:])
    if layout == "stencil":
        weights, step = stencil
        R, M, d = tf.unstack(tf.shape(g))
        x = tf.reshape(tf.transpose(g, (0, 2, 1)), (R * d, M, 1))
        w = tf.constant(np.asarray(weights)[:, None, None], dtype=g.dtype)
        y = tf.nn.conv1d(x, w, stride=step, padding="VALID")  # (R d, W, 1)
        return tf.transpose(tf.reshape(y, (R, d, -1)), (0, 2, 1))
    return average(kind, g[:, :n_pairs], g[:, n_pairs:])


def loss_and_grads(model, points, dp, mask, key, batch_idx=None):
    """The mean squared residual and its gradient with respect to the weights.

    Runs inside a tf.function, on the network in its own units (``model._net``:
    the data are scaled already). ``key`` is :attr:`TrainingData.key`. The output
    bias never reaches grad V, so its gradient is None (and
    ``unconnected_gradients=ZERO`` crashes on some variables): it is zeroed here.
    """
    kind, layout, stencil = key
    if batch_idx is not None:
        points = tf.gather(points, batch_idx)
        dp = tf.gather(dp, batch_idx)
        mask = tf.gather(mask, batch_idx)
    with tf.GradientTape() as outer:
        x = tf.reshape(points, (-1, model.dim))
        with tf.GradientTape() as inner:
            inner.watch(x)
            v = tf.reduce_sum(model._net(x))
        g = tf.reshape(inner.gradient(v, x), tf.shape(points))
        r = dp + averaged(kind, layout, g, tf.shape(dp)[1], stencil)
        count = tf.reduce_sum(mask) * tf.cast(tf.shape(dp)[2], dp.dtype)
        loss = tf.reduce_sum(mask * tf.square(r)) / count
    grads = outer.gradient(loss, model.variables_)
    grads = [
        tf.zeros_like(w) if gr is None else gr
        for gr, w in zip(grads, model.variables_, strict=True)
    ]
    return loss, grads
