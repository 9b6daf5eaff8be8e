"""Client conventions (issue 16) and the default episode length: ``seed`` is not shadowed, distinct level
names in ``hierarchy_v1``, flat ``second_order`` with ``unflatten``, equal (padded) observation spaces,
actions rescaled from [−1, 1]."""

from __future__ import annotations

import numpy as np
import pytest
from pettingzoo.test import api_test, parallel_api_test

from stackenv.envs import DEFAULT_MAX_STEPS, duopoly_v0, hierarchy_v0, hierarchy_v1, parallel_env

from .envs_cases import GAMES, game_envs

F32 = np.float32


def test_default_max_steps_ends_a_plain_loop():
    env = duopoly_v0.parallel_env()
    env.reset(seed=0)
    steps = 0
    while env.agents:
        env.step({a: env.action_space(a).sample() for a in env.agents})
        steps += 1
    assert steps == DEFAULT_MAX_STEPS == 1000
    assert duopoly_v0.parallel_env(max_steps=None).max_steps is None


def test_seed_is_not_an_attribute():
    """Tianshou's ``PettingZooEnv.seed`` calls ``env.seed(s)`` and falls back to ``reset(seed=s)`` on AttributeError."""
    for env in (duopoly_v0.parallel_env(), duopoly_v0.env(), duopoly_v0.raw_env()):
        env.reset(seed=12)
        assert not hasattr(env.unwrapped, "seed")
        assert env.unwrapped.current_seed == 12


def test_hierarchy_v1_levels_have_distinct_names():
    costs = (5.0, 2.0, 3.0, 1.0)
    v1, v0 = hierarchy_v1.parallel_env(costs=costs), hierarchy_v0.parallel_env(costs=costs)
    assert v1.possible_agents == ["leader", "level1", "level2", "level3"]
    assert v0.possible_agents == ["leader", "follower_0", "follower_1", "follower_2"]  # v0 stays as it was
    assert len({a.rsplit("_", 1)[0] for a in v1.possible_agents}) == 4  # no two read as one homogeneous group
    assert v1.game.agents == v1.possible_agents
    for a, b in zip(v1.reset(seed=0)[0].values(), v0.reset(seed=0)[0].values()):
        np.testing.assert_array_equal(a, b)  # the same math under new names
    api_test(hierarchy_v1.env(max_steps=5), num_cycles=6)


@pytest.mark.parametrize("game_name", GAMES)
def test_flat_second_order_is_the_dict_flattened(game_name):
    mk = game_envs(game_name)
    flat, nested = mk.parallel_env(feedback="second_order", flatten=True), mk.parallel_env(feedback="second_order")
    fo, _ = flat.reset(seed=1)
    no, _ = nested.reset(seed=1)
    for a in flat.possible_agents:
        space = flat.observation_space(a)
        assert space.shape == fo[a].shape and space.contains(fo[a])
        parts = flat.unflatten(a, fo[a])
        assert set(parts) == set(no[a])
        keys = ("grad", "H22", "H21", "grads", "J")
        expected = np.concatenate([no[a][k].ravel() for k in keys if k in no[a]])
        np.testing.assert_array_equal(fo[a], expected)  # documented layout: grad, H22, H21, grads, J, row-major
        for k in no[a]:
            np.testing.assert_array_equal(parts[k], no[a][k])
    parallel_api_test(mk.parallel_env(feedback="second_order", flatten=True, max_steps=4), num_cycles=5)


def test_unflatten_batched_and_errors():
    bat = game_envs("oligopoly").batched_env(num_envs=3, feedback="second_order", flatten=True)
    obs, _ = bat.reset(seed=0)
    blocks = bat.unflatten("leader", obs["leader"])
    assert blocks["grad"].shape == (3, bat.game.d) and blocks["H22"].shape[0] == 3
    with pytest.raises(ValueError, match="values"):
        bat.unflatten("leader", obs["leader"][:, :-1])
    with pytest.raises(ValueError, match="unknown agent"):
        bat.unflatten("boss", obs["leader"])
    with pytest.raises(ValueError, match="second_order"):
        game_envs("duopoly").parallel_env().unflatten("leader", np.zeros(1))


@pytest.mark.parametrize("feedback", ["gradient", "reward", "second_order"])
def test_pad_observations_gives_one_space(feedback):
    env = hierarchy_v1.env(feedback=feedback, flatten=True, pad_observations=True, noise_std=1.0, max_steps=5)
    base = env.unwrapped
    space = env.observation_space("leader")
    assert all(env.observation_space(a) is space for a in env.possible_agents)
    env.reset(seed=0)
    for agent in env.agent_iter(6):
        obs = env.observe(agent)
        assert space.contains(obs)
        lay = base.observation_layout(agent)
        assert not obs[lay["above"].stop :].any()  # the padding is zeros
        env.step(env.action_space(agent).sample())
    api_test(hierarchy_v1.env(feedback=feedback, flatten=True, pad_observations=True, max_steps=5), num_cycles=6)
    par = parallel_env("oligopoly", feedback=feedback, flatten=True, pad_observations=True)
    obs, _ = par.reset(seed=0)
    assert all(par.observation_space(a).contains(o) for a, o in obs.items())
    with pytest.raises(ValueError, match="flatten=True"):
        hierarchy_v1.env(feedback="second_order", pad_observations=True)


def test_rescale_actions_maps_minus_one_one_onto_the_bounds():
    env = duopoly_v0.parallel_env(feedback="reward", rescale_actions=True)
    box = env.action_space("leader")
    assert (box.low, box.high) == (np.array([-1.0], F32), np.array([1.0], F32))
    env.reset(seed=0)
    env.step({"leader": np.array([-1.0], F32), "follower": np.array([0.5], F32)})
    np.testing.assert_allclose(env.x, [0.0, 75.0])
    _, _, _, _, infos = env.step({"leader": np.array([1.5]), "follower": np.array([1.0])})
    np.testing.assert_allclose(env.x, [100.0, 100.0])
    assert infos["leader"]["out_of_bounds"] and not infos["follower"]["out_of_bounds"]
    aec = duopoly_v0.env(feedback="gradient", rescale_actions=True)
    aec.reset(seed=0)
    aec.step(np.array([0.0], F32))
    aec.step(np.array([-1.0], F32))
    np.testing.assert_allclose(aec.unwrapped.x, [50.0, 0.0])
    api_test(duopoly_v0.env(rescale_actions=True, max_steps=5), num_cycles=6)
