"""``B`` independent copies of one game advanced by one numpy step: :class:`BatchedStackelbergEnv`.

The one implementation of an env step (docs/architecture.md §3): the PettingZoo envs are this env with one
copy. Copy ``b`` of an env reset with ``seed`` is the PettingZoo env reset with ``seed + b`` (same initial
joint action, same noise streams, same numbers; the PettingZoo observations are these after
``.astype(float32)``).

Conventions (following Gymnasium's vector envs where they fit):
    - ``reset(seed, options={"x0": x0})``: ``seed`` an int (copy b gets ``seed + b``) or a sequence of B
      ints; ``x0`` of shape ``(B, d)`` or ``(d,)``. ``reset()`` without a seed continues the streams — except
      in a copy of the env (``copy.deepcopy``, ``pickle``), whose next unseeded ``reset()`` draws fresh
      streams from OS entropy, so clones do not replay each other; a copy continues a running episode
      bit for bit.
    - ``step({agent: a})`` with ``a`` of shape ``(B, d_i)`` (``(B,)`` when ``d_i == 1``) — or ``step(x)`` with
      the joint action ``x`` of shape ``(B, d)`` (agents' blocks at ``game.slices``; what ``agents.play``
      passes, sparing a dict of N views for N-player games) — returns
      ``obs, rewards, terminations, truncations, infos`` with ``obs[agent]`` ``(B, d_i)`` / ``(B, d)`` / dict
      of ``(B, ...)`` arrays (``reward`` mode: one read-only ``(B, d)`` array shared by every agent),
      ``rewards[agent]`` ``(B,)`` and flags ``(B,)`` bool (one flag per copy; one read-only array
      shared by every agent, since agents end together). The five results are read-only mappings over the
      agents (``rewards``, flags, the usual ``infos`` and gradient/hierarchical ``obs`` are
      :class:`~stackenv.envs.per_agent.PerAgent`: an entry is made when read, so a step costs no Python
      object per agent; ``dict(m)`` gives a dict).
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

from stackenv.envs.actions import action_spaces, check_keys, joint_action
from stackenv.envs.engine import F32_MAX, Engine, initial_x
from stackenv.envs.modes import check_max_steps
from stackenv.envs.per_agent import PerAgent
from stackenv.envs.seeding import INIT_WORD, copy_seeds, stream_rngs
from stackenv.games.base import Game


def _frozen(a: np.ndarray) -> np.ndarray:
    """``a`` made read-only (shared by every agent's entry of a returned dict)."""
    a.flags.writeable = False
    return a


def batch_spaces(single: dict[str, spaces.Space], B: int, dtype) -> dict[str, spaces.Space]:
    """Per-agent spaces with a leading axis ``B``; agents sharing one space share its batched space."""
    made: dict[int, spaces.Space] = {}

    def batch(space: spaces.Space) -> spaces.Space:
        if isinstance(space, spaces.Dict):
            return spaces.Dict({k: batch(s) for k, s in space.spaces.items()})
        low = np.broadcast_to(space.low.astype(dtype), (B, *space.shape))
        return spaces.Box(low, np.broadcast_to(space.high.astype(dtype), (B, *space.shape)), dtype=dtype)

    out = {}
    for agent, space in single.items():
        if id(space) not in made:
            made[id(space)] = batch(space)
        out[agent] = made[id(space)]
    return out


def check_num_envs(num_envs: Any) -> int:
    if isinstance(num_envs, (bool, np.bool_)) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
        raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}")
    return int(num_envs)


def check_dtype(dtype: Any) -> np.dtype:
    if np.dtype(dtype).kind != "f":
        raise ValueError(f"dtype must be a floating dtype, got {dtype!r}")
    return np.dtype(dtype)


def check_agent(spaces_by_agent: Mapping[str, Any], agent: Any) -> Any:
    """The space of ``agent``, or ``ValueError`` naming the agents."""
    try:
        return spaces_by_agent[agent]
    except (KeyError, TypeError):
        raise ValueError(f"unknown agent {agent!r}; agents are {list(spaces_by_agent)}") from None


def step_infos(index: Mapping[str, int], oob: dict | None, reasons: np.ndarray | None, no_flags: np.ndarray):
    """Per-agent infos of a step: one shared info dict when nothing was out of bounds and no copy terminated."""
    if oob is None and reasons is None:
        return PerAgent(index, same={"out_of_bounds": no_flags})
    infos = {a: {"out_of_bounds": no_flags if oob is None else oob[a]} for a in index}
    for info in infos.values() if reasons is not None else ():
        info["termination_reason"] = reasons
    return infos


def end_flags(terminated: np.ndarray, truncated: np.ndarray, idx: slice | np.ndarray, out, at_limit: bool):
    """The per-copy ``(terminated, truncated, reasons)`` after a step of the copies ``idx`` (a slice: all) with
    outcome ``out``: copies that diverged terminate (with ``out``'s reason), and at the step limit the stepped
    copies truncate. The flag arrays are returned as they came when nothing changed (``reasons`` ``None``)."""
    reasons = None
    if out.reasons is not None:
        bad = np.flatnonzero(out.bad)
        copies = bad if isinstance(idx, slice) else idx[bad]
        terminated = terminated.copy()
        terminated[copies] = True
        reasons = np.full(terminated.size, "", dtype=object)
        reasons[copies] = [out.reasons[b] for b in bad]
    if at_limit:
        truncated = truncated.copy()
        truncated[idx] = True
    return terminated, truncated, reasons


class BatchedStackelbergEnv:
    """``num_envs`` copies of a game stepped together (see the module docstring for the conventions).

    Args:
        game: any :class:`~stackenv.games.base.Game`.
        num_envs: number of copies ``B``.
        feedback, noise_std, noise, df: as :class:`~stackenv.envs.StackelbergParallelEnv`.
        max_steps: truncate every copy after this many steps (``None``, the default: never).
        dtype: dtype of observations and rewards (float64 default; the math is always float64). Values beyond
            its range count as divergence.
        rescale_actions: actions are in ``[−1, 1]``, mapped linearly onto each agent's bounds.
        flatten: ``second_order`` observations as one flat ``(B, K_i)`` array per agent (see :meth:`unflatten`).

    Attributes: ``x``: current joint actions ``(B, d)`` float64; ``t``: steps taken; ``done``: ``(B,)`` frozen
    copies; ``seeds``: the ``B`` copy seeds of the current streams; ``rewards``: the last step's rewards ``(B, n)``
    (the arrays ``step`` hands out per agent); ``feedback_rows``: the current noisy feedback
    ``(B, K)`` in ``dtype`` as laid out by ``engine.layout`` (``None`` in reward mode), of which every agent's
    observation is a view.
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
        rescale_actions: bool = False,
        flatten: bool = False,
    ):
        self.num_envs, self.dtype = check_num_envs(num_envs), check_dtype(dtype)
        limit = min(F32_MAX, float(np.finfo(self.dtype).max))
        self.engine = Engine(game, feedback, noise_std, noise, df, limit, bool(flatten))
        self.game, self.feedback = game, feedback
        self.max_steps = check_max_steps(max_steps)
        self.rescale_actions = bool(rescale_actions)
        self.possible_agents = list(game.agents)
        self.agents = list(game.agents)
        self._index = {a: i for i, a in enumerate(self.possible_agents)}  # PerAgent results share it
        self._boxes = action_spaces(game)
        self.single_action_spaces = dict(zip(self.possible_agents, action_spaces(game, self.rescale_actions)))
        self.single_observation_spaces = dict(zip(self.possible_agents, self.engine.layout.spaces(game)))
        B = self.num_envs  # batched spaces: leading axis B
        self.action_spaces = batch_spaces(self.single_action_spaces, B, np.float64)
        self.observation_spaces = batch_spaces(self.single_observation_spaces, B, self.dtype)
        self._no_flags = _frozen(np.zeros(B, bool))
        self.seeds, self._init_rngs, self._noise, self._clone = None, None, None, False
        self.x, self.t, self.done = np.zeros((B, game.d)), 0, np.ones(B, bool)
        self._obs, self.feedback_rows, self.rewards = None, None, None

    def observation_space(self, agent: str) -> spaces.Space:
        return check_agent(self.observation_spaces, agent)

    def action_space(self, agent: str) -> spaces.Space:
        return check_agent(self.action_spaces, agent)

    def unflatten(self, agent: str, obs: np.ndarray) -> dict[str, np.ndarray]:
        """A flat ``second_order`` observation of ``agent`` (``flatten=True``; any leading axes) as the dict of
        its blocks ``grad``, ``H22``, ``H21`` (views)."""
        check_agent(self.single_action_spaces, agent)
        return self.engine.layout.unflatten(self.possible_agents.index(agent), obs)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """A copy (pickle, deepcopy) continues its episode, but its next unseeded ``reset`` draws fresh streams."""
        self.__dict__.update(state)
        self._clone = True

    # ------------------------------------------------------------------ API
    def reset(self, seed: int | Sequence[int] | None = None, options: Mapping[str, Any] | None = None):
        """Reset every copy; returns ``(obs, infos)`` at the initial joint actions."""
        if seed is not None or self._init_rngs is None or self._clone:
            self.seeds = copy_seeds(seed, self.num_envs)
            self._init_rngs = stream_rngs(self.seeds, INIT_WORD)
            self._noise = self.engine.noise_stream(self.seeds)
            self._clone = False
        if options is not None and not isinstance(options, Mapping):
            raise ValueError(f"options must be a dict, got {options!r}")
        self.x = initial_x(self.engine, self._init_rngs, None if options is None else options.get("x0"))
        out = self.engine.outcome(self.x, None if self._noise is None else self._noise.next())
        self.feedback_rows = None if out.rows is None else out.rows.astype(self.dtype, copy=False)
        self.rewards = np.zeros((self.num_envs, self.game.n), self.dtype)
        self.t, self.done, self._live = 0, np.zeros(self.num_envs, bool), None
        self._terminated = self._truncated = self._no_flags
        self._obs = self.engine.layout.observations(self._index, self.feedback_rows, self.x)
        if out.reasons is None:
            return self._obs, PerAgent(self._index, same={"out_of_bounds": self._no_flags})
        # a value at reset (noise included) had to be clamped into the observation range: flag it per copy
        clamped = np.array(
            [f"clamped at reset: {r.removeprefix('diverged: ')}" if r else "" for r in out.reasons], dtype=object
        )
        return self._obs, {a: {"out_of_bounds": self._no_flags, "clamped": clamped} for a in self._index}

    def step(self, actions: Mapping[str, Any] | np.ndarray):
        """One joint step of every live copy; see the module docstring for shapes."""
        if self._obs is None:
            raise RuntimeError("step() called before reset()")
        if not isinstance(actions, np.ndarray):
            check_keys(actions, self.possible_agents, "{agent: (B, d_i) array} or a (B, d) array")
        elif actions.shape != (self.num_envs, self.game.d):
            raise ValueError(f"a joint action must have shape ({self.num_envs}, {self.game.d}), got {actions.shape}")
        live = self._live  # None: every copy live
        x, oob = joint_action(self.game, self._boxes, actions, self.num_envs, live, self.rescale_actions)
        noise = None if self._noise is None else self._noise.next()
        self.t += 1
        if live is None:
            out = self.engine.outcome(x, noise)
            self.x, idx = x, slice(None)
            rew = out.rewards.astype(self.dtype, copy=False)
            rows = None if out.rows is None else out.rows.astype(self.dtype, copy=False)
        else:  # frozen copies keep their joint action and rows, get zero rewards
            idx = np.flatnonzero(live)
            out = self.engine.outcome(x[idx], None if noise is None else noise[idx])
            self.x = self.x.copy()
            self.x[idx] = x[idx]
            rew = np.zeros((self.num_envs, self.game.n), self.dtype)
            rew[idx] = out.rewards
            rows = None if out.rows is None else self.feedback_rows.copy()
            if rows is not None:
                rows[idx] = out.rows
        reasons = self._end_copies(idx, out)
        self.feedback_rows, self.rewards = rows, rew
        self._obs = self.engine.layout.observations(self._index, rows, self.x)
        index = self._index
        infos = step_infos(index, oob, reasons, self._no_flags)
        term, trunc = PerAgent(index, same=self._terminated), PerAgent(index, same=self._truncated)
        return self._obs, PerAgent(index, rew.T), term, trunc, infos

    def _end_copies(self, idx: slice | np.ndarray, out) -> np.ndarray | None:
        """Terminate diverged copies, truncate at ``max_steps``; returns the per-copy reasons (or ``None``)."""
        at_limit = self.max_steps is not None and self.t >= self.max_steps
        terminated, truncated, reasons = end_flags(self._terminated, self._truncated, idx, out, at_limit)
        if terminated is not self._terminated or truncated is not self._truncated:
            self._terminated, self._truncated = _frozen(terminated), _frozen(truncated)
            self.done = terminated | truncated
            self._live = ~self.done if self.done.any() else None
        return reasons

    def close(self) -> None:
        pass
