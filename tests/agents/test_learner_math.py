"""The learners' update maths against the games' own derivatives (no environment involved)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import agents
from agents.hierarchical import HierarchicalLeader, adjoint_solve, total_derivative
from agents.lola import LOLA, lola_direction, lola_field
from agents.n_followers import NFollowerLeader
from agents.zeroth_order import residual_estimate, sphere_directions
from stackenv.envs import BatchedStackelbergEnv
from stackenv.games import make
from stackenv.games.custom import CustomGame
from stackenv.linalg import batched_cg, krylov_adjoint_solve


def second_order_obs(game, x, i):
    """A noiseless ``second_order`` observation for player i, built from the game (architecture §3)."""
    level = game.level_of[i]
    H22, H21 = game.response_blocks(x, level)
    cols = [list(game.level_coords[level]).index(c) for c in range(game.slices[i].start, game.slices[i].stop)]
    return {"grad": game.grad(i, x), "H22": H22, "H21": H21[..., cols]}


def random_points(game, B, seed=0, margin=0.1):
    rng = np.random.default_rng(seed)
    lo, hi = game.low, game.high
    return lo + (hi - lo) * (margin + (1 - 2 * margin) * rng.random((B, game.d)))


GAMES = [
    ("duopoly", {}),
    ("torus", {}),
    ("oligopoly", {"follower_costs": (2.0, 3.0, 4.0, 1.0)}),
    ("hierarchy", {"costs": (5.0, 2.0, 3.0)}),
]


@pytest.mark.parametrize("name,params", GAMES)
def test_total_derivative_from_second_order_matches_omega_S(name, params):
    """Df_i = ∇_i f_i − H21ᵀ H22⁻ᵀ ∇_below f_i (eq. 1) reproduces the game's ω_S for every player with
    levels below (the hierarchy's middle level included: its blocks are of the stacked Stackelberg fields)."""
    game = make(name, **params)
    x = random_points(game, 16)
    if name == "torus":  # keep away from the curve where H22 = 0 (there ω_S is undefined)
        x = x[np.abs(game.response_blocks(x)[0][:, 0, 0]) > 0.2]
    omega_S = game.omega_S(x)
    for lv in game.levels[:-1]:
        for i in lv:
            leader = HierarchicalLeader().bind(game, i, "second_order")
            leader.reset(x[:, game.slices[i]])
            Df = leader.direction(second_order_obs(game, x, i))
            np.testing.assert_allclose(Df, omega_S[:, game.slices[i]], rtol=1e-9, atol=1e-9)
            assert leader.diagnostics["regularised"] == 0


def test_adjoint_solve_safeguards():
    rng = np.random.default_rng(1)
    B, m = 64, 3
    M = rng.standard_normal((B, m, m)) + 3 * np.eye(m)
    g = rng.standard_normal((B, m))
    exact = np.linalg.solve(np.swapaxes(M, -1, -2), g[..., None])[..., 0]
    for sg in ("levenberg", "none"):
        v, reg, _ = adjoint_solve(M, g, sg)
        np.testing.assert_allclose(v, exact, rtol=1e-10)
        assert not reg.any()
    # singular and nearly singular H22: Levenberg keeps v bounded by ‖g‖/(2λ), λ = floor·max(1, σ_max)
    S = M.copy()
    S[:, :, 0] = S[:, :, 1] * (1 + rng.choice([0.0, 1e-9], size=(B, 1)))
    v, reg, _ = adjoint_solve(S, g, "levenberg", floor=1e-3)
    lam = 1e-3 * np.maximum(1, np.linalg.svd(S, compute_uv=False)[:, 0])
    assert reg.all() and np.all(np.isfinite(v))
    assert np.all(np.linalg.norm(v, axis=-1) <= np.linalg.norm(g, axis=-1) / (2 * lam) * (1 + 1e-9))
    with pytest.raises(ValueError, match="singular"):
        adjoint_solve(S, g, "none")
    # eigenvalue floor on a symmetric indefinite H22: negative curvature is floored, counted as indefinite
    H = np.broadcast_to(np.diag([2.0, -0.5]), (4, 2, 2)).copy()
    v, reg, indef = adjoint_solve(H, np.ones((4, 2)), "eig_floor", floor=0.1)
    np.testing.assert_allclose(v, np.tile([0.5, 1 / 0.2], (4, 1)))  # λ = 0.1·σ_max = 0.2
    assert reg.all() and indef.all()
    with pytest.raises(ValueError, match="symmetric"):
        adjoint_solve(M, g, "eig_floor")
    # unknown safeguards and non-positive floors are refused by the solve and by the leader's constructor
    for bad in (lambda: adjoint_solve(M, g, "magic"), lambda: HierarchicalLeader(safeguard="magic")):
        with pytest.raises(ValueError, match="unknown safeguard 'magic'; valid: levenberg, eig_floor, none"):
            bad()
    for bad in (lambda: adjoint_solve(M, g, floor=0.0), lambda: HierarchicalLeader(floor=np.nan)):
        with pytest.raises(ValueError, match="floor must be positive"):
            bad()


def test_hierarchical_leader_safeguard_counts_and_warns():
    """On the torus H22 = α_2 cos(θ_2 − φ_2) − cos(θ_1 − θ_2) vanishes on a curve: at such points the leader's
    step stays finite, is counted and warned about once."""
    game = make("torus")
    th1 = np.linspace(-3, 3, 8)
    # solve H22 = 0 for θ_2 on a grid of θ_1 (bisection on a sign change)
    th2 = []
    for t in th1:
        grid = np.linspace(-np.pi, np.pi, 2001)
        h = game.response_blocks(np.stack([np.full_like(grid, t), grid], -1))[0][:, 0, 0]
        j = np.flatnonzero(np.sign(h[:-1]) != np.sign(h[1:]))[0]
        a, b = grid[j], grid[j + 1]
        for _ in range(60):
            c = (a + b) / 2
            hc = game.response_blocks(np.array([[t, c]]))[0][0, 0, 0]
            ha = game.response_blocks(np.array([[t, a]]))[0][0, 0, 0]
            a, b = (a, c) if np.sign(hc) != np.sign(ha) else (c, b)
        th2.append((a + b) / 2)
    x = np.stack([th1, th2], -1)
    leader = HierarchicalLeader(lr=1.0).bind(game, "leader", "second_order")
    leader.reset(x[:, :1])
    with pytest.warns(RuntimeWarning, match="nearly singular"):
        leader.update(second_order_obs(game, x, 0), None, 1)
    assert leader.diagnostics["regularised"] == len(th1)
    assert leader.active.all() and np.all(np.isfinite(leader.x))


def test_total_derivative_formula_shapes():
    g1, H21, v = np.ones((5, 2)), np.ones((5, 3, 2)), np.ones((5, 3))
    np.testing.assert_allclose(total_derivative(g1, H21, v), np.full((5, 2), -2.0))


def test_lola_direction_and_fixed_point_duopoly():
    """LOLA's fixed point (derived in agents/lola.py): q_1* = (A + c_2 − 2c_1)/(3 − 2η), q_2* = (A − c_2 − q_1*)/2.
    η = 0 is Nash, η = 1/2 = H22⁻¹ is Stackelberg."""
    game = make("duopoly")
    A, (c1, c2) = game.A, game.c
    for eta in (0.0, 0.1, 0.25, 0.5):
        q1 = (A + c2 - 2 * c1) / (3 - 2 * eta)
        xstar = np.array([q1, (A - c2 - q1) / 2])
        np.testing.assert_allclose(lola_field(game, xstar, eta), 0.0, atol=1e-10)
    np.testing.assert_allclose((A + c2 - 2 * c1) / 3, game.nash_closed_form()[0])
    np.testing.assert_allclose((A + c2 - 2 * c1) / 2, game.stackelberg_closed_form()[0])
    # the learner's direction is the field's leader entry
    x = random_points(game, 8)
    lola = LOLA(lookahead=0.25).bind(game, "leader", "second_order")
    lola.reset(x[:, :1])
    obs = second_order_obs(game, x, 0)
    np.testing.assert_allclose(lola.direction(obs), lola_field(game, x, 0.25)[:, :1], rtol=1e-12)
    # and, derived by hand (H21 = 1, ∇_2 f_1 = q_1): (2 − η) q_1 + q_2 − (A − c_1)
    np.testing.assert_allclose(lola.direction(obs)[:, 0], 1.75 * x[:, 0] + x[:, 1] - (A - c1), rtol=1e-12)
    np.testing.assert_allclose(
        lola_direction(obs["grad"][:, :1], obs["grad"][:, 1:], obs["H21"], 0.0), game.omega(x)[:, :1]
    )


def test_lola_newton_is_the_total_derivative():
    game = make("torus")
    x = random_points(game, 32, seed=3)
    x = x[np.abs(game.response_blocks(x)[0][:, 0, 0]) > 0.2]
    ln = agents.make_learner("lola_newton").bind(game, "leader", "second_order")
    ln.reset(x[:, :1])
    np.testing.assert_allclose(ln.direction(second_order_obs(game, x, 0)), game.omega_S(x)[:, :1], rtol=1e-9)


def test_krylov_adjoint_solve_cg_and_gmres():
    rng = np.random.default_rng(2)
    B, m = 4, 40
    spd = np.eye(m) + np.ones((m, m))  # Cournot followers' H22
    g = rng.standard_normal((B, m))
    H22 = np.broadcast_to(spd, (B, m, m)).copy()
    v, ok = krylov_adjoint_solve(H22, g, "auto")
    assert ok.all()
    np.testing.assert_allclose(v, np.linalg.solve(spd, g.T).T, rtol=1e-8, atol=1e-10)
    _, _, iters = batched_cg(lambda p: np.einsum("bij,bi->bj", H22, p), g)
    assert iters <= 3  # two distinct eigenvalues: CG is exact in 2 iterations (+ rounding)
    N = np.eye(m) * 2 + 0.3 * rng.standard_normal((m, m)) / np.sqrt(m)  # non-symmetric, well conditioned
    v, ok = krylov_adjoint_solve(np.broadcast_to(N, (B, m, m)).copy(), g, "auto")
    assert ok.all()
    np.testing.assert_allclose(v, np.linalg.solve(N.T, g.T).T, rtol=1e-7, atol=1e-9)
    for bad in (lambda: krylov_adjoint_solve(H22, g, "lu"), lambda: NFollowerLeader(solver="lu")):
        with pytest.raises(ValueError, match="unknown solver 'lu'; valid: auto, cg, gmres"):
            bad()


def test_n_followers_leader_second_order_matches_structured_omega_S_at_N_1000():
    """N = 1000 followers: the Krylov (CG) adjoint solve reproduces the oligopoly's O(N) closed-form Df_0
    in 2 iterations of O(N²) dense mat-vecs (H22 = I + 11ᵀ has two distinct eigenvalues), no factorisation."""
    N = 1000
    costs = np.linspace(0.0, 0.05, N)  # A = 100: Nash and Stackelberg quantities stay interior
    game = make("oligopoly", A=100.0, leader_cost=0.05, follower_costs=costs)
    B = 2
    x = np.tile(game.stackelberg_closed_form(), (B, 1)) * (1 + 0.01 * np.arange(B))[:, None]
    H22 = np.broadcast_to(np.eye(N) + 1.0, (B, N, N))
    obs = {"grad": np.stack([game.grad(0, xb) for xb in x]), "H22": H22, "H21": np.ones((B, N, 1))}
    leader = NFollowerLeader().bind(game, "leader", "second_order")
    leader.reset(x[:, :1])
    np.testing.assert_allclose(leader.direction(obs), game.omega_S(x)[:, :1], rtol=1e-8, atol=1e-8)
    assert leader.diagnostics["krylov_unconverged"] == 0
    _, ok, iters = batched_cg(lambda p: np.einsum("bij,bi->bj", H22, p), obs["grad"][:, 1:])
    assert ok.all() and iters <= 3


def test_residual_feedback_estimator_is_unbiased_for_a_quadratic():
    """E[(d/δ)(f(x+δu_k) − f(x'+δu_{k−1})) u_k] = ∇f(x) for quadratic f (smoothing bias is zero)."""
    rng = np.random.default_rng(4)
    n, d, delta = 400_000, 3, 0.5
    Q = np.diag([1.0, 2.0, 3.0])
    x = np.array([1.0, -1.0, 0.5])
    f = lambda z: 0.5 * np.einsum("bi,ij,bj->b", z, Q, z)  # noqa: E731
    u_prev, u = sphere_directions(rng, n, d), sphere_directions(rng, n, d)
    g = residual_estimate(f(x + delta * u), f(x - 0.3 + delta * u_prev), u, delta)
    se = g.std(0) / np.sqrt(n)
    assert np.all(np.abs(g.mean(0) - Q @ x) < 5 * se)  # 5 standard errors: false-failure odds ~1e-6 per coord


def test_schedules():
    s = agents.PowerSchedule(1.0, 2 / 3)
    assert s(1) == 1.0 and np.isclose(s(8), 0.25)
    assert agents.PowerSchedule(2.0, 1.0, k0=1.0)(1) == 1.0
    assert agents.ConstantSchedule(0.1)(10**6) == 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert agents.check_robbins_monro(agents.PowerSchedule(1.0, 1.0))
        assert agents.check_timescale_separation(agents.PowerSchedule(1, 1), agents.PowerSchedule(1, 2 / 3))
    with pytest.warns(UserWarning, match="Robbins"):
        assert not agents.check_robbins_monro(agents.PowerSchedule(1.0, 0.5))  # the paper's torus 1/√k
    with pytest.warns(UserWarning, match="Robbins"):
        assert not agents.check_robbins_monro(0.1)
    with pytest.warns(UserWarning, match="Robbins"):
        assert not agents.check_robbins_monro(agents.PowerSchedule(1.0, 1.5))
    with pytest.warns(UserWarning, match="timescale"):
        assert not agents.check_timescale_separation(agents.PowerSchedule(1, 1), agents.PowerSchedule(1, 1))
    for bad in (
        lambda: agents.PowerSchedule(0.0),
        lambda: agents.PowerSchedule(-1.0),
        lambda: agents.ConstantSchedule(0),
    ):
        with pytest.raises(ValueError, match="positive"):
            bad()
    with pytest.raises(ValueError, match="k0"):
        agents.PowerSchedule(1.0, 1.0, k0=-1.0)
    with pytest.raises(ValueError, match="positive integer"):
        s(0)


def test_chain_learner_at_the_bottom_level_uses_its_own_gradient_from_second_order_feedback():
    """A chain's last follower has no levels below: its total derivative is its own gradient (no H22 sent)."""
    game = make("duopoly")
    env = BatchedStackelbergEnv(game, num_envs=4, feedback="second_order", noise_std=np.sqrt(10))
    traj = agents.play(env, {"leader": LOLA(lookahead=0.25), "follower": agents.ChainLearner()}, 3000, seed=0)
    # the follower ends on its best response to the leader's quantity: ∇_2 f_2 ≈ 0 (noise std √10 averaged
    # by the decaying steps leaves an O(0.1) error; 1.0 is a loose bound that a wrong gradient would violate)
    assert np.all(np.abs(game.omega(traj.x_final)[:, 1]) < 1.0)


def test_optimistic_update_is_popovs_step():
    """x_{k+1} = Π(x_k − γ_k (2 g_k − g_{k−1})) with g_0 = g_1 (a plain gradient step first), any feedback form."""
    game = make("duopoly")
    lr = agents.PowerSchedule(0.5, 1.0)
    x0 = np.array([[30.0], [60.0], [99.5]])
    g1, g2, g3 = np.array([[2.0], [-4.0], [-10.0]]), np.array([[1.0], [3.0], [-1.0]]), np.array([[0.5], [0.5], [4.0]])
    for fb, wrap in [("gradient", lambda g: g), ("second_order", lambda g: {"grad": np.hstack([g, 0 * g])})]:
        learner = agents.OptimisticGradient(lr).bind(game, "leader", fb)
        learner.reset(x0)
        learner.update(wrap(g1), None, 1)
        x1 = np.clip(x0 - 0.5 * g1, 0.0, 100.0)  # 99.5 + 5 clips to the box
        np.testing.assert_array_equal(learner.x, x1)
        learner.update(wrap(g2), None, 2)
        x2 = np.clip(x1 - 0.25 * (2 * g2 - g1), 0.0, 100.0)
        np.testing.assert_array_equal(learner.x, x2)
        learner.update(wrap(g3), None, 3)
        np.testing.assert_array_equal(learner.x, np.clip(x2 - (0.5 / 3) * (2 * g3 - g2), 0.0, 100.0))
    assert agents.make_learner("optimistic").roles == {"leader", "follower"}
    assert agents.learner_spec("optimistic").feedback("follower") == ("gradient", "hierarchical", "second_order")


def test_optimistic_converges_on_a_bilinear_game_where_gradient_play_cycles():
    """Daskalakis et al. (2018), Thm 1: on min_x max_y xy optimistic steps converge, gradient steps spiral out.

    Here f_1 = x y = −f_2 on [−1, 1]², constant γ = 0.1, no noise: gradient play's linear map has spectral
    radius √(1 + γ²) > 1 and ends on the box boundary; optimistic play's has radius ≈ 1 − γ²/2 = 0.995, so
    2000 steps shrink the initial distance (≤ 0.91) by about e^{−10} ≈ 4.5e-5 (bound: 1e-3)."""
    game = CustomGame([lambda x, y: x[0] * y[0], lambda x, y: -x[0] * y[0]], dims=[1, 1], low=-1.0, high=1.0)
    out = {}
    for cls in (agents.GradientPlay, agents.OptimisticGradient):
        env = BatchedStackelbergEnv(game, num_envs=3, feedback="gradient")
        x0 = np.array([[0.5, 0.5], [-0.3, 0.8], [0.9, -0.1]])
        out[cls] = agents.play(env, {a: cls(0.1) for a in game.agents}, 2000, seed=0, x0=x0).x_final
    assert np.all(np.abs(out[agents.OptimisticGradient]) < 1e-3)
    assert np.all(np.max(np.abs(out[agents.GradientPlay]), axis=-1) > 0.5)


@pytest.mark.parametrize("A, c, eta", [(100.0, (5.0, 2.0), 0.25), (60.0, (3.0, 4.0), 0.4), (100.0, (5.0, 2.0), 0.0)])
def test_lola_fixed_point_is_the_duopoly_closed_form(A, c, eta):
    """q_1* = (A + c_2 − 2c_1)/(3 − 2η), q_2* = (A − c_2 − q_1*)/2 (agents/lola.py docstring); η = 0 is Nash."""
    from agents.lola import lola_fixed_point

    game = make("duopoly", A=A, c=c)
    q1 = (A + c[1] - 2 * c[0]) / (3 - 2 * eta)
    np.testing.assert_allclose(lola_fixed_point(game, eta), [q1, (A - c[1] - q1) / 2], rtol=1e-12)
    if eta == 0:
        np.testing.assert_allclose(lola_fixed_point(game, eta), game.nash_closed_form(), rtol=1e-12)
    with pytest.raises(ValueError, match="quadratic"):
        lola_fixed_point(make("torus"), eta)
