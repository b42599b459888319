"""Recovered against true (or effective) potentials, term by term."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..base.files import read_json_as, write_json
from ..base.parsing import as_expr, check_name, parse_formula
from ..systems.hamiltonian import Hamiltonian

__all__ = ["Comparison", "compare", "decompose", "format_relative_error"]


def decompose(
    expr: sp.Expr, symbols: Sequence[sp.Symbol], known: Sequence[sp.Expr] = ()
) -> dict[sp.Expr, float]:
    """Split ``expr`` into {term: coefficient}, the constant under the key 1.

    A summand c * t with t among ``known`` stays whole (so (10 - r)**-2 is not
    multiplied out); any other summand is expanded once more if that changes it
    (q**2 (q - 2)**2 becomes monomials), and else its sums inside sines and
    cosines (-c cos(q - q0), a pendulum read with an offset, becomes the
    -c cos q0 cos q - c sin q0 sin q a library of cos q and sin q recovers).
    """
    symbols = tuple(symbols)
    known = set(known)
    out: dict[sp.Expr, float] = {}
    for arg in sp.Add.make_args(as_expr(expr, symbols)):
        c, t = arg.as_independent(*symbols, as_Add=False)
        if t != 1 and t not in known:
            expanded = sp.expand(arg)
            if expanded == arg:
                expanded = sp.expand(arg, trig=True)
            if expanded != arg:
                for k, v in decompose(expanded, symbols, known).items():
                    out[k] = out.get(k, 0.0) + v
                continue
        out[t] = out.get(t, 0.0) + float(c)
    return out


@dataclass(frozen=True)
class Row:
    term: sp.Expr
    recovered: float
    true: float
    interval: tuple[float, float] | None = None
    inclusion: float | None = None

    @property
    def covered(self) -> bool | None:
        """Whether the interval holds the true coefficient (None without one)."""
        if self.interval is None:
            return None
        return self.interval[0] <= self.true <= self.interval[1]

    @property
    def relative_error(self) -> float:
        """|recovered - true| / |true|; inf for a spurious term (true = 0)."""
        if self.true == 0:
            return float("inf") if self.recovered != 0 else 0.0
        return abs(self.recovered - self.true) / abs(self.true)


@dataclass(frozen=True, eq=False)
class Comparison:
    """Per-term comparison, the constant ignored.

    Attributes
    ----------
    rows : tuple of Row
    recovered, truth : sympy.Expr
    gradient_error : float or None
        max |grad V_rec - grad V_true| / max |grad V_true| over the points given.
    """

    rows: tuple[Row, ...]
    recovered: sp.Expr
    truth: sp.Expr
    gradient_error: float | None

    @property
    def max_relative_error(self) -> float:
        return max((r.relative_error for r in self.rows), default=0.0)

    @property
    def same_support(self) -> bool:
        return all((r.recovered != 0) == (r.true != 0) for r in self.rows)

    @property
    def has_error_bars(self) -> bool:
        return any(r.interval is not None or r.inclusion is not None for r in self.rows)

    def table(self) -> str:
        """A plain-text table (with intervals and inclusion when the fit had error bars)."""
        bars = self.has_error_bars
        head = f"{'term':>16s} {'recovered':>14s} {'true':>14s} {'rel. error':>11s}"
        if bars:
            head += f" {'95% interval':>27s} {'covers':>6s} {'incl.':>5s}"
        lines = [head]
        for r in self.rows:
            line = (
                f"{sp.sstr(r.term):>16s} {r.recovered:14.8g} {r.true:14.8g} "
                f"{r.relative_error:11.3e}"
            )
            if bars:
                iv = "" if r.interval is None else f"[{r.interval[0]:.6g}, {r.interval[1]:.6g}]"
                cov = "" if r.covered is None else ("yes" if r.covered else "no")
                inc = "" if r.inclusion is None else f"{r.inclusion:.2f}"
                line += f" {iv:>27s} {cov:>6s} {inc:>5s}"
            lines.append(line)
        if self.gradient_error is not None:
            lines.append(f"max relative error of grad V: {self.gradient_error:.3e}")
        return "\n".join(lines)

    def latex_table(self) -> str:
        """A LaTeX tabular of the rows (with intervals and inclusion when present)."""
        bars = self.has_error_bars

        def extra(r):
            if not bars:
                return ""
            iv = "" if r.interval is None else f"[{r.interval[0]:.6g}, {r.interval[1]:.6g}]"
            inc = "" if r.inclusion is None else f"{r.inclusion:.2f}"
            return f" & {iv} & {inc}"

        body = "\n".join(
            rf"${sp.latex(r.term)}$ & {r.recovered:.8g} & {r.true:.8g} & "
            rf"{_latex_number(r.relative_error)}{extra(r)} \\"
            for r in self.rows
        )
        cols, head = ("lrrrrr", " & 95\\% interval & inclusion") if bars else ("lrrr", "")
        return (
            f"\\begin{{tabular}}{{{cols}}}\n\\hline\nterm & recovered & true & relative error"
            f"{head} \\\\\n\\hline\n{body}\n\\hline\n\\end{{tabular}}"
        )

    def latex_side_by_side(self, digits: int = 6) -> str:
        """Recovered and true potential, each without its constant, in an align block."""

        def strip(e):
            parts = decompose(e, self._symbols, [r.term for r in self.rows])
            return sp.Add(*(sp.Float(c, digits) * t for t, c in parts.items() if t != 1))

        return (
            "\\begin{align*}\n"
            rf"\hat V &= {sp.latex(strip(self.recovered))} \\"
            "\n"
            rf"V &= {sp.latex(sp.nsimplify(strip(self.truth), rational=False))}"
            "\n"
            "\\end{align*}"
        )

    def __repr__(self) -> str:
        return (
            f"Comparison({len(self.rows)} terms, max relative error "
            f"{self.max_relative_error:.3g}, same support {self.same_support})"
        )

    def _repr_latex_(self) -> str:
        return self.latex_side_by_side()

    def to_json(self) -> dict:
        """A JSON-ready dict (terms as SymPy strings; inf written as null)."""
        return {
            "symbols": [s.name for s in self._symbols],
            "recovered": sp.sstr(self.recovered),
            "truth": sp.sstr(self.truth),
            "rows": [
                {
                    "term": sp.sstr(r.term),
                    "recovered": r.recovered,
                    "true": r.true,
                    "interval": None if r.interval is None else list(r.interval),
                    "inclusion": r.inclusion,
                }
                for r in self.rows
            ],
            "gradient_error": self.gradient_error,
        }

    @classmethod
    def from_json(cls, d: dict) -> Comparison:
        """Read :meth:`to_json`'s form, parsing terms with only its symbols known."""
        symbols = [sp.Symbol(check_name(n)) for n in d["symbols"]]

        def expr(text):
            return parse_formula(text, symbols, "term")

        rows = tuple(
            Row(
                expr(r["term"]),
                float(r["recovered"]),
                float(r["true"]),
                None if r.get("interval") is None else tuple(map(float, r["interval"])),
                None if r.get("inclusion") is None else float(r["inclusion"]),
            )
            for r in d["rows"]
        )
        g = d["gradient_error"]
        return cls(rows, expr(d["recovered"]), expr(d["truth"]), None if g is None else float(g))

    def save(self, path) -> None:
        """Write :meth:`to_json` to ``path`` (atomically)."""
        write_json(path, self.to_json())

    @classmethod
    def load(cls, path) -> Comparison:
        return read_json_as(path, cls.from_json, "Comparison")

    @property
    def _symbols(self):
        return tuple(sorted(self.recovered.free_symbols | self.truth.free_symbols, key=str))


def format_relative_error(x: float | None, tex: bool = False, digits: int = 4) -> str:
    """A relative error as a percentage for tables: "-" if absent, "spurious" if inf.

    ``tex=True`` escapes the percent sign and uses ``digits`` significant digits;
    plain text uses ``digits`` decimals.
    """
    if x is None:
        return "--" if tex else "-"
    if not np.isfinite(x):
        return "spurious"
    return f"{100 * x:.{digits}g}\\%" if tex else f"{100 * x:.{digits}f}%"


def _latex_number(x: float) -> str:
    if not np.isfinite(x):
        return r"$\infty$"
    m, e = f"{x:.2e}".split("e")
    return rf"${m} \times 10^{{{int(e)}}}$"


def compare(
    recovered: sp.Expr,
    truth: sp.Expr,
    symbols: Sequence[sp.Symbol],
    points=None,
    terms: Sequence[sp.Expr] = (),
) -> Comparison:
    """Compare a recovered potential with the true (or effective) one, term by term.

    Parameters
    ----------
    recovered : sympy.Expr or SparseFit
        A fit brings its library's terms (kept whole) and, where it has them,
        its intervals and inclusion probabilities into the rows.
    truth : sympy.Expr, System or PairSystem
        A declared system's potential (V, or a pair system's phi) is taken with
        its parameter values substituted exactly (``substituted``), in ``symbols``.
    symbols : sequence of sympy.Symbol
    points : array_like, shape (K, d), optional
        Where to compare the gradients.
    terms : sequence of sympy.Expr, optional
        Terms kept whole in both expressions, e.g. a library's terms, so that
        (10 - r)**-2 is compared as itself rather than multiplied out.

    Returns
    -------
    Comparison
        One row per non-constant term of either expression.
    """
    symbols = tuple(symbols)
    intervals, inclusion = {}, {}
    if hasattr(recovered, "library") and hasattr(recovered, "coefficients"):  # a SparseFit
        fit = recovered
        intervals, inclusion = dict(fit.intervals or {}), dict(fit.inclusion or {})
        terms = (*terms, *fit.library.terms)
        recovered = fit.expression
    if isinstance(truth, Hamiltonian):  # a System's V, a PairSystem's phi
        system = truth
        truth = system.substituted().xreplace(dict(zip(system.variables, symbols, strict=True)))
    recovered = as_expr(recovered, symbols, "recovered potential")
    truth = as_expr(truth, symbols, "true potential")
    for what, e in (("recovered", recovered), ("true", truth)):
        extra = e.free_symbols - set(symbols)
        if extra:
            raise ValueError(
                f"the {what} potential {e} uses {sorted(map(str, extra))}, which are not among "
                f"the symbols {[str(s) for s in symbols]}; substitute their values first."
            )
    rec = decompose(recovered, symbols, known=list(terms))
    true = decompose(truth, symbols, known=[*terms, *rec])
    terms = [t for t in dict.fromkeys([*rec, *true]) if t != 1]
    rows = tuple(
        Row(t, rec.get(t, 0.0), true.get(t, 0.0), intervals.get(t), inclusion.get(t))
        for t in terms
    )
    grad_err = None
    if points is not None:
        x = np.asarray(points, dtype=float)
        if x.ndim == 1 and len(symbols) == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[1] != len(symbols):
            raise ValueError(
                f"points must have shape (K, {len(symbols)}) for the symbols "
                f"{[str(s) for s in symbols]}; got {x.shape}."
            )

        def grad(e):
            fs = [sp.lambdify(symbols, sp.diff(e, s), "numpy") for s in symbols]
            return np.stack([np.broadcast_to(f(*x.T), x.shape[:1]) for f in fs], axis=1)

        gt, gr = grad(truth), grad(recovered)
        grad_err = float(np.abs(gr - gt).max() / np.abs(gt).max())
    return Comparison(rows, recovered, truth, grad_err)
