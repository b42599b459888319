"""Refinement: a sparse model's coefficients fitted to the trajectories themselves.

:func:`refine` is maximum likelihood by multiple shooting: each piece is cut
into segments, each simulated from its own fitted start with the one RK4 of
:mod:`symhamil.systems.integrators`, and the coefficients move until the
simulated positions (and momenta) are closest to the measured ones in units of
their noise. On noisy data this approaches the Cramer-Rao bound, where
regression on differenced or integrated data stays above it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..data.noise import initial_momenta, noise_level, smooth, time_scale
from ..data.trajectories import Trajectories
from ..learning.planning import Plan
from ..systems.friction import drag_function
from ..systems.integrators import integrate, substeps_for
from .friction import is_friction_term

__all__ = ["RefineResult", "refine"]


@dataclass(frozen=True, eq=False)
class RefineResult:
    """Coefficients fitted to the trajectories by multiple shooting.

    Attributes
    ----------
    coefficients : dict {sympy.Expr: float}
        Every term's, the potential's and the friction's.
    expression : sympy.Expr
        The potential, sum of its terms.
    stderr : dict {sympy.Expr: float}
        Standard errors from the Gauss-Newton covariance, scaled by the
        residuals' variance when it exceeds the noise and by their correlation
        in time (:func:`_stderr`); never NaN: inf where the data do not
        identify a coefficient, with ``note`` saying so.
    cost : float
        Half the sum of squared normalised residuals at the optimum.
    segments : int
    correlation : float
        Lag-one correlation of the residuals along the samples (0 for white
        noise; a model that misses a signal leaves it correlated).
    note : str
        Why a standard error is inf, or "".
    friction : sympy.Expr
        The Rayleigh function R of the friction terms (0 without).
    masses, masses_stderr : tuple of float, length d
        The masses (fitted where ``free_masses`` said, given elsewhere) and
        their standard errors (0 for the given ones).
    """

    coefficients: dict
    expression: sp.Expr
    stderr: dict
    cost: float
    segments: int
    correlation: float = 0.0
    note: str = ""
    friction: sp.Expr = sp.S.Zero
    masses: tuple[float, ...] = ()
    masses_stderr: tuple[float, ...] = ()


#: Levenberg-Marquardt iterations of the segment states alone before the joint
#: fit (a start, not an optimum: T1 needs 2-3).
STATE_ITERATIONS = 5
#: Segment length of multiple shooting, in units of the time scale tau.
SEGMENT_FRACTION = 2.0


# Over 80 lines with its numpydoc docstring (37 of 86 lines); the code is 38.
def refine(
    fit,
    traj: Trajectories,
    *,
    segment: int | None = None,
    substeps: int | None = None,
    noise=None,
    max_iter: int = 30,
    continuation: bool = True,
    plan: Plan | None = None,
    free_masses=(),
) -> RefineResult:
    """The coefficients of ``fit``'s terms that make its trajectories closest to the data.

    Each piece is cut into segments of ``segment`` samples; each segment starts
    from its own state (fitted too), and the residuals are the differences of
    simulated and measured q (and p), each divided by its estimated noise. The
    support is kept; only the coefficients move, from ``fit``'s values. This is
    maximum likelihood for white Gaussian noise on the samples.

    Levenberg-Marquardt, with the segments' states eliminated by a Schur
    complement (each state touches only its own segment), and a Jacobian by
    forward differences computed in one vectorised integration of every
    perturbed copy at once.

    Parameters
    ----------
    fit : SparseFit
    traj : Trajectories
    segment : int, optional
        Samples per shooting segment; by default SEGMENT_FRACTION * tau / h.
    substeps : int, optional
        RK4 steps per sample interval; by default STEPS_PER_TAU per tau.
    noise : NoiseLevel, optional
        The noise of q and p; estimated from ``traj`` by default.
    plan : Plan, optional
        The data's plan (:func:`symhamil.plan`), made once: its noise and time
        scale tau are used (instead of ``noise``).
    max_iter : int
        Most Levenberg-Marquardt iterations (per stage).
    continuation : bool
        Lengthen the segments stage by stage up to whole pieces (each stage
        starts from the last), as far as the dynamics allow: a stage that fits
        clearly worse than the last (a chaotic orbit, a local minimum) is
        undone. Every free segment start costs information, so whole pieces
        reach the Cramer-Rao bound of the trajectories where segments of 2 tau
        stay 4-11 times above it (standard errors; benchmarks/bench_cramer_rao.py).
        Not with ``segment`` given.
    free_masses : sequence of int
        Coordinates whose masses are fitted too, starting from ``traj.masses``
        (the others stay; one must, or V and the masses share a scale).

    Returns
    -------
    RefineResult
    """
    # The friction's terms (a fit's own, or among the coefficients of a fit
    # selected jointly) follow the potential's, so beta = (V's, R's).
    every = [*fit.coefficients, *(getattr(fit, "friction_coefficients", None) or {})]
    values = {**fit.coefficients, **(getattr(fit, "friction_coefficients", None) or {})}
    drags = [t for t in every if is_friction_term(t, traj.coords)]
    terms = [t for t in every if t not in drags] + drags
    if not terms:
        raise ValueError("the fit has no terms to refine.")
    if plan is not None and noise is not None:
        raise ValueError("give plan= or noise=, not both: the plan holds the noise.")
    if plan is not None:
        traj = plan.observed(traj)  # without momenta that disagree with the positions
    if plan is not None and plan.noise is not None:
        noise, tau = plan.noise, plan.tau
    else:
        noise = noise_level(traj) if noise is None else noise
        tau = time_scale(traj, noise)
    sigmas = [np.maximum(noise.q, 1e-12)]
    if traj.p is not None:
        sigmas.append(np.maximum(noise.p, 1e-12))
    masses = traj.mass_array
    free = tuple(int(i) for i in free_masses)
    if len(free) >= traj.dim or len(set(free)) != len(free):
        raise ValueError(
            f"free_masses {free} must name distinct coordinates, and not all {traj.dim}: "
            "one known mass sets the scale of V."
        )
    n_sub = substeps_for(traj, substeps, tau)
    JV = len(terms) - len(drags)
    rates = _Rates(_batched_gradient(terms[:JV], traj.coords), _batched_drag(drags, traj), JV,
                   len(terms), masses, free)  # fmt: skip
    beta = np.array([*(values[t] for t in terms), *masses[list(free)]], dtype=float)
    J = len(beta)
    longest = int(traj.sizes.max())
    L = round(SEGMENT_FRACTION * tau / traj.h) if segment is None else int(segment)
    L = min(max(L, 3), longest)
    seg = _segments(traj, L)
    sm = _smoothed(traj, tau) if noise.fraction > 1e-6 else traj
    states = np.stack([sm.q[seg.rows, seg.starts], _start_momenta(sm, seg)], axis=1)
    problem = _Shooting(traj, seg, sigmas, masses, n_sub, rates, J)
    # The starting coefficients first get their own best segment states, and
    # the joint fit starts there: Levenberg-Marquardt only ever lowers the
    # cost, so the refined coefficients never fit the raw samples worse than
    # the regression's did (from the smoothed states alone they could).
    beta, states, r, cost = problem.solve(beta, states, STATE_ITERATIONS, fixed=True)
    beta, states, r, cost = problem.solve(beta, states, max_iter)
    if segment is None and continuation:
        problem, beta, states, r, cost = _continued(problem, L, beta, states, r, cost, max_iter)
    seg = problem.seg
    stderr, rho, note = _stderr(*problem.jacobian(beta, states, r), r, problem)
    S = len(seg.starts)
    K = len(terms)
    coeffs = {t: float(b) for t, b in zip(terms, beta[:K], strict=True)}
    expr = sp.Add(*(sp.Float(coeffs[t], 17) * t for t in terms[:JV]))
    drag = sp.Add(*(sp.Float(coeffs[t], 17) * t for t in drags))
    errors = {t: float(e) for t, e in zip(terms, stderr[:K], strict=True)}
    fitted = masses.astype(float).copy()
    fitted[list(free)] = beta[K:]
    spread = np.zeros(traj.dim)
    spread[list(free)] = stderr[K:]
    return RefineResult(coeffs, expr, errors, cost, S, rho, note, drag,
                        tuple(map(float, fitted)), tuple(map(float, spread)))  # fmt: skip


def _continued(problem, L, beta, states, r, cost, max_iter):
    """Continuation: each free segment start costs information (T1 at 1%,
    positions only: stderr 2.8e-4 with segments of 2 tau, 1.3e-4 over whole
    pieces; a pendulum with momenta: 4.1x the whole pieces' Cramer-Rao bound
    with segments of 2 tau), but long segments are far from convex. Segments
    GROWTH times longer at each stage, each started from the last one's
    states, reach whole pieces; a stage that fits worse per residual (a local
    minimum, a chaotic orbit) is undone. Returns (problem, beta, states, r,
    cost) of the last stage kept."""
    traj, seg = problem.traj, problem.seg
    longest = int(traj.sizes.max())
    while L < longest:
        L_next = GROWTH * (L - 1) + 1
        if 2 * L_next > longest:  # fewer than two segments a piece: whole pieces
            L_next = longest
        seg_next = _segments(traj, L_next)
        # The new starts are every GROWTH-th old start (the same sample).
        old = {
            (int(r_), int(s_)): k
            for k, (r_, s_) in enumerate(zip(seg.rows, seg.starts, strict=True))
        }
        pick = [
            old.get((int(r_), int(s_)))
            for r_, s_ in zip(seg_next.rows, seg_next.starts, strict=True)
        ]
        if any(k is None for k in pick):
            break
        nxt = problem.on(seg_next)
        b2, s2, r2, c2 = nxt.solve(beta, states[pick], max_iter)
        # Residuals are in noise units, so a model that fits has a residual
        # variance (per degree of freedom: the free starts absorb some noise)
        # near 1, or a little above where the noise estimate is low (a pendulum
        # at 6 fps and 1%: 1.084 with 50 segments, 1.067 with 8). A stage is
        # undone only when it fits clearly worse than both the last stage and
        # the noise: a local minimum, an orbit that long segments cannot follow.
        floor = max(problem.variance(cost, len(beta)), 1.0)
        if not nxt.variance(c2, len(beta)) <= CONTINUATION_SLACK * floor:
            break
        beta, states, r, cost, seg, problem, L = b2, s2, r2, c2, seg_next, nxt, L_next
    return problem, beta, states, r, cost


#: Levenberg-Marquardt stops when a step lowers the cost by less than this. The
#: cost is half the sum of squared residuals in noise units, so a fall of 1e-3
#: moves the coefficients by about sqrt(2e-3) = 0.045 of their standard errors:
#: further steps change nothing the intervals could show.
COST_TOLERANCE = 1e-3
#: Each continuation stage makes the segments this many times longer.
GROWTH = 8
#: A longer-segment stage is kept when its residual variance (in noise units,
#: per degree of freedom) is at most this factor of the previous stage's, or of
#: the noise's (1), whichever is larger.
CONTINUATION_SLACK = 1.05


class _Shooting:
    """The least-squares problem of one set of segments."""

    def __init__(self, traj, seg, sigmas, masses, n_sub, rates, J):
        self.traj, self.seg, self.sigmas, self.J = traj, seg, sigmas, J
        self.masses, self.n_sub, self.rates = masses, n_sub, rates
        q_obs = traj.q[seg.rows[:, None], seg.index]
        self.obs = [q_obs] if traj.p is None else [q_obs, traj.p[seg.rows[:, None], seg.index]]
        measured = traj.measured()[seg.rows[:, None], seg.index]
        self.weight = (seg.inside & measured)[..., None].astype(float)
        self.S = len(seg.starts)
        # Samples per chunk of a chained Jacobian: CHUNK_STEPS RK4 steps.
        self.chunk = max(3, CHUNK_STEPS // n_sub + 1)
        # Residuals that count (the padding of short segments does not).
        self.count = max(float(self.weight.sum()) * len(self.obs) * traj.dim, 1.0)
        self._kept: list = []  # the last simulations: (beta, states, q, p)

    def variance(self, cost: float, J: int) -> float:
        """The residuals' variance per degree of freedom at ``cost`` (1 when the
        model fits to within the noise): the coefficients and every segment's
        start are fitted."""
        free = J + self.S * 2 * self.traj.dim
        return 2 * cost / max(self.count - free, 1.0)

    def on(self, seg) -> _Shooting:
        """The same problem on other segments."""
        return _Shooting(self.traj, seg, self.sigmas, self.masses, self.n_sub, self.rates,
                         self.J)  # fmt: skip

    def simulate(self, beta_rows, states):
        """K copies: coefficients (K, J), states (K, 2, d) -> simulated q (and p)."""
        qs, ps = self._integrate(beta_rows, states, self.seg.width - 1)
        return [qs] if self.traj.p is None else [qs, ps]

    def _integrate(self, beta_rows, states, steps):
        grad, drag, masses = self.rates.split(beta_rows)
        masses = self.masses if masses is None else masses
        return integrate(
            grad, states[:, 0], states[:, 1], self.traj.h, steps, masses, self.n_sub,
            drag=drag,
        )  # fmt: skip

    def residuals(self, sims, seg_of_row):
        parts = [
            ((x - o[seg_of_row]) / sg * self.weight[seg_of_row]).reshape(len(seg_of_row), -1)
            for x, o, sg in zip(sims, self.obs, self.sigmas, strict=True)
        ]
        out = np.concatenate(parts, axis=1)
        return np.where(np.isfinite(out), out, 1e6)

    def evaluate(self, beta, states):
        qs, ps = self._path(beta, states)
        r = self.residuals([qs] if self.traj.p is None else [qs, ps], np.arange(self.S))
        return r, 0.5 * float(np.sum(r**2))

    def jacobian(self, beta, states, r, states_only=False):
        d = states.shape[2]
        if self.seg.width > 2 * self.chunk:
            return self._chained(beta, states, states_only)
        return _jacobian(
            self.simulate, self.residuals, beta, states, r, self.seg, self.J, d, states_only
        )

    def _chained(self, beta, states, states_only):
        """The Jacobian of long segments from short chunks (same layout as
        :func:`_jacobian`).

        A forward-difference Jacobian integrates every perturbed copy over the
        whole segment, one RK4 step after another, and Python's cost per step
        dominates. Here each segment's simulated path is cut into chunks of
        CHUNK_STEPS RK4 steps; the perturbed copies of every chunk start from the path's
        state there and are integrated together over one chunk; the chunks'
        sensitivities (to their start and to the coefficients) are chained along
        the segment. Exact to the forward differences' precision, several times
        faster on whole pieces.
        """
        S, J, d, W = self.S, self.J, self.traj.dim, self.seg.width
        qs, ps = self._path(beta, states)  # (S, W, d) each
        C = self.chunk
        starts = np.arange(0, W - 1, C - 1)  # chunk k covers samples a_k .. a_k + C - 1
        K = len(starts)
        z0 = np.stack([qs[:, starts], ps[:, starts]], axis=2)  # (S, K, 2, d)
        K_cols = 0 if states_only else J
        P = 1 + K_cols + 2 * d  # the unperturbed copy, then coefficients, then states
        betas = np.broadcast_to(beta, (S, K, P, J)).copy()
        st = np.broadcast_to(z0[:, :, None], (S, K, P, 2, d)).copy()
        hb = FD_STEP * np.maximum(np.abs(beta), 1e-3)
        hs = FD_STEP * np.maximum(np.abs(z0), 1e-3).reshape(S, K, 2 * d)
        for j in range(K_cols):
            betas[:, :, 1 + j, j] += hb[j]
        flat = st.reshape(S, K, P, 2 * d)
        for k in range(2 * d):
            flat[:, :, 1 + K_cols + k, k] += hs[:, :, k]
        cq, cp = self._integrate(betas.reshape(-1, J), flat.reshape(-1, 2, d), C - 1)
        path = np.concatenate([cq, cp], axis=2).reshape(S, K, P, C, 2 * d)
        diff = path[:, :, 1:] - path[:, :, :1]  # (S, K, P-1, C, 2d)
        Psi = diff[:, :, :K_cols] / hb[None, None, :K_cols, None, None]  # d path / d beta
        Phi = diff[:, :, K_cols:] / hs[:, :, :, None, None]  # d path / d chunk start
        # Chain: the sensitivities of each chunk's start to the segment's start
        # state (M) and to the coefficients (N).
        D = np.zeros((S, W, 2 * d, 2 * d + K_cols))
        M = np.broadcast_to(np.eye(2 * d), (S, 2 * d, 2 * d)).copy()
        N = np.zeros((S, 2 * d, K_cols))
        for k, a in enumerate(starts):
            n = min(C, W - a)
            phi = np.transpose(Phi[:, k, :, :n], (0, 2, 3, 1))  # (S, n, 2d out, 2d in)
            psi = np.transpose(Psi[:, k, :, :n], (0, 2, 3, 1))  # (S, n, 2d out, J)
            D[:, a : a + n, :, : 2 * d] = np.einsum("snoi,sij->snoj", phi, M)
            D[:, a : a + n, :, 2 * d :] = np.einsum("snoi,sij->snoj", phi, N) + psi
            M, N = D[:, a + n - 1, :, : 2 * d].copy(), D[:, a + n - 1, :, 2 * d :].copy()
        # Residual rows: q (then p) of every sample, in noise units, weighted.
        parts = []
        for o, sg in enumerate(self.sigmas):
            rows = D[:, :, o * d : (o + 1) * d] / sg[None, None, :, None] * self.weight[..., None]
            parts.append(rows.reshape(S, W * d, -1))
        G = np.concatenate(parts, axis=1)
        G = np.where(np.isfinite(G), G, 0.0)
        B = G[:, :, : 2 * d]
        A = None if states_only else G[:, :, 2 * d :]
        return A, B

    def _path(self, beta, states):
        """The simulated q and p of every segment at (beta, states). The last
        two (the point and the trial step) are kept: a chained Jacobian starts
        its chunks from the point's simulated states."""
        for b, s, qs, ps in self._kept:
            if np.array_equal(b, beta) and np.array_equal(s, states):
                return qs, ps
        rows = np.broadcast_to(beta, (self.S, self.J))
        qs, ps = self._integrate(rows, states, self.seg.width - 1)
        self._kept = [(beta.copy(), states.copy(), qs, ps), *self._kept[:1]]
        return qs, ps

    def solve(self, beta, states, max_iter, fixed=False):
        """Levenberg-Marquardt from (beta, states); returns beta, states, r, cost.
        With ``fixed``, beta stays and only the segment states move."""
        S, d = self.S, states.shape[2]
        r, cost = self.evaluate(beta, states)
        lam = 1e-3
        A = B = None
        for _ in range(max_iter):
            if B is None:  # a rejected step leaves the point, and its Jacobian, as they were
                A, B = self.jacobian(beta, states, r, states_only=fixed)
            step = _lm_states(B, r, lam) if fixed else _lm_step(A, B, r, lam)
            if step is None:
                break
            db, ds = step
            new_r, new_cost = self.evaluate(beta + db, states + ds.reshape(S, 2, d))
            if new_cost < cost:
                gain = cost - new_cost
                beta, states, r, cost = beta + db, states + ds.reshape(S, 2, d), new_r, new_cost
                lam, A, B = max(lam / 10, 1e-9), None, None
                if gain < COST_TOLERANCE:
                    break
            else:
                lam *= 10
                if lam > 1e8:
                    break
        return beta, states, r, cost


@dataclass(frozen=True)
class _Segments:
    rows: np.ndarray  # (S,) the piece of each segment
    starts: np.ndarray  # (S,) its first sample
    lengths: np.ndarray  # (S,)
    index: np.ndarray  # (S, width) sample indices (padded with the last)
    inside: np.ndarray  # (S, width) bool
    width: int


def _segments(traj: Trajectories, L: int) -> _Segments:
    """Consecutive segments of L samples sharing their end points; a short last
    segment (>= 3 samples) takes the rest of a piece."""
    starts, lengths, rows = [], [], []
    for r, n in enumerate(traj.sizes):
        for s in range(0, int(n) - 2, L - 1):
            m = min(L, int(n) - s)
            if m >= 3:
                starts.append(s)
                lengths.append(m)
                rows.append(r)
    starts, lengths, rows = np.array(starts), np.array(lengths), np.array(rows)
    width = int(lengths.max())
    inside = np.arange(width)[None, :] < lengths[:, None]
    index = np.where(inside, starts[:, None] + np.arange(width), (starts + lengths - 1)[:, None])
    return _Segments(rows, starts, lengths, index, inside, width)


def _start_momenta(traj: Trajectories, seg: _Segments) -> np.ndarray:
    if traj.has_momenta:
        return traj.p[seg.rows, seg.starts]
    return np.stack(
        [
            initial_momenta(traj.piece(int(r)), np.array([int(s)]))[0]
            for r, s in zip(seg.rows, seg.starts, strict=True)
        ]
    )


#: Relative step of the forward differences of the Jacobian.
FD_STEP = 1e-7
#: RK4 steps per chunk of a chained Jacobian (for segments longer than two chunks).
CHUNK_STEPS = 64


def _jacobian(simulate, residuals, beta, states, r, seg, J, d, states_only=False):
    """Columns for the J coefficients (dense) and each segment's 2d state entries,
    by forward differences; all perturbed copies in one integration.

    Returns A (S, n, J) and B (S, n, 2d); A is None with ``states_only``.
    """
    S = len(seg.starts)
    K = 0 if states_only else J  # coefficient columns
    P = K + 2 * d
    betas = np.repeat(beta[None, None], S, axis=0).repeat(P, axis=1)  # (S, P, J)
    st = np.repeat(states[:, None], P, axis=1)  # (S, P, 2, d)
    hb = FD_STEP * np.maximum(np.abs(beta), 1e-3)
    hs = FD_STEP * np.maximum(np.abs(states), 1e-3)  # (S, 2, d)
    for j in range(K):
        betas[:, j, j] += hb[j]
    flat = st.reshape(S, P, 2 * d)
    for k in range(2 * d):
        flat[:, K + k, k] += hs.reshape(S, 2 * d)[:, k]
    sims = simulate(betas.reshape(S * P, J), flat.reshape(S * P, 2, d))
    rows = np.repeat(np.arange(S), P)
    rp = residuals(sims, rows).reshape(S, P, -1)
    diff = rp - r[:, None, :]
    A = None if states_only else np.transpose(diff[:, :K] / hb[None, :, None], (0, 2, 1))
    B = np.transpose(diff[:, K:] / hs.reshape(S, 2 * d)[:, :, None], (0, 2, 1))
    return A, B


def _lm_states(B, r, lam):
    """The damped Gauss-Newton step of the segment states alone (coefficients fixed)."""
    U = np.einsum("snk,snl->skl", B, B)
    U = U + lam * np.einsum("skk->sk", U)[..., None] * np.eye(U.shape[1]) + 1e-300
    g = np.einsum("snk,sn->sk", B, r)
    try:
        ds = -np.linalg.solve(U, g[..., None])[..., 0]
    except np.linalg.LinAlgError:
        return None
    return 0.0, ds.reshape(-1)


def _lm_step(A, B, r, lam):
    """The damped Gauss-Newton step with the segment states eliminated (Schur)."""
    U = np.einsum("snk,snl->skl", B, B)
    U = U + lam * np.einsum("skk->sk", U)[..., None] * np.eye(U.shape[1]) + 1e-300
    W = np.einsum("snk,snj->skj", B, A)  # (S, 2d, J)
    g = np.einsum("snk,sn->sk", B, r)
    AtA = np.einsum("snj,snl->jl", A, A)
    AtA = AtA + lam * np.diag(np.diag(AtA))
    Atr = np.einsum("snj,sn->j", A, r)
    try:
        Uinv_W = np.linalg.solve(U, W)
        Uinv_g = np.linalg.solve(U, g[..., None])[..., 0]
        red = AtA - np.einsum("skj,skl->jl", W, Uinv_W)
        rhs = -(Atr - np.einsum("skj,sk->j", W, Uinv_g))
        db = np.linalg.solve(red, rhs)
    except np.linalg.LinAlgError:
        return None
    ds = -(Uinv_g + np.einsum("skj,j->sk", Uinv_W, db))
    return db, ds.reshape(-1)


def _stderr(A, B, r, problem) -> tuple[np.ndarray, float, str]:
    """Standard errors of the coefficients, their residuals' lag-one correlation,
    and why any is inf.

    The Gauss-Newton covariance with the segment states eliminated, scaled by
    the residuals' variance when it exceeds the noise (a model that does not
    fit), and by (1 + rho) / (1 - rho) when the residuals are correlated along
    the samples (rho above chance, 3 / sqrt(n)): n correlated residuals carry
    the information of n (1 - rho) / (1 + rho) independent ones (an AR(1)
    model of the misfit). A coefficient the data do not identify (a singular
    or indefinite covariance) gets inf, and the note says so; never NaN.
    """
    J = A.shape[2]
    U = np.einsum("snk,snl->skl", B, B)
    W = np.einsum("snk,snj->skj", B, A)
    try:
        red = np.einsum("snj,snl->jl", A, A) - np.einsum("skj,skl->jl", W, np.linalg.solve(U, W))
        var = np.diag(np.linalg.inv(red))
    except np.linalg.LinAlgError:
        var = np.full(J, np.inf)
    s2 = problem.variance(0.5 * float(np.sum(r**2)), J)
    rho = _lag_one(r, problem)
    n = max(int(problem.weight.sum()), 1)
    capped = min(rho, MAX_RHO)
    grow = (1 + capped) / (1 - capped) if capped > 3 / np.sqrt(n) else 1.0
    bad = ~(np.isfinite(var) & (var >= 0))
    stderr = np.where(bad, np.inf, np.sqrt(np.where(bad, 0.0, var) * max(s2, 1.0) * grow))
    note = ""
    if bad.any():
        note = (
            f"{int(bad.sum())} coefficient(s) not identified by the data (the covariance is "
            "singular there): nearly collinear terms, or too little motion"
        )
    return stderr, float(rho), note


#: Residual correlations above this are taken as this (the AR(1) factor would
#: otherwise grow without bound).
MAX_RHO = 0.95


def _lag_one(r, problem) -> float:
    """The residuals' correlation between consecutive samples of a segment,
    pooled over segments and components (residuals in noise units)."""
    S, width = problem.S, problem.seg.width
    d = problem.traj.dim
    parts = r.reshape(S, len(problem.obs), width, d)
    w = problem.weight[:, :, 0]  # (S, width)
    both = (w[:, 1:] * w[:, :-1])[:, None, :, None]
    a, b = parts[:, :, 1:] * both, parts[:, :, :-1] * both
    den = np.sqrt(np.sum(a**2) * np.sum(b**2))
    return float(np.sum(a * b) / den) if den > 0 else 0.0


@dataclass(frozen=True)
class _Rates:
    """The right-hand side of the model whose coefficients shooting fits:
    grad V from the first ``JV`` coefficients, dR/dp from the rest."""

    grad_rows: object  # (K, d), (K, JV) -> (K, d)
    drag_rows: object  # (K, d), (K, d), (K, JT - JV) -> (K, d), or None
    JV: int
    JT: int = -1  # terms; the coefficients after them are the free masses
    masses: np.ndarray | None = None  # (d,) the given masses
    free: tuple[int, ...] = ()

    def split(self, beta_rows):
        """grad V (q), dR/dp (q, p) (or None) and the masses ((d,) or (K, d))
        at coefficient rows (K, J)."""
        JV, grad_rows, drag_rows = self.JV, self.grad_rows, self.drag_rows
        JT = beta_rows.shape[1] if self.JT < 0 else self.JT

        def grad(x):
            return grad_rows(x, beta_rows[:, :JV])

        masses = self.masses
        if self.free:
            masses = np.broadcast_to(self.masses, (len(beta_rows), len(self.masses))).copy()
            masses[:, list(self.free)] = beta_rows[:, JT:]
        if drag_rows is None:
            return grad, None, masses
        return grad, lambda x, y: drag_rows(x, y, beta_rows[:, JV:JT]), masses


def _batched_drag(terms, traj):
    """dR/dp for rows with their own friction coefficients: (K, d), (K, d),
    (K, J_R) -> (K, d); None without friction terms."""
    if not terms:
        return None
    gammas = sp.symbols(f"_g0:{len(terms)}")
    rayleigh = sp.Add(*(g * t for g, t in zip(gammas, terms, strict=True)))
    return drag_function(rayleigh, traj.coords, gammas)


def _batched_gradient(terms, coords):
    """grad V for rows with their own coefficients: (K, d), (K, J) -> (K, d).

    One lambdified function of x and beta for all components, so that each
    evaluation inside the Runge-Kutta loop is a single call.
    """
    betas = sp.symbols(f"_b0:{len(terms)}")
    comps = [
        sp.Add(*(b * sp.diff(t, x) for b, t in zip(betas, terms, strict=True))) for x in coords
    ]
    # Polynomials in Horner form: products instead of powers, several times faster.
    comps = [sp.horner(c, *coords) if c.is_polynomial(*coords) else c for c in comps]
    f = sp.lambdify((*coords, *betas), comps, "numpy", cse=True)

    def grad(x, beta):
        out = f(*x.T, *beta.T)
        return np.stack([np.broadcast_to(c, x.shape[:1]) for c in out], axis=1)

    return grad


def _smoothed(traj: Trajectories, tau: float) -> Trajectories:
    """``traj`` smoothed for the segments' starting states only (the fit is to
    the raw samples): over at most 21 samples and at most START_SMOOTHING tau.
    A window of 21 samples at 40 samples per orbit spans half an orbit and
    moves the starts 4 times further from the truth than the raw samples
    (a refinement of -1/r + 0.1 r^2 then converged to -0.615/r + 0.198 r^2)."""
    w = min(21, int(START_SMOOTHING * tau / traj.h), int(traj.sizes.max()))
    w -= 1 - w % 2  # odd
    return smooth(traj, w) if w >= 7 else traj


#: The longest smoothing of the segments' starts, in time scales (T1: 21
#: samples are 0.035 tau, as before).
START_SMOOTHING = 0.1
