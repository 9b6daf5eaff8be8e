"""PettingZoo envs of the LQ dynamic game (:mod:`stackenv.games.lq`): state, controls, stage costs.

Unlike the static games' envs (one joint action repeated), an episode here is one play of the dynamic game:

- **State and time.** ``x_0 = x0``; after the stage-t controls ``x_{t+1} = A x_t + Σ_i B_i u_i + w_t``,
  ``w_t ~ N(0, W)`` from the generator seeded by ``reset(seed)``. The episode ends (``terminations``) after
  ``horizon`` stages.
- **Observations** (float32): ``(x_t, t/T)`` — the state and the stage as a fraction of the horizon (finite-horizon
  equilibria are time-varying, so ``t`` is part of the Markov state). In the leader-first AEC form each follower
  also sees the leader's current control: ``(x_t, t/T, u_0)`` — the feedback Stackelberg information structure.
- **Actions**: the control ``u_i ∈ [−bound, bound]^{m_i}`` (``Box`` float32). Non-finite actions raise
  ``ValueError`` naming the agent; out-of-box actions are clipped and flagged (``infos[agent]["clipped"]``).
- **Rewards**: ``−(x_tᵀQ_i x_t + Σ_j u_jᵀR_ij u_j)`` per stage (undiscounted), plus ``−x_TᵀQ_i^T x_T`` at the last
  stage, so an episode's return is minus the realised cost (with discount 1; a discount γ < 1 of the game is the
  learner's own discount and does not scale rewards).

Exact opponents: :func:`feedback_policy` plays a player's equilibrium gains ``u_i = −K_i[t] x_t`` from an
observation; :func:`stackelberg_follower` is the follower's exact stage answer ``u_F = −D_t(A x_t + B_0 u_0)``
to the leader's actual control (AEC observation).

Version history:
    v0: initial version.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv, ParallelEnv
from pettingzoo.utils import AgentSelector

from stackenv.games import lq_solve
from stackenv.games.lq import LQGame

F32_MAX = float(np.finfo(np.float32).max)


class LQDynamics:
    """The state machine both envs share: spaces, reset, clipping, one stage of the dynamics."""

    def __init__(self, game: LQGame, aec: bool):
        self.game, self.model = game, game.model
        mdl = self.model
        self.agents = mdl.names
        self.action_spaces = {
            a: spaces.Box(-game.bound, game.bound, shape=(m,), dtype=np.float32) for a, m in zip(self.agents, mdl.m)
        }
        extra = [mdl.m[0] if aec and i > 0 else 0 for i in range(mdl.N)]
        self.observation_spaces = {
            a: spaces.Box(-F32_MAX, F32_MAX, shape=(mdl.n + 1 + e,), dtype=np.float32)
            for a, e in zip(self.agents, extra)
        }
        vals, vecs = np.linalg.eigh(mdl.W)
        self.noise_root = vecs * np.sqrt(np.clip(vals, 0.0, None))  # L Lᵀ = W
        self.reset(None)

    def reset(self, seed: int | None) -> None:
        self.rng = np.random.default_rng(seed)
        self.x, self.t = self.model.x0.copy(), 0

    def observation(self, i: int, u0: np.ndarray | None = None) -> np.ndarray:
        obs = np.concatenate([self.x, [self.t / self.model.horizon], [] if u0 is None else u0])
        return np.clip(obs, -F32_MAX, F32_MAX).astype(np.float32)

    def control(self, agent: str, action: Any) -> tuple[np.ndarray, bool]:
        box = self.action_spaces[agent]
        try:
            u = np.asarray(action, dtype=float).reshape(box.shape)
        except (TypeError, ValueError):
            raise ValueError(f"lq: action of {agent!r} must be numeric of shape {box.shape}, got {action!r}") from None
        if not np.all(np.isfinite(u)):
            raise ValueError(f"lq: action of {agent!r} is not finite: {u}")
        clipped = np.clip(u, box.low, box.high)
        return clipped, bool(np.any(clipped != u))

    def advance(self, u: list[np.ndarray]) -> np.ndarray:
        """Play one stage with controls ``u``; returns the rewards ``−cost`` (terminal cost at the last stage)."""
        mdl = self.model
        costs = mdl.stage_costs(self.x, u)
        w = self.noise_root @ self.rng.standard_normal(mdl.n)
        self.x = mdl.step(self.x, u, w)
        self.t += 1
        if self.t == mdl.horizon:
            costs = costs + mdl.terminal_costs(self.x)
        return -costs

    @property
    def done(self) -> bool:
        return self.t >= self.model.horizon


class _LQSpaces:
    """What both forms share: the dynamics core, the agents and their spaces (built once in the core)."""

    metadata = {"name": "lq_v0", "render_modes": [], "is_parallelizable": True}

    def _build(self, render_mode: str | None, params: dict[str, Any], aec: bool) -> None:
        if render_mode is not None:
            raise ValueError(f"lq_v0 has no render modes, got render_mode={render_mode!r}")
        self.render_mode = None
        self.core = LQDynamics(LQGame(**params), aec=aec)
        self.possible_agents = list(self.core.agents)
        self.agents: list[str] = []

    def observation_space(self, agent):
        return self.core.observation_spaces[agent]

    def action_space(self, agent):
        return self.core.action_spaces[agent]


class LQParallelEnv(_LQSpaces, ParallelEnv):
    """Simultaneous play of an LQ game: every player observes ``(x_t, t/T)`` and chooses its control."""

    def __init__(self, render_mode: str | None = None, **params: Any):
        self._build(render_mode, params, aec=False)

    @property
    def x(self) -> np.ndarray:
        """The current state ``x_t``."""
        return self.core.x

    def reset(self, seed=None, options=None):
        self.core.reset(seed)
        self.agents = list(self.possible_agents)
        return {a: self.core.observation(i) for i, a in enumerate(self.agents)}, {a: {"t": 0} for a in self.agents}

    def step(self, actions):
        if not self.agents:
            raise RuntimeError("lq_v0: step() after the episode ended; call reset()")
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise ValueError(f"lq_v0: missing actions for {missing}")
        us, clipped = zip(*(self.core.control(a, actions[a]) for a in self.agents))
        rewards = self.core.advance(list(us))
        done = self.core.done
        agents = self.agents
        obs = {a: self.core.observation(i) for i, a in enumerate(agents)}
        infos = {a: {"t": self.core.t, "clipped": c} for a, c in zip(agents, clipped)}
        if done:
            self.agents = []
        return (
            obs,
            {a: float(r) for a, r in zip(agents, rewards)},
            {a: done for a in agents},
            {a: False for a in agents},
            infos,
        )


class LQAECEnv(_LQSpaces, AECEnv):
    """Leader-first play: the leader chooses ``u_0`` seeing ``(x_t, t/T)``; each follower sees ``(x_t, t/T, u_0)``."""

    def __init__(self, render_mode: str | None = None, **params: Any):
        super().__init__()
        self._build(render_mode, params, aec=True)

    @property
    def x_committed(self) -> np.ndarray:
        """The current state ``x_t`` (named as the static envs' committed action, for ``SingleAgentEnv``)."""
        return self.core.x

    @property
    def num_steps(self) -> int:
        """Stages played so far."""
        return self.core.t

    def observe(self, agent):
        i = self.possible_agents.index(agent)
        return self.core.observation(i, None if i == 0 else self._u.get(self.possible_agents[0], self._zero))

    def reset(self, seed=None, options=None):
        self.core.reset(seed)
        self.agents = list(self.possible_agents)
        self._u: dict[str, np.ndarray] = {}
        self._zero = np.zeros(self.core.model.m[0])
        self._clipped: dict[str, bool] = {}
        self.rewards = {a: 0.0 for a in self.agents}
        self._cumulative_rewards = {a: 0.0 for a in self.agents}
        self.terminations = {a: False for a in self.agents}
        self.truncations = {a: False for a in self.agents}
        self.infos = {a: {"t": 0} for a in self.agents}
        self._selector = AgentSelector(self.agents)
        self.agent_selection = self._selector.reset()

    def step(self, action):
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        self._cumulative_rewards[agent] = 0.0
        self._u[agent], self._clipped[agent] = self.core.control(agent, action)
        if self._selector.is_last():
            rewards = self.core.advance([self._u[a] for a in self.agents])
            self.rewards = {a: float(r) for a, r in zip(self.agents, rewards)}
            self.infos = {a: {"t": self.core.t, "clipped": self._clipped[a]} for a in self.agents}
            self._u = {}
            if self.core.done:
                self.terminations = {a: True for a in self.agents}
        else:
            self._clear_rewards()
        self.agent_selection = self._selector.next()
        self._accumulate_rewards()


# ---------------------------------------------------------------------------------------------- exact opponents
def _stage(obs: np.ndarray, n: int, T: int) -> int:
    return min(int(round(float(obs[n]) * T)), T - 1)


def feedback_policy(game: LQGame, solution: lq_solve.LQSolution, agent: str):
    """``policy(obs) = −K_i[t] x_t`` for ``agent``'s gains in ``solution`` (any observation of these envs)."""
    i, n, T = game.model.names.index(agent), game.model.n, game.model.horizon
    return lambda obs: -solution.gains[_stage(obs, n, T)][i] @ np.asarray(obs[:n], float)


def stackelberg_follower(game: LQGame, agent: str, solution: lq_solve.LQSolution | None = None):
    """The follower's exact answer ``−D_t(A x_t + B_0 u_0)`` (its block) to the leader's observed control (AEC).

    ``D_t`` uses the next-step values of ``solution`` (default: the feedback Stackelberg equilibrium).
    """
    mdl = game.model
    sol = solution if solution is not None else game.feedback_stackelberg()
    j = mdl.names.index(agent)
    if j == 0:
        raise ValueError("stackelberg_follower: the leader does not answer anyone; pass a follower")
    start = sum(mdl.m[1:j])
    D = [lq_solve.follower_response(mdl, sol.values[t + 1])[start : start + mdl.m[j]] for t in range(mdl.horizon)]
    n = mdl.n

    def policy(obs):
        obs = np.asarray(obs, float)
        return -D[_stage(obs, n, mdl.horizon)] @ (mdl.A @ obs[:n] + mdl.B[0] @ obs[n + 1 :])

    return policy
