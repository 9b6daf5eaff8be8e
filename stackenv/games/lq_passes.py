"""The O(N) passes behind :mod:`stackenv.games.lq_followers`: state and costate sweeps over the horizon, each
touching every follower once (a shared matrix is one product; per-follower matrices one einsum).

With the state trajectory ``X = Φx0 + Σ_k Γ_k z_k`` (``Γ_k[t, s] = A^{t−1−s}B_k``) and ``Q̄ = diag(disc_t Q)`` (QT at
t = T): :meth:`FollowerPasses.states` is ``X``; :meth:`~FollowerPasses.costate` turns weighted states ``Y`` into
``ν_t = Y_t + Aᵀν_{t+1}``, so that ``(Γ_kᵀY)[s] = B_kᵀν_{s+1}`` for every player at once
(:meth:`~FollowerPasses.gamma_T_followers`); :meth:`~FollowerPasses.U_T` is ``Σ_j U_jᵀw_j = 2Σ_j Q̄F_jΓ_jw_j`` (a
forward sweep) and :meth:`~FollowerPasses.D_inv` the block-diagonal ``D⁻¹``, ``D = blockdiag(2 disc_s RFF_j)``; the
capacitance ``I + C``, ``C = Σ_j U_jᵀD_j⁻¹Γ_jᵀ``, is built from ``(T+1)n`` such sweeps.

The game's fields are module functions of a :class:`FollowerPasses` and joint actions ``(b, d)``: :func:`costs`,
:func:`grad`, :func:`fields` (``ω``, ``ω_S`` by Woodbury, their linear parts) and :func:`follower_response`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stackenv.games.base import as_float_array
from stackenv.games.lq_model import LQModel
from stackenv.games.stackelberg import SINGULAR_RCOND


def shared_or_per_follower(value: Any, name: str, N: int, shape: tuple[int, int], symmetric=False) -> np.ndarray:
    """One ``shape`` matrix for every follower (kept 2-D) or ``(N,) + shape`` (one per follower)."""
    arr = as_float_array(value, name)
    if arr.ndim == 0 and shape == (1, 1):
        arr = arr.reshape(1, 1)
    if arr.shape not in (shape, (N,) + shape):
        raise ValueError(f"parameter {name!r} must have shape {shape} (shared) or {(N,) + shape}, got {arr.shape}")
    if symmetric:
        if not np.allclose(arr, np.swapaxes(arr, -1, -2), rtol=0, atol=1e-12 * max(1.0, np.abs(arr).max())):
            raise ValueError(f"parameter {name!r} must hold symmetric matrices")
        arr = (arr + np.swapaxes(arr, -1, -2)) / 2
    return arr


def rows(u: np.ndarray, M: np.ndarray) -> np.ndarray:
    """``u @ M`` over the last axis by einsum: numpy's stacked ``@`` loops over tiny matrices, and BLAS on a
    (10⁶ × 2)·(2 × 2) product was ~40× slower than einsum here (threads on a skinny matrix)."""
    return np.einsum("...k,kl->...l", u, M)


class FollowerPasses:
    """The arrays and O(N) sweeps of an ``lq_followers`` game (leader data from ``model``, followers' ``given``)."""

    def __init__(self, model: LQModel, N: int, given: dict[str, np.ndarray]):
        self.model, self.N, self.given = model, N, given
        self.nx, self.T, (self.m0, self.m) = model.n, model.horizon, model.m
        self.B0, self.Q0, self.QT0, self.R00 = model.B[0], model.Q[0], model.QT[0], model.R[0][0]
        self.shared_Q = given["QF"].ndim == 2 and given["QTF"].ndim == 2  # one follower costate serves all
        self.BF = np.broadcast_to(given["BF"], (N, self.nx, self.m))
        self.RFF, self.R0F = (np.broadcast_to(given[k], (N, self.m, self.m)) for k in ("RFF", "R0F"))
        self.RF0 = np.broadcast_to(given["RF0"], (N, self.m0, self.m0))
        # what the sweeps multiply by: one matrix (a single product) or one per follower (einsum)
        self.mats = {k: given[k] for k in ("BF", "RFF", "R0F", "RF0")}
        self.mats.update(RFF_inv=np.linalg.inv(given["RFF"]), BFt=np.swapaxes(given["BF"], -1, -2))
        self.disc = model.discount ** np.arange(self.T + 1)
        self.c = self.noise_costs()
        self.capacitance = self.build_capacitance()

    def follower_Q(self) -> tuple[np.ndarray, np.ndarray]:
        """The followers' ``(QF, QTF)``: ``(n, n)`` each when shared, else ``(N, n, n)``."""
        g = self.given
        if self.shared_Q:
            return g["QF"], g["QTF"]
        shape = (self.N, self.nx, self.nx)
        return np.broadcast_to(g["QF"], shape), np.broadcast_to(g["QTF"], shape)

    def noise_costs(self) -> np.ndarray:
        """``c_i = Σ_t disc_t tr(Q_i[t] Σ_t)``, ``Σ_{t+1} = AΣ_tAᵀ + W`` (``(N + 1,)``)."""
        A, W, T = self.model.A, self.model.W, self.T
        Sig = np.zeros((T + 1, self.nx, self.nx))
        for t in range(T):
            Sig[t + 1] = A @ Sig[t] @ A.T + W
        S = np.tensordot(self.disc[:T], Sig[:T], 1)
        QF, QTF = self.follower_Q()
        c0 = np.sum(self.Q0 * S) + self.disc[T] * np.sum(self.QT0 * Sig[T])
        cF = np.einsum("...ab,ab->...", QF, S) + self.disc[T] * np.einsum("...ab,ab->...", QTF, Sig[T])
        return np.concatenate([[c0], np.broadcast_to(cF, (self.N,))])

    def split(self, xb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``u_0`` ``(b, T, m0)`` and the followers' ``u_F`` ``(b, N, T, m)`` of joint actions ``(b, d)``."""
        k = self.T * self.m0
        return xb[:, :k].reshape(-1, self.T, self.m0), xb[:, k:].reshape(-1, self.N, self.T, self.m)

    def simulate(self, start: np.ndarray, inputs: np.ndarray) -> np.ndarray:
        """``Y_{t+1} = A Y_t + inputs_t`` from ``Y_0 = start``: ``(b, T+1, …, n)`` for inputs ``(b, T, …, n)``."""
        Y = np.empty((inputs.shape[0], self.T + 1) + inputs.shape[2:])
        Y[:, 0] = start
        for t in range(self.T):
            Y[:, t + 1] = rows(Y[:, t], self.model.A.T) + inputs[:, t]
        return Y

    def states(self, u0: np.ndarray, uF: np.ndarray, linear: bool = False) -> np.ndarray:
        """The state trajectory ``X`` ``(b, T+1, n)`` from ``x0`` (from 0 if ``linear``: ``Σ_k Γ_k z_k`` alone)."""
        return self.simulate(0.0 if linear else self.model.x0, u0 @ self.B0.T + self.follower_input(uF))

    def mul(self, u: np.ndarray, key: str) -> np.ndarray:
        """``u_j M_j`` for ``u`` ``(b, N, T, k)``: one product when ``M`` is shared, else per follower."""
        M = self.mats[key]
        return rows(u, M) if M.ndim == 2 else np.einsum("bjtk,jkl->bjtl", u, M)

    def follower_input(self, u: np.ndarray) -> np.ndarray:
        """``Σ_j BF_j u_j[t]``, ``(b, T, n)``."""
        BF = self.mats["BF"]
        return (
            np.einsum("bjtm->btm", u) @ BF.T if BF.ndim == 2 else np.einsum("jam,bjtm->bta", BF, u)
        )  # einsum: ~5× a strided sum

    def weighted(self, X: np.ndarray, Q: np.ndarray, QT: np.ndarray) -> np.ndarray:
        """``Q̄X = (disc_t Q X_t)_t`` (``QT`` at t = T); ``Q`` ``(n, n)`` or ``(N, n, n)``, ``X`` ``(b, T+1, …, n)``."""
        Qs = [Q] * self.T + [QT]
        return np.stack(
            [self.disc[t] * np.einsum("...ac,b...c->b...a", Qs[t], X[:, t]) for t in range(self.T + 1)], axis=1
        )

    def costate(self, Y: np.ndarray) -> np.ndarray:
        """``ν_t = Y_t + Aᵀν_{t+1}`` from ``ν_T = Y_T``, so ``(Γ_kᵀY)[s] = B_kᵀν_{s+1}`` for every player k."""
        nu = np.empty_like(Y)
        nu[:, self.T] = Y[:, self.T]
        for t in range(self.T - 1, -1, -1):
            nu[:, t] = Y[:, t] + rows(nu[:, t + 1], self.model.A)
        return nu

    def gamma_T_followers(self, nu: np.ndarray) -> np.ndarray:
        """``(Γ_jᵀ y)_s = BF_jᵀ ν_{s+1}`` for every follower, ``(b, N, T, m)``; ``ν`` shared or per follower."""
        if nu.ndim == 4:
            return self.mul(np.swapaxes(nu[:, 1:], 1, 2), "BF")
        if self.mats["BF"].ndim == 2:  # the same for every follower: a broadcast view
            out = nu[:, 1:] @ self.mats["BF"]
            return np.broadcast_to(out[:, None], (out.shape[0], self.N) + out.shape[1:])
        return np.einsum("jam,bta->bjtm", self.mats["BF"], nu[:, 1:])

    def _scaled(self, u: np.ndarray, key: str, scale: np.ndarray) -> np.ndarray:
        """``scale_s M_j u_j[s]``: one pass with ``(scale_s M)`` folded per time when ``M`` is shared."""
        M = self.mats[key]
        if M.ndim == 2:
            return np.einsum("bjtk,tkl->bjtl", u, scale[:, None, None] * M)
        return scale[:, None] * self.mul(u, key)

    def times(self, u: np.ndarray, R: str) -> np.ndarray:
        """``2 disc_s R_j u_j[s]`` for ``u`` ``(b, N, T, m)`` and the matrices ``R`` names: a control-cost gradient."""
        return self._scaled(u, R, 2 * self.disc[: self.T])

    def D_inv(self, r: np.ndarray) -> np.ndarray:
        """``D⁻¹r``, ``D = blockdiag(2 disc_s RFF_j)``: ``RFF_j⁻¹ r_j[s] / (2 disc_s)`` for ``r`` ``(b, N, T, m)``."""
        return self._scaled(r, "RFF_inv", 0.5 / self.disc[: self.T])

    def U_T(self, w: np.ndarray) -> np.ndarray:
        """``Σ_j U_jᵀ w_j = 2 Σ_j Q̄F_j Γ_j w_j`` for ``w`` ``(b, N, T, m)``: a forward pass, ``(b, T+1, n)``."""
        QF, QTF = self.follower_Q()
        if self.shared_Q:  # Σ_j Γ_j w_j is one simulation driven by Σ_j BF_j w_j[t]
            Y = self.simulate(np.zeros(self.nx), self.follower_input(w))
            return 2 * self.weighted(Y, QF, QTF)
        Y = self.simulate(np.zeros((self.N, self.nx)), np.swapaxes(self.mul(w, "BFt"), 1, 2))
        return 2 * self.weighted(Y, QF, QTF).sum(axis=2)

    def build_capacitance(self) -> np.ndarray:
        """``I + C``, ``C = Σ_j U_jᵀ D_j⁻¹ Γ_jᵀ``, column by column (``(T+1)n`` passes of O(N) each)."""
        k = (self.T + 1) * self.nx
        C = np.empty((k, k))
        for col in range(k):
            e = np.zeros((1, k))
            e[0, col] = 1.0
            C[:, col] = self.U_T(self.D_inv(self.gamma_T_followers(self.costate(e.reshape(1, self.T + 1, -1))))).ravel()
        return np.eye(k) + C


# ----------------------------------------------------------- the game's fields, each in O(N) (joint actions (b, d))
def costs(P: FollowerPasses, xb: np.ndarray) -> np.ndarray:
    """Every player's cost ``(b, N + 1)``: ``Σ_t disc_t`` of the quadratic forms, from the state's second moments."""
    u0, uF = P.split(xb)
    X = P.states(u0, uF)
    T, disc = P.T, P.disc
    SX = np.einsum("t,bta,btc->bac", disc[:T], X[:, :T], X[:, :T])  # Σ_{t<T} disc_t X_t X_tᵀ
    XT = disc[T] * np.einsum("ba,bc->bac", X[:, T], X[:, T])
    P0 = np.einsum("t,bta,btc->bac", disc[:T], u0, u0)
    quad = lambda R, u: np.einsum("bjtk,bjtk,t->bj", P.mul(u, R), u, disc[:T])  # noqa: E731  Σ_t disc_t u_jᵀR_j u_j
    QF, QTF = P.follower_Q()
    f0 = sum(np.einsum("ac,bac->b", M, S) for M, S in ((P.Q0, SX), (P.QT0, XT), (P.R00, P0)))
    f0 = f0 + quad("R0F", uF).sum(axis=1)
    fF = np.einsum("...ac,bac->b...", QF, SX) + np.einsum("...ac,bac->b...", QTF, XT)
    lead = np.einsum("...ac,bac->b...", P.mats["RF0"], P0)
    fF = fF.reshape(len(xb), -1) + lead.reshape(len(xb), -1) + quad("RFF", uF)
    return np.concatenate([f0[:, None], fF], axis=1) + P.c


def grad(P: FollowerPasses, i: int, xb: np.ndarray) -> np.ndarray:
    """``∇_x f_i`` (all players' controls) ``(b, d)``: one costate pass with player i's state weights."""
    u0, uF = P.split(xb)
    X = P.states(u0, uF)
    if i == 0:
        Q, QT, R_lead = P.Q0, P.QT0, P.R00
    else:
        QF, QTF = P.follower_Q()
        Q, QT = (QF, QTF) if P.shared_Q else (QF[i - 1], QTF[i - 1])
        R_lead = P.RF0[i - 1]
    nu = P.costate(P.weighted(X, Q, QT))
    g0 = 2 * P.disc[: P.T, None] * (u0 @ R_lead) + 2 * nu[:, 1:] @ P.B0
    gF = 2 * P.gamma_T_followers(nu)
    if i == 0:
        gF = gF + P.times(uF, "R0F")
    else:
        gF = np.array(gF)  # writable (a broadcast view when BF is shared)
        gF[:, i - 1] += 2 * P.disc[: P.T, None] * (uF[:, i - 1] @ P.RFF[i - 1])
    return np.concatenate([g0.reshape(len(xb), -1), gF.reshape(len(xb), -1)], axis=1)


def fields(P: FollowerPasses, xb: np.ndarray, stackelberg: bool, linear: bool = False) -> np.ndarray:
    """``ω`` (``ω_S`` if ``stackelberg``: Woodbury, :mod:`stackenv.games.lq_followers`) ``(b, d)``; ``linear``: their
    linear part ``J x``/``J_S x`` (the same sweeps from the state 0 instead of ``x0``: both fields are affine in the
    actions and in ``x0``)."""
    u0, uF = P.split(xb)
    X = P.states(u0, uF, linear)
    nu0 = P.costate(P.weighted(X, P.Q0, P.QT0))  # the leader's costate
    om0 = 2 * P.disc[: P.T, None] * (u0 @ P.R00) + 2 * nu0[:, 1:] @ P.B0
    out = np.empty_like(xb)
    omF = out[:, P.T * P.m0 :].reshape(uF.shape)  # written in place (no concatenation pass)
    nuF = 2 * P.costate(P.weighted(X, *P.follower_Q()))  # small when Q is shared
    np.add(P.times(uF, "RFF"), P.gamma_T_followers(nuF), out=omF)
    if stackelberg:
        w = P.D_inv(P.times(uF, "R0F") + P.gamma_T_followers(2 * nu0))  # D⁻¹ ∇_F f_0
        sv = np.linalg.svd(P.capacitance, compute_uv=False)
        if sv[-1] <= SINGULAR_RCOND * sv[0]:
            raise ValueError("lq_followers: the followers' Jacobian H22 is singular; their response is undefined")
        p = np.linalg.solve(P.capacitance, P.U_T(w).reshape(len(xb), -1).T).T  # (I + C)⁻¹ a
        om0 = om0 - P.costate(p.reshape(X.shape))[:, 1:] @ P.B0  # − Γ_0ᵀ (I + C)⁻¹ a
    out[:, : P.T * P.m0] = om0.reshape(len(xb), -1)
    return out


def follower_response(P: FollowerPasses, xb: np.ndarray) -> np.ndarray:
    """The followers' Nash controls ``z_F`` ``(b, N, T, m)`` against the leader's in ``xb``, by Woodbury.

    ``ω_F = D z_F + U X = 0`` with ``X = X̃ + Γ_F z_F`` (``X̃``: the followers at 0) and ``Γ_F D⁻¹ U = Cᵀ`` give
    ``z_F = D⁻¹(b − U (I + Cᵀ)⁻¹ Γ_F D⁻¹ b)``, ``b = −U X̃``. Each follower's cost is strictly convex in its own
    controls (``RFF_j ≻ 0``, ``QF_j ⪰ 0``), so this Nash point is their best response.
    """
    return H22_solve(P, -_U(P, P.states(P.split(xb)[0], np.zeros((len(xb), P.N, P.T, P.m)))))


def _U(P: FollowerPasses, X: np.ndarray) -> np.ndarray:
    """``U X``: the followers' gradients' state part for state trajectories ``X`` ``(b, T+1, n)``."""
    return 2 * P.gamma_T_followers(P.costate(P.weighted(X, *P.follower_Q())))


def H22_solve(P: FollowerPasses, r: np.ndarray) -> np.ndarray:
    """``H22⁻¹ r`` for ``r`` ``(b, N, T, m)`` in O(N): ``H22 = D + U Γ_F`` (block diagonal plus rank ≤ (T+1)n) and
    ``Γ_F D⁻¹ U = Cᵀ``, so by Woodbury ``H22⁻¹ r = D⁻¹r − D⁻¹U (I + Cᵀ)⁻¹ Γ_F D⁻¹r`` (two sweeps, one small solve)."""
    w = P.D_inv(r)
    q = np.linalg.solve(P.capacitance.T, P.simulate(0.0, P.follower_input(w)).reshape(len(r), -1).T).T
    return w - P.D_inv(_U(P, q.reshape(len(r), P.T + 1, P.nx)))
