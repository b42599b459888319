"""The paper application: reproduce at the quick budget, results.json, the report, the cache."""

import dataclasses
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

import symhamil as sh
from symhamil.apps.paper import (
    EXPERIMENTS,
    RESULTS_SCHEMA,
    RunResult,
    build_pdf,
    experiment,
    load_results,
    reproduce,
    write_report,
)
from symhamil.apps.paper.models import Recipe, train
from symhamil.cli import main
from symhamil.learning.training import TrainingSpec

#: The issue's target for symhamil's default route, met even at the quick budget
#: here (measured 6e-6 on the oscillator, 8e-5 on T1): 0.1% with the true support.
DEFAULT_TOL = 1e-3
#: force-SINDy on exact (oscillator) and 1e-8-accurate (T1) data: bias O(h^2) ~ 1e-5.
FORCE_SINDY_TOL = 1e-4
#: The paper-faithful route's loss (3) has an O(h) bias; the issue asks for 0.1%
#: where the forward difference allows (measured at quick: 2e-4 on both cases).
FAITHFUL_TOL = 1e-3
CASES = ("harmonic_oscillator", "double_well_T1")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("reproduce")
    run = reproduce(["sho", "double-well"], budget="quick", out=out, cases=CASES, progress=None)
    return out, {r.key: r for r in run.cases}


@pytest.mark.parametrize("key", CASES)
def test_quick_recovers_the_true_support_and_coefficients(run, key):
    _, results = run
    res = results[key]
    truth = res.truth
    for route in ("faithful", "symhamil", "force_sindy"):
        r = res.routes[route]
        assert r.true_support, (route, r.coefficients)
        assert set(r.relative_error) == set(truth)
    assert res.routes["symhamil"].max_relative_error < DEFAULT_TOL
    assert res.routes["force_sindy"].max_relative_error < FORCE_SINDY_TOL
    assert res.routes["faithful"].max_relative_error < FAITHFUL_TOL


def test_truth_is_the_catalog_potential(run):
    _, results = run
    q = sp.Symbol("q")
    assert dict(results["harmonic_oscillator"].truth) == {q**2: 0.5}
    assert dict(results["double_well_T1"].truth) == {q: 2.0, q**2: 3.0, q**3: -4.0, q**4: 1.0}


def test_results_json_has_the_documented_schema(run):
    out, results = run
    doc = json.loads((out / "results.json").read_text())
    assert set(RESULTS_SCHEMA["top"]) <= set(doc)
    assert doc["budget"] == "quick" and set(doc["cases"]) == set(CASES)
    for key, case in doc["cases"].items():
        assert set(RESULTS_SCHEMA["case"]) <= set(case)
        assert set(case["routes"]) == {"faithful", "symhamil", "force_sindy"}
        for name, route in case["routes"].items():
            assert set(RESULTS_SCHEMA["route"]) <= set(route)
            mine = {sp.sstr(t): c for t, c in results[key].routes[name].coefficients.items()}
            assert route["coefficients"] == pytest.approx(mine, rel=1e-15)
        assert case["routes"]["symhamil"]["training"]["steps"] > 0
        assert case["targets"]["symhamil_within_0.1_percent_true_support"] is True
    # Everything written is there: models, data, figures in two formats.
    assert (out / "models" / "double_well_T1" / "symhamil" / "model").is_dir()
    assert (out / "data" / "double_well_T1-train.npz").is_file()
    for kind in ("potential", "loss", "path"):
        assert (out / "figures" / f"double_well_T1-{kind}.png").is_file()
        assert (out / "figures" / f"double_well_T1-{kind}.pdf").is_file()


@pytest.mark.skipif(
    shutil.which("latexmk") is None or shutil.which("pdftotext") is None,
    reason="needs TeX Live (latexmk) and pdftotext; .ci/run installs them",
)
def test_report_compiles_and_contains_the_recovered_coefficients(run):
    out, results = run
    pdf = out / "report.pdf"
    assert pdf.is_file()
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for res in results.values():
        for route in res.routes.values():
            for term, c in route.coefficients.items():
                if term != 1:
                    assert f"{c:.8g}" in text, (res.key, route.route, term)
    assert "Double well, T1" in text and "Harmonic oscillator" in text


def test_without_a_tex_engine_the_tex_is_written_and_the_message_says_how(
    run, monkeypatch, tmp_path
):
    out, _ = run
    monkeypatch.setattr(shutil, "which", lambda name: None)
    tex, pdf, message = write_report(load_results(out), tmp_path)
    assert tex.is_file() and pdf is None
    assert "latexmk -pdf report.tex" in message and "texlive-latex-base" in message
    assert build_pdf(tex)[0] is None


def test_bad_experiment_and_budget_fail_before_any_work(tmp_path, capsys):
    with pytest.raises(ValueError, match=r"unknown experiment 'pendulum'"):
        reproduce(["pendulum"], out=tmp_path / "x", progress=None)
    with pytest.raises(ValueError, match=r"unknown budget 'fast'; choose one of quick"):
        reproduce(["sho"], budget="fast", out=tmp_path / "y", progress=None)
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
    assert main(["reproduce", "pendulum", "--out", str(tmp_path / "z")]) == 2
    assert "unknown experiment 'pendulum'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["reproduce", "sho", "--budget", "fast"])
    assert exc.value.code == 2
    assert "invalid choice: 'fast'" in capsys.readouterr().err


def test_reproduce_help_names_experiments_and_budgets(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["reproduce", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for word in ("sho", "double-well", "central-force", "coulomb", "quick", "paper", "--out"):
        assert word in text


def test_every_experiment_declares_its_cases():
    keys = [c.key for e in EXPERIMENTS.values() for c in e.cases("quick")]
    assert keys == [
        "harmonic_oscillator",
        "double_well_T1",
        "double_well_T1_regenerated",
        "double_well_T2",
        "double_well_T3",
        "central_force",
        "central_force_simulated",
        "coulomb_difference_input",
        "coulomb_distance_input",
    ]
    (sho,) = experiment("sho").cases("paper")
    spec = sho.recipes["faithful"].training
    assert spec.steps == 50000 and spec.optimizer == "gd"
    t3 = experiment("double-well").cases("quick")[3].train
    assert np.allclose(t3.q[:, 0, 0], [-0.15, -0.59]) and np.allclose(
        t3.p[:, 0, 0], [-0.48, -0.92]
    )


@pytest.mark.slow
def test_default_budget_beats_the_paper_on_T1(tmp_path):
    # The targets at the default budget, on the paper's main data set.
    (res,) = reproduce(
        ["double-well"], out=tmp_path, cases=["double_well_T1"], report=False, progress=None
    ).cases
    for term, err in res.paper_relative_error.items():
        assert res.routes["faithful"].relative_error[term] <= err, term
    assert res.routes["symhamil"].true_support
    assert res.routes["symhamil"].max_relative_error < 1e-4  # the aim: 0.01%


def test_a_second_run_loads_the_trained_models_and_refuses_another_recipe(run, tmp_path):
    out, results = run
    shutil.copytree(out / "models", tmp_path / "models")
    (again,) = reproduce(["sho"], budget="quick", out=tmp_path, report=False, progress=None).cases
    first = results["harmonic_oscillator"]
    for route in ("faithful", "symhamil"):
        assert again.routes[route].coefficients == first.routes[route].coefficients
        assert again.routes[route].training.wall_time == first.routes[route].training.wall_time
    with pytest.raises(
        ValueError, match=r"budget 'quick' and seed 0, not budget 'quick' and seed 1"
    ):
        reproduce(["sho"], budget="quick", seed=1, out=tmp_path, report=False, progress=None)
    (tmp_path / "run.json").unlink()  # without the run's marker, each model is checked
    with pytest.raises(ValueError, match=r"another recipe or seed"):
        reproduce(["sho"], budget="default", out=tmp_path, report=False, progress=None)


def test_report_renders_from_results_json_alone_without_tensorflow(run, tmp_path):
    out, _ = run
    shutil.copy(out / "results.json", tmp_path / "results.json")  # no models, no data
    code = (
        "import sys; from symhamil.apps.paper import render; "
        f"tex, pdf, msg = render({str(tmp_path)!r}, compile=False); "
        "assert 'tensorflow' not in sys.modules, 'tensorflow loaded'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    # The same report, figure for figure, as the run that trained the models.
    assert (tmp_path / "report.tex").read_text() == (out / "report.tex").read_text()
    for kind in ("potential", "loss", "path"):
        assert (tmp_path / "figures" / f"double_well_T1-{kind}.pdf").is_file()
    assert main(["report", str(tmp_path), "--no-pdf"]) == 0


def test_results_round_trip_through_json_exactly(run):
    out, results = run
    back = load_results(out)
    assert isinstance(back, RunResult)
    for res in back.cases:
        mine = results[res.key]
        assert res.truth == mine.truth and res.variable == mine.variable
        for name, r in res.routes.items():
            assert r.coefficients == mine.routes[name].coefficients
            assert r.relative_error == mine.routes[name].relative_error
            assert r.path == mine.routes[name].path


def test_results_cannot_be_mutated(run):
    _, results = run
    res = results["double_well_T1"]
    route = res.routes["symhamil"]
    with pytest.raises(TypeError):
        route.coefficients[sp.Symbol("q")] = 1.0
    with pytest.raises(TypeError):
        res.routes["x"] = route
    with pytest.raises(dataclasses.FrozenInstanceError):
        route.threshold = 0.0
    with pytest.raises(ValueError, match=r"read-only"):
        route.training.history[0] = 0.0
    with pytest.raises(ValueError, match=r"read-only"):
        res.curves[0].y[0] = 0.0
    with pytest.raises(TypeError):
        route.training.recipe["hidden"] = (1,)


def test_results_refuse_a_term_that_is_not_a_formula(run, tmp_path):
    out, _ = run
    doc = json.loads((out / "results.json").read_text())
    case = doc["cases"]["harmonic_oscillator"]
    case["truth"] = {"__import__('os').system('true')": 1.0}
    (tmp_path / "results.json").write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=r"results.json term in q"):
        load_results(tmp_path)


def _tiny_recipe(**changes):
    spec = TrainingSpec(optimizer="adam", steps=2, lbfgs_steps=0)
    return Recipe(training=spec, **changes)


def test_model_cache_refuses_any_other_recipe_field_or_seed(tmp_path):
    data = sh.datasets.harmonic_circles(R=2, steps=50)
    points = lambda: data.q.reshape(-1, 1)  # noqa: E731
    folder = tmp_path / "m"
    first = train(data, _tiny_recipe(hidden=(16, 16)), folder, 0, points)
    again = train(data, _tiny_recipe(hidden=(16, 16)), folder, 0, points)
    assert again.loaded and not first.loaded
    for changes, seed, field in (
        ({"hidden": (16, 8)}, 0, "hidden"),
        ({"hidden": (16, 16), "center": True}, 0, "center"),
        ({"hidden": (16, 16)}, 1, "seed"),
    ):
        with pytest.raises(ValueError, match=f"another recipe or seed .*{field}"):
            train(data, _tiny_recipe(**changes), folder, seed, points)


def test_seed_reaches_the_initial_weights(tmp_path):
    data = sh.datasets.harmonic_circles(R=2, steps=50)
    points = lambda: data.q.reshape(-1, 1)  # noqa: E731
    recipe = Recipe(training=TrainingSpec(optimizer="adam", steps=0, lbfgs_steps=0))
    w = [
        train(data, recipe, tmp_path / str(i), seed, points).model.get_weights()[0]
        for i, seed in enumerate((0, 1, 1))
    ]
    assert not np.array_equal(w[0], w[1])
    np.testing.assert_array_equal(w[1], w[2])


def test_extrapolation_on_both_sides_is_drawn_as_two_pieces():
    from symhamil.report.plots import broken

    x, y = broken(np.array([0.0, 1.0, 2.0, 10.0, 11.0]), np.arange(5.0))
    assert np.isnan(x[3]) and np.isnan(y[3]) and x.size == 6


@pytest.mark.slow
def test_an_interrupted_reproduce_then_rerun_gives_the_same_results(tmp_path):
    import signal
    import time

    cmd = [sys.executable, "-m", "symhamil.cli", "reproduce", "sho", "--budget", "quick"]
    cmd += ["--no-report", "--out"]
    subprocess.run([*cmd, str(tmp_path / "a")], check=True, capture_output=True)
    for delay in (6.0, 9.0):  # during the first network's training, then the second's
        proc = subprocess.Popen([*cmd, str(tmp_path / "b")], stdout=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    subprocess.run([*cmd, str(tmp_path / "b")], check=True, capture_output=True)
    a = json.loads((tmp_path / "a" / "results.json").read_text())["cases"]
    b = json.loads((tmp_path / "b" / "results.json").read_text())["cases"]
    for key, case in a.items():
        for route, r in case["routes"].items():
            assert b[key]["routes"][route]["coefficients"] == r["coefficients"], (key, route)


def test_results_accumulate_across_runs_into_one_folder(run, tmp_path):
    out, results = run
    shutil.copytree(out, tmp_path / "out")
    again = reproduce(["sho"], budget="quick", out=tmp_path / "out", report=False, progress=None)
    keys = [c.key for c in again.cases]
    assert set(keys) == {"harmonic_oscillator", "double_well_T1"}
    kept = {c.key: c for c in load_results(tmp_path / "out").cases}["double_well_T1"]
    assert (
        kept.routes["symhamil"].coefficients
        == results["double_well_T1"].routes["symhamil"].coefficients
    )


def test_a_term_below_the_data_s_resolution_does_not_make_the_support_wrong():
    """On exact data a route may keep a term of 1e-6 of the largest coefficient
    (rounding the regression cannot tell from zero): the summary says "exact up
    to" it; a term above 1e-5, or a missed true term, is a wrong support."""
    from types import SimpleNamespace

    from symhamil.apps.paper.report import RESOLUTION, _exact, _max_err

    q = sp.Symbol("q")

    def route(coefficients, errors, true_support=False):
        return SimpleNamespace(
            coefficients=coefficients, relative_error=errors, true_support=true_support
        )

    exact = route({q**2: 0.5}, {q**2: 1e-9}, True)
    tiny = route({q**2: 0.5, q**3: 0.1 * RESOLUTION}, {q**2: 1e-9, q**3: np.inf})
    big = route({q**2: 0.5, q**3: 10 * RESOLUTION}, {q**2: 1e-9, q**3: np.inf})
    missed = route({q**3: 1e-7}, {q**2: 1.0, q**3: np.inf})
    assert _exact(exact) == "yes" and _exact(tiny).startswith("yes, up to terms below")
    assert _exact(big) == "NO" and _exact(missed) == "NO"
    assert "spurious" not in _max_err(tiny) and "spurious" in _max_err(big)
