"""Props. 1 and 3 of Fiez, Chasnov & Ratliff on random zero-sum quadratic games (hypothesis).

``f(x) = ½ x_1ᵀA x_1 + x_1ᵀB x_2 + ½ x_2ᵀC x_2 + a·x_1 + b·x_2``; the leader minimises ``f``, the follower
``−f``. Premises are constructed directly (no rejection sampling): PD blocks from random factors.
"""

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from stackenv.equilibria import classify, critical_points, nash_equilibria, stackelberg_equilibria
from stackenv.games import make

BOUND = 1e3


def _sym(M):
    return (M + M.T) / 2


def _pd(rng, d):
    L = rng.normal(size=(d, d))
    return _sym(L @ L.T + rng.uniform(0.2, 2.0) * np.eye(d))


def _any_nonsingular(rng, d):
    """Random symmetric matrix, eigenvalues of either sign pushed to |λ| ≥ 0.3."""
    w, V = np.linalg.eigh(_sym(rng.normal(size=(d, d)) * 2))
    w = np.where(w >= 0, np.maximum(w, 0.3), np.minimum(w, -0.3))
    return _sym(V @ np.diag(w) @ V.T)


def _game(rng, A, B, C):
    """The zero-sum game with linear terms placing a critical point at a random ``x* ∈ [−1, 1]^d``."""
    d1, d2 = B.shape
    x1, x2 = rng.uniform(-1, 1, d1), rng.uniform(-1, 1, d2)
    a, b = -(A @ x1 + B @ x2), -(B.T @ x1 + C @ x2)  # ω(x*) = (A x1 + B x2 + a, −(Bᵀx1 + C x2 + b)) = 0
    g = make("zero_sum", A=A.tolist(), B=B.tolist(), C=C.tolist(), a=a.tolist(), b=b.tolist(), bound=BOUND)
    return g, np.concatenate([x1, x2])


cases = st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(0, 2**32 - 1))


@settings(max_examples=100, deadline=None)
@given(cases)
def test_prop1_stable_differential_nash_is_differential_stackelberg(case):
    d1, d2, seed = case
    rng = np.random.default_rng(seed)
    A, C, B = _pd(rng, d1), -_pd(rng, d2), rng.normal(size=(d1, d2)) * 2  # A ≻ 0, −C ≻ 0: a Nash exists
    g, xstar = _game(rng, A, B, C)
    (n,) = nash_equilibria(g, cache=False)
    np.testing.assert_allclose(n.x, xstar, atol=1e-8)
    c = n.classification
    assert c.differential_nash and c.stable_simgrad  # premise (sym part of J is diag(A, −C) ≻ 0)
    assert c.differential_stackelberg  # Prop. 1
    # and the solver reports it as a Stackelberg equilibrium (ω_S and ω share zeros when C is invertible)
    (s,) = stackelberg_equilibria(g, cache=False)
    np.testing.assert_allclose(s.x, n.x, atol=1e-8 * (1 + np.linalg.norm(n.x)))


@settings(max_examples=100, deadline=None)
@given(cases, st.booleans())
def test_prop3_stable_attractors_of_omega_S_are_differential_stackelberg(case, construct):
    d1, d2, seed = case
    rng = np.random.default_rng(seed)
    B = rng.normal(size=(d1, d2)) * 2
    if construct:  # premise by construction: −C ≻ 0 and the Schur complement S = A − B C⁻¹ Bᵀ ≻ 0
        C, S = -_pd(rng, d2), _pd(rng, d1)
        A = _sym(S + B @ np.linalg.solve(C, B.T))
    else:  # arbitrary symmetric blocks: the premise may or may not hold
        A, C = _any_nonsingular(rng, d1), _any_nonsingular(rng, d2)
    g, xstar = _game(rng, A, B, C)
    pts = critical_points(g, "omega_S", cache=False)
    assert len(pts) == 1  # C invertible, quadratic: ω_S is affine; its zeros are those of ω
    if np.linalg.svd(g.jacobian_S(xstar), compute_uv=False)[-1] > 1e-3:
        np.testing.assert_allclose(pts[0].x, xstar, atol=1e-6)
    c = pts[0].classification
    if construct:
        assert c.stable_stackelberg
    # Prop. 3, and its converse for quadratic zero-sum games (J_S is block lower-triangular, eq. 3)
    assert c.stable_stackelberg == c.differential_stackelberg
    if c.stable_stackelberg:
        assert all(e.min() > 0 for e in c.eig_reduced_hessians)


@settings(max_examples=100, deadline=None)
@given(cases)
def test_spurious_attractors_of_gradient_play_are_flagged(case):
    """Stable points of ẋ = −ω need not be Nash; the classification must say so, not copy stability."""
    d1, d2, seed = case
    rng = np.random.default_rng(seed)
    A, C, B = -_pd(rng, d1), -_pd(rng, d2), rng.normal(size=(d1, d2)) * 3  # leader's A ≺ 0: never Nash
    g, xstar = _game(rng, A, B, C)
    assume(np.linalg.svd(g.jacobian(xstar), compute_uv=False)[-1] > 1e-3)  # x* is the only critical point
    (p,) = critical_points(g, "omega", cache=False)
    np.testing.assert_allclose(p.x, xstar, atol=1e-6)
    c = classify(g, p.x)
    assert not c.differential_nash
    assert c.stable_simgrad == bool(np.all(np.linalg.eigvals(g.jacobian(p.x)).real > 0))
    assert nash_equilibria(g, cache=False) == []
