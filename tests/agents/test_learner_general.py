"""Learners beyond the paper's examples: vector actions, non-symmetric follower Jacobians, other parameters."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from agents import GradientPlay, HierarchicalLeader, PowerSchedule, play
from agents.lola import LOLA
from agents.n_followers import NFollowerLeader
from stackenv.envs import BatchedStackelbergEnv
from stackenv.equilibria import nash_equilibria, stackelberg_equilibria
from stackenv.games import make


def vector_game(seed: int = 3):
    """A general-sum quadratic game: a 2-d leader above two simultaneous followers (dims 1 and 2).

    Each cost has a positive-definite own block and random couplings, so the followers' stacked Jacobian
    H22 is *not* symmetric (its off-diagonal blocks come from different players' Hessians)."""
    rng = np.random.default_rng(seed)
    dims, d = [2, 1, 2], 5
    Q = []
    for i, lo in enumerate(np.cumsum([0, *dims[:-1]])):
        M = 1.2 * rng.standard_normal((d, d))
        M = (M + M.T) / 2
        own = slice(lo, lo + dims[i])
        M[own, own] += 4 * np.eye(dims[i])
        Q.append(M.tolist())
    q = rng.standard_normal((3, d)).tolist()
    return make("quadratic", dims=dims, Q=Q, q=q, levels=[[0], [1, 2]], bound=20.0)


def second_order(game, x):
    H22, H21 = game.response_blocks(x, 0)
    return {"grad": game.grad(0, x), "H22": H22, "H21": H21}


def test_vector_leader_total_derivative_with_non_symmetric_JF():
    game = vector_game()
    x = np.random.default_rng(0).uniform(-3, 3, (8, game.d))
    H22, _ = game.response_blocks(x, 0)
    assert np.abs(H22 - np.swapaxes(H22, -1, -2)).max() > 0.05  # the transpose matters here
    expected = game.omega_S(x)[:, game.slices[0]]
    leader = HierarchicalLeader().bind(game, "leader", "second_order")
    leader.reset(x[:, :2])
    np.testing.assert_allclose(leader.direction(second_order(game, x)), expected, rtol=1e-9, atol=1e-9)
    for solver in ("gmres", "auto"):
        nf = NFollowerLeader(solver=solver).bind(game, "leader", "second_order")
        nf.reset(x[:, :2])
        np.testing.assert_allclose(nf.direction(second_order(game, x)), expected, rtol=1e-7, atol=1e-7)


def test_vector_game_two_timescale_learning_reaches_the_stackelberg_point():
    game = vector_game()
    (target,) = stackelberg_equilibria(game)
    env = BatchedStackelbergEnv(game, num_envs=32, feedback="hierarchical", noise_std=0.1)
    # γ_1 = 1/k: the leader's reduced Hessian has eigenvalues ≈ 1.3 and 6.6 (> 1/2, so 1/k gives the 1/√K
    # rate); γ_2 = 0.3/k^{2/3} keeps the followers' gradient play stable (‖H22‖ ≈ 5)
    learners = {"leader": HierarchicalLeader(PowerSchedule(1.0, 1.0))}
    learners |= {a: GradientPlay(PowerSchedule(0.3, 2 / 3)) for a in game.agents[1:]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traj = play(env, learners, 4000, record_every=4000, seed=1)
    dist = game.distance(traj.x_final, target.x)
    # noise std 0.1 with steps 1/k leaves an O(0.1/√K) ≈ 0.002 error per coordinate; 0.05 is a wide bound, and
    # every run must end nearer the Stackelberg point than the Nash point (where simultaneous play goes)
    (nash,) = nash_equilibria(game)
    assert game.distance(nash.x, target.x) > 0.2
    assert np.median(dist) < 0.05
    assert np.all(dist < game.distance(traj.x_final, nash.x))


@pytest.mark.parametrize("A, c", [(60.0, (3.0, 4.0)), (250.0, (20.0, 1.0))])
def test_duopoly_dynamics_at_other_parameters(A, c):
    game = make("duopoly", A=A, c=c)
    c1, c2 = c
    nash = np.array([(A + c2 - 2 * c1) / 3, (A + c1 - 2 * c2) / 3])  # §4.1, derived independently
    stack = np.array([(A + c2 - 2 * c1) / 2, (A + 2 * c1 - 3 * c2) / 4])
    eta = 0.25
    q1 = (A + c2 - 2 * c1) / (3 - 2 * eta)  # zero of the LOLA field (agents/lola.py docstring)
    lola = np.array([q1, (A - c2 - q1) / 2])
    one = PowerSchedule(1.0, 1.0)
    cases = {
        "gradient": ({"leader": GradientPlay(one), "follower": GradientPlay(one)}, nash),
        "hierarchical": (
            {"leader": HierarchicalLeader(one), "follower": GradientPlay(PowerSchedule(1.0, 2 / 3))},
            stack,
        ),
        "second_order": (
            {"leader": LOLA(one, lookahead=eta), "follower": GradientPlay(PowerSchedule(1.0, 2 / 3))},
            lola,
        ),
    }
    for feedback, (learners, target) in cases.items():
        env = BatchedStackelbergEnv(game, num_envs=64, feedback=feedback, noise_std=math.sqrt(10))
        traj = play(env, learners, 3000, record_every=3000, seed=7)
        err = np.linalg.norm(traj.x_final - target, axis=-1)
        assert abs(np.mean(traj.x_final - target, axis=0)).max() < 0.2, feedback  # unbiased
        if feedback == "second_order":
            # LOLA's direction carries the H21 noise times ∇_2 f_1 = q_1: σ_eff = √10·√(1 + η²(1 + q_1²)); with
            # γ = 1/k and curvature λ = 2 − η the stochastic-approximation error std is σ_eff/√((2λ − 1)K)
            bound = 2 * math.sqrt(10 * (1 + eta**2 * (1 + q1**2))) / math.sqrt((2 * (2 - eta) - 1) * 3000)
        else:
            # additive noise std √10 and 1/k steps: error std ≈ √10/√K·O(1) ≈ 0.06–0.1 at K = 3000 (the
            # agents tests derive the constants); 0.5 is a wide margin
            bound = 0.5
        assert np.median(err) < bound, (feedback, np.median(err), bound)
    assert min(np.linalg.norm(nash - stack), np.linalg.norm(lola - stack), np.linalg.norm(nash - lola)) > 3


def test_torus_nash_runs_end_at_nash_points_of_another_torus():
    game = make("torus", alpha=(0.7, 1.6), phi=(0.4, -1.0))
    points = np.array([e.x for e in nash_equilibria(game)])
    assert len(points) >= 1
    env = BatchedStackelbergEnv(game, num_envs=48, feedback="gradient", noise_std=0.1)
    sched = PowerSchedule(1.0, 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 1/√k breaks Robbins–Monro on purpose (the paper's torus steps)
        traj = play(env, {"leader": GradientPlay(sched), "follower": GradientPlay(sched)}, 3000, seed=2)
    nearest = np.min([game.distance(traj.x_final, p) for p in points], axis=0)
    # with 1/√k steps and noise std 0.1 the iterates fluctuate with std ≈ 0.1·√(γ_K) ≈ 0.014; 0.1 is ~7σ
    assert np.mean(nearest < 0.1) >= 0.9
