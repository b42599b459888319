"""Folders, files and text from someone else: nothing is executed, followed or hung on.

One test per cause of the second reliability audit: S5-S7 (security) and
D26-D47 (reliability), each named after its cause. A results folder received
from a colleague is untrusted input: ``symhamil report DIR`` must not run code
from it, write through its links, or let its text reach TeX as commands.
"""

import json
import os
import shutil
import subprocess

import numpy as np
import pytest
import sympy as sp
from conftest import write_pendulum_csv

import symhamil as sh
from symhamil.apps.learn import LearnSettings, learn, render_learn
from symhamil.cli import main

HAS_TEX = shutil.which("latexmk") is not None or shutil.which("pdflatex") is not None
needs_tex = pytest.mark.skipif(not HAS_TEX, reason="needs TeX Live (latexmk or pdflatex)")


def _pdf_text(pdf) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("needs pdftotext (poppler-utils) to read the PDF")
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def pendulum_csv(tmp_path_factory):
    """A pendulum sampled at 6 per second, two runs, 1% noise."""
    path = tmp_path_factory.mktemp("data") / "pendulum.csv"
    return write_pendulum_csv(path, steps=150, substeps=50)


def _settings(csv, **kw) -> LearnSettings:
    cols = {"t": "time", "q": ["angle"], "v": ["omega"], "trajectory": "run"}
    kw = {"library": "1, cos(angle), angle**2", "network": False, "bootstrap": 0} | kw
    return LearnSettings(data=str(csv), columns=cols, **kw)


@pytest.fixture(scope="module")
def learned(pendulum_csv, tmp_path_factory):
    """A finished ``symhamil learn`` folder (no network, no PDF): a few seconds."""
    out = tmp_path_factory.mktemp("learned") / "out"
    learn(_settings(pendulum_csv), out, report=False, say=lambda s: None)
    render_learn(out, compile=False)
    return out


@pytest.fixture
def received(learned, tmp_path):
    """A copy of the finished folder, as if received from someone else."""
    dest = tmp_path / "received"
    shutil.copytree(learned, dest)
    return dest


# ---------------------------------------------------------------- security
@needs_tex
@pytest.mark.parametrize("rc", ["latexmkrc", ".latexmkrc"])
def test_S5_a_latexmkrc_in_the_folder_is_never_run(received, tmp_path, rc):
    pwned = tmp_path / "PWNED"
    (received / rc).write_text(f"system('touch {pwned}');\n")
    assert main(["report", str(received)]) == 0
    assert (received / "report.pdf").is_file()
    assert not pwned.exists()


def test_S6_figures_and_the_pdf_are_never_written_through_links(received, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("SECRET")
    (received / "figures" / "rollout.pdf").unlink()
    (received / "figures" / "rollout.pdf").symlink_to(victim)
    (received / "report.pdf").unlink(missing_ok=True)
    (received / "report.pdf").symlink_to(victim)
    render_learn(received, compile=HAS_TEX)
    assert victim.read_text() == "SECRET"
    assert not (received / "figures" / "rollout.pdf").is_symlink()
    if HAS_TEX:
        assert not (received / "report.pdf").is_symlink()
        assert (received / "report.pdf").read_bytes().startswith(b"%PDF")


def test_S6_a_linked_figures_folder_is_refused(received, tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.rmtree(received / "figures")
    (received / "figures").symlink_to(elsewhere, target_is_directory=True)
    assert main(["report", str(received), "--no-pdf"]) == 2
    err = capsys.readouterr().err
    assert "figures is a symbolic link" in err and len(err.splitlines()) == 1
    assert list(elsewhere.iterdir()) == []


def test_S6_files_get_the_users_umask(learned):
    mask = os.umask(0o022)
    os.umask(mask)
    for name in ("results.json", "report.tex", "data.npz", "figures/potential.png"):
        assert (learned / name).stat().st_mode & 0o777 == 0o666 & ~mask, name


@needs_tex
def test_S7_text_from_results_json_is_never_tex(received, tmp_path):
    (tmp_path / "secret.txt").write_text("TOPSECRET4242")
    (received / "secret.tex").symlink_to(tmp_path / "secret.txt")
    results = json.loads((received / "results.json").read_text())
    results["data"]["sampling"] = "x\n\\end{verbatim}\\input{secret}\\begin{verbatim}"
    (received / "results.json").write_text(json.dumps(results))
    pdf = render_learn(received)[1]
    text = _pdf_text(pdf)
    assert "TOPSECRET4242" not in text
    assert "\\input{secret}" in text  # printed as the text it is


@needs_tex
def test_S7_tex_files_in_the_folder_are_never_loaded(received):
    (received / "graphicx.sty").write_text("\\AtBeginDocument{PLANTEDPACKAGE}\\endinput\n")
    (received / "article.cls").write_text("\\typeout{PLANTEDCLASS}\\endinput\n")
    pdf = render_learn(received)[1]
    assert pdf is not None
    assert "PLANTED" not in _pdf_text(pdf)


# ---------------------------------------------------------------- reliability
def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    errors = [ln for ln in err.splitlines() if ln.startswith("symhamil: error:")]
    assert len(errors) == 1, err
    return errors[0]


def test_D26_a_finished_learn_runs_again_into_its_own_out(pendulum_csv, tmp_path):
    out = tmp_path / "out"
    settings = _settings(pendulum_csv, network=True, time_limit=1.0)
    first = learn(settings, out, report=False, say=lambda s: None)
    again = learn(settings, out, report=False, say=lambda s: None)  # used to fail
    assert (out / "network" / "checkpoint.npz").is_file()
    assert (out / "model" / "weights.npz").is_file()
    assert sh.SparseFit.from_json(again["routes"]["network"]["fit"]).coefficients.keys() == (
        sh.SparseFit.from_json(first["routes"]["network"]["fit"]).coefficients.keys()
    )


def test_D27_the_frame_stride_applies_once_when_h_comes_from_the_frames_times(tmp_path):
    pytest.importorskip("ase")
    import ase.io

    frames = []
    for k in range(20):
        a = ase.Atoms("Ar2", positions=[[0, 0, 0], [3.8 + 0.01 * k, 0, 0]])
        a.info["time"] = 4.0 * k  # frames 4 time units apart
        frames.append(a)
    path = tmp_path / "ar_time.extxyz"
    ase.io.write(path, frames)
    assert sh.read_ase(path).h == pytest.approx(4.0)
    assert sh.read_ase(path, index="::5").h == pytest.approx(20.0)  # was 100


@pytest.mark.parametrize("text", ["10**10**10", "9**9**9", "2**2**40", "1e999999999*q", "q**1000"])
def test_D28_huge_numbers_are_refused_before_sympy_evaluates_them(text, tmp_path):
    q = sp.Symbol("q")
    with pytest.raises(ValueError, match=r"power|range of floating point"):
        sh.base.parsing.parse_formula(text, [q])
    # ... from files too: a saved fit whose term is such a formula.
    fit = sh.force_sindy(
        sh.simulate(sh.catalog.harmonic_oscillator(), [[1.0]], [[0.0]], h=0.01, steps=200),
        sh.Library.polynomial((q,), 2),
    )
    doc = fit.to_json()
    doc["library"].append(text)
    (tmp_path / "fit.json").write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=r"fit\.json: not a saved SparseFit"):
        sh.SparseFit.load(tmp_path / "fit.json")


def test_D28_long_and_deep_formulas_are_refused():
    q = sp.Symbol("q")
    with pytest.raises(ValueError, match="at most 10,000 are read"):
        sh.base.parsing.parse_formula("-" * 100_000 + "q", [q])
    with pytest.raises(ValueError, match=r"not a formula|nested"):
        sh.base.parsing.parse_formula("(" * 300 + "q" + ")" * 300, [q])


def test_D28_a_hanging_truth_in_results_json_is_refused(received, capsys):
    results = json.loads((received / "results.json").read_text())
    results["truth"] = "10**10**10*angle**2"
    (received / "results.json").write_text(json.dumps(results))
    assert main(["report", str(received), "--no-pdf"]) == 2
    assert "power" in _one_line_error(capsys)


def _csv(path, header, rows):
    path.write_text(",".join(header) + "\n" + "\n".join(",".join(map(str, r)) for r in rows))
    return path


@pytest.mark.parametrize(
    ("column", "name"),
    [("lambda", "q0"), ("θ", "q0"), ("my angle", "q0"), ("_x", "q0"), ("Float", "q0")],
)
def test_D29_columns_that_cannot_name_a_symbol_are_renamed_and_read_back(tmp_path, column, name):
    t = np.arange(60) * 0.1
    path = _csv(tmp_path / "d.csv", ["t", column], zip(t, np.cos(t), strict=True))
    tr = sh.read_csv(path, t="t", q=column)
    assert tr.names == (name,)
    fit = sh.force_sindy(tr, sh.Library.polynomial(tr.coords, 2))
    assert sh.SparseFit.from_json(fit.to_json()).coefficients == fit.coefficients


def test_D29_a_renamed_column_never_collides_with_a_real_one(tmp_path):
    t = np.arange(60) * 0.1
    rows = zip(t, np.cos(t), np.sin(t), strict=True)
    path = _csv(tmp_path / "d.csv", ["t", "my x", "q0"], rows)
    assert sh.read_csv(path, t="t", q=["my x", "q0"]).names == ("q1", "q0")


@pytest.mark.parametrize("name", ["lambda", "None", "Integer", "sin", "pi"])
def test_D29_reserved_names_are_refused_as_symbols(name):
    with pytest.raises(ValueError, match="keyword or the name of a function"):
        sh.System(coords=(name,), V=sp.Symbol(name) ** 2)


def test_D30_two_runs_written_one_after_another_are_kept_apart():
    t = np.arange(100) * 0.1
    tt = np.r_[t, t + 0.05]  # the second clock restarts, offset by h/2
    q = np.r_[np.cos(t), 3 + np.sin(t)]
    with pytest.warns(sh.SamplingWarning, match="time goes back at 1 place"):
        tr = sh.Trajectories.from_samples(tt, q)
    assert tr.R == 2 and tr.h == pytest.approx(0.1)
    assert np.abs(np.diff(tr.q[0, :, 0])).max() < 0.2  # never alternating between runs


def test_D30_repeated_times_with_other_values_are_reported():
    t = np.arange(100) * 0.1
    with pytest.warns(sh.SamplingWarning) as caught:
        sh.Trajectories.from_samples(np.r_[t, t[50]], np.r_[np.cos(t), 5.0])
    messages = " ".join(str(w.message) for w in caught)
    assert "repeated time stamp" in messages and "not in time order" in messages


def test_D31_data_missing_every_third_sample_keep_their_step():
    t = np.arange(300) * 0.1
    keep = np.arange(300) % 3 != 2
    tr = sh.Trajectories.from_samples(t[keep], np.cos(t[keep]))
    assert tr.h == pytest.approx(0.1) and tr.R == 1
    assert tr.sampling.filled == 300 // 3 - 1  # the last sample was lost, not bridged


def test_D32_complex_values_are_refused(tmp_path):
    q = sp.Symbol("q")
    t = np.arange(50) * 0.1
    with pytest.raises(TypeError, match="complex"):
        sh.Trajectories.from_samples(t, np.cos(t) + 0j)
    tr = sh.simulate(sh.catalog.harmonic_oscillator(), [[1.0]], [[0.0]], h=0.01, steps=100)
    with pytest.raises(ValueError, match="not real"):
        sh.rollout(sp.I * q**2, tr)
    with pytest.raises(ValueError, match="not real"):
        sh.sindy(sp.I * q**2 + q, sh.Library.polynomial((q,), 2), np.linspace(-1, 1, 9))
    with pytest.raises(ValueError, match="complex"):
        sh.sindy(lambda x: 1j * x[:, 0], sh.Library.polynomial((q,), 2), np.linspace(-1, 1, 9))


def test_D32_a_saved_network_with_complex_weights_is_refused(tmp_path):
    from symhamil.neural import NeuralPotential

    tr = sh.simulate(sh.catalog.harmonic_oscillator(), [[1.0]], [[0.0]], h=0.01, steps=100)
    NeuralPotential(dim=1, hidden=(4,), seed=0).fit(tr, steps=2).save(tmp_path / "m")
    with np.load(tmp_path / "m" / "weights.npz") as d:
        w = {k: d[k] for k in d.files}
    w["w0"] = w["w0"] + 1j
    np.savez(tmp_path / "m" / "weights.npz", **w)
    with pytest.raises(ValueError, match=r"weights\.npz.*complex"):
        NeuralPotential.load(tmp_path / "m")


def test_D33_terms_without_a_gradient_are_refused_and_abs_has_its_sign():
    x = sp.Symbol("x")
    for term in (sp.floor(x / 2), sp.sign(x), sp.Heaviside(x)):
        with pytest.raises(ValueError, match="no closed-form derivative"):
            sh.Library((x, term), (x,))
    lib = sh.Library((x**2, sp.Abs(x)), (x,))
    np.testing.assert_array_equal(lib.gradient([[2.0], [-3.0]])[:, 0, 1], [1.0, -1.0])
    r = sp.Symbol("r", positive=True)
    with pytest.raises(ValueError, match="force that jumps"):
        sh.System.pairwise(sp.Abs(r - 1), r, particles=3, dim=2)


def test_D33_floor_division_in_a_library_is_one_clear_line(pendulum_csv, tmp_path, capsys):
    args = ["learn", str(pendulum_csv), "--columns", "t=time q=angle trajectory=run",
            "--library", "angle // 2", "--out", str(tmp_path / "o")]  # fmt: skip
    assert main(args) == 2
    assert "no closed-form derivative" in _one_line_error(capsys)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--time-limit", "inf"], "time limit (seconds) must be a finite number > 0"),
        (["--time-limit", "0"], "time limit (seconds) must be a finite number > 0"),
        (["--seed", "-1"], "seed must be a whole number >= 0"),
        (["--bootstrap", "1000000000"], "from 0 to 100,000"),
        (["--degree", "1000000"], "degree must be a whole number from 1 to 12"),
        (["--masses", "nan"], "masses must be finite and > 0"),
        (["--masses", "1", "2"], "2 masses for 1 coordinate"),
    ],
)
def test_D34_D36_bad_options_fail_before_any_work(pendulum_csv, tmp_path, capsys, option, message):
    out = tmp_path / "never"
    args = ["learn", str(pendulum_csv), "--columns", "t=time q=angle v=omega trajectory=run",
            "--out", str(out), *option]  # fmt: skip
    assert main(args) == 2
    assert message in _one_line_error(capsys)
    assert not out.exists()


def test_D34_force_sindy_checks_its_seed_first():
    q = sp.Symbol("q")
    tr = sh.simulate(sh.catalog.harmonic_oscillator(), [[1.0]], [[0.0]], h=0.01, steps=100)
    with pytest.raises(ValueError, match="seed must be a whole number >= 0"):
        sh.force_sindy(tr, sh.Library.polynomial((q,), 2), bootstrap=10, seed=-1)


def test_D35_learn_refuses_a_folder_of_someone_elses_files(pendulum_csv, tmp_path):
    out = tmp_path / "mine"
    (out / "figures").mkdir(parents=True)
    (out / "report.tex").write_text("my thesis")
    (out / "figures" / "potential.png").write_bytes(b"my figure")
    with pytest.raises(ValueError, match=r"did not write.*--overwrite"):
        learn(_settings(pendulum_csv), out, report=False, say=lambda s: None)
    assert (out / "report.tex").read_text() == "my thesis"
    learn(_settings(pendulum_csv, overwrite=True), out, report=False, say=lambda s: None)
    assert (out / "results.json").is_file()


def test_D37_an_overlong_cell_is_one_error_naming_file_and_row(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("t,x\n0,1\n0.1," + "1" * 200_000 + "\n")
    with pytest.raises(ValueError, match=r"wide\.csv: row 3"):
        sh.read_csv(path, t="t", q="x")


def test_D38_read_csv_keeps_only_the_wanted_columns(tmp_path):
    import tracemalloc

    n = 100_000
    t = np.arange(n) * 0.01
    cols = np.column_stack([t, np.cos(t)] + [np.sin(k * t) for k in range(1, 9)])
    path = tmp_path / "big.csv"
    np.savetxt(path, cols, delimiter=",", fmt="%.9f", header="t,x," + ",".join(
        f"c{k}" for k in range(8)), comments="")  # fmt: skip
    size = path.stat().st_size
    tracemalloc.start()
    try:
        tr = sh.read_csv(path, t="t", q="x")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert tr.n_points == n
    # Reading kept every line and every cell as text: ~20x the file. Streaming
    # keeps 8 bytes per wanted value; from_samples' own arrays come on top.
    assert peak < 1.5 * size, (peak, size)


def test_D37_D38_devices_and_folders_are_not_read(tmp_path):
    with pytest.raises(ValueError, match="not a file of samples"):
        sh.read_csv(tmp_path, t="t", q="x")
    if os.path.exists("/dev/zero"):
        with pytest.raises(ValueError, match="not a file of samples"):
            sh.read_csv("/dev/zero", t="t", q="x")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda r: r.__setitem__("routes", []), "routes must be an object"),
        (lambda r: r["data"].__setitem__("q_range", [[], []]), "q_range"),
        (lambda r: r["settings"].__setitem__("data", "x" * 2_000_000), "characters"),
        (lambda r: r["routes"]["force_sindy"].__setitem__("seconds", float("inf")), "finite"),
        (lambda r: r["routes"].__setitem__("evil", {}), "unknown entry 'evil'"),
        (lambda r: r["data"].__setitem__("coordinates", ["$\\x"]), "coordinate"),
    ],
)
def test_D39_a_tampered_learn_results_json_is_one_error(received, capsys, edit, message):
    results = json.loads((received / "results.json").read_text())
    edit(results)
    (received / "results.json").write_text(json.dumps(results))
    assert main(["report", str(received), "--no-pdf"]) == 2
    line = _one_line_error(capsys)
    assert "results.json" in line and message in line, line
    assert len(line) < 600


def test_D40_D41_a_tampered_fit_file_is_refused_naming_it(tmp_path):
    q = sp.Symbol("q")
    tr = sh.simulate(sh.catalog.harmonic_oscillator(), [[1.0]], [[0.0]], h=0.01, steps=200)
    doc = sh.force_sindy(tr, sh.Library.polynomial((q,), 3)).to_json()
    edits = {
        "nan": lambda d: d["coefficients"].__setitem__("q**2", float("nan")),
        "outside": lambda d: d["coefficients"].__setitem__("q**7", 1.0),
        "symbol": lambda d: d.__setitem__("symbols", ["q\\input"]),
        "interval": lambda d: d.__setitem__("intervals", {"q**2": [1]}),
        "word": lambda d: d["coefficients"].__setitem__("q**2", "abc"),
    }
    for name, edit in edits.items():
        bad = json.loads(json.dumps(doc))
        edit(bad)
        (tmp_path / f"{name}.json").write_text(json.dumps(bad))
        with pytest.raises(ValueError, match=rf"{name}\.json: not a saved SparseFit"):
            sh.SparseFit.load(tmp_path / f"{name}.json")


def test_D40_D42_tampered_checkpoints_and_configs_are_refused(tmp_path):
    from symhamil.neural import NeuralPotential

    tr = sh.simulate(sh.catalog.harmonic_oscillator(), [[1.0]], [[0.0]], h=0.01, steps=100)
    ck = tmp_path / "ck"
    NeuralPotential(dim=1, hidden=(4,), seed=0).fit(tr, steps=20, checkpoint_dir=ck)
    with np.load(ck / "checkpoint.npz") as d:
        saved = {k: d[k] for k in d.files}
    for change in {
        "stage": {"stage": np.array("bogus")},
        "negative": {"n_steps": np.array(-5)},
        "shape": {"w0": np.zeros((3, 3))},
        "moment": {"m0": np.zeros((7,))},
    }.values():
        np.savez(ck / "checkpoint.npz", **(saved | change))
        with pytest.raises(ValueError, match=r"checkpoint.*damaged"):
            NeuralPotential(dim=1, hidden=(4,), seed=0).fit(tr, steps=40, checkpoint_dir=ck)
    model = NeuralPotential(dim=1, hidden=(4,), seed=0).fit(tr, steps=2)
    model.save(tmp_path / "m")
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    for bad in ({"n_steps": 1e400}, {"n_steps": -3}):
        (tmp_path / "m" / "config.json").write_text(json.dumps(cfg | bad))
        with pytest.raises(ValueError, match=r"m: not a readable saved model"):
            NeuralPotential.load(tmp_path / "m")


def _argon_frames(n_frames=6, cell=(12.0, 12.0, 12.0), pbc=True, gap=3.8):
    ase = pytest.importorskip("ase")
    frames = []
    for k in range(n_frames):
        pos = [[1, 1, 1], [1 + gap + 0.01 * k, 1, 1], [1, 1 + gap, 1]]
        frames.append(ase.Atoms("Ar3", positions=pos, cell=cell, pbc=pbc))
    return frames


def test_D43_geometry_faults_name_the_fault():
    with pytest.raises(ValueError, match="periodic cell has sides"):
        sh.read_ase(_argon_frames(cell=(0, 0, 0)), h=1.0)
    tr = sh.read_ase(_argon_frames(), h=1.0)
    r = sp.Symbol("r")
    lib = sh.Library((r**-12, r**-6), (r,))
    with pytest.raises(ValueError, match="no pair of particles comes within the cutoff"):
        sh.data.geometry.pair_distances(tr, cutoff=0.5)
    with pytest.raises(ValueError, match="coincide"):
        sh.pair_force_sindy(sh.read_ase(_argon_frames(gap=0.0), h=1.0), lib)


def test_D44_a_file_named_like_a_database_address_is_read(tmp_path, monkeypatch):
    pytest.importorskip("ase")
    import ase.io

    monkeypatch.chdir(tmp_path)
    ase.io.write("argon.traj", _argon_frames())
    os.rename("argon.traj", "postgres_argon.traj")  # ASE itself cannot write that name
    assert sh.read_ase("postgres_argon.traj", h=1.0).q.shape == (1, 6, 9)


@pytest.mark.parametrize("horizon", [float("nan"), -1.0, 0.0, float("inf")])
def test_D45_rollout_checks_its_horizon(horizon):
    tr = sh.simulate(sh.catalog.harmonic_oscillator(), [[1.0]], [[0.0]], h=0.01, steps=100)
    with pytest.raises(ValueError, match="horizon must be a finite number > 0"):
        sh.rollout(sh.catalog.harmonic_oscillator(), tr, horizon=horizon)


@pytest.mark.parametrize("text", ["ｘ**2", "ªx", "x + é"])
def test_D46_non_ascii_letters_are_refused_in_formulas(pendulum_csv, tmp_path, capsys, text):
    with pytest.raises(ValueError, match="not arithmetic"):
        sh.base.parsing.parse_formula(text, [sp.Symbol("x")])
    args = ["learn", str(pendulum_csv), "--columns", "t=time q=angle trajectory=run",
            "--library", text, "--out", str(tmp_path / "o")]  # fmt: skip
    assert main(args) == 2
    assert "not arithmetic" in _one_line_error(capsys)
