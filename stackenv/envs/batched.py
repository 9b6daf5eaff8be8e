"""``B`` independent copies of one game advanced by one numpy step: :class:`BatchedStackelbergEnv`.

The fast path for experiments and tournaments (docs/architecture.md §3). Semantics are those of the
parallel PettingZoo env, copy by copy: copy ``b`` of an env reset with ``seed`` is the PettingZoo env
reset with ``seed + b`` (same initial joint action, same noise streams, same numbers; with ``B = 1``
the observations equal the PettingZoo ones after ``.astype(float32)``, bit for bit).

Conventions (following Gymnasium's vector envs where they fit):
    - ``reset(seed, options={"x0": x0})``: ``seed`` an int (copy b gets ``seed + b``) or a sequence of B
      ints; ``x0`` of shape ``(B, d)`` or ``(d,)``. ``reset()`` without a seed continues the streams.
    - ``step({agent: a})`` with ``a`` of shape ``(B, d_i)`` (``(B,)`` when ``d_i == 1``) returns
      ``obs, rewards, terminations, truncations, infos`` with ``obs[agent]`` ``(B, d_i)`` / ``(B, d)`` / dict
      of ``(B, ...)`` arrays (``reward`` mode: one read-only ``(B, d)`` array shared by every agent),
      ``rewards[agent]`` ``(B,)`` and flags ``(B,)`` bool (one flag per copy,
      shared by every agent since agents end together).
    - ``infos[agent]["out_of_bounds"]`` ``(B,)`` bool; when a copy terminates, ``infos[agent]
      ["termination_reason"]`` is a ``(B,)`` object array with the reason ("" for other copies).
    - No autoreset: a copy that terminated or was truncated is *frozen* — its joint action and
      observations stay, its rewards are 0, its flags stay true and its actions are ignored —
      until the next ``reset``. Frozen copies still consume their noise draws, keeping all copies in step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from gymnasium import spaces

from stackenv.envs.actions import action_spaces, check_batch_action
from stackenv.envs.common import feedback_spaces, fresh_seed
from stackenv.envs.engine import Engine, Outcome, check_max_steps
from stackenv.envs.noise import check_seed, init_rng
from stackenv.games.base import Game


def _batch_space(space: spaces.Space, B: int, dtype) -> spaces.Space:
    if isinstance(space, spaces.Dict):
        return spaces.Dict({k: _batch_space(s, B, dtype) for k, s in space.spaces.items()})
    low = np.broadcast_to(space.low.astype(dtype), (B, *space.shape))
    high = np.broadcast_to(space.high.astype(dtype), (B, *space.shape))
    return spaces.Box(low, high, dtype=dtype)


class BatchedStackelbergEnv:
    """``num_envs`` copies of a game stepped together (see the module docstring for the conventions).

    Args:
        game: any :class:`~stackenv.games.base.Game`.
        num_envs: number of copies ``B``.
        feedback, noise_std, noise, df, max_steps: as :class:`~stackenv.envs.StackelbergParallelEnv`.
        dtype: dtype of observations and rewards (float64 default; the math is always float64).

    Attributes:
        x: current joint actions ``(B, d)`` float64. ``t``: steps taken. ``done``: ``(B,)`` frozen copies.
        seeds: the ``B`` copy seeds of the current streams.
    """

    metadata = {"name": "stackelberg_batched_v0", "autoreset": False}

    def __init__(
        self,
        game: Game,
        num_envs: int = 1,
        feedback: str = "gradient",
        noise_std: Any = 0.0,
        noise: str = "gaussian",
        df: float = 3.0,
        max_steps: int | None = None,
        dtype: Any = np.float64,
    ):
        if isinstance(num_envs, (bool, np.bool_)) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}")
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise ValueError(f"dtype must be a floating dtype, got {dtype!r}")
        self.engine = Engine(game, feedback, noise_std, noise, df)
        self.game = game
        self.feedback = feedback
        self.num_envs = int(num_envs)
        self.max_steps = check_max_steps(max_steps)
        self.possible_agents = list(game.agents)
        self.agents = list(game.agents)
        self._boxes = action_spaces(game)
        self.single_action_spaces = dict(zip(self.possible_agents, self._boxes))
        self.single_observation_spaces = dict(zip(self.possible_agents, feedback_spaces(self.engine)))
        B = self.num_envs
        self.action_spaces = {a: _batch_space(s, B, np.float64) for a, s in self.single_action_spaces.items()}
        self.observation_spaces = {a: _batch_space(s, B, self.dtype) for a, s in self.single_observation_spaces.items()}
        self.seeds: list[int] | None = None
        self._init_rngs: list[np.random.Generator] | None = None
        self._noise = None
        self.x = np.zeros((B, game.d))
        self.t = 0
        self.done = np.ones(B, bool)
        self._obs: dict[str, Any] | None = None

    def observation_space(self, agent: str) -> spaces.Space:
        """Batched observation space of ``agent`` (leading axis B)."""
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        """Batched action space of ``agent`` ``(B, d_i)``."""
        return self.action_spaces[agent]

    # ------------------------------------------------------------------ helpers
    def _seeds(self, seed: int | Sequence[int] | None) -> list[int]:
        B = self.num_envs
        if seed is None:
            seed = fresh_seed()
        if isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)):
            base = check_seed(seed)
            return [base + b for b in range(B)]
        seeds = list(seed)
        if len(seeds) != B:
            raise ValueError(f"need one seed per copy ({B}), got {len(seeds)}")
        return [check_seed(s) for s in seeds]

    def _observations(self, rows: np.ndarray | None, x: np.ndarray) -> dict[str, Any]:
        lay = self.engine.layout
        if self.feedback == "reward":
            xo = x.astype(self.dtype)
            xo.flags.writeable = False  # one public joint action, shared (read-only) by every agent
            return dict.fromkeys(self.possible_agents, xo)
        r = rows.astype(self.dtype)
        B = r.shape[0]
        obs: dict[str, Any] = {}
        for a, blocks in zip(self.possible_agents, lay.blocks):
            if self.feedback == "second_order":
                obs[a] = {b.key: r[:, b.start : b.stop].reshape(B, *b.shape) for b in blocks}
            else:
                obs[a] = r[:, blocks[0].start : blocks[0].stop]
        return obs

    # ------------------------------------------------------------------ API
    def reset(self, seed: int | Sequence[int] | None = None, options: Mapping[str, Any] | None = None):
        """Reset every copy; returns ``(obs, infos)`` at the initial joint actions."""
        if seed is not None or self._init_rngs is None:
            self.seeds = self._seeds(seed)
            self._init_rngs = [init_rng(s) for s in self.seeds]
            self._noise = self.engine.noise_stream(self.seeds)
        x0 = None
        if options is not None:
            if not isinstance(options, Mapping):
                raise ValueError(f"options must be a dict, got {options!r}")
            x0 = options.get("x0")
        x = self.engine.initial_x_from_rngs(self._init_rngs, x0)
        if self.feedback == "reward":
            rows = None
        else:
            rows = self.engine.outcome(x, None if self._noise is None else self._noise.next()).rows
        self.x = x
        self.t = 0
        self.done = np.zeros(self.num_envs, bool)
        self._terminated = np.zeros(self.num_envs, bool)
        self._truncated = np.zeros(self.num_envs, bool)
        self._obs = self._observations(rows, x)
        B = self.num_envs
        return self._obs, {a: {"out_of_bounds": np.zeros(B, bool)} for a in self.possible_agents}

    def step(self, actions: Mapping[str, Any]):
        """One joint step of every live copy; see the module docstring for shapes."""
        if self._obs is None:
            raise RuntimeError("step() called before reset()")
        if not isinstance(actions, Mapping):
            raise ValueError(f"actions must be a dict {{agent: (B, d_i) array}}, got {type(actions).__name__}")
        missing = [a for a in self.possible_agents if a not in actions]
        unknown = [a for a in actions if a not in self.possible_agents]
        if missing or unknown:
            raise ValueError(
                f"actions must name every agent exactly once; missing {missing}, unknown {unknown}; "
                f"agents are {self.possible_agents}"
            )
        B, g = self.num_envs, self.game
        active = ~self.done
        x = np.empty((B, g.d))
        oob = {}
        for i, a in enumerate(self.possible_agents):
            xi, oob[a] = check_batch_action(g, self._boxes, i, actions[a], B, active)
            x[:, g.slices[i]] = xi
        noise = None if self._noise is None else self._noise.next()
        self.t += 1
        all_active = bool(active.all())
        if all_active:
            out = self.engine.outcome(x, noise)
        else:
            idx = np.flatnonzero(active)
            if idx.size:
                out = self.engine.outcome(x[idx], None if noise is None else noise[idx])
            else:  # every copy is frozen: nothing to evaluate
                K = self.engine.layout.K
                none = np.zeros((0, g.n))
                out = Outcome(
                    none, None if self.feedback == "reward" else np.zeros((0, K)), none, np.zeros(0, bool), None
                )
        rewards = np.zeros((B, g.n))
        terminated = self._terminated.copy()
        truncated = self._truncated.copy()
        reasons = None
        if all_active:
            idx = np.arange(B)
            self.x = x
            rewards[:] = out.rewards
            new_obs = self._observations(out.rows, x)
        else:
            self.x = self.x.copy()
            self.x[idx] = x[idx]
            rewards[idx] = out.rewards
            new_obs = self._merge(self._observations(out.rows, x[idx]), idx)
        if out.bad.any():
            terminated[idx[out.bad]] = True
            reasons = np.full(B, "", dtype=object)
            reasons[idx[out.bad]] = [out.reasons[b] for b in np.flatnonzero(out.bad)]
        if self.max_steps is not None and self.t >= self.max_steps:
            truncated[idx] = True
        self._terminated, self._truncated = terminated, truncated
        self.done = terminated | truncated
        self._obs = new_obs
        rew = rewards.astype(self.dtype)
        infos = {}
        for a in self.possible_agents:
            info = {"out_of_bounds": oob[a] & active}
            if reasons is not None:
                info["termination_reason"] = reasons
            infos[a] = info
        return (
            new_obs,
            {a: rew[:, i] for i, a in enumerate(self.possible_agents)},
            {a: terminated.copy() for a in self.possible_agents},
            {a: truncated.copy() for a in self.possible_agents},
            infos,
        )

    def _merge(self, part: dict[str, Any], idx: np.ndarray) -> dict[str, Any]:
        """Previous observations with the rows of live copies ``idx`` replaced."""
        out: dict[str, Any] = {}
        for a, new in part.items():
            old = self._obs[a]
            if isinstance(new, dict):
                merged = {k: v.copy() for k, v in old.items()}
                for k, v in new.items():
                    merged[k][idx] = v
            else:
                merged = old.copy()
                merged[idx] = new
            out[a] = merged
        return out

    def close(self) -> None:
        pass
