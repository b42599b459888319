"""Files written whole or not at all, never through a link.

Every file symhamil writes goes through here: the content is written to a
uniquely named temporary file in the destination folder, flushed to disk, and
renamed over the destination. A crash at any moment leaves either the old file
or the new one, never a half-written one, and two processes never share a
temporary name. The rename replaces a symbolic link at the destination instead
of writing through it, so a folder received from someone else cannot make
symhamil overwrite a file elsewhere; sub-folders symhamil makes inside an
output folder go through :func:`real_folder`, which refuses a link. New files
get the permissions of the user's umask, as ``open()`` would give them.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

import numpy as np

__all__ = [
    "LOAD_ERRORS",
    "atomic_write",
    "describe",
    "read_json_as",
    "read_regular",
    "real_folder",
    "write_bytes",
    "write_json",
    "write_npz",
    "write_text",
]

#: What a damaged or foreign file can raise while it is turned into a value.
LOAD_ERRORS = (
    json.JSONDecodeError,
    KeyError,
    TypeError,
    AttributeError,
    ValueError,
    IndexError,
    OverflowError,
    RecursionError,
)


def _file_mode() -> int:
    # os.umask can only be read by setting it; set it straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def real_folder(path: str | os.PathLike, *names: str) -> Path:
    """``path/names...`` as a real folder, made where missing; a link or a file is refused.

    ``path`` itself is the caller's choice and may be a link; each of ``names``
    is a folder symhamil makes inside it, and must not be one, so that writing
    into it stays inside ``path``.
    """
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        folder = folder / name
        if folder.is_symlink():
            raise ValueError(
                f"{folder} is a symbolic link; symhamil writes only into real folders inside "
                "the output folder. Remove the link (or choose another output folder)."
            )
        if folder.exists() and not folder.is_dir():
            raise ValueError(f"{folder} is a file, not a folder; move it or use another --out.")
        folder.mkdir(exist_ok=True)
    return folder


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> Path:
    """Call ``write(file)`` on a temporary file, then move it to ``path`` atomically.

    A link at ``path`` is replaced, never followed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fchmod(f.fileno(), _file_mode())  # mkstemp makes 0600
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return atomic_write(path, lambda f: f.write(data))


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, obj, indent: int | None = 1) -> Path:
    """Write ``obj`` as JSON to ``path`` atomically."""
    return write_text(path, json.dumps(obj, indent=indent))


def write_npz(path: str | os.PathLike, **arrays) -> Path:
    """Write arrays as an uncompressed ``.npz`` to exactly ``path`` (no suffix added)."""
    return atomic_write(path, lambda f: np.savez(f, **arrays))


def read_regular(path: str | os.PathLike, limit: int | None = None) -> bytes:
    """The bytes of ``path``, which must be a regular file and not a link.

    Used for files from a folder that may come from someone else: a link there
    could point at any file of the reader's. ``limit`` caps the size read.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        if path.is_symlink():
            raise ValueError(
                f"{path} is a symbolic link; symhamil does not follow links in a results "
                "folder. Replace it by the file itself."
            ) from None
        raise exc
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise ValueError(f"{path} is not a regular file.")
        if limit is not None and st.st_size > limit:
            raise ValueError(
                f"{path} holds {st.st_size:,} bytes, more than the {limit:,} symhamil reads from "
                "such a file."
            )
        return f.read()


def read_json_as(path: str | os.PathLike, from_json, what: str):
    """``from_json(json of path)``; a damaged or foreign file is a ValueError naming it."""
    try:
        return from_json(json.loads(Path(path).read_text()))
    except LOAD_ERRORS as exc:
        raise ValueError(f"{path}: not a saved {what} ({describe(exc)}).") from None


def describe(exc: BaseException, limit: int = 300) -> str:
    """One short line for a fault found while reading a file."""
    if isinstance(exc, KeyError):
        text = f"missing field {str(exc)[:80]}"
    elif isinstance(exc, ValueError | TypeError):
        text = str(exc)
    else:
        text = repr(exc)
    return text if len(text) <= limit else text[:limit] + " ..."
