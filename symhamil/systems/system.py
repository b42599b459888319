"""Separable Hamiltonian systems declared in SymPy.

A :class:`System` is a frozen value: coordinates, momenta, diagonal masses and a
potential, all SymPy objects. Everything numeric (potential, force, energy) is
derived from it by :func:`sympy.lambdify`, so the symbolic declaration is the
single source of truth.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef

from ..base.parsing import as_expr
from .hamiltonian import Separable
from .pairs import PairSystem
from .symbols import as_symbols, check_params, default_momentum, exact, smooth_derivative

__all__ = ["System", "default_momentum"]


def _is_positive(value: sp.Expr) -> bool | None:
    """True/False for a number (NaN, complex and infinite values are not positive);
    None when it cannot be decided (a symbol of unknown sign)."""
    if value.has(sp.nan, sp.zoo, sp.oo, -sp.oo, sp.I):
        return False
    if value.is_number:
        return bool(value.is_extended_real and value.is_finite and value > 0)
    return False if value.is_positive is False else None


def _check_potential(V: sp.Expr, coords, params: dict) -> None:
    """A potential symhamil can simulate and learn: real, finite, differentiable."""
    undefined = V.atoms(AppliedUndef)
    if undefined:
        raise ValueError(
            f"the potential uses undefined function(s) {', '.join(sorted(map(str, undefined)))}; "
            "give V as a closed-form expression."
        )
    if V.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise ValueError(f"the potential {V} is not finite (it contains nan, oo or zoo).")
    if V.has(sp.I):
        raise ValueError(f"the potential {V} is complex (it contains I); V must be real.")
    for c in coords:
        smooth_derivative(V, c, f"the potential {V}")
    # Complex everywhere on the real line (e.g. log(-q**2 - 1)): refuse; complex
    # only somewhere (sqrt(q) for q < 0) is a domain the data must respect.
    f = sp.lambdify(coords, V.subs(params), "numpy")
    pts = np.random.default_rng(0).uniform(-3, 3, size=(len(coords), 16)).astype(complex)
    with np.errstate(all="ignore"):
        vals = np.asarray(f(*pts), dtype=complex) * np.ones(16)
    if np.all(np.abs(vals.imag) > 1e-12 * (1 + np.abs(vals.real))):
        raise ValueError(f"the potential {V} is complex at every point tried; V must be real.")


@dataclass(frozen=True)
class System(Separable):
    """A classical separable Hamiltonian H(q, p) = sum_i p_i^2 / (2 m_i) + V(q).

    Parameters
    ----------
    coords : sequence of sympy.Symbol, length d
        Generalised coordinates q.
    V : sympy.Expr
        Potential energy, an expression in ``coords`` and the names in ``params``.
    masses : sequence of number or sympy.Expr, length d, optional
        Diagonal of the mass matrix; all ones by default. Each must be positive.
    momenta : sequence of sympy.Symbol, length d, optional
        Conjugate momenta; by default ``q -> p``, ``q1 -> p1``, ``x -> p_x``.
    params : mapping of sympy.Symbol to float, optional
        Values of the named parameters that ``V`` and ``masses`` may contain.
        The symbolic expressions keep the names; numeric functions use the values.
    name : str, optional
        A human-readable label.

    Examples
    --------
    >>> import sympy as sp
    >>> q = sp.Symbol("q")
    >>> sho = System(coords=(q,), V=q**2 / 2)
    >>> sho.H
    p**2/2 + q**2/2
    >>> sho.force([[2.0]])
    array([[-2.]])
    """

    coords: tuple[sp.Symbol, ...]
    V: sp.Expr
    masses: tuple[sp.Expr, ...] | None = None
    momenta: tuple[sp.Symbol, ...] | None = None
    params: Mapping[sp.Symbol, float] | tuple = field(default=())
    name: str = ""

    def __post_init__(self) -> None:
        coords = as_symbols(self.coords, "coords")
        if not coords:
            raise ValueError("a System needs at least one coordinate.")
        d = len(coords)
        momenta = (
            tuple(default_momentum(c) for c in coords)
            if self.momenta is None
            else as_symbols(self.momenta, "momenta")
        )
        if len(momenta) != d:
            raise ValueError(
                f"got {d} coordinates but {len(momenta)} momenta; give one "
                "momentum per coordinate."
            )
        if set(momenta) & set(coords):
            raise ValueError(
                f"coordinates and momenta share symbols: "
                f"{sorted(map(str, set(momenta) & set(coords)))}."
            )
        param_syms = [sp.Symbol(k) if isinstance(k, str) else k for k in dict(self.params or {})]
        known = (*coords, *param_syms)
        masses = (
            (sp.S.One,) * d
            if self.masses is None
            else tuple(as_expr(m, known, "mass") for m in self.masses)
        )
        if len(masses) != d:
            raise ValueError(
                f"got {d} coordinates but {len(masses)} masses; give one mass "
                "per coordinate (the diagonal of the mass matrix)."
            )
        params = check_params(self.params)
        both = set(params) & (set(coords) | set(momenta))
        if both:
            raise ValueError(
                f"{', '.join(sorted(map(str, both)))} is declared both as a parameter and as a "
                "coordinate or momentum; a parameter is a fixed number, so give it another name."
            )
        V = as_expr(self.V, known, "potential V")
        allowed = set(coords) | set(params)
        extra = (V.free_symbols | set().union(*(m.free_symbols for m in masses))) - allowed
        if extra:
            names = ", ".join(sorted(map(str, extra)))
            raise ValueError(
                f"free symbols {names} are neither coordinates {tuple(map(str, coords))} nor "
                f"declared parameters; declare them with params={{symbol: value}} or "
                "substitute numbers."
            )
        if V.free_symbols & set(momenta):
            raise ValueError(
                "the potential V depends on the momenta; a separable system has V = V(q) only."
            )
        for c, m in zip(coords, masses, strict=True):
            if m.free_symbols & set(coords):
                raise ValueError(
                    f"the mass of coordinate {c}, {m}, depends on the coordinates; symhamil "
                    "handles constant (diagonal) masses, H = sum_i p_i**2/(2 m_i) + V(q)."
                )
            value = m.subs(params)
            if _is_positive(value) is False:
                raise ValueError(f"mass of coordinate {c} must be positive; got {m} = {value}.")
        _check_potential(V, coords, params)
        object.__setattr__(self, "coords", coords)
        object.__setattr__(self, "momenta", momenta)
        object.__setattr__(self, "masses", masses)
        object.__setattr__(self, "V", V)
        # A tuple of pairs keeps the frozen value hashable.
        object.__setattr__(
            self, "params", tuple(sorted(params.items(), key=lambda kv: kv[0].name))
        )

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_hamiltonian(
        cls,
        H: sp.Expr,
        coords: Sequence[sp.Symbol],
        momenta: Sequence[sp.Symbol],
        params: Mapping[sp.Symbol, float] | None = None,
        name: str = "",
    ) -> System:
        """Build a System from a Hamiltonian, checking that it is of the supported kind.

        Refused, with the offending term named: a term that mixes coordinates and
        momenta (not separable); a kinetic part that is not sum_i p_i^2/(2 m_i)
        with every m_i > 0 (``p**4``, ``p1*p2``, a linear ``p`` term, a negative
        or zero mass); free symbols other than the coordinates, momenta and
        ``params``.

        Parameters
        ----------
        H : sympy.Expr
            The Hamiltonian.
        coords, momenta : sequence of sympy.Symbol, length d
        params : mapping of sympy.Symbol to float, optional

        Examples
        --------
        >>> import sympy as sp
        >>> q, p = sp.symbols("q p")
        >>> System.from_hamiltonian(p**2 / 4 + q**4, (q,), (p,)).masses
        (2,)
        """
        coords = as_symbols(coords, "coords")
        momenta = as_symbols(momenta, "momenta")
        if len(coords) != len(momenta):
            raise ValueError(f"got {len(coords)} coordinates but {len(momenta)} momenta.")
        params = check_params(params)
        param_syms = set(params)
        H = as_expr(H, (*coords, *momenta, *param_syms), "Hamiltonian H")
        extra = H.free_symbols - set(coords) - set(momenta) - param_syms
        if extra:
            raise ValueError(
                f"the Hamiltonian has free symbols {', '.join(sorted(map(str, extra)))} that "
                "are neither coordinates, momenta nor declared parameters; declare them with "
                "params={symbol: value}."
            )
        qs, ps = set(coords), set(momenta)
        V_terms, T_terms = [], []
        for term in sp.Add.make_args(sp.expand(H)):
            fs = term.free_symbols
            if fs & qs and fs & ps:
                raise ValueError(
                    f"the Hamiltonian is not separable: the term {term} mixes coordinates and "
                    "momenta. symhamil handles H = T(p) + V(q)."
                )
            (T_terms if fs & ps else V_terms).append(term)
        masses = _diagonal_masses(T_terms, momenta, params)
        return cls(
            coords=coords,
            V=sp.Add(*V_terms),
            masses=tuple(masses),
            momenta=momenta,
            params=params,
            name=name,
        )

    @classmethod
    def pairwise(
        cls,
        phi,
        r,
        particles: int,
        dim: int,
        masses=1.0,
        box=None,
        cutoff=None,
        external=None,
        params: Mapping[sp.Symbol, float] | None = None,
        name: str = "",
    ):
        """N particles interacting by one pair potential: V = sum_{i<j} phi(|q_i - q_j|).

        Parameters
        ----------
        phi : sympy.Expr
            The pair potential, an expression in ``r`` (and ``params``).
        r : sympy.Symbol
            The distance symbol.
        particles : int
            N >= 2.
        dim : int
            The spatial dimension s (the one keyword where ``dim`` names it: the
            pair constructors' fixed API); the system has N s coordinates x1,
            y1, z1, x2, ..., its ``dim`` attribute, and ``space`` is s.
        masses : float or sequence of float, length N
            One mass for all particles or one each.
        box : float or sequence of float, length s, optional
            A periodic orthorhombic box (minimum-image convention).
        cutoff : float, optional
            Pairs at r >= cutoff do not interact; the energy is shifted to vanish
            there (as in ASE and LAMMPS). Half the box by default with a box.
        external : sympy.Expr, optional
            A potential every particle feels, in the symbols x, y, z of one particle.
        params : mapping of sympy.Symbol to float, optional
        name : str, optional

        Returns
        -------
        symhamil.systems.pairs.PairSystem
            With ``.V`` as one SymPy expression for few particles (no box or cutoff)
            and forces vectorised over pairs for any number.

        Examples
        --------
        >>> import sympy as sp
        >>> r = sp.Symbol("r", positive=True)
        >>> springs = System.pairwise((r - 1) ** 2, r, particles=2, dim=2)
        >>> springs.coords
        (x1, y1, x2, y2)
        >>> (springs.force([[0, 0, 3, 0]]) + 0.0).tolist()
        [[4.0, 0.0, -4.0, 0.0]]
        """
        return PairSystem(
            phi, r, particles, dim, masses, box, cutoff, external, params or {}, name
        )

    # ------------------------------------------------------------------ symbolic
    @property
    def dim(self) -> int:
        """Number of degrees of freedom d."""
        return len(self.coords)

    @property
    def parameters(self) -> dict[sp.Symbol, float]:
        """The declared parameters as a dict {symbol: value}."""
        return dict(self.params)

    @property
    def variables(self) -> tuple[sp.Symbol, ...]:
        """The symbols of V: the coordinates."""
        return self.coords

    @cached_property
    def grad_V(self) -> tuple[sp.Expr, ...]:
        """dV/dq_i for each coordinate."""
        return tuple(sp.diff(self.V, q) for q in self.coords)

    @cached_property
    def rhs(self) -> tuple[tuple[sp.Expr, ...], tuple[sp.Expr, ...]]:
        """Hamilton's vector field ((dH/dp_i)_i, (-dH/dq_i)_i) in the symbols."""
        qdot = tuple(sp.diff(self.H, p) for p in self.momenta)
        pdot = tuple(-sp.diff(self.H, q) for q in self.coords)
        return qdot, pdot

    @cached_property
    def equations(self) -> tuple[sp.Eq, ...]:
        """Hamilton's equations as SymPy equations in functions of ``t``.

        ``(Eq(q_1'(t), dH/dp_1), ..., Eq(p_1'(t), -dH/dq_1), ...)``.
        """
        t = sp.Symbol("t", real=True)
        funcs = {s: sp.Function(s.name)(t) for s in (*self.coords, *self.momenta)}
        qdot, pdot = self.rhs
        eqs = [
            sp.Eq(sp.Derivative(funcs[q], t), e.xreplace(funcs))
            for q, e in zip(self.coords, qdot, strict=True)
        ]
        eqs += [
            sp.Eq(sp.Derivative(funcs[p], t), e.xreplace(funcs))
            for p, e in zip(self.momenta, pdot, strict=True)
        ]
        return tuple(eqs)

    def substituted(self, expr: sp.Expr | None = None) -> sp.Expr:
        """``expr`` (V by default) with the parameter values substituted, exactly.

        A value that is a whole number or a simple fraction (1.0, 0.5, 0.125)
        goes in as an Integer or Rational, so ``exp(-a*q)`` with a = 1.0 becomes
        ``exp(-q)``, not ``exp(-1.0*q)``, and compares equal to it term by term.
        """
        expr = self.V if expr is None else as_expr(expr, (*self.coords, *self.parameters))
        return expr.subs({k: exact(v) for k, v in self.params}) if self.params else expr

    # ------------------------------------------------------------------ numeric
    @cached_property
    def mass_array(self) -> np.ndarray:
        """Masses as a float array, shape (d,)."""
        return np.array([float(self.substituted(m)) for m in self.masses])

    @cached_property
    def _potential_fn(self) -> Callable:
        return sp.lambdify(self.coords, self.substituted(self.V), modules="numpy", cse=True)

    @cached_property
    def _force_fn(self) -> Callable:
        exprs = [-self.substituted(g) for g in self.grad_V]
        return sp.lambdify(self.coords, exprs, modules="numpy", cse=True)

    def _components(self, q) -> tuple[np.ndarray, tuple[int, ...]]:
        q = np.asarray(q, dtype=float)
        if q.ndim == 0 or q.shape[-1] != self.dim:
            raise ValueError(
                f"expected positions of shape (..., {self.dim}) for this "
                f"{self.dim}-dimensional system; got shape {q.shape}."
            )
        return q, q.shape[:-1]

    def potential(self, q) -> np.ndarray:
        """V at positions ``q``.

        Parameters
        ----------
        q : array_like, shape (..., d)

        Returns
        -------
        ndarray, shape (...)
        """
        q, lead = self._components(q)
        return np.broadcast_to(self._potential_fn(*np.moveaxis(q, -1, 0)), lead).astype(float)

    def force_components(self, components: Sequence[np.ndarray], out: np.ndarray) -> np.ndarray:
        """Force -grad V from coordinate components, written into ``out``.

        The fast path of the integrators: ``components`` is a sequence of d arrays of
        one shape S (contiguous rows of a (d, R) state), ``out`` an array of shape
        (d, *S).
        """
        for i, f in enumerate(self._force_fn(*components)):
            out[i] = f
        return out

    def force(self, q) -> np.ndarray:
        """Force -grad V at positions ``q``.

        Parameters
        ----------
        q : array_like, shape (..., d)

        Returns
        -------
        ndarray, shape (..., d)
        """
        q, lead = self._components(q)
        comps = np.ascontiguousarray(np.moveaxis(q, -1, 0))
        out = np.empty((self.dim, *lead))
        return np.moveaxis(self.force_components(comps, out), 0, -1)

    def __repr__(self) -> str:
        label = f"{self.name!r}, " if self.name else ""
        text = f"System({label}H={self.H})"
        return text if len(text) <= 120 else text[:116] + "...)"

    def _repr_latex_(self) -> str:
        """The Hamiltonian, for notebooks."""
        return f"$H = {sp.latex(self.H)}$"


def _diagonal_masses(T_terms, momenta, params) -> list:
    """The masses m_i of T = sum_i p_i**2/(2 m_i), each term checked; any other
    kinetic energy is refused with the offending term named."""
    ps = set(momenta)
    T = sp.Add(*T_terms)
    for t in T_terms:
        if not t.is_polynomial(*momenta):
            raise ValueError(
                f"the kinetic energy term {t} is not a quadratic form in the "
                "momenta; symhamil needs T = sum_i p_i**2/(2 m_i)."
            )
    masses = []
    for p in momenta:
        c2 = T.coeff(p, 2)
        if c2 == 0:
            offending = [t for t in T_terms if p in t.free_symbols]
            if offending:
                raise ValueError(
                    f"the kinetic energy term {offending[0]} is not allowed: T must be a "
                    "diagonal quadratic form sum_i p_i**2/(2 m_i)."
                )
            raise ValueError(
                f"the kinetic energy has no {p}**2 term, so the mass of {p} is "
                "infinite; every momentum needs a positive p**2/(2 m) term."
            )
        if c2.free_symbols & ps:
            raise ValueError(
                f"the kinetic energy term {c2 * p**2} is not allowed: T must be "
                "a diagonal quadratic form sum_i p_i**2/(2 m_i)."
            )
        masses.append(1 / (2 * c2))
    expected = sum((p**2 / (2 * m) for p, m in zip(momenta, masses, strict=True)), sp.S.Zero)
    rest = sp.expand(T - expected)
    if rest != 0:
        bad = sp.Add.make_args(rest)[0]
        raise ValueError(
            f"the kinetic energy term {bad} is not allowed: T must be a diagonal quadratic "
            "form sum_i p_i**2/(2 m_i) (no cross terms p_i*p_j, no linear or higher "
            "powers of p)."
        )
    for p, m in zip(momenta, masses, strict=True):
        value = m.subs(params)
        if _is_positive(value) is False:
            raise ValueError(
                f"the kinetic energy term of {p} has coefficient "
                f"{sp.simplify(1 / (2 * m))}: its mass {m} is not positive."
            )
    return masses
