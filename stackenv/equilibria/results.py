"""Result records of the equilibria solvers: :class:`Classification` of a point and :class:`Equilibrium`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from stackenv.games.spectra import FIELDS, Field

__all__ = ["FIELDS", "Classification", "Equilibrium", "EquilibriumError", "EquilibriumWarning", "Field", "read_only"]


class EquilibriumError(RuntimeError):
    """A game's closed form does not satisfy its own first-order conditions (a bug in the game)."""


class EquilibriumWarning(UserWarning):
    """The critical-point search is not exhaustive or found a degenerate (continuum) critical set."""


@dataclass(frozen=True, eq=False)
class Classification:
    """What a joint action ``x`` is (see module docstring for the definitions and tolerances).

    Attributes:
        differential_nash: ``ω(x) = 0`` and every own Hessian ``∇²_ii f_i ≻ 0`` (Def. 3).
        differential_stackelberg: ``ω_S(x) = 0`` and every reduced-cost Hessian ``≻ 0`` (Def. 4, App. C).
        stable_simgrad: ``ω(x) = 0`` and ``spec J(x)`` in the open right half-plane.
        stable_stackelberg: ``ω_S(x) = 0`` and ``spec J_S(x)`` in the open right half-plane.
        eig_J: eigenvalues of ``J(x)``, complex, sorted by (real, imaginary) part.
        eig_J_S: eigenvalues of ``J_S(x)``, or None where ``ω_S`` is undefined.
        eig_own_hessians: per player, eigenvalues of the symmetric part of ``∇²_ii f_i``.
        eig_reduced_hessians: per player, eigenvalues of the symmetric part of its reduced-cost Hessian
            ``S_i`` (None where ``ω_S`` is undefined).
        omega_residual: ``‖ω(x)‖``.
        omega_S_residual: ``‖ω_S(x)‖`` (None where undefined).
        tol_omega: residual tolerance used for ``ω`` and ``ω_S`` (``tol_omega_S``; None where undefined).
        notes: reasons for flags that are False for other reasons than a sign.
        players: player names, in the order of the per-player tuples.
    """

    differential_nash: bool
    differential_stackelberg: bool
    stable_simgrad: bool
    stable_stackelberg: bool
    eig_J: np.ndarray
    eig_J_S: np.ndarray | None
    eig_own_hessians: tuple[np.ndarray, ...]
    eig_reduced_hessians: tuple[np.ndarray, ...] | None
    omega_residual: float
    omega_S_residual: float | None
    tol_omega: float
    tol_omega_S: float | None
    notes: tuple[str, ...]
    players: tuple[str, ...]

    @property
    def critical_omega(self) -> bool:
        """``ω(x) = 0`` within tolerance."""
        return self.omega_residual <= self.tol_omega

    @property
    def critical_omega_S(self) -> bool:
        """``ω_S(x) = 0`` within tolerance (False where ``ω_S`` is undefined)."""
        return self.omega_S_residual is not None and self.omega_S_residual <= self.tol_omega_S

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict: the four booleans, eigenvalues (complex as ``[re, im]``), residuals, notes."""

        def pairs(ev):
            return None if ev is None else [[float(z.real), float(z.imag)] for z in ev]

        def per_player(evs):
            return None if evs is None else {p: [float(v) for v in e] for p, e in zip(self.players, evs)}

        return {
            "differential_nash": bool(self.differential_nash),
            "differential_stackelberg": bool(self.differential_stackelberg),
            "stable_simgrad": bool(self.stable_simgrad),
            "stable_stackelberg": bool(self.stable_stackelberg),
            "eig_J": pairs(self.eig_J),
            "eig_J_S": pairs(self.eig_J_S),
            "eig_own_hessians": per_player(self.eig_own_hessians),
            "eig_reduced_hessians": per_player(self.eig_reduced_hessians),
            "omega_residual": float(self.omega_residual),
            "omega_S_residual": None if self.omega_S_residual is None else float(self.omega_S_residual),
            "notes": list(self.notes),
        }


@dataclass(frozen=True, eq=False)
class Equilibrium:
    """A critical point or equilibrium with its costs and classification.

    Attributes:
        x: joint action, shape ``(d,)`` (read-only).
        costs: ``f_i(x)`` of every player, shape ``(n,)`` (read-only).
        classification: see :class:`Classification`.
        kind: ``"nash"``, ``"stackelberg"`` (equilibria), ``"omega"`` or ``"omega_S"`` (critical points).
        source: how it was found: ``"closed_form"``, ``"linear_solve"`` or ``"newton"``.
    """

    x: np.ndarray
    costs: np.ndarray
    classification: Classification
    kind: Literal["nash", "stackelberg", "omega", "omega_S"]
    source: str = "newton"

    @property
    def field(self) -> Field:
        """The field this point is a zero of."""
        return "omega" if self.kind in ("nash", "omega") else "omega_S"

    def to_dict(self) -> dict[str, Any]:
        """``{"x", "costs", "classification"}`` plus ``"field"`` for critical points."""
        out: dict[str, Any] = {
            "x": [float(v) for v in self.x],
            "costs": [float(v) for v in self.costs],
            "classification": self.classification.to_dict(),
        }
        if self.kind in FIELDS:
            out["field"] = self.kind
        return out


def read_only(a: np.ndarray) -> np.ndarray:
    """``a`` made read-only in place (results are shared through the cache)."""
    a.flags.writeable = False
    return a
