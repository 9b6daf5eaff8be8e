"""Single-copy episode logic shared by the parallel and the AEC env (both are thin shells around it:
:class:`Episode` holds the episode, :class:`EpisodeEnv` the PettingZoo plumbing they have in common).

Observation spaces (float32; the feedback parts are unbounded, ``Box(−inf, inf)``, because gradients can
be arbitrarily large — every emitted value is nonetheless finite, see :mod:`stackenv.envs.engine`):
    ``gradient`` / ``hierarchical``  ``Box(−inf, inf, (d_i,))``
    ``reward``                       ``Box(low, high, (d,))`` — the last joint action (public)
    ``second_order``                 ``Dict(grad=Box((d,)), H22=Box((m, m)), H21=Box((m, d_i)))``
                                     (``H22``/``H21`` only for agents with levels below them), plus
                                     ``grads=Box((n, d))``, ``J=Box((d, d))`` for every agent of a game with
                                     ``d ≤ 16`` (``engine.GAME_BLOCKS_MAX_D``)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from gymnasium import spaces

from stackenv.envs.actions import ActionChecker, action_spaces
from stackenv.envs.engine import Engine, check_max_steps, in_f32_range
from stackenv.envs.noise import check_seed, init_rng
from stackenv.envs.render import RENDER_MODES, Renderer, check_render_mode
from stackenv.games.base import Game

F32 = np.float32
_INF = float("inf")


def fresh_seed() -> int:
    """A seed from OS entropy, for a first ``reset()`` without a seed."""
    return int(np.random.SeedSequence().entropy % (1 << 63))


def feedback_spaces(engine: Engine) -> list[spaces.Space]:
    """Per-agent observation spaces of the simultaneous-play env (see module docstring)."""
    g, lay = engine.game, engine.layout
    if lay.feedback == "reward":
        return [spaces.Box(g.low.astype(F32), g.high.astype(F32), shape=(g.d,), dtype=F32) for _ in g.players]
    out: list[spaces.Space] = []
    for blocks in lay.blocks:
        boxes = {b.key: spaces.Box(-_INF, _INF, shape=b.shape, dtype=F32) for b in blocks}
        out.append(boxes["grad"] if len(blocks) == 1 and lay.feedback != "second_order" else spaces.Dict(boxes))
    return out


class ObsBuilder:
    """Cuts per-agent float32 observations out of a feedback row (list of floats or float64 array)."""

    def __init__(self, engine: Engine):
        self.feedback = engine.feedback
        self.names = list(engine.agents)
        self.single = [
            (blocks[0].start, blocks[0].stop) if self.feedback in ("gradient", "hierarchical") else None
            for blocks in engine.layout.blocks
        ]
        self.blocks = engine.layout.blocks

    def from_list(self, row: list[float] | None, xs: list[float]) -> dict[str, Any]:
        if self.feedback == "reward":
            return {a: np.array(xs, dtype=F32) for a in self.names}
        if self.feedback != "second_order":
            row32 = np.array(row, dtype=F32)  # one conversion; agents get disjoint views
            return {a: row32[s:e] for a, (s, e) in zip(self.names, self.single)}
        return self.from_array(np.array(row), np.array(xs))

    def from_array(self, row: np.ndarray | None, x: np.ndarray) -> dict[str, Any]:
        if self.feedback == "reward":
            return {a: x.astype(F32) for a in self.names}
        row32 = row.astype(F32)
        if self.feedback != "second_order":
            return {a: row32[s:e] for a, (s, e) in zip(self.names, self.single)}
        return {
            a: {b.key: row32[b.start : b.stop].reshape(b.shape) for b in blocks}
            for a, blocks in zip(self.names, self.blocks)
        }


class Episode:
    """One copy of a game under one feedback/noise configuration: seeding, reset, joint steps, render.

    Args: as :class:`stackenv.envs.StackelbergParallelEnv`.
    """

    def __init__(
        self,
        game: Game,
        feedback: str = "gradient",
        noise_std: Any = 0.0,
        noise: str = "gaussian",
        df: float = 3.0,
        max_steps: int | None = None,
        render_mode: str | None = None,
    ):
        self.engine = Engine(game, feedback, noise_std, noise, df)
        self.game = game
        self.feedback = feedback
        self.max_steps = check_max_steps(max_steps)
        self.render_mode = check_render_mode(render_mode)
        self.agents = list(game.agents)
        self.n = len(self.agents)
        self.boxes = action_spaces(game)
        self.obs_spaces = feedback_spaces(self.engine)
        self.checker = ActionChecker(game, self.boxes)
        self.builder = ObsBuilder(self.engine)
        self.affine = self.engine.affine.fn if self.engine.affine is not None else None
        self.renderer = Renderer(game) if self.render_mode is not None else None
        self.state_space = spaces.Box(game.low.astype(F32), game.high.astype(F32), shape=(game.d,), dtype=F32)
        self.seed: int | None = None
        self._init_rng: np.random.Generator | None = None
        self._noise = None
        self.xs: list[float] = []
        self.costs: list[float] | None = None
        self.t = 0

    # ------------------------------------------------------------------ reset
    def reset(self, seed: int | None = None, options: Mapping[str, Any] | None = None):
        """Seed (if given), draw or take ``x0`` and return ``(obs, infos)`` at it."""
        if seed is not None or self._init_rng is None:
            self.seed = fresh_seed() if seed is None else check_seed(seed)
            self._init_rng = init_rng(self.seed)
            self._noise = self.engine.noise_stream([self.seed])
        x0 = None
        if options is not None:
            if not isinstance(options, Mapping):
                raise ValueError(f"options must be a dict, got {options!r}")
            x0 = options.get("x0")
        x = self.engine.initial_x_from_rngs([self._init_rng], x0)
        self.t = 0
        self.xs = x[0].tolist()
        if self.feedback == "reward":
            costs, _, _ = self.engine.kernel.evaluate(x)
            obs = self.builder.from_array(None, x[0])
        else:
            out = self.engine.outcome(x, None if self._noise is None else self._noise.next())
            costs = out.costs
            obs = self.builder.from_array(out.rows[0], x[0])
        self.costs = costs[0].tolist()
        if self.renderer is not None:
            self.renderer.reset()
            self.renderer.record(x[0])
        return obs, {a: {"out_of_bounds": False} for a in self.agents}

    # ------------------------------------------------------------------ one joint step
    def joint_step(self, xs: list[float], oobs: list[bool]):
        """Advance with the validated joint action ``xs``; returns PettingZoo's five dicts."""
        self.t += 1
        names = self.agents
        w = None
        out = None
        if self.affine is not None:
            costs, rows = self.affine(xs)
            if self._noise is not None:
                w = self._noise.next_list()
            if self.feedback == "reward":
                rew = [-c for c in costs] if w is None else [-c + wi for c, wi in zip(costs, w)]
                fb = None
                ok = in_f32_range(rew) and in_f32_range(costs)
            else:
                fb = rows if w is None else [r + wi for r, wi in zip(rows, w)]
                rew = [-c for c in costs]
                ok = in_f32_range(fb) and in_f32_range(costs)
            if ok:
                obs = self.builder.from_list(fb, xs)
                self.costs = costs
            else:  # rare: let the engine sanitise (same arithmetic, so same numbers)
                out = self.engine.outcome(np.array([xs]), None if w is None else np.array([w]))
        else:
            noise = None if self._noise is None else self._noise.next()
            out = self.engine.outcome(np.array([xs]), noise)
        reason = None
        if out is not None:
            x = np.array(xs)
            obs = self.builder.from_array(None if out.rows is None else out.rows[0], x)
            rew = out.rewards[0].tolist()
            self.costs = out.costs[0].tolist()
            if out.bad[0]:
                reason = out.reasons[0]
        self.xs = xs
        if self.renderer is not None:
            self.renderer.record(np.array(xs))
        terminated = reason is not None
        truncated = self.max_steps is not None and self.t >= self.max_steps
        infos = {a: {"out_of_bounds": o} for a, o in zip(names, oobs)}
        if terminated:
            for info in infos.values():
                info["termination_reason"] = reason
        return (
            obs,
            dict(zip(names, rew)),
            dict.fromkeys(names, terminated),
            dict.fromkeys(names, truncated),
            infos,
        )

    # ------------------------------------------------------------------ render / state
    def x(self) -> np.ndarray:
        return np.array(self.xs, dtype=float)

    def render(self) -> str | np.ndarray | None:
        if self.render_mode is None:
            import gymnasium

            gymnasium.logger.warn("render() called without a render_mode; pass render_mode='ansi' or 'rgb_array'")
            return None
        if not self.xs:
            raise RuntimeError("render() called before reset()")
        if self.render_mode == "ansi":
            return self.renderer.ansi(self.t, self.x(), np.array(self.costs))
        return self.renderer.rgb(self.x())

    def close(self) -> None:
        if self.renderer is not None:
            self.renderer.close()


class EpisodeEnv:
    """What the parallel and the AEC env have in common: an :class:`Episode`, the agents, the spaces, the
    state and rendering. Subclasses add their order of play (``reset``, ``step``) and ``metadata["name"]``.

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
        max_steps: int | None = None,
        render_mode: str | None = None,
    ):
        self._ep = Episode(game, feedback, noise_std, noise, df, max_steps, render_mode)
        self.game = game
        self.feedback = feedback
        self.max_steps = self._ep.max_steps
        self.render_mode = render_mode
        self.possible_agents = list(game.agents)
        self.agents: list[str] = []
        self._action_spaces = dict(zip(self.possible_agents, self._ep.boxes))
        self._obs_spaces = dict(zip(self.possible_agents, self._ep.obs_spaces))
        self.state_space = self._ep.state_space

    # ------------------------------------------------------------------ spaces and state
    def observation_space(self, agent: str) -> spaces.Space:
        return self._obs_spaces[agent]

    def action_space(self, agent: str) -> spaces.Box:
        return self._action_spaces[agent]

    @property
    def engine(self) -> Engine:
        """The shared :class:`~stackenv.envs.engine.Engine` (layout, kernels, noise settings)."""
        return self._ep.engine

    @property
    def x(self) -> np.ndarray:
        """The last completed joint action ``(d,)`` float64 (after reset: ``x0``)."""
        return self._ep.x()

    @property
    def seed(self) -> int | None:
        """The seed of the current noise streams (drawn from OS entropy if ``reset`` got none)."""
        return self._ep.seed

    @property
    def num_steps(self) -> int:
        """Completed joint steps (rounds, in the AEC env)."""
        return self._ep.t

    def state(self) -> np.ndarray:
        return self._ep.x().astype(F32)

    def render(self) -> str | np.ndarray | None:
        return self._ep.render()

    def close(self) -> None:
        self._ep.close()
