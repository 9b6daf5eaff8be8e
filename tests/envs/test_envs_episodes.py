"""Episodes: stepping outside an episode, truncation, divergence and undefined feedback."""

from __future__ import annotations

import math

import numpy as np
import pytest

from stackenv.envs import (
    F32_MAX,
    duopoly_v0,
    parallel_env,
)

from .envs_cases import assert_finite_obs, random_actions
from .envs_games import Bilinear, NoHessian

F32 = np.float32


def test_step_outside_episode_raises():
    env = duopoly_v0.parallel_env(max_steps=1)
    a = {"leader": np.array([1.0], F32), "follower": np.array([1.0], F32)}
    with pytest.raises(RuntimeError, match="reset"):
        env.step(a)
    env.reset(seed=0)
    env.step(a)
    assert env.agents == []
    with pytest.raises(RuntimeError, match="reset"):
        env.step(a)


@pytest.mark.parametrize("kind", ["parallel", "aec"])
def test_truncation_at_max_steps(kind):
    T = 5
    rng = np.random.default_rng(0)
    if kind == "parallel":
        env = duopoly_v0.parallel_env(max_steps=T)
        env.reset(seed=0)
        for t in range(1, T + 1):
            _, _, term, trunc, _ = env.step(random_actions(env, rng))
            assert not any(term.values())
            assert all(trunc.values()) == (t == T)
        assert env.agents == [] and env.num_steps == T
    else:
        env = duopoly_v0.env(max_steps=T)
        env.reset(seed=0)
        steps = 0
        for agent in env.agent_iter():
            _, _, term, trunc, _ = env.last()
            env.step(None if term or trunc else env.action_space(agent).sample())
            steps += 1
        assert steps == 2 * T + 2  # T rounds of two actions, then one dead step per agent
        assert env.unwrapped.num_steps == T


def test_divergence_terminates_with_reason():
    """Duopoly with a price floor: where Q > A the follower's H22 = 0, so Df_1 is undefined there."""
    env = duopoly_v0.parallel_env(feedback="hierarchical", price_floor=True)
    obs, _ = env.reset(seed=0, options={"x0": [30.0, 30.0]})
    obs, rew, term, trunc, infos = env.step({"leader": np.array([40.0], F32), "follower": np.array([30.0], F32)})
    assert not any(term.values())
    obs, rew, term, trunc, infos = env.step({"leader": np.array([70.0], F32), "follower": np.array([60.0], F32)})
    assert all(term.values()) and not any(trunc.values())
    reason = infos["leader"]["termination_reason"]
    assert "undefined" in reason and "singular" in reason
    for a in env.possible_agents:
        assert env.observation_space(a).contains(obs[a])
        assert_finite_obs(obs[a])
        assert math.isfinite(rew[a])
    assert env.agents == []


def test_divergence_on_huge_values():
    """Costs beyond float32 range count as divergence (observations must fit float32)."""

    class Huge(Bilinear):
        quadratic = False

        def costs(self, x):
            return super().costs(x) * 1e300

    env = parallel_env(Huge(), feedback="gradient")
    env.reset(seed=0, options={"x0": [0.0, 0.0]})
    _, rew, term, _, infos = env.step({"leader": np.array([1.0]), "follower": np.array([1.0])})
    assert all(term.values()) and "diverged" in infos["follower"]["termination_reason"]
    assert all(abs(r) <= F32_MAX for r in rew.values())


def test_hierarchical_undefined_everywhere_raises():
    with pytest.raises(ValueError, match="hierarchical.*singular everywhere"):
        parallel_env(Bilinear(), feedback="hierarchical")
    for fb in ("gradient", "second_order", "reward"):
        parallel_env(Bilinear(), feedback=fb)  # these are defined
    with pytest.raises(ValueError, match="second_order.*not defined"):
        parallel_env(NoHessian(), feedback="second_order")


def test_undefined_at_reset_redraws_or_raises():
    env = duopoly_v0.parallel_env(feedback="hierarchical", price_floor=True)
    for seed in range(20):  # half the domain is undefined: the default x0 is redrawn until defined
        env.reset(seed=seed)
        assert env.x.sum() <= 100.0
    with pytest.raises(ValueError, match="x0"):
        env.reset(seed=0, options={"x0": [80.0, 80.0]})
