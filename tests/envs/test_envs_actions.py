"""Action validation: non-finite and malformed actions, clipping and wrapping with out-of-bounds flags."""

from __future__ import annotations

import numpy as np
import pytest

from stackenv.envs import (
    duopoly_v0,
    parallel_env,
    torus_v0,
)

from .envs_games import Planar

F32 = np.float32


@pytest.mark.parametrize("kind", ["parallel", "aec"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_action_names_agent(kind, bad):
    if kind == "parallel":
        env = duopoly_v0.parallel_env()
        env.reset(seed=0)
        with pytest.raises(ValueError, match="'follower'.*not finite"):
            env.step({"leader": np.array([1.0], F32), "follower": np.array([bad], F32)})
    else:
        env = duopoly_v0.env()
        env.reset(seed=0)
        with pytest.raises(ValueError, match="'leader'.*not finite"):
            env.step(np.array([bad], F32))


def test_missing_unknown_and_malformed_actions():
    env = duopoly_v0.parallel_env()
    env.reset(seed=0)
    a = np.array([10.0], F32)
    with pytest.raises(ValueError, match=r"missing \['follower'\]"):
        env.step({"leader": a})
    with pytest.raises(ValueError, match=r"unknown \['spy'\]"):
        env.step({"leader": a, "follower": a, "spy": a})
    with pytest.raises(ValueError, match="must be a dict"):
        env.step([a, a])
    with pytest.raises(ValueError, match="shape"):
        env.step({"leader": np.array([1.0, 2.0]), "follower": a})
    with pytest.raises(ValueError, match="dtype"):
        env.step({"leader": np.array(["x"]), "follower": a})
    with pytest.raises(ValueError, match="dtype"):
        env.step({"leader": None, "follower": a})
    # scalars, lists and integer arrays are accepted for 1-d actions
    obs, *_ = env.step({"leader": 10, "follower": [20.0]})
    np.testing.assert_array_equal(env.x, [10.0, 20.0])


def test_out_of_bounds_clipped_and_flagged():
    env = duopoly_v0.parallel_env(feedback="reward")
    env.reset(seed=0)
    obs, _, _, _, infos = env.step({"leader": np.array([150.0], F32), "follower": np.array([-5.0], F32)})
    np.testing.assert_array_equal(env.x, [100.0, 0.0])
    np.testing.assert_array_equal(obs["leader"], [100.0, 0.0])
    assert infos["leader"]["out_of_bounds"] and infos["follower"]["out_of_bounds"]
    _, _, _, _, infos = env.step({"leader": np.array([100.0], F32), "follower": np.array([0.0], F32)})
    assert not infos["leader"]["out_of_bounds"] and not infos["follower"]["out_of_bounds"]


def test_torus_actions_wrap():
    env = torus_v0.parallel_env(feedback="reward")
    env.reset(seed=0)
    _, _, _, _, infos = env.step({"leader": np.array([4.0]), "follower": np.array([-10.0])})
    np.testing.assert_allclose(env.x, [4.0 - 2 * np.pi, -10.0 + 4 * np.pi])
    assert infos["leader"]["out_of_bounds"] and infos["follower"]["out_of_bounds"]
    assert np.all((env.x >= -np.pi) & (env.x < np.pi))
    # float32(π) lies a hair above π: inside the action Box, so not flagged (wrapped silently)
    _, _, _, _, infos = env.step({"leader": np.array([np.pi], F32), "follower": np.array([0.0], F32)})
    assert not infos["leader"]["out_of_bounds"]


def test_aec_out_of_bounds_wrapped_and_flagged():
    env = torus_v0.env(feedback="reward")
    env.reset(seed=0)
    env.step(np.array([4.0]))  # leader, outside [−π, π): wrapped
    env.step(np.array([0.5]))  # follower, inside
    base = env.unwrapped
    np.testing.assert_allclose(base.x, [4.0 - 2 * np.pi, 0.5])
    assert base.infos["leader"]["out_of_bounds"] and not base.infos["follower"]["out_of_bounds"]
    env.step(np.array([0.0]))
    env.step(np.array([-7.0]))
    np.testing.assert_allclose(base.x, [0.0, -7.0 + 2 * np.pi])
    assert not base.infos["leader"]["out_of_bounds"] and base.infos["follower"]["out_of_bounds"]


def test_multi_dimensional_actions_clip_per_coordinate():
    env = parallel_env(Planar(), feedback="gradient")
    env.reset(seed=0)
    _, _, _, _, infos = env.step({"leader": np.array([3.0, 0.5]), "follower": np.array([0.0, -1.0])})
    np.testing.assert_array_equal(env.x, [2.0, 0.5, 0.0, -1.0])
    assert infos["leader"]["out_of_bounds"] and not infos["follower"]["out_of_bounds"]


def test_joint_action_outside_the_common_box_is_checked_per_coordinate():
    """Bounds that differ per player: the domain's common box is (max low, min high); a joint action outside it
    but inside every coordinate's own bounds is taken as it is, one outside its own bounds is clipped and flagged."""
    from stackenv.envs import BatchedStackelbergEnv
    from stackenv.games import CustomGame

    costs = [lambda a, b: a[0] ** 2 + a[0] * b[0], lambda a, b: b[0] ** 2 - a[0] * b[0]]
    game = CustomGame(costs, dims=[1, 1], low=[-1.0, -10.0], high=[1.0, 10.0])
    assert game.domain.common_box == (-1.0, 1.0)
    env = BatchedStackelbergEnv(game, num_envs=2, feedback="gradient")
    env.reset(seed=0)
    _, _, _, _, infos = env.step(np.array([[0.5, 7.0], [0.5, -3.0]]))  # follower beyond ±1, inside ±10
    np.testing.assert_array_equal(env.x, [[0.5, 7.0], [0.5, -3.0]])
    assert not infos["follower"]["out_of_bounds"].any()
    # every entry inside [min low, max high] = [-10, 10], but the leader's -2 is outside its own [-1, 1]
    _, _, _, _, infos = env.step(np.array([[0.5, 9.0], [-2.0, 0.0]]))
    np.testing.assert_array_equal(env.x, [[0.5, 9.0], [-1.0, 0.0]])
    np.testing.assert_array_equal(infos["leader"]["out_of_bounds"], [False, True])
    assert not infos["follower"]["out_of_bounds"].any()
    _, _, _, _, infos = env.step(np.array([[0.5, 12.0], [0.0, 0.0]]))
    np.testing.assert_array_equal(env.x, [[0.5, 10.0], [0.0, 0.0]])
    np.testing.assert_array_equal(infos["follower"]["out_of_bounds"], [True, False])
