"""Formulas and names from text, read without evaluating any Python.

SymPy's ``sympify`` of a string runs it through Python's ``eval``: a string
such as ``"__import__('os').system(...)"`` would run a command. symhamil never
passes user text to ``sympify``. :func:`parse_formula` accepts only the names
it is given (the system's symbols), a whitelist of mathematical functions,
numbers and arithmetic; anything else is refused before SymPy's parser sees
the text. :func:`check_name` is the rule for symbol names that reach generated
code and LaTeX: letters, digits and underscores, starting with a letter.
"""

from __future__ import annotations

import ast
import keyword
import math
import re
from collections.abc import Iterable
from tokenize import TokenError
from types import MappingProxyType

import sympy as sp
from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

__all__ = [
    "FUNCTIONS",
    "MAX_EXPONENT",
    "MAX_FORMULA",
    "NAME",
    "RESERVED",
    "as_expr",
    "check_name",
    "is_plain_name",
    "parse_formula",
]

#: What a symbol's name may look like: q, q1, p_x, q1x, theta, r_12.
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")

#: The functions a formula may use.
FUNCTIONS = MappingProxyType(
    {
        name: getattr(sp, name)
        for name in (
            "sin",
            "cos",
            "tan",
            "sinh",
            "cosh",
            "tanh",
            "exp",
            "log",
            "sqrt",
            "atan",
            "asin",
            "acos",
            "Abs",
        )
    }
    # |p| for Coulomb friction and drag, as SymPy prints it and as Python spells it.
    | {"abs": sp.Abs, "pi": sp.pi, "E": sp.E}
)

_NUMBER = re.compile(r"(?<![A-Za-z_])\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?")
_IDENT = re.compile(r"[A-Za-z_]\w*", re.ASCII)
# ASCII only: Python's tokenizer takes letters of any script (and NFKC-folds
# fullwidth ones), which would slip past the name check.
_CHARS = re.compile(r"[\w\s+\-*/^().,]*", re.ASCII)
_PARSER_NAMES = {"Integer": sp.Integer, "Float": sp.Float, "Rational": sp.Rational}

#: Names no symbol may have: Python's keywords, the parser's own names and the
#: functions and constants of :data:`FUNCTIONS`; a formula in such a symbol
#: could not be read back.
RESERVED = frozenset(
    {*keyword.kwlist, *keyword.softkwlist, *_PARSER_NAMES, "Symbol", "Function", *FUNCTIONS}
)

#: The longest formula read (characters): ample for any library term or
#: potential, and a bound on the parser's time and memory.
MAX_FORMULA = 10_000

#: The largest power of a number that may appear in a formula (|exponent|).
#: SymPy evaluates integer powers exactly: 9**9**9 alone would take minutes.
MAX_EXPONENT = 100

#: Literals beyond float range (1e999999999) are refused: SymPy would parse them exactly.
_MAX_DECIMAL_EXPONENT = 400
_MAX_DIGITS = 40


def is_plain_name(name) -> bool:
    """Whether ``name`` may name a symbol: ASCII letters, digits and underscores, a
    letter first, at most 64 characters, and not one of :data:`RESERVED`."""
    return (
        isinstance(name, str)
        and len(name) <= 64
        and NAME.fullmatch(name) is not None
        and name not in RESERVED
    )


def check_name(name: str, what: str = "symbol") -> str:
    """``name`` if it is a plain name (see :func:`is_plain_name`), else a ValueError.

    Such names are safe in generated code and in LaTeX, and a formula in them
    reads back through :func:`parse_formula`; anything else is refused.
    """
    if not is_plain_name(name):
        shown = repr(name) if not isinstance(name, str) or len(name) <= 80 else repr(name[:80])
        why = (
            "it is a Python keyword or the name of a function or constant formulas use"
            if isinstance(name, str) and name in RESERVED
            else "use ASCII letters, digits and underscores, starting with a letter, at most "
            "64 characters (q, q1, p_x, theta)"
        )
        raise ValueError(f"the {what} name {shown} is not allowed: {why}.")
    return name


def _shown(text: str, limit: int = 80) -> str:
    """``text`` for an error message, cut to ``limit`` characters."""
    return (
        repr(text)
        if len(text) <= limit
        else repr(text[:limit]) + f" (+{len(text) - limit} characters)"
    )


def _check_numbers(text: str, what: str) -> None:
    """Refuse literals and powers of numbers that SymPy would take unbounded time on.

    The text is read as a Python expression tree (no evaluation) and every power
    whose exponent is a number, or an expression of numbers, is bounded by
    :data:`MAX_EXPONENT` before SymPy evaluates anything.
    """
    for literal in _NUMBER.findall(text):
        mantissa, _, exponent = literal.lower().partition("e")
        if exponent and abs(int(exponent)) > _MAX_DECIMAL_EXPONENT:
            raise ValueError(
                f"the {what} {_shown(text)} has the number {literal}, far beyond the range of "
                "floating point (1e-308 to 1e308)."
            )
        if len(mantissa.replace(".", "").lstrip("0")) > _MAX_DIGITS:
            raise ValueError(
                f"the {what} {_shown(text)} has a number of more than {_MAX_DIGITS} digits."
            )
    try:
        tree = ast.parse(text.replace("^", "**").strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ValueError(f"the {what} {_shown(text)} is not a formula ({exc}).") from None
    stack = [(tree.body, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > 100:
            raise ValueError(f"the {what} {_shown(text)} is nested more than 100 levels deep.")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            power = _constant(node.right)
            if power is not None and not abs(power) <= MAX_EXPONENT:
                raise ValueError(
                    f"the {what} {_shown(text)} raises to the power {power:.6g}; powers of at "
                    f"most {MAX_EXPONENT} in size are allowed."
                )
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _constant(node) -> float | None:
    """The value of a sub-tree made of numbers only (None if it has a name or call).

    Evaluated in floats with every power bounded first, so it cannot hang.
    """
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
        v = _constant(node.operand)
        return None if v is None else (v if isinstance(node.op, ast.UAdd) else -v)
    if isinstance(node, ast.BinOp):
        a, b = _constant(node.left), _constant(node.right)
        if a is None or b is None:
            return None
        try:
            if isinstance(node.op, ast.Pow):
                if not abs(b) <= MAX_EXPONENT:
                    return math.inf
                return float(abs(a) ** b) if a else 0.0
            if isinstance(node.op, ast.Add):
                return a + b
            if isinstance(node.op, ast.Sub):
                return a - b
            if isinstance(node.op, ast.Mult):
                return a * b
            if isinstance(node.op, ast.Div):
                return a / b if b else math.inf
        except (OverflowError, ZeroDivisionError):
            return math.inf
    return None


def parse_formula(text: str, symbols: Iterable[sp.Symbol] = (), what: str = "formula") -> sp.Expr:
    """A SymPy expression from ``text``, with only ``symbols`` and :data:`FUNCTIONS` known.

    ``^`` means power, as in mathematics. No Python is evaluated: names other
    than the given symbols and the whitelisted functions, attribute access,
    strings, brackets other than parentheses and keywords are refused with a
    ValueError naming them.

    Examples
    --------
    >>> import sympy as sp
    >>> q = sp.Symbol("q")
    >>> parse_formula("q^2/2 + cos(q)", [q])
    q**2/2 + cos(q)
    """
    if not isinstance(text, str):
        raise TypeError(f"a {what} must be text here; got {type(text).__name__}.")
    known = {s.name: s for s in symbols}
    if len(text) > MAX_FORMULA:
        raise ValueError(
            f"the {what} {_shown(text)} has {len(text):,} characters; at most {MAX_FORMULA:,} "
            "are read."
        )
    if not _CHARS.fullmatch(text):
        bad = sorted(set(re.sub(r"[\w\s+\-*/^().,]", "", text, flags=re.ASCII)))
        raise ValueError(
            f"the {what} {_shown(text)} contains characters that are not arithmetic: "
            f"{''.join(bad)[:20]!r} (ASCII letters, digits, + - * / ^ ( ) . , only)."
        )
    stripped = _NUMBER.sub(" ", text)
    if "." in stripped:
        raise ValueError(
            f"the {what} {_shown(text)} uses '.' outside a number (no attribute access)."
        )
    names = set(_IDENT.findall(stripped))
    unknown = sorted(n for n in names if n not in known and n not in FUNCTIONS)
    if unknown:
        raise ValueError(
            f"the {what} {_shown(text)} uses unknown names {unknown[:10]}; known are the "
            f"symbols {sorted(known)[:20]} and the functions {sorted(FUNCTIONS)}."
        )
    _check_numbers(text, what)
    # Known symbols win over the functions' names (check_name keeps the parser's
    # own names out of symbols).
    local = _PARSER_NAMES | dict(FUNCTIONS) | known
    try:
        expr = parse_expr(
            text,
            local_dict=local,
            global_dict={"__builtins__": {}},
            transformations=(*standard_transformations, convert_xor),
        )
    except (SyntaxError, TypeError, ValueError, TokenError, NameError) as exc:
        raise ValueError(f"the {what} {_shown(text)} is not a formula: {exc}") from None
    except (RecursionError, MemoryError):
        raise ValueError(f"the {what} {_shown(text)} is nested too deeply to read.") from None
    if not isinstance(expr, sp.Expr):
        raise ValueError(f"the {what} {_shown(text)} is not an expression.")
    if expr.has(sp.I, sp.nan, sp.zoo, sp.oo, -sp.oo) or not all(
        math.isfinite(float(n)) for n in expr.atoms(sp.Number)
    ):
        raise ValueError(f"the {what} {_shown(text)} is not real and finite (in float range).")
    return expr


def as_expr(value, symbols: Iterable[sp.Symbol] = (), what: str = "expression") -> sp.Expr:
    """``value`` as a SymPy expression, never evaluating text as Python.

    SymPy objects pass through; Python and NumPy numbers become SymPy numbers;
    text goes through :func:`parse_formula` with ``symbols`` known. Anything
    else is refused with a TypeError.
    """
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, str):
        return parse_formula(value, symbols, what)
    if isinstance(value, bool) or value is None:
        raise TypeError(f"the {what} must be a SymPy expression or a number; got {value!r}.")
    if isinstance(value, int | float | complex) or (
        hasattr(value, "dtype") and getattr(value, "shape", None) == ()
    ):
        return sp.sympify(value.item() if hasattr(value, "item") else value)
    raise TypeError(
        f"the {what} must be a SymPy expression, a number or a formula as text; got "
        f"{type(value).__name__}."
    )
