"""Issue 17: the cache is keyed on the whole game, and the solvers are scale-invariant (huge or tiny costs)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from stackenv import equilibria as eq
from stackenv.cli import main
from stackenv.equilibria.cache import cache_key
from stackenv.games import CustomGame, make
from stackenv.games.base import norm


def _leader(x1, x2):
    return (x1[0] - 1) ** 2 - 0.5 * x1[0] * x2[0]


def _follower(x1, x2):
    return (x2[0] - 0.5 * x1[0]) ** 2


def test_the_cache_is_keyed_on_the_domain():
    """The issue's reproduction: the same costs on [3, 5] have no Stackelberg point (it is at (4/3, 2/3))."""
    eq.clear_cache()
    wide = CustomGame([_leader, _follower], dims=[1, 1], low=-5, high=5)
    narrow = CustomGame([_leader, _follower], dims=[1, 1], low=3, high=5)
    np.testing.assert_allclose(eq.stackelberg_equilibria(wide)[0].x, [4 / 3, 2 / 3], rtol=1e-12)
    assert eq.stackelberg_equilibria(narrow) == []
    assert eq.stackelberg_equilibria(narrow, cache=False) == []


def test_the_cache_is_keyed_on_levels_periodicity_and_costs():
    eq.clear_cache()
    a, b = (lambda x, y, z: x[0] ** 2 + x[0] * y[0]), (lambda x, y, z: y[0] ** 2 - x[0] * y[0] + y[0] * z[0])
    c = lambda x, y, z: z[0] ** 2 + y[0] * z[0] - 1  # noqa: E731
    games = [
        CustomGame([a, b, c], dims=[1, 1, 1], levels=[[0], [1, 2]], low=-3, high=3),
        CustomGame([a, b, c], dims=[1, 1, 1], levels=[[0], [1], [2]], low=-3, high=3),
        CustomGame([a, b, c], dims=[1, 1, 1], levels=[[0], [1], [2]], low=-3, high=3, periodic=True),
        CustomGame(
            [a, b, lambda x, y, z: z[0] ** 2 + y[0] * z[0] - z[0]],
            dims=[1, 1, 1],
            levels=[[0], [1], [2]],
            low=-3,
            high=3,
        ),
    ]
    keys = {cache_key(g) for g in games}
    assert len(keys) == len(games)
    cached = [[p.x for p in eq.stackelberg_equilibria(g)] for g in games]
    fresh = [[p.x for p in eq.stackelberg_equilibria(g, cache=False)] for g in games]
    for cx, fx in zip(cached, fresh):
        assert len(cx) == len(fx)
        np.testing.assert_allclose(cx, fx, rtol=1e-10, atol=1e-12)
    # a new, equal game still hits the cache
    assert cache_key(CustomGame([a, b, c], dims=[1, 1, 1], levels=[[0], [1, 2]], low=-3, high=3)) in keys


def test_norm_does_not_overflow():
    assert norm(np.array([3e200, 4e200])) == pytest.approx(5e200)
    np.testing.assert_allclose(norm(np.full((2, 2, 2), 1e300), axis=(-2, -1)), [2e300, 2e300])
    assert norm(np.zeros(3)) == 0.0


@pytest.mark.parametrize("scale", [1e-200, 1e-50, 1.0, 1e50, 1e200, 1e298])
def test_quadratic_equilibria_are_scale_invariant(scale):
    """Multiplying every cost by s moves no equilibrium and changes no classification flag."""
    Q = np.array([[[1.0, 0.1], [0.1, 1.0]], [[1.0, -0.1], [-0.1, 2.0]]])
    q = np.array([[1.0, 0.0], [0.0, -1.0]])
    ref = make("quadratic", Q=Q.tolist(), q=q.tolist())
    game = make("quadratic", Q=(scale * Q).tolist(), q=(scale * q).tolist())
    for solve in (eq.nash_equilibria, eq.stackelberg_equilibria):
        (p,), (r,) = solve(game, cache=False), solve(ref, cache=False)
        np.testing.assert_allclose(p.x, r.x, rtol=1e-12)
        for flag in ("differential_nash", "differential_stackelberg", "stable_simgrad", "stable_stackelberg"):
            assert getattr(p.classification, flag) == getattr(r.classification, flag)


def test_torus_with_huge_alpha():
    """α = 1e160: ω_S is defined (the singularity test no longer overflows), the true Nash point (φ_1, φ_2) is
    found, and every listed critical point passes the residual test (none are listed that are not critical)."""
    game = make("torus", alpha=(1e160, 1e160))
    assert np.all(np.isfinite(game.omega_S(np.array([[0.3, 0.2], [1.0, -2.0]]))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", eq.EquilibriumWarning)
        nash = eq.nash_equilibria(game, cache=False)
        points = eq.critical_points(game, cache=False)
    assert any(game.distance(p.x, game.phi) < 1e-12 for p in nash)
    for p in points:
        c = p.classification
        assert c.critical_omega if p.field == "omega" else c.critical_omega_S, p.x
        # each is within 1e-12 of a zero of the α-dominated field: θ_i = φ_i or φ_i + π
        assert np.all(
            np.minimum(np.abs(game.displacement(p.x, game.phi)), np.abs(game.displacement(p.x, game.phi + np.pi)))
            < 1e-12
        )


def test_cli_refuses_overflowing_parameters_in_one_line(capfd):
    with pytest.raises(SystemExit) as exit_:
        main(["equilibria", "quadratic", "--set", "Q=[[[1e308,0],[0,1e308]],[[1e308,0],[0,1e308]]]"])
    assert exit_.value.code == 2
    err = capfd.readouterr().err
    assert "too large for this domain" in err and "DLASCL" not in err and len(err.strip().splitlines()) == 1
