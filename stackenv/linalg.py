"""Linear solvers of the game core, batched over leading runs: Krylov methods, structured solves, JVPs.

Everything here works on ``(B, m)`` batches of vectors and touches an operator only through products with
it, so a solve costs a few products — ``O(m)`` each for a structured operator such as a Cournot Jacobian
``I + 11ᵀ``, ``O(m²)`` for a dense block — and never forms an inverse or a factorisation:

- :func:`batched_cg`: conjugate gradients (symmetric positive definite operators).
- :func:`batched_gmres`: GMRES without restart (any nonsingular operator); its Krylov basis grows one
  vector per iteration, so memory is ``O(iterations · B · m)``, never ``O(m²)``.
- :func:`krylov_adjoint_solve`: ``Jᵀ v = rhs`` for dense batched blocks by CG or GMRES (``second_order``
  feedback hands learners such blocks; restarted scipy GMRES for the rare unconverged run).
- :func:`sherman_morrison_solve`: ``(diag(a) + u wᵀ) x = rhs`` in ``O(m)`` (Sherman–Morrison).
- :func:`jvp`: the product of the Jacobian of a field (e.g. ``game.omega``) with a direction, by
  differences of the field — exact for affine fields (quadratic games), ``O(h²)`` otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
from scipy.sparse.linalg import LinearOperator, gmres

Matvec = Callable[[np.ndarray], np.ndarray]
Solver = Literal["auto", "cg", "gmres"]
SOLVERS: tuple[str, ...] = ("auto", "cg", "gmres")


def check_solver(solver: str) -> str:
    """``solver`` if it is one of :data:`SOLVERS`, else ``ValueError`` listing them."""
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; valid: {', '.join(SOLVERS)}")
    return solver


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("bi,bi->b", a, b)


def batched_cg(
    matvec: Matvec, b: np.ndarray, rtol: float = 1e-10, maxiter: int | None = None
) -> tuple[np.ndarray, np.ndarray, int]:
    """Conjugate gradients for B symmetric positive definite systems at once.

    Args:
        matvec: ``(B, m) → (B, m)``, the batched operator.
        b: ``(B, m)`` right-hand sides.
        rtol: stop run b when ``‖r_b‖ ≤ rtol ‖b_b‖``.
        maxiter: iteration cap (default ``m``; CG is exact in at most m steps in exact arithmetic).

    Returns:
        ``(x, converged, iterations)``; a run whose curvature ``pᵀAp`` turns non-positive (not SPD) is
        frozen and reported unconverged.
    """
    B, m = b.shape
    maxiter = m if maxiter is None else int(maxiter)
    x = np.zeros_like(b)
    r = b.copy()
    p = r.copy()
    rs = _dot(r, r)
    tol2 = (rtol**2) * rs
    done = rs <= tol2
    broken = np.zeros(B, bool)
    it = 0
    while it < maxiter and not np.all(done | broken):
        it += 1
        Ap = matvec(p)
        pAp = _dot(p, Ap)
        going = ~(done | broken)
        broken |= going & ~(pAp > 0)
        going &= ~broken
        alpha = np.where(going, rs / np.where(going, pAp, 1.0), 0.0)
        x += alpha[:, None] * p
        r -= alpha[:, None] * Ap
        rs_new = _dot(r, r)
        done |= going & (rs_new <= tol2)
        beta = np.where(going, rs_new / np.where(rs > 0, rs, 1.0), 0.0)
        p = r + beta[:, None] * p
        rs = rs_new
    return x, done & ~broken, it


def batched_gmres(
    matvec: Matvec, b: np.ndarray, rtol: float = 1e-10, maxiter: int | None = None
) -> tuple[np.ndarray, np.ndarray, int]:
    """GMRES (no restart, Arnoldi with modified Gram–Schmidt, Givens rotations) for B systems at once.

    Args:
        matvec: ``(B, m) → (B, m)``, the batched operator.
        b: ``(B, m)`` right-hand sides.
        rtol: run b is done when its residual ``≤ rtol ‖b_b‖``.
        maxiter: Krylov dimension cap (default ``min(m, 200)``).

    Returns:
        ``(x, converged, iterations)``.
    """
    B, m = b.shape
    maxiter = min(m, 200) if maxiter is None else min(int(maxiter), m)
    beta = np.sqrt(_dot(b, b))
    safe = np.where(beta > 0, beta, 1.0)
    V = [b / safe[:, None]]  # the Krylov basis, one (B, m) vector per iteration
    H = np.zeros((B, maxiter + 1, maxiter))
    cs, sn = np.zeros((B, maxiter)), np.zeros((B, maxiter))
    g = np.zeros((B, maxiter + 1))
    g[:, 0] = beta
    done = beta == 0
    n_used = np.zeros(B, int)
    j = 0
    with np.errstate(invalid="ignore", divide="ignore"):
        for j in range(maxiter):
            w = matvec(V[j])
            for i in range(j + 1):  # modified Gram–Schmidt
                h = _dot(w, V[i])
                H[:, i, j] = h
                w = w - h[:, None] * V[i]
            hn = np.sqrt(_dot(w, w))
            H[:, j + 1, j] = hn
            for i in range(j):  # previous rotations on the new column
                hi, hi1 = H[:, i, j].copy(), H[:, i + 1, j].copy()
                H[:, i, j] = cs[:, i] * hi + sn[:, i] * hi1
                H[:, i + 1, j] = -sn[:, i] * hi + cs[:, i] * hi1
            r = np.hypot(H[:, j, j], H[:, j + 1, j])
            rs = np.where(r > 0, r, 1.0)
            cs[:, j] = np.where(r > 0, H[:, j, j] / rs, 1.0)
            sn[:, j] = np.where(r > 0, H[:, j + 1, j] / rs, 0.0)
            H[:, j, j], H[:, j + 1, j] = r, 0.0
            g[:, j + 1] = -sn[:, j] * g[:, j]
            g[:, j] = cs[:, j] * g[:, j]
            newly = ~done & ((np.abs(g[:, j + 1]) <= rtol * beta) | (hn == 0))
            n_used[~done] = j + 1
            done |= newly
            if done.all():
                break
            w /= np.where(hn > 0, hn, 1.0)[:, None]  # the next basis vector (in place: w is this iteration's own)
            w[~(hn > 0)] = 0.0
            V.append(w)
    # x = Σ_i y_i V_i, y solving each run's own (n × n) least-squares triangle (zero past its n)
    y = np.zeros((B, maxiter))
    for n in np.unique(n_used[n_used > 0]):
        idx = np.flatnonzero(n_used == n)
        y[idx, :n] = np.linalg.solve(H[idx, :n, :n], g[idx, :n, None])[..., 0]
    x = y[:, 0, None] * V[0] if maxiter else np.zeros_like(b)
    for i in range(1, int(n_used.max(initial=0))):
        x += y[:, i, None] * V[i]
    return x, done, j + 1


def krylov_adjoint_solve(
    J: np.ndarray, rhs: np.ndarray, solver: Solver = "auto", rtol: float = 1e-10, maxiter: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``Jᵀ v = rhs`` for a batch of dense blocks by CG (symmetric ``J``) or GMRES.

    Args:
        J: ``(B, m, m)`` blocks (e.g. the followers' Jacobian ``H22`` as ``second_order`` feedback sends it).
        rhs: ``(B, m)``.
        solver: ``"cg"``, ``"gmres"`` or ``"auto"`` (CG where ``J`` is symmetric, GMRES elsewhere and where
            CG fails).
        rtol, maxiter: Krylov tolerances.

    Returns:
        ``(v, converged)`` with shapes ``(B, m)`` and ``(B,)``.
    """
    check_solver(solver)
    B, m = rhs.shape
    v = np.zeros((B, m))
    converged = np.zeros(B, bool)
    if solver == "auto":  # symmetry test (an O(m²) pass) only where it decides the method
        scale = np.max(np.abs(J), axis=(-2, -1), initial=0.0)
        tol = 1e-12 * np.maximum(scale, 1e-300)[:, None, None]
        use_cg = np.all(np.abs(J - np.swapaxes(J, -1, -2)) <= tol, (-2, -1))
    else:
        use_cg = np.full(B, solver == "cg")
    if use_cg.any():
        Jc = J if use_cg.all() else J[use_cg]  # no copy of m x m blocks when every run takes CG
        xs, ok, _ = batched_cg(lambda p: np.einsum("bij,bi->bj", Jc, p), rhs[use_cg], rtol, maxiter)
        v[use_cg], converged[use_cg] = xs, ok
    todo = ~use_cg | (~converged if solver == "auto" else np.zeros(B, bool))
    if todo.any():
        Jg = J if todo.all() else J[todo]
        xs, ok, _ = batched_gmres(lambda p: np.einsum("bij,bi->bj", Jg, p), rhs[todo], rtol, maxiter)
        v[todo], converged[todo] = xs, ok
    for b in np.flatnonzero(todo & ~converged):  # restarted GMRES for the rare hard case
        Jb = J[b]
        op = LinearOperator((m, m), matvec=lambda u, Jb=Jb: Jb.T @ u, dtype=float)
        sol, info = gmres(op, rhs[b], rtol=rtol, atol=0.0, maxiter=maxiter, restart=min(m, 50))
        v[b], converged[b] = sol, info == 0
    return v, converged


def sherman_morrison_solve(a: np.ndarray, u: np.ndarray, w: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve ``(diag(a) + u wᵀ) x = rhs`` in ``O(m)`` (batched over leading axes).

    ``(D + u wᵀ)⁻¹ r = D⁻¹ r − D⁻¹ u (wᵀ D⁻¹ r) / (1 + wᵀ D⁻¹ u)``; raises ``ValueError`` where ``a`` has a
    zero entry or ``1 + wᵀ D⁻¹ u = 0`` (the matrix is singular).
    """
    a, u, w, rhs = (np.asarray(t, float) for t in (a, u, w, rhs))
    if np.any(a == 0):
        raise ValueError("sherman_morrison_solve: the diagonal has a zero entry")
    Dr, Du = rhs / a, u / a
    denom = 1.0 + np.sum(w * Du, axis=-1, keepdims=True)
    if np.any(denom == 0):
        raise ValueError("sherman_morrison_solve: diag(a) + u wᵀ is singular (1 + wᵀ D⁻¹ u = 0)")
    return Dr - Du * (np.sum(w * Dr, axis=-1, keepdims=True) / denom)


def jvp(field: Callable[[np.ndarray], np.ndarray], x: np.ndarray, u: np.ndarray, affine: bool = False) -> np.ndarray:
    """``J(x) u`` for ``J`` the Jacobian of ``field`` (``(B, d) → (B, d)``), by differences along ``u``.

    An ``affine`` field (a quadratic game's ``ω``/``ω_S``) is differenced over a step of the size of ``x`` —
    exact up to rounding; otherwise central differences with a relative step ``1e-5`` (error ``O(h²)``).
    Costs two evaluations of ``field``, each ``O(d)`` for structured games.
    """
    size = _max_abs(u)
    size = np.where(size > 0, size, 1.0)
    scale = 1.0 + _max_abs(x)
    h = (scale if affine else 1e-5 * scale) / size
    hu = h * u
    forward = field(x + hu)
    backward = field(np.subtract(x, hu, out=hu))
    diff = np.subtract(forward, backward, dtype=float)
    diff /= 2 * h
    return diff


def _max_abs(a: np.ndarray) -> np.ndarray:
    """``max |a|`` over the last axis (kept), from the max and the min: two reads, no ``|a|`` temporary."""
    return np.maximum(a.max(axis=-1, keepdims=True), -a.min(axis=-1, keepdims=True))


__all__ = [
    "SOLVERS",
    "batched_cg",
    "batched_gmres",
    "check_solver",
    "jvp",
    "krylov_adjoint_solve",
    "sherman_morrison_solve",
]
