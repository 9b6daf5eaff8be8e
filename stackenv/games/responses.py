"""The lower levels' response to level k: their fields and Jacobian, the blocks ``(H22, H21)``, the reduced-cost
Hessian (Def. 4, App. C) and the local response by Newton's method.

For level k, ``b`` are the coordinates of all levels below k and ``ω_F = ω_S[b]`` their stacked stationarity
conditions (their own gradients for a two-level game); ``H22 = ∂ω_F/∂x_b`` and ``H21 = ∂ω_F/∂x_k``. The
:class:`~stackenv.games.base.Game` methods of the same names call these functions, so a family overrides them
there (a closed-form ``response``) and these functions reach the override through ``game``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from stackenv.games.stackelberg import solve_T
from stackenv.linalg import batched_gmres, jvp

if TYPE_CHECKING:
    from stackenv.games.base import Game


def lower_terms(game: Game, x: np.ndarray, k: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(ω_S, J_S)`` valid on the rows of the levels below level k: all a response to level k needs.

    The lower levels' stationarity conditions and their Jacobian never involve level k's (or higher
    levels') total derivatives, so the bottom-up recursion stops below level k; the rows of levels
    ``≤ k`` hold ``ω`` and ``J``. For a two-level game this is just ``(ω, J)``.
    """
    x = game.check_x(x)
    k = game.check_level(k)
    if k + 2 >= len(game.levels):  # at most the bottom level below: its own gradients and Hessian rows
        return game.omega(x), game.jacobian(x)
    if game.quadratic:  # the families' affine ω_S is cheaper than a partial recursion
        return game.omega_S(x), game.jacobian_S(x)
    return game.stackelberg_terms(x, top=k + 1)


def response_blocks(game: Game, x: np.ndarray, k: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The blocks ``(H22, H21)`` for the levels below level k.

    ``H22 = ∂ω_F/∂x_F`` over the coordinates of all levels below k and ``H21 = ∂ω_F/∂x_k`` over
    level k's coordinates, where ``ω_F`` stacks the lower levels' Stackelberg fields (their own
    gradients for a two-level game). Shapes ``(..., m, m)`` and ``(..., m, d_k)``.
    """
    JS = game.lower_terms(x, k)[1]
    b, a = game.below_coords[k], game.level_coords[k]
    return JS[..., b[:, None], b], JS[..., b[:, None], a]


def reduced_hessian(game: Game, i: int, JS: np.ndarray, symmetric: bool = True) -> np.ndarray:
    """Player i's reduced-cost Hessian from ``J_S`` (Def. 4, App. C), by default its symmetric part.

    With ``b`` the coordinates of the levels below player i, the Hessian of ``x_i ↦ f_i(x_{≤i}, ξ(x_{≤i}))``
    at a point where the lower levels are stationary is the Schur complement
    ``J_S[i,i] − J_S[i,b] J_S[b,b]⁻¹ J_S[b,i]`` (just ``J_S[i,i]`` for the bottom level). Batched over
    the leading axes of ``JS``. ``symmetric=False`` returns the Schur complement as computed (to check
    its symmetry). Raises ``np.linalg.LinAlgError`` where ``J_S[b,b]`` is singular.
    """
    i = game.check_player(i)
    o = np.arange(game.offsets[i], game.offsets[i + 1])
    b = game.below_coords[game.level_of[i]]
    S = JS[..., o[:, None], o]
    if b.size:
        S = S - JS[..., o[:, None], b] @ np.linalg.solve(JS[..., b[:, None], b], JS[..., b[:, None], o])
    return (S + np.swapaxes(S, -1, -2)) / 2 if symmetric else S


def newton_response(game: Game, x: np.ndarray, k: int = 0, iters: int = 100, tol: float = 1e-12) -> np.ndarray:
    """Joint action with levels ``≤ k`` fixed and the levels below at their local response.

    Newton's method on the lower levels' stationarity conditions ``ω_S[below] = 0`` started from
    ``x`` (exact in one step for quadratic games); it needs only the lower levels' fields and their
    Jacobian (:func:`lower_terms`). Raises ``ValueError`` if the lower levels' Jacobian ``H22`` is
    singular, if some lower player's reduced-cost Hessian (:func:`reduced_hessian`) is not positive
    definite at the result (the response is then not a best response) or if Newton's method does not
    converge.
    """
    x = game.check_x(x).copy()
    k = game.check_level(k)
    b = game.below_coords[k]
    if b.size == 0:
        return x
    what = "the lower levels' response Jacobian (H22)"
    for _ in range(iters):
        om, JS = game.lower_terms(x, k)
        F = om[..., b]
        step = solve_T(game, np.swapaxes(JS[..., b[:, None], b], -1, -2), F[..., None], what)[..., 0]
        if np.max(np.abs(F), initial=0.0) <= tol * max(1.0, np.max(np.abs(x), initial=0.0)):
            break
        x[..., b] = x[..., b] - step
        x = game.wrap(x)
    else:
        raise ValueError(f"{game.name}: the followers' response did not converge from {x}")
    JS = game.lower_terms(x, k)[1]
    for lv in range(k + 1, len(game.levels)):
        for i in game.levels[lv]:
            try:
                eig = np.linalg.eigvalsh(game.reduced_hessian(i, JS))
            except np.linalg.LinAlgError:
                raise ValueError(
                    f"{game.name}: the response Jacobian below {game.players[i].name!r} is singular"
                ) from None
            if np.any(eig <= 0):
                raise ValueError(
                    f"{game.name}: {game.players[i].name!r}'s reduced Hessian is not positive definite at its "
                    f"response (eigenvalues {eig.ravel().tolist()}); the response is not a best response"
                )
    return x


def jacobian_product(game: Game, x: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``J(x) u`` by differences of ``ω`` along ``u`` (:func:`~stackenv.linalg.jvp`; exact for quadratic games);
    ``Game.jacobian_product``: a family whose ``J`` is structured overrides it with its closed form."""
    return jvp(game.omega, x, u, affine=game.quadratic)


def lower_product(game: Game, level: int) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """``(x, u) ↦ J u`` for the stacked stationarity field of the levels below ``level``: ``ω`` (the game's
    ``jacobian_product``) for one bottom level, else ``ω_S`` (by differences)."""
    if level + 2 >= len(game.levels):
        return game.jacobian_product
    return lambda x, u: jvp(game.omega_S, x, u, affine=game.quadratic)


def below_slice(game: Game, level: int) -> slice:
    """The coordinates of the levels below ``level`` as a slice: levels are consecutive runs of players
    (``check_levels``), so these are one contiguous tail of ``x`` (a slice is a view; an index array copies)."""
    b = game.below_coords[level]
    return slice(int(b[0]), int(b[-1]) + 1) if b.size else slice(0, 0)


def lower_solve(
    game: Game, x: np.ndarray, level: int, rhs: np.ndarray, rtol: float = 1e-10, maxiter: int = 50
) -> tuple[np.ndarray, np.ndarray]:
    """``H22⁻¹ rhs`` for the levels below ``level`` at ``x`` (``(B, d)``; ``rhs``: ``(B, m)`` over their
    coordinates), by GMRES with products through the game's field (:func:`lower_product`); returns
    ``(solution, converged)`` with ``converged`` ``(B,)``. ``Game.lower_solve``: families with a closed-form
    inverse (the oligopoly, the LQ followers) override it."""
    below, product = below_slice(game, level), lower_product(game, level)

    def H22(u: np.ndarray) -> np.ndarray:
        z = np.empty_like(x)
        z[:, : below.start] = 0.0  # the levels above stay put
        z[:, below] = u
        return product(x, z)[:, below]

    s, ok, _ = batched_gmres(H22, rhs, rtol, maxiter)
    return s, ok
