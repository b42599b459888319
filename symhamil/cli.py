"""The ``symhamil`` command line.

``symhamil catalog``
    List the ready-made systems with their Hamiltonians.
``symhamil simulate SYSTEM``
    Simulate a catalog system from random (seeded) initial conditions, print a
    summary with the energy errors, and save the trajectories as ``.npz``.
``symhamil reproduce [EXPERIMENT ...] [--budget B] [--out DIR] [--seed S]``
    Reproduce the paper's experiments (see :mod:`symhamil.apps.paper`).
``symhamil report DIR``
    Draw the figures and write the report again from ``DIR/results.json`` alone
    (no TensorFlow, no training).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Sequence

import numpy as np

from . import __version__
from .apps.paper.experiments import BUDGETS, EXPERIMENTS
from .base.schema import read_document
from .systems import catalog
from .systems.simulate import METHODS, simulate
from .systems.system import System

#: name -> (constructor, initial-condition law as in the paper)
SYSTEMS: dict[str, tuple[Callable[[], System], str]] = {
    "harmonic-oscillator": (catalog.harmonic_oscillator, "uniform"),
    "double-well": (catalog.double_well, "uniform"),
    "central-force": (catalog.central_force, "uniform"),
    "coulomb": (catalog.coulomb_pair, "normal"),
    "pendulum": (catalog.pendulum, "uniform"),
    "henon-heiles": (catalog.henon_heiles, "uniform"),
    "kepler": (catalog.kepler, "normal"),
}


def _positive_number(text: str) -> float:
    """A finite number > 0, checked before anything is printed or computed."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0; got {text}")
    return value


def _mass(text: str) -> float | str:
    """A mass: a finite number > 0, "fit" (fitted with V), or type=mass (an MD
    file's atom type)."""
    if text.strip().lower() == "fit":
        return "fit"
    if "=" in text:
        return text
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number (or 'fit')") from None
    return value  # its range is checked with the data (one line, exit status 2)


def _positive(text: str) -> int:
    """A whole number >= 1, checked before anything is printed or computed."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1; got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="symhamil",
        description="Learn and interpret potentials of classical Hamiltonian systems.",
    )
    ap.add_argument("--version", action="version", version=f"symhamil {__version__}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("catalog", help="list the ready-made systems")
    _add_simulate(sub)
    _add_reproduce(sub)
    _add_learn(sub)
    _add_report(sub)
    return ap


def _add_simulate(sub) -> None:
    sim = sub.add_parser(
        "simulate",
        help="simulate a catalog system and save its trajectories",
        description="Simulate a catalog system from seeded random initial conditions "
        "(uniform on [-1, 1] per coordinate and momentum, or standard normal).",
    )
    sim.add_argument(
        "system",
        choices=sorted([*SYSTEMS, "sho"]),
        metavar="SYSTEM",
        help="one of: " + ", ".join(sorted(SYSTEMS)),
    )
    sim.add_argument(
        "--trajectories", "-R", type=_positive, default=10, help="number R (default 10)"
    )
    sim.add_argument(
        "--steps", "-N", type=_positive, default=5000, help="saved steps N (default 5000)"
    )
    sim.add_argument(
        "--h", type=_positive_number, default=0.001, help="time between samples (0.001)"
    )
    sim.add_argument("--method", choices=METHODS, default="verlet", help="integrator (verlet)")
    sim.add_argument(
        "--substeps", type=_positive, default=10, help="internal steps per sample (10)"
    )
    sim.add_argument(
        "--init",
        choices=("uniform", "normal"),
        default=None,
        help="initial-condition law (default: the paper's for that system)",
    )
    sim.add_argument("--seed", type=int, default=0, help="random seed (0)")
    sim.add_argument(
        "--drop-above",
        type=_positive_number,
        default=0.01,
        help="drop trajectories whose relative energy error exceeds this (default 0.01)",
    )
    sim.add_argument(
        "--out", "-o", default=None, help="output .npz (default: SYSTEM.npz in the current folder)"
    )


def _add_reproduce(sub) -> None:
    rep = sub.add_parser(
        "reproduce",
        help="reproduce the paper's experiments and write results.json and a LaTeX report",
        description="Run the paper's experiments (section 3) three ways - paper-faithful, "
        "symhamil's default and force-SINDy - and write results.json, figures, models, data "
        "and report.tex (report.pdf where a LaTeX engine is installed) to --out.",
    )
    rep.add_argument(
        "experiments",
        nargs="*",
        default=["all"],
        metavar="EXPERIMENT",
        help="any of: " + ", ".join([*EXPERIMENTS, "all"]) + " (default: all)",
    )
    rep.add_argument(
        "--budget",
        choices=BUDGETS,
        default="default",
        help="quick (seconds per case), default (minutes in all) or paper (the paper's "
        "step counts and data sizes; hours)",
    )
    rep.add_argument("--out", "-o", default="symhamil-results", help="output folder")
    rep.add_argument("--seed", type=int, default=0, help="seed of the generated data (0)")
    rep.add_argument("--no-report", action="store_true", help="skip report.tex and the PDF")


def _add_learn(sub) -> None:
    lrn = sub.add_parser(
        "learn",
        help="learn a potential from one's own data (a CSV file, or a molecular-dynamics "
        "file) and write a report",
        description="Two routes, chosen by the file. A CSV file (or ;, tab or space "
        "separated): read measured samples, cut them into regular pieces at gaps, estimate "
        "the noise, run force-SINDy (weak and pair forms, with model selection, shooting "
        "and a bootstrap; with --friction and --masses fit, friction and masses too) and the "
        "network route, roll every result out from the measured states and give each a "
        "verdict. A molecular-dynamics file ASE reads (.traj, .extxyz, .xyz, LAMMPS dumps): "
        "learn one pair potential phi(r) by pair force-SINDy (matching the forces the file "
        "stores, else from the frames) and a neural pair potential, and print sigma and "
        "epsilon of a 12-6 form. Either way, write results.json, figures and report.tex "
        "(report.pdf where LaTeX is installed) to --out. CSV options: --columns, --degree, "
        "--friction, --masses, --bootstrap, --rtol, --max-gap; MD options: --format, "
        "--cutoff, --h, --frames, --positions-only.",
    )
    lrn.add_argument(
        "data",
        metavar="DATA",
        help="a CSV (or ;, tab or space separated) file, or a molecular-dynamics file ASE "
        "reads (.traj, .extxyz, .xyz, LAMMPS dump): then one pair potential phi(r) is learned",
    )
    lrn.add_argument(
        "--columns",
        default=None,
        help="which columns hold what, e.g. 't=time q=angle v=omega' or "
        "'t=t q=x,y p=px,py trajectory=run' (keys: t, q, p, v, trajectory; no p or v: "
        "positions only)",
    )
    lrn.add_argument(
        "--library",
        default=None,
        help="candidate terms in the position names, e.g. '1, cos(angle), angle**2' "
        "(default: polynomials to --degree); with 2 or more positions, r is their distance "
        "from the origin: '1/r, r**2' fits a central potential, printed and drawn in r",
    )
    lrn.add_argument(
        "--friction",
        default=None,
        help="friction as Rayleigh functions R of the momenta, fitted with V so that "
        "dp/dt = -grad V - dR/dp; momenta are named after the positions (angle -> "
        "p_angle; p alone with one coordinate), e.g. 'p**2/2, Abs(p)' (linear damping, "
        "Coulomb friction)",
    )
    lrn.add_argument("--degree", type=_positive, default=4, help="polynomial degree (4)")
    lrn.add_argument(
        "--masses",
        type=_mass,
        nargs="+",
        default=None,
        help="mass of each coordinate (1), or 'fit' for masses nobody gave: '--masses fit' "
        "fits all but the first (1); '--masses 0.35 fit' gives the first and fits the second",
    )
    lrn.add_argument(
        "--truth",
        default=None,
        help="a known potential to compare with; for MD atoms of several species, one "
        "law per pair of types: '1-1: 4*(r**-12 - r**-6); 1-2: ...'",
    )
    lrn.add_argument("--bootstrap", type=int, default=100, help="bootstrap resamples (100)")
    lrn.add_argument("--no-network", action="store_true", help="skip the network route")
    lrn.add_argument(
        "--time-limit",
        type=float,
        default=600.0,
        help="seconds for the network's training (600); for MD files, for the whole network "
        "route: training gets this less force-SINDy's time, kept back for SINDy on its phi",
    )
    lrn.add_argument("--seed", type=int, default=0, help="seed (0)")
    lrn.add_argument(
        "--rtol",
        type=_positive_number,
        default=0.01,
        help="steps within this fraction of h (plus the stamps' rounding) are regular; "
        "others cut the data (0.01)",
    )
    lrn.add_argument(
        "--max-gap",
        type=int,
        default=None,
        help="bridge gaps of up to this many lost samples (default: up to 5%% of the "
        "motion's time scale, at least 2)",
    )
    md = lrn.add_argument_group("molecular-dynamics files (pair potentials)")
    md.add_argument("--rerun", action="store_true",
                    help="re-run the MD with the recovered phi (ASE) from the first frame and "
                    "compare positions and pair distances with the data's")  # fmt: skip
    md.add_argument(
        "--format",
        default=None,
        help="ASE's name of the file's format (e.g. lammps-dump-text, extxyz), for files "
        "whose name does not say it; .gz, .bz2 and .xz files are read by their inner ending",
    )
    md.add_argument("--cutoff", type=float, default=None,
                    help="the cutoff of the interaction (default: half the box)")  # fmt: skip
    md.add_argument("--h", type=_positive_number, default=None,
                    help="time between frames in ASE's time unit (10.18 fs), if the file does "
                    "not say")  # fmt: skip
    md.add_argument("--timestep", default=None,
                    help="the MD integration step with its unit, e.g. 2fs or 0.001ps (a bare "
                    "number is in the --units' time unit); the time between frames is this "
                    "times the MD steps between them, read from the file (LAMMPS ITEM: "
                    "TIMESTEP, the .traj's logging interval)")  # fmt: skip
    md.add_argument("--units", default=None, choices=("lj", "metal", "real", "ase"),
                    help="the LAMMPS units style of a dump: metal (A, eV, ps) and real (A, "
                    "kcal/mol, fs) are converted to ASE's units (phi in eV); lj is kept (r in "
                    "sigma, phi in epsilon, t in tau, masses 1)")  # fmt: skip
    md.add_argument("--frames", default=":", help="which frames, as ASE's index (':')")
    md.add_argument(
        "--positions-only",
        action="store_true",
        help="ignore stored momenta and forces: learn from the positions",
    )
    lrn.add_argument("--out", "-o", default="symhamil-learned", help="output folder")
    lrn.add_argument(
        "--overwrite",
        action="store_true",
        help="write into --out even if it holds files symhamil learn did not write",
    )
    lrn.add_argument("--no-report", action="store_true", help="skip report.tex and the PDF")


def _add_report(sub) -> None:
    ren = sub.add_parser(
        "report",
        help="re-render the figures and report of a results folder (no training)",
        description="Draw the figures and write report.tex (report.pdf where a LaTeX engine "
        "is installed) from DIR/results.json alone, without TensorFlow or the trained models.",
    )
    ren.add_argument(
        "out", metavar="DIR", help="a folder written by `symhamil reproduce` or `symhamil learn`"
    )
    ren.add_argument("--no-pdf", action="store_true", help="write report.tex only")


#: Other names people use for the same system or experiment.
ALIASES = {"sho": "harmonic-oscillator", "harmonic-oscillator": "sho"}


def _reproduce(args: argparse.Namespace) -> int:
    names = [n if n in EXPERIMENTS or n == "all" else ALIASES.get(n, n) for n in args.experiments]
    names = names or ["all"]
    unknown = [n for n in names if n != "all" and n not in EXPERIMENTS]
    if unknown:
        raise ValueError(
            f"unknown experiment {', '.join(map(repr, unknown))}; choose from "
            f"{', '.join([*EXPERIMENTS, 'all'])}."
        )
    from .apps.paper import reproduce  # an application: loaded when run

    reproduce(
        names, budget=args.budget, out=args.out, seed=args.seed, report=not args.no_report,
        progress=lambda s: print(s, flush=True),
    )  # fmt: skip
    return 0


def _simulate(args: argparse.Namespace) -> int:
    build, law = SYSTEMS[ALIASES.get(args.system, args.system)]
    system = build()
    rng = np.random.default_rng(args.seed)
    shape = (args.trajectories, system.dim)
    if (args.init or law) == "normal":
        q0, p0 = rng.standard_normal(shape), rng.standard_normal(shape)
    else:
        q0, p0 = rng.uniform(-1, 1, shape), rng.uniform(-1, 1, shape)
    print(f"{system.name}: H = {system.H}")
    print(
        f"simulating R={args.trajectories} "
        f"{'trajectory' if args.trajectories == 1 else 'trajectories'} x {args.steps} steps, "
        f"h={args.h}, "
        f"method={args.method}"
        + (f", substeps={args.substeps}" if args.method in ("verlet", "rk4") else "")
    )
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        traj = simulate(
            system,
            q0,
            p0,
            h=args.h,
            steps=args.steps,
            method=args.method,
            substeps=args.substeps,
            drop_above=args.drop_above,
        )
    elapsed = time.perf_counter() - t0
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    err = traj.energy_error
    print(
        f"done in {elapsed:.2f} s; relative energy error: median {np.median(err):.2e}, "
        f"max {err.max():.2e}"
    )
    out = args.out or f"{args.system}.npz"
    traj.save(out)
    print(f"saved {traj!r} to {out}")
    return 0


#: Exceptions that are a user's or a machine's situation, not a bug: one line each.
EXPECTED = (
    ValueError,
    TypeError,
    OSError,
    KeyError,
    RuntimeError,
    FloatingPointError,
    MemoryError,
)


def _folder_kind(out: str) -> str | None:
    """The ``kind`` of ``out/results.json`` (None for a reproduction, which has none)."""
    return read_document(os.path.join(out, "results.json"), {}).get("kind")


def _learn(args: argparse.Namespace) -> int:
    # Applications, loaded when run (the other commands never import them).
    from .apps.learn import LearnSettings, learn, parse_columns
    from .apps.learn_pairs import (
        MD_SUFFIXES,
        PairSettings,
        is_md_file,
        learn_pairs,
        parse_timestep,
    )

    # Every option is checked by the settings (before any work, nothing written).
    if is_md_file(args.data, args.format):
        if args.friction is not None:
            raise ValueError(
                f"{args.data}: --friction is for single systems (CSV data); molecular "
                "dynamics are fitted with pair potentials alone."
            )
        if args.timestep is not None and args.h is not None:
            raise ValueError(
                "give --h (the time between frames, ASE's unit) or --timestep (the MD "
                "step, with a unit), not both."
            )
        step = None if args.timestep is None else parse_timestep(args.timestep, args.units)
        settings = PairSettings(
            data=args.data,
            library=args.library,
            cutoff=args.cutoff,
            h=args.h,
            timestep=step,
            units=args.units,
            frames=args.frames,
            momenta=not args.positions_only,
            format=args.format,
            masses=None if args.masses is None else tuple(args.masses),
            rerun=args.rerun,
            truth=args.truth,
            network=not args.no_network,
            seed=args.seed,
            time_limit=args.time_limit,
            overwrite=args.overwrite,
        )
        learn_pairs(settings, args.out, report=not args.no_report)
        return 0
    if args.columns is None:
        if not os.path.exists(args.data):  # the first thing wrong is the file, not --columns
            raise FileNotFoundError(f"{args.data}: no such file.")
        raise ValueError(
            f"{args.data}: say which columns hold what with --columns, e.g. "
            "--columns 't=time q=angle v=omega' (molecular-dynamics files ending in "
            f"{', '.join(MD_SUFFIXES)}, compressed or not, or read with --format, need none)."
        )
    settings = LearnSettings(
        data=args.data,
        columns=parse_columns(args.columns),
        library=args.library,
        friction=args.friction,
        degree=args.degree,
        masses=None if args.masses is None else tuple(args.masses),
        network=not args.no_network,
        bootstrap=args.bootstrap,
        truth=args.truth,
        seed=args.seed,
        time_limit=args.time_limit,
        overwrite=args.overwrite,
        rtol=args.rtol,
        max_gap=args.max_gap,
    )
    learn(settings, args.out, report=not args.no_report)
    return 0


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"symhamil: warning: {message}", file=sys.stderr if file is None else file)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``symhamil`` command.

    Every expected failure ends with one ``symhamil: error: ...`` line on stderr
    and exit status 2 (1 for a machine fault such as a full disk); Ctrl-C says
    what was kept and how to resume, with status 130.
    """
    # TensorFlow's C++ start-up banners are noise to a CLI user; set
    # SYMHAMIL_TF_LOGS=1 to see them.
    if not os.environ.get("SYMHAMIL_TF_LOGS"):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = _parser().parse_args(argv)
    # A warning is a message to the user, one line each, not a source location.
    shown, warnings.showwarning = warnings.showwarning, _show_warning
    try:
        return _run_command(args)
    finally:
        warnings.showwarning = shown


def _run_command(args: argparse.Namespace) -> int:
    try:
        if args.command == "catalog":
            for name, (build, _) in SYSTEMS.items():
                s = build()
                print(f"{name:20s} d={s.dim}  H = {s.H}")
            return 0
        if args.command == "reproduce":
            return _reproduce(args)
        if args.command == "report":
            kind = _folder_kind(args.out)
            if kind == "symhamil learn pairs":
                from .apps.learn_pairs import render_pairs  # an application

                print(render_pairs(args.out, compile=not args.no_pdf)[2])
                return 0
            if kind == "symhamil learn":
                from .apps.learn import render_learn  # an application

                print(render_learn(args.out, compile=not args.no_pdf)[2])
                return 0
            if kind is not None:
                raise ValueError(
                    f"{os.path.join(args.out, 'results.json')}: results of an unknown kind "
                    f"{str(kind)[:60]!r}; symhamil renders 'symhamil learn', 'symhamil learn "
                    "pairs' and reproductions."
                )
            from .apps.paper import render  # an application

            print(render(args.out, compile=not args.no_pdf)[2])
            return 0
        if args.command == "learn":
            return _learn(args)
        return _simulate(args)
    except KeyboardInterrupt:
        where = getattr(args, "out", None)
        kept = (
            f"finished models and training checkpoints are kept in {where}; run the same "
            "command again to resume"
            if args.command == "reproduce"
            else "the network's checkpoint is kept in --out; run the same command again to resume"
            if args.command == "learn"
            else "nothing was written"
        )
        print(f"symhamil: interrupted; {kept}.", file=sys.stderr)
        return 130
    except EXPECTED as exc:
        text = str(exc) if not isinstance(exc, KeyError) else f"missing field {exc}"
        if isinstance(exc, MemoryError) and not text:
            text = "out of memory; ask for fewer trajectories or steps"
        print(f"symhamil: error: {text}", file=sys.stderr)
        return 1 if isinstance(exc, OSError | MemoryError) else 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
