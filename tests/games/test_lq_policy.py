"""The policy-space LQ game: costs and gradients against scipy's Lyapunov solver and the classic gradient
formula, Nash = stationary feedback Nash, the policy Stackelberg point vs the feedback Stackelberg gains,
unstable gains, and the suite's learners converging to both equilibria.

(Second and third derivatives are checked against finite differences by the generic suite in
``test_games_derivatives.py``, which covers ``lq_policy`` at its defaults and a three-player case.)
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import solve_discrete_lyapunov

from agents import ConstantSchedule, GradientPlay, HierarchicalLeader, play
from stackenv.envs import BatchedStackelbergEnv
from stackenv.equilibria import classify, stackelberg_equilibria
from stackenv.games import lq_solve, make
from stackenv.games.lq_policy import UnstableError


def random_policy_game(rng: np.random.Generator):
    """Random instance (n ≤ 3, N ∈ {2, 3}) with Σ ≻ 0, and a stabilising joint gain near its Nash gains."""
    N, n = int(rng.integers(2, 4)), int(rng.integers(1, 4))
    m = [int(v) for v in rng.integers(1, 3, size=N)]

    def psd(k, shift):
        M = rng.normal(size=(k, k))
        return (M @ M.T / k + shift * np.eye(k)).tolist()

    params = {
        "A": (rng.normal(size=(n, n)) / np.sqrt(n)).tolist(),
        "B": [rng.normal(size=(n, mi)).tolist() for mi in m],
        "Q": [psd(n, 0.1) for _ in range(N)],
        "R": [[psd(m[j], 1.0) if i == j else (0.2 * np.eye(m[j])).tolist() for j in range(N)] for i in range(N)],
        "x0": rng.normal(size=n).tolist(),
        "X0": psd(n, 0.1),
        "W": psd(n, 0.0),
        "discount": 0.9,
    }
    game = make("lq_policy", **params, low=-10.0, high=10.0)
    K = game.feedback("feedback_nash")
    return game, K + 0.05 * rng.normal(size=K.shape)


def classic(game, x):
    """Costs ``tr(P_i Σ)`` and ``∇_{K_j} f_i = 2(R_ij K_j − γB_jᵀP_iF)X`` with scipy's Lyapunov solver."""
    mdl, g = game.model, game.model.discount
    K = game.gains(x)
    F = game.closed_loop(x)
    X = solve_discrete_lyapunov(np.sqrt(g) * F, game.Sigma)
    costs, grads = [], []
    for i in range(mdl.N):
        Qt = mdl.Q[i] + sum(k.T @ r @ k for k, r in zip(K, mdl.R[i]))
        P = solve_discrete_lyapunov(np.sqrt(g) * F.T, Qt)
        costs.append(np.trace(P @ game.Sigma))
        grads.append(
            np.concatenate([(2 * (mdl.R[i][j] @ K[j] - g * mdl.B[j].T @ P @ F) @ X).ravel() for j in range(mdl.N)])
        )
    return np.array(costs), np.array(grads)


@pytest.mark.parametrize("seed", range(8))
def test_costs_and_gradients_match_scipy_and_the_classic_formula(seed):
    game, x = random_policy_game(np.random.default_rng(seed))
    costs, grads = classic(game, x)
    np.testing.assert_allclose(game.costs(x), costs, rtol=1e-9)
    for i in range(game.n):
        np.testing.assert_allclose(game.grad(i, x), grads[i], rtol=1e-8, atol=1e-10 * np.abs(grads).max())


@pytest.mark.parametrize("seed", range(6))
def test_nash_is_the_stationary_feedback_nash(seed):
    game, _ = random_policy_game(np.random.default_rng(100 + seed))
    st = lq_solve.stationary(game.model, "feedback_nash")
    K = game.as_action(st.gains)
    om = game.omega(K)
    assert np.abs(om).max() <= 1e-8 * max(1.0, np.abs(game.jacobian(K)).max())
    assert classify(game, K).differential_nash
    # the policy cost at the stationary gains is the value function's expected cost tr(P Σ)
    np.testing.assert_allclose(game.costs(K), np.einsum("iab,ba->i", st.values, game.Sigma), rtol=1e-8)


def test_policy_stackelberg_differs_from_feedback_stackelberg():
    """Both points put the follower on its policy best response (∇_2 f_2 = 0), but only the policy Stackelberg
    point zeroes the leader's total derivative; there the leader pays less, since it optimises over the same curve."""
    game = make("lq_policy")
    (ps,) = stackelberg_equilibria(game)
    fs = game.feedback("feedback_stackelberg")
    om_fs = game.omega_S(fs)
    assert abs(om_fs[1]) < 1e-9 and abs(om_fs[0]) > 0.1  # Df_1 = 0.340 at the feedback Stackelberg gains
    assert np.abs(ps.x - fs).max() > 0.05
    np.testing.assert_allclose(ps.x, [0.22132552, 0.31203185], atol=1e-6)
    np.testing.assert_allclose(fs, [0.31275674, 0.26071756], atol=1e-6)
    assert ps.costs[0] < game.costs(fs)[0] - 0.01  # 2.4789 vs 2.4942


def test_unstable_gains_raise_with_the_spectral_radius():
    game = make("lq_policy", low=-3.0, high=3.0)
    x = np.array([[0.2, 0.2], [-2.0, -1.0]])  # F = 1 − k_0 − k_1: 0.6 (stable) and 4 (unstable)
    for fn in (game.costs, game.omega, game.jacobian, game.omega_S, game.jacobian_S):
        with pytest.raises(UnstableError, match=r"unstable at 1 point\(s\) \(ρ\(√γ F\) up to 3.79"):
            fn(x)
    assert np.all(np.isfinite(game.costs(x[:1])))
    with pytest.raises(ValueError, match="noise W must be 0"):
        make("lq_policy", discount=1.0)


def _learn(game, feedback, leader, steps):
    env = BatchedStackelbergEnv(game, num_envs=4, feedback=feedback, noise_std=0.0)
    lr = 0.5 / np.abs(np.linalg.eigvals(game.jacobian(game.feedback("feedback_nash")))).max()  # from the curvature
    follower = GradientPlay(ConstantSchedule(lr))
    return play(env, {"leader": leader(lr), "follower": follower}, steps=steps, seed=0).x_final


def test_gradient_play_reaches_feedback_nash_and_hierarchical_the_policy_stackelberg_point():
    """Noise-free learning from four seeded starts, so no statistics: near the equilibria the maps are contractions
    with local rates ρ(I − γJ) = 0.87 (gradient play, γ = 0.5/ρ(J)) and ρ(I − diag(γ/4, γ)J_S) = 0.97
    (hierarchical), and 0.87^400, 0.97^1500 < 1e-19, far below the 1e-6 tolerance."""
    game = make("lq_policy")
    nash = _learn(game, "gradient", lambda lr: GradientPlay(ConstantSchedule(lr)), 400)
    np.testing.assert_allclose(nash, np.broadcast_to(game.feedback("feedback_nash"), nash.shape), atol=1e-6)
    (ps,) = stackelberg_equilibria(game)
    stack = _learn(game, "hierarchical", lambda lr: HierarchicalLeader(ConstantSchedule(lr / 4)), 1500)
    np.testing.assert_allclose(stack, np.broadcast_to(ps.x, stack.shape), atol=1e-6)


def test_readme_numbers():
    """The README's LQ example: its printed costs and gains, by value."""
    game = make("lq", horizon=30, W=[[0.01, 0], [0, 0.01]])
    fn, fs = game.feedback_nash(), game.feedback_stackelberg()
    np.testing.assert_allclose(fn.expected_costs.round(4), [2.7394, 2.7681])
    np.testing.assert_allclose(fs.expected_costs.round(4), [2.7392, 2.7693])
    assert fs.expected_costs[0] < fn.expected_costs[0] and fs.expected_costs[1] > fn.expected_costs[1]
    policy = make("lq_policy")
    env = BatchedStackelbergEnv(policy, num_envs=4, feedback="hierarchical")
    learners = {"leader": HierarchicalLeader(ConstantSchedule(0.02)), "follower": GradientPlay(ConstantSchedule(0.04))}
    x = play(env, learners, steps=2000, seed=0).x_final
    np.testing.assert_allclose(x.round(3), np.broadcast_to([0.221, 0.312], x.shape))
    np.testing.assert_allclose(policy.feedback("feedback_stackelberg").round(3), [0.313, 0.261])


def test_bad_initial_covariance():
    with pytest.raises(ValueError, match="'X0' \\(a covariance\\) must be positive semidefinite"):
        make("lq_policy", X0=[[-1.0]])
