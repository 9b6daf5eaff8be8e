"""Seeding: same seed same trajectory, per-agent noise streams and scales, the x0 option."""

from __future__ import annotations

import math

import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence

from stackenv.envs import (
    FEEDBACK_MODES,
    duopoly_v0,
    parallel_env,
    torus_v0,
)

from .envs_cases import random_actions

F32 = np.float32


@pytest.mark.parametrize("feedback", FEEDBACK_MODES)
def test_same_seed_same_trajectory(feedback):
    def run(seed):
        env = duopoly_v0.parallel_env(feedback=feedback, noise_std=[1.0, 2.0])
        rng = np.random.default_rng(5)
        obs, _ = env.reset(seed=seed)
        traj = [obs]
        for _ in range(30):
            obs, rew, *_ = env.step(random_actions(env, rng, oob=0.1))
            traj.append((obs, rew))
        return traj

    assert data_equivalence(run(7), run(7))
    assert not data_equivalence(run(7), run(8))


def test_noise_streams_per_agent_and_reset_continues():
    env = quad = parallel_env("quadratic", feedback="gradient", noise_std=1.0)
    a = {ag: np.zeros(quad.action_space(ag).shape, F32) for ag in env.possible_agents}
    env.reset(seed=0, options={"x0": np.zeros(env.game.d)})
    exact = env.game.omega(np.zeros(env.game.d))
    w = np.array([np.concatenate([env.step(a)[0][ag] for ag in env.possible_agents]) - exact for _ in range(400)])
    assert abs(np.corrcoef(w[:, 0], w[:, 1])[0, 1]) < 0.2  # independent streams
    first, _ = env.reset(seed=0, options={"x0": np.zeros(env.game.d)})
    again, _ = env.reset(options={"x0": np.zeros(env.game.d)})  # no seed: streams continue
    assert not np.array_equal(first["leader"], again["leader"])


def test_noise_std_paper_variance():
    """The paper's N(0, 10) is variance 10: noise_std=√10 gives that variance."""
    env = duopoly_v0.parallel_env(feedback="gradient", noise_std=10**0.5, max_steps=None)  # 4000 steps
    x0 = [30.0, 30.0]
    act = {a: np.array([30.0], F32) for a in env.possible_agents}
    env.reset(seed=1, options={"x0": x0})
    exact = env.game.omega(np.array(x0))
    w = np.array([[env.step(act)[0][a][0] for a in env.possible_agents] for _ in range(4000)]) - exact
    assert np.var(w, axis=0) == pytest.approx([10.0, 10.0], rel=0.08)
    assert np.abs(w.mean(axis=0)).max() < 0.2


@pytest.mark.parametrize("noise", ["gaussian", "student_t"])
@pytest.mark.parametrize("noise_std", [{"leader": 0.5, "follower": 2.0}, [0.5, 2.0]])
def test_env_noise_kind_and_per_agent_std(noise, noise_std):
    """Each agent's feedback noise is its own column of the copy's noise stream times its own std (Student-t
    rescaled to that std)."""
    from stackenv.envs.noise import noise_rng

    df, seed, T = 4.0, 5, 300
    env = duopoly_v0.parallel_env(feedback="gradient", noise=noise, df=df, noise_std=noise_std)
    x0 = np.array([30.0, 30.0])
    act = {a: np.array([30.0], F32) for a in env.possible_agents}
    obs, _ = env.reset(seed=seed, options={"x0": x0})
    rows = [obs] + [env.step(act)[0] for _ in range(T - 1)]
    got = np.array([[o[a][0] for a in env.possible_agents] for o in rows], dtype=float)
    unit = math.sqrt((df - 2) / df) if noise == "student_t" else 1.0
    expected = np.empty((T, 2))
    gen = noise_rng(seed)
    z = gen.standard_t(df, (T, 2)) if noise == "student_t" else gen.standard_normal((T, 2))
    for i, std in enumerate((0.5, 2.0)):
        expected[:, i] = env.game.omega(x0)[i] + std * unit * z[:, i]
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-5)
    w = got - env.game.omega(x0)
    assert np.std(w[:, 1]) / np.std(w[:, 0]) == pytest.approx(4.0, rel=0.25)


def test_x0_option_and_validation():
    env = duopoly_v0.parallel_env(feedback="reward")
    obs, _ = env.reset(options={"x0": [12.5, 80.0]})
    np.testing.assert_array_equal(obs["follower"], [12.5, 80.0])
    for bad, match in (([1.0], "shape"), ([np.nan, 1.0], "finite"), ([120.0, 1.0], "outside")):
        with pytest.raises(ValueError, match=match):
            env.reset(options={"x0": bad})
    env = torus_v0.parallel_env(feedback="reward")
    env.reset(options={"x0": [4.0, 0.0]})  # periodic coordinates wrap
    np.testing.assert_allclose(env.x, [4.0 - 2 * np.pi, 0.0])
