"""Nash / Stackelberg solvers and critical-point enumeration."""

import warnings

import numpy as np
import pytest

from stackenv import equilibria as eq
from stackenv.equilibria import search as search_module
from stackenv.games import make
from stackenv.games.duopoly import Duopoly

PAPER_NASH = [(-0.78, 1.18), (1.57, -0.40)]  # §4.2, rounded
PAPER_STACKELBERG = [(-0.53, 1.25), (1.31, -0.46)]


def _match(points, expected, game, tol):
    """Every expected point has exactly one found point within tol (on the torus metric)."""
    xs = np.array([p.x for p in points])
    for e in expected:
        d = game.distance(xs, np.array(e))
        assert np.sum(d < tol) == 1, f"{e} not found once within {tol}: {xs.round(3).tolist()}"


# ---------------------------------------------------------------------------------------------- torus
def test_torus_nash_equilibria_match_the_paper():
    g = make("torus")
    nash = eq.nash_equilibria(g, cache=False)
    assert len(nash) == 2
    _match(nash, PAPER_NASH, g, 0.02)
    for p in nash:
        assert p.kind == "nash" and p.source == "newton"
        assert p.classification.differential_nash and p.classification.stable_simgrad
        assert np.linalg.norm(g.omega(p.x)) < 1e-12  # polished to machine precision
        np.testing.assert_allclose(p.costs, [-0.77, -1.3], atol=0.01)  # paper's costs


def test_torus_stackelberg_equilibria_match_the_paper():
    g = make("torus")
    stack = eq.stackelberg_equilibria(g, cache=False)
    assert len(stack) == 2
    _match(stack, PAPER_STACKELBERG, g, 0.02)
    for p in stack:
        assert p.kind == "stackelberg"
        assert p.classification.differential_stackelberg and p.classification.stable_stackelberg
        assert np.linalg.norm(g.omega_S(p.x)) < 1e-12
        np.testing.assert_allclose(p.costs, [-0.81, -1.05], atol=0.01)
        np.testing.assert_allclose(p.costs, g.costs(p.x))


def test_torus_critical_points_are_complete_distinct_and_in_the_domain():
    g = make("torus")
    for field in ("omega", "omega_S"):
        pts = eq.critical_points(g, field)
        xs = np.array([p.x for p in pts])
        assert all(p.kind == field == p.field for p in pts)
        assert np.all(xs >= -np.pi) and np.all(xs < np.pi)
        dist = g.distance(xs[:, None, :], xs[None, :, :])
        assert np.min(dist + np.eye(len(xs)) * 10) > 1e-3
        assert len(pts) == 6
    # Poincaré–Hopf: ω is a smooth field on the torus (Euler characteristic 0), so the indices
    # sign det J of its non-degenerate zeros sum to 0 — a missed critical point breaks this
    dets = [np.linalg.det(g.jacobian(p.x)) for p in eq.critical_points(g, "omega")]
    assert min(abs(d) for d in dets) > 1e-6
    assert sum(np.sign(dets)) == 0
    # the four points with θ_1 − θ_2 ∈ {0, π} have ∇_2 f_1 = 0, so they are zeros of ω and of ω_S
    om = {tuple(np.round(p.x, 8)) for p in eq.critical_points(g, "omega")}
    omS = {tuple(np.round(p.x, 8)) for p in eq.critical_points(g, "omega_S")}
    assert len(om & omS) == 4


def test_torus_solutions_rotate_with_the_preferred_locations():
    """Shifting both φ_i by δ rotates the game: every critical point moves by (δ, δ)."""
    g0, delta = make("torus"), 2.0
    g1 = make("torus", phi=(np.pi / 8 + delta, np.pi / 8 + delta))
    for field in ("omega", "omega_S"):
        p0 = np.array([p.x for p in eq.critical_points(g0, field)])
        p1 = np.array([p.x for p in eq.critical_points(g1, field)])
        assert len(p0) == len(p1)
        moved = g1.wrap(p0 + delta)
        d = g1.distance(moved[:, None, :], p1[None, :, :])
        assert np.all(d.min(axis=1) < 1e-8)


def test_sympy_torus_gives_the_same_points():
    sp = pytest.importorskip("sympy")
    custom = pytest.importorskip("stackenv.games.custom")

    def leader(x1, x2):
        return -sp.cos(x1[0] - sp.pi / 8) + sp.cos(x1[0] - x2[0])

    def follower(x1, x2):
        return -sp.Rational(13, 10) * sp.cos(x2[0] - sp.pi / 8) + sp.cos(x2[0] - x1[0])

    g = custom.CustomGame([leader, follower], dims=[1, 1], low=-np.pi, high=np.pi, periodic=True, name="t")
    ref = make("torus")
    for solver in (eq.nash_equilibria, eq.stackelberg_equilibria):
        a = np.array([p.x for p in solver(g)])
        b = np.array([p.x for p in solver(ref)])
        assert a.shape == b.shape == (2, 2)
        np.testing.assert_allclose(a, b, atol=1e-9)


# ---------------------------------------------------------------------------------------------- box games
class _NoClosedForms(Duopoly):
    """The duopoly with its closed forms hidden: the solver must find the points by itself."""

    nash_closed_form = None
    stackelberg_closed_form = None


@pytest.mark.parametrize("A,c", [(100.0, (5.0, 2.0)), (60.0, (10.0, 1.0)), (35.0, (0.0, 4.0))])
@pytest.mark.parametrize("price_floor", [False, True])
def test_duopoly_solvers_match_the_closed_forms(A, c, price_floor):
    c1, c2 = c
    nash_ref = [(A + c2 - 2 * c1) / 3, (A + c1 - 2 * c2) / 3]
    stack_ref = [(A + c2 - 2 * c1) / 2, (A + 2 * c1 - 3 * c2) / 4]
    for game in (make("duopoly", A=A, c=c, price_floor=price_floor), _NoClosedForms(A, c, price_floor)):
        (n,) = eq.nash_equilibria(game, cache=False)
        (s,) = eq.stackelberg_equilibria(game, cache=False)
        np.testing.assert_allclose(n.x, nash_ref, rtol=1e-10)
        np.testing.assert_allclose(s.x, stack_ref, rtol=1e-10)
        np.testing.assert_allclose(n.costs, [-((A - 2 * c1 + c2) ** 2) / 9, -((A - 2 * c2 + c1) ** 2) / 9], rtol=1e-9)
        assert n.classification.stable_simgrad and s.classification.stable_stackelberg
        if isinstance(game, _NoClosedForms):
            assert n.source == s.source == ("newton" if price_floor else "linear_solve")
        else:
            assert n.source == s.source == "closed_form"


def test_wrong_closed_form_is_caught():
    class Broken(Duopoly):
        def nash_closed_form(self):
            return super().nash_closed_form() + np.array([0.0, 1e-3])

    with pytest.raises(eq.EquilibriumError, match="nash_closed_form"):
        eq.nash_equilibria(Broken(), cache=False)


def test_oligopoly_with_1000_followers():
    costs = list(np.linspace(1.0, 3.0, 1000))
    g = make("oligopoly", A=1e4, leader_cost=5.0, follower_costs=costs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (n,) = eq.nash_equilibria(g, cache=False)
        (s,) = eq.stackelberg_equilibria(g, cache=False)
    # independent derivation: Cournot Nash with N+1 firms, q_i = (A − (N+1) c_i + Σ_{j≠i} c_j) / (N + 2)
    call = np.array([5.0, *costs])
    ref = (1e4 + call.sum() - (len(call) + 1) * call) / (len(call) + 1)
    np.testing.assert_allclose(n.x, ref, rtol=1e-9)
    assert n.classification.differential_nash and n.classification.stable_simgrad
    assert s.classification.differential_stackelberg and s.classification.stable_stackelberg
    assert np.linalg.norm(g.omega_S(s.x)) < 1e-6 * np.linalg.norm(s.x)


def test_quadratic_games_use_the_linear_solve():
    g = make("hierarchy", A=100.0, costs=(5.0, 2.0, 3.0, 4.0))
    (s,) = eq.stackelberg_equilibria(g, cache=False)
    assert s.classification.differential_stackelberg and s.classification.stable_stackelberg
    for field in ("omega", "omega_S"):
        pts = eq.critical_points(g, field, cache=False)
        assert len(pts) == 1 and pts[0].source in ("closed_form", "linear_solve")
    nash = np.linalg.solve(np.eye(4) + 1.0, 100.0 - np.array([5.0, 2.0, 3.0, 4.0]))  # Cournot first-order conditions
    np.testing.assert_allclose(eq.critical_points(g, "omega", cache=False)[0].x, nash, rtol=1e-12)
    # a family without closed forms: the linear solve alone must land on the hand-derived points
    # (module docstring of stackenv.games.quadratic: Nash (0.6, 0.8), Stackelberg (5/13, 9/13))
    q = make("quadratic")
    for field, ref in (("omega", [0.6, 0.8]), ("omega_S", [5 / 13, 9 / 13])):
        (p,) = eq.critical_points(q, field, cache=False)
        assert p.source == "linear_solve"
        np.testing.assert_allclose(p.x, ref, rtol=1e-12)


def test_results_are_cached_and_read_only(monkeypatch):
    eq.clear_cache()
    g = make("torus", alpha=(1.0, 1.2))
    first = eq.critical_points(g)
    calls = []
    monkeypatch.setattr(search_module, "search", lambda *a: calls.append(a) or ([], []))
    again = eq.critical_points(make("torus", alpha=(1.0, 1.2)))  # a new, equal game hits the cache
    assert calls == [] and [p.x.tolist() for p in again] == [p.x.tolist() for p in first]
    with pytest.raises(ValueError):
        again[0].x[0] = 1.0
    eq.critical_points(make("torus", alpha=(1.0, 1.1)))  # different params: computed afresh
    assert len(calls) == 2


def test_bad_arguments():
    with pytest.raises(ValueError, match="field"):
        eq.critical_points(make("torus"), "omega_T")
    with pytest.raises(ValueError, match="Game"):
        eq.nash_equilibria("torus")
