"""Staggered K-level chains (Fiez et al., App. C.1): K learners on K timescales.

Level j (0 = top) differentiates through the responses of *all* levels below it, each defined implicitly
by its own total-derivative stationarity condition (``ω_S`` of the game, eq. 1 applied bottom-up):

    x_{j,k+1} = x_{j,k} − γ_{j,k} (Df_j(x_k) + w_{j,k+1}),      γ_{j,k} = o(γ_{j+1,k})       (App. C.1, (17)–(18))

so level j+1 learns faster than level j and the bottom level runs plain gradient play. The default
schedules are ``γ_{j,k} = a / k^{p_j}`` with ``p_j`` spaced evenly from 1 (top) down to 0.6 (bottom): all
satisfy Robbins–Monro (``1/2 < p ≤ 1``) and each ratio ``γ_j/γ_{j+1} = k^{-(p_j − p_{j+1})} → 0``. For K = 2
this is ``1/k`` over ``1/k^{0.6}``; for K = 3, ``1/k``, ``1/k^{0.8}``, ``1/k^{0.6}``.

Feedback: ``hierarchical`` (the env supplies each ``Df_j``) or ``second_order`` (``Df_j`` from the blocks of
the stacked lower-level Stackelberg fields, as for :class:`~agents.hierarchical.HierarchicalLeader`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from agents.base import Learner
from agents.hierarchical import BLOCK_AVERAGE, HierarchicalLeader, Safeguard
from agents.schedules import PowerSchedule, Schedule, check_timescale_separation
from stackenv.games.base import Game


def chain_schedules(
    num_levels: int, a: float | Sequence[float] = 1.0, p_top: float = 1.0, p_bottom: float = 0.6
) -> list[PowerSchedule]:
    """``γ_{j,k} = a_j / k^{p_j}``, ``p_j`` evenly spaced from ``p_top`` (level 0) to ``p_bottom`` (level K−1).

    Args:
        num_levels: K.
        a: one scale for every level or one per level. With ``γ = a/k^p`` the error decays like ``k^{−p/2}``
            only if ``a·λ_j > 1/2`` when ``p = 1`` (``λ_j``: the curvature of level j's reduced cost at the
            equilibrium); in a Cournot chain ``λ_j = 2^{j+2−K}``, so the top level of a 3-chain needs ``a ≥ 1``,
            better 2.
        p_top, p_bottom: decay powers of the top and bottom levels (``1/2 < p_bottom < p_top ≤ 1``).
    """
    if int(num_levels) != num_levels or num_levels < 1:
        raise ValueError(f"num_levels must be a positive integer, got {num_levels!r}")
    K = int(num_levels)
    scales = [float(a)] * K if np.ndim(a) == 0 else [float(v) for v in a]
    if len(scales) != K:
        raise ValueError(f"need one scale per level ({K}), got {len(scales)}")
    if K == 1:
        return [PowerSchedule(scales[0], p_top)]
    if not (0.5 < p_bottom < p_top <= 1.0):
        raise ValueError(f"need 1/2 < p_bottom < p_top <= 1, got p_top={p_top}, p_bottom={p_bottom}")
    return [PowerSchedule(scales[j], p_top - (p_top - p_bottom) * j / (K - 1)) for j in range(K)]


class ChainLearner(HierarchicalLeader):
    """Total-derivative descent at any level of a chain (App. C.1), with a per-level default timescale.

    Args:
        lr: step sizes; default ``chain_schedules(K)[level]`` chosen when bound to a player.
        safeguard, floor, block_average: for ``second_order`` feedback, as in
            :class:`~agents.hierarchical.HierarchicalLeader`.
    """

    name = "chain"
    roles = frozenset({"leader", "follower"})
    needs = "total_derivative"

    def __init__(
        self,
        lr: Schedule | float | None = None,
        safeguard: Safeguard = "levenberg",
        floor: float = 1e-3,
        block_average: Schedule | float | None = BLOCK_AVERAGE,
    ):
        super().__init__(lr, safeguard, floor, block_average)
        self._lr_given = lr

    def _bind(self) -> None:
        if self._lr_given is None:
            self.lr = chain_schedules(len(self.game.levels))[self.level]


def chain_learners(game: Game, schedules: list[Schedule] | None = None) -> dict[str, Learner]:
    """A :class:`ChainLearner` for every player, level j using ``schedules[j]`` (default
    :func:`chain_schedules`); warns if consecutive levels lack timescale separation."""
    K = len(game.levels)
    schedules = chain_schedules(K) if schedules is None else list(schedules)
    if len(schedules) != K:
        raise ValueError(f"{game.name} has {K} levels but {len(schedules)} schedules were given")
    for j in range(K - 1):
        check_timescale_separation(schedules[j], schedules[j + 1])
    return {game.agents[i]: ChainLearner(schedules[j]) for j, lv in enumerate(game.levels) for i in lv}
