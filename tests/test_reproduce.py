"""symhamil reproduce at the quick budget: recovered coefficients, results.json, the report."""

import json
import shutil
import subprocess

import numpy as np
import pytest
import sympy as sp

from symhamil import experiments
from symhamil.cli import main
from symhamil.report import build_pdf, write_report
from symhamil.reproduce import RESULTS_SCHEMA, reproduce

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
    results = reproduce(
        ["sho", "double-well"], budget="quick", out=out, cases=CASES, progress=None
    )
    return out, {r.case.key: r for r in results}


@pytest.mark.parametrize("key", CASES)
def test_quick_recovers_the_true_support_and_coefficients(run, key):
    _, results = run
    res = results[key]
    truth = res.truth
    for route in ("paper", "default", "force_sindy"):
        r = res.routes[route]
        assert r.true_support, (route, r.coefficients)
        assert set(r.relative_error) == set(truth)
    assert res.routes["default"].max_relative_error < DEFAULT_TOL
    assert res.routes["force_sindy"].max_relative_error < FORCE_SINDY_TOL
    assert res.routes["paper"].max_relative_error < FAITHFUL_TOL
    # The recovered expression is the SymPy sum of its coefficients, exactly.
    fit = res.routes["default"].fit
    assert sp.simplify(fit.expression - sum(c * t for t, c in fit.coefficients.items())) == 0


def test_truth_is_the_catalog_potential(run):
    _, results = run
    assert results["harmonic_oscillator"].truth == {"q**2": 0.5}
    assert results["double_well_T1"].truth == {"q": 2.0, "q**2": 3.0, "q**3": -4.0, "q**4": 1.0}


def test_results_json_has_the_documented_schema(run):
    out, results = run
    doc = json.loads((out / "results.json").read_text())
    assert set(RESULTS_SCHEMA["top"]) <= set(doc)
    assert doc["budget"] == "quick" and set(doc["cases"]) == set(CASES)
    for key, case in doc["cases"].items():
        assert set(RESULTS_SCHEMA["case"]) <= set(case)
        assert set(case["routes"]) == {"paper", "default", "force_sindy"}
        for name, route in case["routes"].items():
            assert set(RESULTS_SCHEMA["route"]) <= set(route)
            mine = results[key].routes[name]
            assert route["coefficients"] == pytest.approx(mine.coefficients, rel=1e-15)
        assert case["routes"]["default"]["training"]["steps"] > 0
        assert case["targets"]["default_within_0.1_percent_true_support"] is True
    # Everything written is there: models, data, figures in two formats.
    assert (out / "models" / "double_well_T1" / "default" / "model").is_dir()
    assert (out / "data" / "double_well_T1-train.npz").is_file()
    for name in doc["cases"]["double_well_T1"]["figures"]:
        assert (out / "figures" / f"{name}.png").is_file()
        assert (out / "figures" / f"{name}.pdf").is_file()


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
                if term != "1":
                    assert f"{c:.8g}" in text, (res.case.key, route.route, term)
    assert "Double well, T1" in text and "Harmonic oscillator" in text


def test_without_a_tex_engine_the_tex_is_written_and_the_message_says_how(
    run, monkeypatch, tmp_path
):
    _, results = run
    monkeypatch.setattr(shutil, "which", lambda name: None)
    tex, pdf, message = write_report(list(results.values()), tmp_path)
    assert tex.is_file() and pdf is None
    assert "latexmk -pdf report.tex" in message and "texlive-latex-base" in message
    assert build_pdf(tex)[0] is None


def test_bad_experiment_and_budget_fail_before_any_work(tmp_path, capsys):
    with pytest.raises(ValueError, match="unknown experiment 'pendulum'"):
        reproduce(["pendulum"], out=tmp_path / "x", progress=None)
    with pytest.raises(ValueError, match="unknown budget 'fast'; choose one of quick"):
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
    keys = [c.key for e in experiments.EXPERIMENTS.values() for c in e.cases("quick")]
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
    (sho,) = experiments.experiment("sho").cases("paper")
    assert sho.trainings["paper"].steps == 50000 and sho.trainings["paper"].optimizer == "gd"
    t3 = experiments.experiment("double-well").cases("quick")[3].train
    assert np.allclose(t3.q[:, 0, 0], [-0.15, -0.59]) and np.allclose(
        t3.p[:, 0, 0], [-0.48, -0.92]
    )


@pytest.mark.slow
def test_default_budget_beats_the_paper_on_T1(tmp_path):
    # The targets at the default budget, on the paper's main data set.
    (res,) = reproduce(
        ["double-well"], out=tmp_path, cases=["double_well_T1"], report=False, progress=None
    )
    for term, err in res.paper_relative_error.items():
        assert res.routes["paper"].relative_error[term] <= err, term
    assert res.routes["default"].true_support
    assert res.routes["default"].max_relative_error < 1e-4  # the aim: 0.01%


def test_a_second_run_loads_the_trained_models_and_refuses_another_recipe(run, tmp_path):
    out, results = run
    shutil.copytree(out / "models", tmp_path / "models")
    (again,) = reproduce(["sho"], budget="quick", out=tmp_path, report=False, progress=None)
    first = results["harmonic_oscillator"]
    for route in ("paper", "default"):
        assert again.routes[route].coefficients == first.routes[route].coefficients
        assert (
            again.routes[route].training["wall_time"] == first.routes[route].training["wall_time"]
        )
    with pytest.raises(
        ValueError, match="budget 'quick' and seed 0, not budget 'quick' and seed 1"
    ):
        reproduce(["sho"], budget="quick", seed=1, out=tmp_path, report=False, progress=None)
    (tmp_path / "run.json").unlink()  # without the run's marker, each model is checked
    with pytest.raises(ValueError, match="another budget"):
        reproduce(["sho"], budget="default", out=tmp_path, report=False, progress=None)
