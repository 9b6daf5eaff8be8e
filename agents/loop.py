"""The state :func:`agents.play` keeps while it drives learners: units (learners, blocks), stops, records."""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.base import Learner, check_feedback, player_index
from agents.rng import BatchRNG
from agents.trajectory import Recorder, Trajectory
from stackenv.checks import rows_within
from stackenv.games.base import Game


def bind_units(game: Game, learners: dict[str, Learner], feedback: Any) -> list[Learner]:
    """Bind every learner to its agent — or, for an object given for several agents, to that block of
    agents — and return the distinct learners in level order (the order in which they act)."""
    if set(learners) != set(game.agents):
        raise ValueError(f"learners must cover exactly the agents {game.agents}, got {sorted(learners)}")
    held: dict[int, list[str]] = {}
    objs: dict[int, Learner] = {}
    for agent in game.agents:  # agent order: a block's agents come out in order
        learner = learners[agent]
        if not isinstance(learner, Learner):
            raise ValueError(f"learner for {agent!r} is not an agents.Learner: {learner!r}")
        held.setdefault(id(learner), []).append(agent)
        objs[id(learner)] = learner
    for key, agents in held.items():
        fb = feedback.get(agents[0]) if isinstance(feedback, dict) else feedback
        objs[key].bind(game, agents[0] if len(agents) == 1 else agents, check_feedback(fb) if fb is not None else None)
    return sorted(objs.values(), key=lambda lr: (lr.level, lr.slice.start))


class Loop:
    """State shared by the three env adapters: the learners (units), divergence bookkeeping, records."""

    def __init__(self, game, units, steps, record_every, diverge_norm, B, seed):
        self.game, self.units, self.steps = game, units, steps
        self.diverge_norm = diverge_norm
        self.stopped = np.zeros(B, bool)
        self.stop_step = np.full(B, -1)
        self.stop_reason: list[str | None] = [None] * B
        self.rec = Recorder(steps, record_every, B, game.d, game.n)
        self.seed = seed

    def observation(self, unit: Learner, obs: Any, rows: np.ndarray | None = None) -> Any:
        """``unit``'s observation: its agent's, or a block's stacked feedback (its slice of the env's ``(B, d)``
        feedback ``rows`` where given; else its agents' arrays side by side, or their own gradients)."""
        if len(unit.agents) == 1:
            return obs[unit.agent]
        if rows is not None:
            return rows[:, unit.slice]
        B = self.stopped.size
        if not isinstance(obs[unit.agents[0]], dict):
            return np.concatenate([np.asarray(obs[a], float).reshape(B, -1) for a in unit.agents], axis=1)
        grad = np.zeros((B, self.game.d))  # second_order: O(N·d), the small-N path
        for a in unit.agents:
            sl = self.game.slices[player_index(self.game, a)]
            grad[:, sl] = np.asarray(obs[a]["grad"], float).reshape(grad.shape)[:, sl]
        return {"grad": grad}

    def reset(self, x0: np.ndarray, obs: dict[str, Any], rows: np.ndarray | None = None) -> None:
        B = x0.shape[0]
        for unit in self.units:
            if self.seed is None:
                rng = np.random.default_rng()
            else:  # run b, player i: default_rng([seed + b, 0x5EED, i]) — independent of the batch's size
                rng = BatchRNG(range(int(self.seed), int(self.seed) + B), unit.i)
            unit.reset(x0[:, unit.slice], rng, self.observation(unit, obs, rows))
        self.last = x0.copy()
        self.rec.put(0, x0, self.game.costs(x0), None)

    def joint_action(self, k: int) -> np.ndarray:
        """Levels act top-down; non-finite or exploding runs are stopped and replay their last action."""
        joint = self.last.copy()
        for unit in self.units:
            joint[:, unit.slice] = unit.act(joint)
        bad = rows_within(joint, self.diverge_norm)  # None: every run inside (and finite)
        if bad is None:
            return joint
        nonfinite = ~np.all(np.isfinite(joint), axis=-1)
        self._stop(nonfinite, k, "non-finite joint action")
        self._stop(bad & ~nonfinite, k, f"joint action norm exceeded {self.diverge_norm:g}")
        return np.where(self.stopped[:, None], self.last, joint)

    def update(self, obs: Any, rewards: Any, k: int, rows: np.ndarray | None = None) -> None:
        """Every unit takes step k from its feedback (a block gets ``reward=None``)."""
        for unit in self.units:
            reward = rewards[unit.agent] if len(unit.agents) == 1 else None
            unit.update(self.observation(unit, obs, rows), reward, k)

    def after_step(self, k: int, played: np.ndarray, rewards: Any) -> None:
        for unit in self.units:
            if unit.active.all():
                continue
            new = ~unit.active & ~self.stopped
            for b in np.flatnonzero(new):
                self._stop_one(b, k, unit.stop_reason[b] or f"{unit.agent}: stopped")
        if self.stopped.any():
            played = np.where(self.stopped[:, None], self.last, played)
        self.last = played
        if self.rec.wants(k):
            self.rec.put(k, played, self.game.costs(played), rewards)

    def env_stops(self, k: int, terminated: np.ndarray, infos: Any, agent: str) -> None:
        """Stop runs the env terminated (divergence or undefined feedback), with the env's reason."""
        if not terminated.any():
            return
        for b in np.flatnonzero(terminated & ~self.stopped):
            info = infos.get(agent, {}) if isinstance(infos, dict) else {}
            reason = info.get("termination_reason") if isinstance(info, dict) else None
            if isinstance(reason, list | tuple | np.ndarray):
                reason = reason[b]
            self._stop_one(b, k, f"env terminated: {reason or 'diverged'}")

    def _stop(self, mask: np.ndarray, k: int, reason: str) -> None:
        for b in np.flatnonzero(mask & ~self.stopped):
            self._stop_one(b, k, reason)

    def _stop_one(self, b: int, k: int, reason: str) -> None:
        self.stopped[b], self.stop_step[b], self.stop_reason[b] = True, k, f"step {k}: {reason}"
        for unit in self.units:
            unit.halt(np.array([b]), f"stopped at step {k}: {reason}")

    def result(self, feedback) -> Trajectory:
        r = self.rec
        diagnostics = {}
        for unit in self.units:
            counters = dict(unit.diagnostics)  # one dict, shared by a block's agents
            diagnostics.update(dict.fromkeys(unit.agents, counters))
        return Trajectory(
            agents=list(self.game.agents),
            feedback=feedback,
            steps=r.steps[: r.t],
            x=r.x[: r.t],
            costs=r.costs[: r.t],
            rewards=r.rewards[: r.t],
            x_final=self.last.copy(),
            stopped=self.stopped.copy(),
            stop_step=self.stop_step.copy(),
            stop_reason=list(self.stop_reason),
            diagnostics=diagnostics,
        )
