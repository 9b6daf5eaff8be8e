"""The ``chain`` game (K-level chain of command): costs, closed forms and fields against independent computations
— exact rational backward induction by nested minimisation (small K) and the generic bottom-up recursion of
:mod:`stackenv.games.stackelberg` (any K, up to 100 here) — and the conditioning its docstring promises."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from stackenv.games import Game, make, stackelberg
from stackenv.games.chain import MAX_LEVELS


def exact_costs(x, a, rho, c, t) -> list[Fraction]:
    """``f_j = ½(x_j − a x_{j−1} − c_j)² + ½ρ(x_{j+1} − t_j)²`` written from the definition, in exact arithmetic."""
    K = len(x)
    out = []
    for j in range(K):
        prev = x[j - 1] if j else 0
        f = (x[j] - a * prev - c[j]) ** 2 / 2
        if j < K - 1:
            f += rho * (x[j + 1] - t[j]) ** 2 / 2
        out.append(f)
    return out


def backward_induction(prefix, K, a, rho, c, t) -> list[Fraction]:
    """Levels ``len(prefix)..K−1`` at their nested best response to ``prefix``: level j minimises its reduced cost
    ``φ(x_j) = f_j(prefix, x_j, response below)``, a quadratic (the responses are affine), fitted exactly through
    ``φ(0), φ(1), φ(2)``: ``x* = −β/(2α)`` with ``2α = φ(2) − 2φ(1) + φ(0)``, ``β = φ(1) − φ(0) − α``."""
    j = len(prefix)
    if j == K:
        return []

    def phi(v):
        tail = [v] + backward_induction(prefix + [v], K, a, rho, c, t)
        return exact_costs(prefix + tail, a, rho, c, t)[j]

    p0, p1, p2 = phi(Fraction(0)), phi(Fraction(1)), phi(Fraction(2))
    alpha = (p2 - 2 * p1 + p0) / 2
    assert alpha > 0  # strictly convex reduced cost (h_j ≥ 1)
    best = -(p1 - p0 - alpha) / (2 * alpha)
    return [best] + backward_induction(prefix + [best], K, a, rho, c, t)


def _random_params(rng, K):
    frac = lambda v: Fraction(v).limit_denominator(64)  # noqa: E731
    a, rho = frac(rng.uniform(-0.6, 0.6)), frac(rng.uniform(0.0, 0.8))
    c = [frac(v) for v in rng.uniform(-1, 1, K)]
    t = [frac(v) for v in rng.uniform(-1, 1, K - 1)]
    return a, rho, c, t


@pytest.mark.parametrize("K,seed", [(2, 0), (3, 1), (5, 2), (7, 3)])
def test_stackelberg_closed_form_is_exact_backward_induction(K, seed):
    a, rho, c, t = _random_params(np.random.default_rng(seed), K)
    game = make("chain", K=K, a=float(a), rho=float(rho), c=[float(v) for v in c], targets=[float(v) for v in t])
    exact = backward_induction([], K, a, rho, c, t)
    np.testing.assert_allclose(game.stackelberg_closed_form(), [float(v) for v in exact], rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(game.omega_S(game.stackelberg_closed_form()), 0.0, atol=1e-14)
    nash = game.nash_closed_form()
    np.testing.assert_allclose(game.omega(nash), 0.0, atol=1e-14)  # each level's own gradient vanishes
    x = np.random.default_rng(seed).uniform(-2, 2, K)
    exact_f = exact_costs([Fraction(v) for v in x], a, rho, c, t)
    np.testing.assert_allclose(game.costs(x), [float(v) for v in exact_f], rtol=1e-13)


@pytest.mark.parametrize("K", [3, 12, 100])
def test_fields_equal_the_generic_bottom_up_recursion(K):
    """``ω_S``/``J_S`` in closed form = the generic recursion from the game's gradients and Hessians (H22 adjoint
    solves level by level); its zero solved densely = the closed-form Stackelberg point, at K = 100 too."""
    rng = np.random.default_rng(K)
    game = make("chain", K=K, a=0.45, rho=0.8, c=rng.uniform(-1, 1, K).tolist(), targets=rng.uniform(-1, 1, K - 1))
    x = rng.uniform(-3, 3, (2, K))
    om, JS = stackelberg.stackelberg_terms(game, x)
    np.testing.assert_allclose(game.omega_S(x), om, rtol=0, atol=1e-13)
    np.testing.assert_allclose(game.jacobian_S(x), JS, rtol=0, atol=1e-13)
    generic = np.linalg.solve(JS[0], JS[0] @ x[0] - om[0])
    np.testing.assert_allclose(game.stackelberg_closed_form(), generic, rtol=0, atol=1e-13)
    y = x[0]
    for k in (0, K // 2):
        np.testing.assert_allclose(game.response(y, k), Game.response(game, y, k), rtol=0, atol=1e-12)


def test_deep_chain_is_well_conditioned():
    """The docstring's bounds at the defaults (|a|(1 + ρ) = 0.75): cond_∞(J_S) ≤ 1.75/0.25 = 7 and reduced Hessians
    in [1, 1 + ρa²] = [1, 1.125] at every depth; the Cournot ``hierarchy`` fails at a quarter of that depth."""
    for K in (100, MAX_LEVELS):
        game = make("chain", K=K)
        JS = game.jacobian_S(np.zeros(K))
        assert np.linalg.cond(JS, np.inf) <= 7.0
        np.testing.assert_allclose(np.diag(JS), 1.0)
        h = game.curvatures
        assert h.min() >= 1.0 and h.max() <= 1.125
    game = make("chain", K=100)
    JS = game.jacobian_S(np.zeros(100))
    for j in (0, 50, 98, 99):
        np.testing.assert_allclose(game.reduced_hessian(j, JS), [[game.curvatures[j]]], rtol=1e-12)
    cournot = make("hierarchy", costs=[5.0] * 40)  # reduced curvatures 2^{j+2−K}: H22 numerically singular
    with pytest.raises(ValueError, match="singular"):
        cournot.omega_S(np.zeros(40))


@pytest.mark.parametrize(
    "params,match",
    [
        ({"K": 1}, "'K' must be an integer in"),
        ({"K": MAX_LEVELS + 1}, "'K' must be an integer in"),
        ({"K": 2.5}, "'K' must be an integer in"),
        ({"K": True}, "'K' must be an integer in"),
        ({"rho": -0.1}, "'rho' must be >= 0"),
        ({"c": [1.0, 2.0]}, "'c' must be a number or 4 numbers"),
        ({"targets": [0.0] * 4}, "'targets' must be a number or 3 numbers"),
        ({"bound": 0.0}, "'bound' must be positive"),
        ({"K": 100, "a": 1.2}, "leaves the box"),
        ({"a": float("nan")}, "a"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        make("chain", **params)


def test_params_round_trip():
    game = make("chain", K=5, a=-0.3, rho=1.5, c=[0.1, 0.2, 0.3, 0.4, 0.5], targets=2.0, bound=4.0)
    again = make("chain", **game.params)
    np.testing.assert_array_equal(again.stackelberg_closed_form(), game.stackelberg_closed_form())
    assert again.definition() == game.definition()
