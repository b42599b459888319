"""symhamil.learning.training: the training settings as one validated, frozen value."""

import dataclasses
import subprocess
import sys

import pytest

from symhamil.learning.training import TrainingSpec


def test_defaults_and_derived_settings():
    spec = TrainingSpec()
    assert spec.loss is None and spec.optimizer == "adam+lbfgs"  # None: chosen from the data
    assert spec.first_order == "adam" and spec.uses_lbfgs and spec.rate == 0.01
    assert TrainingSpec(optimizer="lbfgs").first_order is None
    assert not TrainingSpec(optimizer="gd").uses_lbfgs


def test_the_loss_is_resolved_from_the_data():
    import numpy as np

    import symhamil as sh

    clean = sh.datasets.harmonic_circles(R=3, steps=400)
    assert TrainingSpec().resolve(clean).loss == "midpoint"
    only_q = sh.Trajectories(q=clean.q, p=None, h=clean.h)
    assert TrainingSpec().resolve(only_q).loss == "verlet"
    rng = np.random.default_rng(0)
    noisy = sh.Trajectories(
        q=clean.q + 0.01 * rng.standard_normal(clean.q.shape), p=clean.p, h=clean.h
    )
    spec = TrainingSpec().resolve(noisy)
    assert spec.loss == "weak" and spec.weak_window >= 32
    assert TrainingSpec(loss="forward", weak_window=40).resolve(clean).weak_window is None


def test_frozen_and_json_round_trip():
    spec = TrainingSpec(loss="forward", steps=10, window=100, target_loss=1e-3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.steps = 5
    assert TrainingSpec.from_json(spec.to_json()) == spec
    key = spec.resume_key()
    assert "steps" not in key and "lbfgs_steps" not in key and key["window"] == 100


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"steps": -1}, "steps must be a whole number >= 0"),
        ({"steps": float("inf")}, "steps must be a whole number"),
        ({"steps": 2.5}, "steps must be a whole number"),
        ({"lbfgs_steps": True}, "lbfgs_steps must be a whole number"),
        ({"loss": "central"}, "unknown loss 'central'"),
        ({"optimizer": "sgd"}, "unknown optimizer 'sgd'"),
        ({"stride": 0}, "stride must be a whole number >= 1"),
        ({"batch_trajectories": 1.5}, "batch_trajectories must be a whole number"),
        ({"learning_rate": -1.0}, "learning_rate must be a finite number > 0"),
        ({"learning_rate": float("nan")}, "learning_rate must be a finite number > 0"),
        ({"handover": 1.5}, "handover must be < 1"),
        ({"lbfgs_tol": 0.0}, "lbfgs_tol must be a finite number > 0"),
        ({"target_loss": float("nan")}, "target_loss must be a number"),
    ],
)
def test_bad_settings_are_refused_with_the_setting_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainingSpec(**kwargs)


def test_unknown_setting_lists_the_known_ones():
    with pytest.raises(TypeError, match=r"unknown training setting.*epochs.*known: .*loss"):
        TrainingSpec.from_kwargs(epochs=3)


def test_no_tensorflow_needed():
    code = (
        "import sys; from symhamil.learning.training import TrainingSpec; TrainingSpec(steps=3); "
        "assert 'tensorflow' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
