"""One role of a batched env as a stable-baselines3 ``VecEnv``: :class:`SB3VecEnv` (drives a
:class:`~stackenv.wrappers.vector.VectorSingleAgentEnv`; imported on first use, so ``stackenv.wrappers`` does not
import torch).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvStepReturn

from stackenv.envs.batched import BatchedStackelbergEnv
from stackenv.wrappers.vector import VectorSingleAgentEnv


class SB3VecEnv(VecEnv):
    """One role of a :class:`~stackenv.envs.BatchedStackelbergEnv` as a stable-baselines3 ``VecEnv``.

    Same arguments and semantics as :class:`VectorSingleAgentEnv` (which it drives), in SB3's conventions:
    ``step`` returns ``(obs, rewards (B,) float32, dones (B,), infos)`` with one info dict per copy —
    ``out_of_bounds``, ``TimeLimit.truncated`` and, when the episode ended, ``terminal_observation`` (the
    copy is already reset). ``seed(s)`` makes the next ``reset`` seed copy b with ``s + b`` (SB3's
    convention, and the batched env's). The copies share one env: ``get_attr`` / ``env_method`` return the
    shared value once per requested index, ``set_attr`` sets it for all (``ValueError`` for a subset), and
    no copy is wrapped in a ``gymnasium.Wrapper`` (``env_is_wrapped`` is all false; use SB3's ``VecMonitor``
    for episode statistics).
    """

    def __init__(
        self,
        env: BatchedStackelbergEnv,
        agent: str,
        opponents: Mapping[str, Callable[[Any], Any] | Any],
        rescale_actions: bool = False,
    ):
        self.venv = VectorSingleAgentEnv(env, agent, opponents, rescale_actions)
        super().__init__(self.venv.num_envs, self.venv.single_observation_space, self.venv.single_action_space)
        self._actions: Any = None

    def reset(self):
        seeds = self._seeds
        if any(s is None for s in seeds) and not all(s is None for s in seeds):
            raise ValueError(f"the copies share one batched env: seed all of them or none, got {seeds}")
        given = [o for o in self._options if o]
        if given and (len(given) < self.num_envs or any(o is not given[0] and o != given[0] for o in given)):
            raise ValueError("the copies share one batched env: give every copy the same options, e.g. {'x0': (B, d)}")
        seed = None if seeds[0] is None else list(seeds)
        obs, info = self.venv.reset(seed=seed, options=given[0] if given else None)
        self.reset_infos = [{"out_of_bounds": bool(oob)} for oob in info["out_of_bounds"]]
        self._reset_seeds()
        self._reset_options()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        obs, reward, term, trunc, info = self.venv.step(self._actions)
        infos = [{"out_of_bounds": bool(oob)} for oob in info["out_of_bounds"]]
        if "termination_reason" in info:
            for b in np.flatnonzero(info["_termination_reason"]):
                infos[b]["termination_reason"] = info["termination_reason"][b]
        for b, (t, tr) in enumerate(zip(term.tolist(), trunc.tolist())):
            infos[b]["TimeLimit.truncated"] = tr and not t
            if t or tr:
                infos[b]["terminal_observation"] = info["final_obs"][b]
                self.reset_infos[b] = {"out_of_bounds": False}
        return obs, reward.astype(np.float32), term | trunc, infos

    def close(self) -> None:
        self.venv.close()

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        value = getattr(self.venv, attr_name)
        return [value for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        if sorted(self._get_indices(indices)) != list(range(self.num_envs)):
            raise ValueError(f"the copies share one batched env: set {attr_name!r} for all of them (indices=None)")
        setattr(self.venv, attr_name, value)

    def env_method(self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs) -> list[Any]:
        result = getattr(self.venv, method_name)(*method_args, **method_kwargs)
        return [result for _ in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]

    def get_images(self) -> list[None]:
        return [None for _ in range(self.num_envs)]
