"""LOLA — learning with opponent-learning awareness (Foerster et al. 2018), as written in Fiez et al. §2.2.2.

The leader differentiates through one anticipated *gradient step* of the follower,
``x_2' = x_2 − η ∇_2 f_2(x)``, to first order:

    x_1⁺ = x_1 − γ_1 (∇_1 f_1(x) − η H21(x)ᵀ ∇_2 f_1(x))            (§2.2.2, with η = the follower's γ_2)
    x_2⁺ = x_2 − γ_2 ∇_2 f_2(x)                                      (the follower: gradient play)

with ``H21 = ∂(∇_2 f_2)/∂x_1``. Here ``η`` (``lookahead``) is the leader's model of the follower's step;
it is a schedule so it may equal the follower's ``γ_{2,k}``. The Newton variant replaces ``η`` by
``H22⁻¹`` (a Newton step for the follower) and recovers the total derivative ``Df_1`` of eq. (1), so its
critical points are the Stackelberg points (``LOLANewton``; same safeguard as the hierarchical leader).

Where LOLA lands. Its fixed points solve the *LOLA field*

    ∇_1 f_1(x) − η H21(x)ᵀ ∇_2 f_1(x) = 0,    ∇_2 f_2(x) = 0

— neither Nash (η = 0) nor Stackelberg (η = H22⁻¹) in general. For the duopoly (``H21 = 1``, ``H22 = 2``,
``∇_2 f_1 = q_1``; ``a_i = A − c_i``) the first condition reads ``(2 − η) q_1 + q_2 = a_1`` and the follower's
``q_2 = (a_2 − q_1)/2``, so

    q_1* = (2 a_1 − a_2) / (3 − 2η) = (A + c_2 − 2 c_1) / (3 − 2η),    q_2* = (A − c_2 − q_1*) / 2,

which moves from Nash (η = 0: (30.67, 33.67)) to Stackelberg (η = 1/2 = H22⁻¹: (46, 26)); e.g. η = 0.25
gives (36.8, 30.6). With a decaying lookahead ``η_k → 0`` the LOLA term vanishes and the iterates go to
the Nash point.

Stable only for ``η < 3/2``, not ``η < 2``. The LOLA field is affine with Jacobian ``M = [[2 − η, 1], [1, 2]]``:
``det M = 2(2 − η) − 1 = 3 − 2η`` and ``tr M = 4 − η``. ``M`` is symmetric, so its eigenvalues are real, and both
are positive (the fixed point attracts ``ẋ = −F(x)`` and small-step play) iff ``det M > 0`` and ``tr M > 0``, i.e.
``η < 3/2``; at ``η = 3/2`` the fixed point leaves to infinity (``q_1*`` has ``3 − 2η`` in its denominator) and
for ``3/2 < η`` it is a saddle (η = 1.6: eigenvalues −0.081 and 2.481). The leader's own curvature ``2 − η``
is not the test: with the follower at its response ``q_2 = (a_2 − q_1)/2`` the leader's reduced field has
slope ``2 − η − 1/2 = (3 − 2η)/2``, the same bound on two timescales.

Feedback: ``second_order`` (own ``∇_x f_1`` and the follower's ``H21``; ``H22`` for the Newton variant).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.base import Learner
from agents.hierarchical import BLOCK_AVERAGE, BlockAverage, HierarchicalLeader, Safeguard, second_order_blocks
from agents.schedules import PowerSchedule, Schedule, as_schedule
from stackenv.games.base import Game


def lola_direction(grad_own: np.ndarray, grad_below: np.ndarray, H21: np.ndarray, eta: float) -> np.ndarray:
    """``∇_1 f_1 − η H21ᵀ ∇_2 f_1`` (§2.2.2); shapes (..., d_1), (..., m), (..., m, d_1) → (..., d_1)."""
    return grad_own - eta * np.einsum("...mo,...m->...o", H21, grad_below)


def lola_field(game: Game, x: np.ndarray, eta: float, leader: int = 0) -> np.ndarray:
    """The vector field whose zeros are LOLA's fixed points: ω with the leader's entry replaced by
    ``∇_1 f_1 − η H21ᵀ ∇_2 f_1``; ``x`` of shape ``(..., d)``. Uses only the game interface."""
    x = game.check_x(x)
    level = game.level_of[leader]
    below, own = game.below_coords[level], game.slices[leader]
    _, H21 = game.response_blocks(x, level)
    g = game.grad(leader, x)
    F = game.omega(x).copy()
    F[..., own] = lola_direction(g[..., own], g[..., below], H21, eta)
    return F


def lola_fixed_point(game: Game, eta: float, leader: int = 0) -> np.ndarray:
    """The zero of :func:`lola_field` (where LOLA with constant lookahead ``η`` lands) for a quadratic game.

    The field is affine there, ``F(x) = F(0) + M x`` with ``M e_j = F(e_j) − F(0)``: one linear solve.
    Raises ``ValueError`` for non-quadratic games (use a root finder on :func:`lola_field`) or a singular ``M``.
    """
    if not game.quadratic:
        raise ValueError(f"{game.name}: lola_fixed_point needs a quadratic game (affine LOLA field)")
    F0 = lola_field(game, np.zeros(game.d), eta, leader)
    M = np.stack([lola_field(game, e, eta, leader) - F0 for e in np.eye(game.d)], axis=-1)
    try:
        return np.linalg.solve(M, -F0)
    except np.linalg.LinAlgError:
        raise ValueError(f"{game.name}: the LOLA field with η={eta:g} has no unique zero") from None


class LOLA(Learner):
    """LOLA leader (§2.2.2): ``x_1 ← x_1 − γ_{1,k}(∇_1 f_1 − η_k H21ᵀ ∇_2 f_1)``.

    Args:
        lr: leader step sizes ``γ_{1,k}`` (default ``1/k``).
        lookahead: ``η_k``, the follower step the leader anticipates (default constant 0.1, the constant-step
            setting of Foerster et al.; pass the follower's schedule to couple them).
        block_average: running-average steps for the noisy ``H21`` (as for the hierarchical leader; LOLA's
            direction is linear in ``H21``, so averaging only lowers its variance).
    """

    name = "lola"
    roles = frozenset({"leader"})
    needs = "second_order"

    def __init__(
        self,
        lr: Schedule | float | None = None,
        lookahead: Schedule | float = 0.1,
        block_average: Schedule | float | None = BLOCK_AVERAGE,
    ):
        super().__init__()
        self.lr = as_schedule(lr if lr is not None else PowerSchedule(1.0, 1.0), "lr")
        self.lookahead = as_schedule(lookahead, "lookahead")
        self.average = BlockAverage(block_average)

    def _reset(self) -> None:
        self.average.reset()

    def direction(self, obs: Any, k: int | None = None) -> np.ndarray:
        """``∇_1 f_1 − η_k H21ᵀ ∇_2 f_1`` (``η`` at k, or at 1 when k is not given)."""
        if not isinstance(obs, dict):
            raise ValueError(f"{self.name} on {self.agent!r} needs second_order feedback (a dict), got {type(obs)}")
        g1, g2, _, H21 = second_order_blocks(self, obs)
        (H21,) = self.average((H21,), k, self.active)
        return lola_direction(g1, g2, H21, self.lookahead(1 if k is None else k))

    def _step(self, obs: Any, reward: Any, k: int) -> np.ndarray:
        return self.x - self.lr(k) * self.direction(obs, k)


def LOLANewton(  # noqa: N802  (a public name since v0: the registry alias "lola_newton")
    lr: Schedule | float | None = None,
    safeguard: Safeguard = "levenberg",
    floor: float = 1e-3,
    block_average: Schedule | float | None = BLOCK_AVERAGE,
) -> HierarchicalLeader:
    """LOLA with the follower's Newton step ``H22⁻¹`` in place of ``η`` (§2.2.2): exactly the hierarchical leader
    computing ``Df_1`` of eq. (1) itself from ``second_order`` feedback (critical points = Stackelberg points).
    Not a class of its own: a :class:`~agents.hierarchical.HierarchicalLeader` registered as ``lola_newton``
    that accepts only ``second_order`` feedback. Args as :class:`~agents.hierarchical.HierarchicalLeader`."""
    leader = HierarchicalLeader(lr, safeguard, floor, block_average)
    leader.name, leader.needs = "lola_newton", "second_order"
    return leader
