"""The report of ``symhamil learn`` on a CSV file: figures, the LaTeX report and
the schema of its results.json, all from the stored results (``symhamil report
DIR`` renders them again without TensorFlow)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import sympy as sp

from ..base.files import LOAD_ERRORS, describe, write_text
from ..base.parsing import MAX_FORMULA, is_plain_name, parse_formula
from ..base.schema import Mapping, Number, Optional, Text, read_document
from ..interpret.assess import verdict
from ..report.latex import build_pdf, tex_escape
from ..report.plots import draw_path, pyplot, save_figure
from ..sindy import SOURCE_FIELDS, SparseFit
from ..sindy.fit import RADIUS, in_radius
from ..systems.potentials import as_potential

__all__ = ["LEARN_SCHEMA", "read_learn_results", "render_learn"]


ROUTE_TITLES = {
    "force_sindy": "force-SINDy (defaults for the data)",
    "strong_form": "force-SINDy, pair form",
    "network": "network, then SINDy",
}
ROUTE_COLOURS = {"force_sindy": "C0", "strong_form": "C2", "network": "C3"}


def _figures(results: dict, out: Path) -> dict[str, str]:
    folder = out / "figures"
    names = {}

    def save(fig, name):
        names[name] = save_figure(fig, folder, name)

    data = results["data"]
    symbols = tuple(sp.Symbol(n) for n in data["coordinates"])
    fits = {k: SparseFit.from_json(r["fit"]) for k, r in results["routes"].items()}
    if not _radial_figure(results, fits, symbols, save):
        _coordinate_figure(results, fits, symbols, save)
    return _other_figures(results, fits, save, names)


def _radial_figure(results, fits, symbols, save) -> bool:
    """Central potentials (every fit a function of r = |q| alone) against r over
    the data's radii: along a coordinate axis the curve would cross r = 0.
    False when they are not all central."""
    plt = pyplot()
    data = results["data"]
    span = data.get("r_range")
    if len(symbols) < 2 or span is None or span[0] <= 0:
        return False
    exprs = {ROUTE_TITLES[k]: (f.rounded(17), ROUTE_COLOURS[k], "-") for k, f in fits.items()}
    if results.get("truth"):
        truth = parse_formula(results["truth"], symbols, "true potential")
        exprs = {"true": (in_radius(truth, symbols), "k", "--"), **exprs}
    if not all(e.free_symbols <= {RADIUS} for e, _, _ in exprs.values()):
        return False
    lo, hi = span
    x = np.linspace(max(lo - 0.1 * (hi - lo), 0.5 * lo), hi + 0.1 * (hi - lo), 400)
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for label, (expr, colour, style) in exprs.items():
        y = _values(expr, (RADIUS,), x[:, None])
        ax.plot(x, y - np.nanmin(y), style, color=colour, label=label)
    ax.axvspan(lo, hi, color="0.92", zorder=0, label="radii of the data")
    ax.set_xlabel(r"$r = |q|$")
    ax.set_ylabel("V (shifted to min 0)")
    ax.legend(fontsize=7)
    save(fig, "potential")
    return True


def _coordinate_figure(results, fits, symbols, save) -> None:
    """Potentials along the first coordinate over the data's range (others at
    their middle)."""
    plt = pyplot()
    data = results["data"]
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


def _other_figures(results, fits, save, names) -> dict[str, str]:
    """Rollout errors and threshold paths."""
    plt = pyplot()
    data = results["data"]
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
    drag = fit.friction_coefficients or {}
    terms = list(dict.fromkeys([*fit.coefficients, *drag, *(fit.inclusion or {})]))
    for t in terms:
        c = fit.coefficients.get(t, drag.get(t))
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
    "sources?": Optional(Mapping(Text(1_000), keys=frozenset(SOURCE_FIELDS))),
    "provenance?": Optional([dict]),
    "friction?": Optional(
        {"symbols": [Text(64)], "library": [Text(MAX_FORMULA)], "coefficients": Mapping(float)}
    ),
    "masses?": Optional([Number(lo=0)]),
    "masses_stderr?": Optional([Number(lo=0)]),
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
        "r_range?": Optional([Number(lo=0)]),
    },
    "library": [Text(MAX_FORMULA)],
    "friction?": Optional([Text(MAX_FORMULA)]),
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
            "assessment?": {
                "adequate": bool,
                "reasons": [Text(2_000)],
                "causes": [Text(100)],
                "figures": Mapping(Optional(Number()), limit=50),
            },
        },
        keys=frozenset(ROUTE_TITLES),
    ),
    "ranking?": [Text(100)],
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
    if results.get("friction"):
        body.append(
            "Friction library (Rayleigh functions R of the momenta, dp/dt = -grad V - dR/dp): "
            + esc(", ".join(results["friction"]))
            + "."
        )
    if results.get("truth"):
        body.append("True potential (given): " + esc(results["truth"]) + ".")
    for note in results.get("notes", []):
        body.append(r"\paragraph{Note.} " + esc(note))
    body.append(r"\section*{Results}")
    for k, r in results["routes"].items():
        fit = SparseFit.from_json(r["fit"])
        body.append(r"\subsection*{" + esc(ROUTE_TITLES[k]) + "}")
        lines = [r"$\hat V = " + fit.latex() + "$"]
        if fit.friction_library is not None:
            lines.append(r"$\hat R = " + fit.friction_latex() + "$ (friction)")
        if fit.masses is not None:
            lines.append(
                "Masses (fitted where a standard error is given): "
                + ", ".join(
                    f"{m:.6g}" + (f" $\\pm$ {e:.2g}" if e else "")
                    for m, e in zip(fit.masses, fit.masses_stderr, strict=True)
                )
                + "."
            )
        lines.append("Method: " + esc(fit.method) + f". Time: {r['seconds']:.1f} s.")
        if "training" in r:
            lines.append("Training: " + esc(r["training"]) + ".")
        ro = r["rollout"]
        lines.append(
            f"Rollout from each piece's first state: RMS position error "
            f"{ro['rms_horizon']:.3g} over the first {ro['horizon']:.3g} s, "
            f"{ro['rms']:.3g} over whole pieces."
        )
        if "assessment" in r:
            a = r["assessment"]
            lines.append(r"\textbf{Verdict:} " + esc(verdict(a["adequate"], a["reasons"])) + ".")
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
