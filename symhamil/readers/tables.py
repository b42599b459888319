"""Measured samples from delimited text files: :func:`read_csv`.

The file is streamed once and only the wanted columns are kept (as float64),
then :meth:`symhamil.Trajectories.from_samples` cuts the samples into pieces.
Errors name the file, the column and the row; nothing prints a whole array.
Molecular-dynamics files are read by :func:`symhamil.read_ase` (:mod:`.md`).
"""

from __future__ import annotations

import csv
import itertools
import os
import stat
from array import array

import numpy as np

from ..base.parsing import is_plain_name
from ..data.samples import check_masses
from ..data.trajectories import Trajectories

__all__ = ["coordinate_names", "read_csv"]


# Over 80 lines with its numpydoc docstring (26 of 90 lines); the code is 50.
def read_csv(
    path: str | os.PathLike,
    *,
    t: str = "t",
    q,
    p=None,
    v=None,
    trajectory: str | None = None,
    masses=None,
    delimiter: str | None = None,
    rtol: float = 0.01,
    min_points: int = 3,
    max_gap: int | None = None,
) -> Trajectories:
    """Measured samples from a delimited text file with a header row of column names.

    Parameters
    ----------
    path : str or path
        A text file: a header row, then one sample per row. Lines starting with
        ``#`` are skipped; an empty cell or ``nan`` marks a missing value (a gap).
    t : str
        Column of the time stamps.
    q : str or sequence of str
        Columns of the positions; their names become the coordinate names.
    p, v : str or sequence of str, optional
        Columns of the momenta, or of the velocities (then p = masses * v). Give
        neither for positions-only data.
    trajectory : str, optional
        Column of trajectory (run) ids; pieces never join two runs.
    masses : float or sequence of float, optional
    delimiter : str, optional
        Sniffed from the header (comma, semicolon, tab or spaces) by default.
    rtol, min_points, max_gap
        As in :meth:`Trajectories.from_samples`.

    Returns
    -------
    Trajectories
    """
    where = f"{os.fspath(path)}: "
    qcols = _names(q, "q")
    if p is not None and v is not None:
        raise ValueError("give momenta (p) or velocities (v), not both.")
    pcols = None if p is None and v is None else _names(p if p is not None else v, "p/v")
    if pcols is not None and len(pcols) != len(qcols):
        raise ValueError(
            f"{len(pcols)} momentum/velocity column(s) for {len(qcols)} position column(s)."
        )
    masses = check_masses(masses, len(qcols))
    try:
        kind = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"{where}no such file.") from None
    if not (stat.S_ISREG(kind) or stat.S_ISFIFO(kind)):
        raise ValueError(f"{where}not a file of samples (a folder or a device).")
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            header, columns, ids, line, runs = _read_columns(
                fh, where, t, qcols, pcols, trajectory, delimiter
            )
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{where}cannot be read as text ({exc}).") from None
    tt = columns[t]
    bad_t = np.flatnonzero(~np.isfinite(tt))
    if bad_t.size:
        raise ValueError(
            f"{where}column {t!r} has {bad_t.size} missing or non-finite time stamp(s), "
            f"the first in row {line[bad_t[0]]}; every sample needs its time."
        )
    qq = np.stack([columns[c] for c in qcols], axis=1)
    pp = None
    if pcols is not None:
        pp = np.stack([columns[c] for c in pcols], axis=1)
        if v is not None and masses is not None:
            pp = pp * np.asarray(masses)
    names = coordinate_names(qcols, header)
    try:
        return Trajectories.from_samples(
            tt,
            qq,
            pp,
            trajectory=ids,
            trajectory_names=runs,
            masses=masses,
            names=names,
            rtol=rtol,
            min_points=min_points,
            max_gap=max_gap,
        )
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"{where}{exc}") from None


#: The longest line read from a text file of samples (characters).
MAX_LINE = 1 << 20


def _read_columns(fh, where, t, qcols, pcols, trajectory, delimiter):
    """Stream the file once, keeping only the wanted columns as float64.

    Memory stays at 8 bytes per wanted value (plus an int per row for the
    trajectory id and the line number), whatever the width of the file.
    Returns (header, {column: values}, trajectory ids or None, line numbers, the
    trajectories' names in the order of their ids or None).
    """
    state = {"line": 0}

    def lines():
        while True:
            line = fh.readline(MAX_LINE + 1)
            if not line:
                return
            state["line"] += 1
            if len(line) > MAX_LINE:
                raise ValueError(
                    f"{where}line {state['line']} is longer than {MAX_LINE:,} characters; this "
                    "is not a table of samples."
                )
            if line.strip() and not line.lstrip().startswith("#"):
                yield line

    body = lines()
    head = next(body, None)
    if head is None:
        raise ValueError(f"{where}needs a header row and at least one row of samples.")
    if delimiter is None:
        delimiter = next((c for c in (",", ";", "\t") if c in head), None)

    def split(row_lines):
        if delimiter is None:
            return (ln.split() for ln in row_lines)
        return csv.reader(row_lines, delimiter=delimiter)

    rows = split(itertools.chain([head], body))
    try:
        header = [c.strip() for c in next(rows)]
        wanted = [t, *qcols, *(pcols or []), *([trajectory] if trajectory else [])]
        missing = [c for c in wanted if c not in header]
        if missing:
            raise ValueError(
                f"{where}no column(s) {', '.join(map(repr, missing))}; the header has "
                f"{', '.join(map(repr, header[:20]))}{' ...' if len(header) > 20 else ''}."
            )
        numeric = list(dict.fromkeys([t, *qcols, *(pcols or [])]))
        index = {c: header.index(c) for c in wanted}
        values = {c: array("d") for c in numeric}
        codes: dict[str, int] = {}
        ids = array("q")
        line_of = array("q")
        for row in rows:
            line_of.append(state["line"])
            for c in numeric:
                j = index[c]
                cell = row[j].strip() if j < len(row) else ""
                try:
                    values[c].append(float(cell) if cell else np.nan)
                except ValueError:
                    raise ValueError(
                        f"{where}column {c!r}, row {state['line']}: {cell[:40]!r} is not a number."
                    ) from None
            if trajectory:
                j = index[trajectory]
                key = row[j].strip() if j < len(row) else ""
                ids.append(codes.setdefault(key, len(codes)))
    except csv.Error as exc:
        raise ValueError(f"{where}row {state['line']}: {exc}.") from None
    if not line_of:
        raise ValueError(f"{where}needs a header row and at least one row of samples.")
    columns = {c: np.frombuffer(a, dtype=float) for c, a in values.items()}
    return (
        header,
        columns,
        np.frombuffer(ids, dtype=np.int64) if trajectory else None,
        np.frombuffer(line_of, dtype=np.int64),
        list(codes) if trajectory else None,
    )


def coordinate_names(columns, taken=()) -> list[str]:
    """Symbol names for columns: the column's own name where it is a plain name
    (:func:`~symhamil.base.parsing.is_plain_name`), else ``q{i}``, never one taken
    by another column or coordinate.

    >>> coordinate_names(["x", "my angle", "lambda", "q1"])
    ['x', 'q2', 'q3', 'q1']
    """
    keep = [c if is_plain_name(c) else None for c in columns]
    used = {c for c in keep if c} | {c for c in taken if c not in columns}
    out = []
    for i, c in enumerate(keep):
        if c is None:
            k = i
            while f"q{k}" in used or f"q{k}" in keep:
                k += 1
            c = f"q{k}"
            used.add(c)
        out.append(c)
    return out


def _names(cols, what: str) -> tuple[str, ...]:
    cols = (cols,) if isinstance(cols, str) else tuple(cols)
    if not cols or not all(isinstance(c, str) and c for c in cols):
        raise ValueError(f"the {what} columns must be given as column names; got {cols!r}.")
    return cols
