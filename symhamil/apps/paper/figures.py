"""Figures of a reproduction, drawn from the stored results alone (matplotlib).

Every figure reads a :class:`~.results.CaseResult` - sampled curves, loss
histories, threshold paths - so the figures can be drawn again from
``results.json`` without TensorFlow or the trained models.
"""

from __future__ import annotations

from pathlib import Path

from ...report.plots import draw_loss, draw_path, draw_potential, pyplot
from ...report.plots import save_figure as _save
from .results import CaseResult
from .routes import ROUTES

__all__ = ["case_figures"]


def _truth(result: CaseResult):
    return next((c for c in result.curves if c.name == "true"), None)


def _potential_line(result: CaseResult, folder: Path) -> str | None:
    plt = pyplot()
    true = _truth(result)
    routes = {k: r for k, r in result.routes.items() if r.curves}
    if true is None or not routes:
        return None
    fig, (ax, res_ax) = plt.subplots(
        2, 1, figsize=(6.4, 5.2), sharex=True, gridspec_kw={"height_ratios": [3, 1.2]}
    )
    curves = []
    for name, r in routes.items():
        route = ROUTES[name]
        for c in r.curves:
            inside = c.name == "data range"
            style = {
                "color": route.colour if inside else route.extrapolation,
                "lw": 1.2 if inside else 2,
            }
            curves.append((f"{route.title} ({c.name})", c.x, c.y, style, inside))
    label = r"$V_{\rm eff}$ (derived)" if result.truth_name != "V" else "true V"
    draw_potential(ax, res_ax, true.x, true.y, curves, result.data_range, label)
    res_ax.set_xlabel(f"${result.variable}$")
    ax.set_title(result.title, fontsize=10)
    return _save(fig, folder, f"{result.key}-potential")


def _potential_points(result: CaseResult, folder: Path) -> str | None:
    """A pair potential at training and held-out points (the paper's Figures 5-6)."""
    plt = pyplot()
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
    plt = pyplot()
    trained = {k: r.training for k, r in result.routes.items() if r.training is not None}
    if not trained:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    draw_loss(
        ax,
        {
            f"{ROUTES[n].title} ({t.loss} loss)": (
                t.history,
                t.iterations,
                {"color": ROUTES[n].colour},
            )
            for n, t in trained.items()
        },
    )
    return _save(fig, folder, f"{result.key}-loss")


def _paths(result: CaseResult, folder: Path) -> str:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    draw_path(
        ax,
        {
            ROUTES[n].title: (r.path, r.threshold, r.residual, ROUTES[n].colour)
            for n, r in result.routes.items()
        },
    )
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
