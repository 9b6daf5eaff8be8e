"""Exact feedback Nash and feedback Stackelberg solutions of LQ dynamic games, by backward recursion.

Model (:class:`~stackenv.games.lq_model.LQModel`): ``x_{t+1} = A x_t + Σ_i B_i u_i + w_t``, player i pays
``Σ_{t<T} γ^t (x_tᵀQ_i x_t + Σ_j u_jᵀR_ij u_j) + γ^T x_TᵀQ_i^T x_T``. Player 0 leads; players ``F = 1..N−1``
follow and play a Nash game among themselves at every stage. Strategies are linear feedback ``u_i = −K_i[t] x_t``.

Derivation (Başar & Olsder, *Dynamic Noncooperative Game Theory*, 2nd ed., SIAM 1999: ch. 6, feedback Nash of
LQ discrete-time games (§6.2, Cor. 6.1); ch. 7, feedback Stackelberg (§7.2–7.4); the stage-wise dynamic
programming argument of Thm. 6.6 / Thm. 7.1). Write ``V_i^{t+1}(x) = xᵀP_i x + c_i`` for player i's value at
``t+1`` (``P_i = Q_i^T``, ``c_i = 0`` at ``T``) and ``P̄_i = γ P_i`` (the discounted next value). At stage t
player i's cost-to-go of the stage controls is

    (S)  xᵀQ_i x + Σ_j u_jᵀR_ij u_j + (A x + Σ_j B_j u_j)ᵀ P̄_i (A x + Σ_j B_j u_j) + γ(tr(P_i W) + c_i).

*Feedback Nash* (every player minimises (S) over its own ``u_i`` given the others'). (S) is strictly convex in
``u_i`` iff ``R_ii + B_iᵀP̄_iB_i ≻ 0``; its stationarity condition ``(R_ii + B_iᵀP̄_iB_i) u_i + B_iᵀP̄_i Σ_{j≠i} B_j u_j
= −B_iᵀP̄_i A x`` must hold for every x, so the gains solve one linear system (B&O eq. (6.22))

    (N)  (R_ii + B_iᵀP̄_iB_i) K_i + Σ_{j≠i} B_iᵀP̄_iB_j K_j = B_iᵀP̄_i A,      i = 0..N−1.

*Feedback Stackelberg* (at every stage the leader announces ``u_0`` first, the followers answer with their stage
Nash response, the leader anticipates it). For fixed ``u_0`` the followers' conditions (N) restricted to F read
``G_F u_F = −H_F (A x + B_0 u_0)`` with blocks ``G_F[j,k] = δ_jk R_jj + B_jᵀP̄_jB_k`` and rows ``H_F[j] = B_jᵀP̄_j``,
so ``u_F = −D (A x + B_0 u_0)``, ``D = G_F⁻¹ H_F`` (for one follower ``D = (R_11 + B_1ᵀP̄_1B_1)⁻¹B_1ᵀP̄_1``).
With ``B_F = [B_1 … B_{N−1}]`` the next state is ``M (A x + B_0 u_0)``, ``M = I − B_F D``, and the leader's stage
cost (S) becomes ``u_0ᵀR_00 u_0 + (A x + B_0 u_0)ᵀ W̄ (A x + B_0 u_0)`` + terms free of ``u_0``, with
``W̄ = Dᵀ R_0F D + Mᵀ P̄_0 M`` and ``R_0F = blockdiag(R_0j, j ∈ F)``. Strictly convex iff ``R_00 + B_0ᵀW̄B_0 ≻ 0``;
then (B&O §7.4, the LQ feedback Stackelberg recursion)

    (S1) K_0 = (R_00 + B_0ᵀ W̄ B_0)⁻¹ B_0ᵀ W̄ A,        (S2) K_F = D (A − B_0 K_0).

*Values* for both concepts: with the closed loop ``F = A − Σ_j B_j K_j``, substituting ``u_j = −K_j x`` into (S),

    (V)  P_i[t] = Q_i + Σ_j K_jᵀ R_ij K_j + Fᵀ P̄_i F,        c_i[t] = γ (tr(P_i[t+1] W) + c_i[t+1]),

so the noise-free cost from ``x0`` is ``x0ᵀP_i[0]x0`` and the expected cost adds ``c_i[0] = Σ_t γ^{t+1} tr(P_i[t+1]W)``.

Each stage problem must be strictly convex for the player who solves it, and the followers' (or all players')
stage system must be nonsingular; otherwise there is no (unique) equilibrium and :class:`NoEquilibriumError`
names the stage and the matrix. *Infinite horizon*: iterate the stage map (N)/(S1–S2), (V) from ``P = Q^T`` to a
fixed point (stationary gains), check convergence and that ``√γ F`` is stable (:func:`stationary`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy.linalg import block_diag

from stackenv.games.lq_model import LQModel

Concept = Literal["feedback_nash", "feedback_stackelberg"]
CONCEPTS: tuple[Concept, ...] = ("feedback_nash", "feedback_stackelberg")


class NoEquilibriumError(ValueError):
    """A stage problem is not strictly convex, a stage system is singular, or the fixed point does not exist."""


@dataclass(frozen=True)
class LQSolution:
    """A feedback equilibrium over the horizon.

    Attributes:
        concept: ``"feedback_nash"`` or ``"feedback_stackelberg"``.
        gains: ``gains[t][i]`` is ``K_i[t]`` (``m_i × n``), ``u_i = −K_i[t] x_t``, ``t = 0..T−1``.
        values: ``P_i[t]``, shape ``(T+1, N, n, n)``.
        offsets: ``c_i[t]`` (noise terms of the value), shape ``(T+1, N)``.
        costs: noise-free costs from ``x0``, ``x0ᵀP_i[0]x0``, shape ``(N,)``.
        expected_costs: ``costs + c_i[0]`` (expected costs under the noise ``W``).
    """

    concept: Concept
    gains: list[list[np.ndarray]]
    values: np.ndarray
    offsets: np.ndarray
    costs: np.ndarray
    expected_costs: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        """``{"gains": [[K_0[t], K_1[t], ...] for t], "costs": [...], "expected_costs": [...]}``."""
        return {
            "gains": [[K.tolist() for K in Kt] for Kt in self.gains],
            "costs": self.costs.tolist(),
            "expected_costs": self.expected_costs.tolist(),
        }


def _convex(S: np.ndarray, what: str) -> None:
    ev = np.linalg.eigvalsh((S + S.T) / 2)
    if ev[0] <= 1e-12 * max(1.0, abs(ev[-1])):
        raise NoEquilibriumError(
            f"{what} is not positive definite (eigenvalues {np.round(ev, 6).tolist()}): the stage problem is not "
            "strictly convex, so there is no equilibrium"
        )


def _solve(G: np.ndarray, rhs: np.ndarray, what: str) -> np.ndarray:
    if np.linalg.cond(G) > 1e12:
        raise NoEquilibriumError(
            f"{what} is singular (condition number {np.linalg.cond(G):.3g}): no unique equilibrium"
        )
    return np.linalg.solve(G, rhs)


def _split(K: np.ndarray, m: list[int]) -> list[np.ndarray]:
    return np.split(K, np.cumsum(m)[:-1], axis=0)


def _followers_system(model: LQModel, Pd: np.ndarray, players: list[int], where: str):
    """Blocks ``G[j,k] = δ_jk R_jj + B_jᵀP̄_jB_k`` and rows ``H[j] = B_jᵀP̄_j`` of (N) over ``players``."""
    B, R = model.B, model.R
    for j in players:
        _convex(R[j][j] + B[j].T @ Pd[j] @ B[j], f"{where}: {model.names[j]}'s R_jj + γB_jᵀP_jB_j")
    G = np.block([[B[j].T @ Pd[j] @ B[k] + (R[j][j] if j == k else 0.0) for k in players] for j in players])
    H = np.vstack([B[j].T @ Pd[j] for j in players])
    return G, H


def follower_response(model: LQModel, P: np.ndarray, where: str = "stage") -> np.ndarray:
    """``D = G_F⁻¹ H_F`` (stacked over the followers, ``Σ_{j≥1} m_j × n``): their stage Nash answer to the leader is
    ``u_F = −D (A x + B_0 u_0)`` given next-step values ``P`` ``(N, n, n)``."""
    F = list(range(1, model.N))
    G, H = _followers_system(model, model.discount * P, F, where)
    return _solve(G, H, f"{where}: the followers' stage system G_F")


def stage(model: LQModel, P: np.ndarray, concept: Concept, t: int | str = "t") -> list[np.ndarray]:
    """Stage gains ``[K_0, ..., K_{N−1}]`` given next-step values ``P`` ``(N, n, n)``: (N) or (S1–S2)."""
    Pd, A, B, m = model.discount * P, model.A, model.B, model.m
    where = f"stage {t} ({concept})"
    if concept == "feedback_nash":
        G, H = _followers_system(model, Pd, list(range(model.N)), where)
        return _split(_solve(G, H @ A, f"{where}: the players' stage system (N)"), m)
    if concept != "feedback_stackelberg":
        raise ValueError(f"unknown concept {concept!r}; valid: {', '.join(CONCEPTS)}")
    F = list(range(1, model.N))
    D = follower_response(model, P, where)
    M = np.eye(model.n) - np.hstack([B[j] for j in F]) @ D
    Wbar = D.T @ block_diag(*[model.R[0][j] for j in F]) @ D + M.T @ Pd[0] @ M
    S = model.R[0][0] + B[0].T @ Wbar @ B[0]
    _convex(S, f"{where}: the leader's R_00 + B_0ᵀW̄B_0")
    K0 = np.linalg.solve(S, B[0].T @ Wbar @ A)
    return [K0, *_split(D @ (A - B[0] @ K0), m[1:])]


def closed_loop(model: LQModel, K: list[np.ndarray]) -> np.ndarray:
    """``F = A − Σ_j B_j K_j``."""
    return model.A - sum(b @ k for b, k in zip(model.B, K))


def value_step(model: LQModel, P: np.ndarray, K: list[np.ndarray]) -> np.ndarray:
    """(V): ``P_i ← Q_i + Σ_j K_jᵀR_ijK_j + Fᵀ(γP_i)F`` for every player, shape ``(N, n, n)``."""
    F = closed_loop(model, K)
    out = np.empty_like(P)
    for i in range(model.N):
        Pi = model.Q[i] + sum(k.T @ r @ k for k, r in zip(K, model.R[i])) + model.discount * F.T @ P[i] @ F
        out[i] = (Pi + Pi.T) / 2
    return out


def solve(model: LQModel, concept: Concept) -> LQSolution:
    """The finite-horizon feedback equilibrium ``concept`` by backward recursion over ``t = T−1..0``."""
    T, N, g = model.horizon, model.N, model.discount
    P = np.empty((T + 1, N, model.n, model.n))
    c = np.zeros((T + 1, N))
    P[T] = model.QT
    gains: list[list[np.ndarray]] = [[] for _ in range(T)]
    for t in range(T - 1, -1, -1):
        gains[t] = stage(model, P[t + 1], concept, t)
        P[t] = value_step(model, P[t + 1], gains[t])
        c[t] = g * (np.einsum("iab,ba->i", P[t + 1], model.W) + c[t + 1])
    costs = np.einsum("a,iab,b->i", model.x0, P[0], model.x0)
    return LQSolution(concept, gains, P, c, costs, costs + c[0])


def feedback_nash(model: LQModel) -> LQSolution:
    """Finite-horizon feedback Nash equilibrium (B&O ch. 6)."""
    return solve(model, "feedback_nash")


def feedback_stackelberg(model: LQModel) -> LQSolution:
    """Finite-horizon feedback Stackelberg equilibrium, leader first at every stage (B&O ch. 7)."""
    return solve(model, "feedback_stackelberg")


@dataclass(frozen=True)
class StationarySolution:
    """The infinite-horizon (stationary) feedback equilibrium: the fixed point of the stage map.

    Attributes:
        concept: the equilibrium concept.
        gains: stationary ``K_i`` (``m_i × n``).
        values: ``P_i``, shape ``(N, n, n)``; the noise-free cost from ``x0`` is ``x0ᵀP_ix0``.
        iterations: stage-map iterations to convergence.
        costs: ``x0ᵀP_ix0``; expected_costs: plus ``γ/(1−γ) tr(P_iW)`` (``inf`` if ``γ = 1`` and ``W ≠ 0``).
    """

    concept: Concept
    gains: list[np.ndarray]
    values: np.ndarray
    iterations: int
    costs: np.ndarray
    expected_costs: np.ndarray


def stationary(model: LQModel, concept: Concept, tol: float = 1e-12, max_iter: int = 100_000) -> StationarySolution:
    """Iterate the stage map from ``P = Q^T`` until ``max|ΔP| ≤ tol · max(1, max|P|)``.

    Raises :class:`NoEquilibriumError` if a stage is not convex, the iteration does not converge within
    ``max_iter`` steps, or the limit's closed loop ``√γ F`` is not stable (the stationary costs are then infinite).
    """
    P = model.QT.copy()
    for k in range(1, max_iter + 1):
        K = stage(model, P, concept, f"iteration {k}")
        P_new = value_step(model, P, K)
        if not np.all(np.isfinite(P_new)):
            break
        change = float(np.abs(P_new - P).max())
        P = P_new
        if change <= tol * max(1.0, float(np.abs(P).max())):
            rho = float(np.max(np.abs(np.linalg.eigvals(np.sqrt(model.discount) * closed_loop(model, K)))))
            if rho >= 1:
                raise NoEquilibriumError(
                    f"{concept}: the fixed point's closed loop is not stable (ρ(√γ F) = {rho:.6g})"
                )
            costs = np.einsum("a,iab,b->i", model.x0, P, model.x0)
            noise = np.einsum("iab,ba->i", P, model.W)
            g = model.discount
            extra = g / (1 - g) * noise if g < 1 else np.where(noise > 0, np.inf, 0.0)
            return StationarySolution(concept, K, P, k, costs, costs + extra)
    raise NoEquilibriumError(f"{concept}: the stage map did not converge to a fixed point within {max_iter} iterations")


def feedback_report(model: LQModel) -> dict[str, Any]:
    """The CLI's feedback part: ``{"feedback_nash": LQSolution.to_dict(), "feedback_stackelberg": ...}``."""
    return {concept: solve(model, concept).to_dict() for concept in CONCEPTS}


def format_feedback(doc: dict[str, Any]) -> str:
    """Readable text of :func:`feedback_report`: costs from ``x0`` per concept and the first-stage gains."""
    lines = []
    for concept in CONCEPTS:
        sol = doc[concept]
        costs = ", ".join(f"{c:.6g}" for c in sol["costs"])
        expected = ", ".join(f"{c:.6g}" for c in sol["expected_costs"])
        lines.append(f"{concept}: costs from x0 ({costs}); expected under the noise ({expected})")
        lines += [f"  K_{i}[0] = {np.round(np.array(K), 6).tolist()}" for i, K in enumerate(sol["gains"][0])]
    return "\n".join(lines) + "\n"
