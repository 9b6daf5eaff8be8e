"""What the parallel and the AEC env have in common: :class:`EpisodeEnv`, one copy of a game.

Both PettingZoo envs are the batched env (:class:`~stackenv.envs.batched.BatchedStackelbergEnv`) with one copy
and the batch axis squeezed: action checks, noise, feedback, divergence and truncation are its code. This
shell adds what PettingZoo expects of one copy — float32 observations, Python-float rewards, bool flags,
``agents`` emptied when the episode ends, ``state()`` and rendering.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from gymnasium import spaces

from stackenv.envs.actions import action_spaces, check_action
from stackenv.envs.batched import BatchedStackelbergEnv, check_agent
from stackenv.envs.engine import Engine
from stackenv.envs.layout import F32
from stackenv.envs.modes import DEFAULT_MAX_STEPS, RENDER_MODES, check_render_mode
from stackenv.envs.render import Renderer
from stackenv.games.base import Game


def squeeze(obs: Any) -> Any:
    """Copy 0 of a batched observation (array or dict of arrays), as float32."""
    if isinstance(obs, dict):
        return {k: v[0].astype(F32) for k, v in obs.items()}
    return obs[0].astype(F32)


def padded_space(boxes: list[spaces.Space]) -> tuple[int, spaces.Box]:
    """One flat space for observations from ``boxes``: their union, each zero-padded at the end to the longest."""
    if not all(isinstance(b, spaces.Box) for b in boxes):
        raise ValueError("pad_observations needs flat observations: pass flatten=True with second_order feedback")
    size = max(b.shape[0] for b in boxes)

    def padded(v: np.ndarray) -> np.ndarray:
        return np.pad(v, (0, size - v.shape[0]))  # a padded entry is always 0

    low = np.min([padded(b.low) for b in boxes], axis=0)
    return size, spaces.Box(low, np.max([padded(b.high) for b in boxes], axis=0), dtype=F32)


class EpisodeEnv:
    """One copy of a game: the batched env with ``B = 1``, its agents, spaces, state and rendering.
    Subclasses add their order of play (``reset``, ``step``) and ``metadata["name"]``.

    Args: as :class:`stackenv.envs.StackelbergParallelEnv`.
    """

    metadata: dict[str, Any] = {"render_modes": list(RENDER_MODES), "is_parallelizable": True, "render_fps": 10}

    def __init__(
        self,
        game: Game,
        feedback: str = "gradient",
        noise_std: Any = 0.0,
        noise: str = "gaussian",
        df: float = 3.0,
        max_steps: int | None = DEFAULT_MAX_STEPS,
        render_mode: str | None = None,
        rescale_actions: bool = False,
        flatten: bool = False,
        pad_observations: bool = False,
    ):
        # the shell checks (and rescales) each action; the batched env gets the checked joint action
        self._batch = BatchedStackelbergEnv(game, 1, feedback, noise_std, noise, df, max_steps, flatten=flatten)
        self.render_mode = check_render_mode(render_mode)
        self.game, self.feedback, self.max_steps = game, feedback, self._batch.max_steps
        self.rescale_actions = bool(rescale_actions)
        self.possible_agents = list(game.agents)
        self.agents: list[str] = []
        self._action_spaces = dict(zip(self.possible_agents, action_spaces(game, self.rescale_actions)))
        self._fb_spaces = self._batch.single_observation_spaces
        self._obs_spaces = self._observation_spaces()
        self._pad = 0
        if pad_observations:
            self._pad_spaces()
        self.state_space = spaces.Box(game.low.astype(F32), game.high.astype(F32), shape=(game.d,), dtype=F32)
        self._renderer = Renderer(game) if self.render_mode is not None else None

    # ------------------------------------------------------------------ spaces and state
    def _observation_spaces(self) -> dict[str, spaces.Space]:
        """Per-agent observation spaces (the AEC env adds the actions committed above)."""
        return self._fb_spaces

    def _pad_spaces(self) -> None:
        self._pad, shared = padded_space(list(self._obs_spaces.values()))
        self._obs_spaces = dict.fromkeys(self.possible_agents, shared)

    def _padded(self, obs: Any) -> Any:
        return obs if not self._pad else np.pad(obs, (0, self._pad - obs.shape[0]))

    def observation_space(self, agent: str) -> spaces.Space:
        return check_agent(self._obs_spaces, agent)

    def action_space(self, agent: str) -> spaces.Box:
        return check_agent(self._action_spaces, agent)

    @property
    def engine(self) -> Engine:
        """The shared :class:`~stackenv.envs.engine.Engine` (layout, game methods, noise settings)."""
        return self._batch.engine

    @property
    def x(self) -> np.ndarray:
        """The last completed joint action ``(d,)`` float64 (after reset: ``x0``)."""
        return self._batch.x[0].copy()

    @property
    def current_seed(self) -> int | None:
        """The seed of the current noise streams (drawn from OS entropy if ``reset`` got none); ``None``
        before the first reset. (Not ``seed``: that name is the seeding *method* clients such as Tianshou
        look for, falling back to ``reset(seed=...)`` when it is absent.)"""
        return None if self._batch.seeds is None else self._batch.seeds[0]

    @property
    def num_steps(self) -> int:
        """Completed joint steps (rounds, in the AEC env)."""
        return self._batch.t

    def unflatten(self, agent: str, obs: np.ndarray) -> dict[str, np.ndarray]:
        """A flat ``second_order`` observation (``flatten=True``) of ``agent`` as the dict of its blocks."""
        return self._batch.unflatten(agent, obs)

    def state(self) -> np.ndarray:
        return self._batch.x[0].astype(F32)

    # ------------------------------------------------------------------ the copy's episode
    def _reset(self, seed: int | None, options: Mapping[str, Any] | None):
        if seed is not None and (isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer))):
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        obs, batch_infos = self._batch.reset(seed, options)
        self.agents = self.possible_agents[:]
        if self._renderer is not None:
            self._renderer.reset()
            self._renderer.record(self._batch.x[0])
        infos = {a: {"out_of_bounds": False} for a in self.agents}
        clamped = batch_infos[self.agents[0]].get("clamped")
        if clamped is not None and clamped[0]:
            for info in infos.values():
                info["clamped"] = str(clamped[0])
        return {a: squeeze(o) for a, o in obs.items()}, infos

    def _present(self, obs: dict[str, Any]) -> dict[str, Any]:
        """Feedback observations as the parallel env hands them out (padded if asked)."""
        return obs if not self._pad else {a: self._padded(o) for a, o in obs.items()}

    def _check(self, i: int, action: Any) -> tuple[np.ndarray, bool]:
        """Agent ``i``'s action validated and projected (:func:`~stackenv.envs.actions.check_action`)."""
        p = self.game.players[i]
        x, oob = check_action(p, self._batch._boxes[i], action, (), None, self.rescale_actions)
        return x, bool(oob)

    def _joint_step(self, x: np.ndarray, oobs: list[bool]):
        """Step the copy with the checked joint action ``x`` ``(d,)``; PettingZoo's five dicts."""
        obs, rew, term, trunc, infos = self._batch.step(x[None])
        names = self.possible_agents
        terminated, truncated = bool(term[names[0]][0]), bool(trunc[names[0]][0])
        out_infos = {a: {"out_of_bounds": o} for a, o in zip(names, oobs)}
        if terminated:
            for a in names:
                out_infos[a]["termination_reason"] = str(infos[a]["termination_reason"][0])
        if self._renderer is not None:
            self._renderer.record(self._batch.x[0])
        return (
            {a: squeeze(o) for a, o in obs.items()},
            {a: float(r[0]) for a, r in rew.items()},
            dict.fromkeys(names, terminated),
            dict.fromkeys(names, truncated),
            out_infos,
        )

    def render(self) -> str | np.ndarray | None:
        if self.render_mode is None:
            import gymnasium

            gymnasium.logger.warn("render() called without a render_mode; pass render_mode='ansi' or 'rgb_array'")
            return None
        if self._batch.seeds is None:
            raise RuntimeError("render() called before reset()")
        x = self._batch.x[0]
        if self.render_mode == "ansi":
            return self._renderer.ansi(self._batch.t, x, self.game.costs(x))
        return self._renderer.rgb(x)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
