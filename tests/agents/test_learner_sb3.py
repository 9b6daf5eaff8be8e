"""The SB3 adapter: training through the single-agent view, then playing as a learner."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

import agents
from agents.sb3 import SB3Learner, train_sb3
from stackenv.envs import BatchedStackelbergEnv, duopoly_v0
from stackenv.games import make

pytest.importorskip("stable_baselines3")

#: An off-centre duopoly: the Stackelberg quantity q_1* = (A + c_2 − 2c_1)/2 = 21 lies far from the centre 50 of
#: the action range [0, 100], where an untrained policy already commits.
OFF_CENTRE = {"A": 100.0, "c": (30.0, 2.0)}


def train_duopoly(algo, env, agent, opponents, total_timesteps, **algo_kwargs):
    """``train_sb3`` with the duopoly's scalings (quantities O(10²); rewards divided by the leader's profit
    curvature in [−1, 1] action units, (A/2)² = 2500) and seed 0."""
    return train_sb3(
        algo, env, agent, opponents, total_timesteps, obs_scale=1 / 100, reward_scale=1 / 2500, seed=0, **algo_kwargs
    )


def test_ppo_leader_learns_the_commitment_and_plays_in_the_batched_env():
    """PPO commits a quantity each one-step episode of the leader-first AEC env against the exact best response
    (reward feedback), then plays B = 16 runs of the batched env through ``play``: it commits to q_1* = 21
    (measured 20.35 with this seed; the centre of the range is 29 away, the Nash quantity 14 is 7 away)."""
    follower = agents.BestResponse()
    leader = train_duopoly(
        "PPO",
        duopoly_v0.env(feedback="reward", max_steps=1, **OFF_CENTRE),
        "leader",
        {"follower": follower},
        total_timesteps=4096,
        n_steps=64,
        batch_size=64,
        learning_rate=3e-3,
        gamma=0.0,
    )
    assert isinstance(leader, SB3Learner) and leader.model.num_timesteps >= 4096
    assert leader.feedback_modes(True) == ("reward",)
    game = make("duopoly", **OFF_CENTRE)
    env = BatchedStackelbergEnv(game, num_envs=16, feedback="reward")
    traj = agents.play(env, {"leader": leader, "follower": agents.BestResponse()}, 20, seed=1)
    assert traj.x.shape == (21, 16, 2) and np.all(np.isfinite(traj.x))
    assert np.all((traj.x_final >= game.low) & (traj.x_final <= game.high))
    np.testing.assert_allclose(traj.x_final[:, 0], game.stackelberg_closed_form()[0], atol=2.0)
    # deterministic policy of the last observation (the joint action) and an exact best response below it
    np.testing.assert_allclose(traj.x_final[:, 1], game.response(traj.x_final)[:, 1], rtol=1e-12)
    # feedback and role checks: the policy was trained on reward observations only
    with pytest.raises(ValueError, match="feedback"):
        agents.play(BatchedStackelbergEnv(game, 2, feedback="gradient"), {"leader": leader, "follower": follower}, 2)


def test_sac_follower_trains_against_a_hierarchical_leader():
    """Either role: an off-policy SAC follower under gradient feedback against a learning leader."""
    game = make("duopoly", **OFF_CENTRE)
    follower = train_duopoly(
        "sac",
        duopoly_v0.parallel_env(feedback="hierarchical", max_steps=5, **OFF_CENTRE),
        "follower",
        {"leader": agents.HierarchicalLeader()},
        total_timesteps=64,
        learning_starts=32,
        batch_size=16,
    )
    traj = agents.play(
        BatchedStackelbergEnv(game, 4, feedback="hierarchical"),
        {"leader": agents.HierarchicalLeader(), "follower": follower},
        10,
        seed=0,
    )
    assert np.all(np.isfinite(traj.x_final))
    # each follower action is the deterministic policy of the previous step's (noiseless) own gradient, scaled by
    # obs_scale, with the [−1, 1] output mapped onto [0, A]
    obs = game.grad(1, traj.x[-2])[:, 1:] / 100
    action, _ = follower.model.predict(obs.astype(np.float32), deterministic=True)
    expected = (np.clip(action[:, 0], -1.0, 1.0) + 1.0) * game.A / 2
    np.testing.assert_allclose(traj.x_final[:, 1], expected, rtol=1e-6)


def test_sb3_learner_validates_shapes_and_algorithms():
    game = make("duopoly")

    class Fake:
        action_space = gymnasium.spaces.Box(-1, 1, (2,))
        observation_space = gymnasium.spaces.Box(-1, 1, (2,))

        def predict(self, obs, deterministic=True):
            return np.zeros((len(obs), 2)), None

    with pytest.raises(ValueError, match="action space"):
        SB3Learner(Fake(), "reward").bind(game, "leader", "reward")
    with pytest.raises(ValueError, match="predict"):
        SB3Learner(object(), "reward")
    with pytest.raises(ValueError, match="unknown SB3 algorithm"):
        env = duopoly_v0.env(feedback="reward", max_steps=1)
        train_sb3("NOPE", env, "leader", {"follower": agents.BestResponse()}, 1)


def test_ppo_follower_trained_in_the_aec_env_sees_the_leaders_action_in_any_env():
    """Either role, leader-first: a PPO follower trained in the AEC env observes its gradient and this round's
    committed leader action (``above``). As an ``SB3Learner`` it rebuilds that from the joint action, so it plays
    the same trajectory in the batched env (copy b, seed s) as in the AEC env (seed s + b), up to float32
    rounding of the policy's inputs."""
    from stackenv.envs import StackelbergAECEnv

    follower = train_duopoly(
        "PPO",
        duopoly_v0.env(feedback="gradient", max_steps=8, **OFF_CENTRE),
        "follower",
        {"leader": agents.GradientPlay()},
        total_timesteps=128,
        n_steps=64,
        batch_size=32,
        n_epochs=1,
    )
    assert follower.above and follower.model.observation_space.shape == (2,)  # own gradient + leader's q_1
    game, K, s = make("duopoly", **OFF_CENTRE), 20, 3
    batched = BatchedStackelbergEnv(game, num_envs=2, feedback="gradient", noise_std=np.sqrt(10), dtype=np.float32)
    ref = agents.play(batched, {"leader": agents.GradientPlay(), "follower": follower}, K, seed=s)
    aec = StackelbergAECEnv(game, feedback="gradient", noise_std=np.sqrt(10))
    traj = agents.play(aec, {"leader": agents.GradientPlay(), "follower": follower}, K, seed=s + 1)
    assert not ref.stopped.any() and not traj.stopped.any()
    np.testing.assert_allclose(traj.x[:, 0], ref.x[:, 1], atol=1e-5)  # measured 2e-8
