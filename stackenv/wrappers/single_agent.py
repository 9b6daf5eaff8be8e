"""A single-agent Gymnasium view of one role of a stackenv PettingZoo env (for SB3 and friends).

``SingleAgentEnv(env, agent="leader", opponents={"follower": policy_or_learner})`` exposes ``agent`` as a
``gymnasium.Env`` while every other agent is played by its opponent:

- a *policy*: any callable ``policy(observation) -> action`` (the opponent's own observation);
- a *learner* (duck-typed on ``act`` and ``update``; the :class:`agents.base.Learner` interface): it is
  bound to the game if unbound (``bind(game, agent, feedback)``), reset at every ``reset`` with the
  initial joint action (``reset(x0, rng, obs)``), asked for its action with ``act(x_partial)`` — the joint
  action so far, ``(1, d)``, with this step's actions of the levels above filled in — and updated after
  every joint step with ``update(obs, reward, k)`` (batched with B = 1; its *feedback* observation, i.e.
  the simultaneous-play observation without the AEC env's ``above`` part). A learner whose ``update``
  takes two arguments gets ``update(obs, k)``.

Order of play. Over a parallel env, agents act level by level (top first) within each step, so a
responding opponent below the exposed agent sees its action; the env then plays the joint action.
Over an AEC env, the env's own leader-first order is used and the exposed agent observes its AEC
observation (with the actions committed above it).

``rescale_actions=True`` exposes ``Box(−1, 1)`` and maps linearly onto the agent's bounds.
The observation space is the agent's own (unbounded float32 ``Box`` for derivative feedback; a ``Dict``
in ``second_order`` mode — use SB3's ``MultiInputPolicy`` there).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import gymnasium
import numpy as np
from pettingzoo import AECEnv, ParallelEnv

from stackenv.wrappers.opponents import Opponents, exposed_action_space, rescale_action


def _batched(obs: Any) -> Any:
    if isinstance(obs, dict):
        return {k: np.asarray(v, dtype=float)[None] for k, v in obs.items()}
    return np.asarray(obs, dtype=float)[None]


class SingleAgentEnv(gymnasium.Env):
    """One role of a multi-agent stackenv env as a ``gymnasium.Env``.

    Args:
        env: a parallel env (``StackelbergParallelEnv`` or a versioned ``parallel_env()``) or an AEC env
            (``env()`` / ``raw_env()``).
        agent: the exposed agent.
        opponents: ``{agent_id: policy_or_learner}`` for every other agent.
        rescale_actions: expose actions in ``[−1, 1]`` (mapped linearly onto the agent's bounds).

    Raises:
        TypeError: ``env`` is neither a PettingZoo ``ParallelEnv`` nor an ``AECEnv``.
        ValueError: unknown agent, missing or unknown opponents, or an opponent that is neither callable
            nor a learner.
    """

    def __init__(
        self,
        env: ParallelEnv | AECEnv,
        agent: str,
        opponents: Mapping[str, Callable[[Any], Any] | Any],
        rescale_actions: bool = False,
    ):
        if isinstance(env, AECEnv):
            self._aec = True
        elif isinstance(env, ParallelEnv):
            self._aec = False
        else:
            raise TypeError(f"env must be a PettingZoo ParallelEnv or AECEnv, got {type(env).__name__}")
        self.env = env
        self._base = env.unwrapped
        self.possible_agents = list(env.possible_agents)
        self.game = game = getattr(self._base, "game", None)
        self._opponents = Opponents(self.possible_agents, agent, opponents, game, getattr(self._base, "feedback", None))
        self.agent = agent
        self.opponents = self._opponents.all
        # level order (top first) for acting within a parallel step
        self._order = (
            [self.possible_agents[i] for lv in game.levels for i in lv] if game is not None else self.possible_agents
        )
        self._box = env.action_space(agent)
        self.rescale_actions = bool(rescale_actions)
        self.action_space = exposed_action_space(self._box, self.rescale_actions)
        self.observation_space = env.observation_space(agent)
        self.render_mode = getattr(env, "render_mode", None)
        self.metadata = {
            "render_modes": list(env.metadata.get("render_modes", [])),
            "render_fps": env.metadata.get("render_fps", 10),
        }
        self._obs: dict[str, Any] = {}
        self._k = 0
        self._done = True

    # ------------------------------------------------------------------ helpers
    def _to_env(self, action: Any) -> np.ndarray:
        a = np.asarray(action, dtype=np.float64)
        if not np.all(np.isfinite(a)):  # before any opponent responds to it: the fault is this agent's
            raise ValueError(f"non-finite action for {self.agent!r} (the exposed agent): {a!r}")
        if self.rescale_actions:
            return rescale_action(a, self._box.low.astype(float), self._box.high.astype(float))
        return a

    def _x(self) -> np.ndarray:
        base = self._base
        x = base.x_committed if self._aec else base.x
        return np.asarray(x, dtype=float)

    def _opponent_action(self, name: str, obs: Any, x_partial: np.ndarray) -> Any:
        d = self.env.action_space(name).shape[0]
        shape = (1, d) if name in self._opponents.learners else (d,)  # a learner acts on a batch of one
        return self._opponents.act(name, obs, x_partial[None], shape).reshape(d)

    def _feedback(self, name: str) -> Any:
        """Opponent ``name``'s feedback observation as a batch of one."""
        return _batched(self._base.feedback_obs(name) if self._aec else self._obs[name])

    def _update_learners(self, rewards: Mapping[str, float]) -> None:
        self._opponents.update(self._feedback, lambda name: np.array([float(rewards[name])]), self._k)

    def _reset_learners(self) -> None:
        if self._opponents.learners:
            self._opponents.reset(self._x()[None], self.np_random, self._feedback)

    # ------------------------------------------------------------------ gymnasium API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._k = 0
        self._done = False
        if self._aec:
            self.env.reset(seed=seed, options=options)
            self._reset_learners()
            return self._advance()[0], self.env.infos[self.agent]
        self._obs, infos = self.env.reset(seed=seed, options=options)
        self._reset_learners()
        return self._obs[self.agent], infos[self.agent]

    def step(self, action: Any):
        if self._done:
            raise RuntimeError("step() called after the episode ended; call reset()")
        a = self._to_env(action)
        if self._aec:
            self._aec_step(a)
            obs, reward, terminated, truncated, info = self._advance()
        else:
            x = self._x()
            joint: dict[str, Any] = {}
            for name in self._order:
                if name == self.agent:
                    joint[name] = a
                else:
                    joint[name] = self._opponent_action(name, self._obs[name], x)
                sl = self.game.slices[self.possible_agents.index(name)] if self.game is not None else None
                if sl is not None:
                    x[sl] = np.asarray(joint[name], dtype=float).reshape(-1)
            self._obs, rewards, terms, truncs, infos = self.env.step(joint)
            self._k += 1
            self._update_learners(rewards)
            obs, reward = self._obs[self.agent], rewards[self.agent]
            terminated, truncated, info = terms[self.agent], truncs[self.agent], infos[self.agent]
        self._done = bool(terminated or truncated)
        return obs, float(reward), bool(terminated), bool(truncated), info

    def _aec_step(self, action: Any) -> None:
        t0 = self._base.num_steps
        self.env.step(action)
        if self._base.num_steps > t0:
            self._k += 1
            self._update_learners(self._base.rewards)

    def _advance(self):
        """Let opponents act until it is the exposed agent's turn (or it is done); return its ``last()``."""
        env = self.env
        while env.agents:
            cur = env.agent_selection
            if cur == self.agent:
                break
            if env.terminations[cur] or env.truncations[cur]:
                env.step(None)
                continue
            self._aec_step(self._opponent_action(cur, env.observe(cur), self._x()))
        return env.last()

    def render(self):
        return self.env.render()

    def close(self):
        self.env.close()
