"""The coefficient table, built once and written for the terminal and for LaTeX."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp

from ...interpret.compare import format_relative_error
from .results import CaseResult
from .routes import ROUTES

__all__ = ["Row", "latex_table", "rows", "terminal_table"]


@dataclass(frozen=True)
class Row:
    """One term of a case: truth, paper, and each route's coefficient and error."""

    term: sp.Expr
    true: float
    paper: float | None
    paper_error: float | None
    routes: tuple[tuple[float, float] | None, ...]  # (coefficient, relative error) per route


def rows(result: CaseResult, routes: Sequence[str] | None = None) -> tuple[Row, ...]:
    """The table rows of ``result``: the true terms first, then any spurious ones."""
    routes = list(result.routes) if routes is None else list(routes)
    terms = list(result.truth)
    for r in result.routes.values():
        terms += [t for t in r.relative_error if t not in terms]
    out = []
    for t in terms:
        cells = []
        for name in routes:
            r = result.routes.get(name)
            cells.append(
                None if r is None else (r.coefficients.get(t, 0.0), r.relative_error.get(t, 0.0))
            )
        out.append(
            Row(
                t,
                result.truth.get(t, 0.0),
                result.paper.get(t),
                result.paper_relative_error.get(t),
                tuple(cells),
            )
        )
    return tuple(out)


def terminal_table(results: Sequence[CaseResult]) -> str:
    """Each coefficient, the truth, the paper, and every route's value and error."""
    head = f"{'term':>14s} {'true':>11s} {'paper':>10s} {'paper err':>10s}" + "".join(
        f" {ROUTES[n].short:>11s} {'error':>10s}" for n in ROUTES
    )
    lines = []
    for res in results:
        lines += ["", f"{res.title}  [{res.key}]", head]
        for row in rows(res, list(ROUTES)):
            cells = [f"{sp.sstr(row.term):>14s}", f"{row.true:11.6g}"]
            cells.append(f"{row.paper:10.5g}" if row.paper is not None else f"{'-':>10s}")
            cells.append(f"{format_relative_error(row.paper_error):>10s}")
            for cell in row.routes:
                if cell is None:
                    cells += [f"{'-':>11s}", f"{'-':>10s}"]
                else:
                    cells += [f"{cell[0]:11.6g}", f"{format_relative_error(cell[1]):>10s}"]
            lines.append(" ".join(cells))
    return "\n".join(lines)


def _num(x, digits=6) -> str:
    return "--" if x is None else f"{x:.{digits}g}"


def _pct(x) -> str:
    return format_relative_error(x, tex=True, digits=3)


def latex_table(result: CaseResult) -> str:
    """The case's coefficient table against the paper, as a LaTeX tabular."""
    names = list(result.routes)
    cols = "l r r r" + " r r" * len(names)
    head = "term & true & paper & error" + "".join(f" & {ROUTES[n].short} & error" for n in names)
    body = []
    for row in rows(result, names):
        cells = [
            f"${sp.latex(row.term)}$",
            _num(row.true),
            _num(row.paper),
            _pct(row.paper_error),
        ]
        for coefficient, error in row.routes:
            cells += [_num(coefficient, 8), _pct(error)]
        body.append(" & ".join(cells) + r" \\")
    # resizebox (graphicx) keeps ten columns inside the text width.
    return (
        "\\par\\medskip\\noindent\\resizebox{\\textwidth}{!}{"
        f"\\begin{{tabular}}{{{cols}}}\n\\hline\n{head} \\\\\n\\hline\n"
        + "\n".join(body)
        + "\n\\hline\n\\end{tabular}}\\par\\medskip\n"
    )
