"""One derivative check for every game: analytic derivatives against central finite differences.

Every registered family (defaults), non-default parameters, user-defined games, an oligopoly with N = 5
and staggered chains; batched points with leading axes ``BATCH``. Relative error ≤ 1e-5.
"""

from __future__ import annotations

import numpy as np

from stackenv.games import Game

RTOL = 1e-5


def fd_jacobian(fun, x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Central differences of ``fun`` (``(..., d) → (..., *out)``) in every coordinate: ``(..., *out, d)``."""
    cols = []
    for c in range(x.shape[-1]):
        e = np.zeros(x.shape[-1])
        e[c] = h[c]
        cols.append((fun(x + e) - fun(x - e)) / (2 * h[c]))
    return np.stack(cols, axis=-1)


def assert_rel(actual: np.ndarray, expected: np.ndarray, what: str, rtol: float = RTOL) -> None:
    """``max|actual − expected| ≤ rtol · max(max|expected|, 1)`` (relative, absolute below magnitude 1)."""
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = max(float(np.abs(expected).max()), 1.0)
    err = float(np.abs(actual - expected).max()) / scale
    assert err <= rtol, f"{what}: relative error {err:.3g} > {rtol}"


def _setup(case, seed: int = 0):
    c, game = case
    rng = np.random.default_rng(seed)
    x = c.sample(game, rng)
    h = 1e-5 * (game.high - game.low)
    return c, game, rng, x, h


def test_costs_shape_and_batching(case):
    c, game, _, x, _ = _setup(case)
    assert game.costs(x).shape == x.shape[:-1] + (game.n,)
    for fn in (game.costs, game.omega, game.omega_S, game.jacobian, game.jacobian_S):
        batched = fn(x)
        single = fn(x[1, 0])
        np.testing.assert_allclose(batched[1, 0], single, rtol=1e-12, atol=1e-12, err_msg=fn.__name__)


def test_jacobian_product_is_J_times_u(case):
    """``jacobian_product`` (the generic differences of ω, or a family's closed form) equals ``J u`` at every point."""
    c, game, rng, x, _ = _setup(case, 7)
    u = rng.normal(size=x.shape) * (game.high - game.low)
    expected = np.einsum("...ij,...j->...i", game.jacobian(x), u)
    assert_rel(game.jacobian_product(x, u), expected, "jacobian_product vs J u", 1e-6)
    assert_rel(game.jacobian_product(x, u[1, 0]), np.einsum("...ij,j->...i", game.jacobian(x), u[1, 0]), "u (d,)", 1e-6)


def test_grad_matches_fd_of_costs(case):
    c, game, _, x, h = _setup(case, 1)
    for i in range(game.n):
        assert_rel(game.grad(i, x), fd_jacobian(lambda y, i=i: game.costs(y)[..., i], x, h), f"grad {i}")


def test_hessian_matches_fd_of_grad(case):
    c, game, _, x, h = _setup(case, 2)
    for i in range(game.n):
        H = game.hessian(i, x)
        assert_rel(H, fd_jacobian(lambda y, i=i: game.grad(i, y), x, h), f"hessian {i}")
        np.testing.assert_allclose(H, np.swapaxes(H, -1, -2), atol=1e-12)


def test_dhessian_matches_fd_of_hessian(case):
    c, game, rng, x, _ = _setup(case, 3)
    u = rng.normal(size=x.shape)
    t = 1e-5 * float(np.mean(game.high - game.low))
    for i in range(game.n):
        fd = (game.hessian(i, x + t * u) - game.hessian(i, x - t * u)) / (2 * t)
        assert_rel(game.dhessian(i, x, u), fd, f"dhessian {i}")


def test_omega_and_jacobian(case):
    c, game, _, x, h = _setup(case, 4)
    om = game.omega(x)
    assert_rel(om, Game.omega(game, x), "omega vs the generic stacking of grad blocks", 1e-12)
    J = game.jacobian(x)
    assert_rel(J, Game.jacobian(game, x), "jacobian vs the generic stacking of hessian blocks", 1e-12)
    assert_rel(J, fd_jacobian(game.omega, x, h), "jacobian vs FD of omega")


def test_omega_S_and_jacobian_S(case):
    c, game, _, x, h = _setup(case, 5)
    om_S = game.omega_S(x)
    assert_rel(om_S, Game.omega_S(game, x), "omega_S vs the generic base implementation", 1e-9)
    JS = game.jacobian_S(x)
    assert_rel(JS, Game.jacobian_S(game, x), "jacobian_S vs the generic base implementation", 1e-6)
    assert_rel(JS, fd_jacobian(game.omega_S, x, h), "jacobian_S vs FD of omega_S")
    # the bottom level's entries of ω_S are its own gradients
    bottom = game.level_coords[-1]
    np.testing.assert_allclose(om_S[..., bottom], game.omega(x)[..., bottom], rtol=1e-12, atol=1e-12)


def test_total_derivative_is_derivative_of_reduced_cost(case):
    """``Df_1`` on the response manifold equals the derivative of ``x_1 ↦ f_1(x_1, r(x_1))`` (by FD)."""
    c, game = case
    if not c.has_response:
        return
    rng = np.random.default_rng(6)
    x = game.response(c.sample(game, rng), k=0)
    lead = game.level_coords[0]
    h = 1e-4 * (game.high - game.low)
    fd = np.zeros(x.shape[:-1] + (lead.size,))
    for j, a in enumerate(lead):
        e = np.zeros(game.d)
        e[a] = h[a]
        fd[..., j] = (game.costs(game.response(x + e, 0))[..., 0] - game.costs(game.response(x - e, 0))[..., 0]) / (
            2 * h[a]
        )
    Df1 = game.omega_S(x)[..., game.slices[0]]
    assert_rel(Df1, fd, "Df_1 vs FD of the reduced cost")
