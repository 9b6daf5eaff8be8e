"""The full-information rules' directions (agents/lookahead, sos, sga, consensus, cgd, extragradient) against
independent derivations: finite differences of the games' own gradients, the papers' two-player formulas,
and the optimality conditions of CGD's local game. No environment involved (see test_zoo_convergence)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from agents import make_learner
from agents.cgd import cgd_step
from agents.differentiable import GameBlocks, read_blocks, shaping_term
from agents.sos import sos_p
from stackenv.games import make
from stackenv.games.custom import CustomGame

RULES = ("lookahead", "sos", "sga", "consensus", "cgd")


def blocks_of(game, x):
    """Noise-free ``grads``/``J`` blocks at ``x`` ``(B, d)``, from the game's own derivatives."""
    grads = np.stack([game.grad(j, x) for j in range(game.n)], axis=1)
    xi = game.omega(x)
    return GameBlocks(grads, game.jacobian(x), xi)


def bound(rule, game, i, B, **kw):
    learner = make_learner(rule, **kw).bind(game, i, "second_order")
    learner.reset(np.zeros((B, game.dims[i])))
    return learner


def cubic_game():
    """A 3-player, non-quadratic game (every block of J varies, all cross terms present)."""

    def f0(x0, x1, x2):
        return x0[0] ** 2 * x1[0] + sp.sin(x0[0] * x2[0]) + x0[0] ** 2

    def f1(x0, x1, x2):
        return (x1[0] - x0[0]) ** 2 * (1 + x2[0] ** 2) + x1[0] * x1[1] + x1[1] ** 2

    def f2(x0, x1, x2):
        return x2[0] ** 2 + x2[0] * x0[0] * x1[1] - sp.cos(x2[0] + x1[0])

    return CustomGame([f0, f1, f2], dims=[1, 2, 1], low=-2, high=2, name="cubic3")


def fd_grad_i(fun, x, sl, h=1e-6):
    """Central differences of ``fun`` ``(B, d) → (B,)`` along the coordinates ``sl``."""
    out = []
    for c in range(sl.start, sl.stop):
        e = np.zeros(x.shape[-1])
        e[c] = h
        out.append((fun(x + e) - fun(x - e)) / (2 * h))
    return np.stack(out, axis=-1)


@pytest.fixture
def points():
    game = cubic_game()
    x = np.random.default_rng(3).uniform(-1.5, 1.5, (5, game.d))
    return game, x


@pytest.mark.parametrize("alpha", [0.05, 0.3])
def test_lookahead_and_lola_are_the_gradients_of_the_anticipated_costs(points, alpha):
    """LA_i = ∂/∂x_i [f_i(x) − α Σ_{j≠i} ∇_j f_i(x)·ξ̄_j] with ξ̄ frozen at the point (prediction only) and
    LOLA_i = ∂/∂x_i [f_i(x) − α Σ_{j≠i} ∇_j f_i(x)·ξ_j(x)] (the first-order anticipated cost, differentiated
    through the others' steps) — by central differences of the game's own gradients (Letcher et al. §3)."""
    game, x0 = points
    for i, sl in enumerate(game.slices):
        xi0 = game.omega(x0)

        def anticipated(x, frozen, i=i, xi0=xi0):
            g = game.grad(i, x)
            xi = xi0 if frozen else game.omega(x)
            shift = sum((g[:, s] * xi[:, s]).sum(-1) for j, s in enumerate(game.slices) if j != i)
            return game.costs(x)[:, i] - alpha * shift

        la = bound("lookahead", game, i, len(x0), lookahead=alpha).joint_direction(blocks_of(game, x0), 1.0)
        lola = bound("sos", game, i, len(x0), lookahead=alpha, p=1.0).joint_direction(blocks_of(game, x0), 1.0)
        np.testing.assert_allclose(la[:, sl], fd_grad_i(lambda x: anticipated(x, True), x0, sl), atol=1e-6)
        np.testing.assert_allclose(lola[:, sl], fd_grad_i(lambda x: anticipated(x, False), x0, sl), atol=1e-6)
        sos0 = bound("sos", game, i, len(x0), lookahead=alpha, p=0.0).joint_direction(blocks_of(game, x0), 1.0)
        np.testing.assert_allclose(sos0, la, atol=1e-12)  # p = 0 is LookAhead


def test_lookahead_is_exact_on_quadratic_games():
    """On a quadratic game the first-order look-ahead is exact: LA_i = ∇_i f_i(x_i, x_{−i} − α ξ_{−i})."""
    game = make("oligopoly", follower_costs=(2.0, 3.0, 4.0))
    x = np.random.default_rng(0).uniform(5, 20, (4, game.d))
    alpha = 0.2
    xi = game.omega(x)
    for i, sl in enumerate(game.slices):
        y = x - alpha * xi
        y[:, sl] = x[:, sl]
        la = bound("lookahead", game, i, 4, lookahead=alpha).joint_direction(blocks_of(game, x), 1.0)
        np.testing.assert_allclose(la[:, sl], game.grad(i, y)[:, sl], rtol=1e-12, atol=1e-9)


def test_shaping_term_two_player_form():
    """χ_1 = J_21ᵀ ∇_2 f_1 and χ_2 = J_12ᵀ ∇_1 f_2 (the LOLA term of the suite's leader rule, agents.lola)."""
    game = make("torus")
    x = np.random.default_rng(1).uniform(0, 6, (6, 2))
    b = blocks_of(game, x)
    chi = shaping_term(b.J, b.grads, game.slices)
    J = game.jacobian(x)
    np.testing.assert_allclose(chi[:, 0], J[:, 1, 0] * game.grad(0, x)[:, 1], rtol=1e-12)
    np.testing.assert_allclose(chi[:, 1], J[:, 0, 1] * game.grad(1, x)[:, 0], rtol=1e-12)


def test_sos_criterion_cases():
    """p = min(p_1, p_2): p_1 = 1 when shaping agrees with LA, else the largest p ≤ 1 with
    ⟨ξ_0 − pαχ, ξ_0⟩ ≥ (1 − a)‖ξ_0‖²... i.e. −pα⟨χ, ξ_0⟩ ≥ −a‖ξ_0‖²; p_2 = ‖ξ‖² inside the b-ball."""
    xi_0 = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    chi = np.array([[-1.0, 0.0], [4.0, 0.0], [1.0, 0.0]])  # agrees; strongly against; mildly against
    xi = np.array([[1.0, 0.0], [1.0, 0.0], [0.05, 0.0]])
    p = sos_p(xi, xi_0, chi, alpha=0.5, a=0.5, b=0.1)[:, 0]
    # run 0: ⟨−αχ, ξ_0⟩ = 0.5 ≥ 0 → 1; run 1: −a‖ξ_0‖²/⟨−αχ, ξ_0⟩ = −0.5/−2 = 0.25;
    # run 2: p_1 = min(1, 0.5/0.5) = 1 but ‖ξ‖ = 0.05 < b → p_2 = 0.0025
    np.testing.assert_allclose(p, [1.0, 0.25, 0.0025])


@pytest.mark.parametrize("game", [cubic_game(), make("zero_sum", instance="spurious")], ids=["cubic3", "spurious"])
def test_sga_and_consensus_against_the_hamiltonian(game):
    """∇H = Jᵀξ for H = ½‖ξ‖² (central differences of ‖ω‖²); CO = ξ + γ∇H; SGA = ξ ± λ Aᵀξ with
    Aᵀξ = (∇H − Jξ)/2 and the sign of (⟨ξ, ∇H⟩⟨Aᵀξ, ∇H⟩/d + ε)."""
    x = np.random.default_rng(5).uniform(-1.5, 1.5, (64, game.d))
    grad_H = fd_grad_i(lambda y: 0.5 * (game.omega(y) ** 2).sum(-1), x, slice(0, game.d))
    xi, J = game.omega(x), game.jacobian(x)
    b = blocks_of(game, x)
    co = bound("consensus", game, 0, 64, gamma=0.7).joint_direction(b, 1.0)
    np.testing.assert_allclose(co, xi + 0.7 * grad_H, atol=1e-6)
    At_xi = (grad_H - np.einsum("bij,bj->bi", J, xi)) / 2
    sign = np.sign((xi * grad_H).sum(-1) * (At_xi * grad_H).sum(-1) / game.d + 0.1)[:, None]
    sga = bound("sga", game, 1, 64, lam=0.3).joint_direction(b, 1.0)
    np.testing.assert_allclose(sga, xi + 0.3 * sign * At_xi, atol=1e-6)
    if game.name == "zero_sum":  # its symmetric part diag(A, −C) is indefinite: both signs occur
        assert (sign < 0).any() and (sign > 0).any()
    plain = bound("sga", game, 1, 64, lam=0.3, align=False).joint_direction(b, 1.0)
    np.testing.assert_allclose(plain, xi + 0.3 * At_xi, atol=1e-6)


def test_default_weights_are_one_over_the_spectral_norm():
    game = make("quadratic")
    x = np.zeros((1, 2))
    b = blocks_of(game, x)
    s = 1 / np.linalg.norm(game.jacobian(x)[0], 2)
    np.testing.assert_allclose(
        bound("consensus", game, 0, 1).joint_direction(b, 1.0),
        bound("consensus", game, 0, 1, gamma=s).joint_direction(b, 1.0),
    )


def test_cgd_two_player_formula_and_n_player_local_nash():
    """Two players: Schäfer & Anandkumar's Δx = −η (I − η² D_xy f D_yx g)⁻¹ (∇_x f − η D_xy f ∇_y g).
    n players: Δx solves every player's local problem, ξ_i + Σ_{j≠i} J_ij Δx_j + Δx_i/η = 0."""
    eta = 0.4
    game = make("zero_sum", instance="spurious")  # d_1 = d_2 = 2
    x = np.random.default_rng(2).uniform(-1, 1, (5, 4))
    J, xi = game.jacobian(x), game.omega(x)
    s1, s2 = game.slices
    Dxy, Dyx = J[:, s1, s2], J[:, s2, s1]
    rhs = xi[:, s1] - eta * np.einsum("bij,bj->bi", Dxy, xi[:, s2])
    M = np.eye(2) - eta**2 * Dxy @ Dyx
    dx = -eta * np.linalg.solve(M, rhs[..., None])[..., 0]
    step, singular = cgd_step(blocks_of(game, x), eta, game.slices)
    np.testing.assert_allclose(-eta * step[:, s1], dx, rtol=1e-10, atol=1e-12)
    assert not singular.any()
    game3 = cubic_game()
    x3 = np.random.default_rng(4).uniform(-1, 1, (5, game3.d))
    dx3 = -eta * cgd_step(blocks_of(game3, x3), eta, game3.slices)[0]
    J3, xi3 = game3.jacobian(x3), game3.omega(x3)
    for i, sl in enumerate(game3.slices):
        cross = sum(np.einsum("bij,bj->bi", J3[:, sl, s], dx3[:, s]) for j, s in enumerate(game3.slices) if j != i)
        np.testing.assert_allclose(xi3[:, sl] + cross + dx3[:, sl] / eta, 0, atol=1e-10)


def test_cgd_singular_local_game_uses_least_squares_and_counts():
    """I + ηH_o = [[1, η], [η, 1]]·... is singular for a potential-like coupling J_12 = J_21 = 1 at η = 1."""
    game = make("quadratic", dims=[1, 1], Q=[[[1.0, 1.0], [1.0, 0.0]], [[0.0, 1.0], [1.0, 1.0]]])
    learner = bound("cgd", game, 0, 2, lr=1.0)
    obs = {"grads": np.stack([game.grad(j, np.ones((2, 2))) for j in range(2)], 1), "J": game.jacobian(np.ones((2, 2)))}
    new = learner._step(obs, None, 1)
    assert np.isfinite(new).all() and learner.diagnostics["singular"] == 2


def test_extragradient_bilinear_rate_is_exact():
    """On f = x_1 x_2 with trial step δ and step γ: x_{t+1} = ((1 − γδ) I − γJ) x_t, so
    ‖x_T‖ = ‖x_0‖ ((1 − γδ)² + γ²)^{T/2} exactly (one iteration = two env steps)."""
    game = make("zero_sum", A=0.0, B=1.0, C=0.0, bound=10.0)
    gamma, delta, T = 0.1, 0.5, 50
    L = [make_learner("extragradient", lr=gamma, extrapolation=delta).bind(game, i, "gradient") for i in range(2)]
    x = np.array([[1.0, -0.5]])
    for learner, sl in zip(L, game.slices):
        learner.reset(x[:, sl])
    for k in range(1, 2 * T + 1):
        x = np.concatenate([learner.act() for learner in L], axis=1)
        w = game.omega(x)
        for learner, sl in zip(L, game.slices):
            learner.update(w[:, sl], None, k)
    x = np.concatenate([learner.x for learner in L], axis=1)
    expected = np.hypot(1.0, 0.5) * ((1 - gamma * delta) ** 2 + gamma**2) ** (T / 2)
    np.testing.assert_allclose(np.linalg.norm(x), expected, rtol=1e-12)


def test_read_blocks_checks_shapes_and_unbatched_observations():
    game = make("duopoly")
    learner = bound("sga", game, 0, 1)
    x = np.array([[30.0, 30.0]])
    b = blocks_of(game, x)
    one = read_blocks(learner, {"grads": b.grads[0], "J": b.J[0]})
    np.testing.assert_allclose(one.xi, game.omega(x))
    with pytest.raises(ValueError, match="'grads' and 'J'"):
        read_blocks(learner, {"grad": np.zeros(2)})
    with pytest.raises(ValueError, match="must have shapes"):
        read_blocks(learner, {"grads": np.zeros((1, 3, 2)), "J": b.J})


@pytest.mark.parametrize("rule", RULES)
def test_bad_arguments_and_games_too_large(rule):
    with pytest.raises(ValueError, match="step size must be positive"):
        make_learner(rule, lr=-1.0)
    big = make("oligopoly", follower_costs=(1.0,) * 16)  # d = 17 > GAME_BLOCKS_MAX_D
    with pytest.raises(ValueError, match="at most 16 coordinates"):
        make_learner(rule).bind(big, 0, "second_order")
    with pytest.raises(ValueError, match="needs 'jacobian' feedback"):
        make_learner(rule).bind(make("duopoly"), "follower", "gradient")


def test_parameter_validation_messages():
    with pytest.raises(ValueError, match="p must be"):
        make_learner("sos", p=2.0)
    with pytest.raises(ValueError, match="lookahead must be positive"):
        make_learner("lookahead", lookahead=0.0)
    with pytest.raises(ValueError, match="eps must be"):
        make_learner("sga", eps=-0.1)
    with pytest.raises(ValueError, match="gamma must be"):
        make_learner("consensus", gamma="big")


def test_readme_learner_table_lists_every_registered_rule_with_its_least_feedback():
    """The README's learner table has a row naming every registered rule, and the new rules' rows give the
    feedback mode that serves them (``second_order`` for the full-information rules, in both seats)."""
    from pathlib import Path

    from agents import learner_spec, list_learners

    readme = Path(__file__).resolve().parents[2] / "README.md"
    rows = [line for line in readme.read_text().splitlines() if line.startswith("| `")]
    for name in list_learners():
        assert any(f"`{name}`" in row.split("|")[1] for row in rows), name
    for name in RULES:
        row = next(r for r in rows if r.split("|")[1].strip() == f"`{name}`")
        spec = learner_spec(name)
        assert spec.feedback("leader")[0] == spec.feedback("follower")[0] == "second_order"
        assert row.rstrip(" |").endswith("`second_order`") and "leader, follower" in row
