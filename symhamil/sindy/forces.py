"""Force-SINDy: the library's gradients regressed on the data's forces (pair,
triple or weak observations), refined by shooting, with a block bootstrap; and
the same on pair sums for many bodies."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from ..base.checks import whole_number
from ..data.geometry import geometry_of
from ..data.noise import time_scale
from ..data.trajectories import Trajectories
from ..learning.observations import check_loss
from ..learning.planning import QUIET, plan
from ..systems.pairs import PairLibrary
from .fit import SparseFit, _result
from .library import Library, LibraryWarning
from .observations import force_equations
from .refinement import refine as shoot  # force_sindy has a parameter named refine
from .regression import SELECTIONS, _check_threshold, _fit_path, _lstsq, _relative_residual, stlsq

__all__ = ["MAX_BOOTSTRAP", "check_seed", "force_sindy", "pair_force_sindy"]


#: On the threshold path, models whose BIC is within this of the best are
#: refined by shooting and chosen between by the BIC of the trajectories.
BIC_MARGIN = 10.0


def _refined(fit, traj, how, theta, y, library, method, on_path) -> SparseFit:
    """``fit`` with coefficients fitted by shooting; with ``select="bic"`` the
    close competitors on the path are refined too, and the model of least
    trajectory BIC (2 cost + k log n, cost in noise units) wins.

    Regression rows of overlapping windows are correlated, so their BIC can
    hesitate between nested models (T1 with q alone at 1% noise: 4 or 5 terms,
    BIC 2 apart); the samples themselves are independent, and there the extra
    term must pay for itself in the likelihood.
    """
    candidates = [fit]
    if on_path and how.select == "bic":
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
    scored = []
    for cand in candidates:
        # Candidates are compared on short segments; only the winner goes on to
        # whole pieces (positions only), which costs several times more.
        r = shoot(cand, traj, noise=how.noise, continuation=False)
        scored.append((2 * r.cost + len(r.coefficients) * np.log(n), cand, r))
    _, cand, r = min(scored, key=lambda x: x[0])
    if not traj.has_momenta:
        start = cand.replace(coefficients=r.coefficients, expression=r.expression)
        r = shoot(start, traj, noise=how.noise)
    note = ""
    if len(scored) > 1:
        note = f"; chosen by trajectory BIC from {len(scored)} candidates"
    return cand.replace(
        coefficients=r.coefficients,
        expression=r.expression,
        stderr=r.stderr,
        intervals={t: (c - 1.96 * r.stderr[t], c + 1.96 * r.stderr[t])
                   for t, c in r.coefficients.items()},
        method=method + f"; refined by shooting over {r.segments} segments{note}",
        sources=dict.fromkeys(
            ("coefficients", "stderr"), f"shooting (maximum likelihood, {r.segments} segments)"
        ) | {"intervals": "shooting: coefficient +- 1.96 standard errors"},
    )  # fmt: skip


#: Bootstrap blocks span this many time scales of the data.
BLOCK_TAUS = 2.0


def _bootstrap(fit, theta, y, where, traj, how, n, seed, rule) -> SparseFit:
    """Ensemble SINDy by a block bootstrap over the rows of the regression."""
    threshold, rtol, ratio, thresholds = rule
    block = max(1, round(BLOCK_TAUS * time_scale(traj, how.noise) / traj.h))
    _, groups = np.unique(where[:, 0] * (traj.N + 2) + where[:, 1] // block, return_inverse=True)
    G = int(groups.max()) + 1
    if G < 2:
        raise ValueError(
            "the bootstrap needs at least two blocks of data (pieces or stretches of "
            f"{block} samples); these data give one."
        )
    members = [np.flatnonzero(groups == g) for g in range(G)]
    rng = np.random.default_rng(seed)
    lib = fit.library
    betas = np.zeros((n, len(lib)))
    chosen = [j for j, t in enumerate(lib.terms) if t in fit.coefficients]
    conditional = np.zeros((n, len(chosen)))
    for b in range(n):
        rows = np.concatenate([members[g] for g in rng.integers(0, G, G)])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LibraryWarning)
            betas[b] = _fit_path(
                theta[rows], y[rows], lib, (), threshold, rtol, ratio, thresholds, how.select
            )[0]
        if chosen:
            conditional[b] = _lstsq(theta[rows][:, chosen], y[rows])
    inclusion = {t: float(np.mean(betas[:, j] != 0)) for j, t in enumerate(lib.terms)}
    # Intervals of the chosen terms, refitted on each resample with the chosen
    # support: the selection's own uncertainty is what ``inclusion`` reports, and
    # mixing it in would let a nearly collinear library (cos q ~ 1 - q^2/2 + ...)
    # swing the intervals over whole multiples of the coefficients.
    lo, hi = np.percentile(conditional, [2.5, 97.5], axis=0)
    intervals = {lib.terms[j]: (float(lo[i]), float(hi[i])) for i, j in enumerate(chosen)}
    regression = fit.method.split(";")[0]
    made = dict(fit.sources or {})
    what = f"block bootstrap of the sparse regression ({regression}), {n} resamples"
    if "shooting" in made.get("coefficients", ""):
        # Said, not hidden: these intervals are of a different estimator from the
        # coefficients beside them.
        what += "; not of shooting, which gives the coefficients"
    return fit.replace(
        inclusion=inclusion,
        intervals=intervals,
        method=fit.method + f"; bootstrap of {n} resamples of {G} blocks",
        sources=made | {"intervals": what, "inclusion": f"block bootstrap, {n} resamples"},
    )


def force_sindy(
    traj,
    library: Library,
    kind: str | None = None,
    stride: int = 1,
    threshold: float | None = None,
    rtol: float = 1e-10,
    ratio: float = 2.0,
    thresholds: Sequence[float] | None = None,
    *,
    select: str | None = None,
    window: int | None = None,
    smooth: int | None = None,
    refine: bool | None = None,
    bootstrap: int = 0,
    seed: int | None = 0,
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
    threshold : float, optional
        A fixed lambda; by default the threshold path is searched.
    rtol, ratio, thresholds
        The residual rule of :func:`sindy`.
    select : {"residual", "bic"}, optional
        How a model is chosen on the threshold path: the residual ratio rule,
        or the Bayesian information criterion. By default "residual" on clean
        data and "bic" on noisy data.
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

    Returns
    -------
    SparseFit
    """
    _check_request("force_sindy", traj, kind, select, threshold, bootstrap, seed)
    if traj.dim != len(library.symbols):
        raise ValueError(
            f"the trajectories have d = {traj.dim} but the library has "
            f"{len(library.symbols)} symbols."
        )
    varying = Library(tuple(t for t in library.terms if t.free_symbols), library.symbols)
    return _force_fit(
        traj, varying, varying, kind, stride, threshold, (rtol, ratio, thresholds),
        select=select, window=window, smooth=smooth, refine=refine, bootstrap=bootstrap,
        seed=seed,
    )  # fmt: skip


#: The most bootstrap resamples a fit takes (more add nothing to a 95% interval).
MAX_BOOTSTRAP = 100_000


def check_seed(seed, what: str = "seed") -> None:
    """A seed is None or a whole number >= 0 (NumPy's rule), checked before any work."""
    if seed is None:
        return
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"{what} must be a whole number >= 0 (or None); got {seed!r}.")


def _check_request(what, traj, kind, select, threshold, bootstrap, seed=None) -> None:
    """The checks both force-SINDy entry points make before any work."""
    if not isinstance(traj, Trajectories):
        raise TypeError(
            f"{what} needs symhamil.Trajectories; got {type(traj).__name__}. Build them "
            "with symhamil.Trajectories(q=..., p=..., h=...)."
        )
    if kind is not None:
        check_loss(kind)
    if select is not None and select not in SELECTIONS:
        raise ValueError(f"unknown select {select!r}; choose one of {', '.join(SELECTIONS)}.")
    _check_threshold(threshold)
    whole_number(bootstrap, "bootstrap (resamples)", 0, MAX_BOOTSTRAP)
    check_seed(seed)


def _force_fit(
    traj, varying, forces, kind, stride, threshold, rule, *, select, window, smooth, refine,
    bootstrap, seed,
) -> SparseFit:  # fmt: skip
    """The body of force-SINDy: ``varying`` names the terms, ``forces.gradient``
    maps positions (K, d) to their gradients (K, d, J) (the library itself, or
    its pair sums for many bodies)."""
    rtol, ratio, thresholds = rule
    how = plan(traj, kind=kind, select=select, window=window, smooth=smooth)
    data = how.prepare(traj)
    theta, y, where = force_equations(data, varying, how.kind, stride, how.window, forces)
    varying.check(theta)
    beta, lam, res, path = _fit_path(
        theta, y, varying, (), threshold, rtol, ratio, thresholds, how.select
    )
    fit = _result(beta, lam, res, path, varying)
    method = f"{how.kind}" + (f" (window {how.window})" if how.window else "")
    method += f", {how.select}" + (f", smoothed over {how.smooth}" if how.smooth else "")
    fit = fit.replace(method=method, sources={"coefficients": f"sparse regression ({method})"})
    noisy = how.noise is not None and how.noise.fraction > QUIET
    if forces is not varying:  # many bodies: shooting works on single systems only
        if refine:
            raise ValueError(
                "refine=True (fitting by shooting) is available for single systems, not yet "
                "for pair potentials; leave refine unset."
            )
        refine = False
    if (noisy if refine is None else refine) and fit.coefficients:
        fit = _refined(fit, traj, how, theta, y, varying, method, threshold is None)
    if bootstrap:
        fit = _bootstrap(fit, theta, y, where, data, how, int(bootstrap), seed,
                         (threshold, rtol, ratio, thresholds))  # fmt: skip
    return fit


def pair_force_sindy(
    traj: Trajectories,
    library: Library,
    particles: int | None = None,
    dim: int | None = None,
    box=None,
    cutoff: float | None = None,
    kind: str | None = None,
    stride: int = 1,
    threshold: float | None = None,
    rtol: float = 1e-10,
    ratio: float = 2.0,
    thresholds: Sequence[float] | None = None,
    *,
    select: str | None = None,
    window: int | None = None,
    smooth: int | None = None,
    bootstrap: int = 0,
    seed: int | None = 0,
) -> SparseFit:
    """Force-SINDy for many bodies: one pair potential phi(r) for every pair.

    Each library term g(r) enters as the potential sum_{i<j} g(r_ij), whose force
    on particle i is -sum_j g'(r_ij) (q_i - q_j)/r_ij; the observed forces of all
    particles are regressed on these, so the fit stays linear and exact and its
    ``expression`` is phi in the library's symbol.

    Parameters
    ----------
    traj : Trajectories, q of shape (R, N+1, N_p s)
        Coordinates particle-major (x1, y1, z1, x2, ...), as
        :func:`~symhamil.simulate` of a pair system and :func:`~symhamil.read_ase`
        give them. Positions-only data need ``traj.masses`` for phi in energy
        units (else phi per unit mass).
    library : Library
        Terms in one symbol, the distance r (e.g. inverse powers and exponentials).
    particles, dim : int, optional
        N_p and s; one of them, or a box, is enough.
    box : float or sequence of float, length s, optional
        A periodic orthorhombic box (``traj.box`` by default).
    cutoff : float, optional
        Only pairs closer than this interact (half the box by default in a box).
        Use the cutoff the data were made with; a shorter one leaves forces out.
    kind, stride, threshold, rtol, ratio, thresholds, select, window, smooth, bootstrap, seed
        As in :func:`force_sindy` (refinement by shooting is not available for
        pair potentials).

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
    >>> fit = sh.pair_force_sindy(tr, sh.Library.polynomial((sh.catalog.R,), 3), particles=3)
    >>> {str(t): round(c, 9) for t, c in fit.coefficients.items()}
    {'r': -4.0, 'r**2': 2.0}
    """
    _check_request("pair_force_sindy", traj, kind, select, threshold, bootstrap, seed)
    if not isinstance(library, Library) or len(library.symbols) != 1:
        raise ValueError(
            "the library of a pair potential must be a symhamil.Library in one symbol, the "
            f"distance r; got {library!r}."
        )
    particles, dim, box, cutoff = geometry_of(traj, particles, dim, box, cutoff)
    varying = Library(tuple(t for t in library.terms if t.free_symbols), library.symbols)
    forces = PairLibrary(varying.terms, varying.symbols[0], particles, dim, box, cutoff)
    return _force_fit(
        traj, varying, forces, kind, stride, threshold, (rtol, ratio, thresholds),
        select=select, window=window, smooth=smooth, refine=None, bootstrap=bootstrap,
        seed=seed,
    )  # fmt: skip
