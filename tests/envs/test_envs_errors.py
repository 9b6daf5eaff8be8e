"""Clear errors and no silent overflow (issue 17): bad seeds and agent names, AEC calls outside an episode,
domains beyond float32, narrow dtypes, and observation spaces that stay O(N) for N agents."""

from __future__ import annotations

import numpy as np
import pytest

from stackenv.envs import BatchedStackelbergEnv, duopoly_v0, parallel_env, raw_env
from stackenv.games import make

F32 = np.float32


@pytest.mark.parametrize("seed", [1.5, "7", [1.0, 2.0], True])
def test_bad_seeds_name_the_problem(seed):
    bat = BatchedStackelbergEnv(make("duopoly"), num_envs=2)
    with pytest.raises(ValueError, match="seed"):
        bat.reset(seed=seed)
    with pytest.raises(ValueError, match="seed"):
        duopoly_v0.parallel_env().reset(seed=seed)


def test_unknown_agent_names_the_agents():
    bat = BatchedStackelbergEnv(make("duopoly"), num_envs=2)
    for env in (duopoly_v0.parallel_env(), duopoly_v0.env(), duopoly_v0.raw_env(), bat):
        for method in (env.observation_space, env.action_space):
            with pytest.raises(ValueError, match=r"unknown agent 'bogus'; agents are \['leader', 'follower'\]"):
                method("bogus")


def test_aec_calls_outside_an_episode():
    env = raw_env("duopoly", max_steps=1)
    with pytest.raises(RuntimeError, match="before reset"):
        env.observe("leader")
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.array([1.0], F32))
    env.reset(seed=0)
    with pytest.raises(ValueError, match="unknown agent"):
        env.observe("bogus")
    for agent in env.agent_iter():  # one round, then a dead step per agent: the episode is over
        env.step(None if env.terminations[agent] or env.truncations[agent] else np.array([1.0], F32))
    assert env.agents == []
    with pytest.raises(RuntimeError, match="outside an episode"):
        env.step(np.array([1.0], F32))
    assert env.observe("leader").shape == (1,)  # the last observation stays readable


@pytest.mark.parametrize(("game_name", "params"), [("duopoly", {"A": 1e39}), ("quadratic", {"bound": 1e39})])
def test_domains_beyond_float32_are_refused(game_name, params):
    with pytest.raises(ValueError, match="float32"):
        parallel_env(game_name, feedback="reward", **params)


def test_narrow_dtype_diverges_before_overflowing():
    """float16 holds up to 65504: duopoly rewards of ~1e5 terminate the copy instead of becoming ±inf."""
    bat = BatchedStackelbergEnv(make("duopoly", A=1000.0), num_envs=2, feedback="reward", dtype=np.float16)
    bat.reset(seed=0, options={"x0": [[10.0, 10.0], [10.0, 10.0]]})
    _, rew, term, _, infos = bat.step(np.array([[10.0, 10.0], [500.0, 400.0]]))  # profits ~1e4 and ~4e4·…
    assert np.isfinite(rew["leader"]).all() and np.isfinite(rew["follower"]).all()
    _, rew, term, _, infos = bat.step(np.array([[300.0, 10.0], [0.0, 0.0]]))  # leader profit 2.07e5 > 65504
    assert term["leader"].tolist() == [True, False]
    assert "diverged" in infos["leader"]["termination_reason"][0]
    assert np.isfinite(rew["leader"]).all()


def test_reward_spaces_are_shared_not_copied():
    """Reward-mode observations are the joint action: N agents share one (d,) space (was N copies: O(N²))."""
    N = 300
    game = make("oligopoly", leader_cost=2.0, follower_costs=np.full(N, 2.0))
    env = parallel_env(game, feedback="reward")
    spaces = {id(env.observation_space(a)) for a in env.possible_agents}
    assert len(spaces) == 1
    bat = BatchedStackelbergEnv(game, num_envs=4, feedback="reward")
    assert len({id(bat.observation_space(a)) for a in bat.possible_agents}) == 1
    aec = raw_env(game, feedback="reward")
    assert len({id(aec.observation_space(a)) for a in aec.possible_agents}) == 2  # the leader, and the followers


@pytest.mark.parametrize("feedback", ["gradient", "reward"])
def test_a_value_clamped_at_reset_is_flagged_not_silent(feedback):
    # Noise of std 1e39 pushes every reset value past float32 (3.4e38): the value is clamped into the space and the
    # reset infos say so, per copy in the batched env and per agent in the PettingZoo envs.
    bat = BatchedStackelbergEnv(make("duopoly"), num_envs=3, feedback=feedback, noise_std=1e39)
    obs, infos = bat.reset(seed=0)
    assert all(np.isfinite(o).all() for o in obs.values())
    assert all(str(r).startswith("clamped at reset") for r in infos["leader"]["clamped"])
    par = duopoly_v0.parallel_env(feedback=feedback, noise_std=1e39)
    _, infos = par.reset(seed=0)
    assert infos["follower"]["clamped"].startswith("clamped at reset")
    aec = duopoly_v0.env(feedback=feedback, noise_std=1e39)
    aec.reset(seed=0)
    assert aec.infos["leader"]["clamped"].startswith("clamped at reset")
    # no flag when nothing was clamped
    _, infos = duopoly_v0.parallel_env(feedback=feedback, noise_std=1.0).reset(seed=0)
    assert "clamped" not in infos["leader"]
    _, infos = BatchedStackelbergEnv(make("duopoly"), num_envs=3, feedback=feedback, noise_std=1.0).reset(seed=0)
    assert "clamped" not in infos["leader"]
