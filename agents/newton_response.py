"""Followers that respond: they move along their implicit response and take damped Newton steps (the default
followers of ``n_follower_learners``; a block rule, see ``agents.base``).

A level of followers whose stacked own gradients are ``ω_F(x_a, x_F)`` (``x_a``: the levels above) has the
Nash response ``r(x_a)``, ``ω_F(x_a, r(x_a)) = 0``, with derivative ``Dr = −H22⁻¹ H21`` (implicit function
theorem; ``H22 = ∂ω_F/∂x_F``, ``H21 = ∂ω_F/∂x_a``). The followers observe the levels above commit (the
Stackelberg information structure: ``act`` sees this step's actions above) and update

    x_F ← x_F + Dr Δx_a − β_k H22⁻¹ (ω_F + w) = x_F − H22⁻¹ (H21 Δx_a + β_k (ω_F + w))

with ``Δx_a`` the move of the levels above since the feedback ``ω_F + w`` was observed. For a quadratic game the
first term tracks the leader's move exactly and the error to the response contracts by ``1 − β_k`` per step,
whatever the conditioning of ``H22`` (the Cournot followers' ``I + 11ᵀ`` has condition number ``N + 1``, which
costs simultaneous gradient play ``O(N)`` steps); with ``β_k → 0`` (default ``min(1, (10/k)^{0.6})``,
Robbins–Monro) the noise averages out. Fixed points are those of gradient play (``ω_F = 0``): the followers'
Nash response.

Cost: ``H22`` and ``H21`` are used only through products with the Jacobian of the stacked field — the game's
``jacobian_product`` for one bottom level (differences of ``ω``, exact for quadratic games, or the family's closed
form: ``(I + 11ᵀ) u`` for the Cournot followers), differences of ``ω_S`` (:func:`stackenv.linalg.jvp`) for a
chain — and ``H22⁻¹`` by GMRES: a few ``O(N)`` passes per step for the structured Cournot families (GMRES is
exact in two iterations on ``I + 11ᵀ``) — or the family's closed-form solve (``game.lower_solve``: the oligopoly's
Sherman–Morrison, the LQ followers' Woodbury).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.base import Learner
from agents.schedules import PowerSchedule, Schedule, as_schedule
from stackenv.games.base import Game
from stackenv.games.responses import below_slice, lower_product

#: Default damping ``β_k = min(1, (10/k)^{0.6})``: full Newton steps for 10 steps, then Robbins–Monro decay.
DAMPING = PowerSchedule(10**0.6, 0.6)


def response_direction(game: Game, level: int, x: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """``(B, d)``: ``Dr dx`` on the coordinates below ``level`` (zero elsewhere) — how the levels below move when
    ``x`` moves by ``dx`` (on level ``level``'s coordinates), ``Dr = −H22⁻¹ H21``."""
    below = below_slice(game, level)
    out = np.zeros_like(x)
    out[:, below] = -game.lower_solve(x, level, lower_product(game, level)(x, dx)[:, below])[0]
    return out


class NewtonResponse(Learner):
    """Followers tracking their implicit response with damped Newton steps (module docstring).

    Args:
        damping: ``β_k`` (values above 1 are capped at 1, a full Newton step); default :data:`DAMPING`.
        rtol: GMRES tolerance of the ``H22`` solve.
    """

    name = "newton_response"
    roles = frozenset({"follower"})
    needs = "gradient"
    responds = True
    block = True

    def __init__(self, damping: Schedule | float | None = None, rtol: float = 1e-10):
        super().__init__()
        self.damping = as_schedule(damping if damping is not None else DAMPING, "damping")
        if not (0 < rtol < 1):
            raise ValueError(f"rtol must lie in (0, 1), got {rtol}")
        self.rtol = float(rtol)

    def _bind(self) -> None:
        if self.game.below_coords[self.level].size:
            raise ValueError(f"{self.name} plays a bottom level; {self.agent!r} of {self.game.name} has levels below")
        self.above = np.concatenate([np.zeros(0, int), *self.game.level_coords[: self.level]])

    def _reset(self) -> None:
        self.g = None if self.last_obs is None else self._own_gradient(self.last_obs)  # ω_F at x0, if given
        self.k = 0
        self.above_seen: np.ndarray | None = None  # x_a where g was observed

    def act(self, x: np.ndarray | None = None) -> np.ndarray:
        game = self._require_bound()
        if x is None:
            raise ValueError(f"{self.name} on {self.agent!r} needs the joint action of the levels above (act(x))")
        z = np.array(x, dtype=float).reshape(self.num_runs, game.d)
        z[:, self.slice] = self.x
        above = z[:, self.above]
        if self.above_seen is None:
            self.above_seen = above
        if self.g is None:
            rhs = np.zeros_like(self.x)
        else:
            rhs = min(1.0, self.damping(self.k) if self.k else 1.0) * self.g  # β_k (ω_F + w)
        moved = above - self.above_seen
        if np.any(moved):
            dx = np.zeros_like(z)
            dx[:, self.above] = moved
            rhs += lower_product(game, self.level - 1)(z, dx)[:, self.slice]  # H21 Δx_a
        s, ok = game.lower_solve(z, self.level - 1, rhs, self.rtol)
        self._count("gmres_unconverged", (~ok & self.active).sum())
        new = np.subtract(self.x, s, out=s)
        good = np.isfinite(new).all(axis=-1) & self.active
        if good.all():
            self.x = self.project(new)
        else:  # non-finite or frozen runs keep their action
            self.x = np.where(good[:, None], self.project(np.where(good[:, None], new, self.x)), self.x)
        self.above_seen = above
        return self.x.copy()

    def _step(self, obs: Any, reward: Any, k: int) -> np.ndarray:
        self.g, self.k = self._own_gradient(obs), k  # the move happens in act, once the levels above commit
        return self.x
