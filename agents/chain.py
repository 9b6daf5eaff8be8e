"""Staggered K-level chains (Fiez et al., App. C.1): K learners on K timescales.

Level j (0 = top) differentiates through the responses of *all* levels below it, each defined implicitly
by its own total-derivative stationarity condition (``ω_S`` of the game, eq. 1 applied bottom-up):

    x_{j,k+1} = x_{j,k} − γ_{j,k} (Df_j(x_k) + w_{j,k+1}),      γ_{j,k} = o(γ_{j+1,k})       (App. C.1, (17)–(18))

so level j+1 learns faster than level j and the bottom level runs plain gradient play.

Default step sizes, from the game (:func:`game_schedules`; used by :func:`chain_learners` and by a
:class:`ChainLearner` built without ``lr``):

    γ_{j,k} = (a/μ_j) / (k + k0_j)^{p_j},    a = 4,   k0_j = a^{1/p_j} − 1,

- ``p_j`` spaced evenly from 1 (top) down to 0.6 (bottom) (:func:`chain_schedules`): all satisfy
  Robbins–Monro (``1/2 < p ≤ 1``) and every ratio ``γ_j/γ_{j+1} = k^{−(p_j − p_{j+1})} → 0`` (two timescales
  between every pair of levels).
- ``μ_j``: the curvature of level j's *reduced* cost ``x_j ↦ f_j(x_{≤j}, r(x_{≤j}))`` — the Schur complement of
  ``J_S`` (``game.reduced_hessian``), its largest eigenvalue. In units of ``1/μ_j`` every level sees the same
  problem: for the Cournot chain ``μ_j = 2^{j+2−K}``, so without the scaling the top of a 6-level chain moves
  at 1/16 of the bottom's rate and is still 10–35% away after 5000 steps.
- ``k0_j`` makes the first step a Newton step on the reduced cost (``γ_{j,1} μ_j = 1``) — larger first
  steps overshoot. ``a = 4``: a ``1/k`` schedule ``a/(μ k)`` forgets its start like ``k^{−a μ_eff/μ}`` and
  reaches the ``1/√k`` noise rate only if ``a μ_eff > 1/2``; while the levels below lag their response the
  effective curvature ``μ_eff`` is below ``μ``, and ``a = 4`` leaves the margin (measured: random chains of
  K ≤ 8 levels within 0.6% of the Stackelberg point after 5000 steps; see the tests).

Feedback: ``hierarchical`` (the env supplies each ``Df_j``) or ``second_order`` (``Df_j`` from the blocks of
the stacked lower-level Stackelberg fields, as for :class:`~agents.hierarchical.HierarchicalLeader`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from agents.base import Learner
from agents.hierarchical import BLOCK_AVERAGE, BlockAverage, Safeguard, check_safeguard, hierarchical_direction
from agents.schedules import PowerSchedule, Schedule, as_schedule, check_timescale_separation
from stackenv.games.base import Game

#: The default steps' scale in units of ``1/μ_j`` (module docstring).
CURVATURE_SCALE = 4.0


def level_curvatures(game: Game, x: np.ndarray | None = None) -> list[float]:
    """``μ_j`` per level: the largest eigenvalue of the (symmetric) reduced Hessian of the level's players at
    ``x`` (default: the centre of the domain); ``1.0`` where it is not positive (no convex reduced cost there)."""
    x = (game.low + game.high) / 2 if x is None else np.asarray(x, float)
    JS = game.jacobian_S(x)
    out = []
    for level in game.levels:
        mu = max(float(np.linalg.eigvalsh(game.reduced_hessian(i, JS))[-1]) for i in level)
        out.append(mu if mu > 0 else 1.0)
    return out


def game_schedules(game: Game, a: float = CURVATURE_SCALE) -> list[PowerSchedule]:
    """The default per-level schedules ``(a/μ_j)/(k + a^{1/p_j} − 1)^{p_j}`` (module docstring)."""
    exps = [s.p for s in chain_schedules(len(game.levels))]
    return [PowerSchedule(a / mu, p, a ** (1 / p) - 1) for mu, p in zip(level_curvatures(game), exps)]


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


class ChainLearner(Learner):
    """Total-derivative descent at any level of a chain (App. C.1), with a per-level default timescale.

    Args:
        lr: step sizes; default ``game_schedules(game)[level]`` chosen when bound to a player.
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
        super().__init__()
        self._lr_given = None if lr is None else as_schedule(lr, "lr")
        self.lr = self._lr_given
        check_safeguard(safeguard, floor)
        self.safeguard, self.floor = safeguard, float(floor)
        self.average = BlockAverage(block_average)

    def _bind(self) -> None:
        if self._lr_given is None:
            self.lr = game_schedules(self.game)[self.level]

    def _reset(self) -> None:
        self.average.reset()

    def direction(self, obs: Any, k: int | None = None) -> np.ndarray:
        """``Df_j`` ``(B, d_j)`` (see :func:`~agents.hierarchical.hierarchical_direction`)."""
        return hierarchical_direction(self, obs, k, self.average, self.safeguard, self.floor)

    def _step(self, obs: Any, reward: Any, k: int) -> np.ndarray:
        return self.x - self.lr(k) * self.direction(obs, k)


def chain_learners(game: Game, schedules: list[Schedule] | None = None) -> dict[str, Learner]:
    """A :class:`ChainLearner` for every player, level j using ``schedules[j]`` (default :func:`game_schedules`:
    scaled by the levels' reduced curvatures); warns if consecutive levels lack timescale separation."""
    K = len(game.levels)
    schedules = game_schedules(game) if schedules is None else list(schedules)
    if len(schedules) != K:
        raise ValueError(f"{game.name} has {K} levels but {len(schedules)} schedules were given")
    for j in range(K - 1):
        check_timescale_separation(schedules[j], schedules[j + 1])
    return {game.agents[i]: ChainLearner(schedules[j]) for j, lv in enumerate(game.levels) for i in lv}
