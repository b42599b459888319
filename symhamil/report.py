"""Figures (matplotlib) and the LaTeX report of a reproduction.

:func:`case_figures` draws one case's figures, the equivalents of the paper's
Figures 1-6; :func:`write_report` writes ``report.tex`` and compiles it with
``latexmk -pdf`` (or ``pdflatex``) where one is installed. The report needs
only stock TeX Live (``texlive-latex-base`` and ``latexmk`` on Debian).
"""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import sympy as sp

from .compare import format_relative_error
from .experiments import ROUTE_TITLES

#: How much of an exported network the report prints (the rest is in results.json).
EXPORT_CHARS = 1500

#: Colours by route; the extrapolation beyond the data is drawn in a second colour.
COLOURS = {"paper": "tab:orange", "default": "tab:blue", "force_sindy": "tab:green"}
EXTRAPOLATION = {"paper": "tab:red", "default": "tab:purple"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only; no display on a server or in CI
    import matplotlib.pyplot as plt

    return plt


def _save(fig, folder: Path, name: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    for ext in ("png", "pdf"):
        fig.savefig(folder / f"{name}.{ext}", dpi=130, bbox_inches="tight")
    _pyplot().close(fig)
    return name


def _potential_1d(result, models, folder: Path) -> str:
    plt = _pyplot()
    case = result.case
    x = case.train.q.reshape(-1)
    lo, hi = float(x.min()), float(x.max())
    a, b = case.plot_range or (lo, hi)
    grid = np.linspace(min(a, lo), max(b, hi), 600)
    inside = (grid >= lo) & (grid <= hi)
    true = np.asarray(sp.lambdify(case.variable, case.truth)(grid), dtype=float) * np.ones_like(
        grid
    )
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    derived = case.experiment == "central-force"
    ax.plot(grid, true, "k-", lw=1, label=r"$V_{\rm eff}$ (derived)" if derived else "true V")
    for route, model in models.items():
        v = np.asarray(model.potential(grid[:, None]), dtype=float)
        v = v - np.mean(v[inside] - true[inside])  # remove the arbitrary constant
        outside = np.where(inside, np.nan, v)
        ax.plot(
            grid,
            np.where(inside, v, np.nan),
            "--",
            color=COLOURS[route],
            label=f"neural, {ROUTE_TITLES[route]} (data range)",
        )
        ax.plot(
            grid,
            outside,
            ":",
            color=EXTRAPOLATION[route],
            lw=2,
            label=f"neural, {ROUTE_TITLES[route]} (extrapolated)",
        )
    ax.axvspan(lo, hi, color="0.93", zorder=0)
    span = true[inside]
    pad = 0.6 * (span.max() - span.min()) + 1e-12
    ax.set_ylim(span.min() - pad, span.max() + 2 * pad)
    ax.set_xlabel(f"${sp.latex(case.variable)}$")
    ax.set_ylabel("potential (constant removed)")
    ax.set_title(case.title, fontsize=10)
    ax.legend(fontsize=7)
    return _save(fig, folder, f"{case.key}-potential")


def _potential_pairs(result, models, folder: Path) -> str:
    """Coulomb: V-hat against r at training and held-out points (the paper's Figs. 5-6)."""
    plt = _pyplot()
    case = result.case
    fig, axes = plt.subplots(1, len(models), figsize=(6.4 * len(models) / 1.4, 4.0), squeeze=False)
    f_true = sp.lambdify(case.variable, case.truth)
    for ax, (route, model) in zip(axes[0], models.items(), strict=True):
        for data, colour, label in (
            (case.train, "tab:blue", "train"),
            (case.test, "tab:orange", "test"),
        ):
            if data is None:
                continue
            pts = data.q.reshape(-1, data.dim)[
                :: max(1, data.q.shape[0] * data.q.shape[1] // 3000)
            ]
            r = case.to_variable(pts)[:, 0]
            v = np.asarray(model.potential(pts), dtype=float)
            if label == "train":
                shift = np.mean(v - f_true(r))
            ax.plot(r, v - shift, ".", ms=2, color=colour, label=f"neural, {label} points")
        grid = np.linspace(0.2, ax.get_xlim()[1], 400)
        ax.plot(grid, f_true(grid), "k-", lw=1, label="true V")
        ax.set_ylim(-0.45, 0.05)
        ax.set_xlabel("$r = |q_1 - q_2|$")
        ax.set_title(ROUTE_TITLES[route], fontsize=10)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("potential (constant removed)")
    return _save(fig, folder, f"{case.key}-potential")


def _losses(result, folder: Path) -> str | None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    drawn = False
    for route, r in result.routes.items():
        if r.training and r.training.get("history"):
            h = np.asarray(r.training["history"])
            ax.semilogy(
                np.linspace(0, r.training["iterations"], len(h)),
                h,
                color=COLOURS[route],
                label=f"{ROUTE_TITLES[route]} ({r.training['loss']} loss)",
            )
            drawn = True
    if not drawn:
        plt.close(fig)
        return None
    ax.set_xlabel("iteration (Adam or GD steps, then L-BFGS-B iterations)")
    ax.set_ylabel("training loss")
    ax.legend(fontsize=7)
    return _save(fig, folder, f"{result.case.key}-loss")


def _paths(result, folder: Path) -> str:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    for route, r in result.routes.items():
        lam = np.array([s.threshold for s in r.fit.path])
        res = np.array([max(s.residual, 1e-16) for s in r.fit.path])
        ax.loglog(lam, res, ".-", color=COLOURS[route], label=ROUTE_TITLES[route])
        ax.loglog(
            [r.fit.threshold],
            [max(r.fit.residual, 1e-16)],
            "o",
            mfc="none",
            ms=10,
            color=COLOURS[route],
        )
        for s in r.fit.path[:: max(1, len(r.fit.path) // 6)]:
            ax.annotate(str(len(s.support)), (s.threshold, max(s.residual, 1e-16)), fontsize=6)
    ax.invert_xaxis()
    ax.set_xlabel(r"threshold $\lambda$ (numbers: terms kept)")
    ax.set_ylabel("relative residual")
    ax.legend(fontsize=7)
    return _save(fig, folder, f"{result.case.key}-path")


def case_figures(result, models: dict, folder: str | Path) -> tuple[str, ...]:
    """Draw the potential, loss and threshold-path figures of one case (PNG and PDF).

    Returns the figure names (without extension) under ``folder``.
    """
    folder = Path(folder)
    draw = _potential_pairs if result.case.train.dim > 1 else _potential_1d
    names = [draw(result, models, folder) if models else None, _losses(result, folder)]
    names.append(_paths(result, folder))
    return tuple(n for n in names if n)


# ---------------------------------------------------------------- LaTeX
_TEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\^{}",
}


def tex_escape(text: str) -> str:
    """Plain text made safe for LaTeX."""
    return "".join(_TEX_SPECIAL.get(c, c) for c in str(text))


def _num(x, digits=6) -> str:
    return "--" if x is None else f"{x:.{digits}g}"


def _pct(x) -> str:
    return format_relative_error(x, tex=True, digits=3)


def _term_tex(term: str, variable) -> str:
    return "$" + sp.latex(sp.sympify(term, locals={str(variable): variable})) + "$"


def _no_constant(coefficients: dict, variable, digits: int = 6) -> str:
    terms = {k: v for k, v in coefficients.items() if k != "1"}
    if not terms:
        return "0"
    expr = sp.Add(
        *(
            sp.Float(v, digits) * sp.sympify(k, locals={str(variable): variable})
            for k, v in terms.items()
        )
    )
    return sp.latex(expr)


_SHORT = {"paper": "faithful", "default": "default", "force_sindy": "force-SINDy"}


def coefficient_table(result) -> str:
    """The case's coefficient table against the paper, as a LaTeX tabular."""
    var = result.case.variable
    terms = list(result.truth)
    for r in result.routes.values():
        terms += [t for t in r.relative_error if t not in terms]
    cols = "l r r r" + " r r" * len(result.routes)
    head = "term & true & paper & error"
    for route in result.routes:
        head += f" & {_SHORT[route]} & error"
    rows = []
    for t in terms:
        cells = [
            _term_tex(t, var),
            _num(result.truth.get(t, 0.0)),
            _num(result.paper.get(t)),
            _pct(result.paper_relative_error.get(t)),
        ]
        for r in result.routes.values():
            cells += [_num(r.coefficients.get(t, 0.0), 8), _pct(r.relative_error.get(t, 0.0))]
        rows.append(" & ".join(cells) + r" \\")
    # resizebox (graphicx) keeps ten columns inside the text width.
    return (
        "\\par\\medskip\\noindent\\resizebox{\\textwidth}{!}{"
        f"\\begin{{tabular}}{{{cols}}}\n\\hline\n{head} \\\\\n\\hline\n"
        + "\n".join(rows)
        + "\n\\hline\n\\end{tabular}}\\par\\medskip\n"
    )


def _figure(name: str, caption: str) -> str:
    return (
        "\\begin{center}\n"
        f"\\includegraphics[width=0.8\\textwidth]{{figures/{name}.pdf}}\\\\\n"
        f"{{\\small {tex_escape(caption)}}}\n\\end{{center}}\n"
    )


_CAPTIONS = {
    "potential": "Neural potentials (constant removed) against the true potential; the grey "
    "band is the range of the training data, dotted lines are extrapolations.",
    "pairs": "Neural potentials (constant removed) at training and held-out points against "
    "the true potential, as functions of r = |q1 - q2|.",
    "loss": "Training loss of the two neural routes.",
    "path": "Threshold path of the sparse regression: relative residual against the threshold; "
    "circles mark the threshold chosen, numbers the terms kept.",
}


def _section(result) -> str:
    case = result.case
    var = case.variable
    sysm = case.system
    lines = [f"\\section{{{tex_escape(case.title)}}}"]
    lines.append("\\paragraph{System.}")
    lines.append(f"$H = {sp.latex(sysm.H)}$.")
    if case.experiment == "central-force":
        lines.append(
            "Reduced to the radial coordinate, the derived effective potential is "
            f"$V_{{\\rm eff}}({sp.latex(var)}) = {sp.latex(case.truth)}$, with $l$ from the data."
        )
    if case.experiment == "coulomb":
        lines.append(f"In $r = |q_1 - q_2|$: $V = {sp.latex(case.truth)}$.")
    lines.append("\\paragraph{Data.} " + tex_escape(case.data_note))
    lines.append("\\paragraph{Training.}")
    lines.append("\\begin{itemize}")
    for route, r in result.routes.items():
        t = r.training
        if t is None:
            lines.append(
                f"\\item {ROUTE_TITLES[route]}: no network; STLSQ on the forces "
                "$-(p_{i+1}-p_i)/h$ against the library's gradients (midpoint)."
            )
            continue
        test = "" if t["test_loss"] is None else f", test loss {t['test_loss']:.3e}"
        lines.append(
            f"\\item {ROUTE_TITLES[route]}: {tex_escape(t['description'])}. "
            f"{t['steps']} first-order steps, final loss {t['final_loss']:.3e} "
            f"(all pairs: {t['train_loss']:.3e}{test}), {t['wall_time']:.1f} s."
        )
    lines.append("\\end{itemize}")
    lines.append(
        "\\paragraph{Recovered potentials} (constants dropped; library "
        f"${sp.latex(list(case.library.terms))}$):"
    )
    lines.append("\\begin{align*}")
    eqs = [
        f"\\hat V_{{\\text{{{ROUTE_TITLES[route]}}}}} &= {_no_constant(r.coefficients, var)}"
        f" && \\lambda = {sp.latex(sp.Float(r.fit.threshold, 3))}"
        for route, r in result.routes.items()
    ]
    name = "V_{\\rm eff}" if case.experiment == "central-force" else "V"
    eqs.append(f"{name} &= {_no_constant(result.truth, var)}")
    lines.append(" \\\\\n".join(eqs))
    lines.append("\\end{align*}")
    # Not a run-in \paragraph: the table must start on a line of its own.
    lines.append("\\medskip\\noindent\\textbf{Coefficients against the paper.}")
    lines.append(coefficient_table(result))
    targets = result.targets
    lines.append(
        "\n\\noindent Targets: "
        + tex_escape(
            ", ".join(
                f"{k.replace('_', ' ')}: {'n/a' if v is None else ('met' if v else 'NOT met')}"
                for k, v in targets.items()
            )
        )
        + "."
    )
    if result.extras:
        ex = result.extras
        lines.append(
            "\\paragraph{The paper-faithful network as a formula.} "
            f"Exported to SymPy ({ex['exported_ops']} operations; coefficients shown "
            "to 4 digits):"
        )
        shown = ex["exported"]
        if len(shown) > EXPORT_CHARS:
            shown = shown[:EXPORT_CHARS] + f" ... ({len(ex['exported'])} characters in all; "
            shown += "the whole formula is in results.json)"
        wrapped = "\n".join(textwrap.wrap(shown, 95))
        lines.append("{\\tiny\\begin{verbatim}\n" + wrapped + "\n\\end{verbatim}}")
        lines.append(
            f"Its Pad\\'e approximant $[3/3]$ about $r = {ex['pade_center']:.3g}$ has max error "
            f"{ex['pade_max_error']:.2e} over the data range, and is no more readable "
            "(the paper's finding too):"
        )
        lines.append(
            "{\\tiny\\begin{verbatim}\n"
            + "\n".join(textwrap.wrap(ex["pade"], 95))
            + "\n\\end{verbatim}}"
        )
    for name in result.figures:
        kind = name.rsplit("-", 1)[-1]
        if kind == "potential" and case.test is not None:
            kind = "pairs"
        lines.append(_figure(name, _CAPTIONS.get(kind, "")))
    return "\n".join(lines)


def _better_note(results) -> str:
    cf = [r for r in results if r.case.experiment == "central-force" and len(r.routes) > 2]
    if not cf:
        return ""
    parts, wins = [], 0
    for r in cf:
        p, d = r.routes["paper"], r.routes["default"]
        wins += d.max_relative_error < p.max_relative_error
        parts.append(
            f"{tex_escape(r.case.title)}: paper recipe (elu, then softplus with exponential "
            f"output) max error {_pct(p.max_relative_error)}, plain tanh with the midpoint loss "
            f"{_pct(d.max_relative_error)}"
        )
    if wins == len(cf):
        verdict = "The plain tanh network with the midpoint loss is the better of the two."
    elif wins == 0:
        verdict = "The paper's recipe is the better of the two here."
    else:
        verdict = "Neither recipe is better on every training set."
    text = "; ".join(parts)
    return f"\\paragraph{{Central force: which recipe is better.}} {text}. {verdict}\n"


def write_report(
    results: Sequence,
    out: str | Path,
    budget: str = "default",
    wall_time: float | None = None,
    compile: bool = True,
) -> tuple[Path, Path | None, str]:
    """Write ``report.tex`` in ``out`` and, where possible, compile it to ``report.pdf``.

    Returns
    -------
    tex : Path
    pdf : Path or None
        None when no LaTeX engine is installed or compilation failed.
    message : str
        What happened, and how to build the PDF by hand when it was not built.
    """
    out = Path(out)
    body = [
        r"\documentclass[10pt]{article}",
        r"\usepackage[margin=2cm]{geometry}",
        r"\usepackage{amsmath,graphicx}",
        r"\title{symhamil: reproducing Bhat, \emph{Learning and Interpreting Potentials for "
        r"Classical Hamiltonian Systems}}",
        r"\date{}",
        r"\begin{document}",
        r"\maketitle",
        "Budget \\texttt{"
        + budget
        + "}"
        + ("" if wall_time is None else f", total wall time {wall_time:.0f} s")
        + ". Three routes per training set: \\emph{paper-faithful} (the paper's "
        "forward-difference loss (3), its architecture and recipe, SINDy at the paper's "
        "threshold), \\emph{symhamil default} (midpoint loss, float64 tanh network, Adam then "
        "L-BFGS-B, the relative-residual threshold protocol) and \\emph{force-SINDy} (no "
        "network: sparse regression on the forces). Relative errors are $|\\hat c - c|/|c|$ "
        "per term; the additive constant is ignored.\n",
        _better_note(results),
    ]
    body += [_section(r) for r in results]
    body.append(r"\end{document}")
    tex = out / "report.tex"
    tex.write_text("\n\n".join(body))
    if not compile:
        return tex, None, f"wrote {tex}"
    return (tex, *build_pdf(tex))


def build_pdf(tex: Path) -> tuple[Path | None, str]:
    """Compile ``tex`` with latexmk (or pdflatex twice). Returns (pdf or None, message)."""
    tex = Path(tex)
    how = f"cd {tex.parent} && latexmk -pdf {tex.name}"
    if shutil.which("latexmk"):
        cmd = [["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", tex.name]]
    elif shutil.which("pdflatex"):
        cmd = [["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name]] * 2
    else:
        return None, (
            f"wrote {tex}; no LaTeX engine found, so no PDF. Install TeX Live "
            f"(Debian: apt-get install texlive-latex-base latexmk), then run: {how}"
        )
    for c in cmd:
        proc = subprocess.run(c, cwd=tex.parent, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            tail = "\n".join(proc.stdout.splitlines()[-15:])
            return None, f"wrote {tex}; LaTeX failed ({' '.join(c)}):\n{tail}"
    pdf = tex.with_suffix(".pdf")
    return pdf, f"wrote {tex} and {pdf}"
