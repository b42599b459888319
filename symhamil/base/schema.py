"""Shapes of JSON documents read from files someone else may have written.

``symhamil report DIR`` renders a results.json that may come from anyone: a
field of the wrong type, a list where a mapping belongs, an infinite step
count or a 100 MB title must end in one error naming the file and the field,
before anything is drawn. A schema here is plain data:

* a type (``str``, ``bool``, ``int``, ``float``: an int or a finite float),
* :class:`Text` (a string of bounded length), :class:`Number` (bounds, NaN or
  infinities allowed or not),
* a list ``[spec]`` (any length up to :data:`MAX_ITEMS`), :class:`Optional`,
* a dict ``{key: spec}`` (those keys required, others ignored; a key ending in
  ``?`` is optional), or :class:`Mapping` (any keys from a set, one spec).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .files import read_regular

__all__ = ["MAX_ITEMS", "Mapping", "Number", "Optional", "Text", "check"]

#: The most items of one list (a rollout's error curve holds up to 400 per piece).
MAX_ITEMS = 1_000_000


@dataclass(frozen=True)
class Text:
    """A string of at most ``limit`` characters."""

    limit: int = 10_000


@dataclass(frozen=True)
class Number:
    """An int or float within [lo, hi]; NaN or infinities only where allowed."""

    lo: float = -math.inf
    hi: float = math.inf
    nan: bool = False
    inf: bool = False
    whole: bool = False


@dataclass(frozen=True)
class Optional:
    """``spec`` or null."""

    spec: Any


@dataclass(frozen=True)
class Mapping:
    """A JSON object whose keys are among ``keys`` (any if None), each value ``spec``."""

    spec: Any
    keys: frozenset | None = None
    limit: int = 10_000


def check(value, spec, where: str, path: str = "") -> None:
    """Raise ValueError ``"{where}: {path} ..."`` unless ``value`` fits ``spec``."""
    at = path or "the document"

    def fail(what: str):
        raise ValueError(f"{where}: {at} {what}.")

    if spec is float:
        spec = Number()
    elif spec is int:
        spec = Number(whole=True)
    elif spec is str:
        spec = Text()
    elif spec is dict:
        spec = {}  # any object
    if isinstance(spec, Optional):
        if value is not None:
            check(value, spec.spec, where, path)
        return
    if spec is bool:
        if not isinstance(value, bool):
            fail(f"must be true or false, not {_kind(value)}")
    elif isinstance(spec, Text):
        if not isinstance(value, str):
            fail(f"must be text, not {_kind(value)}")
        if len(value) > spec.limit:
            fail(f"holds {len(value):,} characters; at most {spec.limit:,} are read")
    elif isinstance(spec, Number):
        if isinstance(value, bool) or not isinstance(value, int | float):
            fail(f"must be a number, not {_kind(value)}")
        if isinstance(value, float) and math.isnan(value):
            if not spec.nan:
                fail("is NaN")
            return
        if isinstance(value, float) and math.isinf(value) and not spec.inf:
            fail(f"is {value}, not a finite number")
        if spec.whole and not (isinstance(value, int) or float(value).is_integer()):
            fail(f"must be a whole number, not {value}")
        if not spec.lo <= value <= spec.hi:
            fail(f"is {value}, outside [{spec.lo:g}, {spec.hi:g}]")
    elif isinstance(spec, list):
        if not isinstance(value, list):
            fail(f"must be a list, not {_kind(value)}")
        if len(value) > MAX_ITEMS:
            fail(f"holds {len(value):,} items; at most {MAX_ITEMS:,} are read")
        for i, item in enumerate(value):
            check(item, spec[0], where, f"{path}[{i}]")
    elif isinstance(spec, Mapping):
        if not isinstance(value, dict):
            fail(f"must be an object (a mapping), not {_kind(value)}")
        if len(value) > spec.limit:
            fail(f"holds {len(value):,} entries; at most {spec.limit:,} are read")
        for k, v in value.items():
            if spec.keys is not None and k not in spec.keys:
                shown = k if len(k) <= 40 else k[:40] + "..."
                fail(f"has the unknown entry {shown!r}; known are {', '.join(sorted(spec.keys))}")
            check(v, spec.spec, where, f"{path}.{k}" if path else k)
    elif isinstance(spec, dict):
        if not isinstance(value, dict):
            fail(f"must be an object (a mapping), not {_kind(value)}")
        for key, sub in spec.items():
            name = key.rstrip("?")
            if name not in value:
                if key.endswith("?"):
                    continue
                fail(f"has no field {name!r}")
            check(value[name], sub, where, f"{path}.{name}" if path else name)
    else:  # pragma: no cover - a schema's own fault
        raise TypeError(f"unknown schema {spec!r}")


#: The longest string read anywhere in such a document (characters).
MAX_STRING = 1_000_000


def _bounded_strings(doc, path) -> None:
    stack = [doc]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            for k, x in v.items():
                if len(k) > MAX_STRING:
                    raise ValueError(f"{path}: a key of {len(k):,} characters; too long to read.")
                stack.append(x)
        elif isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, str) and len(v) > MAX_STRING:
            raise ValueError(
                f"{path}: holds a text of {len(v):,} characters; at most {MAX_STRING:,} are read."
            )


def _kind(value) -> str:
    return {dict: "an object", list: "a list", str: "text", type(None): "null"}.get(
        type(value), type(value).__name__
    )


#: The largest results.json read (bytes).
MAX_DOCUMENT = 256 * 2**20


def read_document(path, spec, kind: str | None = None) -> dict:
    """The JSON object in ``path`` (a regular file, not a link), checked against ``spec``.

    ``kind``, when given, must be the document's ``"kind"`` field. Every fault
    is a ValueError that names the file.
    """
    path = Path(path)
    try:
        raw = read_regular(path, MAX_DOCUMENT)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file.") from None
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"{path}: not readable JSON ({str(exc)[:200]}).") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: must hold a JSON object, not {_kind(doc)}.")
    _bounded_strings(doc, path)
    if kind is not None and doc.get("kind") != kind:
        found = str(doc.get("kind"))[:60]
        raise ValueError(f"{path}: not the results of {kind!r} (its kind is {found!r}).")
    check(doc, spec, str(path))
    return doc
