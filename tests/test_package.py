"""The package's front: public names, no TensorFlow on import, CLI, README, examples."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import symhamil as sh
from symhamil.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_import_does_not_load_tensorflow():
    code = "import sys, symhamil; assert 'tensorflow' not in sys.modules, 'tensorflow loaded'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_public_names():
    for name in [
        "System",
        "Trajectories",
        "simulate",
        "reduce_radial",
        "effective_potential",
        "catalog",
        "datasets",
        "load_radial",
    ]:
        assert name in sh.__all__ and hasattr(sh, name)
    for name in [
        "harmonic_oscillator",
        "double_well",
        "central_force",
        "coulomb_pair",
        "pendulum",
        "henon_heiles",
        "kepler",
    ]:
        assert callable(getattr(sh.catalog, name))


def test_cli_simulate_writes_loadable_trajectories(tmp_path, capsys):
    out = tmp_path / "c.npz"
    assert main(["simulate", "coulomb", "-R", "3", "-N", "50", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "relative energy error" in printed
    tr = sh.Trajectories.load(out)
    assert tr.q.shape == (3, 51, 6)
    assert tr.names == ("q1x", "q1y", "q1z", "q2x", "q2y", "q2z")


def test_cli_catalog(capsys):
    assert main(["catalog"]) == 0
    assert "double-well" in capsys.readouterr().out


def test_cli_bad_arguments_give_clear_messages(capsys):
    assert main(["simulate", "double-well", "--h", "-1", "--out", "/dev/null"]) == 2
    assert "h must be finite and > 0" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["simulate", "no-such-system"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_readme_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert blocks
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["traj"].q.shape == (2, 5001, 1)
    assert np.all(namespace["traj"].energy_error < 1e-6)
    # The trained network's force at q = 0.5 is the double well's, 2.5, within 1%.
    assert abs(namespace["model"].gradient([[0.5]])[0, 0] - 2.5) < 0.025
    # The README's short training already interprets to the true support with every
    # coefficient within 1e-3 (measured: 8e-5).
    cmp = sh.compare(namespace["fit"].expression, namespace["well"].V, (namespace["q"],))
    assert cmp.same_support and cmp.max_relative_error < 1e-3


@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "examples").glob("*.py")))
def test_examples_run(script, tmp_path):
    args = {
        "declare_a_system.py": ["--out", str(tmp_path)],
        "central_force_reduction.py": ["--steps", "2000"],
    }.get(script, [])
    if script.startswith("reproduce_"):  # one per experiment, at the quick budget
        args = ["--budget", "quick", "--out", str(tmp_path / "out")]
    subprocess.run(
        [sys.executable, str(ROOT / "examples" / script), *args],
        check=True,
        cwd=tmp_path,
        capture_output=True,
    )
