"""One test per cause of the reliability audit (../shared/audits/2026-11-28-reliability.md).

Each test names its cause (S1-S4 security, D1-D25 reliability) and checks the
error type and that the message names the fault. The SIGKILL tests are in
test_neural.py and test_paper.py.
"""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

import symhamil as sh
from symhamil.cli import main
from symhamil.interpret.export import lambdify_deep

q, p, a = sp.symbols("q p a")


# ---------------------------------------------------------------- security
@pytest.mark.parametrize(
    "name",
    [r"q\input{/etc/hostname}", "x, _=__import__('os')", "q}", "1q", "q p", "", "_x"],
)
def test_S1_S3_symbol_names_must_be_plain(name):
    with pytest.raises(ValueError, match=r"name .* is not allowed"):
        sh.System(coords=(sp.Symbol(name),), V=sp.Symbol(name) ** 2)
    with pytest.raises(ValueError, match=r"name .* is not allowed"):
        sh.Trajectories(q=np.zeros((1, 3, 1)), p=np.zeros((1, 3, 1)), h=0.1, names=(name,))


def test_S3_a_loaded_file_with_a_crafted_name_is_refused(tmp_path):
    bad = "x, _=__import__('os').system('touch PWNED'), __y='''):pass#"
    np.savez(tmp_path / "t.npz", q=np.zeros((1, 3, 1)), p=np.zeros((1, 3, 1)), h=0.1, names=[bad])
    with pytest.raises(ValueError, match=r"t.npz: the coordinate name"):
        sh.Trajectories.load(tmp_path / "t.npz")


def test_S3_lambdify_deep_never_prints_a_symbol_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = sp.Symbol("x, _=__import__('os').system('touch PWNED'), __y='''):pass#")
    f = lambdify_deep((s,), s**2 + 1)
    assert f(np.array([2.0]))[0] == 5.0
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize(
    "make",
    [
        lambda t: sh.System.from_hamiltonian(t, ("q",), ("p",)),
        lambda t: sh.System(coords=("q",), V=t),
        lambda t: sh.Library(terms=(t,), symbols=(q,)),
        lambda t: sh.compare(t, q**2, (q,)),
        lambda t: sh.catalog.harmonic_oscillator(omega=t),
    ],
)
def test_S4_text_is_never_evaluated(make, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    payload = "q**2 + 0*__import__('os').system('touch PWNED')"
    with pytest.raises(ValueError, match=r"not arithmetic|unknown names"):
        make(payload)
    assert not (tmp_path / "PWNED").exists()


def test_S4_formulas_as_text_still_work():
    well = sh.System(coords=("q",), V="q^2*(q - 2)^2 - (q - 1)^2")
    assert sp.expand(well.V - sh.catalog.double_well().V) == 0
    H = sh.System.from_hamiltonian("p**2/4 + a*q**4", ("q",), ("p",), params={"a": 2.0})
    assert H.masses == (2,)


@pytest.mark.skipif(shutil.which("latexmk") is None, reason="needs TeX Live")
def test_S2_latex_runs_without_shell_escape_and_reads_only_its_folder(tmp_path):
    from symhamil.apps.paper import build_pdf

    (tmp_path / "secret.txt").write_text("SECRET")
    sub = tmp_path / "report"
    sub.mkdir()
    tex = sub / "report.tex"
    tex.write_text(
        "\\documentclass{article}\\begin{document}\n"
        "\\immediate\\write18{kpsewhich --version > PWNED}\n"
        "\\IfFileExists{../secret.txt}{\\input{../secret.txt}}{no}\n"
        "ok\\end{document}\n"
    )
    pdf, _ = build_pdf(tex)
    assert not (sub / "PWNED").exists()
    if pdf is not None:
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True)
        assert "SECRET" not in text.stdout


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("V", "message"),
    [
        (sp.I * q**2 + q**2 / 2, "complex"),
        (sp.nan, "not finite"),
        (sp.zoo * q, "not finite"),
        (sp.log(-(q**2) - 1), "complex at every point"),
    ],
)
def test_D6_complex_or_non_finite_potentials_are_refused(V, message):
    with pytest.raises(ValueError, match=message):
        sh.System(coords=(q,), V=V)


def test_D6_complex_library_terms_are_refused():
    with pytest.raises(ValueError, match=r"not real"):
        sh.Library((q, sp.I * q), (q,))


def test_D7_a_parameter_may_not_be_a_coordinate():
    with pytest.raises(ValueError, match=r"both as a parameter and as a coordinate"):
        sh.System(coords=(q,), V=q**2, params={q: 1.0})


def test_D8_masses_may_not_depend_on_the_coordinates():
    with pytest.raises(ValueError, match=r"depends on the coordinates"):
        sh.System(coords=(q,), V=q**2, masses=(q,))


@pytest.mark.parametrize("V", [sp.Abs(q), sp.floor(q), sp.sign(q) * q**2, sp.re(q) ** 2])
def test_D9_potentials_without_a_closed_form_gradient_are_refused(V):
    with pytest.raises(ValueError, match=r"no closed-form derivative"):
        sh.System(coords=(q,), V=V)


def test_D9_undefined_functions_are_refused():
    with pytest.raises(ValueError, match=r"undefined function"):
        sh.System(coords=(q,), V=sp.Function("f")(q))


def test_D10_nan_parameter_or_mass_is_a_value_error():
    with pytest.raises(ValueError, match=r"parameter a must be finite"):
        sh.System.from_hamiltonian(a * p**2 + q**2, (q,), (p,), params={a: float("nan")})
    with pytest.raises(ValueError, match=r"must be positive"):
        sh.System(coords=(q,), V=q**2, masses=(sp.nan,))


def test_D11_trajectories_own_their_arrays():
    arr = np.zeros((1, 3, 1))
    tr = sh.Trajectories(q=arr, p=np.zeros((1, 3, 1)), h=0.1)
    arr[0, 2, 0] = np.nan
    assert np.isfinite(tr.q).all()
    with pytest.raises(ValueError, match=r"read-only"):
        tr.q[0, 0, 0] = 1.0


def _saved(tmp_path):
    tr = sh.Trajectories(q=np.zeros((1, 3, 1)), p=np.ones((1, 3, 1)), h=0.1)
    path = tmp_path / "ok.npz"
    tr.save(path)
    return path


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[: len(b) // 2],  # truncated
        lambda b: b"",  # empty
        lambda b: b"not a zip at all",
        lambda b: b[:60] + bytes(x ^ 0xFF for x in b[60:200]) + b[200:],  # flipped bytes
    ],
)
def test_D12_damaged_trajectory_files_name_the_file(tmp_path, damage):
    path = _saved(tmp_path)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ValueError, match=r"bad.npz"):
        sh.Trajectories.load(bad)


def test_D12_a_npy_and_a_bad_t0_name_the_file(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros(3))
    with pytest.raises(ValueError, match=r"a.npy: is a single array"):
        sh.Trajectories.load(tmp_path / "a.npy")
    np.savez(tmp_path / "t.npz", q=np.zeros((1, 3, 1)), p=np.zeros((1, 3, 1)), h=0.1, t0=[1, 2])
    with pytest.raises(ValueError, match=r"t.npz: t0 must be a single number"):
        sh.Trajectories.load(tmp_path / "t.npz")
    np.savez(tmp_path / "r.npz", r=np.ones((1, 3)), rdot=np.zeros((1, 3)), h=0.0)
    with pytest.raises(ValueError, match=r"r.npz: the time step h"):
        sh.load_radial(tmp_path / "r.npz")
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(ValueError, match=r"junk.npz: not a readable .npz"):
        sh.load_radial(tmp_path / "junk.npz")


def test_D14_save_writes_exactly_the_path_it_is_given(tmp_path):
    tr = sh.Trajectories(q=np.zeros((1, 3, 1)), p=np.ones((1, 3, 1)), h=0.1)
    tr.save(tmp_path / "run1")
    assert sh.Trajectories.load(tmp_path / "run1").R == 1


def test_D17_nan_tolerances_are_refused_before_integrating():
    sho = sh.catalog.harmonic_oscillator()
    for kw in ({"rtol": float("nan")}, {"atol": float("nan")}, {"rtol": -1.0}):
        with pytest.raises(ValueError, match=r"rtol|atol"):
            sh.simulate(sho, [[1.0]], [[0.0]], h=0.1, steps=1, method="rk", **kw)


def test_D18_scalar_initial_condition_for_several_dimensions():
    with pytest.raises(ValueError, match=r"q0 .* 2 coordinates"):
        sh.simulate(sh.catalog.henon_heiles(), 0.1, 0.1, h=0.01, steps=10)


def test_D16_memory_is_estimated_before_allocating():
    with pytest.raises(MemoryError, match=r"GiB"):
        sh.simulate(sh.catalog.harmonic_oscillator(), [[1.0]], [[0.0]], h=0.1, steps=10**13)


def test_D21_sindy_gaps():
    lib = sh.Library.polynomial((q,), 2)
    with pytest.raises(ValueError, match=r"no points"):
        sh.sindy(q**2, lib, np.zeros((0, 1)))
    with pytest.raises(ValueError, match=r"uses \['x'\]"):
        sh.sindy(sp.Symbol("x") ** 2, lib, np.ones((5, 1)))
    with pytest.raises(ValueError, match=r"threshold must be"):
        sh.sindy(
            q**2,
            lib,
            np.linspace(0, 1, 5)[:, None],
            selection=sh.Selection(threshold=float("nan")),
        )


def test_D22_compare_gaps():
    with pytest.raises(ValueError, match=r"uses \['a'\]"):
        sh.compare(q**2, a * q**2, (q,))
    with pytest.raises(ValueError, match=r"points must have shape"):
        sh.compare(q**2, q**2, (q,), points=np.ones((5, 2)))


def test_D24_non_finite_start_time_is_refused():
    with pytest.raises(ValueError, match=r"t0 must be finite"):
        sh.Trajectories(q=np.zeros((1, 3, 1)), p=np.zeros((1, 3, 1)), h=0.1, t0=float("nan"))


def test_D25_wrong_types_give_type_errors():
    with pytest.raises(TypeError, match=r"got None"):
        sh.System.from_hamiltonian(None, (q,), (p,))
    with pytest.raises(TypeError, match=r"Trajectories"):
        sh.force_sindy(np.zeros((1, 10, 1)), sh.Library.polynomial((q,), 2))


# ---------------------------------------------------------------- the command line
def test_D15_cli_failures_are_one_line(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    cases = [
        ["simulate", "harmonic-oscillator", "-R", "1", "-N", "5", "--out", str(afile / "x.npz")],
        ["reproduce", "sho", "--budget", "quick", "--out", str(afile)],
        ["report", str(tmp_path / "missing")],
    ]
    for argv in cases:
        assert main(argv) in (1, 2)
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("symhamil: error: "), err


def test_D15_a_damaged_results_folder_is_one_line(tmp_path, capsys):
    (tmp_path / "results.json").write_text("{")
    assert main(["report", str(tmp_path)]) == 2
    assert "results.json: not readable JSON" in capsys.readouterr().err
    (tmp_path / "run.json").write_text("{}")
    assert main(["reproduce", "sho", "--budget", "quick", "--out", str(tmp_path)]) == 2
    assert "holds a run with budget None" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert sh.__version__ in capsys.readouterr().out


def test_no_tensorflow_banners_on_the_cli(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    code = "import symhamil.cli, sys; sys.exit(symhamil.cli.main(['report', sys.argv[1]]))"
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=env
    )
    assert "cpu_feature_guard" not in out.stderr and "oneDNN" not in out.stderr


# ---------------------------------------------------------------- a newcomer's first hour
def test_first_hour_1_compare_a_system_with_parameters():
    k = sp.Symbol("k")
    sysm = sh.System(coords=(q,), V=sp.exp(-k * q) + k * q**2 / 2, params={k: 1.0})
    assert sysm.substituted() == sp.exp(-q) + q**2 / 2
    cmp = sh.compare(sp.exp(-q) + q**2 / 2, sysm, (q,))
    assert cmp.same_support and cmp.max_relative_error == 0


def test_first_hour_5_sindy_takes_trajectories_and_warns_when_it_explains_nothing():
    tr = sh.simulate(sh.catalog.double_well(), [[0.5]], [[0.0]], h=0.01, steps=200)
    lib = sh.Library.polynomial((q,), 4)
    fit = sh.sindy(sh.catalog.double_well().V, lib, tr)
    assert fit.residual < 1e-10
    rng = np.random.default_rng(0)
    with pytest.warns(sh.LibraryWarning, match="explains little"):
        sh.sindy(
            lambda x: rng.normal(size=len(x)),
            sh.Library((q,), (q,)),
            tr,
            selection=sh.Selection(threshold=0.0),
        )


def test_first_hour_6_one_name_per_system_with_aliases(tmp_path, capsys):
    out = tmp_path / "s.npz"
    assert main(["simulate", "sho", "-R", "1", "-N", "5", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "R=1 trajectory x" in text and sh.Trajectories.load(out).R == 1


def test_first_hour_7_no_energy_warning_at_rest():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", sh.EnergyErrorWarning)
        tr = sh.simulate(sh.catalog.double_well(), [[1.0]], [[0.0]], h=0.01, steps=100)
    assert tr.energy_error[0] < 1e-6


def test_first_hour_9_notebook_faces_and_files(tmp_path):
    well = sh.catalog.double_well()
    lib = sh.Library.polynomial((q,), 6)
    fit = sh.sindy(well.V, lib, np.linspace(-1, 3, 60)[:, None])
    cmp = sh.compare(fit.expression, well.V, (q,))
    for obj in (well, lib, fit, cmp):
        assert len(repr(obj)) <= 130, repr(obj)
        assert obj._repr_latex_().startswith(("$", "\\begin"))
    fit.save(tmp_path / "fit.json")
    back = sh.SparseFit.load(tmp_path / "fit.json")
    assert back.coefficients == fit.coefficients and back.path == fit.path
    cmp.save(tmp_path / "cmp.json")
    assert sh.Comparison.load(tmp_path / "cmp.json").rows == cmp.rows
    (tmp_path / "bad.json").write_text('{"symbols": ["q"], "library": ["__import__(1)"]}')
    with pytest.raises(ValueError, match=r"not arithmetic|unknown names"):
        sh.SparseFit.load(tmp_path / "bad.json")


def test_first_hour_9_plotting_helpers():
    well = sh.catalog.double_well()
    x = np.linspace(-1, 3, 100)
    fig = sh.plots.plot_potential(well.V + 0.01 * q**3, well, q, x, data_range=(0.0, 2.0))
    assert len(fig.axes) == 2  # the potential and the residual panel
    lib = sh.Library.polynomial((q,), 4)
    fit = sh.sindy(well.V, lib, x[:, None])
    assert sh.plots.plot_path(fit).axes


def test_S1_a_results_file_with_tex_commands_is_not_rendered(tmp_path, capsys):
    from symhamil.apps.paper.results import safe_latex

    assert safe_latex(r"\frac{p^{2}}{2} + \operatorname{elu}{\left(q \right)}", "x")
    for bad in (r"q\input{/etc/hostname}", r"\immediate\write18{ls}", "^^5cinput"):
        with pytest.raises(ValueError, match="LaTeX that a report never needs"):
            safe_latex(bad, "system_latex")


def test_D15_ctrl_c_says_what_was_kept_and_how_to_resume(monkeypatch, tmp_path, capsys):
    import symhamil.apps.paper

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(symhamil.apps.paper, "reproduce", interrupted)
    assert main(["reproduce", "sho", "--out", str(tmp_path)]) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and str(tmp_path) in err and "run the same command again" in err


def test_D12_a_damaged_run_json_names_the_file(tmp_path, capsys):
    (tmp_path / "run.json").write_text("{")
    assert main(["reproduce", "sho", "--budget", "quick", "--out", str(tmp_path)]) == 2
    assert "run.json is damaged" in capsys.readouterr().err
