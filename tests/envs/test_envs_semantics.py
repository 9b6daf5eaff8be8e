"""Env semantics: agents and spaces, action validation, exact feedback, seeding, episodes, order of play."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

from stackenv import games
from stackenv.envs import (
    ENV_MODULES,
    F32_MAX,
    FEEDBACK_MODES,
    StackelbergAECEnv,
    StackelbergParallelEnv,
    duopoly_v0,
    parallel_env,
    torus_v0,
)
from stackenv.envs import env as aec_env
from stackenv.envs.engine import GAME_BLOCKS_MAX_D, Engine

from .envs_cases import MODULES, all_cases, assert_finite_obs, env_module, random_actions
from .envs_games import Bilinear, NoHessian, Planar

F32 = np.float32


def _exact(game, feedback, x):
    """Per-agent observation the env must give at x with noise_std = 0 (float64, from the game)."""
    out = {}
    for i, a in enumerate(game.agents):
        s = game.slices[i]
        if feedback == "gradient":
            out[a] = game.omega(x)[s]
        elif feedback == "hierarchical":
            out[a] = game.omega_S(x)[s]
        elif feedback == "reward":
            out[a] = x
        else:
            k = game.level_of[i]
            o = {"grad": game.grad(i, x)}
            if k < len(game.levels) - 1:
                H22, H21 = game.response_blocks(x, k)
                cols = [game.level_coords[k].tolist().index(c) for c in range(s.start, s.stop)]
                o["H22"], o["H21"] = H22, H21[:, cols]
            if game.d <= GAME_BLOCKS_MAX_D:  # the dense blocks of the full-information rules
                o["grads"] = np.stack([game.grad(j, x) for j in range(game.n)])
                o["J"] = game.jacobian(x)
            out[a] = o
    return out


def _assert_obs_close(obs, exact):
    if isinstance(exact, dict):
        assert set(obs) == set(exact)
        for k in exact:
            _assert_obs_close(obs[k], exact[k])
        return
    exact = np.asarray(exact, dtype=float)
    assert obs.dtype == F32 and obs.shape == exact.shape
    scale = max(1.0, float(np.max(np.abs(exact), initial=0.0)))
    np.testing.assert_allclose(obs.astype(float), exact, rtol=1e-6, atol=1e-6 * scale)


# ---------------------------------------------------------------------- agents, spaces, metadata
@pytest.mark.parametrize("module", MODULES)
def test_agents_and_spaces(module):
    mod = env_module(module)
    for env in (mod.parallel_env(), mod.raw_env()):
        game = env.game
        assert env.possible_agents == game.agents  # hierarchy order, leader first
        assert env.metadata["name"] == module
    for fn in (mod.parallel_env, mod.env, mod.raw_env):  # the shared conventions, naming this module's game
        assert fn.__doc__.startswith(module) and f":mod:`stackenv.games.{ENV_MODULES[module]}`" in fn.__doc__
        for i, a in enumerate(env.possible_agents):
            box = env.action_space(a)
            assert box is env.action_space(a) and env.observation_space(a) is env.observation_space(a)
            assert box.dtype == F32 and box.shape == (game.dims[i],)
            np.testing.assert_array_equal(box.low, game.players[i].low.astype(F32))


# ---------------------------------------------------------------------- exact feedback (noise off)
@pytest.mark.parametrize(("module", "feedback"), all_cases())
def test_obs_equal_exact_derivatives(module, feedback):
    mod = env_module(module)
    env = mod.parallel_env(feedback=feedback, noise_std=0.0)
    game = env.game
    rng = np.random.default_rng(1)
    obs, _ = env.reset(seed=3)
    x = env.x
    for a, e in _exact(game, feedback, x).items():
        _assert_obs_close(obs[a], e)
    for _ in range(5):
        obs, rew, *_ = env.step(random_actions(env, rng))
        x = env.x
        for a, e in _exact(game, feedback, x).items():
            _assert_obs_close(obs[a], e)
        costs = game.costs(x)
        for i, a in enumerate(env.possible_agents):
            assert isinstance(rew[a], float)
            assert rew[a] == pytest.approx(-costs[i], rel=1e-12, abs=1e-9)


@pytest.mark.parametrize(("module", "feedback"), all_cases())
def test_affine_kernel_matches_generic(module, feedback):
    """The compiled expansion used for small quadratic games agrees with the game's own methods."""
    game = env_module(module).parallel_env().game
    eng = Engine(game, feedback)
    if eng.affine is None:
        pytest.skip("generic kernel only")
    X = game.low + (game.high - game.low) * np.random.default_rng(0).random((16, game.d))
    ca, ra = eng.affine.batch(X)
    cg, rg, _ = eng.generic.evaluate(X)
    np.testing.assert_allclose(ca, cg, rtol=1e-10, atol=1e-9 * max(1.0, np.abs(cg).max()))
    np.testing.assert_allclose(ra, rg, rtol=1e-10, atol=1e-9 * max(1.0, np.abs(rg).max()))
    # scalar (PettingZoo hot path) and column (batched) evaluation round identically
    c1, r1 = eng.affine.fn(X[5].tolist())
    np.testing.assert_array_equal(np.array(c1), ca[5])
    if feedback != "reward":  # (reward rows are −costs)
        np.testing.assert_array_equal(np.array(r1, dtype=float), ra[5])


@pytest.mark.parametrize("feedback", FEEDBACK_MODES)
def test_user_defined_game_generic_path(feedback):
    game = Planar()
    env = parallel_env(game, feedback=feedback, max_steps=6)
    assert env.engine.affine is None
    parallel_api_test(env, num_cycles=8)
    obs, _ = env.reset(seed=0, options={"x0": [0.5, -1.0, 1.5, 0.25]})
    for a, e in _exact(game, feedback, env.x).items():
        _assert_obs_close(obs[a], e)


@pytest.mark.parametrize("module", MODULES)
def test_second_order_blocks_give_the_hierarchical_feedback(module):
    """A leader's total derivative is computable from its ``second_order`` observation alone:
    ``Df_i = ∇_i f_i − H21ᵀ H22⁻ᵀ ∇_b f_i`` (b: the coordinates below its level) equals the ``hierarchical`` one."""
    mod = env_module(module)
    so, hi = mod.parallel_env(feedback="second_order"), mod.parallel_env(feedback="hierarchical")
    game = so.game
    checked = 0
    for seed in range(4):
        obs2, _ = so.reset(seed=seed)
        obsh, _ = hi.reset(seed=seed)
        np.testing.assert_array_equal(so.x, hi.x)
        for i, a in enumerate(game.agents):
            k = game.level_of[i]
            if k == len(game.levels) - 1:
                continue
            g = obs2[a]["grad"].astype(float)
            H22, H21 = obs2[a]["H22"].astype(float), obs2[a]["H21"].astype(float)
            Df = g[game.slices[i]] - H21.T @ np.linalg.solve(H22.T, g[game.below_coords[k]])
            scale = max(1.0, float(np.abs(g).max()), float(np.abs(obsh[a]).max()))
            np.testing.assert_allclose(Df, obsh[a], rtol=1e-4, atol=1e-4 * scale)
            checked += 1
    assert checked >= 4


def test_hierarchical_total_derivative_duopoly():
    """Leader observes Df_1 = ∇_1 f_1 − H21ᵀ H22⁻¹ ∇_2 f_1 = −(A − 2q_1 − q_2 − c_1) − q_1/2 (H22 = 2, H21 = 1)."""
    env = duopoly_v0.parallel_env(feedback="hierarchical")
    obs, _ = env.reset(seed=0, options={"x0": [40.0, 20.0]})
    assert obs["leader"][0] == F32(-(100 - 80 - 20 - 5) - 20.0)
    assert obs["follower"][0] == F32(-(100 - 40 - 40 - 2))


# ---------------------------------------------------------------------- actions
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


# ---------------------------------------------------------------------- episodes
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


# ---------------------------------------------------------------------- seeding and x0
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

    from gymnasium.utils.env_checker import data_equivalence

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
    env = duopoly_v0.parallel_env(feedback="gradient", noise_std=10**0.5)
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
    """Each agent's feedback noise is its own stream times its own std (Student-t rescaled to that std)."""
    from stackenv.envs.noise import agent_rng

    df, seed, T = 4.0, 5, 300
    env = duopoly_v0.parallel_env(feedback="gradient", noise=noise, df=df, noise_std=noise_std)
    x0 = np.array([30.0, 30.0])
    act = {a: np.array([30.0], F32) for a in env.possible_agents}
    obs, _ = env.reset(seed=seed, options={"x0": x0})
    rows = [obs] + [env.step(act)[0] for _ in range(T - 1)]
    got = np.array([[o[a][0] for a in env.possible_agents] for o in rows], dtype=float)
    unit = math.sqrt((df - 2) / df) if noise == "student_t" else 1.0
    expected = np.empty((T, 2))
    for i, std in enumerate((0.5, 2.0)):
        gen = agent_rng(seed, i)
        z = gen.standard_t(df, T) if noise == "student_t" else gen.standard_normal(T)
        expected[:, i] = env.game.omega(x0)[i] + std * unit * z
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


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"feedback": "oracle"}, "unknown feedback"),
        ({"noise": "cauchy"}, "unknown noise"),
        ({"noise": "student_t", "df": 2.0}, "df > 2"),
        ({"noise_std": -1.0}, "noise_std"),
        ({"noise_std": [1.0]}, "one entry per agent"),
        ({"noise_std": {"boss": 1.0}}, "unknown agent"),
        ({"max_steps": 0}, "max_steps"),
        ({"render_mode": "human"}, "render_mode"),
        ({"A": -1.0}, "duopoly"),
        ({"Z": 1.0}, "unknown parameter"),
    ],
)
def test_invalid_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        duopoly_v0.parallel_env(**kwargs)


def test_generic_constructors():
    g = games.make("duopoly", A=120.0)
    assert parallel_env(g).game is g
    assert parallel_env("duopoly", A=120.0, feedback="reward").game.A == 120.0
    assert isinstance(aec_env("torus").unwrapped, StackelbergAECEnv)
    assert isinstance(StackelbergParallelEnv(Planar()), StackelbergParallelEnv)
    with pytest.raises(ValueError, match="game parameters"):
        parallel_env(g, A=3.0)
    with pytest.raises(TypeError, match="Game"):
        StackelbergParallelEnv("duopoly")


# ---------------------------------------------------------------------- AEC order of play
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
    from gymnasium.utils.env_checker import data_equivalence

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


# ---------------------------------------------------------------------- render
def test_render_ansi_and_rgb():
    env = duopoly_v0.parallel_env(render_mode="ansi")
    env.reset(seed=0, options={"x0": [46.0, 26.0]})
    text = env.render()
    assert "step 0" in text and "leader" in text and "follower" in text
    assert "stackelberg: 0" in text  # (46, 26) is the Stackelberg equilibrium
    env = duopoly_v0.parallel_env(render_mode="rgb_array")
    env.reset(seed=0)
    env.step({a: np.array([30.0], F32) for a in env.possible_agents})
    img = env.render()
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3 and img.std() > 0
    env.close()
    env = env_module("oligopoly_v0").env(render_mode="rgb_array")  # d > 2: per-coordinate view
    env.reset(seed=0)
    img = env.render()
    assert img.dtype == np.uint8 and img.shape[2] == 3
    with pytest.warns(UserWarning, match="render_mode"):
        env = duopoly_v0.parallel_env()
        env.reset(seed=0)
        assert env.render() is None


def _marked(ax) -> dict[str, np.ndarray]:
    """Points drawn under each legend label of a rendered frame's axes."""
    return {ln.get_label(): np.asarray(ln.get_xydata()) for ln in ax.get_lines() if not ln.get_label().startswith("_")}


def test_rgb_frame_labels_axes_and_marks_equilibria():
    from stackenv.envs.render import Renderer

    # d == 2: axes named after the players, equilibria and the current joint action drawn where they are
    game = games.make("duopoly")
    r = Renderer(game)
    x = np.array([30.0, 40.0])
    r.record(x)
    img = r.rgb(x)
    assert img.dtype == np.uint8 and img.shape[2] == 3
    ax = r._fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("leader action", "follower action")
    marks = _marked(ax)
    np.testing.assert_allclose(marks["nash"], [game.nash_closed_form()])
    np.testing.assert_allclose(marks["stackelberg"], [game.stackelberg_closed_form()])
    np.testing.assert_allclose(marks["x"], [x])
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"nash", "stackelberg", "x"}

    # the torus: both Nash and both Stackelberg points; a path crossing the periodic boundary is broken there
    r = Renderer(games.make("torus"))
    for p in ([2.9, -3.0], [-3.0, 3.0], [-2.6, 2.7]):
        r.record(np.array(p))
    r.rgb(np.array([-2.6, 2.7]))
    ax = r._fig.axes[0]
    marks = _marked(ax)
    assert len(marks["nash"]) == 2 and len(marks["stackelberg"]) == 2
    (path,) = [ln.get_xydata() for ln in ax.get_lines() if ln.get_label().startswith("_")]
    assert np.isnan(path).any(axis=1).sum() == 1  # one break, between the two steps that wrapped

    # d > 2: one tick per coordinate, named after its player
    game = games.make("oligopoly")
    r = Renderer(game)
    r.rgb(game.nash_closed_form())
    ax = r._fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == game.agents
    assert ax.get_xlabel() and ax.get_ylabel()
    assert len(_marked(ax)["stackelberg"]) == game.d


# ---------------------------------------------------------------------- scale
def test_large_oligopoly_runs():
    mod = env_module("oligopoly_v0")
    N = 1000
    env = mod.parallel_env(leader_cost=2.0, follower_costs=np.full(N, 2.0), feedback="hierarchical", noise_std=0.1)
    obs, _ = env.reset(seed=0)
    assert len(env.possible_agents) == N + 1
    rng = np.random.default_rng(0)
    obs, rew, term, *_ = env.step(random_actions(env, rng))
    assert not any(term.values())
    assert all(np.isfinite(o).all() for o in obs.values())


def test_sympy_custom_game():
    custom = pytest.importorskip("stackenv.games.custom")
    import sympy as sp

    game = custom.CustomGame(
        [
            lambda x1, x2: -sp.cos(x1[0]) + sp.cos(x1[0] - x2[0]),
            lambda x1, x2: -1.3 * sp.cos(x2[0]) + sp.cos(x2[0] - x1[0]),
        ],
        dims=[1, 1],
        low=-np.pi,
        high=np.pi,
        periodic=True,
        name="custom_torus_test",
    )
    env = parallel_env(game, feedback="hierarchical", noise_std=0.0, max_steps=5)
    parallel_api_test(env, num_cycles=6)
    obs, _ = env.reset(seed=0)
    _assert_obs_close(obs["leader"], game.omega_S(env.x)[:1])
