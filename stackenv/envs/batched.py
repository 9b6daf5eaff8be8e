"""``B`` independent copies of one game advanced by one numpy step: :class:`BatchedStackelbergEnv`.

The fast path for experiments and tournaments (docs/architecture.md §3). Semantics are those of the
parallel PettingZoo env, copy by copy: copy ``b`` of an env reset with ``seed`` is the PettingZoo env
reset with ``seed + b`` (same initial joint action, same noise streams, same numbers; with ``B = 1``
the observations equal the PettingZoo ones after ``.astype(float32)``, bit for bit).

Conventions (following Gymnasium's vector envs where they fit):
    - ``reset(seed, options={"x0": x0})``: ``seed`` an int (copy b gets ``seed + b``) or a sequence of B
      ints; ``x0`` of shape ``(B, d)`` or ``(d,)``. ``reset()`` without a seed continues the streams.
    - ``step({agent: a})`` with ``a`` of shape ``(B, d_i)`` (``(B,)`` when ``d_i == 1``) — or ``step(x)`` with
      the joint action ``x`` of shape ``(B, d)`` (agents' blocks at ``game.slices``; what ``agents.play``
      passes, sparing a dict of N views for N-player games) — returns
      ``obs, rewards, terminations, truncations, infos`` with ``obs[agent]`` ``(B, d_i)`` / ``(B, d)`` / dict
      of ``(B, ...)`` arrays (``reward`` mode: one read-only ``(B, d)`` array shared by every agent),
      ``rewards[agent]`` ``(B,)`` and flags ``(B,)`` bool (one flag per copy; one read-only array
      shared by every agent, since agents end together).
    - ``infos[agent]["out_of_bounds"]`` ``(B,)`` bool (read-only; one shared info dict when no action was
      out of bounds and no copy terminated); when a copy terminates, ``infos[agent]
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
from stackenv.envs.noise import check_seed, stream_rngs
from stackenv.games.base import Game


def _frozen(a: np.ndarray) -> np.ndarray:
    """``a`` made read-only (shared by every agent's entry of a returned dict)."""
    a.flags.writeable = False
    return a


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
        feedback_rows: the current noisy feedback ``(B, K)`` in ``dtype``, agent by agent as laid out by
            ``engine.layout`` (``None`` in reward mode): every agent's observation is a view of it.
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
        self._agent_set = frozenset(self.possible_agents)
        sizes = self.engine.layout.sizes
        self._uniform_k = feedback in ("gradient", "hierarchical") and len(set(sizes)) == 1
        # fast-path action slots: (agent, slice into x, expected shape) and a conservative common box
        self._slots = [(a, game.slices[i], (B, game.dims[i])) for i, a in enumerate(self.possible_agents)]
        self._box_lo, self._box_hi = float(np.max(game.low)), float(np.min(game.high))
        self._no_flags = _frozen(np.zeros(B, bool))
        self._live = _frozen(np.ones(B, bool))
        self._all_live = False
        self._all_truncated = _frozen(np.ones(B, bool))
        self.seeds: list[int] | None = None
        self._init_rngs: list[np.random.Generator] | None = None
        self._noise = None
        self.x = np.zeros((B, game.d))
        self.t = 0
        self.done = np.ones(B, bool)
        self._obs: dict[str, Any] | None = None
        self.feedback_rows: np.ndarray | None = None

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
        """Per-agent views of the feedback rows ``(B, K)`` (in the env's dtype), or the joint action (reward)."""
        if self.feedback == "reward":
            xo = x.astype(self.dtype)
            xo.flags.writeable = False  # one public joint action, shared (read-only) by every agent
            return dict.fromkeys(self.possible_agents, xo)
        B = rows.shape[0]
        lay = self.engine.layout
        if self._uniform_k:  # every agent k values: iterating an (n, B, k) view yields the n blocks in C
            n = len(self.possible_agents)
            if rows.flags.c_contiguous:
                blocks = rows.reshape(B, n, -1).transpose(1, 0, 2)
            else:  # column-major rows (the affine kernel's)
                blocks = rows.T.reshape(n, -1, B).transpose(0, 2, 1)
            return dict(zip(self.possible_agents, blocks))
        obs: dict[str, Any] = {}
        for a, blocks in zip(self.possible_agents, lay.blocks):
            if self.feedback == "second_order":
                obs[a] = {b.key: rows[:, b.start : b.stop].reshape(B, *b.shape) for b in blocks}
            else:
                obs[a] = rows[:, blocks[0].start : blocks[0].stop]
        return obs

    # ------------------------------------------------------------------ API
    def reset(self, seed: int | Sequence[int] | None = None, options: Mapping[str, Any] | None = None):
        """Reset every copy; returns ``(obs, infos)`` at the initial joint actions."""
        if seed is not None or self._init_rngs is None:
            self.seeds = self._seeds(seed)
            self._init_rngs = stream_rngs(self.seeds, 0)  # init_rng(seed) for every copy
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
            rows = rows.astype(self.dtype, copy=False)  # a fresh array: no copy for float64
        self.feedback_rows = rows
        self.x = x
        self.t = 0
        self.done = np.zeros(self.num_envs, bool)
        self._all_live = True
        self._terminated = self._truncated = self._no_flags
        self._obs = self._observations(rows, x)
        B = self.num_envs
        return self._obs, {a: {"out_of_bounds": np.zeros(B, bool)} for a in self.possible_agents}

    def step(self, actions: Mapping[str, Any]):
        """One joint step of every live copy; see the module docstring for shapes."""
        if self._obs is None:
            raise RuntimeError("step() called before reset()")
        if isinstance(actions, np.ndarray):  # the joint action (B, d)
            if actions.shape != (self.num_envs, self.game.d):
                raise ValueError(
                    f"a joint action must have shape ({self.num_envs}, {self.game.d}), got {actions.shape}"
                )
        elif not isinstance(actions, Mapping):
            raise ValueError(
                f"actions must be a dict {{agent: (B, d_i) array}} or a (B, d) array, got {type(actions).__name__}"
            )
        elif actions.keys() != self._agent_set:
            missing = [a for a in self.possible_agents if a not in actions]
            unknown = [a for a in actions if a not in self._agent_set]
            raise ValueError(
                f"actions must name every agent exactly once; missing {missing}, unknown {unknown}; "
                f"agents are {self.possible_agents}"
            )
        B, g = self.num_envs, self.game
        all_active = self._all_live
        active = self._live if all_active else ~self.done
        x, oob = self._joint_action(actions, active, all_active)
        noise = None if self._noise is None else self._noise.next()
        self.t += 1
        if all_active:
            out = self.engine.outcome(x, noise)
            idx = None
            self.x = x
            rew = out.rewards.astype(self.dtype, copy=False)  # fresh arrays: no copies for float64
            rows = None if out.rows is None else out.rows.astype(self.dtype, copy=False)
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
            self.x = self.x.copy()
            self.x[idx] = x[idx]
            rewards = np.zeros((B, g.n))
            rewards[idx] = out.rewards
            rew = rewards.astype(self.dtype)
            rows = None
            if out.rows is not None:  # frozen copies keep their last rows
                rows = self.feedback_rows.copy()
                rows[idx] = out.rows
        terminated, truncated, reasons = self._terminated, self._truncated, None
        if out.reasons is not None:  # some copy diverged or its feedback is undefined
            bad = np.flatnonzero(out.bad)
            rows_bad = bad if idx is None else idx[bad]
            terminated = terminated.copy()
            terminated[rows_bad] = True
            reasons = np.full(B, "", dtype=object)
            reasons[rows_bad] = [out.reasons[b] for b in bad]
        if self.max_steps is not None and self.t >= self.max_steps:
            if all_active:
                truncated = self._all_truncated
            else:
                truncated = truncated.copy()
                truncated[idx] = True
        if terminated is not self._terminated or truncated is not self._truncated:
            self._terminated, self._truncated = _frozen(terminated), _frozen(truncated)
            self.done = terminated | truncated
            self._all_live = not self.done.any()
        self.feedback_rows = rows
        self._obs = new_obs = self._observations(rows, self.x)
        agents = self.possible_agents
        if oob is None and reasons is None:  # nothing out of bounds or terminated: one shared info
            infos = dict.fromkeys(agents, {"out_of_bounds": self._no_flags})
        else:
            infos = {}
            for a in agents:
                info = {"out_of_bounds": self._no_flags if oob is None else oob[a] & active}
                if reasons is not None:
                    info["termination_reason"] = reasons
                infos[a] = info
        return (
            new_obs,
            dict(zip(agents, rew.T)),  # rew[:, i] for agent i
            dict.fromkeys(agents, self._terminated),
            dict.fromkeys(agents, self._truncated),
            infos,
        )

    def _joint_action(
        self, actions: Mapping[str, Any] | np.ndarray, active: np.ndarray, all_active: bool
    ) -> tuple[np.ndarray, dict[str, np.ndarray] | None]:
        """The validated, projected joint action ``(B, d)`` and per-agent out-of-bounds flags (``None``: none).

        Fast path: every copy live, float arrays of the exact shape, all inside the domain (checked against
        the box common to every coordinate, then exactly). Anything else goes through
        :func:`~stackenv.envs.actions.check_batch_action` agent by agent.
        """
        B, g = self.num_envs, self.game
        if isinstance(actions, np.ndarray):
            if all_active and actions.dtype.char in "fd":
                x = actions.astype(float)  # a copy: the env owns its state
                if x.min() >= self._box_lo and x.max() <= self._box_hi:
                    return x, None
                if ((x >= g.low) & (x <= g.high)).all():
                    return x, None
            actions = {a: actions[:, sl] for a, sl, _ in self._slots}
        x = np.empty((B, g.d))
        if all_active:
            for a, sl, shape in self._slots:
                arr = actions[a]
                if type(arr) is not np.ndarray or arr.dtype.char not in "fd" or arr.shape != shape:
                    break
                x[:, sl] = arr
            else:
                if x.min() >= self._box_lo and x.max() <= self._box_hi:
                    return x, None
                if ((x >= g.low) & (x <= g.high)).all():
                    return x, None
        oob = {}
        for i, a in enumerate(self.possible_agents):
            xi, oob[a] = check_batch_action(g, self._boxes, i, actions[a], B, active)
            x[:, g.slices[i]] = xi
        return x, oob

    def close(self) -> None:
        pass
