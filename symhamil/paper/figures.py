"""Figures of a reproduction, drawn from the stored results alone (matplotlib).

Every figure reads a :class:`~.results.CaseResult` - sampled curves, loss
histories, threshold paths - so the figures can be drawn again from
``results.json`` without TensorFlow or the trained models.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .results import CaseResult
from .routes import ROUTES

__all__ = ["case_figures"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only; no display on a server or in CI
    import matplotlib.pyplot as plt

    return plt


def _save(fig, folder: Path, name: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    for ext in ("png", "pdf"):
        fig.savefig(folder / f"{name}.{ext}", dpi=130, bbox_inches="tight")
    _pyplot().close(fig)
    return name


def _broken(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A line with a gap (NaN) where the samples jump, e.g. extrapolation on both sides."""
    if x.size < 3:
        return x, y
    dx = np.diff(x)
    jumps = np.flatnonzero(dx > 1.5 * np.median(dx)) + 1
    return np.insert(x, jumps, np.nan), np.insert(y, jumps, np.nan)


def _truth(result: CaseResult):
    return next((c for c in result.curves if c.name == "true"), None)


def _potential_line(result: CaseResult, folder: Path) -> str | None:
    plt = _pyplot()
    true = _truth(result)
    routes = {k: r for k, r in result.routes.items() if r.curves}
    if true is None or not routes:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    derived = result.truth_name != "V"
    ax.plot(true.x, true.y, "k-", lw=1, label=r"$V_{\rm eff}$ (derived)" if derived else "true V")
    for name, r in routes.items():
        route = ROUTES[name]
        for c in r.curves:
            inside = c.name == "data range"
            ax.plot(
                *_broken(c.x, c.y),
                "--" if inside else ":",
                color=route.colour if inside else route.extrapolation,
                lw=1.2 if inside else 2,
                label=f"{route.title} ({c.name})",
            )
    if result.data_range is not None:
        lo, hi = result.data_range
        ax.axvspan(lo, hi, color="0.93", zorder=0)
        inside = (true.x >= lo) & (true.x <= hi)
        span = true.y[inside] if inside.any() else true.y
        pad = 0.6 * (span.max() - span.min()) + 1e-12
        ax.set_ylim(span.min() - pad, span.max() + 2 * pad)
    ax.set_xlabel(f"${result.variable}$")
    ax.set_ylabel("potential (constant removed)")
    ax.set_title(result.title, fontsize=10)
    ax.legend(fontsize=7)
    return _save(fig, folder, f"{result.key}-potential")


def _potential_points(result: CaseResult, folder: Path) -> str | None:
    """A pair potential at training and held-out points (the paper's Figures 5-6)."""
    plt = _pyplot()
    true = _truth(result)
    routes = {k: r for k, r in result.routes.items() if any(c.points for c in r.curves)}
    if true is None or not routes:
        return None
    fig, axes = plt.subplots(1, len(routes), figsize=(4.6 * len(routes), 4.0), squeeze=False)
    for ax, (name, r) in zip(axes[0], routes.items(), strict=True):
        for c, colour in zip(r.curves, ("tab:blue", "tab:orange"), strict=False):
            ax.plot(c.x, c.y, ".", ms=2, color=colour, label=f"network, {c.name}")
        ax.plot(true.x, true.y, "k-", lw=1, label="true V")
        ax.set_ylim(-0.45, 0.05)
        ax.set_xlabel("$r = |q_1 - q_2|$")
        ax.set_title(ROUTES[name].title, fontsize=10)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("potential (constant removed)")
    return _save(fig, folder, f"{result.key}-potential")


def _losses(result: CaseResult, folder: Path) -> str | None:
    plt = _pyplot()
    trained = {k: r.training for k, r in result.routes.items() if r.training is not None}
    if not trained:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    for name, t in trained.items():
        ax.semilogy(
            np.linspace(0, t.iterations, len(t.history)),
            t.history,
            color=ROUTES[name].colour,
            label=f"{ROUTES[name].title} ({t.loss} loss)",
        )
    ax.set_xlabel("iteration (Adam or GD steps, then L-BFGS-B iterations)")
    ax.set_ylabel("training loss")
    ax.legend(fontsize=7)
    return _save(fig, folder, f"{result.key}-loss")


def _paths(result: CaseResult, folder: Path) -> str:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    for name, r in result.routes.items():
        colour = ROUTES[name].colour
        lam = np.array([s.threshold for s in r.path])
        res = np.array([max(s.residual, 1e-16) for s in r.path])
        ax.loglog(lam, res, ".-", color=colour, label=ROUTES[name].title)
        ax.loglog([r.threshold], [max(r.residual, 1e-16)], "o", mfc="none", ms=10, color=colour)
        for s in r.path[:: max(1, len(r.path) // 6)]:
            ax.annotate(str(len(s.terms)), (s.threshold, max(s.residual, 1e-16)), fontsize=6)
    ax.invert_xaxis()
    ax.set_xlabel(r"threshold $\lambda$ (numbers: terms kept)")
    ax.set_ylabel("relative residual")
    ax.legend(fontsize=7)
    return _save(fig, folder, f"{result.key}-path")


def case_figures(result: CaseResult, folder: str | Path) -> dict[str, str]:
    """Draw one case's figures (PNG and PDF) under ``folder``.

    Returns {kind: name}: kinds ``"potential"``, ``"pairs"`` (a point-cloud
    potential), ``"loss"`` and ``"path"``; names are without extension.
    """
    folder = Path(folder)
    clouds = any(c.points for r in result.routes.values() for c in r.curves)
    kinds = {
        "pairs" if clouds else "potential": (_potential_points if clouds else _potential_line)(
            result, folder
        ),
        "loss": _losses(result, folder),
        "path": _paths(result, folder),
    }
    return {k: v for k, v in kinds.items() if v}
