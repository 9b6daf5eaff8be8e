"""One role of a batched env as a Gymnasium ``VectorEnv`` (for CleanRL-style loops): :class:`VectorSingleAgentEnv`;
:class:`~stackenv.wrappers.sb3_vec.SB3VecEnv` is the same as a stable-baselines3 ``VecEnv``.

``VectorSingleAgentEnv(batched_env, agent="leader", opponents={"follower": learner}, rescale_actions=True)``
exposes ``agent`` in the ``B`` copies of a :class:`~stackenv.envs.BatchedStackelbergEnv` at once, every
other agent played by its opponent on all copies in one call (see :mod:`stackenv.wrappers.opponents`):
a policy maps the ``(B, ...)`` observations to ``(B, d_i)`` actions, a learner holds ``(B, d_i)`` iterates.

Copy ``b`` behaves exactly as :class:`~stackenv.wrappers.SingleAgentEnv` over the PettingZoo *parallel*
env reset with ``seed + b`` (same numbers, bit for bit): the same level order of acting within a step (a
responding opponent below sees this step's action), float32 observations (the opponents see them too, as
float64), float64 rewards, ``[−1, 1]`` actions mapped by the same
:func:`~stackenv.wrappers.opponents.rescale_action`, learners reset every episode and updated with the
episode's step index. Learners draw from one generator for the batch (seeded like ``SingleAgentEnv``'s
with the first copy's seed), so randomised learners match ``SingleAgentEnv`` bit for bit at ``B = 1``
and in distribution otherwise.

Episodes. Copies run in step and are truncated together at the env's ``max_steps``; when a copy ends,
every copy is reset at once (``reset()`` without a seed continues the streams, as the PettingZoo env's
does), the last observations go to ``infos["final_obs"]`` and the step's infos to ``infos["final_info"]``
(Gymnasium's ``SAME_STEP`` autoreset). A copy the env *terminates* (divergence, undefined feedback) thus
ends the episode of every copy: the others are reported truncated — the one place copies differ from
independent ``SingleAgentEnv`` s, which reset one at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from stackenv.envs.batched import BatchedStackelbergEnv
from stackenv.wrappers.opponents import Opponents, exposed_action_space, rescale_action


def _as_float32(obs: Any) -> Any:
    """A fresh float32 copy of an observation (array or dict of arrays), as the PettingZoo env hands out."""
    if isinstance(obs, dict):
        return {k: np.array(v, np.float32) for k, v in obs.items()}
    return np.array(obs, np.float32)


def _as_float64(obs: Any) -> Any:
    if isinstance(obs, dict):
        return {k: v.astype(np.float64) for k, v in obs.items()}
    return obs.astype(np.float64)


def _copy_of(obs: Any, b: int) -> Any:
    """Copy ``b``'s observation of a batched one."""
    if isinstance(obs, dict):
        return {k: v[b] for k, v in obs.items()}
    return obs[b]


class VectorSingleAgentEnv(VectorEnv):
    """One role of a :class:`~stackenv.envs.BatchedStackelbergEnv` as a Gymnasium ``VectorEnv``.

    Args:
        env: the batched env (its ``num_envs`` copies are the vector env's).
        agent: the exposed agent.
        opponents: ``{agent_id: policy_or_learner}`` for every other agent, acting on all copies at once.
        rescale_actions: expose actions in ``[−1, 1]`` (mapped linearly onto the agent's bounds).

    ``step(actions)`` takes ``(B, d_agent)`` actions and returns ``obs`` (``(B, ...)`` float32, or a dict),
    ``rewards`` ``(B,)`` float64, ``terminations``/``truncations`` ``(B,)`` bool and ``infos`` (Gymnasium's
    dict of arrays: ``out_of_bounds`` ``(B,)``; see the module docstring for autoreset).

    Raises:
        TypeError: ``env`` is not a ``BatchedStackelbergEnv``.
        ValueError: unknown agent, missing or unknown opponents, or an opponent that is neither a policy nor
            a learner; at ``step``, actions of the wrong shape or an opponent's bad action.
    """

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}

    def __init__(
        self,
        env: BatchedStackelbergEnv,
        agent: str,
        opponents: Mapping[str, Callable[[Any], Any] | Any],
        rescale_actions: bool = False,
    ):
        if not isinstance(env, BatchedStackelbergEnv):
            raise TypeError(f"env must be a stackenv BatchedStackelbergEnv, got {type(env).__name__}")
        self.env = env
        self.game = game = env.game
        self.num_envs = B = env.num_envs
        self.possible_agents = list(env.possible_agents)
        self._opponents = Opponents(self.possible_agents, agent, opponents, game, env.feedback)
        self.agent = agent
        self.opponents = self._opponents.all
        # level order (top first) for acting within a step: (agent, slice of the joint action, (B, d_i))
        self._order = [(self.possible_agents[i], game.slices[i], (B, game.dims[i])) for lv in game.levels for i in lv]
        box = env.single_action_spaces[agent]
        self._low, self._high = box.low.astype(float), box.high.astype(float)
        self.rescale_actions = bool(rescale_actions)
        self.single_action_space = exposed_action_space(box, self.rescale_actions)
        self.single_observation_space = env.single_observation_spaces[agent]
        self.action_space = batch_space(self.single_action_space, B)
        self.observation_space = batch_space(self.single_observation_space, B)
        self._action_shape = (B, *box.shape)
        self._obs: dict[str, Any] = {}
        self._learner_rng: np.random.Generator | None = None
        self._k = 0

    # ------------------------------------------------------------------ helpers
    def _observe(self, obs: Mapping[str, Any]) -> None:
        self._obs = {a: _as_float32(obs[a]) for a in self.possible_agents}

    def _infos(self, info: Mapping[str, Any]) -> dict[str, Any]:
        """Gymnasium's dict of ``(B,)`` arrays, each with its ``_key`` mask of the copies that report it."""
        out: dict[str, Any] = {}
        for key, value in info.items():
            value = np.array(value)
            out[key] = value
            out[f"_{key}"] = value != "" if key == "termination_reason" else np.ones(self.num_envs, bool)
        return out

    def _feedback(self, name: str) -> Any:
        return _as_float64(self._obs[name])

    # ------------------------------------------------------------------ gymnasium VectorEnv API
    def reset(self, *, seed: Any = None, options: Mapping[str, Any] | None = None):
        """Reset every copy (``seed``: an int — copy b gets ``seed + b`` — or one per copy; ``options`` as the
        batched env's, e.g. ``{"x0": (B, d)}``); returns ``(obs, infos)``."""
        obs, infos = self.env.reset(seed=seed, options=options)
        if seed is not None or self._learner_rng is None:  # SingleAgentEnv's np_random, of the first copy's seed
            self._learner_rng = np.random.default_rng(self.env.seeds[0])
        self._k = 0
        self._observe(obs)
        self._opponents.reset(np.asarray(self.env.x, float), self._learner_rng, self._feedback)
        return self._obs[self.agent], self._infos(infos[self.agent])

    def step(self, actions: Any):
        """One joint step of every copy, opponents acting level by level around the agent's ``actions``."""
        a = np.asarray(actions)
        if a.size != int(np.prod(self._action_shape)):
            raise ValueError(f"actions for {self.agent!r} must have shape {self._action_shape}, got {a.shape}")
        a = a.reshape(self._action_shape)
        a = rescale_action(a, self._low, self._high) if self.rescale_actions else a.astype(np.float64)
        x = np.array(self.env.x, float)
        for name, sl, shape in self._order:
            if name == self.agent:
                x[:, sl] = a
            else:
                x[:, sl] = self._opponents.act(name, self._obs[name], x, shape)
        obs, rewards, terms, truncs, infos = self.env.step(x)
        self._k += 1
        self._observe(obs)
        self._opponents.update(self._feedback, lambda name: np.asarray(rewards[name], np.float64), self._k)
        agent = self.agent
        reward = np.array(rewards[agent], np.float64)
        term, trunc = np.array(terms[agent], bool), np.array(truncs[agent], bool)
        info = self._infos(infos[agent])
        obs_out = self._obs[agent]
        done = term | trunc
        if done.any():  # every copy's episode ends with the first (one batched reset)
            trunc |= ~done
            final_obs = np.empty(self.num_envs, dtype=object)
            final_obs[:] = [_copy_of(obs_out, b) for b in range(self.num_envs)]
            info["final_info"], info["_final_info"] = dict(info), np.ones(self.num_envs, bool)
            info["final_obs"], info["_final_obs"] = final_obs, np.ones(self.num_envs, bool)
            obs_out, _ = self.reset()
        return obs_out, reward, term, trunc, info

    def close_extras(self, **kwargs: Any) -> None:
        self.env.close()
