"""Many bodies with one pair interaction: V = sum_{i<j} phi(|q_i - q_j|).

A :class:`PairSystem` is the frozen value that :meth:`symhamil.System.pairwise`
returns. Its pair potential phi is a SymPy expression in one symbol r; its
numbers (forces, energies) are vectorised over pairs, so their cost grows with
the number of pairs, not with N^2 SymPy terms:

* without a cutoff every pair i < j counts (the usual choice for a few bodies:
  springs, gravity, charges);
* with a ``cutoff`` only pairs closer than it count, found by a k-d tree
  (:class:`scipy.spatial.cKDTree`), in time and memory linear in the number of
  such pairs; the energy is shifted so that phi(cutoff) = 0, as molecular
  dynamics engines (ASE, LAMMPS) do, and the force is truncated;
* with a periodic orthorhombic ``box`` pairs are taken between nearest images
  (the minimum-image convention). A box shorter than twice the cutoff would
  let one particle meet two images of another inside the cutoff; it is refused.

:class:`PairLibrary` turns a library of terms in r into the pair-summed
potentials and forces that :func:`symhamil.pair_force_sindy` regresses on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import sympy as sp

from ..base.parsing import as_expr
from ..data.geometry import (
    Geometry,
    axis_symbols,
    check_apart,
    check_geometry,
    chunks,
    displacements,
    pair_list,
    particle_coords,
)
from .hamiltonian import Separable
from .symbols import as_symbols, check_params, default_momentum, exact, smooth_derivative

__all__ = [
    "MAX_SYMBOLIC_PAIRS",
    "PairLibrary",
    "PairSystem",
    "lattice_starts",
    "pair_potentials",
    "species_symbols",
]


def species_symbols(geometry: Geometry) -> tuple[sp.Symbol, ...]:
    """The distance symbol of each pair of types, r_a_b (``r`` for one species)."""
    if geometry.species is None:
        return (sp.Symbol("r"),)
    return tuple(sp.Symbol(f"r_{a}_{b}") for a, b in geometry.pair_types)


def pair_potentials(expr, r: sp.Symbol | None = None) -> dict[tuple[int, int], sp.Expr]:
    """A fitted potential of several species split into its pair laws.

    Parameters
    ----------
    expr : sympy.Expr or SparseFit
        A sum of terms in the distances r_a_b of :func:`species_symbols`
        (what :func:`~symhamil.pair_force_sindy` fits to data with species).
    r : sympy.Symbol, optional
        The symbol each phi_ab is written in (``r`` by default).

    Returns
    -------
    dict
        {(a, b): phi_ab(r)}, a <= b the types.

    Examples
    --------
    >>> import sympy as sp
    >>> r11, r12 = sp.symbols("r_1_1 r_1_2")
    >>> pair_potentials(4 / r11**12 - 4 / r11**6 + 2 / r12**12)
    {(1, 1): -4/r**6 + 4/r**12, (1, 2): 2/r**12}
    """
    expr = getattr(expr, "expression", expr)
    r = sp.Symbol("r") if r is None else r
    out = {}
    for x in sorted(expr.free_symbols, key=str):
        parts = x.name.split("_")
        if len(parts) != 3 or parts[0] != "r":
            raise ValueError(f"{x} is not a pair type's distance r_a_b.")
        a, b = int(parts[1]), int(parts[2])
        own = sp.Add(*[t for t in sp.Add.make_args(expr) if x in t.free_symbols])
        out[(a, b)] = own.subs(x, r)
    return out


#: The symbolic V of a pair system is built only up to this many pairs (N = 32):
#: beyond it the expression is too large to be useful, and phi says it all.
MAX_SYMBOLIC_PAIRS = 496


def lattice_starts(particles, dim, runs=1, spacing=1.0, jitter=0.2, speed=0.3, seed=0):
    """Initial conditions for many bodies: a jittered square or cubic lattice
    (no pair starts closer than (1 - 2 jitter) spacing) and Gaussian momenta
    with zero total.

    Parameters
    ----------
    particles, dim : int
    runs : int
        Independent starts R.
    spacing : float
        Lattice constant.
    jitter : float
        Uniform displacement of each coordinate, in lattice constants.
    speed : float
        Standard deviation of each momentum component.
    seed : int

    Returns
    -------
    q0, p0 : ndarray, shape (R, particles * dim)
    """
    rng = np.random.default_rng(seed)
    n = int(np.ceil(particles ** (1 / dim)))
    grid = np.stack(np.meshgrid(*[np.arange(n)] * dim, indexing="ij"), -1).reshape(-1, dim)
    q = spacing * (grid[None, :particles] + rng.uniform(-jitter, jitter, (runs, particles, dim)))
    p = rng.normal(0, speed, (runs, particles, dim))
    p -= p.mean(1, keepdims=True)
    return q.reshape(runs, -1), p.reshape(runs, -1)


def _term_pairs(kinds, i, j, J: int, *arrays) -> list[tuple]:
    """For each of J terms, ``arrays`` (indexed by pair, as ``i`` and ``j``) restricted to
    the pairs it sums over: all of them for one species; with ``kinds`` (pair
    types of each pair from i and j, the pair type of each term (J,)), those of
    its pair type only, taken once per type (each term's function is then
    evaluated on its own pairs, not on every pair and zeroed: a mixture's
    shooting between frames sums the library at every MD step)."""
    if kinds is None:
        return [arrays] * J
    types = kinds[0](i, j)
    own: dict = {}
    out = []
    for t in kinds[1].tolist():
        if t not in own:
            sel = np.flatnonzero(types == t)
            own[t] = tuple(a[sel] for a in arrays)
        out.append(own[t])
    return out


def _pair_sum_gradient(X, dfns, box, cutoff, kinds=None) -> np.ndarray:
    """sum over pairs of g_k'(r) (x_i - x_j)/r into particles: (K, N, s, J).

    ``kinds``: (pair types of each pair (P,) from i and j, the pair type of
    each term (J,)), when the particles are of several species: term k then
    sums over the pairs of its type only (:func:`_term_pairs`)."""
    K, N, s = X.shape
    flat = X.reshape(-1, s)
    i, j = pair_list(X, box, cutoff)
    d = displacements(flat, i, j, box)
    r = np.sqrt(np.einsum("pa,pa->p", d, d))
    check_apart(r, i, j, N)
    out = np.zeros((K * N, s, len(dfns)))
    with np.errstate(divide="ignore", invalid="ignore"):
        for k, (f, (rk, dk, ik, jk)) in enumerate(
            zip(dfns, _term_pairs(kinds, i, j, len(dfns), r, d, i, j), strict=True)
        ):
            w = np.broadcast_to(np.asarray(f(rk), dtype=float), rk.shape) / rk
            for a in range(s):
                c = w * dk[:, a]
                out[:, a, k] = np.bincount(ik, c, K * N) - np.bincount(jk, c, K * N)
    return out.reshape(K, N, s, len(dfns))


def _pair_sum_value(X, fns, box, cutoff, shift, kinds=None) -> np.ndarray:
    """sum over pairs of g_k(r) - shift_k per configuration: (K, J); ``kinds``
    as in :func:`_pair_sum_gradient`."""
    K, N, s = X.shape
    i, j = pair_list(X, box, cutoff)
    d = displacements(X.reshape(-1, s), i, j, box)
    r = np.sqrt(np.einsum("pa,pa->p", d, d))
    check_apart(r, i, j, N)
    out = np.zeros((K, len(fns)))
    with np.errstate(divide="ignore", invalid="ignore"):
        for k, (f, (rk, conf)) in enumerate(
            zip(fns, _term_pairs(kinds, i, j, len(fns), r, i // N), strict=True)
        ):
            g = np.broadcast_to(np.asarray(f(rk), dtype=float), rk.shape) - shift[k]
            out[:, k] = np.bincount(conf, g, K)
    return out


@dataclass(frozen=True)
class PairLibrary:
    """A library of terms g_k(r) acting as pair sums sum_{i<j} g_k(r_ij).

    It has the two methods force-SINDy needs from a :class:`~symhamil.Library`,
    evaluated on positions of all particles.

    Parameters
    ----------
    terms : tuple of sympy.Expr
        Terms in ``r``; with several species, each in the symbol of its pair
        of types.
    r : sympy.Symbol, or tuple of sympy.Symbol
        The distance; with several species (``geometry.species``) one symbol
        per pair of types, in the order of ``geometry.pair_types``
        (:func:`species_symbols`), and each term sums over its pairs only.
    geometry : Geometry
        Particles, space, box, cutoff and species. With a cutoff each term is
        shifted to vanish there (as the energy of MD engines); forces are
        truncated.
    """

    terms: tuple
    r: sp.Symbol | tuple
    geometry: Geometry

    def __getstate__(self) -> dict:
        # The lambdified functions are made again where the library is unpickled
        # (a Dask worker): generated code does not pickle.
        return {k: v for k, v in self.__dict__.items() if k not in ("_fns", "_dfns", "_kinds")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    @property
    def _symbols(self) -> tuple[sp.Symbol, ...]:
        return self.r if isinstance(self.r, tuple) else (self.r,)

    def _symbol_of(self, term) -> sp.Symbol:
        rs = self._symbols
        if len(rs) == 1:
            return rs[0]
        own = [x for x in rs if x in term.free_symbols]
        if len(own) != 1:
            raise ValueError(
                f"the term {term} must be in one pair type's distance, one of "
                f"{', '.join(map(str, rs))}."
            )
        return own[0]

    @cached_property
    def _kinds(self):
        """(pair type of each pair, pair type of each term), or None for one species."""
        g = self.geometry
        if g.species is None:
            return None
        rs = self._symbols
        if len(rs) != len(g.pair_types):
            raise ValueError(
                f"{len(g.pair_types)} pairs of species {g.pair_types} need one distance "
                f"symbol each; got {len(rs)}."
            )
        which = np.array([rs.index(self._symbol_of(t)) for t in self.terms], dtype=np.int64)
        return g.pair_of, which

    @cached_property
    def _fns(self) -> tuple[Callable, ...]:
        return tuple(sp.lambdify(self._symbol_of(t), t, "numpy") for t in self.terms)

    @cached_property
    def _dfns(self) -> tuple[Callable, ...]:
        return tuple(
            sp.lambdify(self._symbol_of(t), sp.diff(t, self._symbol_of(t)), "numpy")
            for t in self.terms
        )

    def _configs(self, points) -> np.ndarray:
        g = self.geometry
        x = np.asarray(points, dtype=float)
        if x.ndim != 2 or x.shape[1] != self.geometry.dim:
            raise ValueError(
                f"expected positions of shape (K, {self.geometry.dim}); got {x.shape}."
            )
        return x.reshape(-1, g.particles, g.space)

    def evaluate(self, points) -> np.ndarray:
        """Pair sums of each term, shape (K, N s) -> (K, J)."""
        X, g = self._configs(points), self.geometry
        if g.cutoff is None:
            shift = np.zeros(len(self.terms))
        else:
            shift = np.array([float(f(g.cutoff)) for f in self._fns])
        parts = [
            _pair_sum_value(c, self._fns, g.box, g.cutoff, shift, self._kinds)
            for c in chunks(X, g.particles, g.cutoff)
        ]
        return np.concatenate(parts)

    def gradient(self, points) -> np.ndarray:
        """Gradients of the pair sums, shape (K, N s) -> (K, N s, J)."""
        X, g = self._configs(points), self.geometry
        parts = [
            _pair_sum_gradient(c, self._dfns, g.box, g.cutoff, self._kinds)
            for c in chunks(X, g.particles, g.cutoff)
        ]
        return np.concatenate(parts).reshape(X.shape[0], -1, len(self.terms))


@dataclass(frozen=True)
class PairSystem(Separable):
    """N identical-law particles in s dimensions: H = sum |p|^2/(2 m) + sum_{i<j} phi(r_ij).

    Made by :meth:`symhamil.System.pairwise`; it has the numeric interface of a
    :class:`~symhamil.System` (``dim`` is the number of coordinates N s), so
    :func:`~symhamil.simulate` and the learners take it as they are.

    Parameters
    ----------
    phi : sympy.Expr
        The pair potential, in ``r`` and the names in ``params``.
    r : sympy.Symbol
    particles : int
    space : int
        Spatial dimension s (the ``dim=`` of :meth:`~symhamil.System.pairwise`).
    particle_masses : float or tuple of float, length N
    box : tuple of float, length s, optional
    cutoff : float, optional
    external : sympy.Expr, optional
        A potential U(x, y, z) felt by every particle, in :func:`axis_symbols`.
    params : mapping of sympy.Symbol to float
    name : str
    """

    phi: sp.Expr
    r: sp.Symbol
    particles: int
    space: int
    particle_masses: float | tuple = 1.0
    box: tuple | None = None
    cutoff: float | None = None
    external: sp.Expr | None = None
    params: Mapping | tuple = field(default=())
    name: str = ""

    def __post_init__(self) -> None:
        (r,) = as_symbols((self.r,), "the distance symbol r")
        params = check_params(self.params)
        known = (r, *params)
        phi = as_expr(self.phi, known, "pair potential phi")
        extra = phi.free_symbols - {r} - set(params)
        if extra:
            raise ValueError(
                f"the pair potential has free symbols {', '.join(sorted(map(str, extra)))} "
                f"besides {r}; declare them with params={{symbol: value}}."
            )
        if r not in phi.free_symbols:
            raise ValueError(f"the pair potential {phi} does not depend on {r}.")
        particles, space, box, cutoff = check_geometry(
            self.particles, self.space, self.box, self.cutoff
        )
        try:
            masses = np.asarray(self.particle_masses, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(f"masses must be numbers; got {self.particle_masses!r}.") from None
        if masses.ndim > 1 or (masses.ndim == 1 and masses.size not in (1, particles)):
            raise ValueError(
                f"masses must be one number or one per particle ({particles}); got shape "
                f"{masses.shape}."
            )
        masses = np.broadcast_to(masses.reshape(-1) if masses.ndim else masses, (particles,))
        if not (np.isfinite(masses).all() and (masses > 0).all()):
            raise ValueError(f"masses must be finite and > 0; got {masses.tolist()[:8]}.")
        external = self.external
        if external is not None:
            axes = axis_symbols(space)
            external = as_expr(external, (*axes, *params), "external potential")
            stray = external.free_symbols - set(axes) - set(params)
            if stray:
                raise ValueError(
                    f"the external potential may use the axes {tuple(map(str, axes))} of one "
                    f"particle and the parameters; it has {sorted(map(str, stray))}."
                )
        vals = {k: exact(v) for k, v in params.items()}
        smooth_derivative(phi, r, f"the pair potential {phi}")
        probe = sp.lambdify(r, phi.subs(vals), "numpy")
        with np.errstate(all="ignore"):
            values = np.asarray(probe(np.linspace(0.5, 3.0, 11)), dtype=complex)
        if np.all(np.abs(values.imag) > 1e-12 * (1 + np.abs(values.real))):
            raise ValueError(f"the pair potential {phi} is complex for r in [0.5, 3].")
        for k, v in (
            ("r", r),
            ("phi", phi),
            ("particles", particles),
            ("space", space),
            ("particle_masses", tuple(map(float, masses))),
            ("box", None if box is None else tuple(map(float, box))),
            ("cutoff", cutoff),
            ("external", external),
            ("params", tuple(sorted(params.items(), key=lambda kv: kv[0].name))),
        ):
            object.__setattr__(self, k, v)

    # ------------------------------------------------------------------ symbolic
    @property
    def dim(self) -> int:
        """Number of coordinates, N s (as for any System)."""
        return self.particles * self.space

    @property
    def pairs(self) -> int:
        """N (N - 1) / 2."""
        return self.particles * (self.particles - 1) // 2

    @property
    def parameters(self) -> dict[sp.Symbol, float]:
        return dict(self.params)

    @cached_property
    def coords(self) -> tuple[sp.Symbol, ...]:
        """x1, y1, z1, x2, ... (particle-major)."""
        return particle_coords(self.particles, self.space)

    @cached_property
    def momenta(self) -> tuple[sp.Symbol, ...]:
        return tuple(default_momentum(c) for c in self.coords)

    @cached_property
    def masses(self) -> tuple[sp.Expr, ...]:
        return tuple(exact(m) for m in self.particle_masses for _ in range(self.space))

    def substituted(self, expr: sp.Expr | None = None) -> sp.Expr:
        """``expr`` (phi by default) with the parameter values put in exactly."""
        expr = self.phi if expr is None else expr
        return expr.subs({k: exact(v) for k, v in self.params}) if self.params else expr

    @cached_property
    def V(self) -> sp.Expr:
        """The total potential as one SymPy expression (few particles, no box or cutoff)."""
        if self.box is not None or self.cutoff is not None:
            raise ValueError(
                "a pair system with a box or a cutoff has no closed-form V (the minimum image "
                "and the cutoff are not smooth); use .phi, the pair potential, and the "
                "numeric .potential(q)."
            )
        if self.pairs > MAX_SYMBOLIC_PAIRS:
            raise ValueError(
                f"{self.particles} particles have {self.pairs} pairs, too many for one useful "
                f"SymPy expression (up to {MAX_SYMBOLIC_PAIRS}); use .phi and the numeric "
                ".potential(q)."
            )
        s, c = self.space, self.coords
        pos = [c[k * s : (k + 1) * s] for k in range(self.particles)]
        V = sp.S.Zero
        for a in range(self.particles):
            for b in range(a + 1, self.particles):
                dist = sp.sqrt(sum((u - v) ** 2 for u, v in zip(pos[a], pos[b], strict=True)))
                V += self.phi.subs(self.r, dist)
        if self.external is not None:
            axes = axis_symbols(s)
            for x in pos:
                V += self.external.subs(dict(zip(axes, x, strict=True)), simultaneous=True)
        return V

    @property
    def variables(self) -> tuple[sp.Symbol, ...]:
        """The symbol of phi: the distance r."""
        return (self.r,)

    # ------------------------------------------------------------------ numeric
    @cached_property
    def mass_array(self) -> np.ndarray:
        """Masses per coordinate, shape (N s,)."""
        return np.repeat(np.asarray(self.particle_masses), self.space)

    @cached_property
    def geometry(self) -> Geometry:
        """Particles, space, box and cutoff as one value."""
        return Geometry(self.particles, self.space, self.box, self.cutoff)

    @cached_property
    def _library(self) -> PairLibrary:
        return PairLibrary((self.substituted(),), self.r, self.geometry)

    @cached_property
    def _external_fns(self):
        axes = axis_symbols(self.space)
        U = self.substituted(self.external)
        grad = [-sp.diff(U, a) for a in axes]
        return sp.lambdify(axes, U, "numpy"), sp.lambdify(axes, grad, "numpy")

    def pair_potential(self, r) -> np.ndarray:
        """phi at distances ``r`` (any shape), unshifted."""
        f = self._library._fns[0]
        r = np.asarray(r, dtype=float)
        return np.broadcast_to(np.asarray(f(r), dtype=float), r.shape).copy()

    def _check(self, q) -> tuple[np.ndarray, tuple[int, ...]]:
        q = np.asarray(q, dtype=float)
        if q.ndim == 0 or q.shape[-1] != self.dim:
            raise ValueError(
                f"expected positions of shape (..., {self.dim}) for {self.particles} particles "
                f"in {self.space}-D; got shape {q.shape}."
            )
        return q, q.shape[:-1]

    def potential(self, q) -> np.ndarray:
        """V at positions ``q``, shape (..., N s) -> (...); shifted to 0 at the cutoff."""
        q, lead = self._check(q)
        X = q.reshape(-1, self.dim)
        V = self._library.evaluate(X)[:, 0]
        if self.external is not None:
            U, _ = self._external_fns
            x = X.reshape(-1, self.space).T
            V = V + np.broadcast_to(U(*x), x.shape[1:]).reshape(-1, self.particles).sum(1)
        return V.reshape(lead)

    def force(self, q) -> np.ndarray:
        """Force -grad V at positions ``q``, shape (..., N s) -> (..., N s)."""
        q, _ = self._check(q)
        X = q.reshape(-1, self.dim)
        F = -self._library.gradient(X)[..., 0]
        if self.external is not None:
            _, G = self._external_fns
            x = X.reshape(-1, self.space).T
            g = np.stack([np.broadcast_to(c, x.shape[1:]) for c in G(*x)], axis=-1)
            F = F + g.reshape(F.shape)
        return F.reshape(q.shape)

    def force_components(self, components: Sequence[np.ndarray], out: np.ndarray) -> np.ndarray:
        """The integrators' fast path: d rows of R positions in, (d, R) forces out."""
        X = np.asarray(components).T  # (R, d)
        out[...] = self.force(X).T
        return out

    def _force_fn(self, *components):
        """Force from scalar components (the adaptive integrator's call)."""
        return self.force(np.array(components, dtype=float))

    def __repr__(self) -> str:
        label = f"{self.name!r}, " if self.name else ""
        where = "" if self.box is None else f", box={self.box}"
        cut = "" if self.cutoff is None else f", cutoff={self.cutoff:g}"
        return (
            f"PairSystem({label}phi={self.phi}, {self.particles} particles in "
            f"{self.space}-D{where}{cut})"
        )

    def _repr_latex_(self) -> str:
        return f"$\\phi({sp.latex(self.r)}) = {sp.latex(self.phi)}$"
