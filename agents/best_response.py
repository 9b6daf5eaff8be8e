"""Exact best-response follower — the reference opponent of Fiez et al. §3.1 (``x_{2,k} = r(x_{1,k})``).

At every step the follower plays ``r(x_1)``, the local response defined by ``∇_2 f_2(x_1, r(x_1)) = 0`` with
``∇²_22 f_2 ≻ 0``, to the actions of the levels above it *in that step* (it moves after them, as in the
leader-first AEC env; in a simultaneous env the play loop hands it the leaders' current actions). It is
computed by the game (``game.response``: Newton's method on the lower levels' stationarity conditions,
exact in one step for quadratic games), started from the follower's previous action, so on games with
several local responses (the torus) it tracks the branch it is on. Where Newton's method fails or lands
on a non-minimum, the run is retried from a grid of starting points and the lowest-cost local minimum
is taken (counted in ``diagnostics["restarts"]``). The result is projected onto the domain.

Against it the leader's reward is ``−f_1(x_1, r(x_1))``, so any leader rule then learns the Stackelberg
objective (Prop. 5). Feedback: none needed (any mode); the rule learns nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.base import Learner


class BestResponse(Learner):
    """Plays the exact local best response ``r(x_above)`` from the game (no learning).

    Args:
        restarts: grid points per coordinate for the fallback when Newton's method fails.
    """

    name = "best_response"
    roles = frozenset({"follower"})
    needs = "action"
    responds = True

    def __init__(self, restarts: int = 8):
        super().__init__()
        if int(restarts) != restarts or restarts < 1:
            raise ValueError(f"restarts must be a positive integer, got {restarts!r}")
        self.restarts = int(restarts)

    def act(self, x: np.ndarray | None = None) -> np.ndarray:
        game = self._require_bound()
        if x is None:
            raise ValueError(f"{self.name} on {self.agent!r} needs the joint action of the levels above (act(x))")
        x = np.array(x, dtype=float).reshape(self.num_runs, game.d)
        x[:, self.slice] = self.x  # start Newton from the previous response
        live = self.active.copy()
        out = self.x.copy()
        if live.any():
            out[live] = self._respond(x[live])
        self.x = self.project(out)
        return self.x.copy()

    def _respond(self, x: np.ndarray) -> np.ndarray:
        game = self.game
        k = self.level - 1
        try:
            return game.response(x, k)[:, self.slice]
        except ValueError:
            pass
        out = np.empty((x.shape[0], self.dim))
        below = game.below_coords[k]
        grid = np.linspace(0.0, 1.0, self.restarts + 2)[1:-1]
        starts = game.low[below] + grid[:, None] * (game.high[below] - game.low[below])
        for b in range(x.shape[0]):
            best, best_cost = None, np.inf
            try:
                cand = game.response(x[b : b + 1], k)
                best, best_cost = cand, game.costs(cand)[0, self.i]
            except ValueError:
                pass
            for s in starts:
                trial = x[b : b + 1].copy()
                trial[:, below] = s
                try:
                    cand = game.response(trial, k)
                except ValueError:
                    continue
                c = game.costs(cand)[0, self.i]
                if c < best_cost:
                    best, best_cost = cand, c
            if best is None:
                raise ValueError(f"{self.name} on {self.agent!r}: no local best response found at {x[b]}")
            out[b] = best[0, self.slice]
            self._count("restarts", 1)
        return out

    def _step(self, obs: Any, reward: Any, k: int) -> np.ndarray:
        return self.x
