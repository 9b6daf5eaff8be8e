"""Symplectic Gradient Adjustment (SGA) — follow ξ, corrected by the rotation of the game.

Balduzzi, Racanière, Martens, Foerster, Tuyls & Graepel (2018), "The Mechanics of n-Player Differentiable
Games", ICML, Algorithm 1 (SGA) with the sign choice of their §4 ("alignment"); Letcher et al. (2019, JMLR,
"Differentiable Game Mechanics") state the same rule. With ``A = (J − Jᵀ)/2`` the antisymmetric
("Hamiltonian") part of the game Jacobian and ``∇H = Jᵀξ`` the gradient of ``H = ½‖ξ‖²``:

    ξ_λ = ξ + λ Aᵀ ξ,      λ = sign(⟨ξ, ∇H⟩ ⟨Aᵀξ, ∇H⟩ / d + ε) · |λ|
    x_{k+1} = x_k − γ_k ξ_λ(x_k)

The sign makes ``ξ_λ`` point towards stable fixed points and away from unstable ones (``ε = 0.1``: positive
λ when the alignment is ambiguous). Fixed points: ``ξ_λ = 0`` ⟺ ``ξ = 0`` where ``I + λAᵀ`` is invertible
(always, for antisymmetric ``A`` and real λ: ``Aᵀ`` has imaginary spectrum), so SGA keeps the critical points of
gradient play. On ``f = x_1 x_2`` (``A = J = [[0, 1], [−1, 0]]``, ``Aᵀξ = (x_1, x_2)``) it is
``ẋ = −[[λ, 1], [−1, λ]] x``: gradient play's rotation plus damping λ.

Defaults: ``lr`` ``1/k``; ``lam`` |λ| = ``None``: ``1/‖J‖₂`` of the step's ``J`` per run (``Aᵀξ`` has units of
``Jξ``, so a game-free weight must scale like ``1/‖J‖``; see :func:`agents.differentiable.spectral_scale`);
``align=True``, ``eps=0.1`` (the paper's). ``align=False`` uses ``+|λ|``.

Feedback: ``second_order`` with the ``jacobian`` blocks (``ξ`` and ``J``; any seat).
"""

from __future__ import annotations

import numpy as np

from agents.differentiable import GameBlocks, JointRule, check_weight, rmatvec, spectral_scale
from agents.schedules import Schedule


def sga_direction(blocks: GameBlocks, lam: np.ndarray | float, align: bool = True, eps: float = 0.1) -> np.ndarray:
    """``ξ + λ Aᵀξ`` with the alignment sign (``lam`` the magnitude, scalar or ``(B, 1)``), shape ``(B, d)``."""
    xi, J = blocks.xi, blocks.J
    A_t_xi = rmatvec((J - np.swapaxes(J, -1, -2)) / 2, xi)
    if align:
        grad_H = rmatvec(J, xi)
        d = xi.shape[-1]
        align_term = np.einsum("bi,bi->b", xi, grad_H) * np.einsum("bi,bi->b", A_t_xi, grad_H) / d
        lam = lam * np.where(align_term + eps >= 0, 1.0, -1.0)[:, None]
    return xi + lam * A_t_xi


class SGA(JointRule):
    """Symplectic gradient adjustment: ``x ← x − γ_k (ξ + λ Aᵀξ)`` (the player's block).

    Args:
        lr: step sizes ``γ_k`` (number or schedule; default ``1/k``).
        lam: |λ| (``None``: ``1/‖J‖₂`` per run and step).
        align: choose the sign of λ by the alignment rule.
        eps: the alignment rule's ε.
    """

    name = "sga"

    def __init__(
        self, lr: Schedule | float | None = None, lam: float | None = None, align: bool = True, eps: float = 0.1
    ):
        super().__init__(lr)
        self.lam = check_weight(lam, "lam")
        self.align = bool(align)
        self.eps = check_weight(eps, "eps", False)

    def joint_direction(self, blocks: GameBlocks, gamma: float) -> np.ndarray:
        lam = spectral_scale(blocks.J) if self.lam is None else self.lam
        return sga_direction(blocks, lam, self.align, self.eps)
