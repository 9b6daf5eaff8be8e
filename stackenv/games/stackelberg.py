"""The Stackelberg field ``ω_S`` and its Jacobian ``J_S``, bottom-up over the levels (eq. 1; App. C.1/C.2).

For the players i of level k, with b the coordinates of all levels below k, ``ω_F = ω_S[b]`` their stacked
stationarity conditions, ``H22 = ∂ω_F/∂x_b`` and ``H21 = ∂ω_F/∂x_i``:

    Df_i = ∇_i f_i − H21ᵀ v,   v = H22⁻ᵀ ∇_b f_i                                  (one adjoint solve)

and, differentiating once more (``M[b, c] = Σ_a v_a ∂H22[a, b]/∂x_c``, the third-derivative terms),

    J_S[i, :] = ∇²_{i,:} f_i − M[i, :] − H21ᵀ H22⁻ᵀ (∇²_{b,:} f_i − M[b, :]).

``M`` needs the derivatives of the lower rows of ``J_S``: third derivatives of the costs when only the bottom
level lies below (``dhessian``), fourth and higher ones above that. Those rows of a non-quadratic game are
central differences of the level's own exact ``ω_S`` rows (:func:`fd_rows`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from stackenv.games.base import Game

#: ``H22`` counts as singular when its smallest singular value is at most this fraction of the scale of the lower
#: levels' field Jacobian rows ``[H21, H22]`` (so a 1×1 ``H22`` that is tiny next to ``H21`` is caught, not only an
#: exact zero). Below it ``Df_1`` exceeds ~1e10 × its usual size.
SINGULAR_RCOND = 1e-10


def norm(a: Any, axis: int | tuple[int, int] | None = None) -> np.ndarray | float:
    """Euclidean (vector) or Frobenius (matrix, ``axis=(-2, -1)``) norm without overflow: ``m‖a/m‖``, ``m = max|a|``.

    ``np.linalg.norm`` squares the entries, so it returns ``inf`` for entries above ~1e154.
    """
    a = np.asarray(a, float)
    m = np.max(np.abs(a), axis=axis, keepdims=True) if a.size else np.zeros((1,) * a.ndim)
    safe = np.where(m > 0, m, 1.0)
    out = np.squeeze(m, axis=axis) * np.linalg.norm(a / safe, axis=axis)
    return out if np.ndim(out) else float(out)


def solve_T(game: Game, M: np.ndarray, rhs: np.ndarray, what: str, scale: np.ndarray | None = None) -> np.ndarray:
    """Solve ``Mᵀ y = rhs`` (batched) raising ``ValueError`` if ``M`` is (numerically) singular.

    ``scale`` (batched, default ``‖M‖₂``) is the magnitude against which the smallest singular value of
    ``M`` is compared (:data:`SINGULAR_RCOND`).
    """
    sv = np.linalg.svd(M, compute_uv=False)
    ref = sv[..., 0] if scale is None else np.maximum(sv[..., 0], scale)
    bad = sv[..., -1] <= SINGULAR_RCOND * np.maximum(ref, 1e-300)
    if np.any(bad):
        raise ValueError(
            f"{game.name}: {what} is singular (smallest singular value {np.min(sv[..., -1]):.3g}); "
            "the followers' implicit response is not defined here"
        )
    return np.linalg.solve(np.swapaxes(M, -1, -2), rhs)


def stackelberg_terms(game: Game, x: np.ndarray, with_jacobian: bool = True, top: int = 0):
    """``(ω_S, J_S)`` of ``game`` at ``x``, computed bottom-up down to level ``top`` (see the module docstring).

    Only the rows of levels ``≥ top`` are Stackelberg rows (the rows above are ``ω`` and ``J``); ``J_S`` is None
    when ``with_jacobian`` is false. Raises ``ValueError`` where an ``H22`` is singular.
    """
    x = game.check_x(x)
    top = game.check_level(top)
    last = len(game.levels) - 2  # the level just above the bottom one: its J_S rows need third derivatives only
    om = game.omega(x).copy()
    JS = game.jacobian(x).copy()
    for k in range(last, top - 1, -1):
        b = game.below_coords[k]
        Jb = JS[..., b, :]  # Jacobian of the stacked stationarity fields ω_S[b] of all lower levels
        H22 = Jb[..., :, b]
        scale = norm(Jb, axis=(-2, -1))  # magnitude of the lower levels' field Jacobian rows
        rows = with_jacobian or k > top  # rows of level k > top are the H22 of the levels above
        exact = game.quadratic or k == last
        for i in game.levels[k]:
            o = np.arange(game.d)[game.slices[i]]
            H21 = Jb[..., :, o]
            g = game.grad(i, x)
            what = f"the response Jacobian of the levels below {game.players[i].name!r} (H22)"
            v = solve_T(game, H22, g[..., b, None], what, scale)[..., 0]  # v = H22⁻ᵀ ∇_b f_i
            om[..., o] = g[..., o] - np.einsum("...ao,...a->...o", H21, v)  # Df_i
            if rows and exact:
                H = game.hessian(i, x)
                M = third_terms(game, x, k, v)
                w = solve_T(game, H22, H[..., b, :] - M[..., b, :], what, scale)
                JS[..., o, :] = H[..., o, :] - M[..., o, :] - np.einsum("...ao,...ac->...oc", H21, w)
        if rows and not exact:
            JS[..., game.level_coords[k], :] = fd_rows(game, x, k)
    return om, (JS if with_jacobian else None)


def fd_rows(game: Game, x: np.ndarray, k: int) -> np.ndarray:
    """Level k's rows of ``J_S`` by central differences of its exact ``ω_S`` rows (error ``O(h²)``)."""
    h = 6e-6 * np.maximum(1.0, np.abs(x))  # ≈ ε^{1/3}, relative to each coordinate's magnitude
    step = h[..., None, :] * np.eye(game.d)  # (..., c, d): one displaced point per column c
    rows = game.level_coords[k]
    plus = stackelberg_terms(game, x[..., None, :] + step, with_jacobian=False, top=k)[0][..., rows]
    minus = stackelberg_terms(game, x[..., None, :] - step, with_jacobian=False, top=k)[0][..., rows]
    return np.swapaxes((plus - minus) / (2 * h[..., :, None]), -1, -2)


def third_terms(game: Game, x: np.ndarray, k: int, v: np.ndarray) -> np.ndarray:
    """``M[b, c] = Σ_a v_a ∂J[a, b]/∂x_c`` for the bottom level's field Jacobian rows ``J[a, :]`` (k = K − 2)."""
    M = np.zeros(x.shape[:-1] + (game.d, game.d))
    if game.quadratic:
        return M
    b = game.below_coords[k]
    for p in game.levels[k + 1]:
        u = np.zeros(x.shape[:-1] + (game.d,))
        sel = np.isin(b, np.arange(game.d)[game.slices[p]])
        u[..., b[sel]] = v[..., sel]
        M = M + game.dhessian(p, x, u)
    return M


def omega_S(game: Game, x: np.ndarray) -> np.ndarray:
    """Stackelberg field ``ω_S(x)`` (eq. 1; App. C), shape ``(..., d)``."""
    return game.stackelberg_terms(x, with_jacobian=False)[0]


def jacobian_S(game: Game, x: np.ndarray) -> np.ndarray:
    """``J_S(x) = Dω_S(x)``, shape ``(..., d, d)``."""
    return game.stackelberg_terms(x)[1]


def total_derivative(game: Game, x: np.ndarray, i: int = 0) -> np.ndarray:
    """Player i's total derivative ``Df_i`` (its block of ``ω_S``), shape ``(..., d_i)``."""
    return game.omega_S(x)[..., game.slices[i]]


def jacobian_S_fd(game: Game, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """``J_S`` by central differences of ``ω_S`` (error ``O(h²)``), all rows; a check on ``game.jacobian_S``."""
    x = game.check_x(x)
    cols = []
    for c in range(game.d):
        e = np.zeros(game.d)
        e[c] = h
        cols.append((game.omega_S(x + e) - game.omega_S(x - e)) / (2 * h))
    return np.stack(cols, axis=-1)
