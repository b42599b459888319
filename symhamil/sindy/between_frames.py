"""Pair force-SINDy from positions of frames k molecular-dynamics steps apart.

An engine integrating with velocity Verlet at step delta makes positions
x_i with x_{i+1} - 2 x_i + x_{i-1} = delta^2 F(x_i) / m. Summing these with
the triangle weights k - |j| gives an identity between the frames it wrote
every k steps (q_n = x_{nk}) that is exact for that spacing:

    m (q_{n+1} - 2 q_n + q_{n-1}) / delta^2 = sum_{|j|<k} (k - |j|) F(x_{nk+j}).

F = -sum_J beta_J grad xi_J is linear in the coefficients, so each interior
frame gives a row of a linear regression, once the positions between the
frames are known. They are not written; they are made by the MD's own
integrator: for each pair of frames, the velocity that carries q_n to q_{n+1}
in k steps of the current model (a boundary-value problem solved by
shooting), starting from a cubic spline through the frames. The model is
refitted on the rows the new positions give, and so on: the true potential is
a fixed point (its trajectories are the engine's), and each pass shrinks the
error by about (omega k delta)^2, omega the fastest vibration. A finite
difference between frames, which assumes every step was written, is biased
by O((k delta)^2) and keeps spurious terms.
"""

from __future__ import annotations

import numpy as np
import scipy.interpolate
import sympy as sp

from ..data.noise import rounding
from ..systems.pairs import PairLibrary
from .fit import SparseFit, Stage
from .library import Library
from .regression import _lstsq, _relative_residual
from .selection import Selection, chosen_fit

__all__ = ["MAX_MD_STEPS", "between_frames", "inferred_forces"]

#: The identity's relative residual under the whole library at or below which
#: the frames count as exact (binary files reach 1e-12; a text dump's 8
#: digits leave 7e-6), and the residual rule selects; above it, cross-validation.
EXACT_ROWS = 1e-9

#: Frames more MD steps apart than this are refused: over a few hundred steps
#: of a typical MD step (1/20 to 1/50 of the fastest vibration) the motion
#: between frames is chaotic, many paths join two frames, and no observation
#: from positions alone can tell the potential; stored forces can.
MAX_MD_STEPS = 100

#: Passes of (positions between frames, refit) at most; each shrinks the
#: positions' error by a factor of about 5 (LJ frames 10 steps of 0.004 tau
#: apart, and argon 10 steps of 2 fs), so about 15 reach XTOL.
MAX_PASSES = 20
#: Shooting iterations per boundary-value problem at most; the update is
#: Newton's with the Jacobian's leading term k delta (each shrinks the miss by
#: about 3 for LJ frames 10 steps of 0.004 tau apart).
MAX_SHOTS = 60
#: The passes stop when the positions between frames move by less than this
#: share of the frames' mean displacement (the identity's residual is then
#: about 1e-12 of the forces).
XTOL = 1e-10
#: Shooting and the passes stop when STALLS iterations in a row fail to
#: shrink the best error so far by this factor (the largest miss over all
#: pairs of frames need not fall every time): frames too far apart for the
#: motion between them to be recovered (chaos), or frames that are not one
#: pair potential's velocity-Verlet steps. The fit then says it did not converge.
CONTRACTION = 0.9
STALLS = 6
#: The passes stop after this many in a row that do not shrink the positions'
#: change by PASS_CONTRACTION (a converging run shrinks it about 5 times per
#: pass).
PASS_STALLS = 2
PASS_CONTRACTION = 0.5
#: The first model's shooting must shrink the largest miss by this factor at
#: least, or the frames are too far apart (or not one potential's motion) to
#: be joined, and no more passes are spent.
HOPELESS = 0.1


def _interpolated(q: np.ndarray, k: int) -> np.ndarray:
    """Positions between frames (T, d) -> (T-1, k-1, d) by a cubic spline."""
    T = q.shape[0]
    spline = scipy.interpolate.CubicSpline(np.arange(T), q, axis=0)
    s = (np.arange(T - 1)[:, None] + np.arange(1, k)[None, :] / k).reshape(-1)
    return spline(s).reshape(T - 1, k - 1, q.shape[1])


def _model_force(beta, varying: Library, library: PairLibrary):
    """F(x) = -grad sum phi(r_ij) of the model ``beta`` for configurations
    (K, d): one pair law per pair of species, each summed once."""
    laws = {}
    for b, t in zip(beta, varying.terms, strict=True):
        x = library._symbol_of(t)
        laws[x] = laws.get(x, 0) + b * t
    symbols = tuple(laws)
    one = PairLibrary(tuple(sp.sympify(laws[x]) for x in symbols),
                      library.r if isinstance(library.r, tuple) else symbols[0],
                      library.geometry)  # fmt: skip
    return lambda x: -one.gradient(x).sum(axis=-1)


def _shoot(q: np.ndarray, k: int, delta: float, m: np.ndarray, force, tol: float = 0.0):
    """Positions between frames (T-1, k-1, d) of the model ``force``: for each
    pair of frames the start velocity whose k velocity-Verlet steps carry q_n
    to q_{n+1}; whether the shooting converged; and by how much it shrank the
    largest miss (about 1e-10 when it converges, near 1 when it cannot).
    ``tol``: a miss that counts as reached (the positions' rounding)."""
    x0, x1 = q[:-1], q[1:]
    v0 = (x1 - x0) / (k * delta)
    a0 = force(x0) / m
    scale = np.abs(x1 - x0).mean() + np.finfo(float).tiny
    between = np.empty((len(x0), k - 1, q.shape[1]))
    best, least, stalls, first = None, np.inf, 0, None
    # Each pair of frames has its own step length: halved where its miss did
    # not shrink (a stiff close encounter makes the plain update overshoot,
    # and the miss flips sign from shot to shot).
    alpha, previous = np.ones((len(x0), 1)), np.full(len(x0), np.inf)
    for _ in range(MAX_SHOTS):
        x, v, a = x0, v0, a0
        for i in range(k):
            half = v + 0.5 * delta * a
            x = x + delta * half
            a = force(x) / m
            v = half + 0.5 * delta * a
            if i < k - 1:
                between[:, i] = x
        miss = x1 - x
        worst = float(np.abs(miss).max()) if np.isfinite(miss).all() else np.inf
        first = worst if first is None else first
        if worst <= max(1e-2 * XTOL * scale, tol):
            return between, True, worst / max(first, np.finfo(float).tiny)
        if worst < least:
            best = between.copy()
        stalls = stalls + 1 if not worst < CONTRACTION * least else 0
        least = min(least, worst)
        if stalls >= STALLS or not np.isfinite(worst):
            break  # not contracting: the frames are too far apart for this model
        each = np.abs(miss).max(axis=1)
        alpha[each > CONTRACTION * previous] *= 0.5
        previous = each
        v0 = v0 + alpha * miss / (k * delta)
    return (between if best is None else best), False, least / max(first, np.finfo(float).tiny)


def _rows(q, between, k, delta, m, library: PairLibrary):
    """Rows (frames 1..T-2, d, J) and targets (T-2, d) of the triangle identity."""
    T, d = q.shape
    # Positions at every MD step: x_{nk} = q_n, then the k-1 between.
    steps = np.concatenate([q[:-1, None], between], axis=1).reshape(-1, d)
    steps = np.concatenate([steps, q[-1:]])  # ((T-1) k + 1, d)
    G = library.gradient(steps)  # (S, d, J)
    w = k - np.abs(np.arange(-(k - 1), k))  # (2k-1,)
    centres = np.arange(1, T - 1) * k
    idx = centres[:, None] + np.arange(-(k - 1), k)[None, :]
    theta = -np.einsum("j,njdk->ndk", w.astype(float), G[idx])  # F = -G beta
    y = m * (q[2:] - 2 * q[1:-1] + q[:-2]) / delta**2
    return theta, y


def between_frames(
    traj, varying: Library, library: PairLibrary, k: int, selection: Selection
) -> SparseFit:
    """Pair force-SINDy on frames ``k`` velocity-Verlet steps apart (module docstring).

    Parameters
    ----------
    traj : Trajectories, q of shape (R, T, d)
        Unwrapped positions of every piece (three frames or more each);
        ``traj.masses`` per coordinate (unit masses when not given).
    varying : Library
        The terms in r (no constant).
    library : PairLibrary
        Their pair sums in the data's geometry.
    k : int
        MD steps between consecutive frames; the MD step is ``traj.h / k``.
    selection : Selection
        The rule on the threshold path; the residual rule by default (the
        observation is exact).
    """
    if k > MAX_MD_STEPS:
        raise ValueError(
            f"frames {k} MD steps apart: over more than {MAX_MD_STEPS} steps the motion "
            "between frames cannot be recovered from positions alone. Store the forces "
            "(LAMMPS: dump ... fx fy fz; ASE: a trajectory with a calculator) to fit "
            "them directly, or write frames more often."
        )
    delta = traj.h / k
    m = np.ones(traj.dim) if traj.masses is None else np.asarray(traj.masses, dtype=float)
    pieces = [traj.q[r, : traj.sizes[r]] for r in range(traj.R) if traj.sizes[r] >= 3]
    if not pieces:
        raise ValueError(
            "frames k MD steps apart give one row per interior frame: each trajectory "
            "needs three frames or more."
        )
    between = [_interpolated(q, k) for q in pieces]
    passes, converged, least, stalls = 0, False, np.inf, 0
    step = np.mean([np.abs(np.diff(q, axis=0)).mean() for q in pieces])
    # Positions written with few digits: the passes settle at their rounding
    # (a refit on rounded rows moves the shot positions by far less).
    settled = max(XTOL * max(step, np.finfo(float).tiny),
                  max(float(rounding(q).max()) for q in pieces))  # fmt: skip
    while passes < MAX_PASSES:
        passes += 1
        theta, y, where = _stack(pieces, between, k, delta, m, library)
        beta = _lstsq(theta, y)  # the whole library: forces right on the data
        force = _model_force(beta, varying, library)
        shots = [_shoot(q, k, delta, m, force, settled) for q in pieces]
        new = [b for b, _, _ in shots]
        moved = max(np.abs(a - b).max() for a, b in zip(new, between, strict=True))
        # An early model may not reach every frame (a force truncated at the
        # cutoff makes the end point jump as a pair crosses it): its best
        # positions still improve the rows, and the next model gets there.
        between = new
        if passes == 1 and max(f for _, _, f in shots) > HOPELESS:
            break  # no model of this library joins the frames: frames too far apart
        if all(ok for _, ok, _ in shots) and moved <= settled:
            converged = True
            break
        # Progress: the positions settle fast (5 times per pass when the frames
        # are one potential's motion; frames no pair potential joins settle
        # slowly on a model that fits no better).
        better = moved < PASS_CONTRACTION * least
        stalls = 0 if better else stalls + 1
        least = min(least, moved)
        if stalls >= PASS_STALLS:
            break
    theta, y, where = _stack(pieces, between, k, delta, m, library)
    if selection.rule is None and selection.threshold is None:
        # Exact frames (binary files) leave the identity at rounding, and the
        # residual rule finds the terms; positions written with 6-8 digits
        # (text dumps) leave 1e-5 to 1e-3, above which BIC and the residual
        # rule keep every term, while held-out blocks of frames find the law.
        floor = _relative_residual(theta, y, _lstsq(theta, y))
        selection = selection.with_rule("residual" if floor <= EXACT_ROWS else "cv")
    settings = {"observations": f"frames {k} velocity-Verlet steps apart", "md_step": delta,
                "passes": passes, "rows": len(y), "converged": converged}  # fmt: skip
    stage = Stage(
        "regression",
        "triangle-weighted Verlet identity between frames, positions between them shot "
        "by the MD's integrator",
        settings,
        ("coefficients",),
    )
    note = (
        ""
        if converged
        else "; NOT converged: no pair potential's velocity Verlet joins the frames"
    )
    method = (
        f"frames {k} MD steps apart: the Verlet identity over the frames, positions "
        f"between them by shooting ({passes} passes; {{rule}}{note})"
    )
    return chosen_fit(theta, y, where, varying, selection, stage, method)


def _stack(pieces, between, k, delta, m, library):
    """Every piece's rows as one regression: theta (n, J), y (n,), where (n, 2)."""
    thetas, ys, wheres = [], [], []
    for r, (q, b) in enumerate(zip(pieces, between, strict=True)):
        theta, y = _rows(q, b, k, delta, m, library)
        thetas.append(theta.reshape(-1, theta.shape[-1]))
        ys.append(y.reshape(-1))
        frames = np.arange(1, q.shape[0] - 1)
        wheres.append(np.repeat(np.column_stack([np.full_like(frames, r), frames]), q.shape[1], 0))
    return np.concatenate(thetas), np.concatenate(ys), np.concatenate(wheres)


def inferred_forces(traj, varying: Library, library: PairLibrary, beta, k: int | None):
    """The forces the positions imply against a model's, for a parity plot.

    Each interior frame's triangle-weighted Verlet identity, divided by the
    weights' sum k^2: the data's side, m (q_{n+1} - 2 q_n + q_{n-1}) /
    (k delta)^2, is the mean force over the 2k - 1 steps around the frame
    (exactly the force at the frame for k = 1), and the model's side is the
    same mean of its forces on positions shot between the frames.

    Returns
    -------
    observed, predicted : ndarray, shape (n, d)
        Over the interior frames of the first piece with three frames or more
        (none when there is no such piece).
    """
    k = 1 if k is None else int(k)
    delta = traj.h / k
    m = np.ones(traj.dim) if traj.masses is None else np.asarray(traj.masses, dtype=float)
    q = next((traj.q[r, : traj.sizes[r]] for r in range(traj.R) if traj.sizes[r] >= 3), None)
    if q is None:
        return np.zeros((0, traj.dim)), np.zeros((0, traj.dim))
    beta = np.asarray(beta, dtype=float)
    if k == 1:
        between = np.zeros((q.shape[0] - 1, 0, q.shape[1]))
    else:
        between, _, _ = _shoot(q, k, delta, m, _model_force(beta, varying, library))
    theta, y = _rows(q, between, k, delta, m, library)
    return y / k**2, (theta @ beta) / k**2
