"""SingleAgentEnv: Gymnasium and SB3 env checkers for both roles, opponents (policies and learners), PPO."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from stackenv.envs import duopoly_v0, hierarchy_v0
from stackenv.wrappers import SingleAgentEnv

F32 = np.float32


def constant(value):
    def policy(obs):
        return np.array([value], F32)

    return policy


class GradientLearner:
    """Minimal duck-typed learner (act/update over batches of one): x ← x − γ·obs."""

    def __init__(self, x0: float, lr: float = 0.1):
        self.x = np.array([[x0]])
        self.lr = lr
        self.calls: list[tuple] = []

    def act(self, x_partial=None):
        self.calls.append(("act", None if x_partial is None else x_partial.copy()))
        return self.x.copy()

    def update(self, obs, reward, k):
        self.calls.append(("update", obs.copy(), reward.copy(), k))
        self.x = self.x - self.lr * obs


MAKERS = {"parallel": duopoly_v0.parallel_env, "aec": duopoly_v0.env}


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("feedback", ["reward", "gradient", "second_order"])
@pytest.mark.parametrize("agent", ["leader", "follower"])
@pytest.mark.parametrize("kind", ["parallel", "aec"])
@pytest.mark.parametrize("rescale", [False, True])
def test_env_checkers(kind, agent, feedback, rescale):
    other = "follower" if agent == "leader" else "leader"
    env = SingleAgentEnv(
        MAKERS[kind](feedback=feedback, noise_std=1.0, max_steps=10),
        agent=agent,
        opponents={other: constant(30.0)},
        rescale_actions=rescale,
    )
    gym_check_env(env, skip_render_check=True)
    sb3_check_env(env, warn=False)


def test_rescaled_actions_map_onto_bounds():
    env = SingleAgentEnv(duopoly_v0.parallel_env(feedback="reward"), "leader", {"follower": constant(10.0)}, True)
    env.reset(seed=0)
    env.step(np.array([-1.0], F32))
    np.testing.assert_array_equal(env.env.unwrapped.x, [0.0, 10.0])
    env.step(np.array([0.5], F32))
    np.testing.assert_allclose(env.env.unwrapped.x, [75.0, 10.0])


def test_reward_and_observation_are_the_agents():
    inner = duopoly_v0.parallel_env(feedback="gradient")
    env = SingleAgentEnv(inner, "follower", {"leader": constant(46.0)})
    env.reset(seed=0)
    obs, reward, term, trunc, info = env.step(np.array([26.0], F32))
    game = inner.game
    x = np.array([46.0, 26.0])
    assert reward == pytest.approx(-game.costs(x)[1])
    np.testing.assert_allclose(obs, game.omega(x)[1:], atol=1e-5)
    assert info == {"out_of_bounds": False} and not term and not trunc


@pytest.mark.parametrize("kind", ["parallel", "aec"])
def test_learner_opponent_is_bound_reset_and_updated(kind):
    learner = GradientLearner(x0=10.0, lr=0.25)
    env = SingleAgentEnv(MAKERS[kind](feedback="gradient", max_steps=200), "leader", {"follower": learner})
    env.reset(seed=0, options={"x0": [46.0, 10.0]})
    for _ in range(200):
        *_, trunc, _ = env.step(np.array([46.0], F32))
    assert trunc
    # the follower's gradient play converges to its best response r(46) = (100 − 46 − 2)/2 = 26
    assert learner.x[0, 0] == pytest.approx(26.0, abs=1e-3)
    updates = [c for c in learner.calls if c[0] == "update"]
    assert [c[3] for c in updates] == list(range(1, 201))
    assert updates[0][1].shape == (1, 1) and updates[0][2].shape == (1,)
    acts = [c for c in learner.calls if c[0] == "act"]
    # a responding opponent sees this step's action of the level above in x_partial
    assert acts[0][1].shape == (1, 2) and acts[0][1][0, 0] == 46.0


def test_agents_library_learner_if_available():
    registry = pytest.importorskip("agents.registry")
    learner = registry.make_learner("gradient")
    env = SingleAgentEnv(duopoly_v0.env(feedback="gradient", max_steps=300), "leader", {"follower": learner})
    env.reset(seed=0)
    for _ in range(300):
        env.step(np.array([46.0], F32))
    np.testing.assert_allclose(env.env.unwrapped.x, [46.0, 26.0], atol=1e-2)


def test_aec_follower_sees_leaders_committed_action():
    env = SingleAgentEnv(
        hierarchy_v0.env(feedback="gradient"), "follower_1", {"leader": constant(10.0), "follower_0": constant(20.0)}
    )
    obs, _ = env.reset(seed=0)
    layout = env.env.unwrapped.observation_layout("follower_1")
    np.testing.assert_array_equal(obs[layout["above"]], [10.0, 20.0])


def test_bad_construction():
    with pytest.raises(ValueError, match="unknown agent"):
        SingleAgentEnv(duopoly_v0.parallel_env(), "boss", {})
    with pytest.raises(ValueError, match=r"missing \['follower'\]"):
        SingleAgentEnv(duopoly_v0.parallel_env(), "leader", {})
    with pytest.raises(ValueError, match=r"unknown \['spy'\]"):
        SingleAgentEnv(duopoly_v0.parallel_env(), "leader", {"follower": constant(1.0), "spy": constant(1.0)})
    with pytest.raises(ValueError, match="callable"):
        SingleAgentEnv(duopoly_v0.parallel_env(), "leader", {"follower": 3.0})
    with pytest.raises(TypeError):
        SingleAgentEnv(object(), "leader", {})


def test_render_passes_through():
    env = SingleAgentEnv(duopoly_v0.env(render_mode="rgb_array"), "leader", {"follower": constant(0.0)})
    env.reset(seed=0)
    assert env.render().shape[2] == 3
    env = SingleAgentEnv(duopoly_v0.parallel_env(render_mode="ansi"), "leader", {"follower": constant(0.0)})
    env.reset(seed=0)
    assert "step 0" in env.render()


def test_ppo_trains_on_leader_role():
    from stable_baselines3 import PPO

    inner = duopoly_v0.parallel_env(feedback="reward", noise_std=1.0, max_steps=16)
    best_response = lambda obs: np.array([max((100.0 - float(obs[0]) - 2.0) / 2.0, 0.0)], F32)  # noqa: E731
    env = SingleAgentEnv(inner, "leader", {"follower": best_response}, rescale_actions=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = PPO("MlpPolicy", env, n_steps=64, batch_size=32, n_epochs=2, seed=0, device="cpu")
        model.learn(total_timesteps=256)
    assert model.num_timesteps == 256
    obs, _ = env.reset(seed=1)
    action, _ = model.predict(obs, deterministic=True)
    assert env.action_space.contains(action.astype(F32))
    _, reward, *_ = env.step(action)
    assert np.isfinite(reward)


def test_policy_returning_a_wrong_shape_is_a_clear_error():
    env = SingleAgentEnv(duopoly_v0.parallel_env(), agent="leader", opponents={"follower": lambda obs: np.zeros(3)})
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"policy for 'follower' returned an action of shape \(3,\)"):
        env.step(np.array([1.0], np.float32))
    env = SingleAgentEnv(duopoly_v0.parallel_env(), agent="leader", opponents={"follower": lambda obs: "x"})
    env.reset(seed=0)
    with pytest.raises(ValueError, match="policy for 'follower' returned 'x', not a numeric action"):
        env.step(np.array([1.0], np.float32))
    learner = GradientLearner(x0=10.0)
    learner.act = lambda x_partial=None: np.zeros((1, 2))
    env = SingleAgentEnv(duopoly_v0.parallel_env(), agent="leader", opponents={"follower": learner})
    env.reset(seed=0)
    with pytest.raises(
        ValueError, match=r"learner for 'follower' returned an action of shape \(1, 2\), expected \(1, 1\)"
    ):
        env.step(np.array([1.0], np.float32))


@pytest.mark.parametrize("agent", ["leader", "follower"])
def test_non_finite_action_blames_the_exposed_agent_not_its_opponent(agent):
    # The opponent (an exact best response) would fail on a NaN leader action with a message about itself;
    # the check must fire first and name the agent whose action was bad.
    from agents import make_learner

    other = "follower" if agent == "leader" else "leader"
    opp = make_learner("best_response") if agent == "leader" else constant(40.0)
    env = SingleAgentEnv(duopoly_v0.parallel_env(feedback="reward", max_steps=5), agent=agent, opponents={other: opp})
    env.reset(seed=0)
    for bad in (np.nan, np.inf):
        with pytest.raises(ValueError, match=rf"non-finite action for '{agent}'"):
            env.step(np.array([bad], F32))
