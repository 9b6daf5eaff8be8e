"""Simultaneous gradient play — the "Nash dynamics" (Fiez et al., §2.2, §4; eq. 7 for the follower).

Each player descends its own individual gradient, treating the others as fixed:

    x_{i,k+1} = x_{i,k} − γ_{i,k} (∇_i f_i(x_k) + w_{i,k+1})          (eq. 7; ω = (∇_1 f_1, ∇_2 f_2))

The limiting ODE is ``ẋ = −ω(x)``; stable differential Nash equilibria (``spec J ⊂ ℂ°₊``) attract it, as do
non-Nash attractors (the "spurious" points of Prop. 3). Paper step sizes: duopoly ``γ = 1/k``, torus
``γ = 1/√k`` for both players. As the follower of a two-timescale Stackelberg pair it is eq. (7) with
``γ_2`` decaying more slowly than the leader's ``γ_1`` (duopoly ``1/k^{2/3}``, torus ``1/√k``).

Feedback: ``gradient`` (any player), ``hierarchical`` (bottom player: its total derivative is its own
gradient) or ``second_order`` (own block of ``∇_x f_i``).

Blocks: the update is coordinatewise, so one learner may hold all followers of a level (``bind(game,
[follower_0, ...])``, see ``agents.base``): one ``(B, N)`` array step per step instead of N learners.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.base import Learner
from agents.schedules import PowerSchedule, Schedule, as_schedule


def gradient_step(x: np.ndarray, grad_i: np.ndarray, gamma: float) -> np.ndarray:
    """Eq. (7): ``x_i − γ (∇_i f_i + w)``; shapes ``(B, d_i)``."""
    return x - gamma * grad_i


class GradientPlay(Learner):
    """Individual gradient descent ``x_i ← x_i − γ_k ∇_i f_i`` (the Nash dynamics).

    Args:
        lr: step sizes ``γ_{i,k}`` (default ``1/k``, the paper's duopoly choice).
    """

    name = "gradient"
    roles = frozenset({"leader", "follower"})
    needs = "gradient"
    block = True

    def __init__(self, lr: Schedule | float | None = None):
        super().__init__()
        self.lr = as_schedule(lr if lr is not None else PowerSchedule(1.0, 1.0), "lr")

    def _step(self, obs: Any, reward: Any, k: int) -> np.ndarray:
        return gradient_step(self.x, self._own_gradient(obs), self.lr(k))
