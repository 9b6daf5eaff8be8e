"""Consensus Optimisation (CO) — gradient play plus descent on the squared gradient norm.

Mescheder, Nowozin & Geiger (2017), "The Numerics of GANs", NeurIPS, §3 ("consensus optimization"): with
``L(x) = ½‖ξ(x)‖²`` (so ``∇L = Jᵀξ``),

    v = ξ + γ Jᵀ ξ,      x_{k+1} = x_k − h_k v(x_k)

(their γ is the regularisation weight, ``gamma`` here; their step h is ``lr``). The Jacobian of ``v`` at a
critical point is ``J + γ JᵀJ``: the added ``JᵀJ`` is symmetric positive semi-definite, so eigenvalues of ``J``
with zero or small real part (rotations) are pushed into the right half-plane. Fixed points: ``v = 0`` ⟺
``ξ = 0`` where ``I + γJᵀ`` is invertible — but CO can also create stationary points of ``L`` with ``ξ ≠ 0``
when ``J`` is singular. On ``f = x_1 x_2``: ``J + γJᵀJ = [[γ, 1], [−1, γ]]``, eigenvalues ``γ ± i``.

Defaults: ``lr`` ``1/k``; ``gamma`` = ``None``: ``1/‖J‖₂`` of the step's ``J`` per run (``Jᵀξ`` has units of
``Jξ``, so a game-free weight scales like ``1/‖J‖``; :func:`agents.differentiable.spectral_scale`).

Feedback: ``second_order`` with the ``jacobian`` blocks (``ξ`` and ``J``; any seat).
"""

from __future__ import annotations

import numpy as np

from agents.differentiable import GameBlocks, JointRule, check_weight, rmatvec, spectral_scale
from agents.schedules import Schedule


def consensus_direction(blocks: GameBlocks, gamma: np.ndarray | float) -> np.ndarray:
    """``ξ + γ Jᵀξ`` (Mescheder et al. §3), shape ``(B, d)``; ``gamma`` scalar or ``(B, 1)``."""
    return blocks.xi + gamma * rmatvec(blocks.J, blocks.xi)


class ConsensusOptimization(JointRule):
    """Consensus optimisation: ``x ← x − h_k (ξ + γ Jᵀξ)`` (the player's block).

    Args:
        lr: step sizes ``h_k`` (number or schedule; default ``1/k``).
        gamma: the consensus weight γ (``None``: ``1/‖J‖₂`` per run and step).
    """

    name = "consensus"

    def __init__(self, lr: Schedule | float | None = None, gamma: float | None = None):
        super().__init__(lr)
        self.gamma = check_weight(gamma, "gamma")

    def joint_direction(self, blocks: GameBlocks, gamma: float) -> np.ndarray:
        weight = spectral_scale(blocks.J) if self.gamma is None else self.gamma
        return consensus_direction(blocks, weight)
