"""A leader above N simultaneous followers (Fiez et al., App. C.2).

The followers play a Nash game among themselves for each leader action; stacking their individual
gradients ``ω_F(x_1, x_F)`` with ``J_F = ∂ω_F/∂x_F`` (N·d_F square) and ``J_F1 = ∂ω_F/∂x_1``, the implicit
function theorem gives ``Dr_F = −J_F⁻¹ J_F1`` and the leader's total derivative

    Df_1 = ∇_1 f_1 − J_F1ᵀ J_F⁻ᵀ ∇_F f_1                                         (App. C.2; eq. 1)

— one *adjoint* solve ``J_Fᵀ v = ∇_F f_1`` per step, never an explicit inverse. The leader descends it
on the slow timescale, ``x_1 ← x_1 − γ_{1,k} (Df_1 + w)``, while every follower runs gradient play (eq. 7)
with a common faster step ``γ_{2,k}`` (Assumption 6: the followers' game has a unique, globally attracting
differential Nash equilibrium for each ``x_1``).

Feedback:
    ``hierarchical``: ``Df_1`` comes from the env, which evaluates the game's ``omega_S`` — structured
        families use their own fast path (the oligopoly's Sherman–Morrison ``O(N)`` formula).
    ``second_order``: the leader solves ``J_Fᵀ v = ∇_F f_1`` itself with a Krylov method over the batch:
        conjugate gradients (``J_F`` symmetric positive definite, e.g. Cournot's ``I + 11ᵀ``, whose two
        distinct eigenvalues make CG exact in 2 iterations) or GMRES (non-symmetric ``J_F``, e.g. noisy
        blocks), both batched in numpy; runs GMRES leaves unconverged are retried one by one with
        restarted ``scipy.sparse.linalg.gmres`` on a ``LinearOperator``. Each iteration
        costs one matrix–vector product, ``O(m²)`` on the dense blocks the env sends (``O(m)`` for
        structured operators), against ``O(m³)`` for a factorisation. Runs where CG breaks down fall back to
        GMRES; unconverged solves are counted in ``diagnostics["krylov_unconverged"]`` and warned about.

Step sizes: simultaneous gradient play of the followers is stable only for ``γ_2 ρ(J_F) < 2`` — for the
Cournot followers ``ρ = N + 1``. :func:`n_follower_learners` scales the followers' default step by
``1/‖J_F‖₂`` estimated at the centre of the domain.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from scipy.sparse.linalg import LinearOperator, gmres

from agents.base import Learner
from agents.gradient import GradientPlay
from agents.hierarchical import BLOCK_AVERAGE, HierarchicalLeader, total_derivative
from agents.schedules import PowerSchedule, Schedule
from stackenv.games.base import Game

Solver = Literal["auto", "cg", "gmres"]
SOLVERS: tuple[str, ...] = ("auto", "cg", "gmres")


def batched_cg(
    matvec, b: np.ndarray, rtol: float = 1e-10, maxiter: int | None = None
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
    rs = np.einsum("bi,bi->b", r, r)
    tol2 = (rtol**2) * rs
    done = rs <= tol2
    broken = np.zeros(B, bool)
    it = 0
    while it < maxiter and not np.all(done | broken):
        it += 1
        Ap = matvec(p)
        pAp = np.einsum("bi,bi->b", p, Ap)
        going = ~(done | broken)
        broken |= going & ~(pAp > 0)
        going &= ~broken
        alpha = np.where(going, rs / np.where(going, pAp, 1.0), 0.0)
        x += alpha[:, None] * p
        r -= alpha[:, None] * Ap
        rs_new = np.einsum("bi,bi->b", r, r)
        done |= going & (rs_new <= tol2)
        beta = np.where(going, rs_new / np.where(rs > 0, rs, 1.0), 0.0)
        p = r + beta[:, None] * p
        rs = rs_new
    return x, done & ~broken, it


def batched_gmres(
    matvec, b: np.ndarray, rtol: float = 1e-10, maxiter: int | None = None
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
    beta = np.linalg.norm(b, axis=-1)
    safe = np.where(beta > 0, beta, 1.0)
    V = np.zeros((maxiter + 1, B, m))
    V[0] = b / safe[:, None]
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
                h = np.einsum("bi,bi->b", w, V[i])
                H[:, i, j] = h
                w = w - h[:, None] * V[i]
            hn = np.linalg.norm(w, axis=-1)
            H[:, j + 1, j] = hn
            V[j + 1] = np.where(hn[:, None] > 0, w / np.where(hn > 0, hn, 1.0)[:, None], 0.0)
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
    x = np.zeros_like(b)
    for n in np.unique(n_used[n_used > 0]):
        idx = np.flatnonzero(n_used == n)
        y = np.linalg.solve(H[idx, :n, :n], g[idx, :n, None])[..., 0]
        x[idx] = np.einsum("jbm,bj->bm", V[:n, idx], y)
    return x, done, j + 1


def check_solver(solver: str) -> None:
    """``ValueError`` unless ``solver`` is one of :data:`SOLVERS`."""
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; valid: {', '.join(SOLVERS)}")


def krylov_adjoint_solve(
    JF: np.ndarray, rhs: np.ndarray, solver: Solver = "auto", rtol: float = 1e-10, maxiter: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``J_Fᵀ v = rhs`` for a batch by CG (symmetric ``J_F``) or GMRES; no factorisation, no inverse.

    Args:
        JF: ``(B, m, m)`` followers' Jacobians (dense blocks as the env sends them).
        rhs: ``(B, m)``, ``∇_F f_1``.
        solver: ``"cg"``, ``"gmres"`` or ``"auto"`` (CG where ``J_F`` is symmetric, GMRES elsewhere and where
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
        scale = np.max(np.abs(JF), axis=(-2, -1), initial=0.0)
        tol = 1e-12 * np.maximum(scale, 1e-300)[:, None, None]
        use_cg = np.all(np.abs(JF - np.swapaxes(JF, -1, -2)) <= tol, (-2, -1))
    else:
        use_cg = np.full(B, solver == "cg")
    if use_cg.any():
        J = JF if use_cg.all() else JF[use_cg]  # no copy of N x N blocks when every run takes CG
        xs, ok, _ = batched_cg(lambda p: np.einsum("bij,bi->bj", J, p), rhs[use_cg], rtol, maxiter)
        v[use_cg], converged[use_cg] = xs, ok
    todo = ~use_cg | (~converged if solver == "auto" else np.zeros(B, bool))
    if todo.any():
        J = JF if todo.all() else JF[todo]
        xs, ok, _ = batched_gmres(lambda p: np.einsum("bij,bi->bj", J, p), rhs[todo], rtol, maxiter)
        v[todo], converged[todo] = xs, ok
    for b in np.flatnonzero(todo & ~converged):  # restarted GMRES for the rare hard case
        Jb = JF[b]
        op = LinearOperator((m, m), matvec=lambda u, Jb=Jb: Jb.T @ u, dtype=float)
        sol, info = gmres(op, rhs[b], rtol=rtol, atol=0.0, maxiter=maxiter, restart=min(m, 50))
        v[b], converged[b] = sol, info == 0
    return v, converged


class NFollowerLeader(HierarchicalLeader):
    """Leader descending ``Df_1`` through N simultaneous followers' Nash response (App. C.2).

    Args:
        lr: leader step sizes (default ``1/k``).
        solver: Krylov method for ``second_order`` feedback (``"auto"``, ``"cg"``, ``"gmres"``).
        rtol: Krylov relative residual tolerance.
        block_average: running-average steps for noisy ``J_F``/``J_F1`` (see
            :class:`~agents.hierarchical.HierarchicalLeader`).
    """

    name = "n_followers"
    roles = frozenset({"leader"})
    needs = "total_derivative"

    def __init__(
        self,
        lr: Schedule | float | None = None,
        solver: Solver = "auto",
        rtol: float = 1e-10,
        block_average: Schedule | float | None = BLOCK_AVERAGE,
    ):
        super().__init__(lr, block_average=block_average)
        check_solver(solver)
        if not (0 < rtol < 1):
            raise ValueError(f"rtol must lie in (0, 1), got {rtol}")
        self.solver, self.rtol = solver, float(rtol)

    def direction(self, obs: Any, k: int | None = None) -> np.ndarray:
        if not isinstance(obs, dict):
            return self._check_shape(obs, self.dim, "observation (Df_1)")
        g1, gF, JF, JF1 = self._blocks(obs, k)
        if np.isfinite(JF.sum()) and np.isfinite(gF.sum()):  # every run finite: solve on the blocks as they are
            finite = np.ones(self.num_runs, bool)
            v, ok = krylov_adjoint_solve(JF, gF, self.solver, self.rtol)
        else:
            finite = np.all(np.isfinite(JF), axis=(-2, -1)) & np.all(np.isfinite(gF), axis=-1)
            v = np.full(gF.shape, np.nan)
            v[finite], ok = krylov_adjoint_solve(JF[finite], gF[finite], self.solver, self.rtol)
        bad = np.zeros(self.num_runs, bool)
        bad[finite] = ~ok
        bad &= self.active
        self._count("krylov_unconverged", bad.sum())
        if bad.any():
            self._warn_once("krylov", "Krylov adjoint solve did not converge in some runs (counted)")
        return total_derivative(g1, JF1, v)


def follower_step_scale(game: Game, x: np.ndarray | None = None, level: int = 0, iters: int = 50) -> float:
    """``1/‖J_F‖₂`` for the levels below ``level`` at ``x`` (default: the centre of the domain), by power
    iteration on ``J_Fᵀ J_F`` (matrix–vector products only). Gradient play with ``γ_2 ≤`` this is stable for
    SPD ``J_F``."""
    x = (game.low + game.high) / 2 if x is None else game.check_x(x)
    JF, _ = game.response_blocks(x, level)
    u = np.ones(JF.shape[-1]) / np.sqrt(JF.shape[-1])
    s = 1.0
    for _ in range(iters):
        w = JF.T @ (JF @ u)
        s = float(np.linalg.norm(w))
        if s == 0:
            raise ValueError(f"{game.name}: the followers' Jacobian vanishes at {x}")
        u = w / s
    return 1.0 / np.sqrt(s)


def n_follower_learners(
    game: Game,
    leader_lr: Schedule | float | None = None,
    follower_lr: Schedule | float | None = None,
    solver: Solver = "auto",
) -> dict[str, Learner]:
    """One :class:`NFollowerLeader` and a :class:`~agents.gradient.GradientPlay` per follower.

    Defaults: leader ``γ_1 = 1/k``; followers ``γ_2 = s/k^{2/3}`` with ``s = follower_step_scale(game)``
    (the paper's duopoly exponents, scaled for the N-follower spectrum).
    """
    if len(game.levels) != 2:
        raise ValueError(f"{game.name}: n_follower_learners needs a leader above one level of followers")
    if follower_lr is None:
        follower_lr = PowerSchedule(follower_step_scale(game), 2.0 / 3.0)
    learners: dict[str, Learner] = {game.agents[0]: NFollowerLeader(leader_lr, solver=solver)}
    for i in game.levels[1]:
        learners[game.agents[i]] = GradientPlay(follower_lr)
    return learners
