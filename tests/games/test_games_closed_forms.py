"""Closed-form equilibria against independent derivations (numeric optimisation, linear solves, sympy).

The independent derivations are written here from the profit functions alone; the only hard-coded
numbers are the paper's published ones (§4.1).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from scipy.optimize import brentq, minimize_scalar

from stackenv.games import Game, make

PAPER_NASH = (30.67, 33.67)
PAPER_STACKELBERG = (46.0, 26.0)
PAPER_NASH_PROFITS = (944.4, 1114.7)
PAPER_STACKELBERG_PROFITS = (1048.2, 659.9)


def profit(q: np.ndarray, A: float, c: np.ndarray) -> np.ndarray:
    """Cournot profits ``(A − Σq − c_i) q_i``."""
    q = np.asarray(q, float)
    return (A - q.sum() - np.asarray(c)) * q


def argmax(fun, lo: float, hi: float) -> float:
    return minimize_scalar(lambda t: -fun(t), bounds=(lo, hi), method="bounded", options={"xatol": 1e-11}).x


# ---------------------------------------------------------------------------------------------- duopoly
def duopoly_numeric(A: float, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nash by best-response iteration (a contraction), Stackelberg by nested scalar optimisation."""

    def br(i: int, other: float) -> float:
        return argmax(lambda t: profit([t, other] if i == 0 else [other, t], A, c)[i], 0.0, A)

    q = np.array([A / 4, A / 4])
    for _ in range(60):
        q = np.array([br(0, q[1]), br(1, q[0])])
    q1 = argmax(lambda t: profit([t, br(1, t)], A, c)[0], 0.0, A)
    return q, np.array([q1, br(1, q1)])


def test_duopoly_defaults_match_paper():
    game = make("duopoly")
    np.testing.assert_allclose(game.nash_closed_form(), PAPER_NASH, atol=0.005)
    np.testing.assert_allclose(game.stackelberg_closed_form(), PAPER_STACKELBERG, atol=0.005)


@pytest.mark.parametrize("seed", range(8))
def test_duopoly_closed_forms_vs_numeric(seed):
    rng = np.random.default_rng(seed)
    while True:
        A = rng.uniform(10, 200)
        c = rng.uniform(0, A / 3, size=2)
        try:
            game = make("duopoly", A=A, c=c.tolist())
            break
        except ValueError:  # not interior: draw again
            continue
    nash, stack = duopoly_numeric(A, c)
    np.testing.assert_allclose(game.nash_closed_form(), nash, atol=1e-6 * A)
    np.testing.assert_allclose(game.stackelberg_closed_form(), stack, atol=1e-5 * A)


def test_duopoly_exact_profits_differ_from_paper():
    game = make("duopoly")
    A, c = Fraction(100), (Fraction(5), Fraction(2))
    nash_q = [Fraction(92, 3), Fraction(101, 3)]  # the paper's rounded (30.67, 33.67), exactly
    stack_q = [Fraction(46), Fraction(26)]
    for q, paper, x in (
        (nash_q, PAPER_NASH_PROFITS, game.nash_closed_form()),
        (stack_q, PAPER_STACKELBERG_PROFITS, game.stackelberg_closed_form()),
    ):
        np.testing.assert_allclose(x, [float(v) for v in q], rtol=1e-12)
        exact = [float((A - sum(q) - c[i]) * q[i]) for i in range(2)]
        np.testing.assert_allclose(-game.costs(x), exact, rtol=1e-12)
        assert np.all(np.abs(np.array(exact) - paper) > 1.0), (exact, paper)  # far beyond rounding
    np.testing.assert_allclose(-game.costs(game.nash_closed_form()), [940.444, 1133.444], atol=1e-3)
    np.testing.assert_allclose(-game.costs(game.stackelberg_closed_form()), [1058.0, 676.0], atol=1e-9)


# ---------------------------------------------------------------------------------------------- oligopoly
def oligopoly_costs(N: int, seed: int) -> tuple[float, float, np.ndarray]:
    """Unequal costs, spread small enough (∝ 1/N) that both equilibria stay interior."""
    rng = np.random.default_rng(seed)
    spread = min(10.0, 50.0 / (N + 1))
    return 100.0, float(rng.uniform(0, spread / 2)), rng.uniform(0, spread, size=N)


def followers_nash(A: float, q0: float, cF: np.ndarray) -> np.ndarray:
    """Followers' first-order conditions ``A − q_0 − Σ_F q − c_i − q_i = 0``: a linear system."""
    N = cF.size
    return np.linalg.solve(np.eye(N) + np.ones((N, N)), A - q0 - cF)


@pytest.mark.parametrize("N", [1, 2, 5, 50])
def test_oligopoly_closed_forms_vs_numeric(N):
    A, c0, cF = oligopoly_costs(N, N)
    game = make("oligopoly", A=A, leader_cost=c0, follower_costs=cF.tolist())
    c = np.concatenate([[c0], cF])
    # Stackelberg: the leader maximises its profit over the followers' Nash response
    q0 = argmax(lambda t: profit(np.concatenate([[t], followers_nash(A, t, cF)]), A, c)[0], 0.0, A)
    stack = np.concatenate([[q0], followers_nash(A, q0, cF)])
    np.testing.assert_allclose(game.stackelberg_closed_form(), stack, atol=1e-6)
    # Nash: all N + 1 first-order conditions at once
    nash = np.linalg.solve(np.eye(N + 1) + np.ones((N + 1, N + 1)), A - c)
    np.testing.assert_allclose(game.nash_closed_form(), nash, atol=1e-9)
    # no firm gains by a unilateral deviation at the Nash point (checked for a few firms)
    for i in range(min(N + 1, 3)):

        def own(t, i=i):
            q = nash.copy()
            q[i] = t
            return profit(q, A, c)[i]

        assert argmax(own, 0.0, A) == pytest.approx(nash[i], abs=1e-6)
    # fields vanish there, and the closed-form response is the followers' Nash response
    np.testing.assert_allclose(game.omega(nash), 0.0, atol=1e-9)
    np.testing.assert_allclose(game.omega_S(game.stackelberg_closed_form()), 0.0, atol=1e-9)
    np.testing.assert_allclose(game.response(np.full(N + 1, 7.0))[1:], followers_nash(A, 7.0, cF), atol=1e-9)


def test_oligopoly_N1_is_the_duopoly():
    oli, duo = make("oligopoly", A=100.0, leader_cost=5.0, follower_costs=[2.0]), make("duopoly")
    np.testing.assert_allclose(oli.stackelberg_closed_form(), duo.stackelberg_closed_form(), rtol=1e-12)
    np.testing.assert_allclose(oli.nash_closed_form(), duo.nash_closed_form(), rtol=1e-12)


def test_oligopoly_N1000_fast_path():
    N = 1000
    A, c0, cF = 1000.0, 0.2, np.random.default_rng(0).uniform(0.0, 0.5, size=N)
    game = make("oligopoly", A=A, leader_cost=c0, follower_costs=cF.tolist())
    stack = game.stackelberg_closed_form()
    assert np.all(stack > 0)
    assert np.abs(game.omega_S(stack)).max() <= 1e-9 * A
    assert np.abs(game.omega(game.nash_closed_form())).max() <= 1e-9 * A
    # fast ω_S against the dense adjoint solve Df_0 = ∇_0 f_0 − H21ᵀ H22⁻ᵀ ∇_F f_0 (H21 = 1)
    rng = np.random.default_rng(1)
    X = rng.uniform(0, 1.0, size=(2, 3, N + 1))
    om_S = game.omega_S(X)
    H22 = np.eye(N) + np.ones((N, N))
    for x, o in zip(X.reshape(-1, N + 1)[:2], om_S.reshape(-1, N + 1)[:2]):
        g0 = game.grad(0, x)
        Df0 = g0[0] - np.ones(N) @ np.linalg.solve(H22.T, g0[1:])
        assert o[0] == pytest.approx(Df0, rel=1e-10, abs=1e-10)
        np.testing.assert_allclose(o[1:], game.omega(x)[1:], rtol=1e-12)
    # closed-form response equals the dense solve of the followers' conditions
    np.testing.assert_allclose(game.response(X[0, 0])[1:], followers_nash(A, X[0, 0, 0], cF), rtol=1e-9)


# ---------------------------------------------------------------------------------------------- hierarchy
def hierarchy_sympy(A, costs) -> list[Fraction]:
    """Exact backward induction: firm K best-responds, each firm above maximises over the responses below."""
    K = len(costs)
    q = sp.symbols(f"q1:{K + 1}")
    A, c = sp.Rational(A), [sp.Rational(v) for v in costs]
    resp = {}  # q_j as a function of q_1..q_{j−1}
    for j in range(K - 1, -1, -1):
        Q = sum(q)
        pj = ((A - Q - c[j]) * q[j]).subs(resp)  # lower firms replaced by their responses
        pj = sp.expand(pj.subs(resp))
        sol = sp.solve(sp.diff(pj, q[j]), q[j])
        assert len(sol) == 1 and sp.diff(pj, q[j], 2) < 0
        resp = {k: sp.expand(v.subs(q[j], sol[0])) for k, v in resp.items()}
        resp[q[j]] = sol[0]
    vals: dict = {}
    for j in range(K):
        vals[q[j]] = resp[q[j]].subs(vals)
    return [Fraction(str(vals[q[j]])) for j in range(K)]


@pytest.mark.parametrize(
    "A, costs",
    [(100, [5, 2]), (100, [3, 9, 1]), (60, [7, 1, 4, 2]), (80, [2, 2, 2, 2])],
)
def test_hierarchy_closed_form_vs_sympy(A, costs):
    game = make("hierarchy", A=A, costs=costs)
    exact = hierarchy_sympy(A, costs)
    np.testing.assert_allclose(game.stackelberg_closed_form(), [float(v) for v in exact], rtol=1e-12)
    x = game.stackelberg_closed_form()
    scale = A
    assert np.abs(Game.omega_S(game, x)).max() <= 1e-10 * scale  # generic chain ω_S vanishes there
    assert np.abs(game.omega_S(x)).max() <= 1e-10 * scale
    np.testing.assert_allclose(game.stackelberg_equilibrium(), x, rtol=1e-10)  # and it is differential Stackelberg
    nash = np.linalg.solve(np.eye(len(costs)) + 1.0, A - np.asarray(costs, float))
    np.testing.assert_allclose(game.nash_closed_form(), nash, rtol=1e-12)
    if len(set(costs)) == 1:
        np.testing.assert_allclose(x, (A - costs[0]) / 2.0 ** np.arange(1, len(costs) + 1), rtol=1e-12)


def stationary_point(fun, h: float) -> float:
    """Maximiser of a concave scalar function: root of its central-difference derivative (brentq).

    The bracket grows until it holds the root: off-path responses may leave ``[0, A]`` (linear demand).
    """

    def slope(t):
        return (fun(t + h) - fun(t - h)) / (2 * h)

    lo, hi = -1.0, 1.0
    while slope(lo) <= 0:
        lo *= 4
    while slope(hi) >= 0:
        hi *= 4
    return brentq(slope, lo, hi, xtol=1e-13)


def test_hierarchy_K3_vs_nested_optimisation():
    """Three nested numeric optimisations (each level over the numeric responses below it)."""
    A, c = 50.0, np.array([4.0, 1.0, 7.0])

    def r3(q1, q2):
        return stationary_point(lambda t: profit([q1, q2, t], A, c)[2], 1e-3)

    def r2(q1):
        return stationary_point(lambda t: profit([q1, t, r3(q1, t)], A, c)[1], 1e-2)

    q1 = stationary_point(lambda t: profit([t, r2(t), r3(t, r2(t))], A, c)[0], 1e-1)
    q2 = r2(q1)
    numeric = np.array([q1, q2, r3(q1, q2)])
    game = make("hierarchy", A=A, costs=c.tolist())
    np.testing.assert_allclose(game.stackelberg_closed_form(), numeric, atol=1e-6)


# ---------------------------------------------------------------------------------------------- quadratic
def test_quadratic_default_vs_numeric():
    game = make("quadratic")
    f = [lambda x, i=i: game.costs(np.asarray(x, float))[i] for i in range(2)]  # costs only, no derivatives

    def br2(x1):
        return minimize_scalar(lambda t: f[1]([x1, t]), bounds=(-10, 10), method="bounded", options={"xatol": 1e-11}).x

    def br1(x2):
        return minimize_scalar(lambda t: f[0]([t, x2]), bounds=(-10, 10), method="bounded", options={"xatol": 1e-11}).x

    x = np.zeros(2)
    for _ in range(80):
        x = np.array([br1(x[1]), br2(x[0])])
    x1 = minimize_scalar(lambda t: f[0]([t, br2(t)]), bounds=(-10, 10), method="bounded", options={"xatol": 1e-10}).x
    np.testing.assert_allclose(game.nash_equilibrium(), x, atol=1e-7)
    np.testing.assert_allclose(game.stackelberg_equilibrium(), [x1, br2(x1)], atol=1e-6)
    assert np.abs(game.nash_equilibrium() - game.stackelberg_equilibrium()).max() > 0.1


def test_quadratic_three_level_chain_vs_sympy():
    """Generic chain ω_S (base class) against exact backward induction on a random 3-level quadratic game."""
    rng = np.random.default_rng(3)
    Q = []
    for _ in range(3):
        M = rng.integers(-3, 4, size=(3, 3))
        Q.append((M @ M.T + 3 * np.eye(3)).astype(float))
    q = rng.integers(-5, 6, size=(3, 3)).astype(float)
    game = make("quadratic", dims=[1, 1, 1], Q=Q, q=q.tolist(), levels=[[0], [1], [2]])
    x = sp.symbols("x1:4")
    X = sp.Matrix(x)
    f = [
        sp.Rational(1, 2) * (X.T * sp.Matrix(Q[i].astype(int)) * X)[0] + sum(int(q[i, j]) * x[j] for j in range(3))
        for i in range(3)
    ]
    r3 = sp.solve(sp.diff(f[2], x[2]), x[2])[0]
    f2 = f[1].subs(x[2], r3)
    r2 = sp.solve(sp.diff(f2, x[1]), x[1])[0]
    f1 = f[0].subs(x[2], r3).subs(x[1], r2)
    assert sp.diff(f1, x[0], 2) > 0 and sp.diff(f2, x[1], 2) > 0
    x1 = sp.solve(sp.diff(f1, x[0]), x[0])[0]
    x2 = r2.subs(x[0], x1)
    x3 = r3.subs({x[0]: x1, x[1]: x2})
    exact = np.array([float(v) for v in (x1, x2, x3)])
    np.testing.assert_allclose(game.stackelberg_critical_point(), exact, rtol=1e-10)
    np.testing.assert_allclose(game.stackelberg_equilibrium(), exact, rtol=1e-10)
    np.testing.assert_allclose(Game.omega_S(game, exact), 0.0, atol=1e-10)
