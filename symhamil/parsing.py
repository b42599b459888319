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

import re
from collections.abc import Iterable
from tokenize import TokenError
from types import MappingProxyType

import sympy as sp
from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

__all__ = ["FUNCTIONS", "NAME", "as_expr", "check_name", "parse_formula"]

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
        )
    }
    | {"pi": sp.pi, "E": sp.E}
)

_NUMBER = re.compile(r"(?<![A-Za-z_])\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?")
_IDENT = re.compile(r"[A-Za-z_]\w*")
_CHARS = re.compile(r"[\w\s+\-*/^().,]*")
_PARSER_NAMES = {"Integer": sp.Integer, "Float": sp.Float, "Rational": sp.Rational}


def check_name(name: str, what: str = "symbol") -> str:
    """``name`` if it is a plain name (letters, digits, underscores; a letter first).

    Such names are safe in generated code and in LaTeX; anything else is refused.
    """
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ValueError(
            f"the {what} name {name!r} is not allowed: use letters, digits and underscores, "
            "starting with a letter (q, q1, p_x, theta)."
        )
    return name


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
    if not _CHARS.fullmatch(text):
        bad = sorted(set(re.sub(r"[\w\s+\-*/^().,]", "", text)))
        raise ValueError(
            f"the {what} {text!r} contains characters that are not arithmetic: {''.join(bad)}"
        )
    stripped = _NUMBER.sub(" ", text)
    if "." in stripped:
        raise ValueError(f"the {what} {text!r} uses '.' outside a number (no attribute access).")
    names = set(_IDENT.findall(stripped))
    unknown = sorted(n for n in names if n not in known and n not in FUNCTIONS)
    if unknown:
        raise ValueError(
            f"the {what} {text!r} uses unknown names {unknown}; known are the symbols "
            f"{sorted(known)} and the functions {sorted(FUNCTIONS)}."
        )
    local = dict(FUNCTIONS) | known | _PARSER_NAMES
    try:
        expr = parse_expr(
            text,
            local_dict=local,
            global_dict={"__builtins__": {}},
            transformations=(*standard_transformations, convert_xor),
        )
    except (SyntaxError, TypeError, ValueError, TokenError) as exc:
        raise ValueError(f"the {what} {text!r} is not a formula: {exc}") from None
    if not isinstance(expr, sp.Expr):
        raise ValueError(f"the {what} {text!r} is not an expression.")
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
