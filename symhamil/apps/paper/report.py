"""The LaTeX report of a reproduction, written from the stored results alone.

:func:`write_report` writes ``report.tex`` (one section per case, figures drawn
by :mod:`.figures`) and compiles it with ``latexmk -pdf`` (or ``pdflatex``)
where one is installed. It reads only :class:`~.results.RunResult` values, so
``symhamil report OUT`` re-renders a report from ``OUT/results.json`` without
TensorFlow. The report needs only stock TeX Live (``texlive-latex-base`` and
``latexmk`` on Debian).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import sympy as sp

from ...base.files import write_text
from ...interpret.compare import format_relative_error
from ...report.latex import build_pdf, tex_escape
from .figures import case_figures
from .results import CaseResult, RunResult
from .routes import ROUTES
from .tables import latex_table

__all__ = ["build_pdf", "tex_escape", "write_report"]

#: How much of an exported network the report prints (the rest is in results.json).
EXPORT_CHARS = 400


def _pct(x) -> str:
    return format_relative_error(x, tex=True, digits=3)


def _no_constant(coefficients, digits: int = 6) -> str:
    terms = {t: v for t, v in coefficients.items() if t != 1}
    if not terms:
        return "0"
    return sp.latex(sp.Add(*(sp.Float(v, digits) * t for t, v in terms.items())))


_CAPTIONS = {
    "potential": "learned potentials (constant removed) against the true potential; the grey "
    "band is the range of the training data, dotted lines are extrapolations. Below: the "
    "residual, learned minus true.",
    "pairs": "neural potentials (constant removed) at training and held-out points against "
    "the true potential, as functions of r = |q1 - q2|.",
    "loss": "training loss of the neural routes.",
    "path": "threshold path of the sparse regression: relative residual against the threshold; "
    "circles mark the threshold chosen, numbers the terms kept.",
}


def _figure(name: str, caption: str, title: str) -> str:
    return (
        "\\begin{figure}[htbp]\n\\centering\n"
        f"\\includegraphics[width=0.78\\textwidth]{{figures/{name}.pdf}}\n"
        f"\\caption{{{tex_escape(title)}: {tex_escape(caption)}}}\n\\end{{figure}}\n"
    )


def _verbatim(text: str) -> str:
    return "{\\tiny\\begin{verbatim}\n" + "\n".join(textwrap.wrap(text, 95)) + "\n\\end{verbatim}}"


def _section(res: CaseResult, figures: dict[str, str]) -> str:
    var = sp.latex(res.variable)
    # \filbreak: start a new page rather than strand the heading at a page's foot.
    lines = [
        f"\\filbreak\n\\section{{{tex_escape(res.title)}}}",
        "\\paragraph{System.}",
    ]
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
            # Thousands of characters of nested tanh help no reader: the size and
            # where the whole formula is say what the dump would have said.
            lines.append(
                f"{len(shown)} characters: too long to read, so not printed here; the whole "
                f"formula is in \texttt{{exported-{tex_escape(res.key)}.txt}} beside this "
                "report (and in results.json)."
            )
        else:
            lines.append(_verbatim(shown))
        err = float(notes["pade_max_error"])
        true = next((c for c in res.curves if c.name == "true"), None)
        spread = float(np.ptp(true.y)) if true is not None and true.y.size else 0.0
        verdict = (
            "so it does not represent the network at all"
            if spread and err > 0.1 * spread
            else "and it is no more readable"
        )
        lines.append(
            f"Its Pad\\'e approximant $[3/3]$ about $r = {tex_escape(notes['pade_center'])}$ "
            f"has max error {tex_escape(notes['pade_max_error'])} over the data range, against "
            f"a variation of the potential of {spread:.3g} there, {verdict} (the paper found "
            "such forms unreadable too):"
        )
        lines.append(_verbatim(notes["pade"]))
    for kind, name in figures.items():
        lines.append(_figure(name, _CAPTIONS[kind], res.title))
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


_BIBLIOGRAPHY = r"""\begin{thebibliography}{9}
\bibitem{bhat} H. S. Bhat, \emph{Learning and Interpreting Potentials for Classical
Hamiltonian Systems}, in: Machine Learning and Knowledge Discovery in Databases (ECML PKDD
2019 Workshops), Communications in Computer and Information Science 1167, Springer, 2020.
\end{thebibliography}"""


def _intro(run: RunResult) -> str:
    return (
        "This report reproduces section 3 of Bhat~\\cite{bhat}: a neural network potential "
        "$V(q;\\theta)$ is trained on trajectories $(q_i, p_i)$ sampled every $h$ by "
        "minimising the paper's loss (3),\n"
        "\\[ \\mathcal{L}(\\theta) = \\frac{1}{RN} \\sum_{r=1}^{R} \\sum_{i=0}^{N-1} "
        "\\Bigl\\| \\frac{p_{i+1} - p_i}{h} + \\nabla V(q_i; \\theta) \\Bigr\\|^2 , \\]\n"
        "then written as a short formula by sparse regression (SINDy) on a library of "
        "candidate terms. Three routes per training set: \\emph{paper-faithful} (loss (3), "
        "the paper's architecture and recipe, SINDy at the paper's threshold), "
        "\\emph{symhamil} (the midpoint loss, which replaces $\\nabla V(q_i)$ by "
        "$\\tfrac12(\\nabla V(q_i) + \\nabla V(q_{i+1}))$ and so has an $O(h^2)$ rather "
        "than $O(h)$ bias; a float64 tanh network; Adam then L-BFGS-B; the relative-residual "
        "threshold protocol) and \\emph{force-SINDy} (no network: sparse regression of the "
        "forces on the library's gradients). Relative errors are $|\\hat c - c|/|c|$ per "
        f"term; the additive constant is ignored. Budget \\texttt{{{run.budget}}}, seed "
        f"{int(run.seed)}, total wall time {run.wall_time:.0f} s.\n"
    )


#: A spurious term whose coefficient is at most this share of the largest is
#: below what the data resolve (1e-6 on exact data): it does not make a support
#: wrong, and the summary says "exact up to" it.
RESOLUTION = 1e-5


def _spurious(r) -> tuple[bool, bool]:
    """(any spurious term, any above :data:`RESOLUTION` of the largest coefficient)."""
    largest = max((abs(c) for c in r.coefficients.values()), default=0.0)
    extra = [t for t, e in r.relative_error.items() if not np.isfinite(e)]
    big = [t for t in extra if abs(r.coefficients.get(t, 0.0)) > RESOLUTION * largest]
    return bool(extra), bool(big)


def _exact(r) -> str:
    """ "yes", "yes, up to terms below 1e-05 of the largest", or "NO"."""
    if r.true_support:
        return "yes"
    extra, big = _spurious(r)
    missed = any(t not in r.coefficients and np.isfinite(e) for t, e in r.relative_error.items())
    if extra and not big and not missed:
        return f"yes, up to terms below {RESOLUTION:g} of the largest"
    return "NO"


def _max_err(r) -> str:
    """The worst error of the true terms, and whether spurious terms were kept."""
    if r is None:
        return "--"
    errors = list(r.relative_error.values())
    finite = [e for e in errors if np.isfinite(e)]
    text = _pct(max(finite, default=0.0))
    extra, big = _spurious(r)
    if not extra:
        return text
    return text + (" + spurious" if big else f" + terms $<${RESOLUTION:g}")


def _summary(run: RunResult) -> str:
    """One row per training set: each route's worst coefficient and the paper's."""
    rows = []
    for res in run.cases:
        paper = max(res.paper_relative_error.values(), default=None)
        verdicts = {_exact(r) for r in res.routes.values()}
        support = "NO" if "NO" in verdicts else max(verdicts, key=len)
        cells = [tex_escape(res.title), _pct(paper)]
        cells += [_max_err(res.routes.get(n)) for n in ROUTES]
        cells.append(tex_escape(support))
        rows.append(" & ".join(cells) + r" \\")
    head = "training set & paper & " + " & ".join(tex_escape(r.short) for r in ROUTES.values())
    return (
        "\\section*{Summary}\nThe largest relative error of any coefficient, by route "
        "(the paper's from its section 3), and whether every route found exactly the true "
        "terms.\n\\par\\medskip\\noindent\\resizebox{\\textwidth}{!}{"
        "\\begin{tabular}{l r r r r c}\n\\hline\n"
        f"{head} & true terms \\\\\n\\hline\n" + "\n".join(rows) + "\n\\hline\n"
        "\\end{tabular}}\\par\\medskip\n"
    )


def _conclusion(run: RunResult) -> str:
    cases = run.cases
    n = len(cases)
    ours = [c.routes["symhamil"] for c in cases if "symhamil" in c.routes]
    faithful = [c for c in cases if c.targets.get("faithful_at_least_as_close_as_paper")]
    with_paper = [c for c in cases if c.paper_relative_error and "faithful" in c.routes]
    parts = []
    if ours:
        exact = sum(r.true_support for r in ours)
        worst = max(r.max_relative_error for r in ours)
        parts.append(
            f"symhamil's route found exactly the true terms on {exact} of {len(ours)} training "
            f"sets, with every coefficient within {_pct(worst)} of the truth."
        )
    if with_paper:
        parts.append(
            f"The paper-faithful route is at least as close as the paper on every coefficient "
            f"of {len(faithful)} of the {len(with_paper)} training sets the paper reports."
        )
    fs = [c.routes["force_sindy"] for c in cases if "force_sindy" in c.routes]
    if fs:
        true_terms = [e for r in fs for e in r.relative_error.values() if np.isfinite(e)]
        spurious = any(not np.isfinite(e) for r in fs for e in r.relative_error.values())
        parts.append(
            "Force-SINDy, which needs no network, recovers the true coefficients to "
            f"{_pct(max(true_terms, default=0.0))}"
            + (
                ", but keeps tiny spurious terms where the midpoint bias resembles them."
                if spurious
                else "."
            )
        )
    return "\\section*{Conclusion}\n" + (" ".join(parts) or f"{n} training sets.") + "\n"


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
        _intro(run),
        _summary(run),
        _better_note(run.cases),
    ]
    for res in run.cases:
        body.append(_section(res, case_figures(res, out / "figures")))
        if len(res.notes.get("exported", "")) > EXPORT_CHARS:
            write_text(out / f"exported-{res.key}.txt", res.notes["exported"] + "\n")
    body.append(_conclusion(run))
    body.append(_BIBLIOGRAPHY)
    body.append(r"\end{document}")
    tex = write_text(out / "report.tex", "\n\n".join(body))
    if not compile:
        return tex, None, f"wrote {tex}"
    return (tex, *build_pdf(tex))
