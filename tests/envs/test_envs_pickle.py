"""Envs pickle and deepcopy — fresh and mid-episode, every registered game — and a copy continues its episode
bit for bit; a copy's next *unseeded* reset draws fresh streams (clones do not replay each other)."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence

from stackenv.envs import BatchedStackelbergEnv, duopoly_v0

from .envs_cases import GAMES, MODULES, env_module, game_envs, random_actions

COPIERS = {"pickle": lambda e: pickle.loads(pickle.dumps(e)), "deepcopy": copy.deepcopy}


def _run(env, rng_seed: int, steps: int):
    rng = np.random.default_rng(rng_seed)
    return [env.step(random_actions(env, rng, oob=0.1))[:2] for _ in range(steps)]


def test_the_issue_example_pickles():
    pickle.dumps(duopoly_v0.parallel_env())


@pytest.mark.parametrize("how", list(COPIERS))
@pytest.mark.parametrize("game_name", GAMES)
def test_parallel_env_copy_continues_bit_for_bit(game_name, how):
    env = game_envs(game_name).parallel_env(feedback="hierarchical", noise_std=1.0)
    COPIERS[how](env)  # fresh
    env.reset(seed=3)
    _run(env, 0, 3)
    clone = COPIERS[how](env)  # mid-episode
    assert data_equivalence(_run(env, 1, 4), _run(clone, 1, 4))
    np.testing.assert_array_equal(env.x, clone.x)


@pytest.mark.parametrize("how", list(COPIERS))
@pytest.mark.parametrize("game_name", GAMES)
def test_aec_env_copy_continues_bit_for_bit(game_name, how):
    env = game_envs(game_name).env(feedback="second_order", noise_std=0.5)
    env.reset(seed=4)
    rng = np.random.default_rng(0)
    for agent in env.agent_iter(len(env.possible_agents) + 1):  # one round and one action into the next
        env.step(env.action_space(agent).sample() * 0 + rng.uniform(0, 1))
    clone = COPIERS[how](env)
    for e in (env, clone):
        for agent in e.agent_iter(2 * len(e.possible_agents)):
            e.step(np.full(e.action_space(agent).shape, 0.5, np.float32))
    assert data_equivalence(env.last(), clone.last())
    np.testing.assert_array_equal(env.unwrapped.x, clone.unwrapped.x)


@pytest.mark.parametrize("how", list(COPIERS))
@pytest.mark.parametrize("game_name", GAMES)
def test_batched_env_copy_continues_bit_for_bit(game_name, how):
    env = game_envs(game_name).batched_env(num_envs=3, feedback="gradient", noise_std=1.0)
    env.reset(seed=5)
    x = env.x.copy()
    env.step(x)
    clone = COPIERS[how](env)
    a, b = env.step(x), clone.step(x)
    assert data_equivalence(a, b)


@pytest.mark.parametrize("module", MODULES)
def test_versioned_module_envs_pickle(module):
    mod = env_module(module)
    for env in (mod.parallel_env(), mod.env(), mod.raw_env()):
        env.reset(seed=0)
        assert type(pickle.loads(pickle.dumps(env))) is type(env)


@pytest.mark.parametrize("how", list(COPIERS))
def test_copies_draw_fresh_streams_on_unseeded_reset(how):
    """The rule: a copy continues its episode, but its next unseeded ``reset()`` reseeds from OS entropy
    (SuperSuit clones an env that was already reset; without the rule every clone replays the original)."""
    env = duopoly_v0.parallel_env(feedback="gradient", noise_std=1.0)
    env.reset(seed=0)
    clone = COPIERS[how](env)
    first, _ = env.reset()  # the original continues its streams
    again, _ = clone.reset()
    assert clone.current_seed != env.current_seed
    assert not data_equivalence(first, again)
    # seeded resets stay reproducible in copies
    assert data_equivalence(env.reset(seed=9), clone.reset(seed=9))
    bat = BatchedStackelbergEnv(env.game, num_envs=2, noise_std=1.0)
    bat.reset(seed=1)
    twin = COPIERS[how](bat)
    bat.reset()
    twin.reset()
    assert twin.seeds != bat.seeds
