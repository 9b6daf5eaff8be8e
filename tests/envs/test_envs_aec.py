"""Leader-first (AEC) play: order, observations of the actions committed above, agreement with parallel play."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence

from stackenv.envs import (
    FEEDBACK_MODES,
    duopoly_v0,
)

from .envs_cases import env_module, random_actions

F32 = np.float32


def test_aec_leader_first_order_and_observations():
    env = env_module("hierarchy_v0").env(feedback="gradient", noise_std=0.0)
    base = env.unwrapped
    game = base.game
    env.reset(seed=0, options={"x0": (game.low + game.high) / 2})
    plays = [np.array([v], F32) for v in (10.0, 20.0, 30.0)]
    order = []
    for k, agent in enumerate(env.agent_iter(6)):
        obs, rew, *_ = env.last()
        order.append(agent)
        level = game.level_of[game.agents.index(agent)]
        lay = base.observation_layout(agent)
        # committed actions of every level above, this round
        np.testing.assert_array_equal(obs[lay["above"]], [p[0] for p in plays[:level]])
        if k >= 3:  # feedback from the completed first round: the gradient at (10, 20, 30)
            np.testing.assert_allclose(obs[lay["feedback"]], game.omega(np.array([10.0, 20.0, 30.0]))[level], rtol=1e-6)
            assert rew == pytest.approx(-game.costs(np.array([10.0, 20.0, 30.0]))[level])
        env.step(plays[level])
    assert order == game.agents * 2


@pytest.mark.parametrize("feedback", FEEDBACK_MODES)
def test_aec_feedback_matches_parallel(feedback):
    par = duopoly_v0.parallel_env(feedback=feedback, noise_std=1.0)
    aec = duopoly_v0.env(feedback=feedback, noise_std=1.0)
    rng = np.random.default_rng(0)
    par.reset(seed=11)
    aec.reset(seed=11)
    for _ in range(10):
        acts = random_actions(par, rng)
        obs, rew, *_ = par.step(acts)
        for a in aec.agent_iter(2):
            aec.step(acts[a])
        for a in par.possible_agents:
            assert data_equivalence(aec.unwrapped.feedback_obs(a), obs[a])
            assert aec.unwrapped.rewards[a] == rew[a]
        leader_obs = aec.observe("leader")
        assert data_equivalence(leader_obs, obs["leader"])
