"""The default N-follower and chain learners: step scales from the game, convergence on random instances, O(N)."""

from __future__ import annotations

import copy
import pickle
import tracemalloc

import numpy as np
import pytest

import agents
from agents.n_followers import follower_step_scale, reduced_curvature
from agents.newton_response import response_direction
from agents.rng import BatchRNG
from stackenv.envs import BatchedStackelbergEnv
from stackenv.games import make
from stackenv.linalg import jvp, sherman_morrison_solve


def random_oligopoly(N: int, seed: int):
    rng = np.random.default_rng([N, seed])
    costs = rng.uniform(1.0, 10.0, N)
    return make("oligopoly", A=25.0 * (N + 1), leader_cost=float(rng.uniform(0.0, 2.0)), follower_costs=costs)


def random_chain(K: int, seed: int):
    rng = np.random.default_rng([K, seed])
    while True:  # redraw costs until both equilibria are interior
        try:
            return make("hierarchy", A=1000.0, costs=rng.uniform(1.0, 10.0, K).tolist())
        except ValueError:
            continue


def relative_error(game, traj) -> np.ndarray:
    xs = game.stackelberg_closed_form()
    return game.distance(traj.x_final, xs) / np.linalg.norm(xs)


# ---------------------------------------------------------------------------------------------- step scales
def test_step_scales_are_the_games_curvatures():
    for N in (1, 4, 30):
        game = random_oligopoly(N, 0)
        assert reduced_curvature(game) == pytest.approx(2 / (N + 1), rel=1e-9)  # Cournot: μ = 2/(N + 1)
        assert follower_step_scale(game) == pytest.approx(1 / (N + 1), rel=1e-6)  # ‖I + 11ᵀ‖₂ = N + 1
    chain = random_chain(4, 0)
    np.testing.assert_allclose(agents.chain.level_curvatures(chain), [0.25, 0.5, 1.0, 2.0], rtol=1e-9)  # 2^{j+2−K}


def test_response_direction_is_the_implicit_function_theorem():
    game = random_oligopoly(6, 1)
    x = game.nash_closed_form()[None]
    dx = np.zeros_like(x)
    dx[0, 0] = 1.0
    H22, H21 = game.response_blocks(x, 0)
    np.testing.assert_allclose(response_direction(game, 0, x, dx)[0, 1:], -np.linalg.solve(H22[0], H21[0])[:, 0])
    np.testing.assert_allclose(jvp(game.omega, x, dx, affine=True), game.jacobian(x) @ dx[0], rtol=1e-12)


def test_sherman_morrison_solve_matches_a_dense_solve():
    rng = np.random.default_rng(0)
    a, u, w, r = rng.uniform(1, 2, (3, 7)), rng.normal(size=(3, 7)), rng.normal(size=(3, 7)), rng.normal(size=(3, 7))
    dense = np.linalg.solve(np.einsum("bi,ij->bij", a, np.eye(7)) + u[:, :, None] * w[:, None, :], r[..., None])
    np.testing.assert_allclose(sherman_morrison_solve(a, u, w, r), dense[..., 0], rtol=1e-10)
    with pytest.raises(ValueError, match="singular"):
        sherman_morrison_solve(np.ones(2), np.array([1.0, 0.0]), np.array([-1.0, 0.0]), np.ones(2))


def test_newton_response_lands_on_the_response_in_one_step():
    """Noise-free, a full Newton step (β = 1) from the feedback plus the move along Dr puts the followers on their
    Nash response to the leader's current action (a quadratic game: exactly, up to rounding)."""
    game = random_oligopoly(9, 2)
    xs = game.stackelberg_closed_form()
    x0 = np.random.default_rng(0).uniform(0.5, 1.5, (3, game.d)) * xs  # responses stay inside the box
    block = agents.NewtonResponse().bind(game, game.agents[1:], "hierarchical")
    block.reset(x0[:, 1:], obs=game.omega(x0)[:, 1:])
    joint = x0.copy()
    joint[:, 1:] = block.act(joint)  # the first action answers the leader's x0
    np.testing.assert_allclose(joint, game.response(joint), rtol=1e-9)
    block.update(game.omega(joint)[:, 1:], None, 1)
    joint[:, 0] += 7.0  # the leader commits to a new action; the followers answer it
    joint[:, 1:] = block.act(joint)
    np.testing.assert_allclose(joint, game.response(joint), rtol=1e-9)


# ---------------------------------------------------------------------------------------------- convergence
# Tolerance: the bar, 1% of ‖x*‖ after 5000 steps; the runs end within 0.15% (noise σ = 1: the leader's
# error is about σ/(μ√k) ≈ σ (N + 1)/(2√5000), below 0.05% of q₀* ≈ 12.5 (N + 1) here), so the test has margin.
@pytest.mark.parametrize("N", [3, 40])
def test_default_n_follower_learners_converge_on_random_oligopolies(N):
    game = random_oligopoly(N, 7)
    env = BatchedStackelbergEnv(game, num_envs=2, feedback="hierarchical", noise_std=1.0)
    traj = agents.play(env, agents.n_follower_learners(game), 5000, seed=3, record_every=5000)
    assert not traj.stopped.any()
    assert np.all(relative_error(game, traj) < 0.01)


@pytest.mark.parametrize("K", [4, 6])
def test_default_chain_learners_converge_on_random_chains(K):
    game = random_chain(K, 5)
    env = BatchedStackelbergEnv(game, num_envs=2, feedback="hierarchical", noise_std=1.0)
    traj = agents.play(env, agents.chain_learners(game), 5000, seed=3, record_every=5000)
    assert np.all(relative_error(game, traj) < 0.01)  # measured: below 0.15% (K = 4, 6)


# ---------------------------------------------------------------------------------------------- O(N)
def test_n_follower_path_allocates_no_n_by_n_object():
    """Setting up the default learners and stepping them (fed the game's own fields, as the env would under
    hierarchical feedback) at N = 20 000 peaks far below one N × N matrix of floats (3.2 GB)."""
    N = 20_000
    game = make("oligopoly", A=25.0 * (N + 1), leader_cost=1.0, follower_costs=np.linspace(1.0, 10.0, N))
    tracemalloc.start()
    try:
        learners = agents.n_follower_learners(game)
        leader, block = learners["leader"], learners["follower_0"]
        leader.bind(game, "leader", "hierarchical")
        block.bind(game, game.agents[1:], "hierarchical")
        x = np.full((1, game.d), 1.0)
        leader.reset(x[:, :1])
        block.reset(x[:, 1:], obs=game.omega(x)[:, 1:])
        for k in range(1, 4):
            x[:, :1] = leader.act(x)
            x[:, 1:] = block.act(x)
            leader.update(game.omega_S(x)[:, :1], None, k)
            block.update(game.omega(x)[:, 1:], None, k)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * N * 8  # a few dozen vectors of N floats; N × N would be 2.5e4 times more


# ---------------------------------------------------------------------------------------------- pickling
@pytest.mark.parametrize("name", agents.list_learners())
def test_every_registered_learner_pickles_and_deepcopies_mid_run(name):
    """Fresh and mid-run: the copy continues exactly as the original does."""
    game = make("duopoly")
    learner = agents.make_learner(name)
    for fresh in (pickle.loads(pickle.dumps(learner)), copy.deepcopy(learner)):
        assert type(fresh) is type(learner) and fresh.name == learner.name
    agent = "leader" if "leader" in learner.roles else "follower"
    fb = learner.feedback_modes(agent == "leader")[0]
    env = BatchedStackelbergEnv(game, num_envs=2, feedback=fb, noise_std=1.0)
    obs, _ = env.reset(seed=0)
    learner.bind(game, agent, fb).reset(
        env.x[:, game.slices[game.agents.index(agent)]], BatchRNG([0, 1], 0), obs[agent]
    )
    copies = [pickle.loads(pickle.dumps(learner)), copy.deepcopy(learner)]
    for lr in (learner, *copies):
        for k in range(1, 4):
            lr.act(env.x)
            lr.update(obs[agent], np.zeros(2), k)
    for c in copies:
        np.testing.assert_array_equal(c.x, learner.x)
