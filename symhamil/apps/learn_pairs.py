"""``symhamil learn`` on molecular-dynamics files: one pair potential phi(r), as a formula.

An application, like :mod:`symhamil.apps.learn` (which handles CSV files of one
system): read the file with ASE (:func:`symhamil.read_ase`), run pair
force-SINDy and the neural pair route (a :class:`~symhamil.neural.PairPotential`
whose phi is interpreted by SINDy with the data choosing the terms), and write
results.json, a figure of phi(r) over the histogram of the pair distances seen,
and report.tex/PDF. ``symhamil report OUT`` re-renders it from results.json.
"""

from __future__ import annotations

import re
import time
import warnings
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import sympy as sp

from ..base.checks import positive_number
from ..base.files import LOAD_ERRORS, describe, real_folder, write_json, write_text
from ..base.parsing import parse_formula
from ..base.schema import Mapping, Number, Optional, Text, read_document
from ..data.geometry import as_geometry, pair_distances
from ..data.noise import rounding
from ..interpret.assess import verdict
from ..interpret.compare import compare
from ..interpret.md_export import check_rerun, rerun_check
from ..readers.md import (
    check_units,
    energy_swing,
    format_of,
    md_description,
    read_ase,
    to_internal_time,
)
from ..report.latex import build_pdf, tex_escape
from ..report.plots import draw_pair_potential, pyplot, save_figure
from ..sindy import Library, LibraryWarning, SparseFit, pair_force_sindy, sindy
from ..sindy.between_frames import inferred_forces
from ..systems.pairs import PairLibrary, pair_potentials, species_symbols
from .common import check_request, claim_folder, parse_library

__all__ = ["MD_SUFFIXES", "PairSettings", "is_md_file", "learn_pairs", "render_pairs"]

#: Files ``symhamil learn`` reads with ASE rather than as delimited text.
MD_SUFFIXES = (".traj", ".extxyz", ".xyz", ".lammpstrj", ".dump", ".nc")


def is_md_file(path: str, fmt: str | None = None) -> bool:
    """Whether ``symhamil learn`` reads ``path`` as molecular dynamics: a format
    is named, or its name says one (endings of MD_SUFFIXES, also compressed,
    and LAMMPS dumps named dump.*)."""
    return format_of(path, fmt) is not None


#: The distance symbol of the library and the formulas.
R = sp.Symbol("r")

#: Inverse powers and exponentials: the usual shapes of pair interactions.
DEFAULT_LIBRARY = "r**-12, r**-10, r**-8, r**-6, r**-4, r**-2, r**-1, exp(-r), exp(-2*r)"

#: Pairs of frames the network trains on (every k-th pair of the run).
PAIRS_USED = 16

#: Under a time limit, the share of it that may be kept back from training for
#: SINDy on the network's phi (which regresses on the data as force-SINDy did).
SINDY_SHARE = 0.5

ROUTES = {"pair_force_sindy": "pair force-SINDy", "network": "neural pair potential + SINDy"}


@dataclass(frozen=True)
class PairSettings:
    """What ``symhamil learn DATA.traj`` was asked to do (stored in results.json)."""

    data: str
    library: str | None = None
    cutoff: float | None = None
    h: float | None = None
    timestep: float | None = None
    units: str | None = None
    frames: str = ":"
    momenta: bool = True
    format: str | None = None
    masses: tuple | None = None
    rerun: bool = False
    truth: str | None = None
    network: bool = True
    seed: int = 0
    time_limit: float | None = 600.0
    overwrite: bool = False

    def __post_init__(self) -> None:
        check_request(self)
        positive_number(self.cutoff, "cutoff", allow_none=True)
        positive_number(self.h, "h", allow_none=True)
        positive_number(self.timestep, "timestep", allow_none=True)
        check_units(self.units)
        if not isinstance(self.frames, str):
            raise TypeError(f"frames must be text such as ':' or '::10'; got {self.frames!r}.")
        if self.format is not None and not isinstance(self.format, str):
            raise TypeError(f"format must be ASE's name of a format; got {self.format!r}.")


def learn_pairs(settings: PairSettings, out: str | Path, *, report=True, say=print) -> dict:
    """Run the whole job; returns the results as written to ``out/results.json``."""
    out = Path(out)
    # Everything that can be wrong with the request fails here, before any work.
    claim_folder(out, "symhamil learn pairs", settings.overwrite)
    library = parse_library(settings.library or DEFAULT_LIBRARY, (R,))
    truth = None if settings.truth is None else parse_truth(settings.truth)
    # Positions only: neither the stored momenta nor the stored forces.
    masses = _mass_request(settings.masses)
    traj = read_ase(settings.data, index=settings.frames, h=settings.h,
                    momenta=settings.momenta, forces=settings.momenta,
                    format=settings.format, masses=masses, timestep=settings.timestep,
                    units=settings.units)  # fmt: skip
    if (
        masses is None
        and settings.units != "lj"  # LJ units: m = 1 unless the input set others
        and format_of(settings.data, settings.format) == "lammps-dump-text"
        and (settings.network or traj.forces is None)
    ):
        kinds = sorted({float(m) for m in np.round(traj.mass_array, 3)})
        raise ValueError(
            f"{settings.data}: a LAMMPS dump holds no masses (ASE reads atom types as "
            f"elements: masses {kinds} amu), and learning from the motion needs them; give "
            "--masses type=mass for each type (amu), e.g. --masses 1=39.948."
        )
    # The geometry, read once from the file (atoms, box) with the --cutoff.
    geometry = as_geometry(traj, cutoff=settings.cutoff)
    _check_truth(truth, geometry)
    if settings.rerun:
        check_rerun(traj, geometry)
    particles, box = geometry.particles, geometry.box
    if box is None and settings.cutoff is None:
        say("no periodic box and no --cutoff: every pair interacts")
    dist = pair_distances(traj, geometry=geometry, stride=max(1, traj.n_points // 100))
    counts, edges = np.histogram(dist, bins=80)
    units = units_of(settings.units)
    clock = (f"{traj.h:.5g} tau" if settings.units == "lj" else
            f"{traj.h:.5g} ASE time units ({traj.h / TIME_UNITS['fs']:.4g} fs)")  # fmt: skip
    k = traj.md_steps
    apart = "" if k is None else f", {k} MD step{'s' if k != 1 else ''} apart"
    say(f"{Path(settings.data).name}: {traj.N + 1} frames of {particles} atoms, h = "
        f"{clock}{apart}, box {None if box is None else box.tolist()}, "
        f"pairs at r in [{dist.min():.4g}, {dist.max():.4g}]")  # fmt: skip
    say(f"units: r in {units['r']}, phi in {units['phi']}, t in {units['t']}, masses in "
        f"{units['m']}")  # fmt: skip
    results = {
        "kind": "symhamil learn pairs",
        "settings": asdict(settings),
        "data": {
            "frames": traj.N + 1,
            "particles": particles,
            "h": traj.h,
            "md_steps": traj.md_steps,
            "units": units,
            "box": None if box is None else box.tolist(),
            "cutoff": geometry.cutoff,
            "momenta": traj.has_momenta,
            "r_range": [float(dist.min()), float(dist.max())],
            "histogram": {"counts": counts.tolist(), "edges": edges.tolist()},
        },
        "library": [sp.sstr(t) for t in library.terms],
        "truth": None if truth is None else truth_text(truth),
        "routes": {},
    }
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LibraryWarning)  # said once, in the report
        fit = pair_force_sindy(traj, library, geometry=geometry)
    entry = _route(fit, truth, time.perf_counter() - t0)
    entry_seconds = entry["seconds"]
    results["routes"]["pair_force_sindy"] = entry
    say(f"pair force-SINDy: phi = {sp.sstr(fit.rounded())}  ({time.perf_counter() - t0:.1f} s)")
    say("  " + _summary(fit, entry))
    swing = None
    if fit.residual > MD_RESIDUAL and traj.forces is None:
        swing = energy_swing(settings.data, settings.frames, settings.format)
    entry["assessment"] = _md_verdict(traj, library, geometry, fit, md_description(settings.data),
                                      swing)  # fmt: skip
    if fit.coefficients:
        entry["parity"] = _parity(traj, fit, geometry)
    if settings.rerun:
        t1 = time.perf_counter()
        step = md_description(settings.data).get("timestep")
        check = rerun_check(fit, traj, geometry, timestep=step)
        keys = ("trajectory_error", "rdf_difference", "agrees", "rdf_t", "rdf_bar", "rdf_agrees")
        entry["rerun"] = {k: check[k] for k in keys}
        say(f"  re-run with ASE from the first frame ({time.perf_counter() - t1:.1f} s): "
            + _rerun_words(entry["rerun"]))  # fmt: skip
    say("  " + verdict(entry["assessment"]["adequate"], entry["assessment"]["reasons"]))
    if settings.network and geometry.species is not None:
        say("neural pair potential: skipped (the network learns one pair law; these atoms "
            "are of several species)")  # fmt: skip
    elif settings.network and (traj.md_steps or 1) > 1:
        # Its losses difference consecutive samples as if they were one MD step
        # apart: on sparse frames it would learn a biased phi (tried: 12-6 data
        # 10 steps apart gave r^-8, r^-10, r^-12).
        say(f"neural pair potential: skipped (its losses take frames one MD step apart; "
            f"these are {traj.md_steps} apart)")  # fmt: skip
    elif settings.network:
        from ..neural import PairPotential  # TensorFlow, only for this route

        t0 = time.perf_counter()
        g = geometry
        model = PairPotential(g.particles, g.space, box=g.box, cutoff=g.cutoff, seed=settings.seed)
        # Consecutive frames of MD are nearly the same configuration: a network
        # learns as much from PAIRS_USED pairs of frames spread over the run, at a
        # fraction of the cost (each frame holds every pair of atoms).
        stride = max(1, traj.N // PAIRS_USED)
        real_folder(out, "network")  # inside --out, not links
        real_folder(out, "model")
        training, limit = _training_limit(settings.time_limit, entry_seconds)
        say(f"training the neural pair potential on {traj.N // stride} pairs of frames "
            f"({limit}; progress on a terminal's stderr)")  # fmt: skip
        model.fit(traj, checkpoint_dir=out / "network", time_limit=training,
                  verbose=None, stride=stride)  # fmt: skip
        # Not into the checkpoint folder: its config.json is what a rerun resumes by.
        model.save(out / "model")
        grid = np.linspace(dist.min(), dist.max(), 400)[:, None]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LibraryWarning)
            lib1 = library | Library((sp.S.One,), (R,))
            nfit = sindy(model.pair_potential, lib1, grid, data=traj)
        entry = _route(nfit, truth, time.perf_counter() - t0)
        entry["training"] = (f"{model.n_steps_} Adam steps and {model.n_lbfgs_} L-BFGS-B "
                             f"iterations, loss {model.loss_:.3g}, "
                             f"{model.fit_time_:.1f} s")  # fmt: skip
        entry["training_seconds"] = model.fit_time_
        entry["network_curve"] = model.pair_potential(grid).tolist()
        results["routes"]["network"] = entry
        say(f"neural pair potential: phi = {sp.sstr(nfit.rounded())}  "
            f"({time.perf_counter() - t0:.1f} s)")  # fmt: skip
        say("  " + _summary(nfit, entry))
        agree = _agreement(fit, nfit)
        entry["agreement"] = agree
        say("  " + agree["words"])
    write_json(out / "results.json", results, indent=2)
    if report:
        say(render_pairs(out)[2])
    return results


def parse_truth(text: str):
    """``--truth``: one phi(r), or one per pair of types, ``'1-1: 4*(r**-12 -
    r**-6); 1-2: ...'``, as {"1-1": expr, ...} (types in increasing order)."""
    if ":" not in text:
        return sp.expand(parse_formula(text, (R,), "truth"))
    out = {}
    for part in filter(str.strip, text.split(";")):
        key, sep, formula = part.partition(":")
        a, dash, b = key.strip().partition("-")
        if not sep or not dash or not a.strip().isdigit() or not b.strip().isdigit():
            raise ValueError(
                f"--truth: {part.strip()!r} is not 'A-B: formula'; give one law per pair of "
                "types, e.g. --truth '1-1: 4*(r**-12 - r**-6); 1-2: 6*(0.8**12/r**12 - "
                "0.8**6/r**6)'."
            )
        a, b = sorted((int(a), int(b)))
        if f"{a}-{b}" in out:
            raise ValueError(f"--truth: the pair {a}-{b} is given twice.")
        out[f"{a}-{b}"] = sp.expand(parse_formula(formula, (R,), f"the truth of pair {a}-{b}"))
    return out


def truth_text(truth) -> str:
    """The text :func:`parse_truth` reads back."""
    if isinstance(truth, dict):
        return "; ".join(f"{ab}: {sp.sstr(phi)}" for ab, phi in truth.items())
    return sp.sstr(truth)


def _check_truth(truth, geometry) -> None:
    """A truth per pair for atoms of several species, and only pairs that occur."""
    if truth is None:
        return
    pairs = None if geometry.species is None else {f"{a}-{b}" for a, b in geometry.pair_types}
    if pairs is None and isinstance(truth, dict):
        raise ValueError(
            "--truth gives laws per pair of types, but the atoms are of one species; give "
            "one formula in r."
        )
    if pairs is not None and not isinstance(truth, dict):
        raise ValueError(
            f"the atoms are of several species (pairs {', '.join(sorted(pairs))}); give "
            "--truth one law per pair, e.g. '1-1: 4*(r**-12 - r**-6); 1-2: ...'."
        )
    if pairs is not None and set(truth) - pairs:
        raise ValueError(
            f"--truth names pairs {', '.join(sorted(set(truth) - pairs))} that do not occur; "
            f"the file's pairs of types are {', '.join(sorted(pairs))}."
        )


def _rerun_words(rr: dict) -> str:
    """The re-run check in words: the path, then the pair distances against
    their sampling noise (a chaotic run leaves any other path in time, so over
    long records the distribution is the test that counts)."""
    path = (
        "follows the data's path"
        if rr["agrees"]
        else "leaves the data's path (over long records even the right phi does: MD is chaotic)"
    )
    words = f"positions off by {rr['trajectory_error']:.2g} of the data's motion: {path}; "
    if rr.get("rdf_agrees") is None:
        return words + (
            f"pair distances differ by {rr['rdf_difference']:.2g} of their peak (the record "
            "is too short to measure their sampling noise)"
        )
    within = "within" if rr["rdf_agrees"] else "OUTSIDE"
    return words + (
        f"pair distances differ by at most {rr['rdf_t']:.2g} sampling errors (bar "
        f"{rr['rdf_bar']:.2g}): {within} the sampling noise"
    )


def _training_limit(limit: float | None, sindy_seconds: float) -> tuple[float | None, str]:
    """The network's training time under the route's ``limit``, and words for it.

    The limit binds the whole route. SINDy on the network's phi chooses its
    terms by force regression on these data, as force-SINDy just did, so
    force-SINDy's time (at most SINDY_SHARE of the limit) is kept back for it:
    on 4096 LJ atoms SINDy on phi took 24 s, and the route overran a 120 s
    limit by 22% when training had all of it.
    """
    if limit is None:
        return None, "no time limit"
    keep = min(sindy_seconds, SINDY_SHARE * limit)
    return limit - keep, (
        f"time limit {limit:g} s for the route: {limit - keep:.4g} s of training, "
        f"{keep:.3g} s kept for SINDy on its phi"
    )


def _route(fit: SparseFit, truth, seconds: float) -> dict:
    entry = {"fit": fit.to_json(), "seconds": seconds}
    if _species_of(fit):
        # One law per pair of types: each gets its own formula and constants.
        entry["pairs"] = {}
        for (a, b), phi in pair_potentials(fit, R).items():
            one = {"phi": sp.sstr(phi)} | _constants(_coefficients(phi))
            if isinstance(truth, dict) and f"{a}-{b}" in truth:
                cmp = compare(phi, truth[f"{a}-{b}"], (R,), terms=fit.library.terms)
                one |= {"max_relative_error": cmp.max_relative_error,
                        "same_support": cmp.same_support}  # fmt: skip
            entry["pairs"][f"{a}-{b}"] = one
        return entry
    if truth is not None:
        cmp = compare(fit, sp.expand(truth), (R,))
        entry |= {"max_relative_error": cmp.max_relative_error, "same_support": cmp.same_support}
    return entry | _constants(fit.coefficients)


#: The network route agrees with force-SINDy when it keeps the same terms and
#: sigma and epsilon (or every coefficient) within this (the issue's 0.5%).
AGREEMENT = 5e-3


def _agreement(reference: SparseFit, other: SparseFit) -> dict:
    """Whether ``other`` (the network's formula) is ``reference``'s (force-SINDy's):
    the same terms, and sigma and epsilon of a 12-6 form (else every
    coefficient) within AGREEMENT; said in words either way."""
    a = {t: v for t, v in reference.coefficients.items() if t.free_symbols}
    b = {t: v for t, v in other.coefficients.items() if t.free_symbols}
    same = set(a) == set(b)
    la, lb = _lennard_jones(a), _lennard_jones(b)
    if la is not None and lb is not None:
        errors = {k: abs(lb[k] / la[k] - 1) for k in ("sigma", "epsilon")}
    elif same:
        errors = {str(t): abs(b[t] / a[t] - 1) if a[t] else abs(b[t]) for t in a}
    else:
        errors = {}
    worst = max(errors.values(), default=float("inf"))
    agrees = same and worst <= AGREEMENT
    detail = ", ".join(f"{k} {v:.2g}" for k, v in errors.items())
    words = (
        f"the network's formula agrees with force-SINDy's (same terms; relative "
        f"differences {detail})"
        if agrees
        else "the network's formula DOES NOT agree with force-SINDy's ("
        + ("same terms" if same else f"terms {sorted(map(str, b))} against {sorted(map(str, a))}")
        + (f"; relative differences {detail}" if detail else "")
        + f"; the bar is {AGREEMENT:.1%}): trust force-SINDy's"
    )
    return {"agrees": agrees, "same_terms": same, "errors": errors, "words": words}


def _species_of(fit: SparseFit) -> bool:
    """Whether the fit is in the distances r_a_b of several species."""
    return any(x.name.startswith("r_") for x in fit.expression.free_symbols)


def _coefficients(phi: sp.Expr) -> dict:
    """{term: coefficient} of a sum of numbers times terms in r."""
    out = {}
    for t in sp.Add.make_args(sp.expand(phi)):
        c, rest = t.as_coeff_Mul()
        out[rest] = out.get(rest, 0.0) + float(c)
    return out


def _constants(coefficients: dict) -> dict:
    """sigma and epsilon of a 12-6 form, D, a and r0 of a Morse form."""
    out = {}
    lj = _lennard_jones(coefficients)
    if lj is not None:
        out["lennard_jones"] = lj
    well = morse_constants(coefficients)
    if well is not None:
        out["morse"] = well
    return out


#: A pair model whose relative residual is above this leaves the data
#: unexplained. Stored forces are exact to their rounding (binary files 1e-15,
#: text dumps of 6-10 digits 1e-6 to 1e-10) and trajectory observations of
#: velocity Verlet to 1e-15 (midpoint, second differences); a cutoff off by 10%
#: or a many-body potential leaves 1e-3 or more.
MD_RESIDUAL = 1e-4
#: The cutoffs tried when the residual is too large, as shares of the given one.
CUTOFF_SCAN = (0.8, 0.9, 1.1, 1.2)


#: A residual up to this many times what the file's digits alone leave
#: (:func:`resolution`) is the data's resolution, not a misfit.
RESOLUTION_FACTOR = 3.0


def resolution(traj) -> float:
    """The relative residual the data's rounding alone leaves a right model:
    of the stored forces, or of the positions' second differences (the
    observation between frames, m (q_{n+1} - 2 q_n + q_{n-1}), whose three
    rounded positions add 6 times their rounding's variance). Binary files
    give float64's 1e-16; LAMMPS's 6 digits about 1e-3."""
    if traj.forces is not None:
        F = traj.forces[traj.valid()]
        return float(np.sqrt(np.mean(rounding(F) ** 2)) / max(np.std(F), 1e-300))
    q = traj.q[0, : traj.sizes[0]]
    if q.shape[0] < 3:
        return 0.0
    m = np.ones(traj.dim) if traj.masses is None else np.asarray(traj.masses)
    second = m * (q[2:] - 2 * q[1:-1] + q[:-2])
    noise = m * np.sqrt(6.0) * rounding(q[1:-1])
    return float(np.sqrt(np.mean(noise**2)) / max(np.std(second), 1e-300))


#: The stored total energy moving by more than this share of the kinetic
#: energy's motion names a thermostat (NVE velocity Verlet: 4e-5; Langevin 1.6).
ENERGY_SWING = 0.05


def _md_verdict(traj, library, geometry, fit, description: dict, swing=None) -> dict:
    """Whether the pair model explains the data, and the likely cause when not:
    a cutoff other than the data's (the residual against the cutoff, scanned),
    a thermostat acting between the frames (from the .traj description, or
    the stored total energy's motion ``swing``, when no forces were stored),
    several species not told apart (different masses), else a many-body
    potential (the best pair model far above rounding)."""
    res = float(fit.residual)
    floor = resolution(traj)
    bar = max(MD_RESIDUAL, RESOLUTION_FACTOR * floor)
    out = {"adequate": res <= bar, "reasons": [], "causes": [], "residual": res,
           "resolution": floor, "cutoff_scan": {}}  # fmt: skip
    if out["adequate"]:
        return out
    out["reasons"].append(
        f"the best pair model leaves a relative residual of {res:.2g} (exact data leave "
        f"below {MD_RESIDUAL:g}; the file's digits alone would leave {floor:.2g})"
    )
    cutoff, box = geometry.cutoff, geometry.box
    if cutoff is not None:
        half = np.inf if box is None else 0.5 * float(np.min(box))
        for share in CUTOFF_SCAN:
            c = share * cutoff
            if c >= half:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                other = pair_force_sindy(traj, library, geometry=replace(geometry, cutoff=c))
            out["cutoff_scan"][f"{c:.6g}"] = float(other.residual)
        if out["cutoff_scan"]:
            best = min(out["cutoff_scan"], key=out["cutoff_scan"].get)
            if out["cutoff_scan"][best] < 0.1 * res:
                out["causes"].append("cutoff")
                out["reasons"].append(
                    f"a cutoff of {best} leaves {out['cutoff_scan'][best]:.2g}: the data's "
                    f"cutoff is not {cutoff:.6g}"
                )
    kinds = np.unique(np.round(np.asarray(traj.mass_array), 6))
    if len(kinds) > 1 and geometry.species is None:
        out["causes"].append("several species")
        out["reasons"].append(
            f"the atoms have {len(kinds)} masses ({', '.join(f'{m:g}' for m in kinds)}): "
            "one pair law for all of them cannot hold"
        )
    thermostat = description.get("type", "")
    named = thermostat in THERMOSTATS or "temperature_K" in description
    if traj.forces is None and not named and swing is not None and swing > ENERGY_SWING:
        out["causes"].append("thermostat")
        out["reasons"].append(
            f"the total energy the file stores moves by {swing:.2g} of the kinetic energy's "
            "own motion (velocity Verlet holds it to about 1e-4): energy enters and leaves, "
            "a thermostat acts between the frames; store the forces to match them"
        )
    if traj.forces is None and named:
        out["causes"].append("thermostat")
        out["reasons"].append(
            f"the run used a thermostat ({thermostat or 'a target temperature'}), whose "
            "forces act between the frames; store the forces in the file to match them"
        )
    if not out["causes"]:
        out["causes"].append("many-body")
        out["reasons"].append(
            "no other cutoff fits and the atoms are of one kind: the forces are not a sum "
            "over pairs (a many-body potential such as EMT or EAM)"
        )
    return out


#: Force components kept for the parity plot (spread over the frames).
PARITY_POINTS = 3000


def _parity(traj, fit: SparseFit, geometry) -> dict:
    """The fit's forces against the stored ones, or without stored forces
    against those the positions imply (each frame's mean force over the MD
    steps around it, :func:`~symhamil.sindy.between_frames.inferred_forces`):
    up to PARITY_POINTS components over up to 10 frames."""
    terms = list(fit.coefficients)
    symbols = species_symbols(geometry) if _species_of(fit) else R
    beta = np.array([fit.coefficients[t] for t in terms])
    if traj.forces is None:
        varying = Library(tuple(terms), symbols if isinstance(symbols, tuple) else (symbols,))
        lib = PairLibrary(tuple(terms), symbols, geometry)
        head = traj.points(0, min(traj.N + 1, 12))  # 10 interior frames at most
        reference, predicted = inferred_forces(head, varying, lib, beta, traj.md_steps)
        kind = "inferred"
    else:
        valid = traj.valid()
        frames = np.argwhere(valid)
        pick = frames[:: max(1, len(frames) // 10)][:10]  # at most 10 frames
        if not terms:
            predicted = np.zeros((len(pick), traj.dim))
        else:
            lib = PairLibrary(tuple(terms), symbols, geometry)
            predicted = -lib.gradient(traj.q[pick[:, 0], pick[:, 1]]) @ beta
        reference = traj.forces[pick[:, 0], pick[:, 1]]
        kind = "stored"
    step = max(1, reference.size // PARITY_POINTS)
    return {"reference": reference.reshape(-1)[::step].tolist(),
            "predicted": predicted.reshape(-1)[::step].tolist(), "kind": kind}  # fmt: skip


#: ASE's MD integrators that are thermostats (their description's ``type``).
THERMOSTATS = frozenset({"Langevin", "NVTBerendsen", "Andersen", "Bussi", "NoseHooverChainNVT",
                         "NPTBerendsen", "NPT", "Nose-Hoover"})  # fmt: skip


#: Time units ``--timestep`` takes, in ASE's time unit (ase.units: 1 fs =
#: 0.0982 ASE units; the ASE unit is 10.18 fs).
TIME_UNITS = {"fs": 0.09822694788464063, "ps": 98.22694788464063, "ns": 98226.94788464063,
              "as": 9.822694788464063e-05}  # fmt: skip


def units_of(style: str | None) -> dict:
    """The units of r, phi, t and masses of data read in LAMMPS ``style``: ASE's
    (metal and real dumps are converted to them), or LJ's own."""
    if style == "lj":
        return {"r": "sigma", "phi": "epsilon", "t": "tau", "m": "m (LJ)"}
    return {"r": "angstrom", "phi": "eV", "t": "ASE's time unit (10.18 fs)", "m": "amu"}


def parse_timestep(text: str, units: str | None = None) -> float:
    """``"2fs"``, ``"0.5 ps"`` -> the MD step in the trajectories' time unit
    (ASE's; tau in LJ units). A bare number is read in the time unit of
    ``units`` (metal ps, real fs, lj tau, ase ASE's) and refused without it,
    since a femtosecond read as ASE's unit is 10 times off."""
    match = re.fullmatch(r"\s*([0-9.eE+-]+)\s*([a-z]*)\s*", str(text))
    try:
        value = float(match.group(1)) if match else float("nan")
    except ValueError:
        value = float("nan")
    unit = match.group(2) if match else None
    if units == "lj" and unit in ("", "tau") and np.isfinite(value) and value > 0:
        return value  # LJ time is tau, and stays so
    if unit == "" and units in ("metal", "real", "ase") and np.isfinite(value) and value > 0:
        return to_internal_time(value, units)
    if np.isfinite(value) and value <= 0:
        raise ValueError(f"--timestep {text!r}: the MD step must be > 0.")
    if unit == "" and units is None and np.isfinite(value):
        raise ValueError(
            f"--timestep {text!r}: a bare number needs --units (lj, metal, real or ase) to "
            "say its time unit; or give the unit, e.g. --timestep 2fs (or --h, the time "
            "between frames in ASE's unit, 10.18 fs)."
        )
    if units == "lj" or unit not in TIME_UNITS or not np.isfinite(value):
        allowed = "as a number in tau (or 0.005tau)" if units == "lj" else (
            f"with its unit, one of {', '.join(TIME_UNITS)}, e.g. --timestep 2fs"
        )  # fmt: skip
        raise ValueError(f"--timestep {text!r}: give the MD step {allowed}.")
    return value * TIME_UNITS[unit]


def _mass_request(masses) -> float | dict | None:
    """``--masses`` for an MD file: one number for every atom, or type=mass items."""
    if masses is None:
        return None
    items = [str(m) for m in masses]
    if len(items) == 1 and "=" not in items[0]:
        return float(items[0])
    out = {}
    for item in items:
        kind, sep, value = item.partition("=")
        try:
            out[kind.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not kind.strip():
            raise ValueError(
                f"--masses {item!r}: for an MD file give type=mass items (amu), e.g. "
                "--masses 1=39.948 2=83.8, or one mass for every atom."
            )
    return out


def _summary(fit: SparseFit, entry: dict) -> str:
    """One line under a route's formula: how it was fitted, its relative
    residual (of the forces, for force matching), the constants of a
    recognised form, and the comparison with a given truth."""
    parts = [fit.method, f"relative residual {fit.residual:.2g}"]
    parts += _constant_words(entry)
    for ab, one in entry.get("pairs", {}).items():
        phi = parse_formula(one["phi"], (R,), "a pair law")
        shown = phi.xreplace({c: sp.Float(c, 6) for c in phi.atoms(sp.Float)})
        parts.append(f"pair {ab}: phi = {sp.sstr(shown)}"
                     + "".join(", " + w for w in _constant_words(one))
                     + "".join(", " + w for w in _truth_words(one)))  # fmt: skip
    parts += _truth_words(entry)
    return "; ".join(parts)


def _truth_words(entry: dict) -> list[str]:
    if "same_support" not in entry:
        return []
    return [
        f"against the truth: same terms {'yes' if entry['same_support'] else 'NO'}, "
        f"largest coefficient error {entry['max_relative_error']:.2g}"
    ]


def _constant_words(entry: dict) -> list[str]:
    out = []
    lj = entry.get("lennard_jones")
    if lj is not None:
        out.append(f"12-6: sigma = {lj['sigma']:.6g}, epsilon = {lj['epsilon']:.6g}")
    well = entry.get("morse")
    if well is not None:
        out.append(f"Morse: D = {well['D']:.6g}, a = {well['a']:.6g}, r0 = {well['r0']:.6g}")
    return out


def _lennard_jones(coefficients: dict) -> dict | None:
    """sigma and epsilon when the coefficients are exactly a 12-6 potential's."""
    c = {t: v for t, v in coefficients.items() if t.free_symbols}
    if set(c) != {R**-12, R**-6} or c[R**-12] <= 0 or c[R**-6] >= 0:
        return None
    c12, c6 = c[R**-12], c[R**-6]
    return {"sigma": (c12 / -c6) ** (1 / 6), "epsilon": c6**2 / (4 * c12)}


def morse_constants(coefficients: dict) -> dict | None:
    """D, a and r0 when the fit is exactly c2 exp(-2 a r) + c1 exp(-a r) with
    c2 > 0 > c1: the Morse well D (exp(-2 a (r - r0)) - 2 exp(-a (r - r0))), so
    D = c1^2 / (4 c2) and r0 = log(-2 c2 / c1) / a. The library fixes a (its
    two exponentials, one with twice the other's rate). ``coefficients``:
    {term in r: coefficient}, a fit's."""
    c = {t: v for t, v in coefficients.items() if t.free_symbols}
    rates = {}
    for t in c:
        if not isinstance(t, sp.exp):
            return None
        rate = -sp.diff(t.args[0], R)
        if not (rate.is_number and t.args[0].is_polynomial(R) and sp.degree(t.args[0], R) == 1):
            return None
        if t.args[0].subs(R, 0) != 0 or not float(rate) > 0:
            return None
        rates[t] = float(rate)
    if len(rates) != 2:
        return None
    (slow, a), (fast, a2) = sorted(rates.items(), key=lambda kv: kv[1])
    if not np.isclose(a2, 2 * a, rtol=1e-12):
        return None
    c1, c2 = c[slow], c[fast]
    if not (c2 > 0 > c1):
        return None
    D = c1**2 / (4 * c2)
    return {"D": float(D), "a": float(a), "r0": float(np.log(-2 * c2 / c1) / a)}


def render_pairs(out: str | Path, compile: bool = True) -> tuple[Path, Path | None, str]:
    """The figure and report.tex (and the PDF) from ``out/results.json`` alone.

    The results may come from someone else: they are checked field by field
    first, and any fault is a ValueError naming the file.
    """
    out = Path(out)
    results = read_document(out / "results.json", PAIRS_SCHEMA, "symhamil learn pairs")
    try:
        return _render_pairs(results, out, compile)
    except LOAD_ERRORS as exc:
        raise ValueError(f"{out / 'results.json'}: {describe(exc)}") from None


#: What render_pairs reads from results.json.
PAIRS_SCHEMA = {
    "kind": Text(40),
    "settings": {"data": Text(4_096)},
    "data": {
        "frames": Number(lo=2, whole=True),
        "particles": Number(lo=2, whole=True),
        "h": Number(lo=0),
        "md_steps?": Optional(Number(lo=1, whole=True)),
        "units?": {"r": Text(40), "phi": Text(40), "t": Text(60), "m": Text(40)},
        "box": Optional([Number(lo=0)]),
        "cutoff": Optional(Number(lo=0)),
        "momenta": bool,
        "r_range": [Number(lo=0)],
        "histogram": {"counts": [Number(lo=0)], "edges": [float]},
    },
    "library": [Text(10_000)],
    "truth?": Optional(Text(10_000)),
    "routes": Mapping(
        {
            "fit": dict,
            "seconds": Number(lo=0),
            "training?": Text(2_000),
            "training_seconds?": Number(lo=0),
            "lennard_jones?": {"sigma": float, "epsilon": float},
            "morse?": {"D": float, "a": float, "r0": float},
            "pairs?": Mapping(
                {
                    "phi": Text(10_000),
                    "lennard_jones?": {"sigma": float, "epsilon": float},
                    "morse?": {"D": float, "a": float, "r0": float},
                    "same_support?": bool,
                    "max_relative_error?": Number(nan=True, inf=True),
                }
            ),
            "same_support?": bool,
            "max_relative_error?": Number(nan=True, inf=True),
            "assessment?": {"adequate": bool, "reasons": [Text(2_000)], "causes": [Text(100)]},
            "parity?": {"reference": [Number()], "predicted": [Number()], "kind?": Text(20)},
            "agreement?": {"agrees": bool, "same_terms": bool, "words": Text(2_000)},
            "rerun?": {
                "trajectory_error": Number(lo=0, inf=True),
                "rdf_difference": Number(lo=0),
                "agrees": bool,
                "rdf_t?": Optional(Number(lo=0, inf=True)),
                "rdf_bar?": Optional(Number(lo=0, inf=True)),
                "rdf_agrees?": Optional(bool),
            },
        },
        keys=frozenset(ROUTES),
    ),
}


def _render_pairs(results: dict, out: Path, compile: bool):

    data, esc = results["data"], tex_escape
    if len(data["r_range"]) != 2 or data["r_range"][0] > data["r_range"][1]:
        raise ValueError("data.r_range must be [smallest, largest] pair distance")
    fits = {k: SparseFit.from_json(v["fit"]) for k, v in results["routes"].items()}
    lo, hi = data["r_range"]
    units = data.get("units") or units_of(None)  # results of 0.1 were in ASE's units
    r = np.linspace(lo - 0.05 * (hi - lo), hi + 0.1 * (hi - lo), 500)
    curves = []
    truth = parse_truth(results["truth"]) if results.get("truth") else None
    if isinstance(truth, dict):
        for ab, phi in truth.items():
            curves.append((f"true, pair {ab}", _values(phi, r), {"color": "k", "lw": 1}))
    elif truth is not None:
        curves.append(("true", _values(truth, r), {"color": "k", "lw": 1}))
    for k, fit in fits.items():
        if _species_of(fit):
            for (a, b), phi in pair_potentials(fit, R).items():
                curves.append((f"{ROUTES[k]}, pair {a}-{b}", _values(phi, r), {"ls": "--"}))
        else:
            curves.append((ROUTES[k], _values(fit.expression, r), {"ls": "--"}))
    plt = pyplot()
    fig, (ax, hax) = plt.subplots(2, 1, figsize=(6.4, 5.2), sharex=True,
                                  gridspec_kw={"height_ratios": [3, 1.2]})  # fmt: skip
    hist = data["histogram"]
    draw_pair_potential(ax, hax, r, curves, (np.array(hist["counts"]), np.array(hist["edges"])),
                        data["cutoff"])  # fmt: skip
    save_figure(fig, out / "figures", "pair_potential")
    parity = results["routes"].get("pair_force_sindy", {}).get("parity")
    if parity is not None:
        ref, pred = np.array(parity["reference"]), np.array(parity["predicted"])
        if ref.shape != pred.shape:
            raise ValueError("the parity plot's reference and predicted forces differ in length")
        fig, ax = plt.subplots(figsize=(4.6, 4.4))
        ax.plot(ref, pred, ".", ms=2, alpha=0.5)
        span = [min(ref.min(initial=0), pred.min(initial=0)), max(ref.max(initial=0),
                                                                 pred.max(initial=0))]  # fmt: skip
        ax.plot(span, span, "k-", lw=0.8)
        inferred = parity.get("kind") == "inferred"
        ax.set_xlabel("force component " + ("the positions imply" if inferred else "stored"))
        ax.set_ylabel("pair force-SINDy's force")
        save_figure(fig, out / "figures", "force_parity")
    lines = [
        r"\documentclass[10pt]{article}",
        r"\usepackage[margin=2cm]{geometry}",
        r"\usepackage{amsmath,graphicx}",
        r"\title{symhamil: a pair potential learned from "
        + esc(Path(results["settings"]["data"]).name) + "}",
        r"\date{}",
        r"\begin{document}",
        r"\maketitle",
        r"\section*{Data}",
        esc(f"{data['frames']} frames of {data['particles']} atoms, h = {data['h']:.5g} "
            + ("tau" if units["t"] == "tau" else
               f"ASE time units ({data['h'] / TIME_UNITS['fs']:.4g} fs)")
            + ("" if not data.get("md_steps") else f" ({data['md_steps']} MD steps)")
            + f", periodic box {data['box']}, cutoff {data['cutoff']}, "
            f"{'momenta' if data['momenta'] else 'positions only'}; pair distances seen from "
            f"{lo:.4g} to {hi:.4g}.") + r"\\",
        esc(f"Units: r and the box in {units['r']}, phi in {units['phi']}, forces in "
            f"{units['phi']}/{units['r']}, t in {units['t']}, masses in {units['m']}.")
        + r"\\",
        "Library: " + esc(", ".join(results["library"])) + ".",
    ]  # fmt: skip
    if isinstance(truth, dict):
        lines.append(
            "True pair potentials: "
            + "; ".join(f"{esc(ab)}: $\\phi(r) = {sp.latex(phi)}$" for ab, phi in truth.items())
            + "."
        )
    elif truth is not None:
        lines.append(r"True pair potential: $\phi(r) = " + sp.latex(truth) + "$.")
    lines.append(r"\section*{Results}")
    for k, entry in results["routes"].items():
        fit = fits[k]
        lines.append(r"\subsection*{" + esc(ROUTES[k]) + "}")
        body = [r"$\hat\phi(r) = " + fit.latex() + "$",
                "Method: " + esc(fit.method) + f". Time: {entry['seconds']:.1f} s."]  # fmt: skip
        if "training" in entry:
            body.append("Training: " + esc(entry["training"]) + ".")
        if "lennard_jones" in entry:
            lj = entry["lennard_jones"]
            body.append(f"As Lennard-Jones: $\\sigma = {lj['sigma']:.6g}$, "
                        f"$\\epsilon = {lj['epsilon']:.6g}$.")  # fmt: skip
        if "morse" in entry:
            well = entry["morse"]
            body.append(f"As Morse: $D = {well['D']:.6g}$, $a = {well['a']:.6g}$, "
                        f"$r_0 = {well['r0']:.6g}$.")  # fmt: skip
        for ab, one in entry.get("pairs", {}).items():
            phi = parse_formula(one["phi"], (R,), "a pair law")
            body.append(f"Pair {esc(ab)}: $\\phi(r) = {sp.latex(phi)}$"
                        + "".join("; " + esc(w) for w in _constant_words(one))
                        + "".join("; " + esc(w) for w in _truth_words(one)) + ".")  # fmt: skip
        if "agreement" in entry:
            body.append(esc(entry["agreement"]["words"]) + ".")
        if "rerun" in entry:
            rr = entry["rerun"]
            body.append(esc("Re-run with ASE from the first frame: " + _rerun_words(rr) + "."))
        if "assessment" in entry:
            a = entry["assessment"]
            body.append(r"\textbf{Verdict:} " + esc(verdict(a["adequate"], a["reasons"])) + ".")
        if "max_relative_error" in entry:
            body.append(f"Against the truth: same terms: "
                        f"{'yes' if entry['same_support'] else 'no'}; largest relative "
                        f"coefficient error {entry['max_relative_error']:.3g}.")  # fmt: skip
        lines.append(" \\\\\n".join(body))
    lines += [
        r"\begin{figure}[h]\centering\includegraphics[width=0.75\textwidth]"
        r"{figures/pair_potential.pdf}\caption{The recovered pair potentials against the truth "
        r"(shifted to agree over the data); shaded: the range of pair distances in the data, "
        r"whose histogram is below; dotted: the cutoff.}\end{figure}",
    ]
    if parity is not None:
        lines.append(
            r"\begin{figure}[h]\centering\includegraphics[width=0.5\textwidth]"
            r"{figures/force_parity.pdf}\caption{Force parity: pair force-SINDy's forces "
            + (
                r"against those the positions imply (each frame's mean force over the MD "
                r"steps around it, from the frames' second differences)"
                if parity.get("kind") == "inferred"
                else r"against the forces the file stores"
            )
            + r" (components of up to ten frames); on the diagonal when the pair model "
            r"holds.}\end{figure}"
        )
    lines.append(r"\end{document}")
    tex = write_text(out / "report.tex", "\n\n".join(lines))
    if not compile:
        return tex, None, f"wrote {tex}"
    return (tex, *build_pdf(tex))


def _values(expr, r: np.ndarray) -> np.ndarray:
    f = sp.lambdify(R, expr, "numpy")
    with np.errstate(all="ignore"):
        return np.broadcast_to(np.asarray(f(r), dtype=float), r.shape).copy()
