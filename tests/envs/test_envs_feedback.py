"""Feedback equals the game's own derivatives (noise off), for every registered game and mode; user-defined games."""

from __future__ import annotations

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

from stackenv import games
from stackenv.envs import (
    FEEDBACK_MODES,
    duopoly_v0,
    parallel_env,
)
from stackenv.envs.engine import GAME_BLOCKS_MAX_D

from .envs_cases import all_cases, env_module, game_envs, random_actions
from .envs_games import Planar

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


@pytest.mark.parametrize(("game_name", "feedback"), all_cases())
def test_obs_equal_exact_derivatives(game_name, feedback):
    mod = game_envs(game_name)
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


@pytest.mark.parametrize("feedback", FEEDBACK_MODES)
def test_user_defined_game_generic_path(feedback):
    game = Planar()
    env = parallel_env(game, feedback=feedback, max_steps=6)
    parallel_api_test(env, num_cycles=8)
    obs, _ = env.reset(seed=0, options={"x0": [0.5, -1.0, 1.5, 0.25]})
    for a, e in _exact(game, feedback, env.x).items():
        _assert_obs_close(obs[a], e)


@pytest.mark.parametrize("game_name", games.list_games())
def test_second_order_blocks_give_the_hierarchical_feedback(game_name):
    """A leader's total derivative is computable from its ``second_order`` observation alone:
    ``Df_i = ∇_i f_i − H21ᵀ H22⁻ᵀ ∇_b f_i`` (b: the coordinates below its level) equals the ``hierarchical`` one."""
    mod = game_envs(game_name)
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
