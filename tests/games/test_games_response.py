"""Closed-form best responses agree with the generic Newton response and are global minimisers."""

import numpy as np
import pytest
import sympy as sp
from scipy.optimize import brentq

from stackenv.games import CustomGame, make
from stackenv.games.base import Game


@pytest.mark.parametrize("name", ["duopoly", "torus"])
def test_closed_form_response_matches_newton(name):
    game = make(name)
    rng = np.random.default_rng(1)
    x = rng.uniform(game.low, game.high, (20, game.d))
    x[:, 0] = rng.uniform(game.low[0], 0.4 * game.high[0] + 0.6 * game.low[0], 20)  # interior responses
    fast = game.response(x)
    assert np.abs(game.omega(fast)[:, 1]).max() < 1e-10
    newton = Game.response(game, fast)  # Newton from the closed form must not move
    np.testing.assert_allclose(game.displacement(fast, newton), 0.0, atol=1e-12)


def test_torus_response_is_the_global_minimum():
    game = make("torus", alpha=(0.7, 0.4), phi=(0.3, -1.1))
    theta1 = np.linspace(-np.pi, np.pi, 13, endpoint=False)
    grid = np.linspace(-np.pi, np.pi, 20001)
    for t1 in theta1:
        x = game.response(np.array([t1, 0.0]))
        brute = grid[np.argmin(game.costs(np.stack([np.full_like(grid, t1), grid], -1))[:, 1])]
        assert abs(game.displacement(np.array([0.0, x[1]]), np.array([0.0, brute]))[1]) < 1e-3


def _chain(a, e, c=1.0):
    """A 3-level quadratic chain whose middle player's own block of J_S and reduced Hessian differ in sign."""
    Q0 = [[2, 1, 0], [1, 0, 0], [0, 0, 0]]
    Q1 = [[0, 1, 0], [1, a, 0], [0, 0, e]]
    Q2 = [[0, 0, 1], [0, 0, -c], [1, -c, 1]]
    q = [[0.3, 0, 0], [0, 0.2, 0], [0, 0, 0.1]]
    return make("quadratic", dims=[1, 1, 1], Q=[Q0, Q1, Q2], q=q, levels=[[0], [1], [2]])


def test_response_judges_middle_levels_by_their_reduced_hessian():
    x = np.array([0.5, 0.1, -0.2])
    # independent: the middle player's reduced cost x1 ↦ f1(x0, x1, r2(x0, x1)) with r2 = c x1 − x0 − 0.1 has
    # second derivative a + e c² (f1's x2-curvature e enters through r2): a=1, e=−3 → −2 (a maximum)
    with pytest.raises(ValueError, match="reduced Hessian is not positive definite"):
        _chain(1.0, -3.0).response(x, k=0)
    # a=−0.5, e=3 → +2.5 (a minimum) although the middle player's own block J_S[1,1] = a < 0
    game = _chain(-0.5, 3.0)
    assert game.jacobian_S(x)[1, 1] < 0
    r = game.response(x, k=0)
    np.testing.assert_allclose(game.omega_S(r)[1:], 0.0, atol=1e-12)
    np.testing.assert_allclose(game.reduced_hessian(1, game.jacobian_S(r)), [[2.5]])


def test_response_of_a_non_quadratic_three_level_chain():
    """Issue 15's reproduction: every level's response in a non-quadratic chain (it raised NotImplementedError)."""
    game = CustomGame(
        [
            lambda a, b, c: a[0] ** 2 + a[0] * b[0],
            lambda a, b, c: b[0] ** 2 + b[0] * c[0] - b[0] * a[0],
            lambda a, b, c: c[0] ** 2 + 0.1 * sp.cos(c[0]) + c[0] * b[0],
        ],
        dims=[1, 1, 1],
        levels=[[0], [1], [2]],
    )
    x = np.array([0.3, 0.2, 0.1])

    # independent: nested scalar root finding. Bottom: ∂f3/∂x3 = 2x3 − 0.1 sin x3 + x2 = 0 (f3 strictly convex);
    # middle: the derivative of its reduced cost x2 ↦ f2(x1, x2, x3*(x2)) by central differences, = 0
    def bottom(x2):
        return brentq(lambda t: 2 * t - 0.1 * np.sin(t) + x2, -5, 5, xtol=1e-15)

    np.testing.assert_allclose(game.response(x, 1), [0.3, 0.2, bottom(0.2)], atol=1e-12)

    def reduced_f2(x2):
        return x2**2 + x2 * bottom(x2) - x2 * 0.3

    x2 = brentq(lambda t: (reduced_f2(t + 1e-6) - reduced_f2(t - 1e-6)) / 2e-6, -5, 5, xtol=1e-14)
    np.testing.assert_allclose(game.response(x, 0), [0.3, x2, bottom(x2)], atol=1e-8)  # FD error ~1e-10


@pytest.mark.parametrize("k", [0, 1, 2])
def test_every_level_responds(case, k):
    """Generic: at the response to levels ≤ k the lower levels are stationary (their rows of the full ω_S vanish)
    and every lower player is at a local minimum of its reduced cost; the levels ≤ k do not move."""
    c, game = case
    if not c.has_response or k >= len(game.levels) - 1:
        return
    rng = np.random.default_rng(11)
    x = c.sample(game, rng, shape=(4,))
    r = game.response(x, k)
    top = np.concatenate(game.level_coords[: k + 1])
    np.testing.assert_array_equal(r[..., top], x[..., top])
    b = game.below_coords[k]
    scale = max(1.0, float(np.abs(r).max()))
    np.testing.assert_allclose(game.omega_S(r)[..., b], 0.0, atol=1e-9 * scale)
    JS = game.jacobian_S(r)
    for i in (i for lv in game.levels[k + 1 :] for i in lv):
        assert np.all(np.linalg.eigvalsh(game.reduced_hessian(i, JS)) > 0)


def test_response_blocks_are_blocks_of_J_S(case):
    """``response_blocks`` stops the recursion below level k; its blocks equal those of the full ``J_S``."""
    c, game = case
    x = c.sample(game, np.random.default_rng(12), shape=(3,))
    JS = game.jacobian_S(x)
    scale = max(1.0, float(np.abs(JS).max()))
    for k in range(len(game.levels) - 1):
        H22, H21 = game.response_blocks(x, k)
        b, a = game.below_coords[k], game.level_coords[k]
        # 1e-6: the top rows of a non-quadratic chain's J_S are central differences (error ~1e-9 measured)
        np.testing.assert_allclose(H22, JS[..., b[:, None], b], atol=1e-6 * scale)
        np.testing.assert_allclose(H21, JS[..., b[:, None], a], atol=1e-6 * scale)


def test_lower_solve_inverts_H22(case):
    """``game.lower_solve`` (GMRES through ``jacobian_product``, or a family's closed form: the oligopoly's
    Sherman–Morrison, the LQ followers' Woodbury) equals a dense solve with ``response_blocks``' ``H22``."""
    c, game = case
    x = c.sample(game, np.random.default_rng(13), shape=(3,))
    for k in range(len(game.levels) - 1):
        H22, _ = game.response_blocks(x, k)
        if np.any(np.linalg.svd(H22, compute_uv=False).min(-1) < 1e-8):  # singular here: no response to solve for
            continue
        rhs = np.random.default_rng(k).normal(size=(3, H22.shape[-1]))
        s, ok = game.lower_solve(x, k, rhs)
        assert ok.all()
        # 1e-6: H22 of a non-quadratic chain is built from central differences (as in the test above)
        np.testing.assert_allclose(s, np.linalg.solve(H22, rhs[..., None])[..., 0], rtol=1e-6, atol=1e-8)
