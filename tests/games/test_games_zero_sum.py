"""Zero-sum quadratic games: the named instances' classification and Props. 1 and 3 as properties."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from stackenv.games import make


def stable(M: np.ndarray) -> bool:
    """Spectrum in the open right half-plane."""
    return bool(np.all(np.linalg.eigvals(M).real > 0))


def pd(M: np.ndarray) -> bool:
    return bool(np.all(np.linalg.eigvalsh((M + M.T) / 2) > 0))


def test_prop2_instance_is_a_stable_non_nash_stackelberg_point():
    game = make("zero_sum")  # the default instance
    assert game.params["instance"] == "prop2" and game.zero_sum and game.quadratic
    x = game.critical_point()
    np.testing.assert_allclose(game.omega(x), 0.0, atol=1e-12)
    np.testing.assert_allclose(game.omega_S(x), 0.0, atol=1e-12)
    s1, s2 = game.slices
    assert stable(game.jacobian(x))  # attractor of simultaneous gradient play
    assert not pd(game.hessian(0, x)[s1, s1])  # leader's cost is not convex in x_1: not Nash
    assert game.nash_equilibrium() is None
    H22 = game.hessian(1, x)[s2, s2]
    assert pd(H22)
    A, B = game.hessian(0, x)[s1, s1], game.hessian(0, x)[s1, s2]
    schur = A - B @ np.linalg.solve(-H22, B.T)  # A − B C⁻¹ Bᵀ with C = −H22
    assert pd(schur)  # differential Stackelberg (Prop. 2)
    np.testing.assert_allclose(game.jacobian_S(x)[s1, s1], schur, atol=1e-12)
    assert stable(game.jacobian_S(x))
    np.testing.assert_allclose(game.stackelberg_equilibrium(), x, atol=1e-12)


def test_spurious_instance_is_neither_nash_nor_stackelberg():
    game = make("zero_sum", instance="spurious")
    x = game.critical_point()
    s1, s2 = game.slices
    assert stable(game.jacobian(x))  # gradient play converges here ...
    assert not pd(game.hessian(0, x)[s1, s1]) and not pd(game.hessian(1, x)[s2, s2])  # ... not Nash
    assert game.nash_equilibrium() is None
    assert not pd(game.hessian(1, x)[s2, s2])  # follower not at a local best response: not Stackelberg
    assert game.stackelberg_equilibrium() is None
    assert not stable(game.jacobian_S(x))  # and the Stackelberg dynamics are repelled (Prop. 3)


def test_instance_round_trip_and_conflicts():
    game = make("zero_sum", instance="spurious")
    again = make("zero_sum", **game.params)
    assert again.params == game.params
    assert make("zero_sum", A=-1.0, B=2.0, C=-2.0).params["instance"] == "prop2"
    assert make("zero_sum", A=1.0, B=2.0, C=-2.0).params["instance"] is None


@st.composite
def zero_sum_games(draw, nash: bool = False):
    """Random zero-sum quadratic games with d_i ∈ {1, 2}; ``nash``: A ≻ 0 and C ≺ 0 (a differential Nash point).

    Otherwise C ≺ 0 in about half the draws, so that Stackelberg points are common too.
    """
    d1, d2 = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    vals = st.floats(-3, 3, allow_nan=False).map(lambda v: round(v, 2))

    def mat(r, c):
        return np.array(draw(st.lists(vals, min_size=r * c, max_size=r * c))).reshape(r, c)

    def sym(d, definite: bool):
        M = mat(d, d)
        return M @ M.T + 0.1 * np.eye(d) if definite else (M + M.T) / 2

    A = sym(d1, nash)
    C = -sym(d2, True) if nash or draw(st.booleans()) else sym(d2, False)
    a, b = mat(d1, 1)[:, 0], mat(d2, 1)[:, 0]
    return make("zero_sum", A=A.tolist(), B=mat(d1, d2).tolist(), C=C.tolist(), a=a.tolist(), b=b.tolist(), bound=1e6)


def _well_posed(game) -> bool:
    s1, s2 = game.slices
    C = game.hessian(0, np.zeros(game.d))[s2, s2]
    return np.linalg.svd(C, compute_uv=False)[-1] > 1e-3 and np.linalg.cond(game.jacobian(np.zeros(game.d))) < 1e6


@settings(max_examples=40, deadline=None)
@given(zero_sum_games(nash=True))
def test_prop1_stable_differential_nash_is_stackelberg(game):
    if not _well_posed(game):
        return
    x = game.critical_point()
    s1, s2 = game.slices
    assert pd(game.hessian(0, x)[s1, s1]) and pd(game.hessian(1, x)[s2, s2])  # differential Nash
    assert stable(game.jacobian(x))
    np.testing.assert_allclose(game.nash_equilibrium(), x, rtol=1e-12)
    np.testing.assert_allclose(game.omega_S(x), 0.0, atol=1e-8 * (1 + np.abs(x).max()))
    y = game.stackelberg_equilibrium()
    assert y is not None
    np.testing.assert_allclose(y, x, rtol=1e-8, atol=1e-8)


@settings(max_examples=60, deadline=None)
@given(zero_sum_games())
def test_prop3_stable_attractors_of_omega_S_are_stackelberg(game):
    if not _well_posed(game):
        return
    x = game.stackelberg_critical_point()
    JS = game.jacobian_S(x)
    s1, s2 = game.slices
    # structure of eq. (3): J_S = [[schur, 0], [−Bᵀ, −C]] in a quadratic zero-sum game
    np.testing.assert_allclose(JS[s1, s2], 0.0, atol=1e-9 * (1 + np.abs(JS).max()))
    np.testing.assert_allclose(JS[s2, :], game.jacobian(x)[s2, :], atol=1e-12)
    # Prop. 3 (and, for quadratic zero-sum games, its converse): stable for ω_S ⟺ differential Stackelberg
    assert stable(JS) == (game.stackelberg_equilibrium() is not None)
