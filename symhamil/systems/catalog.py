"""Ready-made systems: the four of the paper, a few classics, and pair laws.

Every function returns a fresh :class:`~symhamil.System` (pair laws: a
:class:`~symhamil.systems.pairs.PairSystem`); numeric arguments are embedded exactly
(integers and rationals stay exact, floats stay floats).

The pair laws are the conservative force laws of Cranmer et al. (2020,
"Discovering Symbolic Models from Deep Learning with Inductive Biases": spring,
1/r and 1/r^2 forces) and the two classics of molecular simulation
(Lennard-Jones, Morse), each with one phi(r) for every pair, in the distance
symbol :data:`R` (a plain ``Symbol("r")``).
"""

from __future__ import annotations

import sympy as sp

from ..base.parsing import as_expr
from .pairs import PairSystem
from .system import System

#: The distance symbol of the catalog's pair potentials.
R = sp.Symbol("r")

__all__ = [
    "R",
    "central_force",
    "coulomb_pair",
    "double_well",
    "harmonic_oscillator",
    "henon_heiles",
    "kepler",
    "lennard_jones",
    "morse",
    "pair_gravity",
    "pair_inverse_square",
    "pair_log",
    "pair_spring",
    "pendulum",
]


def _vec(prefix: str, n: int) -> tuple[sp.Symbol, ...]:
    return tuple(sp.Symbol(f"{prefix}{c}") for c in "xyz"[:n])


def _norm(xs) -> sp.Expr:
    return sp.sqrt(sum(x**2 for x in xs))


def harmonic_oscillator(omega=1, mass=1) -> System:
    """Simple harmonic oscillator, V = m omega^2 q^2 / 2 (paper eq. 6 with m = omega = 1).

    Its trajectories are known in closed form, so ``simulate(..., method="exact")`` works.
    """
    q = sp.Symbol("q")
    omega, mass = as_expr(omega, what="omega"), as_expr(mass, what="mass")
    return System(
        coords=(q,), V=mass * omega**2 * q**2 / 2, masses=(mass,), name="harmonic oscillator"
    )


def double_well() -> System:
    """Double well of the paper (eq. 8): V = q^2 (q - 2)^2 - (q - 1)^2.

    Expanded, V = q^4 - 4 q^3 + 3 q^2 + 2 q - 1: minima near q = -0.22 and 2.22, a
    barrier at q = 1 with V(1) = 1, symmetric about q = 1.
    """
    q = sp.Symbol("q")
    return System(coords=(q,), V=q**2 * (q - 2) ** 2 - (q - 1) ** 2, name="double well")


def central_force(L=10) -> System:
    """Particle in 3-D between two repelling walls (paper section 3.3).

    V(q) = 1/|q| + 1/(L - |q|), unit mass; the motion stays in 0 < |q| < L.
    Its radial reduction has the effective potential 1/r + 1/(L - r) + l^2/(2 r^2).
    """
    q = _vec("q", 3)
    r = _norm(q)
    L = as_expr(L, what="L")
    return System(coords=q, V=1 / r + 1 / (L - r), name=f"central force (L={L})")


def coulomb_pair(m1=1, m2="1/2") -> System:
    """Two oppositely charged particles in 3-D (paper section 3.4, eq. 14).

    Coordinates ``(q1x, q1y, q1z, q2x, q2y, q2z)``, masses ``(m1,)*3 + (m2,)*3``
    (1 and 1/2 in the paper; strings such as "1/2" are read exactly by SymPy),
    V = -1 / (4 pi |q1 - q2|).
    """
    q1, q2 = _vec("q1", 3), _vec("q2", 3)
    r = _norm([a - b for a, b in zip(q1, q2, strict=True)])
    m1, m2 = as_expr(m1, what="m1"), as_expr(m2, what="m2")
    return System(
        coords=q1 + q2,
        V=-1 / (4 * sp.pi * r),
        masses=(m1,) * 3 + (m2,) * 3,
        name="two charged particles",
    )


def pendulum(g=1, length=1, mass=1) -> System:
    """Plane pendulum: angle q, moment of inertia m l^2, V = m g l (1 - cos q)."""
    q = sp.Symbol("q")
    g, length, mass = (
        as_expr(g, what="g"),
        as_expr(length, what="length"),
        as_expr(mass, what="mass"),
    )
    return System(
        coords=(q,),
        V=mass * g * length * (1 - sp.cos(q)),
        masses=(mass * length**2,),
        name="pendulum",
    )


def henon_heiles(lam=1) -> System:
    """Henon-Heiles: V = (x^2 + y^2)/2 + lam (x^2 y - y^3 / 3); chaotic above E ~ 1/8."""
    x, y = sp.symbols("x y")
    lam = as_expr(lam, what="lam")
    return System(
        coords=(x, y), V=(x**2 + y**2) / 2 + lam * (x**2 * y - y**3 / 3), name="Henon-Heiles"
    )


def kepler(k=1, mass=1, dim=2) -> System:
    """Kepler problem in ``dim`` dimensions (2 or 3): V = -k / |q|."""
    if dim not in (2, 3):
        raise ValueError(f"kepler(dim=...) must be 2 or 3; got {dim}.")
    q = _vec("q", dim)
    k, mass = as_expr(k, what="k"), as_expr(mass, what="mass")
    return System(coords=q, V=-k / _norm(q), masses=(mass,) * dim, name="Kepler")


def _pairs(phi, name, particles, dim, masses, box, cutoff) -> PairSystem:
    return System.pairwise(
        phi, R, particles=particles, dim=dim, masses=masses, box=box, cutoff=cutoff, name=name
    )


def pair_spring(k=1, r0=1, particles=4, dim=2, masses=1.0, box=None, cutoff=None) -> PairSystem:
    """Springs between every pair: phi = k (r - r0)^2 (Cranmer et al.'s "spring")."""
    k, r0 = as_expr(k, what="k"), as_expr(r0, what="r0")
    return _pairs(k * (R - r0) ** 2, "springs", particles, dim, masses, box, cutoff)


def pair_log(k=1, particles=4, dim=2, masses=1.0, box=None, cutoff=None) -> PairSystem:
    """An attractive 1/r force: phi = k log r (Cranmer et al.'s "r1", unit masses)."""
    k = as_expr(k, what="k")
    return _pairs(k * sp.log(R), "1/r force", particles, dim, masses, box, cutoff)


def pair_gravity(k=1, particles=4, dim=2, masses=1.0, box=None, cutoff=None) -> PairSystem:
    """An attractive 1/r^2 force: phi = -k / r (Cranmer et al.'s "r2", gravity)."""
    k = as_expr(k, what="k")
    return _pairs(-k / R, "1/r^2 force", particles, dim, masses, box, cutoff)


def pair_inverse_square(k=1, particles=4, dim=2, masses=1.0, box=None, cutoff=None) -> PairSystem:
    """A repulsive 1/r^2 potential (a 1/r^3 force): phi = k / r^2."""
    k = as_expr(k, what="k")
    return _pairs(k / R**2, "1/r^2 potential", particles, dim, masses, box, cutoff)


def lennard_jones(
    epsilon=1, sigma=1, particles=4, dim=2, masses=1.0, box=None, cutoff=None
) -> PairSystem:
    """Lennard-Jones: phi = 4 epsilon ((sigma/r)^12 - (sigma/r)^6).

    Argon in ASE's units (eV, angstrom, amu): ``epsilon=0.0104, sigma=3.405,
    masses=39.948, cutoff=3 * 3.405``.
    """
    eps, sig = as_expr(epsilon, what="epsilon"), as_expr(sigma, what="sigma")
    phi = 4 * eps * (sig**12 / R**12 - sig**6 / R**6)
    return _pairs(phi, "Lennard-Jones", particles, dim, masses, box, cutoff)


def morse(D=1, a=1, r0=1, particles=4, dim=2, masses=1.0, box=None, cutoff=None) -> PairSystem:
    """Morse: phi = D (1 - exp(-a (r - r0)))^2 - D, expanded as
    D exp(-2 a (r - r0)) - 2 D exp(-a (r - r0)) (a well of depth D at r0)."""
    D, a, r0 = as_expr(D, what="D"), as_expr(a, what="a"), as_expr(r0, what="r0")
    phi = D * sp.exp(-2 * a * (R - r0)) - 2 * D * sp.exp(-a * (R - r0))
    return _pairs(phi, "Morse", particles, dim, masses, box, cutoff)
