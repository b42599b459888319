"""Force-SINDy: the library's gradients regressed on the data's forces (pair,
triple or weak observations), a model chosen on the threshold path, refined by
shooting, with a block bootstrap; and the same on pair sums for many bodies.

Settings travel as values: the data's :class:`~symhamil.learning.planning.Plan`
(observations, window, smoothing, noise, time scale) and a
:class:`~symhamil.sindy.selection.Selection`, made once and passed on.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from functools import partial

import numpy as np
import sympy as sp

from ..base.checks import positive_number, whole_number
from ..data.geometry import Geometry, as_geometry
from ..data.trajectories import Trajectories
from ..learning.observations import check_loss, pairs
from ..learning.planning import QUIET, Plan, use_plan
from ..readers.md import stored_frames
from ..systems.pairs import PairLibrary, species_symbols
from ..systems.reduce import reduce_radial
from .between_frames import between_frames
from .ensembles import MAX_BOOTSTRAP, check_seed
from .ensembles import bootstrap as block_bootstrap
from .fit import SparseFit, Stage, _result
from .friction import friction_library, is_friction_term
from .library import Library
from .observations import drag_equations, force_equations, places
from .refinement import refine as shoot  # force_sindy has a parameter named refine
from .regression import _lstsq, _relative_residual, stlsq
from .selection import Selection, _fit_path, as_selection, chosen_fit
from .streaming import stream_moments

__all__ = ["force_sindy", "pair_force_sindy", "radial_force_sindy", "select_friction"]


#: On the threshold path, models whose BIC is within this of the best are
#: refined by shooting and chosen between by the BIC of the trajectories.
BIC_MARGIN = 10.0
#: On coarse data, this many of the simplest supports (one or two terms, best
#: held-out error first) are refined by shooting beside the chosen one.
COARSE_CANDIDATES = 8


def _refined(fit, traj, how, theta, y, library, method, selection) -> SparseFit:
    """``fit`` with coefficients fitted by shooting; with the BIC rule the
    close competitors on the path are refined too, and the model of least
    trajectory BIC (2 cost + k log n, cost in noise units) wins.

    Regression rows of overlapping windows are correlated, so their BIC can
    hesitate between nested models (T1 with q alone at 1% noise: 4 or 5 terms,
    BIC 2 apart); the samples themselves are independent, and there the extra
    term must pay for itself in the likelihood.
    """
    candidates = [fit]
    if selection.threshold is None and how.coarse and selection.rule == "cv":
        # Coarse sampling biases every pair observation (O(h^2): 2% at
        # h / tau = 0.5), and the terms that absorb the bias win on them; shooting
        # is exact between samples, so it judges the simplest supports the
        # held-out errors rank best, and the trajectory BIC decides.
        chosen = set(fit.coefficients)
        small = sorted(
            (s for s in fit.path if 0 < len(s.support) <= 2 and set(s.support) != chosen),
            key=lambda s: s.criterion,
        )
        # Each chosen term alone, then the best ranked: the bias can make a
        # spurious partner rank every pair above the true term alone.
        alone = [s for s in small if len(s.support) == 1 and s.support[0] in chosen]
        picked = alone + [s for s in small if s not in alone][:COARSE_CANDIDATES]
        for step in picked:
            cols = [library.terms.index(t) for t in step.support]
            beta = np.zeros(len(library.terms))
            beta[cols] = _lstsq(theta[:, cols], y)
            res = _relative_residual(theta, y, beta)
            candidates.append(_result(beta, step.threshold, res, fit.path, library))
    if selection.threshold is None and selection.rule == "bic":
        best = min(p.criterion for p in fit.path)
        chosen = set(fit.coefficients)
        for step in fit.path:
            if (
                step.criterion - best <= BIC_MARGIN
                and set(step.support) != chosen
                and step.support
            ):
                beta = stlsq(theta, y, step.threshold)
                res = _relative_residual(theta, y, beta)
                candidates.append(_result(beta, step.threshold, res, fit.path, library))
    n = traj.n_points * traj.dim * (2 if traj.has_momenta else 1)
    scored, cand = [], candidates[0]
    if len(candidates) > 1:
        # Candidates are compared on short segments; only the winner goes on to
        # segments as long as the dynamics allow, which costs several times more.
        for cand in candidates:
            r = shoot(cand, traj, plan=how, continuation=False)
            scored.append((2 * r.cost + len(r.coefficients) * np.log(n), cand, r))
        _, cand, r = min(scored, key=lambda x: x[0])
        cand = cand.replace(coefficients=r.coefficients, expression=r.expression)
    r = shoot(cand, traj, plan=how)
    tried = max(len(scored), 1)
    if selection.threshold is None:
        cand, r, swapped = _friction_swaps(cand, r, traj, n, theta, y, library, fit.path, how)
        tried += swapped
    note = ""
    if tried > 1:
        note = f"; chosen by trajectory BIC from {tried} candidates"
    if r.note:
        note += f"; {r.note}"
    stage = Stage(
        "refinement",
        "shooting (maximum likelihood)",
        {"segments": r.segments, "candidates": tried if tried > 1 else 0,
         "residual correlation": round(r.correlation, 4),
         "intervals": "coefficient +- 1.96 standard errors"},
        ("coefficients", "stderr", "intervals"),
    )  # fmt: skip
    return cand.then(
        stage,
        coefficients=r.coefficients,
        expression=r.expression,
        stderr=r.stderr,
        intervals=_intervals(r),
        method=method + f"; refined by shooting over {r.segments} segments{note}",
    )  # fmt: skip


def _intervals(r) -> dict:
    """+-1.96 standard errors about each coefficient of a refinement."""
    return {t: (c - 1.96 * r.stderr[t], c + 1.96 * r.stderr[t]) for t, c in r.coefficients.items()}


#: Levenberg-Marquardt iterations per stage for the other frictions tried.
SWAP_ITERATIONS = 4


def _friction_swaps(cand, r, traj, n, theta, y, library, path, how):
    """The chosen potential with each friction of the library in turn (and with
    none), refined over as long segments as the dynamics allow; the model of
    least trajectory BIC wins. Returns (candidate, its refinement, how many
    others were tried). ``n`` counts the measured values (the BIC's log n).

    Friction is a small force (a pendulum damped at 1%/s: gamma p is 1% of
    c sin q), and the regression's held-out errors hardly tell linear damping
    from Coulomb friction; the trajectories do, since the swings decay
    exponentially under one and linearly under the other.
    """
    drags = [t for t in library.terms if is_friction_term(t, traj.coords)]
    if not drags:
        return cand, r, 0

    def score(res):
        free = len(res.coefficients) + 2 * traj.dim * res.segments
        return 2 * res.cost + free * np.log(n)

    base = [t for t in cand.coefficients if t not in drags]
    chosen = {t for t in cand.coefficients if t in drags}
    best = (score(r), cand, r)
    tried = 0
    for option in [(), *((t,) for t in drags)]:
        if set(option) == chosen or not (base or option):
            continue
        cols = [library.terms.index(t) for t in (*base, *option)]
        beta = np.zeros(len(library.terms))
        beta[cols] = _lstsq(theta[:, cols], y)
        alt = _result(beta, cand.threshold, _relative_residual(theta, y, beta), path, library)
        # A few iterations per stage: a wrong friction misfits by far more than
        # the optimum's last few steps could change (they cost most of the time).
        res = shoot(alt, traj, plan=how, max_iter=SWAP_ITERATIONS)
        tried += 1
        if score(res) < best[0]:
            best = (score(res), alt, res)
    _, cand, r = best
    return cand.replace(coefficients=r.coefficients, expression=r.expression), r, tried


# Over 80 lines with its numpydoc docstring (62 of 86 lines); the code is 9.
def force_sindy(
    traj,
    library: Library,
    kind: str | None = None,
    stride: int = 1,
    *,
    plan: Plan | None = None,
    selection: Selection | None = None,
    window: int | None = None,
    smooth: int | None = None,
    refine: bool | None = None,
    bootstrap: int = 0,
    seed: int | None = 0,
    friction: Library | None = None,
    masses=None,
    **deprecated,
) -> SparseFit:
    """Network-free SINDy on forces: a potential by construction.

    Regresses the observed force (minus the momentum change per time, or the
    mass times the acceleration for positions-only data) on the gradients of
    the library terms, one coefficient vector shared by all d components, so
    the result is always the gradient of sum_j beta_j xi_j. The constant term
    has no gradient and is dropped: the potential is returned without one.

    Parameters
    ----------
    traj : Trajectories, q (and p) of shape (R, N+1, d), d = len(library.symbols)
        Ragged pieces are used pair by pair inside each piece.
    library : Library
    kind : {"midpoint", "forward", "verlet", "weak"}, optional
        The observations (:mod:`symhamil.learning.observations`): ``"midpoint"`` averages the
        gradients at q_i and q_{i+1} (O(h^2) bias), ``"forward"`` uses q_i (the
        paper's loss (3), O(h)), ``"verlet"`` uses second differences of q
        (positions only), ``"weak"`` integrates against smooth test functions
        over windows (noisy data). By default "midpoint" (or "verlet" without
        momenta) on clean data and "weak" on noisy data.
    stride : int
        Every ``stride``-th pair (pair kinds only).
    plan : Plan, optional
        The data's plan made once (:func:`symhamil.plan`) and passed to every
        learner: observations, window, smoothing, noise and time scale. By
        default made here from ``kind``, ``window`` and ``smooth`` (give one
        or the other).
    selection : Selection, optional
        How the model is chosen (:class:`symhamil.Selection`): a fixed
        threshold, or the threshold path searched by the residual rule, the
        BIC or cross-validation. By default the path, with the plan's rule:
        "residual" on clean data and "cv" (held-out blocks of time or whole
        pieces, the fewest terms within one standard error of the best) on
        noisy data.
    window : int, optional
        Steps per test function of the weak form; by default chosen from the
        noise (:func:`symhamil.learning.planning.choose_window`).
    smooth : int, optional
        Savitzky-Golay window (odd number of samples) to smooth q and p first.
    refine : bool, optional
        Once the terms are chosen, fit their coefficients to the trajectories
        themselves (maximum likelihood by multiple shooting,
        :func:`symhamil.refine`), which also gives their standard errors
        (``stderr``, ``intervals``). By default on noisy data, where it brings
        the errors down to near the Cramer-Rao bound (T1 at 1% noise: from
        ~2e-4 to ~1e-4).
    bootstrap : int
        Resample the data this many times (blocks of about two time scales of
        each piece, drawn with replacement) and repeat the regression and the
        model selection on each (ensemble SINDy): ``inclusion`` gets each term's
        share of the resamples that keep it, ``intervals`` the 2.5% and 97.5%
        percentiles of each chosen coefficient, refitted by least squares on the
        chosen terms in every resample.
    seed : int, optional
        Seed of the resampling.
    friction : Library, optional
        Rayleigh dissipation functions R_k(q, p) in ``traj.momentum_symbols``
        (p_q for q), fitted with the potential so that dp/dt = -grad V(q) -
        sum_k gamma_k dR_k/dp: linear damping p_q**2/2, quadratic drag
        Abs(p_q)**3/3, Coulomb friction Abs(p_q). The potential's and the
        friction's terms are one library for the selection, and shooting
        integrates the damped dynamics. The fit's ``friction`` and
        ``friction_coefficients`` hold R. Without momenta, p = m dq/dt is
        estimated from the positions.
    masses : "fit" or dict {str: float or "fit"}, optional
        Diagonal masses nobody gave, identified with V: ``"fit"`` fixes the
        first coordinate's mass at 1 and fits the others; a dict by coordinate
        name gives some masses (at least one, which sets the scale of V) and
        fits those it marks "fit" or leaves out. Only the right mass ratios
        make the forces a gradient, which is what identifies them. Learned from
        the positions (measured momenta on an unknown scale carry nothing
        more): the masses enter the regression as columns that are always
        kept, then shooting fits them with the coefficients. The fit's
        ``masses`` and ``masses_stderr`` hold them (stderr 0 for a given mass).
    **deprecated
        ``threshold``, ``thresholds``, ``rtol``, ``ratio`` and ``select`` of
        symhamil 0.1, each a field of ``selection`` now (a DeprecationWarning).

    Returns
    -------
    SparseFit
        Its ``provenance`` lists each stage with its estimator and settings.

    Examples
    --------
    A pendulum with linear damping, dp/dt = -sin q - 0.05 p:

    >>> import numpy as np, sympy as sp, symhamil as sh
    >>> q = sp.Symbol("q")
    >>> pendulum = sh.System(coords=(q,), V=-sp.cos(q))
    >>> p_q = sp.Symbol("p_q")
    >>> tr = sh.simulate(pendulum, [1.0], [0.0], h=0.01, steps=2000, method="rk",
    ...                  friction=0.05 * p_q**2 / 2)
    >>> fit = sh.force_sindy(tr, sh.Library([sp.cos(q), q**2], (q,)),
    ...                      friction=sh.Library([p_q**2 / 2, sp.Abs(p_q)], (p_q,)))
    >>> fit.rounded(4), fit.rounded_friction(4)
    (-1.0*cos(q), 0.025*p_q**2)
    """
    selection = _check_request("force_sindy", traj, kind, selection, bootstrap, seed, deprecated)
    if traj.dim != len(library.symbols):
        raise ValueError(
            f"the trajectories have d = {traj.dim} but the library has "
            f"{len(library.symbols)} symbols."
        )
    check_symbols(library, traj)
    drag = None if friction is None else friction_library(friction, traj)
    spec = None if masses is None else _mass_spec(masses, traj)
    if spec is not None:
        traj = replace(traj.positions_only, masses=spec[0])
    how = use_plan(traj, plan, kind=kind, window=window, smooth=smooth)
    if kind is not None and refine is None:
        refine = False  # observations named by the user are the whole route
    varying = Library(tuple(t for t in library.terms if t.free_symbols), library.symbols)
    if spec is None:
        return _force_fit(
            traj, varying, varying, how, selection, stride, refine, bootstrap, seed, drag
        )
    return _with_masses(
        traj, spec[1], varying, how, selection, stride, refine, bootstrap, seed, drag
    )


def _mass_spec(masses, traj) -> tuple[np.ndarray, tuple[int, ...]]:
    """``masses`` ("fit" or a dict by coordinate name) as the starting masses
    (d,) and the coordinates whose masses are fitted; refused before any work
    when it cannot set the scale or names no coordinate of the data."""
    names = list(traj.names)
    if isinstance(masses, str):
        if masses != "fit":
            raise ValueError(f"masses must be 'fit' or a dict by coordinate; got {masses!r}.")
        masses = {names[0]: 1.0}
    if not isinstance(masses, Mapping):
        raise TypeError(
            "masses must be 'fit' (the first mass is 1, the others fitted) or a dict by "
            f"coordinate name, e.g. {{{names[0]!r}: 0.35}}; got {type(masses).__name__}."
        )
    strange = [k for k in masses if k not in names]
    if strange:
        raise ValueError(
            f"masses names {strange[0]!r}, which is not a coordinate of the data "
            f"({', '.join(names)})."
        )
    start, free = np.ones(len(names)), []
    for i, name in enumerate(names):
        value = masses.get(name, "fit")
        if isinstance(value, str) and value == "fit":
            free.append(i)
            continue
        try:
            start[i] = positive_number(value, f"the mass of {name}")
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{exc} (a number > 0, or 'fit')") from None
    if len(free) == len(names):
        raise ValueError(
            "masses fit all masses: give one (masses='fit' fixes the first at 1), since V "
            "and the masses share one scale the motion cannot tell."
        )
    if traj.dim == 1:
        raise ValueError("with one coordinate there is no mass ratio to fit; give its mass.")
    return start, tuple(free)


def _with_masses(traj, free, varying, how, selection, stride, refine, bootstrap, seed, drag):
    """Force-SINDy with the masses of ``free`` coordinates fitted.

    First a regression on the whole library with one more column per free
    mass, m_i times the observed acceleration of coordinate i (linear: m_i
    a_i + sum_j beta_j d xi_j / d q_i = 0, the given masses on the right-hand
    side), kept whatever the threshold; then force-SINDy at those masses; then
    shooting fits masses and coefficients together (on noisy or coarse data),
    or the regression's standard errors stand.
    """
    data = how.prepare(how.observed(traj))
    theta, y, _ = force_equations(data, varying, how.kind, stride, how.window)
    d = traj.dim
    comp = np.arange(len(y)) % d
    cols = np.zeros((len(y), len(free)))
    for k, i in enumerate(free):
        on = comp == i
        cols[on, k] = -y[on]  # the observation of m_i a_i at m_i = 1
        y = np.where(on, 0.0, y)
    full = np.hstack([theta, cols])
    beta = _lstsq(full, y)
    fitted = traj.mass_array.copy()
    fitted[list(free)] = beta[theta.shape[1] :]
    if not (np.all(np.isfinite(fitted)) and np.all(fitted > 0)):
        raise ValueError(
            f"the masses fitted are {np.round(fitted, 6).tolist()}, not all positive: the "
            "library does not hold a potential for any mass ratio here. Check the library "
            "and the coordinates."
        )
    resid = y - full @ beta
    dof = max(len(y) - full.shape[1], 1)
    cov = np.linalg.pinv(full.T @ full) * float(resid @ resid) / dof
    spread = np.zeros(d)
    spread[list(free)] = np.sqrt(np.diag(cov)[theta.shape[1] :])
    traj = replace(traj, masses=fitted)
    fit = _force_fit(traj, varying, varying, how, selection, stride, refine, bootstrap, seed,
                     drag)  # fmt: skip
    note = "masses by regression"
    shoot_them = how.coarse or (how.noise is not None and how.noise.fraction > QUIET)
    if (shoot_them if refine is None else refine) and fit.coefficients:
        r = shoot(fit, traj, plan=how, free_masses=free)
        fitted, spread = np.array(r.masses), np.array(r.masses_stderr)
        fit = fit.replace(
            coefficients={t: c for t, c in r.coefficients.items() if t in fit.coefficients},
            expression=r.expression,
            stderr=r.stderr,
            intervals=_intervals(r),
        )  # fmt: skip
        if fit.friction_library is not None:
            fit = fit.replace(
                friction_coefficients={
                    t: c for t, c in r.coefficients.items() if t in fit.friction_coefficients
                }
            )
        note = "masses fitted by shooting with the coefficients"
    return fit.replace(
        masses=tuple(map(float, fitted)),
        masses_stderr=tuple(map(float, spread)),
        method=fit.method + f"; {note}",
    )


def check_symbols(library: Library, traj: Trajectories) -> None:
    """Refuse a library written in other symbols than the data's coordinates.

    Matching them by position would differentiate the fit by the wrong names
    later (shooting, rollouts): the names are how a formula and its data meet.
    """
    given = [s.name for s in library.symbols]
    names = [s.name for s in traj.coords]
    if given != names:
        raise ValueError(
            f"the library is written in {', '.join(given)} but the data's coordinates are "
            f"named {', '.join(names)}. Name the coordinates when making the data "
            f"(Trajectories(..., names={tuple(given)!r})), or write the library in "
            f"{', '.join(names)} (symhamil.Library(terms, traj.coords))."
        )


def _check_request(what, traj, kind, selection, bootstrap, seed, deprecated) -> Selection:
    """The checks both force-SINDy entry points make before any work; the selection."""
    if traj is not None and not isinstance(traj, Trajectories):
        raise TypeError(
            f"{what} needs symhamil.Trajectories; got {type(traj).__name__}. Build them "
            "with symhamil.Trajectories(q=..., p=..., h=...)."
        )
    if kind is not None:
        check_loss(kind)
    whole_number(bootstrap, "bootstrap (resamples)", 0, MAX_BOOTSTRAP)
    check_seed(seed)
    return as_selection(selection, what, **deprecated)


def _force_fit(
    traj,
    varying,
    forces,
    how: Plan,
    selection: Selection,
    stride,
    refine,
    bootstrap,
    seed,
    drag: Library | None = None,
    known=None,
) -> SparseFit:
    """The body of force-SINDy: ``varying`` names the terms, ``forces.gradient``
    maps positions (K, d) to their gradients (K, d, J) (the library itself, or
    its pair sums for many bodies); ``drag`` the friction's terms, over
    (coordinates, momenta), selected with them as one library."""
    selection = selection.with_rule(how.select)
    measured_p = traj.has_momenta
    traj = how.observed(traj)  # without momenta that disagree with the positions
    data = how.prepare(traj)
    theta, y, where = force_equations(data, varying, how.kind, stride, how.window, forces, known)
    potential = varying
    if drag is not None:
        theta = np.hstack([theta, drag_equations(data, drag, how.kind, stride, how.window)])
        varying = Library(varying.terms + drag.terms, drag.symbols)
    varying.check(theta)
    beta, lam, res, path = _fit_path(theta, y, varying, (), selection, where)
    fit = _result(beta, lam, res, path, varying)
    rule = "fixed threshold" if selection.threshold is not None else selection.rule
    method = f"{how.kind}" + (f" (window {how.window})" if how.window else "")
    method += f", {rule}" + (f", smoothed over {how.smooth}" if how.smooth else "")
    if not how.momenta and measured_p:
        method += ", positions only (the measured p disagree with m dq/dt)"
    observed = {"observations": how.kind, "window": how.window, "smooth": how.smooth,
                "stride": stride, "momenta": how.momenta and measured_p}  # fmt: skip
    fit = fit.then(
        Stage("regression", "sparse regression", observed, ("coefficients",)), method=method
    ).then(Stage("selection", "threshold path", selection.describe() | {"chosen": lam}))
    # Noisy and coarse data are fitted by shooting by default.
    shoot_them = how.coarse or (how.noise is not None and how.noise.fraction > QUIET)
    if forces is not potential:  # many bodies: shooting works on single systems only
        if refine:
            raise ValueError(
                "refine=True (fitting by shooting) is available for single systems, not yet "
                "for pair potentials; leave refine unset."
            )
        refine = False
    if (shoot_them if refine is None else refine) and fit.coefficients:
        fit = _refined(fit, traj, how, theta, y, varying, method, selection)
    if bootstrap:
        fit = block_bootstrap(fit, theta, y, where, data, how, selection, int(bootstrap), seed)
    return fit if drag is None else _with_friction(fit, potential, drag)


def _with_friction(fit: SparseFit, potential: Library, drag: Library) -> SparseFit:
    """A fit over the joint library split into the potential and the friction."""
    terms = set(drag.terms)
    kept = {t: c for t, c in fit.coefficients.items() if t not in terms}
    return fit.replace(
        coefficients=kept,
        expression=sp.Add(*(sp.Float(c, 17) * t for t, c in kept.items())),
        library=potential,
        friction_coefficients={t: c for t, c in fit.coefficients.items() if t in terms},
        friction_library=drag,
    )


def select_friction(grad, traj: Trajectories, friction: Library, *, plan=None, selection=None):
    """A sparse friction R for a given potential: the force the potential leaves
    in the data's observations, regressed on the friction library's dR_k/dp and
    chosen on the threshold path (cross-validation on noisy data).

    Parameters
    ----------
    grad : callable
        grad V of the potential, positions (K, d) -> (K, d) (a trained network's
        ``gradient``).
    traj : Trajectories
    friction : Library
        Rayleigh functions in ``traj.momentum_symbols`` (and the coordinates).
    plan : Plan, optional
        The data's plan (observations, window, selection rule).
    selection : Selection, optional

    Returns
    -------
    dict {sympy.Expr: float}
        The kept terms' coefficients (empty when none explains the residual).
    """
    drag = friction_library(friction, traj)
    how = use_plan(traj, plan)
    data = how.prepare(how.observed(traj))
    pr = pairs(data, how.kind, 1, how.window)
    d = data.dim

    def rows(q):
        return np.asarray(grad(q.reshape(-1, d)), dtype=float).reshape(q.shape)

    left = pr.rows(pr.residual(rows)).reshape(-1)  # dp + grad V: what friction must explain
    theta = drag_equations(data, drag, how.kind, 1, how.window)
    chosen = as_selection(selection, "select_friction").with_rule(how.select)
    beta, *_ = _fit_path(theta, -left, drag, (), chosen, places(pr))
    return {t: float(c) for t, c in zip(drag.terms, beta, strict=True) if c != 0}


def _in_one_symbol(library, what: str, symbol: str) -> None:
    """Refuse a library of ``what`` that is not a Library in one symbol."""
    if not isinstance(library, Library) or len(library.symbols) != 1:
        raise ValueError(
            f"the library of {what} must be a symhamil.Library in one symbol, the {symbol} "
            f"r; got {library!r}."
        )


#: Steps per test function of the weak form of a radial fit on clean data.
RADIAL_WINDOW = 32


def radial_force_sindy(
    traj: Trajectories,
    library: Library,
    mass: float = 1.0,
    *,
    kind: str | None = None,
    plan: Plan | None = None,
    selection: Selection | None = None,
    window: int | None = None,
    bootstrap: int = 0,
    seed: int | None = 0,
) -> SparseFit:
    """One V(r) for central-force orbits of every angular momentum, fitted together.

    Each trajectory is reduced to its radius (:func:`symhamil.reduce_radial`),
    whose motion obeys m r'' = -V'(r) + l^2 / (m r^3) with its own angular
    momentum l. The measured l of each orbit gives its centrifugal force, which
    is moved to the observed side, so the regression fits V(r) alone, shared
    by all orbits (planets of different l in one fit).

    Parameters
    ----------
    traj : Trajectories, q and p of shape (R, N+1, 2) or (R, N+1, 3)
        One particle's orbits; the momenta give l = |q x p|.
    library : Library
        Terms in one symbol, the radius (e.g. ``Library([1/r, r**2], (r,))``).
    mass : float
        The particle's mass (p = m dq/dt).
    kind, plan, selection, window, bootstrap, seed
        As in :func:`force_sindy`; by default the weak form, also on clean
        data. The coefficients come from the regression (shooting integrates
        one system, and each orbit's effective potential is its own).

    Returns
    -------
    SparseFit
        Over ``library``: V(r) without the centrifugal terms.

    Examples
    --------
    >>> import numpy as np, sympy as sp, symhamil as sh
    >>> kepler = sh.catalog.kepler(k=1, dim=3)
    >>> q0 = [[1.0, 0.0, 0.0], [0.0, 1.5, 0.0], [0.7, 0.0, 0.7]]
    >>> p0 = [[0.0, 1.1, 0.1], [-0.7, 0.0, 0.3], [0.0, 0.9, 0.0]]
    >>> tr = sh.simulate(kepler, q0, p0, h=0.005, steps=1500, method="rk")
    >>> r = sp.Symbol("r")
    >>> lib = sh.Library([1 / r, 1 / r**2, r, r**2, sp.log(r)], (r,))
    >>> sh.radial_force_sindy(tr, lib).rounded(5)
    -1.0/r
    """
    selection = _check_request("radial_force_sindy", traj, kind, selection, bootstrap, seed, {})
    _in_one_symbol(library, "a radial potential", "radius")
    radius = library.symbols[0]
    radial, ell = reduce_radial(traj, positive_number(mass, "the mass"))
    radial = replace(radial, names=(radius.name,))
    m = float(mass)
    l2 = (ell**2)[:, None, None]

    def centrifugal(r):  # d/dr of l^2 / (2 m r^2), each orbit with its own l
        return -l2 / (m * r**3)

    how = use_plan(radial, plan, kind=kind, window=window)
    if kind is None and plan is None and how.kind != "weak":
        # Clean data: the pair observations' O(h^2) bias is largest near the
        # pericentre, where l^2/mr^3 changes fast (Kepler at h = 0.005: 2e-6 of
        # the forces, and the residual rule keeps five terms); the weak form
        # integrates smooth data exactly (1/r alone, GM within 1e-6).
        how = how.replace(kind="weak", window=min(RADIAL_WINDOW, radial.N), smooth=None)
    varying = Library(tuple(t for t in library.terms if t.free_symbols), library.symbols)
    fit = _force_fit(radial, varying, varying, how, selection, 1, False, bootstrap, seed,
                     known=centrifugal)  # fmt: skip
    return fit.replace(method=fit.method + "; radial, each orbit's l^2/2mr^2 subtracted")


# Over 80 lines with its numpydoc docstring (52 of 84 lines); the code is 13.
def pair_force_sindy(
    traj: Trajectories,
    library: Library,
    particles: int | None = None,
    dim: int | None = None,
    box=None,
    cutoff: float | None = None,
    kind: str | None = None,
    stride: int = 1,
    *,
    geometry: Geometry | None = None,
    plan: Plan | None = None,
    selection: Selection | None = None,
    window: int | None = None,
    smooth: int | None = None,
    bootstrap: int = 0,
    seed: int | None = 0,
    client=None,
    md_steps: int | None = None,
    **deprecated,
) -> SparseFit:
    """Force-SINDy for many bodies: one pair potential phi(r) for every pair.

    Each library term g(r) enters as the potential sum_{i<j} g(r_ij), whose force
    on particle i is -sum_j g'(r_ij) (q_i - q_j)/r_ij; the observed forces of all
    particles are regressed on these, so the fit stays linear and exact and its
    ``expression`` is phi in the library's symbol.

    Parameters
    ----------
    traj : Trajectories, q of shape (R, N+1, N_p s); or path(s) of MD files
        Coordinates particle-major (x1, y1, z1, x2, ...), as
        :func:`~symhamil.simulate` of a pair system and :func:`~symhamil.read_ase`
        give them. Paths of MD files that hold forces (one file or the pieces
        of a long run) are read one at a time, or each on a Dask worker, and
        force-matched in bounded memory: dumps larger than the machine.
        Positions-only data need ``traj.masses`` for phi in energy units
        (else phi per unit mass). When they hold the forces the engine stored
        (``traj.forces``, kept by :func:`~symhamil.read_ase`), and ``kind`` and
        ``plan`` are not given, these are fitted directly (force matching,
        Ercolessi and Adams): exact for frames any number of MD steps apart,
        and with a thermostat, whose forces are not the potential's.
    library : Library
        Terms in one symbol, the distance r (e.g. inverse powers and exponentials).
    particles, dim : int, optional
        N_p and the spatial dimension s; by default the data's own
        (:attr:`~symhamil.Trajectories.geometry`, set by
        :func:`~symhamil.read_ase` and by :func:`~symhamil.simulate` of a pair
        system), and one of them, or a box, is enough.
    box : float or sequence of float, length s, optional
        A periodic orthorhombic box (the data's by default).
    cutoff : float, optional
        Only pairs closer than this interact (half the box by default in a box).
        Use the cutoff the data were made with; a shorter one leaves forces out.
    kind, stride, plan, selection, window, smooth, bootstrap, seed
        As in :func:`force_sindy` (refinement by shooting is not available for
        pair potentials).
    geometry : Geometry, optional
        Particles, space, box and cutoff as one value (:class:`symhamil.Geometry`),
        instead of the four keywords.
    md_steps : int, optional
        The MD steps between consecutive frames (``traj.md_steps`` by default,
        which :func:`~symhamil.read_ase` reads from the file). With more than
        one, no stored forces and no ``kind``/``plan``, the frames are fitted
        by an observation exact for that spacing: the Verlet identity summed
        over the steps between frames, whose positions are shot with the MD's
        own integrator (:mod:`symhamil.sindy.between_frames`).
    client : dask.distributed.Client, optional
        Force matching on the cluster's workers: each factorises a chunk of
        frames and sends back a triangle of the library's size. Without it the
        chunks are streamed here, in bounded memory (:mod:`symhamil.sindy.streaming`).
    **deprecated
        The selection keywords of symhamil 0.1, as in :func:`force_sindy`.

    Returns
    -------
    SparseFit
        Over ``library`` in r; compare it with the true phi by
        :func:`~symhamil.compare` (constants and shifts ignored).

    Examples
    --------
    >>> import numpy as np, symhamil as sh
    >>> springs = sh.catalog.pair_spring(k=2, particles=3, dim=2)
    >>> rng = np.random.default_rng(0)
    >>> q0, p0 = rng.uniform(0, 2, 6), rng.normal(0, 0.3, 6)
    >>> tr = sh.simulate(springs, q0, p0, h=0.005, steps=400, substeps=1)  # velocity Verlet
    >>> fit = sh.pair_force_sindy(tr, sh.Library.polynomial((sh.catalog.R,), 3))
    >>> {str(t): round(c, 9) for t, c in fit.coefficients.items()}
    {'r': -4.0, 'r**2': 2.0}
    """
    paths = _md_paths(traj)
    selection = _check_request(
        "pair_force_sindy", None if paths else traj, kind, selection, bootstrap,
        seed, deprecated,
    )  # fmt: skip
    for lib in library.values() if isinstance(library, Mapping) else (library,):
        _in_one_symbol(lib, "a pair potential", "distance")
    if paths:
        return _files_matching(paths, library, cutoff, geometry, selection, client, kind, plan)
    geometry = as_geometry(traj, geometry, cutoff, particles=particles, dim=dim, box=box)
    varying, forces = _pair_library(library, geometry)
    if traj.forces is not None and kind is None and plan is None:
        if bootstrap:
            raise ValueError(
                "bootstrap resamples the trajectories' observations; these data's stored "
                "forces are matched directly (exact): leave bootstrap at 0, or name kind= "
                "to fit the trajectories instead."
            )
        return _force_matching(traj, varying, forces, selection, stride, client)
    k = traj.md_steps if md_steps is None else whole_number(md_steps, "md_steps", 1)
    if client is not None:
        raise ValueError(
            "a Dask client runs force matching, which needs the forces an MD engine "
            "stored (traj.forces, kept by read_ase); these data have none, or kind/plan "
            "asks for the trajectories' observations. Leave client out."
        )
    if k is not None and k > 1 and kind is None and plan is None:
        if bootstrap:
            raise ValueError(
                "bootstrap resamples pair observations; frames several MD steps apart are "
                "fitted by the Verlet identity between them: leave bootstrap at 0."
            )
        return between_frames(traj, varying, forces, k, selection)
    how = use_plan(traj, plan, kind=kind, window=window, smooth=smooth)
    return _force_fit(traj, varying, forces, how, selection, stride, False, bootstrap, seed)


def _pair_library(library, geometry: Geometry) -> tuple[Library, PairLibrary]:
    """The terms fitted (a Library) and their pair sums. With several species
    (``geometry.species``) each pair of types (a, b) gets the terms of
    ``library`` (or of ``library[(a, b)]``) in its own distance r_a_b, summed
    over its pairs only."""
    if geometry.species is None:
        if isinstance(library, Mapping):
            raise ValueError(
                "a library per pair of species needs data with several species "
                "(traj.species, set by read_ase); these particles are of one kind."
            )
        varying = Library(tuple(t for t in library.terms if t.free_symbols), library.symbols)
        return varying, PairLibrary(varying.terms, varying.symbols[0], geometry)
    symbols = species_symbols(geometry)
    terms = []
    for ab, x in zip(geometry.pair_types, symbols, strict=True):
        lib = library
        if isinstance(library, Mapping):
            lib = library.get(ab, library.get((ab[1], ab[0])))
            if lib is None:
                raise ValueError(
                    f"no library for the pair of species {ab}; the data have the pairs "
                    f"{list(geometry.pair_types)}: give one for each."
                )
        terms += [t.subs(lib.symbols[0], x) for t in lib.terms if t.free_symbols]
    varying = Library(tuple(terms), symbols)
    return varying, PairLibrary(varying.terms, symbols, geometry)


def _md_paths(traj) -> list | None:
    """The MD files ``traj`` names (one path or a list of them), or None."""
    if isinstance(traj, str | os.PathLike):
        return [traj]
    if (
        isinstance(traj, list | tuple)
        and traj
        and all(isinstance(t, str | os.PathLike) for t in traj)
    ):
        return list(traj)
    return None


def _file_rows(forces: PairLibrary, path) -> tuple[np.ndarray, np.ndarray]:
    """Rows of force matching for every frame of one MD file (read where it runs)."""
    q, stored, _, species = stored_frames(path)
    if species != forces.geometry.species:
        raise ValueError(f"{path}: other atoms (types) than the first file's.")
    return _matching_rows(forces, q, stored)


def _files_matching(paths, library, cutoff, geometry, selection, client, kind, plan):
    """Force matching over MD files read one at a time, here or on Dask's workers:
    dumps larger than one machine's memory. The first file's first frame gives
    the geometry; each file must hold forces."""
    if kind is not None or plan is not None:
        raise ValueError(
            "MD files given by path are fitted by force matching on their stored forces; "
            "kind= and plan= need trajectories: read them with symhamil.read_ase first."
        )
    missing = [os.fspath(p) for p in paths if not os.path.exists(p)]
    if missing:
        raise FileNotFoundError(f"{missing[0]}: no such file ({len(missing)} missing).")
    q, _, box, species = stored_frames(paths[0], index="0")
    if geometry is None:
        geometry = Geometry(q.shape[1] // 3, 3, box, species=species)
    if cutoff is not None:
        geometry = geometry.with_cutoff(cutoff)
    selection = selection.with_rule("residual")
    if selection.threshold is None and selection.rule != "residual":
        raise ValueError(
            f"MD files are streamed, which keeps the residual rule or a fixed threshold; "
            f"selection rule {selection.rule!r} needs every row: read them with read_ase."
        )
    varying, forces = _pair_library(library, geometry)
    moments = stream_moments(partial(_file_rows, forces), [(p,) for p in paths], client)
    theta, y = moments.system()
    observed = {"observations": "stored forces", "files": len(paths), "rows": moments.rows}
    where = f"the stored forces of {len(paths)} file(s)" + (" on Dask" if client else "")
    return _matching_fit(theta, y, None, varying, selection, observed, where)


def _matching_fit(theta, y, where, varying, selection, observed, source) -> SparseFit:
    """The model ``selection`` chooses on force matching's rows, with its provenance."""
    stage = Stage("regression", "force matching (the stored forces)", observed, ("coefficients",))
    return chosen_fit(theta, y, where, varying, selection, stage,
                      f"force matching on {source} ({{rule}})")  # fmt: skip


#: Force matching factorises this many rows (coordinates x frames) at a time:
#: about 20 MB of library columns for twelve terms, whatever the dump's size.
CHUNK_ROWS = 200_000


def _matching_rows(forces: PairLibrary, q, stored) -> tuple[np.ndarray, np.ndarray]:
    """Rows of force matching for frames ``q`` (K, d) with stored forces (K, d)."""
    G = forces.gradient(q)  # (K, d, J): the gradients of the pair sums
    return G.reshape(-1, G.shape[-1]), -np.asarray(stored).reshape(-1)  # F = -grad V


def _force_matching(
    traj, varying, forces, selection: Selection, stride: int, client=None
) -> SparseFit:
    """Force matching (Ercolessi and Adams 1994): the library's pair forces
    regressed on the forces the file stores, frame by frame, exact whatever the
    frames' spacing and whatever a thermostat did between them (the stored
    forces are the potential's). Every ``stride``-th frame.

    With the residual rule or a fixed threshold (the default: stored forces are
    exact to the engine's arithmetic) the frames are streamed in chunks of
    :data:`CHUNK_ROWS` rows and compressed (:mod:`.streaming`), on the workers
    of a Dask ``client`` if one is given; cross-validation and BIC need every
    row and build them at once."""
    valid = traj.valid()
    valid[:, np.arange(traj.N + 1) % int(stride) != 0] = False
    frames = np.argwhere(valid)  # (K, 2): piece, sample
    selection = selection.with_rule("residual")
    streamed = selection.threshold is not None or selection.rule == "residual"
    if streamed:
        per = max(1, CHUNK_ROWS // traj.dim)
        chunks = [
            (traj.q[tuple(f.T)], traj.forces[tuple(f.T)])
            for f in np.array_split(frames, range(per, len(frames), per))
        ]
        moments = stream_moments(partial(_matching_rows, forces), chunks, client)
        theta, y = moments.system()
        where = None
    else:
        if client is not None:
            raise ValueError(
                f"a Dask client streams force matching with the residual rule or a fixed "
                f"threshold; selection rule {selection.rule!r} needs every row in memory."
            )
        theta, y = _matching_rows(forces, traj.q[valid], traj.forces[valid])
        where = np.repeat(frames, traj.dim, axis=0)
    observed = {"observations": "stored forces", "frames": len(frames), "stride": stride}
    if streamed:
        observed |= {"streamed": f"{len(chunks)} chunks" + (" on Dask" if client else "")}
    source = f"{len(frames)} frames' stored forces" + (" on Dask" if client else "")
    return _matching_fit(theta, y, where, varying, selection, observed, source)
