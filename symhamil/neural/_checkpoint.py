"""Checkpoints of a training run: written whole or not at all, checked before resuming.

A checkpoint folder holds ``checkpoint.npz`` (weights, optimizer state, history,
step counts, stage) and ``config.json`` (the architecture and the training
settings that must match to resume). Both are written atomically; the arrays
first, so a config.json always describes a complete checkpoint beside it.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..base.files import write_json, write_npz

CHECKPOINT = "checkpoint.npz"
CONFIG = "config.json"

#: Stages of a run, in order. "done": finished for the totals it records.
STAGES = ("first-order", "lbfgs", "done")


@dataclass(frozen=True)
class Saved:
    """What a checkpoint holds, read back."""

    weights: list
    optimizer: dict
    history: np.ndarray
    n_steps: int
    n_lbfgs: int
    stage: str
    windows: list
    totals: dict


def signature(model, key: dict, traj) -> dict:
    """What a checkpoint must match: architecture, training settings, data shape
    (and for a pair potential its particles, box and cutoff)."""
    sig = {
        "architecture": model.arch_.to_json(),
        "training": key,
        "data": {"R": traj.R, "N": traj.N, "d": traj.dim, "h": traj.h},
    }
    geometry = getattr(model, "_geometry", None)
    if geometry is not None:
        sig["pairs"] = geometry()
    if not model.scaling_.is_identity:  # checkpoints from before scalings stay readable
        sig["scaling"] = model.scaling_.to_json()
    friction = getattr(model, "friction_", None)
    if friction is not None and getattr(model, "_drag", None) is not None:  # in the targets
        sig["friction"] = {"R": str(friction)}
    return sig


def write(folder: Path, sig: dict, weights, optimizer: dict, run_state: dict) -> Path:
    arrays = {f"w{i}": w for i, w in enumerate(weights)} | optimizer
    arrays |= {
        "history": np.asarray(run_state["history"], dtype=float),
        "n_steps": run_state["n_steps"],
        "n_lbfgs": run_state["n_lbfgs"],
        "stage": run_state["stage"],
        "windows": np.asarray(run_state["windows"], dtype=int),
        "totals": json.dumps(run_state["totals"]),
    }
    path = write_npz(folder / CHECKPOINT, **arrays)
    write_json(folder / CONFIG, sig, indent=2)
    return path


def _differences(saved: dict, now: dict) -> str:
    keys = [k for k in now if saved.get(k) != now[k]]
    return ", ".join(f"{k}: saved {saved.get(k)!r}, now {now[k]!r}" for k in keys)


def read(folder: Path, sig: dict, shapes: list[tuple[int, ...]]) -> Saved | None:
    """The checkpoint in ``folder`` if there is one; refused when it does not match ``sig``.

    ``shapes`` are the shapes of the model's variables: the saved weights and
    optimizer moments must have them.
    """
    ck = folder / CHECKPOINT
    if not ck.exists():
        return None
    try:
        saved = json.loads((folder / CONFIG).read_text())
        if not isinstance(saved, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        raise ValueError(
            f"the checkpoint in {folder} has an unreadable {CONFIG} ({exc}); use another "
            "checkpoint_dir, or resume=False to start afresh."
        ) from None
    if saved.get("architecture") != sig["architecture"]:
        raise ValueError(
            f"the checkpoint in {folder} was written by a different architecture "
            f"({_differences(saved.get('architecture', {}), sig['architecture'])}); "
            "use another checkpoint_dir or the matching architecture."
        )
    for part, what in (("training", "training settings"), ("data", "data"), ("scaling", "units"),
                       ("friction", "friction")):  # fmt: skip
        was, now = saved.get(part), sig.get(part)
        if was != now:
            diff = _differences(was or {}, now or {}) or f"saved {was!r}, now {now!r}"
            raise ValueError(
                f"the checkpoint in {folder} was written with other {what} ({diff}); "
                "use another checkpoint_dir, or resume=False to start afresh."
            )
    try:
        return _read_arrays(ck, shapes)
    except (
        OSError, EOFError, KeyError, ValueError, TypeError, OverflowError, zipfile.BadZipFile
    ) as exc:  # fmt: skip
        raise ValueError(
            f"the checkpoint {ck} is damaged ({exc}); use another checkpoint_dir, or "
            "resume=False to start afresh."
        ) from None


def _read_arrays(ck: Path, shapes: list[tuple[int, ...]]) -> Saved:
    with np.load(ck, allow_pickle=False) as d:
        weights = [_real(d[f"w{i}"], f"w{i}") for i in range(len(shapes))]
        got = [w.shape for w in weights]
        if got != [tuple(s) for s in shapes]:
            raise ValueError(f"its weights have shapes {got}, this model's are {shapes}")
        if not all(np.isfinite(w).all() for w in weights):
            raise ValueError("its weights hold non-finite values")
        optimizer = {k: d[k] for k in d.files if (k[0] in "mv" and k[1:].isdigit()) or k == "t"}
        for k, v in optimizer.items():
            want = (
                () if k == "t" else tuple(shapes[int(k[1:])]) if int(k[1:]) < len(shapes) else None
            )
            if _real(v, k).shape != want or not np.isfinite(v).all():
                raise ValueError(f"its optimizer state {k} has shape {v.shape}, not {want}, "
                                 "or holds non-finite values")  # fmt: skip
        history = _real(d["history"], "history").astype(float)
        n_steps, n_lbfgs = int(d["n_steps"]), int(d["n_lbfgs"])
        stage = str(d["stage"])
        if stage not in STAGES:
            raise ValueError(f"its stage {stage!r} is none of {', '.join(STAGES)}")
        if history.ndim != 1 or not 0 <= n_steps <= history.size or n_lbfgs < 0:
            raise ValueError(
                f"its step counts (n_steps {n_steps}, n_lbfgs {n_lbfgs}) do not fit its "
                f"history of {history.size} losses"
            )
        return Saved(
            weights=weights,
            optimizer=optimizer,
            history=history,
            n_steps=n_steps,
            n_lbfgs=n_lbfgs,
            stage=stage,
            windows=d["windows"].tolist(),
            totals=json.loads(str(d["totals"])),
        )


def _real(a: np.ndarray, name: str) -> np.ndarray:
    if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise ValueError(f"its array {name} holds {a.dtype} values, not real numbers")
    return a


LOCK = "lock"


class FolderInUse(RuntimeError):
    """Another process is training into the same checkpoint folder."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def acquire(folder: Path) -> Path:
    """Take the folder's lock file (holding this process's id), or refuse.

    A lock left by a process that no longer runs (killed mid-training) is taken
    over; one held by a live process is refused with its id.
    """
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / LOCK
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                pid = int(lock.read_text().strip() or 0)
            except (OSError, ValueError):
                pid = 0
            if pid and pid != os.getpid() and _alive(pid):
                raise FolderInUse(
                    f"the checkpoint folder {folder} is in use by process {pid}; wait for it, "
                    "or use another checkpoint_dir."
                ) from None
            lock.unlink(missing_ok=True)  # stale: its process is gone
            continue
        with os.fdopen(fd, "w") as f:
            f.write(str(os.getpid()))
        # Holding the lock, any temporary file here was left by a killed writer.
        for tmp in folder.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
        return lock
    raise FolderInUse(f"could not take the lock of {folder}; try again.")


def release(lock: Path) -> None:
    lock.unlink(missing_ok=True)
