"""``symhamil learn``: a CSV of measured samples to results.json and a report."""

import json
import shutil

import pytest
import sympy as sp
from conftest import write_pendulum_csv

import symhamil as sh
from symhamil.apps.learn import parse_columns, parse_library, render_learn
from symhamil.cli import main

LIBRARY = "1, cos(angle), sin(angle), angle, angle**2, angle**3, angle**4"


@pytest.fixture(scope="module")
def pendulum_csv(tmp_path_factory):
    """A pendulum (V = 1 - cos q) filmed at 6 frames per second: angle and angular
    velocity with ~1% noise, 3% of the frames missing, two runs."""
    return write_pendulum_csv(tmp_path_factory.mktemp("data") / "pendulum.csv", drop=0.03)


def test_learn_writes_results_and_the_report(pendulum_csv, tmp_path, capsys):
    out = tmp_path / "out"
    args = [
        "learn",
        str(pendulum_csv),
        "--columns",
        "t=time q=angle v=omega trajectory=run",
        "--library",
        LIBRARY,
        "--truth",
        "1 - cos(angle)",
        "--bootstrap",
        "30",
        "--out",
        str(out),
    ]
    if shutil.which("latexmk") is None and shutil.which("pdflatex") is None:
        args.append("--no-report")
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "bridged" in printed and "noise:" in printed
    res = json.loads((out / "results.json").read_text())
    assert res["kind"] == "symhamil learn"
    assert "force_sindy (answer)" in printed or "(also adequate)" in printed
    assert set(res["ranking"]) == {"force_sindy", "strong_form", "network"}
    for route in ("force_sindy", "strong_form", "network"):
        r = res["routes"][route]
        # A closed pendulum with white noise: every route explains it.
        assert r["assessment"]["adequate"] and r["assessment"]["reasons"] == [], route
        assert r["same_support"], route
        assert r["max_relative_error"] < 0.01, route  # 1% noise on ~580 samples
        # Over the first time scale the rollout stays at the noise (0.014 rad); over
        # whole pieces of ~50 s a 0.3% error of the frequency adds phase.
        assert r["rollout"]["rms_horizon"] < 0.04
        assert r["rollout"]["rms"] < 0.2
    fit = sh.SparseFit.from_json(res["routes"]["force_sindy"]["fit"])
    lo, hi = fit.intervals[next(iter(fit.coefficients))]
    assert lo < -1 < hi
    if "--no-report" not in args:  # without TeX Live no figure or report is drawn
        assert (out / "figures" / "rollout.png").exists() and (out / "report.tex").exists()
        assert (out / "report.pdf").exists()
        # The report re-renders from results.json alone.
        (out / "report.pdf").unlink()
        assert main(["report", str(out)]) == 0
        assert (out / "report.pdf").exists()


@pytest.mark.parametrize(
    ("columns", "library", "message"),
    [
        ("t=time q=angel", None, r"no column\(s\) 'angel'; the header has 'time', 'angle'"),
        ("time q=angle", None, "is not KEY=COLUMN"),
        ("t=time x=angle", None, "unknown key 'x'"),
        ("t=time q=angle p=omega v=omega", None, "not both"),
        ("t=time,run q=angle", None, "t= takes one column"),
        ("t=time q=angle q=omega", None, "q= is given twice"),
        ("t=time q=angle trajectory=run", "cos(angle), foo(angle)", "foo"),
        ("t=time q=angle trajectory=run", "cos(theta)", "theta"),
    ],
)
def test_bad_columns_and_libraries_fail_before_any_work(
    pendulum_csv, tmp_path, capsys, columns, library, message
):
    out = tmp_path / "never"
    args = ["learn", str(pendulum_csv), "--columns", columns, "--out", str(out)]
    if library is not None:
        args += ["--library", library]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("symhamil: error:") and len(err.splitlines()) == 1
    assert pytest.importorskip("re").search(message, err), err
    assert not out.exists()  # nothing was started


def test_a_bad_file_is_named(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("time,angle\n0,1\n0.1,x\n")
    out = str(tmp_path / "out")
    assert main(["learn", str(bad), "--columns", "t=time q=angle", "--out", out]) == 2
    assert "bad.csv: column 'angle', row 3: 'x' is not a number" in capsys.readouterr().err
    assert main(["learn", str(tmp_path / "none.csv"), "--columns", "q=x"]) == 1
    assert "none.csv: no such file" in capsys.readouterr().err


def test_parsers():
    assert parse_columns("t=time q=x,y p=px,py trajectory=run") == {
        "t": "time",
        "q": ["x", "y"],
        "p": ["px", "py"],
        "trajectory": "run",
    }
    x, y = sp.symbols("x y")
    lib = parse_library("1, exp(-(x**2 + y**2)), x*y", (x, y))  # top-level commas split
    assert len(lib) == 3
    assert len(parse_library(None, (x, y), degree=2)) == 6


def test_learn_says_in_the_terminal_when_no_route_explains_the_data(tmp_path, capsys):
    """A damped pendulum: every formula is printed with its verdict (friction),
    and results.json records it per route."""
    from conftest import damped_pendulum

    tr = damped_pendulum(0, vscale=1.0)
    rows = ["t,angle,omega"] + [
        f"{k * tr.h:.5f},{tr.q[0, k, 0]:.6f},{tr.p[0, k, 0]:.6f}" for k in range(tr.N + 1)
    ]
    path = tmp_path / "damped.csv"
    path.write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    args = ["learn", str(path), "--columns", "t=t q=angle v=omega", "--library", LIBRARY,
            "--no-network", "--no-report", "--bootstrap", "0", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "force_sindy (not adequate)" in printed and "lose energy" in printed
    assert "no route explains the data to within their noise (likely: friction)" in printed
    res = json.loads((out / "results.json").read_text())
    for route in ("force_sindy", "strong_form"):
        a = res["routes"][route]["assessment"]
        assert a["adequate"] is False and "friction" in a["causes"]
    sh.apps.learn_report.read_learn_results(out)  # the schema takes it


def test_a_route_far_worse_than_force_sindy_is_flagged():
    """A network whose rollouts are orders of magnitude off force-SINDy's fails,
    whatever its own checks say."""
    from symhamil.apps.learn import WORSE, _against_force_sindy
    from symhamil.interpret.assess import Assessment

    class Ro:
        def __init__(self, rms):
            self.rms = rms

    verdicts = {
        "force_sindy": Assessment(True, rollout=Ro(0.01)),
        "strong_form": Assessment(True, rollout=Ro(0.02)),
        "network": Assessment(True, rollout=Ro(0.01 * WORSE * 3)),
    }
    routes = {k: {} for k in verdicts}
    _against_force_sindy(verdicts, routes)
    assert verdicts["strong_form"].adequate and verdicts["force_sindy"].adequate
    assert not verdicts["network"].adequate
    assert "300 times further" in routes["network"]["assessment"]["reasons"][0]


@pytest.mark.slow
def test_the_network_route_learns_a_cart_filmed_in_pixels(tmp_path, capsys):
    """Positions in pixels (x ~ 320 +- 110 px, forces ~1e3 px/s^2): the network
    trains in units of order one and agrees with force-SINDy (before the
    scaling: loss 8e5 and a well 33% too steep, flagged as failed)."""
    import numpy as np

    w, h = 2 * np.pi / 1.6, 1 / 30
    t = np.arange(0.0, 12.0, h)
    rng = np.random.default_rng(1)
    rows = ["run,t,x"]
    for k, (a, ph) in enumerate([(80, 0.0), (50, 1.0), (110, 2.0)]):
        x = 320 + a * np.cos(w * t + ph) + rng.normal(0.0, 0.3, t.size)
        rows += [f"{k},{ti:.5f},{xi:.2f}" for ti, xi in zip(t, x, strict=True)]
    path = tmp_path / "cart.csv"
    path.write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    args = ["learn", str(path), "--columns", "t=t q=x trajectory=run", "--library",
            "x, x**2", "--bootstrap", "0", "--no-report", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    res = json.loads((out / "results.json").read_text())
    net = res["routes"]["network"]
    assert net["assessment"]["adequate"] is True
    assert "network units: u = (x - 300)/100, V = 100000 net(u)" in net["training"]
    coef = net["fit"]["coefficients"]
    # omega^2 / 2 = 7.711: measured 7.708 (0.04%); 1% is the noise's share of
    # 360 positions per cycle at 0.3 px, with margin.
    assert coef["x**2"] == pytest.approx(w**2 / 2, rel=0.01)


def test_learn_reads_a_camera_clock_and_takes_rtol_and_max_gap(tmp_path, capsys):
    """Stamps rounded to milliseconds at 29.96 fps used to be refused ("fewer than
    8 samples"); they are one clock now. --rtol and --max-gap reach the reader,
    and a bad value is refused before any work."""
    import numpy as np

    rng = np.random.default_rng(3)
    k = np.arange(300)
    k = k[rng.random(k.size) >= 0.02]
    t = np.round(k / 29.96, 3)
    x = np.cos(2 * np.pi * 0.6 * k / 29.96) + rng.normal(0, 0.002, k.size)
    path = tmp_path / "cart.csv"
    path.write_text("t,x\n" + "\n".join(f"{a:.3f},{b:.5f}" for a, b in zip(t, x, strict=True)))
    out = tmp_path / "out"
    args = ["learn", str(path), "--columns", "t=t q=x", "--library", "x**2", "--no-network",
            "--bootstrap", "0", "--no-report", "--out", str(out), "--max-gap", "3"]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "time stamps rounded to 0.001" in printed
    res = json.loads((out / "results.json").read_text())
    assert res["data"]["h"] == pytest.approx(1 / 29.96, rel=1e-4)
    assert res["settings"]["max_gap"] == 3 and res["settings"]["rtol"] == 0.01
    # omega^2 / 2 = (2 pi 0.6)^2 / 2 = 7.106: with the right clock, within 0.5%.
    coef = res["routes"]["force_sindy"]["fit"]["coefficients"]["x**2"]
    assert coef == pytest.approx((2 * np.pi * 0.6) ** 2 / 2, rel=0.005)
    bad = ["learn", str(path), "--columns", "t=t q=x", "--rtol", "0.7", "--out",
           str(tmp_path / "o2")]  # fmt: skip
    assert main(bad) != 0
    assert "rtol must be a number in (0, 0.5)" in capsys.readouterr().err
    assert not (tmp_path / "o2").exists()


@pytest.mark.slow  # 8 s; test_bad_friction_fails_before_any_work reads --friction
def test_learn_fits_friction_with_the_potential(tmp_path, capsys):
    # A damped pendulum (gamma = 0.01 /s, c = 1.3, angle read 0.02 rad off) at
    # 6 fps: --friction takes Rayleigh functions in p (the one coordinate's
    # momentum, p_angle); R and V are printed and reported together.
    import numpy as np
    from conftest import damped_pendulum

    tr = damped_pendulum(0, c=1.3, gamma=0.01, offset=0.02, vscale=1.0, noise=0.005)
    data = tmp_path / "damped.csv"
    np.savetxt(data, np.c_[tr.t, tr.q[0, :, 0], tr.p[0, :, 0]], delimiter=",",
               header="time,angle,omega", comments="", fmt="%.6f")  # fmt: skip
    out = tmp_path / "out"
    args = ["learn", str(data), "--columns", "t=time q=angle v=omega", "--out", str(out),
            "--library", "cos(angle), sin(angle), angle**2", "--friction", "p**2/2",
            "--no-network", "--bootstrap", "0", "--no-report"]  # fmt: skip
    assert main(args) == 0
    said = capsys.readouterr().out
    assert "friction terms in the momenta (angle -> p_angle): p_angle**2/2" in said
    assert "force_sindy (answer)" in said and "R = 0.005" in said
    results = json.loads((out / "results.json").read_text())
    fit = sh.SparseFit.from_json(results["routes"]["force_sindy"]["fit"])
    gamma = fit.friction_coefficients[sp.Symbol("p_angle") ** 2 / 2]  # R = gamma p^2/2
    assert gamma == pytest.approx(0.01, rel=0.1)  # the 10%
    assert results["routes"]["force_sindy"]["assessment"]["adequate"]
    render_learn(out, compile=False)
    tex = (out / "report.tex").read_text()
    assert r"\hat R = " in tex and "p_{angle}" in tex


def test_bad_friction_fails_before_any_work(pendulum_csv, tmp_path, capsys):
    out = tmp_path / "never"
    args = ["learn", str(pendulum_csv), "--columns", "t=time q=angle v=omega trajectory=run",
            "--out", str(out), "--friction", "q**2"]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "uses unknown names ['q']" in err and not out.exists()
    args[-1] = "angle**2"
    assert main(args) == 2
    assert "does not depend on the momenta p_angle" in capsys.readouterr().err


@pytest.mark.slow  # 7 s; the bad request below is checked in the default suite
def test_learn_fits_the_masses_nobody_gave(tmp_path, capsys):
    # Two carts (m2/m1 = 2.5) filmed at 30 fps, positions only with 0.5% noise:
    # '--masses 1 fit' gives the first mass and fits the second.
    from test_masses import RATIO, RATIO_TOL, carts

    tr = carts(seed=0)
    rows = ["t,x1,x2,run"]
    for r in range(tr.R):
        rows += [f"{t:.6f},{a:.6f},{b:.6f},{r}" for t, (a, b) in zip(tr.t, tr.q[r], strict=True)]
    data = tmp_path / "carts.csv"
    data.write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    args = ["learn", str(data), "--columns", "t=t q=x1,x2 trajectory=run", "--degree", "2",
            "--masses", "1", "fit", "--out", str(out), "--no-network", "--bootstrap", "0",
            "--no-report"]  # fmt: skip
    assert main(args) == 0
    said = capsys.readouterr().out
    assert "masses: x1 1.0 (the rest fitted)" in said and "masses 1, 2.5" in said
    fit = sh.SparseFit.from_json(
        json.loads((out / "results.json").read_text())["routes"]["force_sindy"]["fit"]
    )
    assert fit.masses[1] == pytest.approx(RATIO, rel=RATIO_TOL)


def test_a_bad_mass_request_fails_before_any_work(pendulum_csv, tmp_path, capsys):
    out = tmp_path / "never"
    args = ["learn", str(pendulum_csv), "--columns", "t=time q=angle v=omega trajectory=run",
            "--out", str(out), "--masses", "1", "fit"]  # fmt: skip
    assert main(args) == 2
    assert "--masses gives 2 values for 1 coordinates" in capsys.readouterr().err
    assert main([*args[:-2], "fit"]) == 2
    assert "with one coordinate there is no ratio to fit" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse's own exit, before anything runs
        main([*args[:-2], "heavy"])
    assert "'heavy' is not a number" in capsys.readouterr().err
    assert main([*args[:-2], "1=3.0"]) == 2
    assert "type=mass items are for molecular-dynamics files" in capsys.readouterr().err
    assert not out.exists()
