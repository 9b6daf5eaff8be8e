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
