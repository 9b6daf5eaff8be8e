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

Cost: ``H22`` and ``H21`` are used only through products, each one difference of the game's ``ω``
(:func:`stackenv.linalg.jvp`; exact for quadratic games), and ``H22⁻¹`` by GMRES — a few ``O(N)`` field
evaluations per step for the structured Cournot families (``I + 11ᵀ``: GMRES is exact in two iterations).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.base import Learner
from agents.schedules import PowerSchedule, Schedule, as_schedule
from stackenv.games.base import Game
from stackenv.linalg import batched_gmres, jvp

#: Default damping ``β_k = min(1, (10/k)^{0.6})``: full Newton steps for 10 steps, then Robbins–Monro decay.
DAMPING = PowerSchedule(10**0.6, 0.6)


def _field(game: Game, level: int):
    """The stacked stationarity field of the levels below ``level``: ``ω`` for one bottom level, else ``ω_S``."""
    return game.omega if level + 2 >= len(game.levels) else game.omega_S


def response_solve(
    game: Game, level: int, x: np.ndarray, rhs: np.ndarray, rtol: float = 1e-10, maxiter: int = 50
) -> tuple[np.ndarray, np.ndarray]:
    """``H22⁻¹ rhs`` for the levels below ``level`` at ``x`` (``rhs``: ``(B, m)`` over their coordinates), by GMRES
    with products through the game's field; returns ``(solution, converged)``."""
    below, field = game.below_coords[level], _field(game, level)

    def H22(u: np.ndarray) -> np.ndarray:
        z = np.zeros_like(x)
        z[:, below] = u
        return jvp(field, x, z, affine=game.quadratic)[:, below]

    s, ok, _ = batched_gmres(H22, rhs, rtol, maxiter)
    return s, ok


def response_direction(game: Game, level: int, x: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """``(B, d)``: ``Dr dx`` on the coordinates below ``level`` (zero elsewhere) — how the levels below move when
    ``x`` moves by ``dx`` (on level ``level``'s coordinates), ``Dr = −H22⁻¹ H21``."""
    below = game.below_coords[level]
    out = np.zeros_like(x)
    out[:, below] = -response_solve(game, level, x, jvp(_field(game, level), x, dx, affine=game.quadratic)[:, below])[0]
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
        if self.above_seen is None:
            self.above_seen = z[:, self.above].copy()
        dx = np.zeros_like(z)
        dx[:, self.above] = z[:, self.above] - self.above_seen
        rhs = np.zeros_like(self.x)
        if np.any(dx):
            rhs += jvp(_field(game, self.level - 1), z, dx, affine=game.quadratic)[:, self.slice]  # H21 Δx_a
        if self.g is not None:
            rhs += min(1.0, self.damping(self.k) if self.k else 1.0) * self.g  # β_k (ω_F + w)
        s, ok = response_solve(game, self.level - 1, z, rhs, self.rtol)
        self._count("gmres_unconverged", (~ok & self.active).sum())
        new = self.x - s
        good = np.isfinite(new).all(axis=-1) & self.active
        self.x = np.where(good[:, None], self.project(np.where(good[:, None], new, self.x)), self.x)
        self.above_seen = z[:, self.above]
        return self.x.copy()

    def _step(self, obs: Any, reward: Any, k: int) -> np.ndarray:
        self.g, self.k = self._own_gradient(obs), k  # the move happens in act, once the levels above commit
        return self.x
