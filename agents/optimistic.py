"""Optimistic gradient descent — gradient play with a look-ahead from the last gradient (Popov 1980).

Each player steps along its own gradient, extrapolated by the change since the previous step:

    x_{i,k+1} = x_{i,k} − γ_{i,k} (2 g_{i,k} − g_{i,k−1}),   g_{i,k} = ∇_i f_i(x_k) + w_{i,k+1}

(Popov 1980, "A modification of the Arrow–Hurwicz method for search of saddle points", Math. Notes
28(5); Daskalakis, Ilyas, Syrgkanis & Zeng 2018, "Training GANs with Optimism", ICLR, eq. 3). The
optimistic term ``−γ (g_k − g_{k−1})`` anticipates the opponents' next move: on bilinear zero-sum games,
where simultaneous gradient play cycles or spirals out, the last iterate converges (Daskalakis et al.,
Thm 1). On the first step no previous gradient exists and ``g_0 = g_1`` (a plain gradient step). Rest
points are those of gradient play (``ω(x) = 0``), so in general-sum games it seeks Nash points; as a
slow-decaying step ``γ_k → 0`` removes the extrapolation asymptotically (``x_k + γ_k g_{k−1}`` follows
gradient play with steps ``2γ_k − γ_{k+1} ≈ γ_k``), the stochastic-approximation limit is that of eq. (7).

Feedback (as :class:`~agents.gradient.GradientPlay`): ``gradient`` (any player), ``hierarchical``
(bottom player: its total derivative is its own gradient) or ``second_order`` (own block of ``∇_x f_i``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.base import Learner
from agents.schedules import PowerSchedule, Schedule, as_schedule


def optimistic_step(x: np.ndarray, g: np.ndarray, g_prev: np.ndarray, gamma: float) -> np.ndarray:
    """``x − γ (2 g_k − g_{k−1})``; shapes ``(B, d_i)``."""
    return x - gamma * (2.0 * g - g_prev)


class OptimisticGradient(Learner):
    """Optimistic gradient descent ``x_i ← x_i − γ_k (2 g_k − g_{k−1})`` on the own gradient.

    Args:
        lr: step sizes ``γ_{i,k}`` (default ``1/k``, the paper's duopoly choice for gradient play).
    """

    name = "optimistic"
    roles = frozenset({"leader", "follower"})
    needs = "gradient"
    block = True

    def __init__(self, lr: Schedule | float | None = None):
        super().__init__()
        self.lr = as_schedule(lr if lr is not None else PowerSchedule(1.0, 1.0), "lr")

    def _reset(self) -> None:
        self.g_prev: np.ndarray | None = None  # g_{k−1}; none before the first step

    def _step(self, obs: Any, reward: Any, k: int) -> np.ndarray:
        g = self._own_gradient(obs)
        g_prev = g if self.g_prev is None else self.g_prev
        self.g_prev = g
        return optimistic_step(self.x, g, g_prev, self.lr(k))
