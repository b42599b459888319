"""Plots for one's own runs: a learned potential against the truth with its residual,
a loss curve, a threshold path. The paper's report draws its figures with the
same functions.

matplotlib is imported only when a function here is called. Each function
draws into axes it is given (or makes a figure) and returns the figure.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import sympy as sp

from ..base.files import real_folder, write_bytes
from ..systems.potentials import as_potential

__all__ = [
    "draw_loss",
    "draw_pair_potential",
    "draw_path",
    "draw_potential",
    "plot_loss",
    "plot_pair_potential",
    "plot_path",
    "plot_potential",
    "save_figure",
]


def pyplot():
    # matplotlib loads only when something is drawn, never on `import symhamil`.
    import matplotlib
    import matplotlib.pyplot as plt

    if not _interactive():
        matplotlib.use("Agg")  # files only: no display on a server or in CI
    return plt


def _interactive() -> bool:

    return "ipykernel" in sys.modules or hasattr(sys, "ps1")


def save_figure(fig, folder, name: str, formats=("png", "pdf"), dpi: int = 130) -> str:
    """Write ``fig`` as ``folder/name.png`` and ``.pdf`` atomically, then close it.

    matplotlib's ``savefig`` to a path would follow a link planted there; the
    figure is drawn into memory and written by the one link-safe writer, and
    ``folder`` (made inside its parent) may not be a link. Returns ``name``.
    """
    folder = Path(folder)
    folder = real_folder(folder.parent, folder.name)
    for ext in formats:
        buf = io.BytesIO()
        fig.savefig(buf, format=ext, dpi=dpi, bbox_inches="tight")
        write_bytes(folder / f"{name}.{ext}", buf.getvalue())
    pyplot().close(fig)
    return name


def broken(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A line with a gap (NaN) where the samples jump, e.g. extrapolation on both sides."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.size < 3:
        return x, y
    dx = np.diff(x)
    jumps = np.flatnonzero(dx > 1.5 * np.median(dx)) + 1
    return np.insert(x, jumps, np.nan), np.insert(y, jumps, np.nan)


def draw_potential(
    ax,
    res_ax,
    x_true: np.ndarray,
    y_true: np.ndarray,
    learned: Sequence[tuple[str, np.ndarray, np.ndarray, dict, bool]],
    data_range: tuple[float, float] | None = None,
    true_label: str = "true V",
) -> None:
    """Draw potentials against the truth on ``ax`` and their residual on ``res_ax``.

    ``learned`` holds (label, x, y, matplotlib style, inside the data) per curve;
    the residual is drawn for the curves inside the data.
    """
    ax.plot(x_true, y_true, "k-", lw=1, label=true_label)
    for label, x, y, style, inside in learned:
        ax.plot(*broken(x, y), "--" if inside else ":", label=label, **style)
        if inside and res_ax is not None:
            res_ax.plot(x, np.asarray(y) - np.interp(x, x_true, y_true), "-", **style)
    if res_ax is not None:
        res_ax.axhline(0.0, color="k", lw=0.6)
        res_ax.set_ylabel("learned - true", fontsize=8)
        res_ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
    if data_range is not None:
        lo, hi = data_range
        for a in (ax, res_ax):
            if a is not None:
                a.axvspan(lo, hi, color="0.93", zorder=0)
        inside = (x_true >= lo) & (x_true <= hi)
        span = y_true[inside] if inside.any() else y_true
        pad = 0.6 * (span.max() - span.min()) + 1e-12
        ax.set_ylim(span.min() - pad, span.max() + 2 * pad)
    ax.set_ylabel("potential (constant removed)")
    ax.legend(fontsize=7)


def draw_loss(ax, histories: Mapping[str, tuple[np.ndarray, int, dict]]) -> None:
    """Loss curves: {label: (history, iterations it spans, style)} on a log scale."""
    for label, (history, iterations, style) in histories.items():
        h = np.asarray(history, dtype=float)
        ax.semilogy(np.linspace(0, iterations, len(h)), h, label=label, **style)
    ax.set_xlabel("iteration (Adam or GD steps, then L-BFGS-B iterations)")
    ax.set_ylabel("training loss")
    ax.legend(fontsize=7)


def draw_path(ax, paths: Mapping[str, tuple[Sequence, float, float, str]]) -> None:
    """Threshold paths: {label: (steps, chosen threshold, its residual, colour)}.

    Each step has ``threshold``, ``residual`` and its terms (``support`` or
    ``terms``); the number of terms kept labels a few points, offset per path so
    that labels of different paths do not overlap.
    """
    for k, (label, (steps, lam0, res0, colour)) in enumerate(paths.items()):
        lam = np.array([s.threshold for s in steps])
        res = np.array([max(s.residual, 1e-16) for s in steps])
        ax.loglog(lam, res, ".-", color=colour, label=label)
        ax.loglog([lam0], [max(res0, 1e-16)], "o", mfc="none", ms=10, color=colour)
        for s in steps[:: max(1, len(steps) // 5)]:
            kept = getattr(s, "terms", None) or getattr(s, "support", ())
            ax.annotate(
                str(len(kept)),
                (s.threshold, max(s.residual, 1e-16)),
                xytext=(3, 4 + 7 * k),
                textcoords="offset points",
                fontsize=6,
                color=colour,
            )
    ax.invert_xaxis()
    ax.set_xlabel(r"threshold $\lambda$ (numbers: terms kept)")
    ax.set_ylabel("relative residual")
    ax.legend(fontsize=7)


# ---------------------------------------------------------------- for one's own runs
def plot_potential(learned, truth, variable, x, data_range=None, labels=None):
    """Learned potential(s) against the truth, with the residual below.

    Parameters
    ----------
    learned : model, SymPy expression, callable, or a sequence of them
        Anything :func:`symhamil.as_potential` accepts (in ``variable``).
    truth : System, SymPy expression or callable
    variable : sympy.Symbol
    x : array_like, shape (K,)
        Where to draw (one variable).
    data_range : (float, float), optional
        Shaded; the constant of each learned potential is matched to the truth
        over it (over all of ``x`` without it).

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = pyplot()
    x = np.asarray(x, dtype=float)
    items = learned if isinstance(learned, list | tuple) else [learned]
    labels = labels or [
        f"learned {i + 1}" if len(items) > 1 else "learned" for i in range(len(items))
    ]
    y_true = np.asarray(as_potential(truth, (variable,)).require_values()(x[:, None]), dtype=float)
    lo, hi = data_range if data_range is not None else (x.min(), x.max())
    inside = (x >= lo) & (x <= hi)
    curves = []
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (item, label) in enumerate(zip(items, labels, strict=True)):
        v = np.asarray(as_potential(item, (variable,)).require_values()(x[:, None]), dtype=float)
        v = v - np.mean(v[inside] - y_true[inside])
        style = {"color": colours[i % len(colours)]}
        curves.append((label, x[inside], v[inside], style, True))
        if (~inside).any():
            curves.append((f"{label} (extrapolated)", x[~inside], v[~inside], style, False))
    fig, (ax, res_ax) = plt.subplots(
        2, 1, figsize=(6.4, 5.2), sharex=True, gridspec_kw={"height_ratios": [3, 1.2]}
    )
    draw_potential(ax, res_ax, x, y_true, curves, data_range)
    res_ax.set_xlabel(f"${variable}$")
    return fig


def plot_loss(model, ax=None):
    """A trained model's loss curve (``model.history_``)."""
    plt = pyplot()
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(6.4, 3.2))
    h = np.asarray(model.history_, dtype=float)
    draw_loss(ax, {"training loss": (h, h.size, {})})
    return fig


def plot_path(fit, ax=None, label: str = "threshold path"):
    """A sparse fit's threshold path (``fit.path``), the chosen threshold circled."""
    plt = pyplot()
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(6.4, 3.2))
    draw_path(ax, {label: (fit.path, fit.threshold, fit.residual, "tab:blue")})
    return fig


def draw_pair_potential(ax, hist_ax, r, curves, distances, cutoff=None) -> None:
    """Pair potentials phi(r) on ``ax`` and the histogram of pair distances on ``hist_ax``.

    ``distances`` are the distances (P,) or a histogram (counts, edges).

    ``curves`` holds (label, phi values on ``r``, matplotlib style); the range of
    the distances seen is shaded, and each curve is shifted to match the first
    (the truth) over it.
    """
    if isinstance(distances, tuple):
        edges = distances[1]
        lo, hi = float(edges[0]), float(edges[-1])
    else:
        lo, hi = float(np.min(distances)), float(np.max(distances))
    inside = (r >= lo) & (r <= hi)
    ref = None
    for label, y, style in curves:
        y = np.asarray(y, dtype=float)
        if ref is None:
            ref = y
        else:
            y = y - np.mean(y[inside] - ref[inside])
        ax.plot(r, y, label=label, **style)
    if ref is not None and inside.any():
        span = ref[inside]
        pad = 0.15 * (span.max() - span.min()) + 1e-12
        ax.set_ylim(span.min() - pad, min(span.max(), span.min() + 6 * (np.median(span) -
                    span.min()) + pad) + pad)  # fmt: skip
    for a in (ax, hist_ax):
        a.axvspan(lo, hi, color="0.93", zorder=0)
        if cutoff is not None:
            a.axvline(cutoff, ls=":", color="0.4")
    ax.set_ylabel(r"$\phi(r)$ (shift removed)")
    ax.legend(fontsize=7)
    if isinstance(distances, tuple):  # (counts, edges), as results files keep them
        hist_ax.stairs(*distances, fill=True, color="0.5")
    else:
        hist_ax.hist(distances, bins=80, color="0.5")
    hist_ax.set_xlabel("pair distance $r$")
    hist_ax.set_ylabel("pairs seen", fontsize=8)


def plot_pair_potential(learned, truth, r, distances, cutoff=None, labels=None):
    """Learned pair potential(s) against the truth, over a histogram of the data's
    pair distances (:func:`symhamil.data.geometry.pair_distances`).

    Parameters
    ----------
    learned : SymPy expression in r, callable of (K, 1) distances, or a sequence
    truth : SymPy expression in r or callable, optional
    r : array_like, shape (K,)
        Where to draw.
    distances : array_like, shape (P,)
    cutoff : float, optional
        Marked with a dotted line.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = pyplot()
    r = np.asarray(r, dtype=float)
    items = learned if isinstance(learned, list | tuple) else [learned]
    labels = labels or [f"learned {i + 1}" if len(items) > 1 else "learned"
                        for i in range(len(items))]  # fmt: skip

    def values(item):
        sym = _symbol_of(item)
        f = as_potential(item, (sym,)).require_values()
        with np.errstate(all="ignore"):
            return np.broadcast_to(np.asarray(f(r[:, None]), dtype=float), r.shape)

    curves = [] if truth is None else [("true", values(truth), {"color": "k", "lw": 1})]
    for item, label in zip(items, labels, strict=True):
        curves.append((label, values(item), {"ls": "--"}))
    fig, (ax, hist_ax) = plt.subplots(
        2, 1, figsize=(6.4, 5.2), sharex=True, gridspec_kw={"height_ratios": [3, 1.2]}
    )
    draw_pair_potential(ax, hist_ax, r, curves, np.asarray(distances), cutoff)
    return fig


def _symbol_of(item):
    """The one free symbol of a SymPy expression (r), or a placeholder for callables."""

    free = getattr(item, "free_symbols", None)
    if free and len(free) == 1:
        return next(iter(free))
    expr = getattr(item, "expression", None)  # a SparseFit
    if expr is not None and len(expr.free_symbols) == 1:
        return next(iter(expr.free_symbols))
    return sp.Symbol("r")
