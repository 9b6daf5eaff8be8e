"""Extragradient (Korpelevich 1976) — step from x_k with the gradient at a trial step.

Korpelevich (1976), "The extragradient method for finding saddle points and other problems", Ekonomika i
Matematicheskie Metody 12(4); stochastic form: Juditsky, Nemirovski & Tauvel (2011), "Solving variational
inequalities with stochastic mirror-prox algorithm", Stoch. Syst. 1(1), eq. (3.1). Each player, on its own
gradient ``g_i = ∇_i f_i + w``:

    x_{t+½} = x_t − γ_t g_i(x_t)          (extrapolation: the trial point is *played*)
    x_{t+1} = x_t − γ_t g_i(x_{t+½})      (update from x_t with the gradient at the trial point)

One extragradient iteration t takes two environment steps k = 2t − 1 (extrapolation) and k = 2t (update), both
with ``γ_t``, ``t = ⌈k/2⌉``; the iterate after an odd step is the trial point. Needs only the own gradient,
so it plays any seat under ``gradient`` feedback; it is the classical extragradient method when every player
uses it (the players' trial points are then the joint trial point). Rest points are those of gradient play
(``ω = 0``). On ``f = x_1 x_2`` (``ω = J x``, ``J = [[0, 1], [−1, 0]]``, ``J² = −I``) a constant step γ gives
``x_{t+1} = (I − γJ + γ²J²) x_t = ((1 − γ²) I − γJ) x_t``, eigenvalues ``1 − γ² ∓ iγ`` of modulus
``√(1 − γ² + γ⁴) < 1`` for ``0 < γ < 1``: convergence, where gradient play's ``|1 ∓ iγ| > 1`` spirals out.

Two step sizes. ``extrapolation`` (default ``None``: the same ``γ_t``) sets the trial step apart from the
update step (Hsieh, Iutzeler, Malick & Mertikopoulos 2020, "Explore aggressively, update conservatively",
NeurIPS): with trial step ``δ`` and update step ``γ_t`` the bilinear iteration is ``((1 − γ_t δ) I − γ_t J) x``,
damping ``γ_t δ`` per iteration. With ``δ = γ_t`` that is second order in a decaying step — too weak to average
gradient noise out when ``Σγ_t² < ∞`` — and first order with a fixed ``δ``.

Defaults: ``lr`` ``1/t`` (as gradient play, counted in extragradient iterations); ``extrapolation`` ``None``.
Feedback (as :class:`~agents.gradient.GradientPlay`): ``gradient``, ``hierarchical`` (bottom player) or
``second_order`` (own block of ``∇_x f_i``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.base import Learner
from agents.schedules import PowerSchedule, Schedule, as_schedule


class Extragradient(Learner):
    """Extragradient on the own gradient: a played trial step, then the update from the anchor ``x_t``.

    Args:
        lr: step sizes ``γ_t`` per extragradient iteration (number or schedule; default ``1/t``).
        extrapolation: trial steps ``δ_t`` (number or schedule; ``None``: ``γ_t``).
    """

    name = "extragradient"
    roles = frozenset({"leader", "follower"})
    needs = "gradient"

    def __init__(self, lr: Schedule | float | None = None, extrapolation: Schedule | float | None = None):
        super().__init__()
        self.lr = as_schedule(lr if lr is not None else PowerSchedule(1.0, 1.0), "lr")
        self.extrapolation = None if extrapolation is None else as_schedule(extrapolation, "extrapolation")

    def _reset(self) -> None:
        self.anchor: np.ndarray | None = None  # x_t while the trial point x_{t+½} is being played

    def _step(self, obs: Any, reward: Any, k: int) -> np.ndarray:
        g = self._own_gradient(obs)
        t = (k + 1) // 2
        if self.anchor is None:  # odd k: extrapolation from x_t (the point just played)
            self.anchor = self.x.copy()
            return self.x - (self.lr if self.extrapolation is None else self.extrapolation)(t) * g
        anchor, self.anchor = self.anchor, None
        return anchor - self.lr(t) * g
