"""VectorSingleAgentEnv / SB3VecEnv: copy b is SingleAgentEnv over the PettingZoo env seeded seed + b (bit for
bit, across auto-resets), SB3's VecEnv semantics against DummyVecEnv, shared-env attribute access, errors."""

from __future__ import annotations

import numpy as np
import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import is_wrapped
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv

import agents
from stackenv.envs import BatchedStackelbergEnv, StackelbergParallelEnv
from stackenv.games import make
from stackenv.wrappers import SB3VecEnv, SingleAgentEnv, VectorSingleAgentEnv

B, SEED, MAX_STEPS, STEPS = 3, 11, 4, 10  # 10 steps over episodes of 4: two auto-resets


def opponent(feedback: str, other: str, batched: bool):
    """A deterministic learner for every seat and feedback mode (fresh per env), or a row-wise policy of the
    observation (randomised learners match only at B = 1: test_randomised_learner_matches_at_one_copy)."""
    if feedback == "reward" and other == "follower":
        return agents.BestResponse()
    if feedback == "reward":  # a policy of the joint action: 20 + q_2 / 2
        return (lambda obs: 20.0 + obs[:, 1:] / 2) if batched else (lambda obs: 20.0 + obs[1:] / 2)
    if feedback == "hierarchical" and other == "leader":
        return agents.HierarchicalLeader()
    if feedback == "second_order":  # a policy of the dict observation: 30 + the own gradient / 100
        if batched:
            return lambda obs: 30.0 + obs["grad"][:, :1] / 100
        return lambda obs: 30.0 + obs["grad"][:1] / 100
    return agents.GradientPlay()


def assert_same(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            assert_same(a[k], b[k])
    else:
        assert np.asarray(a).dtype == np.asarray(b).dtype
        np.testing.assert_array_equal(a, b)


def _pair(game, feedback, agent, rescale, batch=B):
    other = "follower" if agent == "leader" else "leader"
    kw = {"feedback": feedback, "noise_std": 2.0, "max_steps": MAX_STEPS}
    vec = VectorSingleAgentEnv(
        BatchedStackelbergEnv(game, batch, **kw), agent, {other: opponent(feedback, other, True)}, rescale
    )
    singles = [
        SingleAgentEnv(StackelbergParallelEnv(game, **kw), agent, {other: opponent(feedback, other, False)}, rescale)
        for _ in range(batch)
    ]
    return vec, singles


def _actions(rng, shape, rescale):
    """Actions partly outside the box, so clipping and the out-of-bounds flags are compared too."""
    return rng.uniform(-1.2, 1.2, shape) if rescale else rng.uniform(-10.0, 110.0, shape)


@pytest.mark.parametrize("rescale", [False, True])
@pytest.mark.parametrize("agent", ["leader", "follower"])
@pytest.mark.parametrize("feedback", ["reward", "gradient", "hierarchical", "second_order"])
def test_copy_b_is_single_agent_env_seeded_seed_plus_b(feedback, agent, rescale):
    game = make("duopoly")
    vec, singles = _pair(game, feedback, agent, rescale)
    obs, info = vec.reset(seed=SEED)
    for b, env in enumerate(singles):
        o, i = env.reset(seed=SEED + b)
        assert_same(obs[b] if not isinstance(obs, dict) else {k: v[b] for k, v in obs.items()}, o)
        assert info["out_of_bounds"][b] == i["out_of_bounds"]
    rng = np.random.default_rng(0)
    for t in range(1, STEPS + 1):
        act = _actions(rng, (B, 1), rescale).astype(np.float32)
        obs, rew, term, trunc, info = vec.step(act)
        for b, env in enumerate(singles):
            o, r, te, tr, i = env.step(act[b])
            assert (te, tr) == (term[b], trunc[b]) and tr == (t % MAX_STEPS == 0)
            assert rew[b] == r and info["out_of_bounds"][b] == i["out_of_bounds"]
            if te or tr:  # SAME_STEP autoreset: the final observation in the infos, the reset one returned
                assert_same(info["final_obs"][b], o)
                o, _ = env.reset()
            assert_same(obs[b] if not isinstance(obs, dict) else {k: v[b] for k, v in obs.items()}, o)


def test_randomised_learner_matches_at_one_copy():
    """A randomised opponent (zeroth-order, reward feedback) draws the same stream at B = 1."""
    game, kw = make("duopoly"), {"feedback": "reward", "noise_std": 2.0, "max_steps": MAX_STEPS}
    leaders = [{"leader": agents.make_learner("zeroth_order")} for _ in range(2)]
    vec = VectorSingleAgentEnv(BatchedStackelbergEnv(game, 1, **kw), "follower", leaders[0], True)
    single = SingleAgentEnv(StackelbergParallelEnv(game, **kw), "follower", leaders[1], True)
    vec.reset(seed=SEED)
    single.reset(seed=SEED)
    rng = np.random.default_rng(1)
    for _ in range(STEPS):
        act = rng.uniform(-1, 1, (1, 1)).astype(np.float32)
        obs, rew, *_ = vec.step(act)
        o, r, te, tr, _ = single.step(act[0])
        if te or tr:
            o, _ = single.reset()
        assert rew[0] == r
        assert_same(obs[0], o)


def test_sb3_vec_env_equals_dummy_vec_env_of_single_agent_envs():
    """SB3's VecEnv semantics step for step: auto-reset, terminal_observation, TimeLimit.truncated, float32
    rewards, seeding through ``seed()``; a gradient-play follower learner on all copies at once."""
    game = make("duopoly")
    kw = {"feedback": "gradient", "noise_std": 2.0, "max_steps": MAX_STEPS}
    ours = SB3VecEnv(BatchedStackelbergEnv(game, B, **kw), "leader", {"follower": agents.GradientPlay()}, True)

    def single():
        return SingleAgentEnv(StackelbergParallelEnv(game, **kw), "leader", {"follower": agents.GradientPlay()}, True)

    ref = DummyVecEnv([single] * B)
    assert ours.observation_space == ref.observation_space and ours.action_space == ref.action_space
    ours.seed(SEED)
    ref.seed(SEED)
    assert_same(ours.reset(), ref.reset())
    rng = np.random.default_rng(2)
    for _ in range(STEPS):
        act = rng.uniform(-1, 1, (B, 1)).astype(np.float32)
        obs, rew, done, infos = ours.step(act)
        obs_r, rew_r, done_r, infos_r = ref.step(act)
        assert_same(obs, obs_r)
        assert_same(rew, rew_r)
        assert_same(done, done_r)
        assert infos == infos_r


def test_a_terminated_copy_ends_every_copys_episode():
    """Duopoly with a price floor: where Q > A the follower's H22 = 0 and the env terminates that copy; the vector
    env resets all copies at once and reports the others truncated."""
    game = make("duopoly", price_floor=True)
    env = BatchedStackelbergEnv(game, 3, feedback="hierarchical", noise_std=1.0)
    vec = VectorSingleAgentEnv(env, "leader", {"follower": lambda obs: np.full((3, 1), 60.0)})
    vec.reset(seed=0, options={"x0": np.full((3, 2), 30.0)})
    obs, rew, term, trunc, info = vec.step(np.array([[30.0], [70.0], [30.0]]))  # copy 1: Q = 130 > A
    np.testing.assert_array_equal(term, [False, True, False])
    np.testing.assert_array_equal(trunc, [True, False, True])
    assert "singular" in info["termination_reason"][1]
    np.testing.assert_array_equal(info["_termination_reason"], [False, True, False])
    assert info["final_obs"].shape == (3,) and env.t == 0 and not env.done.any()  # every copy was reset
    np.testing.assert_array_equal(obs, env.feedback_rows[:, :1].astype(np.float32))  # the reset observation
    assert np.all(np.isfinite(np.stack(info["final_obs"])))


def test_shared_attributes_seeding_and_errors():
    game = make("duopoly")
    env = SB3VecEnv(BatchedStackelbergEnv(game, 4, max_steps=3), "follower", {"leader": agents.GradientPlay()})
    assert env.get_attr("agent") == ["follower"] * 4 and env.get_attr("num_envs", [1, 2]) == [4, 4]
    assert env.env_is_wrapped(Monitor) == [False] * 4 and not is_wrapped(env, Monitor)
    assert env.env_method("reset", seed=3, indices=[0])[0][0].shape == (4, 1)
    env.set_attr("rescale_actions", False)
    with pytest.raises(ValueError, match="set 'rescale_actions' for all"):
        env.set_attr("rescale_actions", True, indices=[0])
    env._seeds = [1, None, None, None]
    with pytest.raises(ValueError, match="seed all of them or none"):
        env.reset()
    env.seed(5)
    env.set_options({"x0": np.full((4, 2), 20.0)})  # one option dict for all copies: the batched env's x0
    env.reset()
    np.testing.assert_array_equal(env.venv.env.x, np.full((4, 2), 20.0))
    assert env.venv.env.seeds == [5, 6, 7, 8]
    with pytest.raises(ValueError, match="must have shape \\(4, 1\\)"):
        env.step(np.zeros((3, 1)))
    with pytest.raises(TypeError, match="BatchedStackelbergEnv"):
        SB3VecEnv(StackelbergParallelEnv(game), "leader", {"follower": agents.GradientPlay()})
    with pytest.raises(ValueError, match=r"missing \['leader'\]"):
        VectorSingleAgentEnv(BatchedStackelbergEnv(game, 2), "follower", {})
    vec = VectorSingleAgentEnv(BatchedStackelbergEnv(game, 2), "follower", {"leader": lambda obs: np.zeros((3, 1))})
    vec.reset(seed=0)
    with pytest.raises(ValueError, match=r"policy for 'leader' returned an action of shape \(3, 1\), expected \(2,"):
        vec.step(np.zeros((2, 1)))


def test_ppo_learns_on_the_vec_env():
    """PPO trains end to end on 16 copies (SB3's own rollout loop: auto-resets, terminal observations)."""
    env = SB3VecEnv(
        BatchedStackelbergEnv(make("duopoly"), 16, feedback="reward", max_steps=1),
        "leader",
        {"follower": agents.BestResponse()},
        rescale_actions=True,
    )
    model = PPO("MlpPolicy", env, n_steps=8, batch_size=64, n_epochs=1, seed=0, device="cpu").learn(256)
    assert model.num_timesteps == 256
