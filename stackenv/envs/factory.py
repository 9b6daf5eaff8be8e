"""Constructors: generic ones over any game, and the helper behind the versioned env modules.

``parallel_env(game, **kw)``, ``env(game, **kw)`` (AEC, order-enforcing), ``raw_env(game, **kw)`` and
``batched_env(game, num_envs, **kw)`` accept a :class:`~stackenv.games.base.Game` instance (any
subclass, user-defined ones included) or the name of a registered game plus its parameters as extra
keywords. Env keywords: ``feedback``, ``noise_std``, ``noise``, ``df``, ``max_steps``, ``render_mode``,
``rescale_actions``, ``flatten``, ``pad_observations`` (the batched env: ``dtype`` instead of ``render_mode`` and
``pad_observations``).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any

from pettingzoo.utils.wrappers import OrderEnforcingWrapper

from stackenv import games
from stackenv.envs.aec import StackelbergAECEnv
from stackenv.envs.batched import BatchedStackelbergEnv
from stackenv.envs.parallel import StackelbergParallelEnv
from stackenv.games.base import Game

ENV_KWARGS = (
    "feedback",
    "noise_std",
    "noise",
    "df",
    "max_steps",
    "render_mode",
    "rescale_actions",
    "flatten",
    "pad_observations",
)
BATCHED_KWARGS = ("feedback", "noise_std", "noise", "df", "max_steps", "dtype", "rescale_actions", "flatten")

#: What every versioned module (``duopoly_v0`` …) shares; :func:`versioned` puts it in each constructor's docstring.
VERSIONED_DOC = """Agents: ``possible_agents`` are the game's players, leader first (see the game module for names).
Order of play: ``parallel_env`` — simultaneous; ``env``/``raw_env`` — leader first, level by level, each
agent observing the actions committed above it (see :mod:`stackenv.envs.aec`).
Keywords: ``feedback`` ("gradient", "hierarchical", "second_order", "reward"), ``noise_std`` (standard
deviation; the paper's variances must be square-rooted), ``noise`` ("gaussian", "student_t"), ``df``,
``max_steps`` (default 1000 steps — rounds in the AEC env — so ``while env.agents:`` ends; ``None``: never),
``render_mode`` ("ansi", "rgb_array"), ``rescale_actions`` (actions in [−1, 1]), ``flatten`` (one flat Box
for ``second_order``), ``pad_observations`` (one observation space for every agent), and the game's own
parameters (:mod:`stackenv.games.{game_name}`).
"""


def split_kwargs(kwargs: dict[str, Any], env_keys=ENV_KWARGS) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(env keywords, game parameters)``."""
    env_kw = {k: v for k, v in kwargs.items() if k in env_keys}
    game_kw = {k: v for k, v in kwargs.items() if k not in env_keys}
    return env_kw, game_kw


def make_game(game: Game | str, **params: Any) -> Game:
    """A game instance from an instance (no parameters allowed) or a registered name and parameters."""
    if isinstance(game, Game):
        if params:
            raise ValueError(
                f"unknown env keyword(s) {sorted(params)} (game parameters can only be given with a game name); "
                f"env keywords: {', '.join(ENV_KWARGS)}"
            )
        return game
    if isinstance(game, str):
        return games.make(game, **params)
    raise TypeError(f"game must be a Game instance or a registered game name, got {type(game).__name__}")


def parallel_env(game: Game | str, **kwargs: Any) -> StackelbergParallelEnv:
    """Simultaneous-play PettingZoo env over ``game``."""
    env_kw, game_kw = split_kwargs(kwargs)
    return StackelbergParallelEnv(make_game(game, **game_kw), **env_kw)


def raw_env(game: Game | str, **kwargs: Any) -> StackelbergAECEnv:
    """Leader-first AEC env over ``game`` without wrappers."""
    env_kw, game_kw = split_kwargs(kwargs)
    return StackelbergAECEnv(make_game(game, **game_kw), **env_kw)


def env(game: Game | str, **kwargs: Any) -> OrderEnforcingWrapper:
    """Leader-first AEC env over ``game`` wrapped in PettingZoo's ``OrderEnforcingWrapper``.

    (No clipping wrapper: the env clips or wraps out-of-bounds actions itself and flags them.)
    """
    return OrderEnforcingWrapper(raw_env(game, **kwargs))


def batched_env(game: Game | str, num_envs: int = 1, **kwargs: Any) -> BatchedStackelbergEnv:
    """``num_envs`` copies of ``game`` stepped together."""
    env_kw, game_kw = split_kwargs(kwargs, BATCHED_KWARGS)
    return BatchedStackelbergEnv(make_game(game, **game_kw), num_envs=num_envs, **env_kw)


def renamed(game: Game, names: list[str]) -> Game:
    """A copy of ``game`` whose players carry ``names`` (same math, levels and domains)."""
    if len(names) != game.n or len(set(names)) != game.n:
        raise ValueError(f"need {game.n} distinct player names, got {names}")
    out = copy.copy(game)
    Game.__init__(out, [dataclasses.replace(p, name=n) for p, n in zip(game.players, names)], game.levels)
    return out


def versioned(game_name: str, env_name: str, names: Callable[[Game], list[str]] | None = None):
    """``(raw_env, env, parallel_env)`` for a versioned module fixing the registered game ``game_name``.

    Each generated constructor documents the conventions every versioned module shares
    (:data:`VERSIONED_DOC`); the module's own docstring keeps its description and version history.
    Game parameters are passed as keywords next to the env keywords, e.g.
    ``duopoly_v0.parallel_env(A=120.0, feedback="hierarchical", noise_std=10 ** 0.5)``. ``names(game)``, if
    given, renames the game's players (the agents) — see ``hierarchy_v1``.
    """
    shared = VERSIONED_DOC.format(game_name=game_name)
    aec_metadata = {**StackelbergAECEnv.metadata, "name": env_name}
    par_metadata = {**StackelbergParallelEnv.metadata, "name": env_name}

    def build(game_kw: dict[str, Any]) -> Game:
        game = games.make(game_name, **game_kw)
        return game if names is None else renamed(game, names(game))

    def _init(self, **kwargs: Any) -> None:
        env_kw, game_kw = split_kwargs(kwargs)
        StackelbergAECEnv.__init__(self, build(game_kw), **env_kw)

    raw = type(
        "raw_env",
        (StackelbergAECEnv,),
        {
            "__init__": _init,
            "metadata": aec_metadata,
            "__module__": f"stackenv.envs.{env_name}",
            "__doc__": f"{env_name}: leader-first AEC env of the registered game {game_name!r}.\n\n{shared}",
        },
    )

    def env_fn(**kwargs: Any) -> OrderEnforcingWrapper:
        return OrderEnforcingWrapper(raw(**kwargs))

    def parallel_fn(**kwargs: Any) -> StackelbergParallelEnv:
        env_kw, game_kw = split_kwargs(kwargs)
        e = StackelbergParallelEnv(build(game_kw), **env_kw)
        e.metadata = par_metadata
        return e

    env_fn.__doc__ = f"{env_name}: leader-first AEC env (order-enforcing) of the game {game_name!r}.\n\n{shared}"
    parallel_fn.__doc__ = f"{env_name}: simultaneous-play parallel env of the game {game_name!r}.\n\n{shared}"
    return raw, env_fn, parallel_fn
