"""The LQ env (``lq_v0``): PettingZoo API and seed tests, Gymnasium/SB3 checkers through ``SingleAgentEnv``,
and returns under the exact equilibrium gains against the solutions' costs."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test, seed_test
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from stackenv.envs import lq_v0
from stackenv.envs.lq import feedback_policy, stackelberg_follower
from stackenv.games import make
from stackenv.wrappers import SingleAgentEnv

NOISY = {"W": [[0.05, 0.0], [0.0, 0.02]], "horizon": 6}
THREE = {  # a leader and two followers, 1-d state
    "A": [[0.95]],
    "B": [[[1.0]], [[0.5]], [[0.8]]],
    "Q": [[[1.0]], [[0.5]], [[2.0]]],
    "R": [[[[1.0]], [[0.1]], [[0.0]]], [[[0.0]], [[1.0]], [[0.0]]], [[[0.2]], [[0.0]], [[1.5]]]],
    "x0": [2.0],
    "horizon": 4,
    "W": [[0.1]],
}


@pytest.mark.parametrize("params", [NOISY, THREE], ids=["two", "three"])
def test_pettingzoo_api_and_seed(params):
    parallel_api_test(lq_v0.parallel_env(**params), num_cycles=20)
    api_test(lq_v0.env(**params), num_cycles=20)
    parallel_seed_test(lambda: lq_v0.parallel_env(**params))
    seed_test(lambda: lq_v0.env(**params))


def test_single_agent_checkers():
    game = make("lq", **NOISY)
    follower = feedback_policy(game, game.feedback_nash(), "follower")
    par = SingleAgentEnv(lq_v0.parallel_env(**NOISY), agent="leader", opponents={"follower": follower})
    gym_check_env(par, skip_render_check=True)
    sb3_check_env(SingleAgentEnv(lq_v0.parallel_env(**NOISY), "leader", {"follower": follower}, rescale_actions=True))
    aec = SingleAgentEnv(
        lq_v0.env(**NOISY), agent="leader", opponents={"follower": stackelberg_follower(game, "follower")}
    )
    gym_check_env(aec, skip_render_check=True)
    leader = feedback_policy(game, game.feedback_stackelberg(), "leader")
    sb3_check_env(SingleAgentEnv(lq_v0.env(**NOISY), "follower", {"leader": leader}, rescale_actions=True))


def _returns(env, policies, episodes: int, seed: int) -> np.ndarray:
    """Returns of ``episodes`` episodes of the parallel env (seeds seed, seed+1, ...), shape (episodes, N)."""
    out = np.zeros((episodes, len(env.possible_agents)))
    for e in range(episodes):
        obs, _ = env.reset(seed=seed + e)
        while env.agents:
            obs, rew, *_ = env.step({a: policies[a](obs[a]) for a in env.agents})
            out[e] += [rew[a] for a in env.possible_agents]
    return out


@pytest.mark.parametrize("params", [NOISY, THREE], ids=["two", "three"])
def test_returns_under_the_exact_gains_match_the_expected_costs(params):
    """Mean cost over 200 seeded episodes vs the exact expected cost: within 4 standard errors (the sample mean
    of i.i.d. episode costs is asymptotically normal, P(|Z| > 4) ≈ 6e-5; the test is seeded, so it is
    deterministic, and the bound is not tuned to the seed). Noise-free: equal up to the float32 observations."""
    game = make("lq", **params)
    for sol in (game.feedback_nash(), game.feedback_stackelberg()):
        policies = {a: feedback_policy(game, sol, a) for a in game.agents}
        costs = -_returns(lq_v0.parallel_env(**params), policies, 200, seed=11)
        se = costs.std(axis=0, ddof=1) / np.sqrt(len(costs))
        assert np.all(np.abs(costs.mean(axis=0) - sol.expected_costs) <= 4 * se), (costs.mean(0), sol.expected_costs)
        assert np.all(sol.expected_costs > sol.costs)
        quiet = {**params, "W": None}
        det = -_returns(lq_v0.parallel_env(**quiet), policies, 1, seed=0)[0]
        np.testing.assert_allclose(det, make("lq", **quiet).feedback_nash().costs if sol.concept == "feedback_nash"
                                   else make("lq", **quiet).feedback_stackelberg().costs, rtol=1e-5)  # fmt: skip


def test_aec_follower_answers_the_leaders_actual_control():
    """Leader first: with the leader on its feedback Stackelberg gains the exact follower answer reproduces the
    follower's gains, and a leader deviation is answered through ``D_t`` (not the equilibrium gain)."""
    game = make("lq", **THREE)
    sol = game.feedback_stackelberg()
    leader = feedback_policy(game, sol, "leader")
    answers = {a: stackelberg_follower(game, a) for a in game.agents[1:]}
    env = lq_v0.raw_env(**THREE)
    env.reset(seed=0)
    total = dict.fromkeys(game.agents, 0.0)
    for _t in range(THREE["horizon"]):
        x = env.x_committed.copy()
        env.step(leader(env.observe("leader")))
        for j, a in enumerate(game.agents[1:], start=1):
            u = answers[a](env.observe(a))
            np.testing.assert_allclose(u, -sol.gains[env.num_steps][j] @ x, rtol=1e-5, atol=1e-6)
            env.step(u)
        for a in game.agents:
            total[a] += env.rewards[a]
    assert env.terminations["leader"] and all(env.terminations.values())
    obs = env.observe("follower_0")
    assert obs.shape == (1 + 1 + 1,) and env.observation_space("follower_0").contains(obs)
    # a deviation: the answer moves with u_0 (slope −D_t B_0), unlike the fixed gain −K_1[t] x
    env.reset(seed=0)
    env.step(np.array([1.0], np.float32))
    dev = answers["follower_0"](env.observe("follower_0"))
    env2 = lq_v0.raw_env(**THREE)
    env2.reset(seed=0)
    env2.step(np.array([-1.0], np.float32))
    assert not np.allclose(dev, answers["follower_0"](env2.observe("follower_0")))


def test_bad_actions():
    env = lq_v0.parallel_env(**NOISY)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="'follower' is not finite"):
        env.step({"leader": np.zeros(1), "follower": np.array([np.nan])})
    _, _, _, _, infos = env.step({"leader": np.array([100.0]), "follower": np.zeros(1)})
    assert infos["leader"]["clipped"] and not infos["follower"]["clipped"]
    with pytest.raises(ValueError, match="render"):
        lq_v0.parallel_env(render_mode="human")
