"""The envs driven unchanged by the MARL clients' own code (issue 16): Tianshou's vector-env seeding, and
SuperSuit vectorising flat ``second_order`` feedback into stable-baselines3."""

from __future__ import annotations

import numpy as np
import pytest

from stackenv.envs import duopoly_v0

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")


def test_tianshou_vector_env_seed_gives_reproducible_distinct_copies():
    tianshou_env = pytest.importorskip("tianshou.env")

    def make():
        return tianshou_env.PettingZooEnv(duopoly_v0.env(feedback="gradient", noise_std=1.0, pad_observations=True))

    def first_obs():
        venv = tianshou_env.DummyVectorEnv([make for _ in range(3)])
        venv.seed(0)  # calls env.seed(0 + i): absent, so Tianshou falls back to reset(seed=0 + i)
        obs, _ = venv.reset()
        return np.array([o["obs"] for o in obs])

    a, b = first_obs(), first_obs()
    np.testing.assert_array_equal(a, b)  # reproducible
    assert len({row.tobytes() for row in a}) == 3  # distinct copies


def test_supersuit_vectorises_flat_second_order_into_sb3():
    ss = pytest.importorskip("supersuit")
    sb3 = pytest.importorskip("stable_baselines3")
    env = duopoly_v0.parallel_env(
        feedback="second_order", flatten=True, pad_observations=True, rescale_actions=True, max_steps=20
    )
    venv = ss.concat_vec_envs_v1(ss.pettingzoo_env_to_vec_env_v1(env), 2, num_cpus=0, base_class="stable_baselines3")
    # the leader's, padded for the follower: grad (2), H22 (1), H21 (1), grads (2 × 2), J (2 × 2)
    assert venv.num_envs == 4 and venv.observation_space.shape == (12,)
    obs = venv.reset()
    assert obs.shape == (4, 12) and np.isfinite(obs).all()
    # (no seed= here: SuperSuit's ConcatVecEnv has no seed() for SB3 to call — an upstream fault)
    model = sb3.PPO("MlpPolicy", venv, n_steps=16, batch_size=16, n_epochs=1, verbose=0)
    model.learn(64)
    assert model.num_timesteps >= 64
