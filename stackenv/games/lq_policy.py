"""Policy space of an LQ game as a continuous game: stationary linear gains as actions, exact expected costs.

Description:
    Every learner and equilibrium tool of the suite applies to the LQ dynamic game (:mod:`stackenv.games.lq`)
    once a player's action is a *policy*: a stationary gain ``K_i`` (``u_i = −K_i x``). Gradient play in this
    game is policy-gradient play in the LQ game; the hierarchical leader commits to a whole policy.

Players and roles:
    ``leader`` and ``follower`` (or ``follower_0..``; the followers play Nash among themselves, App. C.2).

Actions and bounds:
    ``x_i = vec(K_i)`` (row-major ``m_i × n``), in the box ``[low, high]`` (scalars or one value per coordinate).
    Only gains with a stable closed loop ``√γ F``, ``F = A − Σ_j B_j K_j``, have finite cost: elsewhere every
    method raises :class:`UnstableError` naming the spectral radius (a termination with a reason, never a NaN).

Costs (infinite horizon, discount γ):
    ``f_i(K) = E Σ_t γ^t (x_tᵀQ_i x_t + Σ_j u_jᵀR_ij u_j) = tr(Q̃_i X)``, ``Q̃_i = Q_i + Σ_j K_jᵀR_ij K_j``, where
    ``X`` solves the discrete Lyapunov equation ``X = Σ + γ F X Fᵀ`` with ``Σ = x0x0ᵀ + X0 + γ/(1−γ) W``
    (``x0`` the initial state, ``X0`` its covariance; ``W = 0`` is required when γ = 1).
    Equivalently ``f_i = tr(P_i Σ)`` with ``P_i = Q̃_i + γFᵀP_iF`` (the stationary value matrix of
    :mod:`stackenv.games.lq_solve`).

Derivatives (exact; Lyapunov sensitivity):
    Perturb ``K`` along directions ``a, b, c``; ``F`` is affine and ``Q̃_i`` quadratic in ``K``. Differentiating
    the Lyapunov equation, the derivative ``X_S`` for a set ``S ⊆ {a, b, c}`` of directions solves
    ``X_S − γ F X_S Fᵀ = γ Σ F_p X_s F_qᵀ`` over disjoint ``p ∪ s ∪ q = S`` with ``s ≠ S``, ``|p|, |q| ≤ 1``
    (``F_∅ = F``, ``F_a = −Σ_j B_j a_j``), and ``∂_S f_i = Σ_{s ⊆ S} tr(Q̃_{i,S∖s} X_s)``. One routine
    (:meth:`LQPolicyGame.jets`) thus gives the gradient (``|S| = 1``, the classic
    ``∇_{K_j} f_i = 2(R_ij K_j − γB_jᵀP_iF)X``), the Hessian (``|S| = 2``) and the third derivatives that
    ``J_S`` needs (``|S| = 3``).

Equilibria:
    With ``Σ ≻ 0`` the Nash equilibrium of this game is the stationary feedback Nash equilibrium (each player's
    best response to fixed gains is an LQR problem, whose optimal gain does not depend on ``Σ``). The
    Stackelberg equilibrium here — the leader commits to a policy, the follower best-responds with a policy —
    depends on ``Σ`` and in general differs from the feedback Stackelberg equilibrium (the leader leads at
    every stage): two legitimate, different concepts. :meth:`feedback` computes the stationary feedback ones.

Parameters:
    ``A``, ``B``, ``Q``, ``R``, ``W`` as in ``lq``; ``x0`` (n), ``X0`` (n×n covariance of x0, default 0),
    ``discount`` γ (default 0.9), ``low``/``high`` (gain box). Defaults: a scalar state ``x⁺ = x + u_0 + u_1 + w``.

Version history:
    v0: initial version.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import block_diag

from stackenv.games import lq_solve
from stackenv.games.base import Game, Player, as_float_array
from stackenv.games.lq_model import LQModel, covariance
from stackenv.games.registry import register

DEFAULTS = {
    "A": [[1.0]],
    "B": [[[1.0]], [[1.0]]],
    "Q": [[[1.0]], [[0.5]]],
    "R": [[[[1.0]], [[0.0]]], [[[0.0]], [[1.0]]]],
    "x0": [1.0],
    "X0": None,
    "W": [[0.1]],
    "discount": 0.9,
    "low": 0.0,
    "high": 1.0,
}


class UnstableError(ValueError):
    """The closed loop ``√γ F`` of some gain is not stable: the expected cost is infinite."""


@register
class LQPolicyGame(Game):
    """Stationary linear gains of an LQ game as actions; costs are the exact expected costs (Lyapunov)."""

    name = "lq_policy"
    defaults = DEFAULTS

    def __init__(self, A=DEFAULTS["A"], B=DEFAULTS["B"], Q=DEFAULTS["Q"], R=DEFAULTS["R"], x0=DEFAULTS["x0"],
                 X0=None, W=DEFAULTS["W"], discount=0.9, low=0.0, high=1.0):  # fmt: skip
        self.model = model = LQModel.build(A, B, Q, R, 1, x0, W, None, discount)
        n, g = model.n, model.discount
        if g == 1 and np.any(model.W != 0):
            raise ValueError("lq_policy: with discount 1 the noise W must be 0 (the expected cost is infinite)")
        self.X0 = covariance(X0, "X0", n)
        self.Sigma = np.outer(model.x0, model.x0) + self.X0 + (g / (1 - g) * model.W if g < 1 else 0.0)
        dims = [m * n for m in model.m]
        d = sum(dims)
        lo = np.broadcast_to(as_float_array(low, "low"), (d,)).copy()
        hi = np.broadcast_to(as_float_array(high, "high"), (d,)).copy()
        off = np.concatenate([[0], np.cumsum(dims)])
        players = [Player.box(nm, k, lo[a:b], hi[a:b]) for nm, k, a, b in zip(model.names, dims, off, off[1:])]
        super().__init__(players, [[0], list(range(1, model.N))])
        self._B = np.hstack(model.B)  # [B_0 … B_{N−1}], (n, Σm_i)
        self._Rbar = np.stack([block_diag(*row) for row in model.R])  # R̄_i = blockdiag_j R_ij, (N, Σm_i, Σm_i)
        self._memo: dict = {}

    @property
    def params(self):
        p = self.model.params()
        p = {k: p[k] for k in ("A", "B", "Q", "R", "x0", "W", "discount")}
        return {**p, "X0": self.X0.tolist(), "low": self.low.tolist(), "high": self.high.tolist()}

    # ------------------------------------------------------------------ gains
    def gains(self, x: np.ndarray) -> list[np.ndarray]:
        """Per-player gains ``K_i`` of shape ``(..., m_i, n)`` from a joint action."""
        x = np.asarray(x, float)
        return [xi.reshape(xi.shape[:-1] + (m, self.model.n)) for xi, m in zip(self.split(x), self.model.m)]

    def closed_loop(self, x: np.ndarray) -> np.ndarray:
        """``F = A − Σ_j B_j K_j``, shape ``(..., n, n)``."""
        return self.model.A - sum(b @ k for b, k in zip(self.model.B, self.gains(x)))

    def spectral_radius(self, x: np.ndarray) -> np.ndarray:
        """``ρ(√γ F)`` per joint action (``< 1``: finite cost)."""
        F = self.closed_loop(self.check_x(x))
        return np.sqrt(self.model.discount) * np.abs(np.linalg.eigvals(F)).max(axis=-1)

    def as_action(self, K: list[np.ndarray]) -> np.ndarray:
        """The joint action ``(vec K_0, vec K_1, ...)`` of per-player gains."""
        return np.concatenate([np.asarray(k, float).reshape(np.shape(k)[:-2] + (-1,)) for k in K], axis=-1)

    def feedback(self, concept: lq_solve.Concept) -> np.ndarray:
        """The stationary feedback equilibrium ``concept`` as a joint action (:func:`lq_solve.stationary`)."""
        return self.as_action(lq_solve.stationary(self.model, concept).gains)

    # ------------------------------------------------------------------ jets of the Lyapunov solution
    def jets(self, x: np.ndarray, dirs: list[np.ndarray]) -> dict[int, np.ndarray]:
        """Directional derivatives ``∂_S f`` of every cost for every subset S of ``dirs`` (≤ 3 directions).

        ``x`` ``(..., d)`` and each direction (broadcastable to it) are joint actions; returns a dict from the
        bitmask of S to an array ``(..., N)``: ``{0: costs, 1: ∂_a f, 3: ∂_a∂_b f, 7: ∂_a∂_b∂_c f, ...}``.
        """
        rho = self.spectral_radius(x)
        if np.any(rho >= 1):
            raise UnstableError(
                f"{self.name}: closed loop unstable at {int(np.sum(rho >= 1))} point(s) (ρ(√γ F) up to "
                f"{float(rho.max()):.6g} ≥ 1): the expected cost is infinite"
            )
        return cost_jets(self.model, self.Sigma, self._B, self._Rbar, x, dirs)

    def _derivative(self, x: np.ndarray, order: int, u: np.ndarray | None = None) -> np.ndarray:
        """All players' gradient ``(..., N, d)`` (order 1) or Hessian ``(..., N, d, d)`` (order 2, or the third
        derivative along ``u`` with ``u`` given)."""
        key = (x.shape, x.tobytes(), None if u is None else u.tobytes())
        slot = (order, u is None)
        if self._memo.get(slot, (None,))[0] != key:  # grad(i)/hessian(i) of all players at one x: one evaluation
            self._memo[slot] = (key, self._derivative_uncached(x, order, u))
        return self._memo[slot][1]

    def _derivative_uncached(self, x: np.ndarray, order: int, u: np.ndarray | None) -> np.ndarray:
        lead = x.ndim - 1
        E = np.eye(self.d)
        if order == 1:
            r = self.jets(x[None], [E.reshape((self.d,) + (1,) * lead + (self.d,))])[1]
            return np.moveaxis(r, 0, -1)
        Ea = E.reshape((self.d, 1) + (1,) * lead + (self.d,))
        Eb = E.reshape((1, self.d) + (1,) * lead + (self.d,))
        dirs = [Ea, Eb] if u is None else [Ea, Eb, u]
        r = self.jets(x[None, None], dirs)[(1 << len(dirs)) - 1]
        return np.moveaxis(r, (0, 1), (-2, -1))

    # ------------------------------------------------------------------ the Game interface
    def costs(self, x):
        return self.jets(self.check_x(x), [])[0]

    def grad(self, i, x):
        i, x = self.check_player(i), self.check_x(x)
        return self._derivative(x, 1)[..., i, :]

    def hessian(self, i, x):
        i, x = self.check_player(i), self.check_x(x)
        H = self._derivative(x, 2)[..., i, :, :]
        return (H + np.swapaxes(H, -1, -2)) / 2

    def dhessian(self, i, x, u):
        i, x = self.check_player(i), self.check_x(x)
        u = np.broadcast_to(np.asarray(u, float), x.shape)
        return self._derivative(x, 2, u)[..., i, :, :]

    def omega(self, x):
        grads = self._derivative(self.check_x(x), 1)
        return np.concatenate([grads[..., i, s] for i, s in enumerate(self.slices)], axis=-1)

    def jacobian(self, x):
        H = self._derivative(self.check_x(x), 2)
        return np.concatenate([H[..., i, s, :] for i, s in enumerate(self.slices)], axis=-2)


def cost_jets(
    mdl: LQModel, Sigma: np.ndarray, B: np.ndarray, Rbar: np.ndarray, x: np.ndarray, dirs: list[np.ndarray]
) -> dict[int, np.ndarray]:
    """``∂_S f`` of every cost for every subset S of ``dirs`` at the gains ``x`` (:meth:`LQPolicyGame.jets`).

    The Lyapunov sensitivity recursion of the module docstring, for a stable closed loop. ``B`` is
    ``[B_0 … B_{N−1}]`` ``(n, Σm_i)`` and ``Rbar`` the stacked ``R̄_i = blockdiag_j R_ij`` ``(N, Σm_i, Σm_i)``.
    """
    g = mdl.discount
    n, k = mdl.n, len(dirs)
    K = x.reshape(x.shape[:-1] + (-1, n))  # the stacked gains (K_0; K_1; ...), (..., Σm_i, n)
    F = mdl.A - B @ K
    kron = np.einsum("...ab,...cd->...acbd", F, F).reshape(F.shape[:-2] + (n * n, n * n))
    L_inv = np.linalg.inv(np.eye(n * n) - g * kron)  # vec(X − γFXFᵀ) = (I − γ F⊗F) vec X

    def lyap(rhs):  # solve X − γ F X Fᵀ = rhs
        return (L_inv @ rhs.reshape(rhs.shape[:-2] + (n * n, 1))).reshape(rhs.shape)

    dK = {1 << e: np.reshape(u, np.shape(u)[:-1] + (-1, n)) for e, u in enumerate(dirs)}
    dF = {e: -B @ v for e, v in dK.items()}
    dF[0], dK[0] = F, K

    def Qt(mask):  # derivative of every Q̃_i = Q_i + Kᵀ R̄_i K along the directions in mask, (..., N, n, n)
        bits = [1 << e for e in range(k) if mask >> e & 1]
        if len(bits) > 2:
            return None
        a, b = (bits + [0, 0])[:2]  # (0, 0): Q̃ itself; (a, 0): first derivative; (a, b): second
        out = np.einsum("...ma,imk,...kb->...iab", dK[a], Rbar, dK[b])
        return mdl.Q + out if not bits else out + np.swapaxes(out, -1, -2)

    X = {0: lyap(np.broadcast_to(Sigma, F.shape))}
    Qts, out = {}, {}
    for mask in sorted(range(1 << k), key=lambda s: bin(s).count("1")):
        if mask:
            singles = [0] + [1 << e for e in range(k) if mask >> e & 1]
            rhs = sum(
                dF[p] @ X[mask & ~p & ~q] @ _T(dF[q])
                for p in singles
                for q in singles
                if not (p & q) and (p or q)  # disjoint, and not the unknown X_S itself
            )
            X[mask] = lyap(g * rhs)
        Qts[mask] = Qt(mask)
        subs = [s for s in range(mask + 1) if s & mask == s and Qts[mask ^ s] is not None]
        out[mask] = sum(np.einsum("...iab,...ba->...i", Qts[mask ^ s], X[s]) for s in subs)
    return out


def _T(M: np.ndarray) -> np.ndarray:
    return np.swapaxes(M, -1, -2)
