"""The ``lq_followers`` game: its O(N) costs and fields equal the dense ``lq`` game's (the same game through N × N
weights) at small N, and the O(N) path allocates nothing of size N × N (tracemalloc)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from stackenv.games import Game, make
from stackenv.games.lq_followers import DENSE_MAX_FOLLOWERS


def _spd(rng, k, N=None, scale=1.0):
    M = rng.normal(size=(k, k) if N is None else (N, k, k))
    return (M @ np.swapaxes(M, -1, -2) / k + 0.3 * np.eye(k)) * scale


def heterogeneous(seed: int = 0, N: int = 4) -> dict:
    """Per-follower B, Q, QT, R (and the leader's weights on them), noise, discount, two controls per player."""
    rng = np.random.default_rng(seed)
    n, m0, m = 3, 2, 2
    return {
        "A": (0.6 * rng.normal(size=(n, n))).tolist(),
        "x0": rng.normal(size=n).tolist(),
        "horizon": 3,
        "followers": N,
        "B0": rng.normal(size=(n, m0)).tolist(),
        "BF": rng.normal(size=(N, n, m)).tolist(),
        "Q0": _spd(rng, n).tolist(),
        "QF": _spd(rng, n, N).tolist(),
        "QT0": _spd(rng, n, scale=2.0).tolist(),
        "QTF": _spd(rng, n, N, 0.5).tolist(),
        "R00": _spd(rng, m0).tolist(),
        "RFF": _spd(rng, m, N).tolist(),
        "R0F": _spd(rng, m, N, 0.2).tolist(),
        "RF0": _spd(rng, m0, N, 0.1).tolist(),
        "W": (0.1 * _spd(rng, n)).tolist(),
        "discount": 0.9,
    }


CASES = {
    "defaults": {},
    "shared-many": {"followers": 12, "W": [[0.1, 0.0], [0.0, 0.2]], "discount": 0.95},
    "heterogeneous": heterogeneous(),
    "heterogeneous-one": heterogeneous(1, N=1),
}


def _rel(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


@pytest.mark.parametrize("name", CASES)
def test_equals_the_dense_lq_game(name):
    """Costs, ω, ω_S, every player's full gradient and J_S agree with ``make("lq", **dense_params())`` (whose ω_S
    comes from the generic recursion with a dense H22 solve) to 1e-9 relative (measured ~1e-15)."""
    game = make("lq_followers", **CASES[name])
    dense = make("lq", **game.dense_params())
    assert dense.d == game.d and dense.agents == game.agents
    x = np.random.default_rng(5).uniform(-2, 2, (3, 2, game.d))
    for fn in ("costs", "omega", "omega_S"):
        assert _rel(getattr(game, fn)(x), getattr(dense, fn)(x)) < 1e-9, fn
    for i in range(game.n):
        assert _rel(game.grad(i, x), dense.grad(i, x)) < 1e-9, i
    k = game.T * game.m0
    assert np.abs(game.omega_S(x)[..., :k] - game.omega(x)[..., :k]).max() > 1e-3  # the leader's correction acts
    np.testing.assert_allclose(game.jacobian_S(x[0, 0]), dense.jacobian_S(x[0, 0]), rtol=0, atol=1e-12)
    u = np.random.default_rng(6).normal(size=x.shape)
    assert _rel(game.jacobian_product(x, u), np.einsum("...ab,...b->...a", dense.jacobian(x), u)) < 1e-9
    again = make("lq_followers", **game.params)
    np.testing.assert_array_equal(again.omega_S(x), game.omega_S(x))


@pytest.mark.parametrize("name", CASES)
def test_structured_response_is_the_followers_nash_point(name):
    """The O(N) Woodbury response equals the generic Newton response on the dense blocks, and zeroes ω_F."""
    game = make("lq_followers", **CASES[name])
    x = np.random.default_rng(7).uniform(-1, 1, (2, game.d))
    r = game.response(x)
    np.testing.assert_allclose(r[:, : game.T * game.m0], x[:, : game.T * game.m0])
    np.testing.assert_allclose(game.omega(r)[:, game.T * game.m0 :], 0.0, atol=1e-10)
    np.testing.assert_allclose(r, Game.response(game, x), rtol=0, atol=1e-9)
    np.testing.assert_array_equal(game.response(x, 1), x)


def test_open_loop_stackelberg_point_is_the_zero_of_the_structured_field():
    game = make("lq_followers", **heterogeneous(2))
    xs = make("lq", **game.dense_params()).stackelberg_critical_point()
    np.testing.assert_allclose(game.omega_S(xs), 0.0, atol=1e-10)


def test_no_n_by_n_allocation():
    """N = 20 000 followers: make + costs + ω + ω_S allocate O(N). An N × N float array would be 3.2 GB (160 KB per
    follower); the limit, 4 KB per follower, is ~40× what is measured (~0.1 KB per follower for the fields, the
    set-up's per-player objects ~1 KB)."""
    N = 20_000
    tracemalloc.start()
    try:
        game = make(
            "lq_followers", followers=N, BF=np.tile([[0.5], [1.0]], (N, 1, 1)) * np.linspace(0.5, 1.5, N)[:, None, None]
        )
        x = np.full((1, game.d), 0.1)
        build = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        game.costs(x), game.omega(x), game.omega_S(x)
        fields = tracemalloc.get_traced_memory()[1] - tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert build < 4096 * N
    assert fields < 1024 * N


def test_dense_matrices_only_for_small_n_and_bad_parameters():
    game = make("lq_followers", followers=DENSE_MAX_FOLLOWERS + 1)
    with pytest.raises(ValueError, match="dense Hessians/Jacobians need N"):
        game.hessian(0, np.zeros(game.d))
    assert game.omega_S(np.zeros(game.d)).shape == (game.d,)
    for params, match in [
        ({"followers": 0}, "'followers' must be a positive integer"),
        ({"followers": 2.5}, "'followers' must be a positive integer"),
        ({"RFF": [[0.0]]}, "'RFF'"),
        ({"BF": [[[1.0], [0.0]]] * 2}, r"'BF' must have shape \(2, 1\) \(shared\) or \(3, 2, 1\)"),
        ({"QF": [[1.0, 2.0], [0.0, 1.0]]}, "'QF' must (hold|be) symmetric"),
        ({"QF": [[-1.0, 0.0], [0.0, 1.0]]}, "'QF' must hold positive semidefinite"),
        ({"A": [[1.0]]}, "B"),
        ({"bound": -1.0}, "'bound' must be positive"),
    ]:
        with pytest.raises(ValueError, match=match):
            make("lq_followers", **params)
