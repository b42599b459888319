"""The LaTeX report of a reproduction, written from the stored results alone.

:func:`write_report` writes ``report.tex`` (one section per case, figures drawn
by :mod:`.figures`) and compiles it with ``latexmk -pdf`` (or ``pdflatex``)
where one is installed. It reads only :class:`~.results.RunResult` values, so
``symhamil report OUT`` re-renders a report from ``OUT/results.json`` without
TensorFlow. The report needs only stock TeX Live (``texlive-latex-base`` and
``latexmk`` on Debian).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import sympy as sp

from .._io import write_text
from ..compare import format_relative_error
from .figures import case_figures
from .results import CaseResult, RunResult
from .routes import ROUTES
from .tables import latex_table

__all__ = ["build_pdf", "tex_escape", "write_report"]

#: How much of an exported network the report prints (the rest is in results.json).
EXPORT_CHARS = 1500

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


def _pct(x) -> str:
    return format_relative_error(x, tex=True, digits=3)


def _no_constant(coefficients, digits: int = 6) -> str:
    terms = {t: v for t, v in coefficients.items() if t != 1}
    if not terms:
        return "0"
    return sp.latex(sp.Add(*(sp.Float(v, digits) * t for t, v in terms.items())))


_CAPTIONS = {
    "potential": "Learned potentials (constant removed) against the true potential; the grey "
    "band is the range of the training data, dotted lines are extrapolations.",
    "pairs": "Neural potentials (constant removed) at training and held-out points against "
    "the true potential, as functions of r = |q1 - q2|.",
    "loss": "Training loss of the neural routes.",
    "path": "Threshold path of the sparse regression: relative residual against the threshold; "
    "circles mark the threshold chosen, numbers the terms kept.",
}


def _figure(name: str, caption: str) -> str:
    return (
        "\\begin{center}\n"
        f"\\includegraphics[width=0.8\\textwidth]{{figures/{name}.pdf}}\\\\\n"
        f"{{\\small {tex_escape(caption)}}}\n\\end{{center}}\n"
    )


def _verbatim(text: str) -> str:
    return "{\\tiny\\begin{verbatim}\n" + "\n".join(textwrap.wrap(text, 95)) + "\n\\end{verbatim}}"


def _section(res: CaseResult, figures: dict[str, str]) -> str:
    var = sp.latex(res.variable)
    lines = [f"\\section{{{tex_escape(res.title)}}}", "\\paragraph{System.}"]
    lines.append(f"$H = {res.system_latex}$.")
    if res.truth_intro:
        lines.append(f"{res.truth_intro} ${res.truth_name}({var}) = {res.truth_latex}$.")
    lines.append("\\paragraph{Data.} " + tex_escape(res.data["note"]))
    lines.append("\\paragraph{Training.}")
    lines.append("\\begin{itemize}")
    for name, r in res.routes.items():
        route, t = ROUTES[name], r.training
        if t is None:
            lines.append(f"\\item {tex_escape(route.title)}: {route.method(None)}.")
            continue
        test = "" if t.test_loss is None else f", test loss {t.test_loss:.3e}"
        lines.append(
            f"\\item {tex_escape(route.title)}: {tex_escape(t.description)}. "
            f"{int(t.steps)} first-order steps, {int(t.iterations)} iterations in all, final "
            f"loss {t.final_loss:.3e} (all pairs: {t.train_loss:.3e}{test}), "
            f"{t.wall_time:.1f} s."
        )
    lines.append("\\end{itemize}")
    lines.append(
        f"\\paragraph{{Recovered potentials}} (constants dropped; library ${res.library_latex}$):"
    )
    eqs = [
        f"\\hat V_{{\\text{{{tex_escape(ROUTES[name].title)}}}}} &= "
        f"{_no_constant(r.coefficients)} && \\lambda = {sp.latex(sp.Float(r.threshold, 3))}"
        for name, r in res.routes.items()
    ]
    eqs.append(f"{res.truth_name} &= {_no_constant(res.truth)}")
    lines.append("\\begin{align*}\n" + " \\\\\n".join(eqs) + "\n\\end{align*}")
    # Not a run-in \paragraph: the table must start on a line of its own.
    lines.append("\\medskip\\noindent\\textbf{Coefficients against the paper.}")
    lines.append(latex_table(res))
    met = ", ".join(
        f"{k.replace('_', ' ')}: {'n/a' if v is None else ('met' if v else 'NOT met')}"
        for k, v in res.targets.items()
    )
    lines.append("\n\\noindent Targets: " + tex_escape(met) + ".")
    notes = res.notes
    if "exported" in notes:
        lines.append(
            "\\paragraph{The paper-faithful network as a formula.} "
            f"Exported to SymPy ({tex_escape(notes['exported_ops'])} operations; coefficients "
            "shown to 4 digits):"
        )
        shown = notes["exported"]
        if len(shown) > EXPORT_CHARS:
            shown = shown[:EXPORT_CHARS] + f" ... ({len(notes['exported'])} characters in all; "
            shown += "the whole formula is in results.json)"
        lines.append(_verbatim(shown))
        lines.append(
            f"Its Pad\\'e approximant $[3/3]$ about $r = {tex_escape(notes['pade_center'])}$ "
            f"has max error {tex_escape(notes['pade_max_error'])} over the data range, and is no "
            "more readable (the paper's finding too):"
        )
        lines.append(_verbatim(notes["pade"]))
    for kind, name in figures.items():
        lines.append(_figure(name, _CAPTIONS[kind]))
    return "\n".join(lines)


def _better_note(results) -> str:
    """Which central-force recipe is better, computed from the errors."""
    cf = [r for r in results if r.truth_name != "V" and {"faithful", "symhamil"} <= set(r.routes)]
    if not cf:
        return ""
    parts, wins = [], 0
    for r in cf:
        p, d = r.routes["faithful"], r.routes["symhamil"]
        wins += d.max_relative_error < p.max_relative_error
        parts.append(
            f"{tex_escape(r.title)}: paper recipe (elu, then softplus with exponential "
            f"output) max error {_pct(p.max_relative_error)}, plain tanh with the midpoint loss "
            f"{_pct(d.max_relative_error)}"
        )
    if wins == len(cf):
        verdict = "The plain tanh network with the midpoint loss is the better of the two."
    elif wins == 0:
        verdict = "The paper's recipe is the better of the two here."
    else:
        verdict = "Neither recipe is better on every training set."
    return f"\\paragraph{{Central force: which recipe is better.}} {'; '.join(parts)}. {verdict}\n"


def write_report(
    run: RunResult, out: str | Path, compile: bool = True
) -> tuple[Path, Path | None, str]:
    """Draw the figures and write ``report.tex`` in ``out``; compile it where possible.

    Returns
    -------
    tex : Path
    pdf : Path or None
        None when no LaTeX engine is installed or compilation failed.
    message : str
        What happened, and how to build the PDF by hand when it was not built.
    """
    out = Path(out)
    if run.budget not in ("quick", "default", "paper"):
        raise ValueError(f"results: unknown budget {run.budget!r}.")
    body = [
        r"\documentclass[10pt]{article}",
        r"\usepackage[margin=2cm]{geometry}",
        r"\usepackage{amsmath,graphicx}",
        r"\title{symhamil: reproducing Bhat, \emph{Learning and Interpreting Potentials for "
        r"Classical Hamiltonian Systems}}",
        r"\date{}",
        r"\begin{document}",
        r"\maketitle",
        f"Budget \\texttt{{{run.budget}}}, total wall time {run.wall_time:.0f} s. Three routes "
        "per training set: \\emph{paper-faithful} (the paper's forward-difference loss (3), its "
        "architecture and recipe, SINDy at the paper's threshold), \\emph{symhamil} (midpoint "
        "loss, float64 tanh network, Adam then L-BFGS-B, the relative-residual threshold "
        "protocol) and \\emph{force-SINDy} (no network: sparse regression on the forces). "
        "Relative errors are $|\\hat c - c|/|c|$ per term; the additive constant is ignored.\n",
        _better_note(run.cases),
    ]
    for res in run.cases:
        body.append(_section(res, case_figures(res, out / "figures")))
    body.append(r"\end{document}")
    tex = write_text(out / "report.tex", "\n\n".join(body))
    if not compile:
        return tex, None, f"wrote {tex}"
    return (tex, *build_pdf(tex))


def build_pdf(tex: Path) -> tuple[Path | None, str]:
    """Compile ``tex`` with latexmk (or pdflatex twice). Returns (pdf or None, message)."""
    tex = Path(tex)
    how = f"cd {tex.parent} && latexmk -pdf {tex.name}"
    opts = ["-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape"]
    if shutil.which("latexmk"):
        # -pdflatex= passes the options on to every pdflatex run latexmk starts.
        engine = "pdflatex " + " ".join(opts) + " %O %S"
        cmd = [["latexmk", "-pdf", "-no-shell-escape", f"-pdflatex={engine}", tex.name]]
    elif shutil.which("pdflatex"):
        cmd = [["pdflatex", *opts, tex.name]] * 2
    else:
        return None, (
            f"wrote {tex}; no LaTeX engine found, so no PDF. Install TeX Live "
            f"(Debian: apt-get install texlive-latex-base latexmk), then run: {how}"
        )
    # No shell escape, and TeX may read and write only inside the report folder
    # ("p": paranoid, no absolute paths, no "..", no dot files): a crafted
    # results file cannot read /etc/... into the PDF or run a program.
    env = os.environ | {"openin_any": "p", "openout_any": "p", "shell_escape": "f"}
    for c in cmd:
        proc = subprocess.run(
            c, cwd=tex.parent, capture_output=True, text=True, timeout=600, env=env
        )
        if proc.returncode != 0:
            tail = "\n".join(proc.stdout.splitlines()[-15:])
            return None, f"wrote {tex}; LaTeX failed ({' '.join(c)}):\n{tail}"
    pdf = tex.with_suffix(".pdf")
    # LaTeX's auxiliary files are of no use to a reader of the folder.
    for ext in (".aux", ".log", ".fls", ".fdb_latexmk", ".out"):
        tex.with_suffix(ext).unlink(missing_ok=True)
    return pdf, f"wrote {tex} and {pdf}"
