"""Shared game cases for the game tests: every registered family plus non-default and user-defined games."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import sympy as sp

from stackenv.games import CustomGame, Game, list_games, make

BATCH = (3, 2)  # leading axes of the sampled joint actions


def uniform_sampler(game: Game, rng: np.random.Generator, shape=BATCH) -> np.ndarray:
    """Points uniformly inside the domain, 5% away from the box edges."""
    lo, hi = game.low, game.high
    margin = 0.05 * (hi - lo)
    return rng.uniform(lo + margin, hi - margin, size=shape + (game.d,))


def below_kink_sampler(game: Game, rng: np.random.Generator, shape=BATCH) -> np.ndarray:
    """Duopoly with a price floor: stay in ``Q < 0.9 A``, away from the kink ``Q = A``."""
    x = rng.uniform(0.05, 0.45, size=shape + (game.d,)) * game.A
    return x


def random_symmetric(rng: np.random.Generator, d: int, shift: float = 0.0) -> np.ndarray:
    M = rng.normal(size=(d, d))
    return (M + M.T) / 2 + shift * np.eye(d)


def quadratic_chain() -> Game:
    """Three levels, players of dimension 2, 1, 2, costs jointly convex (all reduced costs convex)."""
    rng = np.random.default_rng(7)
    dims, d = [2, 1, 2], 5
    Q = []
    for _ in range(3):
        M = rng.normal(size=(d, d))
        Q.append(M @ M.T / d + np.eye(d))
    return make("quadratic", dims=dims, Q=Q, q=rng.normal(size=(3, d)).tolist(), levels=[[0], [1], [2]])


def quadratic_simultaneous() -> Game:
    """A leader (dim 1) above two simultaneous followers (dims 2, 1)."""
    rng = np.random.default_rng(8)
    d = 4
    Q = [random_symmetric(rng, d, 3.0) for _ in range(3)]
    return make("quadratic", dims=[1, 2, 1], Q=Q, q=rng.normal(size=(3, d)).tolist())


def zero_sum_matrices() -> Game:
    rng = np.random.default_rng(9)
    return make(
        "zero_sum",
        A=random_symmetric(rng, 2, 2.0).tolist(),
        B=rng.normal(size=(2, 3)).tolist(),
        C=random_symmetric(rng, 3, -2.0).tolist(),
        a=[0.5, -1.0],
        b=[1.0, 0.0, -2.0],
        bound=5.0,
    )


def custom_two_level() -> Game:
    """A non-quadratic user game: leader in R², follower in R with ∇²_22 f_2 = 2 − cos(·) ≥ 1."""

    def leader(x1, x2):
        return x1[0] ** 2 * x2[0] + sp.sin(x1[1]) * x2[0] + x1[0] * x1[1] + sp.exp(x2[0] / 4) + x1[1] ** 2

    def follower(x1, x2):
        return x2[0] ** 2 + sp.cos(x1[0] + x2[0]) - x1[1] * x2[0] + 3  # the constant tests broadcasting

    return CustomGame([leader, follower], dims=[2, 1], low=-1.5, high=1.5, name="custom_two_level")


def custom_three_level() -> Game:
    """A non-quadratic three-level chain of scalar players (exact ω_S; J_S by the base's fallback)."""

    def f1(x1, x2, x3):
        return x1[0] ** 2 + x1[0] * x2[0] + x3[0] ** 3 / 3 + x1[0] * x3[0]

    def f2(x1, x2, x3):
        return x2[0] ** 2 + sp.sin(x1[0]) * x2[0] + x2[0] * x3[0]

    def f3(x1, x2, x3):
        return x3[0] ** 2 + sp.cos(x3[0]) / 2 - x1[0] * x3[0] + x2[0] * x3[0] / 2

    return CustomGame([f1, f2, f3], dims=[1, 1, 1], levels=[[0], [1], [2]], low=-1.0, high=1.0, name="custom3")


def custom_four_level() -> Game:
    """A non-quadratic four-level chain of scalar players: ``J_S`` rows of the top two levels need the nested
    central differences of the base class (fourth and fifth derivatives), everything a response needs is exact
    up to the second level."""

    def cost(i):
        def f(*xs):
            x = [v[0] for v in xs]
            coupling = sum(0.3 * (j - i) * x[i] * x[j] for j in range(4) if j != i)
            return x[i] ** 2 + 0.2 * sp.cos(x[i]) + coupling + 0.1 * sp.sin(x[0] + x[i])

        return f

    return CustomGame([cost(i) for i in range(4)], dims=[1] * 4, levels=[[0], [1], [2], [3]], low=-2, high=2, name="c4")


def lq_policy_followers() -> Game:
    """Policy space of an LQ game with a 2-d state, a leader and two followers; gains within ±0.1 of the Nash
    gains (every gain in that box has a stable closed loop: checked at the box's corners by the builder below)."""
    params = {
        "A": [[1.0, 0.3], [-0.2, 0.9]],
        "B": [[[1.0], [0.2]], [[0.0], [1.0]], [[0.5], [0.5]]],
        "Q": [np.eye(2).tolist(), [[0.5, 0.1], [0.1, 1.0]], [[1.0, 0.0], [0.0, 0.2]]],
        "R": [[[[1.0]], [[0.3]], [[0.0]]], [[[0.0]], [[2.0]], [[0.1]]], [[[0.2]], [[0.0]], [[1.5]]]],
        "x0": [1.0, -0.5],
        "X0": [[0.2, 0.0], [0.0, 0.1]],
        "W": [[0.05, 0.01], [0.01, 0.05]],
        "discount": 0.95,
    }
    K = make("lq_policy", **params, low=-5.0, high=5.0).feedback("feedback_nash")
    game = make("lq_policy", **params, low=(K - 0.1).tolist(), high=(K + 0.1).tolist())
    corners = np.array(np.meshgrid(*zip(game.low, game.high), indexing="ij")).reshape(game.d, -1).T
    assert np.all(game.spectral_radius(corners) < 0.95)
    return game


@dataclass(frozen=True)
class Case:
    """A game factory, a point sampler and whether the lower levels have a best response everywhere."""

    id: str
    build: Callable[[], Game]
    sample: Callable = uniform_sampler
    has_response: bool = False


def _registered_case(name: str) -> Case:
    return Case(f"{name}-defaults", lambda: make(name), has_response=name != "torus")


CASES = [_registered_case(name) for name in list_games()] + [
    Case("duopoly-price_floor", lambda: make("duopoly", A=80.0, c=(3.0, 7.0), price_floor=True), below_kink_sampler),
    Case("torus-other", lambda: make("torus", alpha=(0.7, 2.0), phi=(0.3, -1.0))),
    Case("zero_sum-spurious", lambda: make("zero_sum", instance="spurious")),
    Case("zero_sum-matrices", zero_sum_matrices, has_response=True),
    Case("quadratic-chain", quadratic_chain, has_response=True),
    Case("quadratic-simultaneous", quadratic_simultaneous, has_response=True),
    Case(
        "oligopoly-N5",
        lambda: make("oligopoly", A=60.0, leader_cost=3.0, follower_costs=[1.0, 4.0, 2.5, 0.0, 5.0]),
        has_response=True,
    ),
    Case("hierarchy-K3", lambda: make("hierarchy", A=50.0, costs=[4.0, 1.0, 7.0]), has_response=True),
    Case("hierarchy-K4", lambda: make("hierarchy", A=90.0, costs=[2.0, 6.0, 1.0, 3.0]), has_response=True),
    Case("custom-two-level", custom_two_level, has_response=True),
    Case("custom-three-level", custom_three_level, has_response=True),
    Case("custom-four-level", custom_four_level, has_response=True),
    Case("lq_policy-followers", lq_policy_followers, has_response=True),
]

_BUILT: dict[str, Game] = {}


@pytest.fixture(params=CASES, ids=[c.id for c in CASES])
def case(request) -> tuple[Case, Game]:
    """A case and its game (built once per session: the custom games compile sympy expressions)."""
    c = request.param
    if c.id not in _BUILT:
        _BUILT[c.id] = c.build()
    return c, _BUILT[c.id]
