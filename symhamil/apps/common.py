"""What both ``symhamil learn`` applications (CSV files and MD files) check and
claim before any work: the ``--columns`` and ``--library`` text, the settings,
the output folder. Each application imports this, never the other."""

from __future__ import annotations

from pathlib import Path

import sympy as sp

from ..base.checks import positive_number, whole_number
from ..base.parsing import parse_formula
from ..base.schema import read_document
from ..data.trajectories import momentum_symbols
from ..sindy import MAX_BOOTSTRAP, Library, check_seed

__all__ = ["check_request", "claim_folder", "parse_columns", "parse_friction", "parse_library"]

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
    """Library terms from text (``"1, cos(q), q**2"``), or polynomials to ``degree``.

    With 2 or more coordinates, none of them named r, terms may use r = |q|
    (``"1/r, r**2"``): each is written in the coordinates, as
    :meth:`Library.radial` does, and the fit prints in r."""
    symbols = tuple(symbols)
    if text is None:
        return Library.polynomial(symbols, degree)
    radius = None
    if len(symbols) >= 2 and all(s.name != "r" for s in symbols):
        radius = sp.Symbol("r")
    known = symbols + ((radius,) if radius is not None else ())
    terms = [parse_formula(t, known, "library term") for t in _split_top(text)]
    if radius is not None:
        r = sp.sqrt(sp.Add(*(s**2 for s in symbols)))
        terms = [t.xreplace({radius: r}) for t in terms]
    return Library(tuple(terms), symbols)


def parse_friction(text: str | None, coords) -> Library | None:
    """Rayleigh functions from text (``"p_q**2/2, Abs(p_q)"``) in the momenta
    named after the coordinates (q -> p_q); with one coordinate, ``p`` is p_q too.
    None without text."""
    if text is None:
        return None
    coords = tuple(coords)
    momenta = momentum_symbols(coords)
    alias = {}
    if len(momenta) == 1 and all(c.name != "p" for c in coords):
        alias = {sp.Symbol("p"): momenta[0]}
    known = (*coords, *momenta, *alias)
    terms = [parse_formula(t, known, "friction term").xreplace(alias) for t in _split_top(text)]
    return Library(tuple(terms), (*coords, *momenta))


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
    for name in ("library", "truth", "friction"):
        text = getattr(settings, name, None)
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
