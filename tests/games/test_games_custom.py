"""User-defined games: symbolic derivatives agree with a built-in family; registration; bad cost functions."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import sympy as sp

from stackenv.games import CustomGame, list_games, make, register_custom_game
from stackenv.games import registry as registry_module


def torus_costs(alpha=(1.0, 1.3), phi=(np.pi / 8, np.pi / 8)):
    def leader(x1, x2, **_):
        return -alpha[0] * sp.cos(x1[0] - phi[0]) + sp.cos(x1[0] - x2[0])

    def follower(x1, x2, **_):
        return -alpha[1] * sp.cos(x2[0] - phi[1]) + sp.cos(x2[0] - x1[0])

    return [leader, follower]


def test_custom_torus_equals_builtin_torus():
    custom = CustomGame(torus_costs(), dims=[1, 1], low=-np.pi, high=np.pi, periodic=True, name="my_torus")
    builtin = make("torus")
    x = np.random.default_rng(0).uniform(-np.pi, np.pi, size=(4, 3, 2))
    u = np.random.default_rng(1).normal(size=x.shape)
    assert custom.agents == builtin.agents and bool(custom.periodic.all()) and not custom.quadratic
    np.testing.assert_allclose(custom.costs(x), builtin.costs(x), atol=1e-12)
    for i in range(2):
        np.testing.assert_allclose(custom.grad(i, x), builtin.grad(i, x), atol=1e-12)
        np.testing.assert_allclose(custom.hessian(i, x), builtin.hessian(i, x), atol=1e-12)
        np.testing.assert_allclose(custom.dhessian(i, x, u), builtin.dhessian(i, x, u), atol=1e-12)
    np.testing.assert_allclose(custom.omega_S(x), builtin.omega_S(x), atol=1e-10)
    np.testing.assert_allclose(custom.jacobian_S(x), builtin.jacobian_S(x), atol=1e-9)


def test_quadratic_custom_game_is_flagged_and_matches_the_quadratic_family():
    game = make("quadratic")
    Q, q = np.array(game.Q), np.array(game.q)

    def cost(i):
        def f(x1, x2):
            x = sp.Matrix([x1[0], x2[0]])
            return (x.T * sp.Matrix(Q[i]) * x)[0] / 2 + (sp.Matrix(q[i]).T * x)[0]

        return f

    custom = CustomGame([cost(0), cost(1)], dims=[1, 1])
    assert custom.quadratic
    x = np.random.default_rng(2).uniform(-5, 5, size=(6, 2))
    np.testing.assert_allclose(custom.costs(x), game.costs(x), atol=1e-12)
    np.testing.assert_allclose(custom.jacobian_S(x), game.jacobian_S(x), atol=1e-12)  # constants broadcast


def test_register_custom_game_and_pickle():
    name = "test_custom_torus_tmp"
    try:

        def leader(x1, x2, alpha):
            return -alpha[0] * sp.cos(x1[0]) + sp.cos(x1[0] - x2[0])

        def follower(x1, x2, alpha):
            return -alpha[1] * sp.cos(x2[0]) + sp.cos(x2[0] - x1[0])

        register_custom_game(
            name, [leader, follower], dims=[1, 1], defaults={"alpha": [1.0, 1.3]}, low=-np.pi, high=np.pi, periodic=True
        )
        assert name in list_games()
        game = make(name, alpha=[2.0, 0.5])
        assert game.name == name and game.params == {"alpha": [2.0, 0.5]}
        ref = make("torus", alpha=(2.0, 0.5), phi=(0.0, 0.0))
        x = np.array([[0.3, -1.2], [2.0, 0.1]])
        np.testing.assert_allclose(game.omega_S(x), ref.omega_S(x), atol=1e-12)
        np.testing.assert_allclose(make(name, **game.params).omega(x), game.omega(x), atol=0)
        with pytest.raises(ValueError, match="unknown parameter"):
            make(name, beta=1.0)
        clone = pickle.loads(pickle.dumps(game))
        np.testing.assert_allclose(clone.jacobian_S(x), game.jacobian_S(x), atol=0)
    finally:
        registry_module._REGISTRY.pop(name, None)
    assert name not in list_games()


def test_bad_custom_games():
    with pytest.raises(ValueError, match="one cost per player"):
        CustomGame(torus_costs(), dims=[1, 1, 1])
    with pytest.raises(ValueError, match="write costs with sympy"):
        CustomGame([lambda x1, x2: np.cos(x1[0]), lambda x1, x2: x2[0] ** 2], dims=[1, 1])
    y = sp.Symbol("y")
    with pytest.raises(ValueError, match="unknown symbols"):
        CustomGame([lambda x1, x2: x1[0] * y, lambda x1, x2: x2[0] ** 2], dims=[1, 1])
    with pytest.raises(ValueError, match="must be a scalar"):
        CustomGame([lambda x1, x2: x1, lambda x1, x2: x2[0] ** 2], dims=[2, 1])
    with pytest.raises(ValueError, match="'dims'"):
        CustomGame(torus_costs(), dims=[1, 0])
    with pytest.raises(ValueError, match="'low'"):
        CustomGame(torus_costs(), dims=[1, 1], low=[0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="low < high"):
        CustomGame(torus_costs(), dims=[1, 1], low=1.0, high=0.0)
    game = CustomGame(torus_costs(), dims=[1, 1])
    with pytest.raises(ValueError, match="joint action must have shape"):
        game.grad(0, np.zeros(3))
