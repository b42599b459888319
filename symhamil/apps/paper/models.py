"""Networks of the reproduction: recipes, training, and the cache of finished models.

A :class:`Recipe` is a frozen value holding everything that decides a trained
network - the architecture, the :class:`~symhamil.learning.training.TrainingSpec`, an
optional second stage (the paper's central-force warm start) - and its JSON form
is the key under which a finished model is cached: a model is reused only when
every field and the seed match. TensorFlow is imported only when a network is
actually trained or loaded.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ...base.files import write_json
from ...data.trajectories import Trajectories
from ...learning.training import TrainingSpec

__all__ = ["Recipe", "TrainedModel", "train"]


@dataclass(frozen=True, kw_only=True)
class Recipe:
    """How one network is built and trained.

    Attributes
    ----------
    hidden : tuple of int
    activation, features, output : str
        As for :class:`~symhamil.neural.NeuralPotential`.
    training : TrainingSpec
    then : Recipe or None
        A second stage warm-started from the first with a changed activation
        and output (the paper's central-force recipe).
    center : bool
        At the switch, rescale the output layer so that the pre-exponential
        output has mean 0 and range 0.5 over the data (exp of an unscaled V
        overflows).
    """

    hidden: tuple[int, ...] = (16, 16)
    activation: str = "tanh"
    features: str = "identity"
    output: str = "linear"
    training: TrainingSpec = field(default_factory=TrainingSpec)
    then: Recipe | None = None
    center: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(int(w) for w in self.hidden))

    @property
    def loss(self) -> str:
        """The loss of the last stage (the one the final network was trained on)."""
        return self.then.loss if self.then is not None else self.training.loss

    def to_json(self) -> dict:
        """Every field: the cache key of a finished model."""
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        d["training"] = self.training.to_json()
        d["then"] = None if self.then is None else self.then.to_json()
        return d

    def describe(self) -> str:
        """One line: architecture, loss, optimiser and steps."""
        widths = sorted(set(self.hidden))
        size = (
            f"{len(self.hidden)} x {self.hidden[0]}"
            if len(widths) == 1
            else " x ".join(map(str, self.hidden))
        )
        arch = f"{self.features} input, {size} {self.activation}"
        if self.output != "linear":
            arch += f", {self.output} output"
        text = f"{arch}; {self.training.describe()}"
        if self.then is not None:
            text += "; then " + self.then.describe()
        return text


@dataclass(frozen=True)
class TrainedModel:
    """A trained network and the facts of its training (see ``results.Training``)."""

    model: object
    steps: int
    iterations: int
    wall_time: float
    history: np.ndarray
    loaded: bool


def _thin(x: np.ndarray, n: int) -> np.ndarray:
    return x[:: max(1, len(x) // n)]


def _stage(train: Trajectories, recipe: Recipe, folder: Path, seed: int, model=None):
    from ...neural import NeuralPotential  # TensorFlow is loaded here, not at import

    if model is None:
        model = NeuralPotential(
            dim=train.dim,
            hidden=recipe.hidden,
            activation=recipe.activation,
            features=recipe.features,
            output=recipe.output,
            seed=seed,
        )
    return model.fit(train, spec=recipe.training, checkpoint_dir=folder / "checkpoints")


def _differences(saved: dict, now: dict, prefix: str = "") -> list[str]:
    out = []
    for k in sorted(set(saved) | set(now)):
        a, b = saved.get(k), now.get(k)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f"{prefix}{k}.")
        elif a != b:
            out.append(f"{prefix}{k}: saved {a!r}, now {b!r}")
    return out


# Over 80 lines with its numpydoc docstring (19 of 91 lines); the code is 64.
def train(
    train_data: Trajectories,
    recipe: Recipe,
    folder: Path,
    seed: int,
    sample_points,
    say=lambda text: None,
) -> TrainedModel:
    """Train ``recipe`` on ``train_data``, or load it if ``folder`` already holds it.

    A finished model is reused only when its recipe and seed equal these in
    every field; otherwise it is refused, naming the fields that differ. An
    interrupted training resumes from its checkpoints under ``folder``.

    Parameters
    ----------
    train_data : Trajectories
    recipe : Recipe
    folder : Path
        ``models/<case>/<route>`` of the output folder.
    seed : int
        Seeds the networks' initial weights.
    sample_points : callable, () -> ndarray (K, d)
        Positions over the data (for the warm start's rescaling).
    say : callable, str -> None
        Progress messages ("resuming ...").
    """
    from ...neural import NeuralPotential  # TensorFlow is loaded here, not at import

    key = {"recipe": recipe.to_json(), "seed": seed}
    done = folder / "training.json"
    if done.is_file() and (folder / "model").is_dir():
        try:
            saved = json.loads(done.read_text())
            if not isinstance(saved, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            raise ValueError(
                f"{done} is damaged ({exc}); delete {folder} to train that model again."
            ) from None
        if saved.get("key") != key:
            diff = "; ".join(_differences(saved.get("key") or {}, key)) or "unknown"
            raise ValueError(
                f"{folder} holds a model trained with another recipe or seed ({diff}). "
                "Use another --out, or delete that folder."
            )
        try:
            return TrainedModel(
                NeuralPotential.load(folder / "model"),
                int(saved["steps"]),
                int(saved["iterations"]),
                float(saved["wall_time"]),
                np.asarray(saved["history"], dtype=float),
                True,
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(
                f"{done} is damaged (missing or wrong field {exc}); delete {folder} to train "
                "that model again."
            ) from None
    if (folder / "stage1" / "checkpoints" / "checkpoint.npz").is_file():
        say(f"resuming the interrupted training in {folder}")
    t0 = time.perf_counter()
    model = _stage(train_data, recipe, folder / "stage1", seed)
    steps, histories = model.n_steps_, [model.history_]
    if recipe.then is not None:
        nxt = recipe.then
        warm = NeuralPotential.from_model(model, activation=nxt.activation)
        if recipe.center:
            z = warm.potential(sample_points())
            a = 0.5 / max(float(np.ptp(z)), 1e-12)
            warm.rescale_output(a, -a * float(z.mean()))
        warm = NeuralPotential.from_model(warm, output=nxt.output)
        model = _stage(train_data, nxt, folder / "stage2", seed, warm)
        steps += model.n_steps_
        histories.append(model.history_)
    wall = time.perf_counter() - t0
    history = np.concatenate(histories)
    model.save(folder / "model")
    write_json(
        done,
        {
            "key": key,
            "steps": int(steps),
            "iterations": int(history.size),
            "wall_time": wall,
            # At most ~400 points of the loss curve, for the figure.
            "history": [float(v) for v in _thin(history, 400)],
        },
    )
    return TrainedModel(model, int(steps), int(history.size), wall, _thin(history, 400), False)
