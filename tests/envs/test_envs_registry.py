"""The env modules and the game registry agree: every versioned module's game is registered, every ``*_vN``
module of the package is listed, and every registered game is covered by the generic suites."""

from __future__ import annotations

import pkgutil
import re

import numpy as np
import pytest

from stackenv import envs as envs_pkg
from stackenv.envs import DYNAMIC_ENV_MODULES, ENV_MODULES
from stackenv.games import list_games

from .envs_cases import GAMES, MODULES, env_module

F32 = np.float32


def test_every_env_module_has_a_registered_game():
    for module, game in {**ENV_MODULES, **DYNAMIC_ENV_MODULES}.items():
        assert game in list_games(), f"env module {module} serves the unregistered game {game!r}"


def test_every_versioned_module_is_listed():
    found = {m.name for m in pkgutil.iter_modules(envs_pkg.__path__) if re.fullmatch(r".+_v\d+", m.name)}
    assert found == set(ENV_MODULES) | set(DYNAMIC_ENV_MODULES)


def test_generic_cases_are_the_registry():
    assert GAMES == list_games() and len(GAMES) >= 6
    assert set(ENV_MODULES.values()) <= set(GAMES)


@pytest.mark.parametrize("module", MODULES)
def test_versioned_module_agents_and_spaces(module):
    mod = env_module(module)
    for env in (mod.parallel_env(), mod.raw_env()):
        game = env.game
        assert env.possible_agents == game.agents  # hierarchy order, leader first
        assert env.metadata["name"] == module
        for i, a in enumerate(env.possible_agents):
            box = env.action_space(a)
            assert box is env.action_space(a) and env.observation_space(a) is env.observation_space(a)
            assert box.dtype == F32 and box.shape == (game.dims[i],)
            np.testing.assert_array_equal(box.low, game.players[i].low.astype(F32))
    for fn in (mod.parallel_env, mod.env, mod.raw_env):  # the shared conventions, naming this module's game
        assert fn.__doc__.startswith(module) and f":mod:`stackenv.games.{ENV_MODULES[module]}`" in fn.__doc__
