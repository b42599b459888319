"""Generate trajectories of a :class:`~symhamil.System`.

Four methods, all vectorised over R initial conditions:

``"verlet"``
    Stormer-Verlet (velocity Verlet): symplectic, second order, one force
    evaluation per internal step; ``substeps`` internal steps per saved sample.
``"rk4"``
    Classical fixed-step Runge-Kutta of order 4, ``substeps`` per sample.
``"rk"``
    SciPy's adaptive DOP853 (order 8) at tight tolerances, one trajectory at a
    time, sampled at multiples of h by its dense output.
``"exact"``
    The closed-form flow, for systems whose potential is a polynomial of degree
    <= 2 in q (harmonic oscillators): x(t) = expm(A t) x(0).
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import scipy.integrate
import scipy.linalg
import sympy as sp

from ..data.trajectories import Trajectories, energy_error
from .friction import drag_function
from .hamiltonian import Hamiltonian
from .integrators import rk4_step
from .pairs import PairSystem
from .system import System

__all__ = ["METHODS", "EnergyErrorWarning", "simulate"]

METHODS = ("verlet", "rk4", "rk", "exact")


class EnergyErrorWarning(UserWarning):
    """Some simulated trajectories do not conserve energy to the expected tolerance."""


def _initial_state(system: System, q0, p0) -> tuple[np.ndarray, np.ndarray]:
    d = system.dim
    q0 = np.asarray(q0, dtype=float)
    p0 = np.asarray(p0, dtype=float)
    for name, a in (("q0", q0), ("p0", p0)):
        if a.ndim == 0 and d == 1:
            continue
        if a.ndim == 0:
            raise ValueError(
                f"{name} is a single number, but this system has {d} coordinates; give "
                f"{name} with shape ({d},) or (R, {d})."
            )
        if a.ndim not in (1, 2) or a.shape[-1] != d:
            raise ValueError(
                f"{name} must have shape (R, {d}) or ({d},) for this {d}-dimensional "
                f"system; got shape {a.shape}."
            )
    q0 = q0.reshape(-1, d)
    p0 = p0.reshape(-1, d)
    if q0.shape != p0.shape:
        raise ValueError(
            f"q0 and p0 describe different numbers of trajectories: {q0.shape[0]} "
            f"and {p0.shape[0]}."
        )
    for name, a in (("q0", q0), ("p0", p0)):
        bad = ~np.isfinite(a).all(axis=1)
        if bad.any():
            raise ValueError(f"{name} is not finite for trajectory {int(np.argmax(bad))}.")
    with np.errstate(all="ignore"):  # a singular q0 is reported below
        F = system.force(q0)
    bad = ~np.isfinite(F).all(axis=1)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"the force is not finite at q0[{i}] = {q0[i]} (a singularity of V); "
            "move that initial condition."
        )
    return q0, p0


def _available_memory() -> int:
    """Bytes of memory this machine has (physical), or a large number if unknown."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 1 << 62


def _check_memory(R: int, steps: int, d: int, method: str) -> None:
    """Refuse, with the figure, a simulation whose arrays cannot fit in memory."""
    need = 2 * R * (steps + 1) * d * 8  # q and p, float64
    if method == "exact":
        # One (2d+1)^2 flow matrix per saved time, and the einsum's output.
        need += (steps + 1) * (2 * d + 1) ** 2 * 8 + R * (steps + 1) * (2 * d + 1) * 8
    have = _available_memory()
    if need > have:
        raise MemoryError(
            f"this simulation needs about {need / 2**30:.1f} GiB for its arrays, more than "
            f"this machine's {have / 2**30:.1f} GiB; simulate fewer trajectories or steps, "
            "or save every k-th step of a longer run in pieces."
        )


def _check_counts(h, steps, substeps) -> tuple[float, int, int]:
    try:
        h = float(h)
    except (TypeError, ValueError):
        raise TypeError(f"h must be a number; got {h!r}.") from None
    if not (np.isfinite(h) and h > 0):
        raise ValueError(f"the sample step h must be finite and > 0; got {h}.")
    for name, v in (("steps", steps), ("substeps", substeps)):
        if isinstance(v, bool) or not float(v).is_integer() or v < 1:
            raise ValueError(f"{name} must be a whole number >= 1; got {v!r}.")
    return h, int(steps), int(substeps)


def _run_fixed(
    system: System,
    Q: np.ndarray,
    P: np.ndarray,
    h: float,
    steps: int,
    substeps: int,
    scheme: str,
    q_out: np.ndarray,
    p_out: np.ndarray,
    drag=None,
) -> None:
    """March (d, R) states with a fixed-step scheme, saving every ``substeps`` steps.

    The state is kept as (d, R) so that each coordinate is a contiguous row: the
    lambdified force then works on contiguous vectors, which is several times
    faster than strided columns of an (R, d) array.
    """
    dt = h / substeps
    minv = (1.0 / system.mass_array)[:, None]
    force = system.force_components
    F = force(Q, np.empty_like(Q))
    if scheme == "verlet":
        half = 0.5 * dt
        for n in range(1, steps + 1):
            for _ in range(substeps):
                P += half * F
                Q += dt * minv * P
                force(Q, F)
                P += half * F
            q_out[:, n] = Q.T
            p_out[:, n] = P.T
    else:  # classical RK4 on (q' = M^-1 p, p' = F(q))

        def fresh(x):
            return force(x, np.empty_like(x))

        # dR/dp works on (K, d) states; the march keeps (d, R).
        dragT = None if drag is None else (lambda x, y: drag(x.T, y.T).T)
        for n in range(1, steps + 1):
            for _ in range(substeps):
                # Stage 1 reuses F(Q) from the previous step's end.
                Q, P = rk4_step(Q, P, fresh, minv, dt, F, drag=dragT)
                F = fresh(Q)
            q_out[:, n] = Q.T
            p_out[:, n] = P.T


def _run_dop853(system: System, q0, p0, h, steps, rtol, atol, q_out, p_out, drag=None) -> None:
    d = system.dim
    minv = 1.0 / system.mass_array
    force_fn = system._force_fn  # scalar-friendly lambdified -grad V

    def rhs(_t, y):
        f = np.asarray(force_fn(*y[:d]), dtype=float)
        if drag is not None:
            f = f - drag(y[None, :d], y[None, d:])[0]
        return np.concatenate([minv * y[d:], f])

    t_eval = h * np.arange(steps + 1)
    for r in range(q0.shape[0]):
        sol = scipy.integrate.solve_ivp(
            rhs,
            (0.0, t_eval[-1]),
            np.concatenate([q0[r], p0[r]]),
            method="DOP853",
            t_eval=t_eval,
            rtol=rtol,
            atol=atol,
        )
        if sol.status != 0 or sol.y.shape[1] != steps + 1:
            # Leave the rest of this trajectory non-finite; simulate() reports it.
            q_out[r, 1:] = np.nan
            p_out[r, 1:] = np.nan
            continue
        q_out[r] = sol.y[:d].T
        p_out[r] = sol.y[d:].T


def _linear_flow_matrix(system: System) -> np.ndarray:
    """The (2d+1, 2d+1) generator A with x' = A x for x = (q, p, 1), V of degree <= 2."""
    V = system.substituted()
    q = system.coords
    if not V.is_polynomial(*q) or sp.Poly(V, *q).total_degree() > 2:
        raise ValueError(
            f"method='exact' needs a potential that is a polynomial of degree <= 2 in q (a "
            f"linear system); {system.name or 'this system'} has V = {system.V}. Use "
            "method='rk' or 'verlet'."
        )
    d = system.dim
    A = np.zeros((2 * d + 1, 2 * d + 1))
    A[:d, d : 2 * d] = np.diag(1.0 / system.mass_array)
    grad = [sp.diff(V, qi) for qi in q]
    zero = dict.fromkeys(q, 0)
    for i, g in enumerate(grad):
        for j, qj in enumerate(q):
            A[d + i, j] = -float(sp.diff(g, qj))
        A[d + i, 2 * d] = -float(g.subs(zero))
    return A


# Over 80 lines with its numpydoc docstring (41 of 86 lines); the code is 32.
def simulate(
    system: System | PairSystem,
    q0,
    p0,
    h: float,
    steps: int,
    method: str = "verlet",
    substeps: int = 10,
    rtol: float = 1e-12,
    atol: float = 1e-12,
    warn_above: float | None = 1e-4,
    drop_above: float | None = None,
    friction=None,
) -> Trajectories:
    """Simulate R trajectories of ``system``, saving steps + 1 samples spaced ``h``.

    Parameters
    ----------
    system : System or PairSystem
        A pair system (:meth:`System.pairwise`) has d = N s coordinates; its
        forces cost time and memory linear in the pairs within the cutoff, so
        ``"verlet"`` with ``substeps=1`` suits thousands of particles.
    q0, p0 : array_like, shape (R, d) or (d,)
        Initial conditions.
    h : float
        Time between saved samples.
    steps : int
        Number of saved steps N; each trajectory has N + 1 points.
    method : {"verlet", "rk4", "rk", "exact"}
        See the module docstring. With ``friction``, "rk4" or "rk" (the
        symplectic and linear flows are for conservative systems).
    substeps : int
        Internal steps per saved sample for the fixed-step methods.
    rtol, atol : float
        Tolerances of the adaptive ``"rk"`` method.
    warn_above : float or None
        Warn (:class:`EnergyErrorWarning`) when a trajectory's relative energy
        error (:meth:`Trajectories.relative_energy_error`) exceeds this; ``None``
        never warns.
    drop_above : float or None
        Drop the trajectories whose relative energy error exceeds this (close
        encounters of singular potentials), with a warning that says how many.
    friction : sympy.Expr, optional
        A Rayleigh dissipation function R(q, p) in the momentum symbols named
        after the coordinates (q -> p_q; :attr:`Trajectories.momentum_symbols`),
        so that dp/dt = -grad V - dR/dp: R = gamma p_q**2/2 is linear damping.
        The energy then falls, and is not checked (``energy_error`` is None).

    Returns
    -------
    Trajectories
        q, p of shape (R', N+1, d) with R' <= R after dropping; ``energy_error``
        holds each kept trajectory's relative energy error, shape (R',).

    Examples
    --------
    >>> from symhamil import catalog
    >>> tr = simulate(catalog.harmonic_oscillator(), [[0.0]], [[1.0]], h=0.01, steps=100)
    >>> tr.q.shape, bool(tr.energy_error[0] < 1e-5)
    ((1, 101, 1), True)
    """
    h, steps, substeps = _check_request(system, method, h, steps, substeps, rtol, atol)
    drag = _check_friction(system, friction, method)
    q0, p0 = _initial_state(system, q0, p0)
    R, d = q0.shape
    _check_memory(R, steps, d, method)
    q_out, p_out = _march(system, q0, p0, h, steps, substeps, method, rtol, atol, drag)
    finite = np.isfinite(q_out).all(axis=(1, 2)) & np.isfinite(p_out).all(axis=(1, 2))
    if not finite.all():
        bad = np.flatnonzero(~finite)
        if finite.sum() == 0:
            raise FloatingPointError(
                f"every trajectory became non-finite with method={method!r}"
                f" and h={h}; use a smaller h or more substeps."
            )
        warnings.warn(
            f"dropped {bad.size} of {R} trajectories that became non-finite "
            f"(indices {bad[:10].tolist()}{'...' if bad.size > 10 else ''}); use a "
            "smaller h or more substeps to keep them.",
            EnergyErrorWarning,
            stacklevel=2,
        )
        q_out, p_out = q_out[finite], p_out[finite]
    names = tuple(c.name for c in system.coords)
    err = None if drag is not None else energy_error(system, q_out, p_out)
    # Many bodies carry their geometry and masses, as data from MD engines do.
    many = isinstance(system, PairSystem)
    traj = Trajectories(
        q=q_out, p=p_out, h=h, names=names, energy_error=err,
        box=system.box if many else None,
        masses=system.mass_array if many else None,
        particles=system.particles if many else None,
    )  # fmt: skip
    return traj if drag is not None else _screen(traj, err, drop_above, warn_above)


def _check_friction(system, friction, method):
    """dR/dp of ``friction`` for ``method``; None without friction."""
    if friction is None:
        return None
    if method not in ("rk4", "rk"):
        raise ValueError(
            f"method={method!r} is for conservative systems; with friction use method='rk' "
            "(adaptive) or 'rk4' (fixed steps)."
        )
    if isinstance(system, PairSystem):
        raise ValueError("friction is available for single systems, not pair systems.")
    return drag_function(sp.sympify(friction), system.coords)


def _check_request(system, method, h, steps, substeps, rtol, atol) -> tuple[float, int, int]:
    """Everything about a simulation request that can be wrong, before any work."""
    if not isinstance(system, Hamiltonian):
        raise TypeError(
            f"system must be a symhamil.System or PairSystem; got {type(system).__name__}."
        )
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}.")
    if method == "exact" and isinstance(system, PairSystem):
        raise ValueError(
            "method='exact' needs a linear system; a pair system is not one. Use "
            "method='verlet' (many particles) or 'rk'."
        )
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if (
            isinstance(tol, bool)
            or not isinstance(tol, int | float)
            or not (np.isfinite(tol) and tol > 0)
        ):
            raise ValueError(f"{name} must be a finite number > 0; got {tol!r}.")
    return _check_counts(h, steps, substeps)


def _march(system, q0, p0, h, steps, substeps, method, rtol, atol, drag=None):
    """q and p, shape (R, steps + 1, d), by ``method`` from (q0, p0)."""
    R, d = q0.shape
    if method == "exact":
        A = _linear_flow_matrix(system)
        t = h * np.arange(steps + 1)
        flows = scipy.linalg.expm(A[None] * t[:, None, None])  # (N+1, 2d+1, 2d+1)
        x0 = np.concatenate([q0, p0, np.ones((R, 1))], axis=1)
        x = np.einsum("nij,rj->rni", flows, x0)
        return x[..., :d], x[..., d : 2 * d]
    q_out = np.empty((R, steps + 1, d))
    p_out = np.empty((R, steps + 1, d))
    q_out[:, 0], p_out[:, 0] = q0, p0
    if method == "rk":
        _run_dop853(system, q0, p0, h, steps, rtol, atol, q_out, p_out, drag)
    else:
        # Copies: the march updates Q, P in place and must not touch the caller's arrays.
        Q, P = np.array(q0.T, order="C"), np.array(p0.T, order="C")
        with np.errstate(all="ignore"):  # blow-ups are detected and reported by the caller
            _run_fixed(system, Q, P, h, steps, substeps, method, q_out, p_out, drag)
    return q_out, p_out


def _screen(traj, err, drop_above, warn_above):
    """Trajectories whose energy error is too large: dropped, or warned about."""
    if drop_above is not None:
        keep = err <= drop_above
        if not keep.any():
            raise ValueError(
                f"every trajectory has relative energy error above drop_above="
                f"{drop_above} (smallest {err.min():.3g}); use a smaller h or more "
                "substeps."
            )
        if not keep.all():
            warnings.warn(
                f"dropped {int((~keep).sum())} of {keep.size} trajectories with "
                f"relative energy error above {drop_above} (worst {err.max():.3g}).",
                EnergyErrorWarning,
                stacklevel=3,
            )
            return traj.select(keep)
    elif warn_above is not None and (err > warn_above).any():
        worst = int(np.argmax(err))
        warnings.warn(
            f"{int((err > warn_above).sum())} of {err.size} trajectories have relative "
            f"energy error above {warn_above} (worst {err[worst]:.3g}, trajectory "
            f"{worst}): close encounters of a singular potential, or a step too large. "
            "Pass drop_above=... (symhamil simulate: --drop-above) to drop them, or use a "
            "smaller h or more substeps.",
            EnergyErrorWarning,
            stacklevel=3,
        )
    return traj
