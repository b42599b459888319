"""Trajectories in ``.npz`` files: what :meth:`~symhamil.Trajectories.save` writes
and :meth:`~symhamil.Trajectories.load` reads, and the paper author's radial
files. Reading never unpickles, and every error names the file."""

from __future__ import annotations

import os
import zipfile

import numpy as np

from ..base.files import write_npz
from .fields import check_array

__all__ = ["read_radial", "read_trajectories", "write_trajectories"]

#: Members written when the trajectories have them.
OPTIONAL = ("p", "energy_error", "lengths", "masses", "observed", "box", "particles", "forces",
            "md_steps", "species")  # fmt: skip
#: Members stored as one whole number.
WHOLE = ("particles", "md_steps")


def write_trajectories(path, traj) -> None:
    """Write ``traj`` to exactly ``path``, atomically (folders made as needed)."""
    arrays = {
        "q": traj.q,
        "h": np.float64(traj.h),
        "names": np.array(traj.names),
        "t0": np.asarray(traj.t0, dtype=np.float64),
    }
    for k in OPTIONAL:
        v = getattr(traj, k)
        if v is not None:
            arrays[k] = np.int64(v) if k in WHOLE else np.asarray(v)
    write_npz(path, **arrays)


def read_trajectories(path) -> tuple[str, dict]:
    """The fields stored in ``path`` (checked), and the prefix errors carry."""
    where = f"{os.fspath(path)}: "
    data = _open_npz(path, where, "q, p and h")
    try:
        with data:
            q, p, h, names, err, t0, extra = _read_members(data, where)
    except (OSError, EOFError, KeyError, zipfile.BadZipFile, TypeError) as exc:
        raise ValueError(f"{where}a damaged or unexpected member ({exc}).") from None
    except ValueError as exc:
        msg = str(exc)
        raise ValueError(msg if msg.startswith(where) else f"{where}{msg}") from None
    lengths = extra.get("lengths")
    fields = {
        "q": check_array("q", q, where, lengths),
        "p": None if p is None else check_array("p", p, where, lengths),
        "h": float(h.reshape(())),
        "names": names,
        "energy_error": err,
        "t0": t0,
        "lengths": lengths,
        "masses": extra.get("masses"),
        "observed": extra.get("observed"),
        "box": extra.get("box"),
        "particles": None if extra.get("particles") is None else int(extra["particles"]),
        "forces": None
        if extra.get("forces") is None
        else check_array("forces", extra["forces"], where, lengths),
        "md_steps": None if extra.get("md_steps") is None else int(extra["md_steps"]),
        "species": None if extra.get("species") is None else extra["species"].tolist(),
    }
    return where, fields


def read_radial(path) -> tuple[str, dict]:
    """The fields of a radial file (arrays r, rdot of shape (R, N+1), and h) as
    one-dimensional trajectories in r, and the prefix errors carry."""
    where = f"{os.fspath(path)}: "
    data = _open_npz(path, where, "r, rdot and h")
    with data:
        missing = {"r", "rdot", "h"} - set(data.files)
        if missing:
            raise ValueError(
                f"{where}missing array(s) {', '.join(sorted(missing))}; a radial "
                "file needs r, rdot of shape (R, N+1) and h."
            )
        try:
            r, rdot, h = data["r"], data["rdot"], data["h"]
        except (OSError, EOFError, ValueError, zipfile.BadZipFile) as exc:
            raise ValueError(f"{where}a damaged member ({exc}).") from None
    if r.ndim == 1:
        r, rdot = r[None], rdot[None]
    if r.ndim != 2 or r.shape != rdot.shape:
        raise ValueError(
            f"{where}r and rdot must both have shape (R, N+1); got {r.shape} and {rdot.shape}."
        )
    if np.any(np.asarray(r) <= 0):
        raise ValueError(f"{where}r must be positive (it is a distance).")
    if h.size != 1 or h.dtype.kind not in "fiu":
        raise ValueError(f"{where}h must be a single number; got {h.shape} {h.dtype}.")
    return where, {
        "q": check_array("r", r[..., None], where),
        "p": check_array("rdot", rdot[..., None], where),
        "h": float(np.reshape(h, ())),
        "names": ("r",),
    }


def _open_npz(path, where: str, arrays: str):
    """An open ``.npz`` (no pickles), or an error that names the file."""
    try:
        data = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise FileNotFoundError(f"{where}no such file.") from None
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{where}not a readable .npz file ({exc}).") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError(f"{where}is a single array (.npy), not an .npz with {arrays}.")
    return data


def _read_members(data, where: str):
    keys = set(data.files)
    if {"r", "rdot"} <= keys and "q" not in keys:
        raise ValueError(
            f"{where}holds radial arrays r and rdot, not q and p; load it "
            "with symhamil.load_radial."
        )
    missing = {"q", "h"} - keys
    if missing:
        raise ValueError(
            f"{where}missing array(s) {', '.join(sorted(missing))}; a "
            f"trajectory file needs q (R, N+1, d), h, and p unless it holds "
            f"positions only. It has {', '.join(sorted(keys)) or 'nothing'}."
        )
    h = data["h"]
    if h.size != 1:
        raise ValueError(f"{where}h must be a single number; got shape {h.shape}.")
    q = data["q"]
    p = data["p"] if "p" in keys else None
    names = tuple(str(n) for n in data["names"].reshape(-1)) if "names" in keys else None
    err = data["energy_error"] if "energy_error" in keys else None
    t0 = 0.0
    if "t0" in keys:
        t0_arr = data["t0"]
        if t0_arr.ndim > 1 or t0_arr.dtype.kind not in "fiu":
            raise ValueError(
                f"{where}t0 must be a number or one per trajectory; got "
                f"{t0_arr.shape} {t0_arr.dtype}."
            )
        t0 = float(t0_arr) if t0_arr.ndim == 0 else t0_arr
    if h.dtype.kind not in "fiu":
        raise ValueError(f"{where}h must be a number; got dtype {h.dtype}.")
    extra = {k: data[k] for k in OPTIONAL if k in keys and k not in ("p", "energy_error")}
    return q, p, h, names, err, t0, extra
