"""NeuralPotential: a scikit-learn-like estimator of V(q) from trajectories.

The estimator holds the network (evaluation, weights, files, warm starts); a
``fit`` call validates its arguments into a :class:`~symhamil.learning.training.TrainingSpec`
and hands the work to a :class:`~._run.TrainingRun`.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import sympy as sp
import tensorflow as tf

from ..data.trajectories import Trajectories
from ..learning.observations import trajectory_loss
from ..learning.planning import Plan
from ..learning.planning import plan as make_plan  # fit has a parameter named plan
from ..learning.training import Scaling, TrainingSpec, choose_scaling
from ..sindy import Library, friction_library, select_friction
from ..systems.friction import drag_function
from . import _network as net
from ._optimizers import FirstOrder
from ._run import TrainingError, TrainingRun

__all__ = ["NeuralPotential", "TrainingError"]


def _show_progress() -> bool:
    """Progress by default on a terminal and in Jupyter, not in scripts writing to files."""
    return sys.stderr.isatty() or "ipykernel" in sys.modules


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
    scaling : "auto", None or Scaling
        ``"auto"``: the first ``fit`` brings the data to numbers of order one
        (powers of ten, :func:`~symhamil.learning.training.choose_scaling`), so
        that data in pixels, AU or joules train as well as data in natural
        units; data already of order one are left as they are. None: no
        scaling. A :class:`~symhamil.learning.training.Scaling`: that one.

    Attributes
    ----------
    scaling_ : Scaling
        V(q) = scaling_.output * net((q - scaling_.shift) / scaling_.scale).
        Potentials, gradients, losses and the SymPy export are in the data's
        units either way.
    history_ : ndarray, shape (steps,)
        Training loss at every step (first-order steps, then L-BFGS iterations).
    loss_ : float
        The last training loss.
    n_steps_ : int
        First-order steps taken (resumed ones included).
    n_lbfgs_ : int
        L-BFGS-B iterations taken (resumed ones included).
    spec_ : TrainingSpec
        The settings of the last ``fit``.
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
        scaling: str | Scaling | None = "auto",
    ) -> None:
        net.check_architecture(dim, hidden, activation, features, output, dtype)
        if not (scaling is None or scaling == "auto" or isinstance(scaling, Scaling)):
            raise ValueError(
                f"scaling must be 'auto', None or a symhamil Scaling; got {scaling!r}."
            )
        if isinstance(scaling, Scaling) and len(scaling.shift) != dim:
            raise ValueError(
                f"the scaling shifts {len(scaling.shift)} coordinate(s); this network takes {dim}."
            )
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
        self._act = net.activation_fn(activation)
        self.variables_ = [
            tf.Variable(w, dtype=self._tf_dtype)
            for w in net.glorot_uniform(self.arch_.shapes(), self.seed)
        ]
        self.history_ = np.zeros(0)
        self.n_steps_ = 0
        self.n_lbfgs_ = 0
        self.loss_ = float("nan")
        self.fit_time_ = 0.0
        self.windows_visited_: list[int] = []
        self._compiled: dict = {}
        self.scaling = scaling
        self.scaling_ = scaling if isinstance(scaling, Scaling) else Scaling.identity(self.dim)
        self.friction_ = None  # the model's friction R: given, or chosen from a library
        self.friction_coefficients_: dict = {}
        self._drag = None  # dR/dp of a given R, whose force the training targets hold

    # ------------------------------------------------------------------ evaluation
    def _net(self, x):
        """The network in its own units (what training moves), shape (K,)."""
        return net.forward(
            self.variables_, x, self._act, self._feats, self.output == "exponential"
        )

    def _V(self, x):
        """V at points x (K, d) in the data's units, shape (K,)."""
        sc = self.scaling_
        if sc.is_identity:
            return self._net(x)
        shift = tf.constant(sc.shift, dtype=x.dtype)
        return sc.output * self._net((x - shift) / sc.scale)

    def _set_scaling(self, scaling: Scaling) -> None:
        """Use ``scaling``; compiled evaluations hold the old one, so they go."""
        if scaling != self.scaling_:
            self.scaling_ = scaling
            self._compiled = {k: f for k, f in self._compiled.items() if k[0] != "eval"}

    def _fresh(self) -> bool:
        return self.n_steps_ == 0 and self.n_lbfgs_ == 0 and self.history_.size == 0

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

    def loss(
        self,
        traj: Trajectories,
        kind: str = "forward",
        stride: int = 1,
        window: int | None = None,
        window_step: int | None = None,
    ) -> float:
        """The loss of this network on ``traj``.

        See :func:`symhamil.learning.observations.trajectory_loss`.
        """
        self._check_data(traj)
        return trajectory_loss(self, traj, kind, stride, window, window_step)

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

    def rescale_output(self, a: float, b: float = 0.0) -> NeuralPotential:
        """Make the last layer's output a * out + b (before an exponential output),
        in the data's units.

        The constant and the scale of a potential are free at a warm start: the
        paper's central-force recipe brings the pre-exponential output to a small
        range, where exp is nearly linear, before switching to an exponential
        output. Returns self.
        """
        if not (np.isfinite(a) and np.isfinite(b)) or a == 0:
            raise ValueError(f"rescale_output needs finite a != 0 and b; got a={a}, b={b}.")
        kernel, bias = self.variables_[-2], self.variables_[-1]
        kernel.assign(kernel * a)
        bias.assign(bias * a + b / self.scaling_.output)
        return self

    @classmethod
    def from_model(cls, model: NeuralPotential, **changes) -> NeuralPotential:
        """A new network with ``model``'s weights and some settings changed.

        The paper's central-force recipe: train with elu, then continue with
        ``NeuralPotential.from_model(m, activation="softplus", output="exponential")``.
        Only settings that keep the weight shapes may change (activation, output,
        dtype); the weights and the scaling are copied exactly.
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
            "scaling": model.scaling_,
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
            {
                "history": self.history_.tolist(),
                "n_steps": self.n_steps_,
                "n_lbfgs": self.n_lbfgs_,
                "scaling": self.scaling_.to_json(),
            },
        )

    @classmethod
    def load(cls, path: str | os.PathLike, features: Callable | None = None) -> NeuralPotential:
        """Read a network written by :meth:`save`.

        The configuration and the weights are checked against each other (shapes,
        finite values) before any TensorFlow variable is made; a damaged or
        tampered folder is refused with its name and the fault.
        """
        path = Path(path)
        try:
            cfg = net.read_config(path)
            a = cfg["architecture"]
            feats = features if a["features"] == "custom" else a["features"]
            if feats is None:
                raise ValueError(
                    f"{path} was saved with a custom feature function; pass it as "
                    "features=... to load()."
                )
            kw = {
                "dim": a["dim"],
                "hidden": tuple(a["hidden"]),
                "activation": a["activation"],
                "features": feats,
                "output": a["output"],
                "dtype": a["dtype"],
                "seed": a["seed"] if a["seed"] is None else _whole(a["seed"], "seed"),
            }
            net.check_architecture(
                kw["dim"], kw["hidden"], kw["activation"], feats, kw["output"], kw["dtype"]
            )
            history = np.asarray(cfg.get("history", []), dtype=float).reshape(-1)
            scaling = Scaling.from_json(cfg.get("scaling"), kw["dim"])
            n_steps = _whole(cfg.get("n_steps", 0), "n_steps")
            n_lbfgs = _whole(cfg.get("n_lbfgs", 0), "n_lbfgs")
        except FileNotFoundError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            msg = str(exc)
            raise ValueError(
                msg if msg.startswith(str(path)) else f"{path}: not a readable saved model ({msg})"
            ) from None
        weights = net.read_weights(path)
        if not callable(feats):
            expected = net.Architecture(
                kw["dim"], kw["hidden"], kw["activation"], feats, kw["output"]
            ).shapes()
            got = [tuple(w.shape) for w in weights]
            if got != expected:
                raise ValueError(
                    f"{path}: weights.npz holds arrays of shapes {got}, but config.json "
                    f"describes {expected}; the folder is damaged or was edited."
                )
        model = cls(**kw)
        model.set_weights(weights)
        model._set_scaling(scaling)
        model.history_, model.n_steps_, model.n_lbfgs_ = history, n_steps, n_lbfgs
        model.loss_ = float(history[-1]) if history.size else float("nan")
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

    def _first_order(self, method: str) -> FirstOrder:
        """The model's GD or Adam state, kept across fit calls (moments, compiled loops)."""
        if not hasattr(self, "_optimizers"):
            self._optimizers: dict[str, FirstOrder] = {}
        if method not in self._optimizers:
            self._optimizers[method] = FirstOrder(self, method)
        return self._optimizers[method]

    # Over 80 lines with its numpydoc docstring (47 of 109 lines); the code is 46.
    def fit(
        self,
        traj: Trajectories,
        steps: int | None = None,
        *,
        spec: TrainingSpec | None = None,
        time_limit: float | None = None,
        checkpoint_dir: str | os.PathLike | None = None,
        checkpoint_every: int = 1000,
        resume: bool = True,
        chunk: int = 500,
        verbose: bool | None = None,
        strategy: tf.distribute.Strategy | None = None,
        plan: Plan | None = None,
        friction=None,
        **settings,
    ) -> NeuralPotential:
        """Train on trajectories; returns self.

        With no settings, ``fit`` needs no tuning: Adam warms up until its loss
        levels off, then L-BFGS-B refines until its loss stops falling (see
        :class:`~symhamil.learning.training.TrainingSpec` for the rules and every setting).

        Parameters
        ----------
        traj : Trajectories
            q (and p) of shape (R, N+1, d), d = ``dim``; ragged pieces and
            positions-only data are used as :mod:`symhamil.learning.observations` says.
        steps : int, optional
            Total first-order steps (a :class:`~symhamil.learning.training.TrainingSpec`
            setting, also accepted positionally).
        spec : TrainingSpec, optional
            All training settings as one value; keyword settings override it.
        **settings
            Any field of :class:`~symhamil.learning.training.TrainingSpec`: ``loss``,
            ``optimizer``, ``lbfgs_steps``, ``learning_rate``, ``stride``,
            ``batch_trajectories``, ``window``, ``window_step``, ``target_loss``,
            ``handover``, ``lbfgs_tol``, ``patience``, ``weak_window``. The loss
            is chosen from the data unless given (``spec_`` records the choice).
        time_limit : float, optional
            Stop after this many seconds of wall time, keeping the best weights.
        checkpoint_dir : path, optional
            Write a checkpoint every ``checkpoint_every`` first-order steps, at
            the hand-over to L-BFGS-B and at the end; a later ``fit`` with the
            same folder and settings resumes from it (an interrupted L-BFGS-B
            stage runs again from its start), and one whose run had finished
            does nothing.
        resume : bool
            False starts afresh even when ``checkpoint_dir`` holds a checkpoint.
        chunk : int
            Steps fused into one compiled call.
        verbose : bool, optional
            A progress bar (tqdm: a widget in Jupyter, a bar on a terminal) and
            stage messages; by default on a terminal and in Jupyter.
        strategy : tf.distribute.Strategy, optional
            Data-parallel first-order steps (e.g. ``tf.distribute.MirroredStrategy``
            over several GPUs): trajectories are split across the replicas and the
            gradients summed. One compiled call per step; the L-BFGS stage runs on
            the default device.
        plan : Plan, optional
            The data's plan (:func:`symhamil.plan`), made once and shared with
            force-SINDy and the rollouts: the loss and weak window where the
            settings leave them open.
        friction : sympy.Expr, SparseFit or Library, optional
            A Rayleigh dissipation function R(q, p) in ``traj.momentum_symbols``
            (or a fit whose ``friction`` it is, as force-SINDy selects it with V
            from a friction library): the data obey dp/dt = -grad V - dR/dp, and
            the network learns V from the momenta's change with R's force added
            back; a checkpoint written with another R is refused. A ``Library``
            of Rayleigh functions instead: the network learns V, and a sparse R
            is chosen from what V leaves (:func:`symhamil.select_friction`).
            Either way R is ``friction_`` (and, chosen, ``friction_coefficients_``).
        """
        # A subclass's preparation (PairPotential's pair lists) counts against
        # the time limit too: the clock starts where its fit started.
        t_start = getattr(self, "_fit_started", None) or time.perf_counter()
        # ---- validate everything before any expensive work
        self._check_data(traj)
        if steps is not None:
            settings["steps"] = steps
        spec = TrainingSpec.from_kwargs(spec, **settings)
        if plan is not None and not isinstance(plan, Plan):
            raise TypeError(f"plan must be a symhamil Plan; got {type(plan).__name__}.")
        if plan is None and spec.loss is None:
            plan = make_plan(traj, window=spec.weak_window)
        if plan is not None:
            traj = plan.observed(traj)  # without momenta that disagree with the positions
        library = friction if isinstance(friction, Library) else None
        if library is not None:
            friction_library(library, traj)  # refused now if it is no friction
            self._drag = self.friction_ = None
        elif friction is not None:
            R = getattr(friction, "friction", friction)  # a fit's, or an expression
            self._drag = drag_function(R, traj.coords)  # refuses other symbols, now
            self.friction_ = None if self._drag is None else sp.sympify(R)
        for name, v in (("checkpoint_every", checkpoint_every), ("chunk", chunk)):
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
                raise ValueError(f"{name} must be a whole number >= 1; got {v!r}.")
        b = spec.batch_trajectories
        if b is not None and not 1 <= b <= traj.R:
            raise ValueError(f"batch_trajectories must be between 1 and R = {traj.R}; got {b}.")
        if strategy is not None and b is not None:
            raise ValueError(
                "batch_trajectories is not supported together with strategy; the "
                "strategy already splits the trajectories across replicas."
            )
        if time_limit is not None and not (
            isinstance(time_limit, int | float) and np.isfinite(time_limit) and time_limit > 0
        ):
            raise ValueError(
                f"time_limit must be a finite number of seconds > 0; got {time_limit}."
            )
        if spec.window is not None:
            traj.windows(spec.window, spec.window_step)  # a bad window fails here
        spec = spec.resolve(traj, plan)
        if self.scaling == "auto" and self._fresh():
            self._set_scaling(
                choose_scaling(
                    traj,
                    spec.loss,
                    spec.stride,
                    spec.weak_window,
                    scale=self._custom is None,
                    shift=self.arch_.features == "identity",
                )
            )
        run = TrainingRun(
            self,
            spec,
            traj,
            folder=Path(checkpoint_dir) if checkpoint_dir is not None else None,
            checkpoint_every=int(checkpoint_every),
            resume=resume,
            chunk=int(chunk),
            verbose=_show_progress() if verbose is None else verbose,
            time_limit=time_limit,
            strategy=strategy,
            started=t_start,
        )
        self.spec_ = spec
        try:
            run.run()
        finally:
            self.fit_time_ = time.perf_counter() - t_start
        if library is not None:
            # What the trained V leaves of the momenta's change, regressed on the
            # library's dR/dp: friction is odd in p, so over whole swings a
            # potential cannot absorb it, and the residual holds it.
            terms = select_friction(self.gradient, traj, library, plan=plan)
            self.friction_ = sp.Add(*(sp.Float(c, 17) * t for t, c in terms.items()))
            self.friction_coefficients_ = terms
        return self


def _whole(value, name: str) -> int:
    """A whole number >= 0 from a saved configuration."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ValueError(f"{name} must be a whole number, not {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, not {value}")
    return int(value)
