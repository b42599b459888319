"""One training run: its stages, history, best weights, deadline, rollback and checkpoints.

``NeuralPotential.fit`` validates its arguments, builds a :class:`TrainingRun`
and calls :meth:`TrainingRun.run`. The run owns everything that lives only
while training: the loss history being collected, the best weights seen (kept
under a time limit), the last checkpoint written, and the stopping rules of the
:class:`~symhamil.learning.training.TrainingSpec`. The optimizers it drives only move
weights (:mod:`._optimizers`).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from ..data.trajectories import Trajectories
from ..learning.training import TrainingSpec
from . import _checkpoint as ckpt
from ._data import XLA_MIN_STEPS, TrainingData
from ._optimizers import lbfgs

#: Under a time limit, first-order steps run in chunks of about this share of
#: it, so the deadline is kept to within that (and progress shows that often).
DEADLINE_SLICE = 0.02


class TrainingError(RuntimeError):
    """Training cannot go on (a loss that turned NaN); the message says where it stopped."""


class TrainingRun:
    """The state of one ``fit`` call.

    Parameters
    ----------
    model : NeuralPotential
    spec : TrainingSpec
    traj : Trajectories
    folder : Path or None
        Checkpoint folder.
    checkpoint_every : int
    resume : bool
    chunk : int
        First-order steps fused into one compiled call.
    verbose : bool
    time_limit : float or None
        Seconds; the best weights seen are kept when it runs out.
    strategy : tf.distribute.Strategy or None
    """

    def __init__(
        self,
        model,
        spec: TrainingSpec,
        traj: Trajectories,
        *,
        folder: Path | None,
        checkpoint_every: int,
        resume: bool,
        chunk: int,
        verbose: bool,
        time_limit: float | None,
        strategy,
        started: float | None = None,
    ) -> None:
        self.model, self.spec, self.traj = model, spec, traj
        self.folder, self.every, self.resume = folder, checkpoint_every, resume
        self.chunk, self.verbose, self.strategy = chunk, verbose, strategy
        self.t_start = time.perf_counter() if started is None else started
        self.time_limit = time_limit
        self.deadline = np.inf if time_limit is None else self.t_start + time_limit
        self.per_step = None  # seconds per first-order step, measured on the way
        # Seconds the first compiled call took (its compile and one step): the
        # guess for what L-BFGS-B's own compile will cost, which no deadline
        # check can interrupt.
        self.first_call = None
        self.target = -np.inf if spec.target_loss is None else spec.target_loss
        # The optimizers see the loss in the network's units; history, targets
        # and messages are in the data's: loss = unit * the optimizers' loss.
        self.unit = model.scaling_.force**2
        self.windows = (
            traj.windows(spec.window, spec.window_step) if spec.window is not None else (traj,)
        )
        self.signature = ckpt.signature(model, spec.resume_key(), traj)
        self.optimizer = model._first_order(spec.first_order) if spec.first_order else None
        self.history: list[np.ndarray] = []
        self.best: tuple[float, list] = (np.inf, model.get_weights())
        self.last_checkpoint = "none"
        self.stage = "first-order"
        self.n_lbfgs = 0
        self.steps_this_run = 0
        # tqdm's auto mode: a widget in Jupyter, a bar on a terminal, nothing when quiet.
        first = spec.steps * len(self.windows) if spec.first_order else 0
        self.bar = tqdm(
            total=first + (spec.lbfgs_steps if spec.uses_lbfgs else 0),
            disable=not verbose,
            desc="training",
            unit="it",
            leave=False,
            file=sys.stderr,
        )

    # ------------------------------------------------------------------ bookkeeping
    @property
    def totals(self) -> dict:
        s = self.spec
        return {"steps": s.steps, "lbfgs_steps": s.lbfgs_steps, "target_loss": s.target_loss}

    def _history(self) -> np.ndarray:
        return np.concatenate(self.history) if self.history else np.zeros(0)

    def _tail(self, n: int) -> np.ndarray:
        """The last ``n`` losses, without joining the whole history (it grows long)."""
        parts, have = [], 0
        for part in reversed(self.history):
            parts.append(part)
            have += part.size
            if have >= n:
                break
        return np.concatenate(parts[::-1])[-n:] if parts else np.zeros(0)

    def record(self, values) -> None:
        values = np.asarray(values, dtype=float)
        self.history.append(values)
        if values.size and np.isfinite(values[-1]) and values[-1] < self.best[0]:
            self.best = (float(values[-1]), self.model.get_weights())

    def checkpoint(self) -> None:
        if self.folder is None:
            return
        m = self.model
        path = ckpt.write(
            self.folder,
            self.signature,
            m.get_weights(),
            self.optimizer.state() if self.optimizer else {},
            {
                "history": self._history(),
                "n_steps": m.n_steps_,
                "n_lbfgs": self.n_lbfgs,
                "stage": self.stage,
                "windows": m.windows_visited_,
                "totals": self.totals,
            },
        )
        self.last_checkpoint = f"{path} (step {m.n_steps_})"

    def _say(self, text: str) -> None:
        if self.verbose:
            self.bar.write(f"  {text}", file=sys.stderr)

    def _progress(self, n: int, loss: float) -> None:
        self.bar.update(n)
        if self.verbose:
            self.bar.set_postfix_str(f"loss {loss:.4e}", refresh=False)

    def _load(self) -> bool:
        """Resume from the folder's checkpoint; True when that run already finished."""
        m = self.model
        if self.folder is None or not self.resume:
            if self.folder is not None:
                m.history_, m.n_steps_, m.windows_visited_ = np.zeros(0), 0, []
            self.history = [m.history_]
            return False
        saved = ckpt.read(self.folder, self.signature, [tuple(v.shape) for v in m.variables_])
        if saved is None:
            m.history_, m.n_steps_, m.windows_visited_ = np.zeros(0), 0, []
            self.history = [m.history_]
            return False
        m.set_weights(saved.weights)
        if self.optimizer is not None and saved.optimizer:
            self.optimizer.load_state(saved.optimizer)
        if self.optimizer is not None:
            self.optimizer.remember()
        m.history_, m.n_steps_, m.windows_visited_ = saved.history, saved.n_steps, saved.windows
        self.history = [saved.history]
        self.n_lbfgs, self.stage = saved.n_lbfgs, saved.stage
        self.best = (np.inf, m.get_weights())
        if saved.stage == "done":
            if saved.totals == self.totals:
                return True
            # Train on with larger totals: back to the first-order stage if
            # L-BFGS-B has not run yet, else refine further.
            self.stage = "lbfgs" if self.n_lbfgs > 0 else "first-order"
        return False

    # ------------------------------------------------------------------ the run
    def run(self) -> None:
        lock = ckpt.acquire(self.folder) if self.folder is not None else None
        try:
            self._run()
        finally:
            self.bar.close()
            if lock is not None:
                ckpt.release(lock)

    def _run(self) -> None:
        m = self.model
        if self._load():
            self._say("this training had finished; nothing to do")
        else:
            stopped = False
            if self.optimizer is not None and self.stage == "first-order":
                stopped = self._first_order()
            if self.spec.uses_lbfgs and not stopped:
                # Mark the hand-over, so that an interrupted run resumes here and
                # not in Adam (which may have stopped early on a plateau).
                self.stage = "lbfgs"
                self.checkpoint()
                if self._time_for_lbfgs():
                    self._lbfgs()
            self.stage = "done"
            self.checkpoint()
        m.history_ = self._history()
        m.loss_ = float(m.history_[-1]) if m.history_.size else float("nan")
        m.n_lbfgs_ = self.n_lbfgs

    def _time_for_lbfgs(self) -> bool:
        """False when the time left is shorter than L-BFGS-B's compile would take
        (guessed from the first compiled call); then the best weights are kept.
        A compile cannot be stopped half-way, and would overrun the limit."""
        if self.time_limit is None or self.first_call is None:
            return True
        left = self.deadline - time.perf_counter()
        if left > self.first_call:
            return True
        self._say(
            f"{left:.1f} s left of the time limit, less than L-BFGS-B's compile "
            f"(about {self.first_call:.1f} s); keeping the best weights seen"
        )
        self.model.set_weights(self.best[1])
        return False

    def _plateau(self) -> bool:
        """Adam's loss fell by less than the handover factor over the last ``patience`` steps."""
        s = self.spec
        if s.optimizer != "adam+lbfgs" or s.handover is None or s.window is not None:
            return False
        h = self._tail(s.patience + 1)
        if h.size <= s.patience:
            return False
        return bool(h[-1] > s.handover * h[0])

    def _first_order(self) -> bool:
        """Gradient descent or Adam, window by window. True when training should stop."""
        m, s, opt = self.model, self.spec, self.optimizer
        steps = s.steps
        total = steps * len(self.windows)
        # A long loop (no plateau handover, many steps) is worth XLA's compile time.
        handover = s.optimizer == "adam+lbfgs" and s.handover is not None
        long_run = not handover and steps * len(self.windows) >= XLA_MIN_STEPS
        datas = [
            TrainingData(
                w,
                s.loss,
                s.stride,
                m._tf_dtype,
                long_run,
                s.weak_window,
                m.scaling_,
                getattr(m, "_drag", None),
            )
            for w in self.windows
        ]
        lr = tf.constant(s.rate, m._tf_dtype)
        target = tf.constant(self.target / self.unit, m._tf_dtype)
        size = min(self.chunk, self.every)
        while m.n_steps_ < total:
            k = m.n_steps_ // steps
            if not m.windows_visited_ or m.windows_visited_[-1] != k:
                m.windows_visited_.append(k)
            d = datas[k]
            n = min(self.chunk, steps - m.n_steps_ % steps, self.every - m.n_steps_ % self.every)
            if s.optimizer == "adam+lbfgs" and s.handover is not None:
                n = min(n, s.patience - m.n_steps_ % s.patience)
            n = self._within_deadline(n)
            began = time.perf_counter()
            if self.strategy is None:
                fn = opt.chunk(d, s.batch_trajectories, size, m.seed)
                done, values = fn(
                    d.points,
                    d.dp,
                    d.mask,
                    lr,
                    target,
                    tf.constant(m.n_steps_, tf.int64),
                    tf.constant(n),
                )
                done = int(done)
                values = values.numpy()[:done].astype(float) * self.unit
            else:
                step = opt.distributed(self.strategy, d)
                out = []
                for _ in range(n):
                    out.append(float(step(lr)) * self.unit)
                    if not np.isfinite(out[-1]) or out[-1] <= self.target:
                        break
                done, values = len(out), np.asarray(out)
            if not np.isfinite(values[-1]):
                self._non_finite(values, done)
            m.n_steps_ += done
            self.steps_this_run += done
            if done:  # the first call also compiles: later chunks measure better
                took = (time.perf_counter() - began) / done
                if self.first_call is None:
                    self.first_call = took * done
                self.per_step = took if self.per_step is None else min(self.per_step, took)
            self.record(values)
            self._progress(done, values[-1])
            stop = values[-1] <= self.target
            if not stop and time.perf_counter() > self.deadline:
                stop = True
                m.set_weights(self.best[1])
            if stop or m.n_steps_ % self.every == 0 or m.n_steps_ >= total:
                self.checkpoint()
            if stop:
                return True
            if self._plateau():
                self._say(
                    f"Adam's loss has levelled off at step {m.n_steps_}; L-BFGS-B takes over"
                )
                break
        return False

    def _within_deadline(self, n: int) -> int:
        """At most ``n`` steps, fewer under a time limit: the first chunk is one
        step (it compiles, and measures a step's cost), then chunks of about
        DEADLINE_SLICE of the limit, and never past the deadline by more than
        one step. A chunk of 500 steps of 4000 atoms is minutes; the deadline
        is checked between chunks."""
        if self.time_limit is None:
            return n
        if self.per_step is None:
            return 1
        left = max(self.deadline - time.perf_counter(), 0.0)
        share = DEADLINE_SLICE * self.time_limit
        return int(max(1, min(n, share / self.per_step, left / self.per_step + 1)))

    def _non_finite(self, values: np.ndarray, done: int) -> None:
        """Roll back to the last weights with a finite loss and raise TrainingError.

        Iteration j of the chunk computed the loss of the weights after n + j
        updates and updated only on a finite loss, so the last one (non-finite)
        left the weights after n + done - 1 updates; the optimizer's ``prev``
        holds those before the last update, whose loss was finite.
        """
        m = self.model
        bad = m.n_steps_ + done - 1  # the step whose loss is not finite
        if done == 1 and self.steps_this_run == 0:
            # No update happened in this call: the starting weights already fail,
            # and the checkpoint (if any) is left as it was.
            raise TrainingError(
                f"the training loss is {values[-1]} at the start of this fit (step {bad}), "
                "before any update; check the data for extreme values, or start from "
                "other weights (resume=False)."
            )
        self.optimizer.restore()
        m.n_steps_ = bad - 1
        if done >= 2:
            finite = float(values[done - 2])
            self.record(values[: done - 2])
        else:
            # The previous chunk's last loss belongs to the weights gone back to.
            h = self._history()
            finite = float(h[-1])
            self.history = [h[:-1]]
        self.checkpoint()
        m.history_ = self._history()
        m.loss_ = finite
        raise TrainingError(
            f"the training loss became {values[-1]} at step {bad}; the model keeps the "
            f"weights of step {m.n_steps_}, whose loss {finite:.6g} was finite; last "
            f"good checkpoint: {self.last_checkpoint}. Lower the learning rate or check "
            "the data."
        )

    def _lbfgs(self) -> None:
        """Quasi-Newton refinement on the last window, up to the remaining iterations.

        Checkpointed at its end only: SciPy's L-BFGS-B cannot save its curvature
        memory, so a restart from the middle would end elsewhere than an
        uninterrupted run. An interrupted stage is run again from its start (the
        hand-over checkpoint), which gives exactly the uninterrupted result.
        """
        m, s = self.model, self.spec
        remaining = s.lbfgs_steps - self.n_lbfgs
        if remaining <= 0:
            return
        data = TrainingData(
            self.windows[-1], s.loss, s.stride, m._tf_dtype, False, s.weak_window, m.scaling_,
            getattr(m, "_drag", None),
        )  # fmt: skip
        values: list[float] = []  # every iteration of this stage

        def callback(x, loss):
            loss *= self.unit
            values.append(loss)
            self.n_lbfgs += 1
            self._progress(1, loss)
            if loss <= self.target or time.perf_counter() > self.deadline:
                raise StopIteration
            tol, k = s.lbfgs_tol, s.patience
            if tol is not None and len(values) > k and values[-1] > (1 - tol) * values[-1 - k]:
                self._say(f"L-BFGS-B converged at iteration {self.n_lbfgs}")
                raise StopIteration

        _, final = lbfgs(
            m, data, remaining, callback, interrupt=lambda: time.perf_counter() > self.deadline
        )
        final *= self.unit
        self.record(values)
        if not np.isfinite(final):
            m.set_weights(self.best[1])
            self.checkpoint()
            raise TrainingError(
                f"the L-BFGS-B loss became {final} at iteration {self.n_lbfgs}; the model keeps "
                f"the best weights seen (loss {self.best[0]:.6g}); last checkpoint: "
                f"{self.last_checkpoint}. Check the data for extreme values."
            )
        if time.perf_counter() > self.deadline:
            m.set_weights(self.best[1])
