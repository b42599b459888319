"""SINDy on values: a potential (a network, a formula, a function) sampled at
points, regressed on a library; with data, the data choose the support."""

from __future__ import annotations

import numpy as np

from ..data.geometry import Geometry
from ..data.trajectories import Trajectories
from ..learning.planning import Plan, use_plan
from ..systems.potentials import as_potential
from .fit import PathStep, SparseFit, Stage, _result
from .library import Library
from .observations import _pair_forces, force_equations
from .regression import _lstsq, _relative_residual, stlsq
from .selection import (
    MIN_BLOCK_ROWS,
    Selection,
    _bic,
    _fit_path,
    as_selection,
    folds,
    held_out,
    small_subsets,
)

__all__ = ["sindy"]


def sindy(
    target,
    library: Library,
    points,
    *,
    selection: Selection | None = None,
    data: Trajectories | None = None,
    plan: Plan | None = None,
    geometry: Geometry | None = None,
    **deprecated,
) -> SparseFit:
    """Sparse regression of a potential's values on a library (the paper's SINDy).

    Parameters
    ----------
    target : NeuralPotential, sympy.Expr or callable
        What to fit: anything with ``.potential(points)``, a SymPy expression in
        ``library.symbols``, or a callable mapping points (K, d) to values (K,).
    library : Library
    points : array_like, shape (K, d)
        Where the target and the library are evaluated (training points or a grid).
    selection : Selection, optional
        A fixed threshold, or the path and its rule (:class:`symhamil.Selection`);
        by default the paper's protocol: the residual rule on the path from 1
        down to 1e-8.
    data : Trajectories, optional
        The trajectories a network was trained on: the support is then chosen
        among the path's models by the BIC of a force regression on them, not by
        the residual rule (see ``_select_by_data``). For networks trained on
        measured, noisy data, and for pair potentials: with a library in one
        symbol r and many-body data, the forces are pair sums (the geometry of
        the :class:`~symhamil.neural.PairPotential` whose ``pair_potential`` is
        the target, or of the data).
    plan : Plan, optional
        The plan of ``data`` (made once by :func:`symhamil.plan`).
    geometry : Geometry, optional
        The many-body geometry of the force regression on ``data``.
    **deprecated
        ``threshold``, ``thresholds``, ``rtol`` and ``ratio`` of symhamil 0.1,
        fields of ``selection`` now (a DeprecationWarning).

    Returns
    -------
    SparseFit
    """
    selection = as_selection(selection, "sindy", **deprecated)
    x = library._points(points)
    y = np.asarray(as_potential(target, library.symbols).require_values()(x), dtype=float)
    if y.ndim == 0:
        y = np.broadcast_to(y, (x.shape[0],))
    if y.shape != (x.shape[0],) or not np.isfinite(y).all():
        raise ValueError(
            f"the target must give one finite value per point, shape "
            f"({x.shape[0]},); got shape {y.shape}"
            f"{'' if np.isfinite(y).all() else ' with non-finite values'}."
        )
    theta = library.evaluate(x)
    library.check(theta)
    keep = [j for j, t in enumerate(library.terms) if t == 1]
    if not keep:
        # A potential is defined up to a constant (a network's is arbitrary): a
        # library without one is fitted to the values' variations, or the terms
        # would absorb the constant (a network of V = 7.7 x^2 - 4936 x on pixels,
        # V(320) = 3e5 off, read as 10.3 x^2 - 6595 x).
        theta, y = theta - theta.mean(axis=0), y - y.mean()
    if data is not None and selection.threshold is None:
        return _select_by_data(theta, y, library, keep, selection, data, plan, target, geometry)
    selection = selection.with_rule("residual")
    beta, lam, res, path = _fit_path(theta, y, library, keep, selection)
    return (
        _result(beta, lam, res, path, library)
        .then(
            Stage(
                "regression", "sparse regression on values", {"points": len(y)}, ("coefficients",)
            )
        )
        .then(Stage("selection", "threshold path", selection.describe() | {"chosen": lam}))
    )


def _select_by_data(
    theta, y, library, keep, selection, data, plan=None, target=None, geometry=None
) -> SparseFit:
    """The network proposes, the data decide: every distinct support on the
    threshold path of the network's values (for pair potentials, and on the
    data's own path) is scored by a force regression on the trajectories
    ``data`` restricted to it (with force-SINDy's plan for them): by its BIC,
    or with the rule "cv" (the plan's on noisy data) by its error on held-out
    blocks, the fewest terms within one standard error of the best winning.
    Its coefficients are fitted to the network's values as usual.

    A network's error is smooth and systematic, so its values cannot say which
    small terms are real (the residual rule keeps all seven pendulum terms on a
    nearly collinear library); the measured forces carry the likelihood.
    """
    if not isinstance(data, Trajectories):
        raise TypeError(f"data must be symhamil.Trajectories; got {type(data).__name__}.")
    how = use_plan(data, plan)
    varying = [j for j, t in enumerate(library.terms) if t.free_symbols]
    vlib = Library(tuple(library.terms[j] for j in varying), library.symbols)
    pair = _pair_forces(target, data, vlib, geometry)
    th_d, y_d, where = force_equations(how.prepare(data), vlib, how.kind, 1, how.window, pair)
    rule = selection.rule or how.select
    fold = folds(where, len(y_d))
    cv = rule == "cv" and min(np.bincount(fold)) >= MIN_BLOCK_ROWS
    thresholds = selection.thresholds
    if thresholds is None:
        # The data judge, so the path may start above 1: in units where terms
        # carry large coefficients (argon in eV and angstrom: 1e5 r^-12), the
        # spurious ones are larger than 1 too.
        top = float(np.max(np.abs(_lstsq(theta, y)), initial=1.0))
        k0 = int(np.ceil(20 * np.log10(top))) if top > 1 else 0
        thresholds = tuple(10.0 ** (np.arange(k0, -8 * 20 - 1, -1) / 20))
    proposals = [(lam_k, stlsq(theta, y, lam_k, keep)) for lam_k in thresholds]
    if pair is not None:
        # Many bodies: the pair force regression has a row per particle, axis and
        # sample and is exact on MD data, while a network's phi over a short range
        # of r cannot tell nearly collinear inverse powers apart. Its own path
        # proposes supports too; their coefficients still come from the network.
        for lam_k in thresholds:
            s = np.flatnonzero(stlsq(th_d, y_d, lam_k))
            if s.size:
                cols = sorted({varying[j] for j in s} | set(keep))
                b = np.zeros(len(library.terms))
                b[cols] = _lstsq(theta[:, cols], y)
                proposals.append((lam_k, b))
    if cv:
        # Held-out error can judge any support, so every small one is proposed
        # too, with its coefficients fitted to the network's values: a network's
        # own path may never pass through the simplest (cos q, sin q of 7 terms).
        for s in small_subsets(varying, keep):
            b = np.zeros(len(library.terms))
            b[list(s)] = _lstsq(theta[:, list(s)], y)
            proposals.append((float(np.min(np.abs(b[list(s)]))), b))
    path, seen, rows = [], set(), []
    for lam_k, b in proposals:
        support = tuple(np.flatnonzero(b != 0))
        if support in seen:
            continue
        seen.add(support)
        cols = [varying.index(j) for j in support if j in varying]
        if cols:  # a model without a varying term has no force to compare
            rows.append((lam_k, b, support, cols))
    if not rows:  # every proposal is empty: the empty model, as the path gives it
        lam_k, b = proposals[0]
        rows, crits, chosen = [(lam_k, b, tuple(np.flatnonzero(b)), [])], [np.inf], 0
    elif cv:
        score, chosen, fits = held_out(th_d, y_d, fold, [cols for *_, cols in rows])
        crits = list(score)
    else:
        fits = []
        for *_, cols in rows:
            bd = np.zeros(len(varying))
            bd[cols] = _lstsq(th_d[:, cols], y_d)  # scaled: r^-12 columns are tiny
            fits.append(bd)
        crits = [_bic(th_d, y_d, bd) for bd in fits]
        chosen = int(np.argmin(crits))
    for (lam_k, b, support, _), crit in zip(rows, crits, strict=True):
        path.append(
            PathStep(
                float(lam_k),
                tuple(library.terms[j] for j in support),
                _relative_residual(theta, y, b),
                float(crit),
            )
        )
    beta, step = rows[chosen][1], path[chosen]
    fit = _result(beta, step.threshold, step.residual, tuple(path), library)
    judge = "held-out error" if cv else "BIC"
    method = f"support by the {judge} of {how.kind} force regression on the data"
    return fit.then(
        Stage("regression", "sparse regression on values", {"points": len(y)}, ("coefficients",)),
        method=method,
    ).then(
        Stage("selection", f"{judge} of the force regression on the data",
              {"observations": how.kind, "window": how.window, "supports": len(path)})
    )  # fmt: skip
