"""Ensembles: a block bootstrap of the sparse regression (ensemble SINDy), for
each term's inclusion probability and the coefficients' intervals."""

from __future__ import annotations

import warnings

import numpy as np

from .fit import SparseFit, Stage
from .library import LibraryWarning
from .regression import _lstsq
from .selection import _fit_path, folds

__all__ = ["MAX_BOOTSTRAP", "bootstrap", "check_seed"]


#: The most bootstrap resamples a fit takes (more add nothing to a 95% interval).
MAX_BOOTSTRAP = 100_000


def check_seed(seed, what: str = "seed") -> None:
    """A seed is None or a whole number >= 0 (NumPy's rule), checked before any work."""
    if seed is None:
        return
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"{what} must be a whole number >= 0 (or None); got {seed!r}.")


#: Bootstrap blocks span this many time scales of the data.
BLOCK_TAUS = 2.0


def bootstrap(fit, theta, y, where, traj, how, selection, n, seed) -> SparseFit:
    """Ensemble SINDy by a block bootstrap over the rows of the regression.

    Parameters
    ----------
    fit : SparseFit
        The model chosen on all rows.
    theta, y : ndarray, shapes (K, J) and (K,)
        The regression (force-SINDy's linear system).
    where : ndarray of int, shape (K, 2)
        The piece and sample of each row.
    traj : Trajectories
        The data the rows come from.
    how : Plan
    selection : Selection
        Repeated on every resample.
    n : int
        Resamples.
    seed : int or None
    """
    block = max(1, round(BLOCK_TAUS * how.tau / traj.h))  # the plan's time scale
    _, groups = np.unique(where[:, 0] * (traj.N + 2) + where[:, 1] // block, return_inverse=True)
    G = int(groups.max()) + 1
    if G < 2:
        raise ValueError(
            "the bootstrap needs at least two blocks of data (pieces or stretches of "
            f"{block} samples); these data give one."
        )
    members = [np.flatnonzero(groups == g) for g in range(G)]
    fold = folds(where, len(y))
    rng = np.random.default_rng(seed)
    lib = fit.library
    betas = np.zeros((n, len(lib)))
    chosen = [j for j, t in enumerate(lib.terms) if t in fit.coefficients]
    conditional = np.zeros((n, len(chosen)))
    for b in range(n):
        rows = np.concatenate([members[g] for g in rng.integers(0, G, G)])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LibraryWarning)
            # The blocks of cross-validation are the whole data's: the copies of a
            # resampled row are held out together, never fitted and tested at once.
            betas[b] = _fit_path(theta[rows], y[rows], lib, (), selection, fold=fold[rows])[0]
        if chosen:
            conditional[b] = _lstsq(theta[rows][:, chosen], y[rows])
    inclusion = {t: float(np.mean(betas[:, j] != 0)) for j, t in enumerate(lib.terms)}
    # Intervals of the chosen terms, refitted on each resample with the chosen
    # support: the selection's own uncertainty is what ``inclusion`` reports, and
    # mixing it in would let a nearly collinear library (cos q ~ 1 - q^2/2 + ...)
    # swing the intervals over whole multiples of the coefficients.
    regression = fit.method.split(";")[0]
    settings = {"resamples": n, "blocks": G, "block samples": block, "seed": seed}
    made_by = next(s for s in reversed(fit.provenance) if "coefficients" in s.gives)
    if made_by.step != "regression":
        # An interval belongs to the estimator whose coefficients it stands
        # beside: the bootstrap resamples the sparse regression, so after
        # shooting it gives inclusion probabilities only, and the intervals stay
        # shooting's own (its estimate, +-1.96 of its standard errors).
        # Percentiles of the regression beside shooting's coefficients can
        # exclude them (air-track carts: 32.88 against [21.34, 22.76]).
        stage = Stage(
            "ensemble",
            f"block bootstrap of the sparse regression ({regression})",
            settings | {"intervals": f"kept from {made_by.estimator}"},
            ("inclusion",),
        )
        return fit.then(
            stage,
            inclusion=inclusion,
            method=fit.method + f"; bootstrap of {n} resamples of {G} blocks (inclusion)",
        )
    lo, hi = np.percentile(conditional, [2.5, 97.5], axis=0)
    intervals = {lib.terms[j]: (float(lo[i]), float(hi[i])) for i, j in enumerate(chosen)}
    stage = Stage(
        "ensemble",
        f"block bootstrap of the sparse regression ({regression})",
        settings,
        ("intervals", "inclusion"),
    )
    return fit.then(
        stage,
        inclusion=inclusion,
        intervals=intervals,
        method=fit.method + f"; bootstrap of {n} resamples of {G} blocks",
    )
