"""What "a system" is: the protocol every declared system meets, and the parts
every separable one shares, written once.

A :class:`~symhamil.System` (any separable H = T(p) + V(q)) and a
:class:`~symhamil.PairSystem` (one phi(r) for many bodies) are both a
:class:`Hamiltonian`: :func:`~symhamil.simulate`, :func:`~symhamil.rollout`,
:func:`~symhamil.compare` and :func:`~symhamil.as_potential` accept either
alike, by this protocol, never by a list of classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Protocol, runtime_checkable

import numpy as np
import sympy as sp

__all__ = ["Hamiltonian", "Separable"]


@runtime_checkable
class Hamiltonian(Protocol):
    """A declared classical system H = T(p) + V(q) with diagonal masses.

    Besides the members below, a Hamiltonian has the SymPy expressions ``V``,
    ``T`` and ``H`` (left out of the run-time check: a pair system in a box
    has no closed-form V, and asking for it raises).

    Attributes
    ----------
    coords, momenta : tuple of sympy.Symbol, length d
    mass_array : ndarray, shape (d,)
    variables : tuple of sympy.Symbol
        The symbols of :meth:`substituted`'s expression: the coordinates, or
        the distance r of a pair potential.
    """

    coords: tuple
    momenta: tuple

    @property
    def mass_array(self) -> np.ndarray: ...

    @property
    def variables(self) -> tuple[sp.Symbol, ...]: ...

    def substituted(self, expr: sp.Expr | None = None) -> sp.Expr:
        """The potential a learner recovers (V, or phi), parameters put in exactly."""

    def potential(self, q) -> np.ndarray:
        """V at positions (..., d) -> (...)."""

    def force(self, q) -> np.ndarray:
        """-grad V at positions (..., d) -> (..., d)."""

    def force_components(self, components: Sequence[np.ndarray], out: np.ndarray) -> np.ndarray:
        """The integrators' fast path: d rows of positions in, (d, ...) forces out."""

    def energy(self, q, p) -> np.ndarray:
        """H at (q, p), each (..., d) -> (...)."""


class Separable:
    """T, H, the kinetic and the total energy of H = sum_i p_i^2/(2 m_i) + V(q),
    for any class with ``momenta``, ``masses``, ``mass_array``, ``dim``, ``V`` and
    ``potential``."""

    @cached_property
    def T(self) -> sp.Expr:
        """Kinetic energy sum_i p_i^2 / (2 m_i)."""
        return sp.Add(*(p**2 / (2 * m) for p, m in zip(self.momenta, self.masses, strict=True)))

    @cached_property
    def H(self) -> sp.Expr:
        """The Hamiltonian T(p) + V(q)."""
        return self.T + self.V

    def kinetic(self, p) -> np.ndarray:
        """T at momenta ``p``, shape (..., d) -> (...)."""
        p = np.asarray(p, dtype=float)
        if p.ndim == 0 or p.shape[-1] != self.dim:
            raise ValueError(f"expected momenta of shape (..., {self.dim}); got {p.shape}.")
        return 0.5 * np.sum(p**2 / self.mass_array, axis=-1)

    def energy(self, q, p) -> np.ndarray:
        """Total energy H at (q, p), each of shape (..., d); returns shape (...)."""
        return self.kinetic(p) + self.potential(q)
