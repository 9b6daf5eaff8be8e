"""LookAhead (LA) — each player's gradient where the others will be after their naive step.

Zhang & Lesser (2010, "Multi-agent learning with policy prediction", AAAI) and, for differentiable games,
Letcher et al. (2019, "Stable Opponent Shaping in Differentiable Games", ICLR, §3 "LookAhead"). Player i
anticipates every other player's gradient step ``x_j − α ξ_j`` and takes its own gradient there, to first order:

    ∇_i f_i(x_i, x_{−i} − α ξ_{−i}) ≈ ξ_i − α Σ_{j≠i} J_ij ξ_j,   i.e.   ξ_LA = (I − α H_o) ξ
    x_{k+1} = x_k − γ_k ξ_LA(x_k)

(notation of :mod:`agents.differentiable`; ``J_ij = ∇_j ∇_i f_i``). Unlike LOLA the others' step is a
constant of the look-ahead (not differentiated through), so LA only *predicts*, it does not *shape*.

Fixed points. ``ξ_LA = 0`` ⟺ ``ξ = 0`` wherever ``I − αH_o`` is invertible (every α below ``1/‖H_o‖``): LA keeps
exactly the critical points of gradient play (Nash points and the other zeros of ``ω``). Its Jacobian there is
``(I − αH_o) J``; Letcher et al. prove LA converges locally to stable fixed points and avoids strict saddles for
small α. On the bilinear game ``f = x_1 x_2`` (``J = [[0, 1], [−1, 0]]``) ``(I − αH_o) J = [[α, 1], [−1, α]]``,
eigenvalues ``α ± i``: gradient play's pure rotation gains damping α, so LA converges to the origin.

Defaults: ``lr`` ``1/k`` (as gradient play); ``lookahead`` α = ``None``: the player's own step ``γ_k`` (it models
the others as stepping like itself, the assumption of Letcher et al.'s analysis; unit-consistent with γ).

Feedback: ``second_order`` with the ``jacobian`` blocks (``ξ`` and ``J`` of the whole game; any seat).
"""

from __future__ import annotations

import numpy as np

from agents.differentiable import GameBlocks, JointRule, check_weight, matvec, off_diagonal
from agents.schedules import Schedule


def lookahead_direction(blocks: GameBlocks, alpha: float, slices: list[slice]) -> np.ndarray:
    """``ξ_LA = (I − α H_o) ξ`` (Letcher et al. §3), shape ``(B, d)``."""
    return blocks.xi - alpha * matvec(off_diagonal(blocks.J, slices), blocks.xi)


class LookAhead(JointRule):
    """LookAhead: ``x ← x − γ_k (I − α H_o) ξ`` (the player's block).

    Args:
        lr: step sizes ``γ_k`` (number or schedule; default ``1/k``).
        lookahead: α, the others' anticipated step (``None``: the own ``γ_k``).
    """

    name = "lookahead"

    def __init__(self, lr: Schedule | float | None = None, lookahead: float | None = None):
        super().__init__(lr)
        self.lookahead = check_weight(lookahead, "lookahead")

    def joint_direction(self, blocks: GameBlocks, gamma: float) -> np.ndarray:
        alpha = gamma if self.lookahead is None else self.lookahead
        return lookahead_direction(blocks, alpha, self.game.slices)
