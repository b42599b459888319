"""``symhamil learn``: one's own measured data to a formula, error bars, rollouts and a report.

An application on top of the library, like :mod:`symhamil.apps.paper`; the library
never imports it. :func:`learn` reads a delimited text file, cuts it into
regular pieces, estimates the noise, and runs

* force-SINDy with the data's defaults (the weak form, cross-validation,
  shooting and a bootstrap on noisy data),
* force-SINDy on the pair (strong) form - midpoint, or second differences
  without momenta - with cross-validation, for comparison,
* the network route (a :class:`~symhamil.neural.NeuralPotential` trained with
  the loss the data call for, then SINDy on it with the support chosen by the
  data), unless switched off,

rolls each result out from every piece's first state, and writes
``results.json``, figures and ``report.tex`` (and the PDF where LaTeX is
installed) to the output folder. Every input is checked before any work.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import sympy as sp

from ..base.files import real_folder, write_json
from ..base.parsing import parse_formula
from ..data.samples import SamplingWarning
from ..interpret.assess import assess
from ..interpret.compare import compare
from ..interpret.rollout import rollout
from ..learning.planning import plan
from ..readers.tables import read_csv
from ..sindy import (
    LibraryWarning,
    Selection,
    SparseFit,
    force_sindy,
    friction_library,
    sindy,
)
from .common import check_request, claim_folder, parse_columns, parse_friction, parse_library
from .learn_report import read_learn_results, render_learn

__all__ = [
    "LearnSettings",
    "check_request",
    "claim_folder",
    "learn",
    "parse_columns",
    "parse_library",
    "read_learn_results",
    "render_learn",
]


@dataclass(frozen=True)
class LearnSettings:
    """What ``symhamil learn`` was asked to do (stored in results.json)."""

    data: str
    columns: dict
    library: str | None = None
    degree: int = 4
    masses: tuple[float | str, ...] | None = None
    network: bool = True
    bootstrap: int = 100
    truth: str | None = None
    seed: int = 0
    time_limit: float | None = 600.0
    overwrite: bool = False
    rtol: float = 0.01
    max_gap: int | None = None
    friction: str | None = None

    def __post_init__(self) -> None:
        check_request(self)


def learn(settings: LearnSettings, out: str | Path, *, report: bool = True, say=print) -> dict:
    """Run the whole job; returns the results as written to ``out/results.json``.

    The data's plan (noise, time scale, observations) is made once here and
    passed to every route and rollout.
    """
    out = Path(out)
    t0 = time.perf_counter()
    traj, lib, truth, drag, masses = _read(settings, out, say)
    how = plan(traj)
    say(f"noise: {how.noise}")
    real_folder(out)
    if settings.network:  # both inside --out, neither a link
        real_folder(out, "network")
        real_folder(out, "model")
    routes, fits, notes, model = _fit_routes(traj, lib, how, settings, out, drag, masses)
    verdicts = {}
    for name, fit in fits.items():
        routes[name]["fit"] = fit.to_json()
        a = assess(fit, traj, plan=how)  # its rollouts are the ones reported
        routes[name]["rollout"] = _rollout_json(a.rollout)
        verdicts[name] = a
        routes[name]["assessment"] = a.to_json()
        if truth is not None:
            cmp = compare(fit.expression, truth, traj.coords)
            routes[name]["same_support"] = bool(cmp.same_support)
            routes[name]["max_relative_error"] = float(cmp.max_relative_error)
    _against_force_sindy(verdicts, routes)
    ranking = rank(verdicts)
    _say_routes(ranking, fits, verdicts, say)
    if model is not None:
        routes["network"]["network_rollout"] = _rollout_json(rollout(model, traj, plan=how))
    results = {
        "kind": "symhamil learn",
        "settings": {k: v for k, v in settings.__dict__.items()},
        "data": _data_json(traj, how.noise),
        "library": [sp.sstr(t) for t in lib.terms],
        "friction": None if drag is None else [sp.sstr(t) for t in drag.terms],
        "truth": None if truth is None else sp.sstr(truth),
        "notes": notes,
        "routes": routes,
        "ranking": ranking,
        "seconds": time.perf_counter() - t0,
    }
    write_json(out / "results.json", results)
    traj.save(out / "data.npz")
    say(f"wrote {out / 'results.json'}")
    if report:
        say(render_learn(out)[2])
    return results


#: A route whose rollouts are this many times worse than force-SINDy's failed.
WORSE = 100.0


def _against_force_sindy(verdicts: dict, routes: dict) -> None:
    """Flag a route whose rollouts are orders of magnitude worse than
    force-SINDy's on the same data (a network trained in units far from 1 can
    land on an upside-down well without any check of its own failing)."""
    if "force_sindy" not in verdicts:
        return
    ref = verdicts["force_sindy"].rollout.rms
    for name, assessment in list(verdicts.items()):
        if name == "force_sindy" or not np.isfinite(ref) or ref <= 0:
            continue
        rms = assessment.rollout.rms
        ratio = rms / ref if np.isfinite(rms) else np.inf
        if ratio > WORSE:
            reason = (
                f"its rollouts are {ratio:.3g} times further from the data than "
                "force-SINDy's (RMS over whole pieces)"
            )
            worse = replace(assessment, adequate=False, reasons=(*assessment.reasons, reason))
            verdicts[name] = worse
            routes[name]["assessment"] = worse.to_json()


def rank(verdicts: dict) -> list[str]:
    """The routes, best first: adequate before not, then by the rollouts' RMS
    error over whole pieces (a route whose rollout is not finite last): over the
    first time scale every route that is nearly right sits at the noise."""

    def key(name):
        err = verdicts[name].rollout.rms
        return (not verdicts[name].adequate, err if np.isfinite(err) else np.inf)

    return sorted(verdicts, key=key)


def _say_routes(ranking, fits, verdicts, say) -> None:
    """Each route's formula and verdict in the terminal, best first.

    A route that does not explain the data while another does is printed as
    failed, not as an alternative answer; when none does, the data hold more
    than a potential, and the line says what the evidence points to.
    """
    best = ranking[0]
    any_adequate = verdicts[best].adequate
    for name in ranking:
        fit, assessment = fits[name], verdicts[name]
        if assessment.adequate:
            label = "answer" if name == best else "also adequate"
        else:
            label = "FAILED" if any_adequate else "not adequate"
        drag = ""
        if fit.friction_library is not None:
            drag = f", R = {sp.sstr(fit.rounded_friction())}"
        if fit.masses is not None:
            drag += ", masses " + ", ".join(
                f"{m:.6g}" + (f" +- {e:.2g}" if e else "")
                for m, e in zip(fit.masses, fit.masses_stderr, strict=True)
            )
        say(f"{name} ({label}): V = {sp.sstr(fit.rounded())}{drag}  [{fit.method}]")
        say(f"  {assessment}")
    if not any_adequate:
        causes = sorted({c for a in verdicts.values() for c in a.causes})
        hint = f" (likely: {', '.join(causes)})" if causes else ""
        say(
            "no route explains the data to within their noise" + hint + "; the formulas are "
            f"the best potentials in the library, and {best} leads."
        )


def _read(settings: LearnSettings, out: Path, say):
    """The data, library and truth; everything that can be wrong with the input
    fails here, before any work."""
    cols = settings.columns
    claim_folder(out, "symhamil learn", settings.overwrite)
    with warnings.catch_warnings():
        # The data's plan says it again, with what it does about it (learns from
        # the positions); the sampling report printed below keeps the ratio.
        warnings.filterwarnings("ignore", "the measured momenta disagree", SamplingWarning)
        traj = read_csv(
            settings.data,
            t=cols.get("t", "t"),
            q=cols["q"],
            p=cols.get("p"),
            v=cols.get("v"),
            trajectory=cols.get("trajectory"),
            masses=None if _fitted(settings.masses) else settings.masses,
            rtol=settings.rtol,
            max_gap=settings.max_gap,
        )
    lib = parse_library(settings.library, traj.coords, settings.degree)
    drag = parse_friction(settings.friction, traj.coords)
    masses = _mass_request(settings.masses, traj)
    if drag is not None:
        drag = friction_library(drag, traj)  # refused now if it is no friction
    truth = None
    if settings.truth is not None:
        truth = parse_formula(settings.truth, traj.coords, "true potential")
    if int(traj.sizes.max()) < 8:
        report = str(traj.sampling).replace("\n", "; ")
        raise ValueError(
            f"the longest regular piece has {int(traj.sizes.max())} samples, fewer than 8: "
            f"nothing to learn ({report}). Steps that differ from h by more than --rtol "
            f"({settings.rtol:g} of h) cut the data, and gaps of more than --max-gap lost "
            "samples too; raise them if the clock is regular."
        )
    say(f"read {settings.data}: {traj.sampling}".replace("\n", "\n  "))
    renamed = [f"{c!r} as {n}" for c, n in zip(cols["q"], traj.names, strict=True) if c != n]
    if renamed:
        say(f"columns named in formulas: {', '.join(renamed)}")
    if drag is not None:
        shown = ", ".join(
            f"{c} -> {m}" for c, m in zip(traj.names, traj.momentum_symbols, strict=True)
        )
        say(f"friction terms in the momenta ({shown}): {', '.join(map(str, drag.terms))}")
    if masses is not None:
        say(f"masses: {', '.join(f'{n} {m}' for n, m in masses.items())} (the rest fitted)")
    return traj, lib, truth, drag, masses


def _fitted(masses) -> bool:
    """Whether ``--masses`` asks for masses to be fitted (type=mass items are an
    MD file's, refused here)."""
    if masses is None:
        return False
    strange = [m for m in masses if isinstance(m, str) and m != "fit"]
    if strange:
        raise ValueError(
            f"--masses {strange[0]!r}: type=mass items are for molecular-dynamics files; "
            "for a CSV give one mass per coordinate, a number or 'fit'."
        )
    return any(m == "fit" for m in masses)


def _mass_request(masses, traj):
    """``--masses`` with "fit" as force-SINDy's dict of the masses given (the
    others fitted); None when every mass is given or none is."""
    if not _fitted(masses):
        return None
    if len(masses) == 1:
        masses = (1.0,) + ("fit",) * (traj.dim - 1)
    if len(masses) != traj.dim:
        raise ValueError(
            f"--masses gives {len(masses)} values for {traj.dim} coordinates "
            f"({', '.join(traj.names)}); give one per coordinate, a number or 'fit'."
        )
    given = {n: float(m) for n, m in zip(traj.names, masses, strict=True) if m != "fit"}
    bad = [f"{n} = {m}" for n, m in given.items() if not (np.isfinite(m) and m > 0)]
    if bad:
        raise ValueError(f"masses must be finite and > 0; got {', '.join(bad)}.")
    if not given or traj.dim == 1:
        raise ValueError(
            "--masses must give at least one mass (a number) to set the scale of V, and fit "
            "the others; with one coordinate there is no ratio to fit."
        )
    return given


def _fit_routes(traj, lib, how, settings: LearnSettings, out: Path, drag=None, masses=None):
    """Force-SINDy (the default), the strong form with cross-validation, and the network
    route when asked for: (routes, fits, notes, model). With a friction library
    ``drag``, the force-SINDy routes fit it with the potential; with ``masses``
    (the ones given, by name), they fit the others, and the network trains at
    force-SINDy's masses."""
    routes: dict[str, dict] = {}
    fits: dict[str, SparseFit] = {}
    if masses is not None:  # learned from the positions: the plan of the positions
        how = plan(traj.positions_only)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", LibraryWarning)
        tic = time.perf_counter()
        fits["force_sindy"] = force_sindy(
            traj,
            lib,
            plan=how,
            bootstrap=settings.bootstrap,
            seed=settings.seed,
            friction=drag,
            masses=masses,
        )
        routes["force_sindy"] = {"seconds": time.perf_counter() - tic}
        tic = time.perf_counter()
        strong = "midpoint" if how.observed(traj).has_momenta else "verlet"
        fits["strong_form"] = force_sindy(
            traj,
            lib,
            plan=how.replace(kind=strong, window=None, smooth=None),
            selection=Selection(rule="cv"),
            refine=False,
            friction=drag,
            masses=masses,
        )
        routes["strong_form"] = {"seconds": time.perf_counter() - tic}
    notes = sorted({str(w.message) for w in caught})
    model = None
    if settings.network:
        from ..neural import NeuralPotential  # TensorFlow, only for this route

        tic = time.perf_counter()
        if masses is not None:  # at the masses force-SINDy fitted, from the positions
            traj = replace(traj.positions_only, masses=fits["force_sindy"].masses)
            how = plan(traj)
        # With a friction library, the network learns V and a sparse R is
        # chosen from what V leaves.
        model = NeuralPotential(dim=traj.dim, seed=settings.seed).fit(
            traj,
            time_limit=settings.time_limit,
            checkpoint_dir=out / "network",
            verbose=False,
            plan=how,
            friction=drag,
        )
        # Not into the checkpoint folder: its config.json is what a rerun resumes by.
        model.save(out / "model")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LibraryWarning)
            fits["network"] = sindy(model, lib, traj, data=traj, plan=how)
        if drag is not None:  # a trained V plus the sparse R chosen from its residual
            fits["network"] = fits["network"].replace(
                friction_coefficients=model.friction_coefficients_,
                friction_library=drag,
                method=fits["network"].method + "; friction from the network's residual",
            )
        if masses is not None:  # its V is in the units of the masses it trained at
            ref = fits["force_sindy"]
            fits["network"] = fits["network"].replace(
                masses=ref.masses, masses_stderr=ref.masses_stderr
            )
        routes["network"] = {
            "seconds": time.perf_counter() - tic,
            "training": model.spec_.describe()
            + ("" if model.scaling_.is_identity else "; " + model.scaling_.describe(traj.names)),
            "final_loss": float(model.loss_),
        }
    return routes, fits, notes, model


def _data_json(traj, noise) -> dict:
    return {
        "coordinates": list(traj.names),
        "momenta": traj.has_momenta,
        "pieces": traj.R,
        "lengths": traj.sizes.tolist(),
        "h": traj.h,
        "sampling": str(traj.sampling),
        "noise_q": noise.q.tolist(),
        "noise_q_fraction": noise.q_fraction.tolist(),
        "noise_p": None if noise.p is None else noise.p.tolist(),
        "noise_p_fraction": None if noise.p_fraction is None else noise.p_fraction.tolist(),
        "velocity_ratio": None
        if traj.sampling.velocity_ratio is None
        else list(traj.sampling.velocity_ratio),
        "q_range": [
            traj.positions().min(axis=0).tolist(),
            traj.positions().max(axis=0).tolist(),
        ],
        # Central potentials are drawn against r = |q|.
        "r_range": None if traj.dim < 2 else [
            float(np.linalg.norm(traj.positions(), axis=1).min()),
            float(np.linalg.norm(traj.positions(), axis=1).max()),
        ],
    }  # fmt: skip


def _rollout_json(ro) -> dict:
    # The error curve of every piece, thinned to at most 400 points per piece.
    step = max(1, ro.t.shape[1] // 400)
    return {
        "rms": ro.rms,
        "rms_horizon": ro.rms_horizon,
        "horizon": ro.horizon,
        "t": ro.t[0, ::step].tolist(),
        "error": np.where(np.isnan(ro.error), -1.0, ro.error)[:, ::step].tolist(),
    }


# ---------------------------------------------------------------- figures and report
