"""Invalid parameters, actions and undefined implicit maps fail with a ValueError naming the problem."""

from __future__ import annotations

import numpy as np
import pytest

from stackenv.games import Player, list_games, make


@pytest.mark.parametrize(
    "name, params, match",
    [
        ("duopoly", {"A": 4.0}, "A > every unit cost"),
        ("oligopoly", {"A": 5.0, "leader_cost": 5.0}, "A > every unit cost"),
        ("oligopoly", {"follower_costs": [2.0, 120.0]}, "A > every unit cost"),
        ("oligopoly", {"follower_costs": []}, "N >= 1"),
        ("oligopoly", {"follower_costs": [[1.0, 2.0]]}, "N >= 1"),
        ("oligopoly", {"follower_costs": 2.0}, r"got the scalar 2; for a single follower give \[2\]"),
        ("oligopoly", {"A": float("nan")}, "'A' must be finite"),
        ("oligopoly", {"follower_costs": [1.0, float("inf")]}, "'follower_costs' must be finite"),
        ("oligopoly", {"leader_cost": -1.0}, "non-negative"),
        ("oligopoly", {"leader_cost": 60.0}, "not interior"),
        ("oligopoly", {"follower_costs": "abc"}, "must be numeric"),
        ("hierarchy", {"costs": [5.0]}, "K >= 2"),
        ("hierarchy", {"A": 3.0}, "A > every unit cost"),
        ("hierarchy", {"costs": [1.0, float("nan")]}, "'costs' must be finite"),
        ("hierarchy", {"costs": [1.0, 1.0, 1.0, 1.0, 1.0, 90.0]}, "not interior"),
        ("quadratic", {"Q": [[[1.0]]]}, "'Q' must have shape"),
        ("quadratic", {"Q": [[[1.0, 2.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]]}, "'Q' must hold symmetric"),
        ("quadratic", {"q": [[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]}, "'q' must have shape"),
        ("quadratic", {"q": [[1.0, float("nan")], [0.0, 0.0]]}, "'q' must be finite"),
        ("quadratic", {"dims": [1, 0]}, "'dims'"),
        ("quadratic", {"levels": [[1], [0]]}, "'levels'"),
        ("quadratic", {"bound": -1.0}, "'bound'"),
        ("zero_sum", {"bound": 0.0}, "'bound' must be positive"),
        ("zero_sum", {"A": [[1.0, 0.0], [0.0, 1.0]], "B": [[1.0, 0.0, 0.0]] * 3, "C": -1.0}, "mismatched shapes"),
        (
            "zero_sum",
            {"A": [[1.0, 2.0], [0.0, 1.0]], "B": 1.0, "C": [[-1.0, 0.0], [0.0, -1.0]]},
            "'A' must be symmetric",
        ),
        ("zero_sum", {"A": [[1.0, 0.0], [0.0, 1.0]], "B": 1.0, "C": -1.0}, "scalar B needs d1 == d2"),
        ("zero_sum", {"A": [[1.0, 2.0]], "B": 1.0, "C": -1.0}, "'A' must be square"),
        ("zero_sum", {"A": 1.0, "B": [[1.0, 2.0]], "C": -1.0, "b": [1.0, 2.0, 3.0]}, "mismatched shapes"),
        ("zero_sum", {"A": 1.0, "B": float("inf"), "C": -1.0}, "'B' must be finite"),
        ("zero_sum", {"A": 1.0, "C": -1.0}, "missing"),
        ("zero_sum", {"instance": "nope"}, "unknown instance"),
        ("zero_sum", {"instance": "prop2", "A": 3.0}, "conflict"),
        ("torus", {"alpha": (1.0, float("nan"))}, "'alpha' must be finite"),
        ("duopoly", {"nonsense": 1}, "unknown parameter"),
        # domains beyond float32, the dtype of env actions and observations (issue 17.4)
        ("duopoly", {"A": 1e39}, "exceed the float32 range"),
        ("oligopoly", {"A": 1e39}, "exceed the float32 range"),
        ("quadratic", {"bound": 1e39}, "exceed the float32 range"),
        ("zero_sum", {"bound": 2e38}, "exceed the float32 range"),  # the width 4e38 does not fit
        # values whose costs overflow float64 on the domain; chains too deep to hold (issue 17.5)
        ("quadratic", {"Q": [[[1e308, 0.0], [0.0, 1e308]]] * 2}, "'Q' and 'q' are too large for this domain"),
        ("quadratic", {"q": [[1e300, 0.0], [0.0, 1.0]]}, "'Q' and 'q' are too large for this domain"),
        ("zero_sum", {"A": 1e300, "B": 1e300, "C": -1e300}, "too large for this domain"),
        ("hierarchy", {"costs": [1.0] * 1100}, "at most 200 levels, got K = 1100"),
    ],
)
def test_invalid_parameters(name, params, match):
    with pytest.raises(ValueError, match=match):
        make(name, **params)


@pytest.mark.parametrize("name", list_games())
def test_wrong_action_shapes_and_values(name):
    game = make(name)
    for bad in (np.zeros(game.d + 1), np.zeros((3, game.d - 1)), np.float64(1.0)):
        with pytest.raises(ValueError, match=r"joint action must have shape"):
            game.check_x(bad)
        with pytest.raises(ValueError, match=r"joint action must have shape"):
            game.omega_S(bad)
    x = np.full(game.d, 0.5)
    x[-1] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        game.omega_S(x)


@pytest.mark.parametrize("name", list_games())
def test_every_family_validates_every_entry_point(name):
    game = make(name)
    bad = np.zeros((2, game.d + 1))
    nan = np.full((2, game.d), 0.5)
    nan[1, 0] = np.nan
    for fn in (game.costs, game.omega, game.jacobian, game.omega_S, game.jacobian_S):
        with pytest.raises(ValueError, match="joint action must have shape"):
            fn(bad)
        with pytest.raises(ValueError, match="non-finite"):
            fn(nan)
    for fn in (game.grad, game.hessian, lambda i, x: game.dhessian(i, x, np.ones(game.d))):
        with pytest.raises(ValueError, match="joint action must have shape"):
            fn(0, bad)
        with pytest.raises(ValueError, match="player index"):
            fn(game.n, np.zeros(game.d))
    with pytest.raises(ValueError, match="level index"):
        game.response(np.zeros(game.d), k=len(game.levels))


def test_nearly_singular_scalar_H22_is_caught():
    """A 1×1 H22 that is tiny next to H21 is singular for the implicit map (not only an exact zero)."""
    game = make("torus")
    theta2 = np.pi / 8 + 1.2
    theta1 = theta2 + np.arccos(1.3 * np.cos(1.2))  # on the curve H22 = 1.3 cos(θ2 − φ2) − cos(θ1 − θ2) = 0
    x = np.array([theta1, theta2])
    assert abs(game.hessian(1, x)[1, 1]) < 1e-12 < abs(game.hessian(1, x)[1, 0])
    with pytest.raises(ValueError, match="singular"):
        game.omega_S(x)
    game.omega_S(x + np.array([0.0, 0.05]))  # away from the curve it is defined


def test_non_boolean_price_floor_is_rejected():
    with pytest.raises(ValueError, match="price_floor"):
        make("duopoly", price_floor="no")


def test_singular_H22_where_omega_S_is_needed():
    game = make("zero_sum", A=1.0, B=1.0, C=0.0)  # follower's H22 = −C = 0
    x = np.zeros((4, 2))
    assert np.all(np.isfinite(game.omega(x)))  # simultaneous play is fine
    for fn in (game.omega_S, game.jacobian_S, lambda y: game.response(y, 0)):
        with pytest.raises(ValueError, match="singular"):
            fn(x)
    assert game.stackelberg_equilibrium() is None
    chain = make(
        "quadratic", dims=[1, 1, 1], Q=np.zeros((3, 3, 3)).tolist(), q=np.ones((3, 3)).tolist(), levels=[[0], [1], [2]]
    )
    with pytest.raises(ValueError, match="singular"):
        chain.omega_S(np.zeros(3))


def test_duopoly_price_floor_saturated_region():
    game = make("duopoly", price_floor=True)
    with pytest.raises(ValueError, match="singular"):
        game.omega_S(np.array([80.0, 60.0]))


@pytest.mark.parametrize(
    "params",
    [{"instance": "spurious"}, {"A": 1.0, "B": 1.0, "C": 1.0}],
    ids=["indefinite-H22", "negative-definite-H22"],
)
def test_indefinite_H22_has_no_best_response(params):
    """Where H22 is not positive definite the follower's stationary point is no best response: ValueError."""
    game = make("zero_sum", **params)
    x = np.full(game.d, 0.5)
    assert np.all(np.isfinite(game.omega_S(x)))  # H22 is invertible: the implicit map itself exists
    with pytest.raises(ValueError, match="'follower'.*not positive definite.*not a best response"):
        game.response(x, 0)
    assert game.stackelberg_equilibrium() is None


def test_envs_refuse_domains_beyond_float32():
    """The env layer builds its game with make(), so the game's check is the env's (issue 17.4)."""
    from stackenv.envs import duopoly_v0, quadratic_v0

    with pytest.raises(ValueError, match="exceed the float32 range"):
        duopoly_v0.parallel_env(feedback="reward", A=1e39)
    with pytest.raises(ValueError, match="exceed the float32 range"):
        quadratic_v0.parallel_env(bound=1e39)


@pytest.mark.parametrize(
    "probe, match",
    [
        (lambda: Player.box("p", None, 0.0, 1.0), "action dimension must be a positive integer"),
        (lambda: Player.box("p", float("nan"), 0.0, 1.0), "action dimension must be a positive integer"),
        (lambda: Player.box("p", 2, "low", 1.0), "bounds must be numbers"),
        (lambda: make("duopoly").omega("ab"), "joint action must be numeric"),
        (lambda: make("duopoly").omega([[1.0, 2.0], [3.0]]), "joint action must be numeric"),
        (lambda: make("zero_sum", instance=["prop2"]), "unknown instance"),
    ],
)
def test_game_checks_raise_value_errors(probe, match):
    """One error type for bad input to a game: ValueError naming the problem (these raised TypeError or bare
    numpy errors before)."""
    with pytest.raises(ValueError, match=match):
        probe()
