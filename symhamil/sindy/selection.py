"""Model selection on the threshold path, and the settings of it as one value.

:class:`Selection` says how a model is chosen: a fixed threshold, or a path of
thresholds searched by a rule - the paper's relative-residual rule, the
Bayesian information criterion, or cross-validation by blocks of the data with
the one-standard-error rule. Every learner takes one (``selection=``); the
data's plan (:func:`symhamil.learning.planning.plan`) supplies the rule when the
value leaves it open.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from itertools import combinations

import numpy as np

from .fit import PathStep, Stage, _result
from .library import Library
from .regression import _lstsq, _relative_residual, stlsq

__all__ = ["DEFAULT_THRESHOLDS", "SELECTIONS", "Selection"]

#: The paper's thresholds run from 1 downwards; 20 per decade down to 1e-8.
DEFAULT_THRESHOLDS = tuple(10.0 ** (-np.arange(0, 8 * 20 + 1) / 20))


#: How a model is chosen along the threshold path.
SELECTIONS = ("residual", "bic", "cv")


@dataclass(frozen=True)
class Selection:
    """How a sparse model is chosen, as one frozen, validated value.

    Parameters
    ----------
    rule : {"residual", "bic", "cv"}, optional
        The rule along the threshold path: ``"residual"`` lowers lambda from 1
        until the relative residual ||y - Theta beta|| / ||y - mean y|| is at
        most max(rtol, ratio * r_full), r_full being that of least squares on
        the whole library (the paper's protocol); ``"bic"`` takes the model of
        least Bayesian information criterion on the whole path; ``"cv"``
        scores every support of the path and every small subset of the
        library by its error on held-out blocks of the data (whole pieces, or
        stretches of time) and takes the fewest terms among the models whose
        score is within one standard error of the best (:func:`_select_cv`).
        By default the data's plan chooses (cross-validation on noisy data),
        and ``"residual"`` where there is no plan (values of a network or a
        formula).
    threshold : float, optional
        A fixed lambda >= 0: no path, no rule.
    thresholds : sequence of float, optional
        The lambdas of the path, largest first; by default 20 per decade from 1
        down to 1e-8 (:data:`DEFAULT_THRESHOLDS`).
    rtol, ratio : float
        The residual rule's absolute floor and factor over r_full. The paper's
        absolute 1e-10 is reachable only by exact targets; a network's values
        stop at r_full, and a model that misses a true term sits far above it.

    Examples
    --------
    >>> Selection(rule="cv").rule
    'cv'
    >>> Selection(threshold=0.05).threshold
    0.05
    """

    rule: str | None = None
    threshold: float | None = None
    thresholds: tuple[float, ...] | None = None
    rtol: float = 1e-10
    ratio: float = 2.0

    def __post_init__(self) -> None:
        if self.rule is not None and self.rule not in SELECTIONS:
            raise ValueError(
                f"unknown selection rule {self.rule!r}; choose one of {', '.join(SELECTIONS)}."
            )
        t = self.threshold
        if t is not None:
            if (
                isinstance(t, bool)
                or not isinstance(t, int | float)
                or not (math.isfinite(t) and t >= 0)
            ):
                raise ValueError(f"threshold must be a finite number >= 0; got {t!r}.")
            object.__setattr__(self, "threshold", float(t))
        if self.thresholds is not None:
            try:
                ts = tuple(float(x) for x in self.thresholds)
            except (TypeError, ValueError):
                raise ValueError(
                    f"thresholds must be a sequence of numbers; got {self.thresholds!r}."
                ) from None
            if not ts or not all(math.isfinite(x) and x >= 0 for x in ts):
                raise ValueError(
                    "thresholds must be one or more finite numbers >= 0, largest first."
                )
            object.__setattr__(self, "thresholds", ts)
        for name in ("rtol", "ratio"):
            v = getattr(self, name)
            if (
                isinstance(v, bool)
                or not isinstance(v, int | float)
                or not (math.isfinite(v) and v >= 0)
            ):
                raise ValueError(f"{name} must be a finite number >= 0; got {v!r}.")
            object.__setattr__(self, name, float(v))

    @property
    def path(self) -> tuple[float, ...]:
        """The thresholds searched, largest first."""
        return DEFAULT_THRESHOLDS if self.thresholds is None else self.thresholds

    def replace(self, **changes) -> Selection:
        """A copy with some settings changed (validated again)."""
        return replace(self, **changes)

    def with_rule(self, rule: str) -> Selection:
        """This selection with ``rule`` where it leaves the rule open."""
        return self if self.rule is not None else replace(self, rule=rule)

    def describe(self) -> dict:
        """The settings as plain JSON-ready values (a fit's provenance)."""
        out = {"rule": self.rule, "threshold": self.threshold}
        if self.threshold is None:
            path = self.path
            out |= {"thresholds": f"{len(path)} from {path[0]:.3g} to {path[-1]:.3g}"}
            if self.rule == "residual":
                out |= {"rtol": self.rtol, "ratio": self.ratio}
        return out


#: The loose keywords of symhamil 0.1 and the Selection field each stands for.
LOOSE = {"select": "rule", "threshold": "threshold", "thresholds": "thresholds",
         "rtol": "rtol", "ratio": "ratio"}  # fmt: skip


def as_selection(selection, where: str, **loose) -> Selection:
    """``selection`` (a Selection or None), or one made of the loose keywords of
    an older call to ``where`` (deprecated: each warns once); not both."""
    unknown = sorted(set(loose) - set(LOOSE))
    if unknown:
        raise TypeError(f"{where}() got an unexpected keyword argument {unknown[0]!r}")
    given = {k: v for k, v in loose.items() if v is not None}
    if given:
        fields = ", ".join(f"{LOOSE[k]}=..." for k in given)
        warnings.warn(
            f"{where}({', '.join(f'{k}=...' for k in given)}) is deprecated since symhamil "
            f"0.2; pass selection=symhamil.Selection({fields}).",
            DeprecationWarning,
            stacklevel=3,
        )
    if selection is None:
        return Selection(**{LOOSE[k]: v for k, v in given.items()})
    if not isinstance(selection, Selection):
        raise TypeError(f"selection must be a symhamil.Selection; got {type(selection).__name__}.")
    if given:
        raise ValueError(
            f"give the selection settings once: selection=Selection(...) or "
            f"{', '.join(given)}=..., not both."
        )
    return selection


#: Residuals below this share of the target's norm are rounding, not evidence:
#: on exact data every model at that level fits equally, and the fewest terms win.
BIC_FLOOR = 1e-12


def _bic(theta, y, beta) -> float:
    """n log(RSS/n) + k log n: the Bayesian information criterion of a least-squares model."""
    n, k = len(y), int(np.count_nonzero(beta))
    rss = float(np.sum((y - theta @ beta) ** 2))
    floor = (BIC_FLOOR**2) * float(np.sum(y**2))
    return n * np.log(max(rss, floor, np.finfo(float).tiny) / n) + k * np.log(n)


def _select_bic(theta, y, library: Library, keep, thresholds):
    """Every distinct model of the whole path, and the one of least BIC.

    On noisy data the residual-ratio rule keeps dense models (noise dominates
    the residual); BIC charges log(n) per term, so a term must explain more than
    noise to stay.
    """
    path, best, last = [], None, None
    for lam_k in thresholds:
        b = stlsq(theta, y, lam_k, keep)
        if last is not None and np.array_equal(b != 0, last != 0):
            continue  # the same model as the previous threshold's
        last = b
        crit = _bic(theta, y, b) if np.any(b) else np.inf
        path.append(
            PathStep(
                float(lam_k),
                tuple(t for t, c in zip(library.terms, b, strict=True) if c != 0),
                _relative_residual(theta, y, b),
                float(crit),
            )
        )
        if best is None or crit < best[0]:
            best = (crit, b, float(lam_k), path[-1].residual)
    _, beta, lam, res = best
    return beta, lam, res, tuple(path)


def _fit_path(
    theta, y, library: Library, keep, selection: Selection, where=None, fold=None
) -> tuple[np.ndarray, float, float, tuple[PathStep, ...]]:
    """The model ``selection`` chooses: (beta, threshold, residual, path).

    ``where`` (n, 2): the piece and first sample of each row, which
    cross-validation holds out by blocks (:func:`folds`; rows in order by
    default); or ``fold`` (n,), the block of each row, made once for data
    that are then resampled.
    """
    threshold = selection.threshold
    if threshold is not None:
        beta = stlsq(theta, y, threshold, keep)
        res = _relative_residual(theta, y, beta)
        step = PathStep(
            float(threshold), tuple(np.array(library.terms, dtype=object)[beta != 0]), res
        )
        return beta, float(threshold), res, (step,)
    thresholds = selection.path
    if selection.rule == "bic":
        return _select_bic(theta, y, library, keep, thresholds)
    if selection.rule == "cv":
        return _select_cv(theta, y, library, keep, thresholds, where, fold)
    full = _lstsq(theta, y)
    tol = max(selection.rtol, selection.ratio * _relative_residual(theta, y, full))
    path = []
    beta, lam, res = full, 0.0, _relative_residual(theta, y, full)
    for lam_k in thresholds:
        b = stlsq(theta, y, lam_k, keep)
        r = _relative_residual(theta, y, b)
        path.append(
            PathStep(
                float(lam_k), tuple(t for t, c in zip(library.terms, b, strict=True) if c != 0), r
            )
        )
        if r <= tol:
            beta, lam, res = b, float(lam_k), r
            break
    return beta, lam, res, tuple(path)


#: Cross-validation holds out one of this many blocks at a time.
FOLDS = 5
#: With fewer pieces than blocks, each piece is cut into FOLDS * CYCLES
#: stretches of time, dealt to the blocks in turn: every block then holds
#: stretches from the whole record (a damped pendulum's large and small swings).
CYCLES = 4
#: Blocks of fewer rows than this give no usable held-out score.
MIN_BLOCK_ROWS = 3
#: Cross-validation scores every subset of the library up to the size at which
#: there would be more than this many (all 127 of 7 terms; up to 3 of 12).
MAX_SUBSETS = 300


def folds(where, n: int, k: int = FOLDS) -> np.ndarray:
    """The held-out block of each row, shape (n,), values 0 .. k-1.

    Rows of different pieces are independent, so with at least ``k`` pieces
    whole pieces are held out; otherwise each piece is cut into ``k`` *
    :data:`CYCLES` stretches of time dealt to the blocks in turn. Residuals of
    a model that is not exactly right are correlated over about a period; a
    held-out stretch of several time scales tests the model on motion it has
    not seen, where rows drawn at random would sit between neighbours that
    were fitted.
    """
    if where is None:
        return (np.arange(n) * k) // max(n, 1)
    where = np.asarray(where)
    piece, start = where[:, 0], where[:, 1]
    ids, piece = np.unique(piece, return_inverse=True)
    if ids.size >= k:
        return piece % k
    out = np.empty(n, dtype=int)
    for r in range(ids.size):
        rows = piece == r
        s = start[rows]
        lo, hi = s.min(), s.max()
        block = (s - lo) * (k * CYCLES) // max(hi - lo + 1, 1)
        out[rows] = (block + r) % k
    return out


def _supports(theta, y, keep, thresholds) -> tuple[list[tuple[int, ...]], dict]:
    """The candidate models: every distinct support on the threshold path, then
    every small subset of the library; and the path's supports with their lambda."""
    keep = tuple(sorted(keep))
    free = [j for j in range(theta.shape[1]) if j not in keep]
    on_path: dict[tuple[int, ...], float] = {}
    for lam in thresholds:
        s = tuple(int(j) for j in np.flatnonzero(stlsq(theta, y, lam, keep)))
        if s:
            on_path.setdefault(s, float(lam))
    return [*on_path, *(s for s in small_subsets(free, keep) if s not in on_path)], on_path


def small_subsets(free, keep=()):
    """Every subset of the columns ``free``, smallest first, up to the size at
    which there would be more than :data:`MAX_SUBSETS`, each with ``keep``
    added (sorted tuples)."""
    total, size = 0, 0
    while size < len(free):
        more = math.comb(len(free), size + 1)
        if total + more > MAX_SUBSETS:
            break
        size, total = size + 1, total + more
    for k in range(1, size + 1):
        for sub in combinations(free, k):
            yield tuple(sorted(set(sub) | set(keep)))


def fewest_terms(theta, y, beta, selection: Selection, blocks=None):
    """The residual rule's model, or a smaller one that meets the same bar.

    The threshold path of STLSQ can jump from one term to the whole library
    when the columns differ in scale by orders of magnitude (r^-1 .. r^-12 on
    a text dump's rounded forces keep all twelve, while {r^-12, r^-6} fits
    to the rounding). From the path's model, terms are dropped one at a time,
    each time the one whose loss raises the residual least, while the rule's
    bar max(rtol, ratio * r_full) holds; then every small subset with fewer
    terms still is tried, fewest first. With ``blocks`` (the columns of each
    pair of species, :func:`variable_blocks`), a search block by block is
    tried too (:func:`_block_subsets`), and the model with fewer terms wins.

    Parameters
    ----------
    theta : ndarray, shape (n, J)
    y : ndarray, shape (n,)
    beta : ndarray, shape (J,)
        The threshold path's model.
    selection : Selection
    blocks : sequence of sequence of int, optional
        A partition of the J columns into groups of one variable each.

    Returns
    -------
    beta : ndarray, shape (J,)
    residual : float
    fewer : bool
        Whether terms were dropped from the path's model.
    """
    res = _relative_residual(theta, y, beta)
    if selection.threshold is not None or selection.rule != "residual":
        return beta, res, False
    J = theta.shape[1]
    r_full = _relative_residual(theta, y, _lstsq(theta, y))
    bar = max(selection.rtol, selection.ratio * r_full)

    def fit(sub):
        b = np.zeros(J)
        if sub:
            b[list(sub)] = _lstsq(theta[:, list(sub)], y)
        return b, _relative_residual(theta, y, b)

    support = [int(j) for j in np.flatnonzero(beta)]
    had = len(support)
    while len(support) > 1:
        trials = [(*fit([i for i in support if i != j]), j) for j in support]
        b, r, j = min(trials, key=lambda t: t[1])
        if r > bar:
            break
        support.remove(j)
        beta, res = b, r
    for sub in small_subsets(list(range(J))):
        if len(sub) >= len(support):
            break
        b, r = fit(sub)
        if r <= bar:
            return b, r, True  # the fewest terms: smaller subsets were all tried first
    if blocks is not None and len(blocks) > 1:
        sub = _block_subsets(fit, blocks, bar, r_full)
        if sub is not None and len(sub) < len(support):
            b, r = fit(sub)
            return b, r, True
    return beta, res, len(support) < had


def variable_blocks(library: Library):
    """The columns of each variable, when every term has one and there are
    several (a species library: r_1_1, r_1_2, r_2_2), else None."""
    groups: dict = {}
    for j, term in enumerate(library.terms):
        free = term.free_symbols
        if len(free) != 1:
            return None
        groups.setdefault(next(iter(free)), []).append(j)
    return tuple(groups.values()) if len(groups) > 1 else None


def _block_subsets(fit, blocks, bar: float, r_full: float):
    """The fewest terms of each block, the other blocks whole, or None.

    A mixture's library is a block of inverse powers per pair of types, 36
    columns for three pairs: the subsets small enough to try cover one or two
    of 36, and backward elimination from the path's model (which may lack
    r^-12 of a pair; r^-5 .. r^-11 stand in for it within the rounding) stops
    at 16 terms where 6 fit. Blocks hardly share rows' variance (each pair
    type's distances), so each block gets an equal share of the bar's room,
    bar^2 - r_full^2, in squared residual, and is searched alone, smallest
    subsets first; a block with no small subset in its share stays whole.
    The blocks' choices together must still meet the bar.
    """
    share = (bar**2 - r_full**2) / len(blocks)
    chosen: list[int] = []
    for cols in blocks:
        others = [j for b in blocks if b is not cols for j in b]
        pick = list(cols)
        for sub in small_subsets(list(cols)):
            if len(sub) >= len(pick):
                break
            if fit(others + list(sub))[1] ** 2 <= r_full**2 + share:
                pick = list(sub)
                break
        chosen += pick
    return sorted(chosen) if fit(chosen)[1] <= bar else None


def chosen_fit(theta, y, where, library: Library, selection: Selection, stage, method: str):
    """The model ``selection`` chooses on rows ``theta`` (n, J), ``y`` (n,) (the
    fewest terms at the residual rule's bar, :func:`fewest_terms`), as a
    SparseFit whose provenance is ``stage`` (the regression) and the selection,
    and whose method is ``method`` with ``{rule}`` replaced by the rule's name."""
    library.check(theta)
    beta, lam, res, path = _fit_path(theta, y, library, (), selection, where)
    beta, res, fewer = fewest_terms(theta, y, beta, selection, variable_blocks(library))
    rule = selection.rule + " rule" if selection.threshold is None else "fixed threshold"
    if fewer:
        rule += ", fewest terms at its bar"
    return (
        _result(beta, lam, res, path, library)
        .then(stage, method=method.replace("{rule}", rule))
        .then(Stage("selection", "threshold path", selection.describe() | {"chosen": lam}))
    )


def _interpolated(theta, fold) -> np.ndarray:
    """Which rows lie, in every column of the library, within the range of the
    rows of the other blocks, shape (n,) of bool.

    A held-out block may hold the only trajectory that went somewhere (T1's
    highest energy); every model fitted without it extrapolates there, and the
    one whose spurious terms happen to extrapolate best wins by orders of
    magnitude in that block alone. The score asks how well a model predicts
    motion like the data's, so it is taken where the other blocks have been.
    """
    out = np.zeros(len(fold), dtype=bool)
    for b in range(int(fold.max()) + 1):
        test = fold == b
        train = theta[~test]
        lo, hi = train.min(axis=0), train.max(axis=0)
        out[test] = ((theta[test] >= lo) & (theta[test] <= hi)).all(axis=1)
    return out


def _cv_errors(theta, y, fold, support, scored=None) -> np.ndarray:
    """Mean square held-out error of ``support`` in each block, shape (k,), over
    the held-out rows in ``scored`` (all by default)."""
    k = int(fold.max()) + 1
    out = np.empty(k)
    cols = list(support)
    for b in range(k):
        test = fold == b
        beta = _lstsq(theta[~test][:, cols], y[~test])
        rows = test if scored is None else test & scored
        out[b] = np.mean((y[rows] - theta[rows][:, cols] @ beta) ** 2)
    return out


def _fold_triangles(theta, y, fold, scored):
    """:func:`_cv_errors` of any support from two triangles per block.

    For each block, the R factors of [theta | y] on the other blocks' rows
    (fitting) and on its own scored rows (scoring), (J+1, J+1) each: a least
    squares fit on any columns, and a sum of squares of any residual, are the
    same on a triangle as on its rows (the rows' Q is orthogonal). Hundreds
    of candidates then cost hundreds of tiny solves, not passes over the rows.
    Returns a function of a support giving the mean square error per block,
    shape (k,).
    """
    k = int(fold.max()) + 1
    both = np.column_stack([theta, y])
    parts = []
    for b in range(k):
        test = fold == b
        rows = test & scored
        fit = np.linalg.qr(both[~test], mode="r")
        score = np.linalg.qr(both[rows], mode="r") if rows.any() else np.zeros((0, both.shape[1]))
        parts.append((fit, score, max(int(rows.sum()), 1)))

    def errors(support) -> np.ndarray:
        cols = list(support)
        out = np.empty(k)
        for b, (fit, score, n) in enumerate(parts):
            beta = _lstsq(fit[:, cols], fit[:, -1])
            out[b] = np.sum((score[:, -1] - score[:, cols] @ beta) ** 2) / n
        return out

    return errors


def _select_cv(theta, y, library: Library, keep, thresholds, where, fold=None):
    """The fewest terms that predict held-out data as well as the best model.

    Every candidate (:func:`_supports`) is fitted on all blocks but one and
    scored by its mean square error on the held-out block (:func:`folds`).
    The best mean score is not the answer: models the data cannot tell apart
    differ by less than the standard error of the best score (from its
    spread over the blocks: the one-standard-error rule of Breiman et al.),
    and among those the fewest terms win. A block is scored only where the
    other blocks have been (:func:`_interpolated`). In-sample criteria count every row
    as independent; when the model is not exactly right (friction, an offset,
    a velocity scale), the residuals are correlated over a period and BIC's
    log(n) per term is far too cheap (a damped pendulum with a nearly
    collinear library of 7 terms keeps 6). A held-out block pays for a term
    that only fits the systematic error of the blocks it was fitted on.
    """
    n = len(y)
    fold = folds(where, n) if fold is None else np.unique(fold, return_inverse=True)[1]
    k = int(fold.max()) + 1
    if k < 2 or min(np.bincount(fold, minlength=k)) < MIN_BLOCK_ROWS:
        warnings.warn(
            f"cross-validation needs at least 2 blocks of {MIN_BLOCK_ROWS} rows; the data give "
            f"{n} rows in {k} block(s), so the model was chosen by BIC instead.",
            UserWarning,
            stacklevel=4,
        )
        return _select_bic(theta, y, library, keep, thresholds)
    supports, on_path = _supports(theta, y, keep, thresholds)
    blocks = variable_blocks(library)
    if blocks is not None:
        joint = _block_candidate(theta, y, fold, blocks, keep)
        if joint not in supports:
            supports.append(joint)
    score, chosen, fits = held_out(theta, y, fold, supports)
    # Off the path, a support's lambda is its smallest coefficient: the largest
    # lambda that keeps it.
    lams = [
        on_path.get(s, float(np.min(np.abs(b[list(s)]))))
        for s, b in zip(supports, fits, strict=True)
    ]
    scale = float(np.mean((y - y.mean()) ** 2)) or 1.0
    path = tuple(
        PathStep(
            lams[c],
            tuple(library.terms[j] for j in supports[c]),
            _relative_residual(theta, y, fits[c]),
            float(np.sqrt(score[c] / scale)),
        )
        for c in sorted(range(len(supports)), key=lambda c: -lams[c])
    )
    beta = fits[chosen]
    return beta, lams[chosen], _relative_residual(theta, y, beta), path


def _block_candidate(theta, y, fold, blocks, keep) -> tuple[int, ...]:
    """One more candidate for cross-validation: each block's fewest terms
    within one standard error of its best, the other blocks whole.

    The small subsets of a 36-term mixture library are one term, and the
    threshold path on 8-decimal positions keeps all 36; searched pair type
    by pair type, each block's small subsets are all tried (up to 3 of 12).
    """
    chosen = set(keep)
    for cols in blocks:
        others = {j for b in blocks if b is not cols for j in b} | set(keep)
        cands = [tuple(sorted(others | set(sub))) for sub in small_subsets(list(cols))]
        cands.append(tuple(sorted(others | set(cols))))
        _, c, _ = held_out(theta, y, fold, cands)
        chosen |= set(cands[c]) & set(cols)
    return tuple(sorted(chosen))


def held_out(theta, y, fold, supports) -> tuple[np.ndarray, int, list[np.ndarray]]:
    """Cross-validation of the ``supports`` (column indices) of one regression.

    Returns
    -------
    score : ndarray, shape (C,)
        Mean square held-out error of each support (:func:`_cv_errors`, over
        the blocks with enough rows where the other blocks have been).
    chosen : int
        The fewest terms within one standard error of the best score; among
        equally many, the least residual on all rows.
    fits : list of ndarray, shape (J,) each
        Each support's least-squares coefficients on all rows.
    """
    k = int(fold.max()) + 1
    scored = _interpolated(theta, fold)
    counts = np.bincount(fold[scored], minlength=k)
    if (counts >= MIN_BLOCK_ROWS).sum() < 2:
        scored = np.ones(len(y), dtype=bool)  # nothing to hold out but extrapolation
        counts = np.bincount(fold, minlength=k)
    use = counts >= MIN_BLOCK_ROWS
    cv = _fold_triangles(theta, y, fold, scored)
    errors = np.array([cv(s)[use] for s in supports])
    score = errors @ (counts[use] / counts[use].sum())
    best = int(np.argmin(score))
    se = errors[best].std(ddof=1) / np.sqrt(int(use.sum()))
    floor = (BIC_FLOOR**2) * float(np.mean(y**2))  # rounding, not evidence (exact data)
    tied = np.flatnonzero(score - score[best] <= max(se, floor))
    fits = []
    for s in supports:
        b = np.zeros(theta.shape[1])
        b[list(s)] = _lstsq(theta[:, list(s)], y)
        fits.append(b)
    # Among the fewest terms, models of equal size are told apart by their fit to
    # all rows: none of them has more freedom, and the rows a held-out score
    # leaves out (the largest amplitudes) are where they differ most (q against
    # sin q for a pendulum's offset).
    fewest = min(len(supports[c]) for c in tied)
    chosen = min(
        (c for c in tied if len(supports[c]) == fewest),
        key=lambda c: float(np.sum((y - theta @ fits[c]) ** 2)),
    )
    return score, int(chosen), fits
