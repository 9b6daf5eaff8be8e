"""What the classification of a point needs of ``J`` or ``J_S``: eigenvalues, norm and per-player blocks.

A game returns them from ``game.spectra(x, field)``. The generic version below builds the dense Jacobian; a
family with structure gives them in closed form in its own file (the oligopoly: O(N) at any N).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from stackenv.games.stackelberg import norm

if TYPE_CHECKING:
    from stackenv.games.base import Game

Field = Literal["omega", "omega_S"]
FIELDS: tuple[Field, ...] = ("omega", "omega_S")


@dataclass(frozen=True, eq=False)
class Spectra:
    """The spectral facts of ``J`` (field ``"omega"``) or ``J_S`` (``"omega_S"``) at one point.

    Attributes:
        eig: eigenvalues of the Jacobian, complex, in any order.
        norm: its Frobenius norm.
        blocks: per player, the eigenvalues of the symmetric part of its own Hessian ``∇²_ii f_i`` (``omega``)
            or of its reduced-cost Hessian (``omega_S``; Def. 4, App. C); None where a lower block of ``J_S``
            is singular, so the reduced Hessians are undefined.
        asymmetry: per player, ``‖S − Sᵀ‖_F / max(‖S‖_F, 1)`` of that block before symmetrising.
    """

    eig: np.ndarray
    norm: float
    blocks: tuple[np.ndarray, ...] | None
    asymmetry: tuple[float, ...]


def check_field(field: str) -> Field:
    """``ValueError`` listing the valid fields unless ``field`` is one."""
    if field not in FIELDS:
        raise ValueError(f"unknown field {field!r}; valid: {', '.join(FIELDS)}")
    return field


def dense_spectra(game: Game, x: np.ndarray, field: Field) -> Spectra:
    """:class:`Spectra` from the dense ``J`` or ``J_S`` at a single point ``x`` (shape ``(d,)``)."""
    check_field(field)
    M = game.jacobian(x) if field == "omega" else game.jacobian_S(x)
    blocks, asym = [], []
    try:
        for i in range(game.n):
            if field == "omega":
                o = np.arange(game.d)[game.slices[i]]
                S = M[np.ix_(o, o)]
            else:
                S = game.reduced_hessian(i, M, symmetric=False)
            asym.append(float(norm(S - S.T) / max(norm(S), 1.0)))
            blocks.append(np.linalg.eigvalsh((S + S.T) / 2))
    except np.linalg.LinAlgError:
        return Spectra(np.linalg.eigvals(M).astype(complex), norm(M), None, ())
    return Spectra(np.linalg.eigvals(M).astype(complex), norm(M), tuple(blocks), tuple(asym))
