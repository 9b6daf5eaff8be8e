"""What :func:`agents.play` records: the :class:`Trajectory` and the recorder that fills it.

Memory. Only every ``record_every``-th step (and the last) is stored: ``(steps/record_every + 1)·B·(d + 2n)``
floats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stackenv.games.base import Game


@dataclass
class Trajectory:
    """What :func:`play` records.

    Attributes:
        agents: agent names, hierarchy order (leader first).
        feedback: the env's feedback mode.
        steps: ``(T,)`` step index of each record (0 = the initial joint action ``x_0``).
        x: ``(T, B, d)`` joint action played at each recorded step (``x[0]`` is ``x_0``).
        costs: ``(T, B, n)`` exact costs ``f_i`` at those joint actions (from the game).
        rewards: ``(T, B, n)`` rewards as observed (noisy in ``reward`` mode; NaN at step 0).
        x_final: ``(B, d)`` the last joint action played (for stopped runs: at the stop).
        stopped: ``(B,)`` runs stopped by divergence; ``stop_step`` ``(B,)`` (−1 if not) and ``stop_reason``.
        diagnostics: per agent, the learner's counters (e.g. ``regularised``).
    """

    agents: list[str]
    feedback: str | dict[str, str]
    steps: np.ndarray
    x: np.ndarray
    costs: np.ndarray
    rewards: np.ndarray
    x_final: np.ndarray
    stopped: np.ndarray
    stop_step: np.ndarray
    stop_reason: list[str | None]
    diagnostics: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def num_runs(self) -> int:
        return self.x_final.shape[0]

    def distance(self, game: Game, point: np.ndarray) -> np.ndarray:
        """``(B,)`` distance of each run's final joint action to ``point`` (geodesic on periodic coordinates)."""
        return game.distance(self.x_final, np.asarray(point, float))

    def nearest(self, game: Game, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each run, the index of the nearest of ``points`` ``(P, d)`` and the distance to it."""
        points = np.atleast_2d(np.asarray(points, float))
        dist = np.stack([game.distance(self.x_final, p) for p in points], axis=-1)
        return np.argmin(dist, axis=-1), np.min(dist, axis=-1)


class Recorder:
    """Preallocated records of every ``record_every``-th step (and the last) of a run of ``steps`` steps."""

    def __init__(self, steps: int, record_every: int, B: int, d: int, n: int):
        T = steps // record_every + 1 + (steps % record_every != 0)
        self.every, self.steps_total = record_every, steps
        self.steps = np.zeros(T, int)
        self.x = np.full((T, B, d), np.nan)
        self.costs = np.full((T, B, n), np.nan)
        self.rewards = np.full((T, B, n), np.nan)
        self.t = 0

    def wants(self, k: int) -> bool:
        return not (k % self.every and k != self.steps_total)

    def put(self, k: int, x: np.ndarray, costs: np.ndarray, rewards: Any) -> None:
        """Store step k; ``rewards`` may be an array, ``None`` or a zero-argument callable (built lazily)."""
        t = self.t
        self.steps[t], self.x[t], self.costs[t] = k, x, costs
        rewards = rewards() if callable(rewards) else rewards
        if rewards is not None:
            self.rewards[t] = rewards
        self.t += 1
