"""Files written whole or not at all.

Every file symhamil writes goes through here: the content is written to a
uniquely named temporary file in the destination folder, flushed to disk, and
renamed over the destination. A crash at any moment leaves either the old file
or the new one, never a half-written one, and two processes never share a
temporary name.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

import numpy as np

__all__ = ["atomic_write", "read_json_as", "write_json", "write_npz", "write_text"]


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> Path:
    """Call ``write(file)`` on a temporary file, then move it to ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def write_json(path: str | os.PathLike, obj, indent: int | None = 1) -> Path:
    """Write ``obj`` as JSON to ``path`` atomically."""
    return write_text(path, json.dumps(obj, indent=indent))


def write_npz(path: str | os.PathLike, **arrays) -> Path:
    """Write arrays as an uncompressed ``.npz`` to exactly ``path`` (no suffix added)."""
    return atomic_write(path, lambda f: np.savez(f, **arrays))


def read_json_as(path: str | os.PathLike, from_json, what: str):
    """``from_json(json of path)``; a damaged or foreign file is a ValueError naming it."""
    try:
        return from_json(json.loads(Path(path).read_text()))
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path}: not a saved {what} ({exc!r}).") from None
