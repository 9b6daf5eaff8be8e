"""Closed-form best responses agree with the generic Newton response and are global minimisers."""

import numpy as np
import pytest

from stackenv.games import make
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
