"""``symhamil learn``: one's own measured data to a formula, error bars, rollouts and a report.

An application on top of the library, like :mod:`symhamil.apps.paper`; the library
never imports it. :func:`learn` reads a delimited text file, cuts it into
regular pieces, estimates the noise, and runs

* force-SINDy with the data's defaults (the weak form, BIC, shooting and a
  bootstrap on noisy data),
* force-SINDy on the pair (strong) form - midpoint, or second differences
  without momenta - with BIC, for comparison,
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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sympy as sp

from ..base.checks import positive_number, whole_number
from ..base.files import LOAD_ERRORS, describe, real_folder, write_json, write_text
from ..base.parsing import MAX_FORMULA, is_plain_name, parse_formula
from ..base.schema import Mapping, Number, Optional, Text, read_document
from ..data.noise import noise_level
from ..interpret.compare import compare
from ..interpret.rollout import rollout
from ..readers.tables import read_csv
from ..report.latex import build_pdf, tex_escape
from ..report.plots import draw_path, pyplot, save_figure
from ..sindy import (
    MAX_BOOTSTRAP,
    SOURCE_FIELDS,
    Library,
    LibraryWarning,
    SparseFit,
    check_seed,
    force_sindy,
    sindy,
)
from ..systems.potentials import as_potential

__all__ = [
    "LearnSettings",
    "claim_folder",
    "learn",
    "parse_columns",
    "parse_library",
    "read_learn_results",
    "render_learn",
]

#: Keys of ``--columns``.
COLUMN_KEYS = ("t", "q", "p", "v", "trajectory")


def parse_columns(text: str) -> dict:
    """``"t=time q=x,y v=vx,vy trajectory=run"`` -> {"t": "time", "q": ["x", "y"], ...}."""
    out: dict = {}
    for item in text.replace(";", " ").split():
        key, sep, value = item.partition("=")
        if not sep or not value:
            raise ValueError(
                f"--columns: {item!r} is not KEY=COLUMN; write e.g. "
                "'t=time q=angle v=omega' (keys: " + ", ".join(COLUMN_KEYS) + ")."
            )
        if key not in COLUMN_KEYS:
            raise ValueError(f"--columns: unknown key {key!r}; known: {', '.join(COLUMN_KEYS)}.")
        if key in out:
            raise ValueError(
                f"--columns: {key}= is given twice; list the columns once: {key}=a,b."
            )
        cols = [c for c in value.split(",") if c]
        if key not in ("q", "p", "v") and len(cols) != 1:
            raise ValueError(f"--columns: {key}= takes one column; got {', '.join(cols)}.")
        out[key] = cols if key in ("q", "p", "v") else cols[0]
    if "q" not in out:
        raise ValueError("--columns must name the positions, e.g. q=x or q=x,y.")
    if "p" in out and "v" in out:
        raise ValueError("--columns: give momenta (p=...) or velocities (v=...), not both.")
    return out


def _split_top(text: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def parse_library(text: str | None, symbols, degree: int = 4) -> Library:
    """Library terms from text (``"1, cos(q), q**2"``), or polynomials to ``degree``."""
    if text is None:
        return Library.polynomial(tuple(symbols), degree)
    terms = [parse_formula(t, tuple(symbols), "library term") for t in _split_top(text)]
    return Library(tuple(terms), tuple(symbols))


@dataclass(frozen=True)
class LearnSettings:
    """What ``symhamil learn`` was asked to do (stored in results.json)."""

    data: str
    columns: dict
    library: str | None = None
    degree: int = 4
    masses: tuple[float, ...] | None = None
    network: bool = True
    bootstrap: int = 100
    truth: str | None = None
    seed: int = 0
    time_limit: float | None = 600.0
    overwrite: bool = False

    def __post_init__(self) -> None:
        check_request(self)


#: The largest polynomial degree of the default library.
MAX_DEGREE = 12

#: What a ``symhamil learn`` folder holds; a folder with other things in it is
#: someone's own, and is refused unless ``overwrite`` is asked for.
LEARN_FILES = frozenset(
    {"results.json", "data.npz", "report.tex", "report.pdf", "report.log", "figures", "network",
     "model"}
)  # fmt: skip


def check_request(settings) -> None:
    """The checks every setting of a learn run gets before any work (API and CLI alike)."""
    check_seed(settings.seed, "the seed")
    positive_number(settings.time_limit, "the time limit (seconds)", allow_none=True)
    for name in ("library", "truth"):
        text = getattr(settings, name)
        if text is not None and not isinstance(text, str):
            raise TypeError(f"{name} must be text; got {type(text).__name__}.")
    whole_number(getattr(settings, "degree", 1), "the degree", 1, MAX_DEGREE)
    whole_number(getattr(settings, "bootstrap", 0), "bootstrap (resamples)", 0, MAX_BOOTSTRAP)


def claim_folder(out: Path, kind: str, overwrite: bool = False) -> None:
    """Refuse to write into a folder that is not a symhamil ``kind`` folder.

    A folder is ours when it is empty or missing, when its results.json says
    ``kind``, or when it holds only a training checkpoint (a run interrupted
    before its results). Anything else is someone's own files, which a run would
    overwrite: refused unless ``overwrite``. Checked before any work.
    """
    if overwrite or not out.exists():
        return
    if not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a folder; choose a folder.")
    entries = {e.name for e in out.iterdir()}
    if not entries:
        return
    results = out / "results.json"
    if "results.json" in entries:
        try:
            found = read_document(results, {}, None).get("kind")
        except (OSError, ValueError):
            found = None
        if found == kind and entries <= LEARN_FILES:
            return
    elif entries <= {"network"}:
        return
    raise ValueError(
        f"{out} holds files that {kind!r} did not write ({', '.join(sorted(entries)[:5])}"
        f"{' ...' if len(entries) > 5 else ''}); they would be overwritten. Choose an empty "
        "or new --out, or pass --overwrite."
    )


def learn(settings: LearnSettings, out: str | Path, *, report: bool = True, say=print) -> dict:
    """Run the whole job; returns the results as written to ``out/results.json``."""
    out = Path(out)
    cols = settings.columns
    t0 = time.perf_counter()
    # ---- everything that can be wrong with the input fails here, before any work
    claim_folder(out, "symhamil learn", settings.overwrite)
    traj = read_csv(
        settings.data,
        t=cols.get("t", "t"),
        q=cols["q"],
        p=cols.get("p"),
        v=cols.get("v"),
        trajectory=cols.get("trajectory"),
        masses=settings.masses,
    )
    lib = parse_library(settings.library, traj.coords, settings.degree)
    truth = None
    if settings.truth is not None:
        truth = parse_formula(settings.truth, traj.coords, "true potential")
    if int(traj.sizes.max()) < 8:
        raise ValueError("the longest regular piece has fewer than 8 samples; nothing to learn.")
    say(f"read {settings.data}: {traj.sampling}".replace("\n", "\n  "))
    renamed = [f"{c!r} as {n}" for c, n in zip(cols["q"], traj.names, strict=True) if c != n]
    if renamed:
        say(f"columns named in formulas: {', '.join(renamed)}")
    noise = noise_level(traj)
    say(f"noise: {noise}")
    real_folder(out)
    if settings.network:  # both inside --out, neither a link
        real_folder(out, "network")
        real_folder(out, "model")

    routes: dict[str, dict] = {}
    fits: dict[str, SparseFit] = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", LibraryWarning)
        tic = time.perf_counter()
        fits["force_sindy"] = force_sindy(
            traj, lib, bootstrap=settings.bootstrap, seed=settings.seed
        )
        routes["force_sindy"] = {"seconds": time.perf_counter() - tic}
        tic = time.perf_counter()
        strong = "midpoint" if traj.has_momenta else "verlet"
        fits["strong_form"] = force_sindy(traj, lib, kind=strong, select="bic", refine=False)
        routes["strong_form"] = {"seconds": time.perf_counter() - tic}
    notes = sorted({str(w.message) for w in caught})
    model = None
    if settings.network:
        from ..neural import NeuralPotential  # TensorFlow, only for this route

        tic = time.perf_counter()
        model = NeuralPotential(dim=traj.dim, seed=settings.seed).fit(
            traj, time_limit=settings.time_limit, checkpoint_dir=out / "network", verbose=False
        )
        # Not into the checkpoint folder: its config.json is what a rerun resumes by.
        model.save(out / "model")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LibraryWarning)
            fits["network"] = sindy(model, lib, traj, data=traj)
        routes["network"] = {
            "seconds": time.perf_counter() - tic,
            "training": model.spec_.describe(),
            "final_loss": float(model.loss_),
        }
    for name, fit in fits.items():
        say(f"{name}: V = {sp.sstr(_rounded(fit))}  [{fit.method}]")
        routes[name]["fit"] = fit.to_json()
        ro = rollout(fit, traj)
        routes[name]["rollout"] = _rollout_json(ro)
        if truth is not None:
            cmp = compare(fit.expression, truth, traj.coords)
            routes[name]["same_support"] = bool(cmp.same_support)
            routes[name]["max_relative_error"] = float(cmp.max_relative_error)
    if model is not None:
        routes["network"]["network_rollout"] = _rollout_json(rollout(model, traj))
    results = {
        "kind": "symhamil learn",
        "settings": {k: v for k, v in settings.__dict__.items()},
        "data": {
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
        },
        "library": [sp.sstr(t) for t in lib.terms],
        "truth": None if truth is None else sp.sstr(truth),
        "notes": notes,
        "routes": routes,
        "seconds": time.perf_counter() - t0,
    }
    write_json(out / "results.json", results)
    traj.save(out / "data.npz")
    say(f"wrote {out / 'results.json'}")
    if report:
        say(render_learn(out)[2])
    return results


def _rounded(fit: SparseFit, digits: int = 6) -> sp.Expr:
    return sp.Add(*(sp.Float(c, digits) * t for t, c in fit.coefficients.items()))


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
ROUTE_TITLES = {
    "force_sindy": "force-SINDy (defaults for the data)",
    "strong_form": "force-SINDy, pair form",
    "network": "network, then SINDy",
}
ROUTE_COLOURS = {"force_sindy": "C0", "strong_form": "C2", "network": "C3"}


def _figures(results: dict, out: Path) -> dict[str, str]:
    plt = pyplot()
    folder = out / "figures"
    names = {}

    def save(fig, name):
        names[name] = save_figure(fig, folder, name)

    data = results["data"]
    symbols = tuple(sp.Symbol(n) for n in data["coordinates"])
    fits = {k: SparseFit.from_json(r["fit"]) for k, r in results["routes"].items()}
    # Potentials along the first coordinate over the data's range (others at their middle).
    lo, hi = np.array(data["q_range"][0]), np.array(data["q_range"][1])
    span = hi - lo
    x = np.linspace(lo[0] - 0.1 * span[0], hi[0] + 0.1 * span[0], 400)
    pts = np.tile((lo + hi) / 2, (x.size, 1))
    pts[:, 0] = x
    fig, ax = plt.subplots(figsize=(6.4, 4))
    curves = {}
    if results.get("truth"):
        truth = parse_formula(results["truth"], symbols, "true potential")
        curves["true"] = (_values(truth, symbols, pts), "k", "--")
    for k, fit in fits.items():
        curves[ROUTE_TITLES[k]] = (_values(fit.expression, symbols, pts), ROUTE_COLOURS[k], "-")
    for label, (y, colour, style) in curves.items():
        ax.plot(x, y - y.min(), style, color=colour, label=label)
    ax.axvspan(lo[0], hi[0], color="0.92", zorder=0, label="range of the data")
    ax.set_xlabel(f"${sp.latex(symbols[0])}$")
    ax.set_ylabel("V (shifted to min 0)")
    ax.legend(fontsize=7)
    save(fig, "potential")
    # Rollout errors.
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for k, r in results["routes"].items():
        ro = r["rollout"]
        t = np.array(ro["t"])
        err = np.array(ro["error"], dtype=float)
        err[err < 0] = np.nan
        ax.semilogy(t, np.sqrt(np.nanmean(err**2, axis=0)), color=ROUTE_COLOURS[k],
                    label=ROUTE_TITLES[k])  # fmt: skip
        if "network_rollout" in r:
            nr = r["network_rollout"]
            e2 = np.array(nr["error"], dtype=float)
            e2[e2 < 0] = np.nan
            ax.semilogy(np.array(nr["t"]), np.sqrt(np.nanmean(e2**2, axis=0)), ":",
                        color=ROUTE_COLOURS[k], label="the network itself")  # fmt: skip
    ax.axhline(float(np.linalg.norm(data["noise_q"])), ls="--", color="0.5",
               label="estimated noise of q")  # fmt: skip
    ax.set_xlabel("time since the piece's first sample")
    ax.set_ylabel("RMS position error over pieces")
    ax.legend(fontsize=7)
    save(fig, "rollout")
    # Threshold paths, and the selection criterion of each model on them.
    fig, (ax, cax) = plt.subplots(2, 1, figsize=(6.4, 6), sharex=True)
    draw_path(
        ax,
        {ROUTE_TITLES[k]: (f.path, f.threshold, f.residual, ROUTE_COLOURS[k])
         for k, f in fits.items() if f.path},
    )  # fmt: skip
    for k, f in fits.items():
        pts = [(s.threshold, s.criterion) for s in f.path if s.criterion is not None]
        pts = [(lam, c) for lam, c in pts if np.isfinite(c)]
        if pts:
            lam, crit = np.array(pts).T
            cax.semilogx(lam, crit, ".-", color=ROUTE_COLOURS[k], label=ROUTE_TITLES[k])
    cax.set_xlabel(r"threshold $\lambda$")
    cax.set_ylabel("BIC of each model")
    if cax.lines:
        cax.legend(fontsize=7)
    save(fig, "paths")
    return names


def _values(expr, symbols, pts) -> np.ndarray:
    values = as_potential(expr, symbols).require_values()
    with np.errstate(all="ignore"):
        return np.broadcast_to(np.asarray(values(pts), dtype=float), pts.shape[:1]).copy()


def _coefficient_table(fit: SparseFit, tex_escape) -> str:
    rows = []
    terms = list(dict.fromkeys([*fit.coefficients, *(fit.inclusion or {})]))
    for t in terms:
        c = fit.coefficients.get(t)
        se = (fit.stderr or {}).get(t)
        iv = (fit.intervals or {}).get(t)
        inc = (fit.inclusion or {}).get(t)
        rows.append(
            f"${sp.latex(t)}$ & {'' if c is None else f'{c:.6g}'} & "
            f"{'' if se is None else f'{se:.2g}'} & "
            f"{'' if iv is None else f'[{iv[0]:.6g}, {iv[1]:.6g}]'} & "
            f"{'' if inc is None else f'{inc:.2f}'} \\\\"
        )
    return "\n".join(
        [
            r"\begin{tabular}{lrrrr}",
            r"term & coefficient & std.\ error & 95\% interval & inclusion \\ \hline",
            *rows,
            r"\end{tabular}",
        ]
    )


#: A fit as results.json stores it (read back by SparseFit.from_json).
FIT_SCHEMA = {
    "symbols": [Text(64)],
    "library": [Text(MAX_FORMULA)],
    "coefficients": Mapping(float),
    "threshold": Number(nan=True, inf=True),
    "residual": Number(nan=True, inf=True),
    "path": [dict],
    "method": Text(2_000),
    "sources?": Optional(Mapping(Text(500), keys=frozenset(SOURCE_FIELDS))),
}
ROLLOUT_SCHEMA = {
    "rms": Number(nan=True, inf=True),
    "rms_horizon": Number(nan=True, inf=True),
    "horizon": Number(lo=0),
    "t": [float],
    "error": [[Number(nan=True, inf=True)]],
}

#: What render_learn reads from results.json.
LEARN_SCHEMA = {
    "kind": Text(40),
    "settings": {"data": Text(4_096)},
    "data": {
        "coordinates": [Text(64)],
        "momenta": bool,
        "sampling": Text(20_000),
        "noise_q": [Number(lo=0)],
        "noise_q_fraction": [Number(lo=0)],
        "noise_p_fraction": Optional([Number(lo=0)]),
        "q_range": [[float]],
    },
    "library": [Text(MAX_FORMULA)],
    "truth?": Optional(Text(MAX_FORMULA)),
    "notes?": [Text(2_000)],
    "routes": Mapping(
        {
            "fit": FIT_SCHEMA,
            "seconds": Number(lo=0),
            "training?": Text(2_000),
            "rollout": ROLLOUT_SCHEMA,
            "network_rollout?": ROLLOUT_SCHEMA,
            "same_support?": bool,
            "max_relative_error?": Number(nan=True, inf=True),
        },
        keys=frozenset(ROUTE_TITLES),
    ),
}


def read_learn_results(out: str | Path) -> dict:
    """``out/results.json`` of a learn run, checked field by field (see LEARN_SCHEMA)."""
    path = Path(out) / "results.json"
    results = read_document(path, LEARN_SCHEMA, "symhamil learn")
    data = results["data"]
    d = len(data["coordinates"])
    lo_hi = data["q_range"]
    if d == 0 or len(lo_hi) != 2 or any(len(x) != d for x in lo_hi):
        raise ValueError(f"{path}: data.q_range must be two lists of {d} number(s) (min, max).")
    if len(data["noise_q"]) != d:
        raise ValueError(f"{path}: data.noise_q must hold {d} number(s).")
    for name in data["coordinates"]:
        if not is_plain_name(name):
            raise ValueError(f"{path}: the coordinate name {name[:64]!r} is not a plain name.")
    return results


def render_learn(out: str | Path, compile: bool = True) -> tuple[Path, Path | None, str]:
    """Figures and report.tex (and the PDF) from ``out/results.json`` alone.

    The results may come from someone else: they are checked field by field
    first, and any fault is a ValueError naming the file; their text reaches
    LaTeX only escaped, and the PDF is built by :func:`symhamil.report.latex.build_pdf`.
    """
    out = Path(out)
    results = read_learn_results(out)
    try:
        figs = _figures(results, out)
        tex = _learn_tex(results, figs, tex_escape)
    except LOAD_ERRORS as exc:
        raise ValueError(f"{out / 'results.json'}: {describe(exc)}") from None
    tex = write_text(out / "report.tex", tex)
    if not compile:
        return tex, None, f"wrote {tex}"
    return (tex, *build_pdf(tex))


def _learn_tex(results: dict, figs: dict, tex_escape) -> str:
    data = results["data"]
    esc = tex_escape
    body = [
        r"\documentclass[10pt]{article}",
        r"\usepackage[margin=2cm]{geometry}",
        r"\usepackage{amsmath,graphicx}",
        r"\title{symhamil: a potential learned from " + esc(Path(results["settings"]["data"]).name)
        + "}",
        r"\date{}",
        r"\begin{document}",
        r"\maketitle",
        r"\section*{Data}",
        # Plain text from results.json, which may come from someone else: escaped,
        # never inside verbatim (where "\end{verbatim}" in the text would end it).
        r"\noindent{\small\ttfamily "
        + " \\\\\n".join(esc(line) for line in str(data["sampling"]).splitlines())
        + r"}\par\medskip",
        "Coordinates: " + esc(", ".join(data["coordinates"]))
        + ("; momenta measured." if data["momenta"] else
           "; positions only: V is learned per unit mass unless masses were given.")
        + " Estimated noise, as a share of each coordinate's spread: q "
        + esc(", ".join(f"{100 * v:.3g}%" for v in data["noise_q_fraction"]))
        + ("" if data["noise_p_fraction"] is None else
           "; p " + esc(", ".join(f"{100 * v:.3g}%" for v in data["noise_p_fraction"])))
        + ".",
        "Library: " + esc(", ".join(results["library"])) + ".",
    ]  # fmt: skip
    if results.get("truth"):
        body.append("True potential (given): " + esc(results["truth"]) + ".")
    for note in results.get("notes", []):
        body.append(r"\paragraph{Note.} " + esc(note))
    body.append(r"\section*{Results}")
    for k, r in results["routes"].items():
        fit = SparseFit.from_json(r["fit"])
        body.append(r"\subsection*{" + esc(ROUTE_TITLES[k]) + "}")
        lines = [r"$\hat V = " + fit.latex() + "$"]
        lines.append("Method: " + esc(fit.method) + f". Time: {r['seconds']:.1f} s.")
        if "training" in r:
            lines.append("Training: " + esc(r["training"]) + ".")
        ro = r["rollout"]
        lines.append(
            f"Rollout from each piece's first state: RMS position error "
            f"{ro['rms_horizon']:.3g} over the first {ro['horizon']:.3g} s, "
            f"{ro['rms']:.3g} over whole pieces."
        )
        if "max_relative_error" in r:
            same = "yes" if r["same_support"] else "no"
            lines.append(
                f"Against the given truth: same support: {same}, largest relative "
                f"coefficient error {r['max_relative_error']:.3g}."
            )
        body.append(" \\\\\n".join(lines))
        body.append(r"\par\medskip" + _coefficient_table(fit, esc))
        if fit.sources:
            # Which estimator gave which column: they can differ (shooting and a
            # bootstrap of the regression), and the reader must know.
            body.append(
                r"\par\smallskip{\small "
                + "; ".join(f"{esc(k)}: {esc(v)}" for k, v in fit.sources.items())
                + ".}"
            )
    captions = {
        "potential": "The recovered potentials (shifted to a minimum of 0); shaded: the range "
        "of the data.",
        "rollout": "Rollouts: each result simulated from every piece's first measured state; "
        "RMS position error against the measurement.",
        "paths": "Threshold paths: relative residual against the threshold (circles: the chosen "
        "models), and below, the BIC by which noisy data choose.",
    }
    for name in figs:
        body.append(
            r"\begin{figure}[h]\centering\includegraphics[width=0.75\textwidth]{figures/"
            + name
            + r".pdf}\caption{"
            + esc(captions[name])
            + r"}\end{figure}"
        )
    body.append(r"\end{document}")
    return "\n\n".join(body)
