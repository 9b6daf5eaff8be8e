"""Linear-quadratic game with one leader and N followers coupled only through the state: O(N) at any N.

Description:
    The ``lq`` game's open-loop view (:mod:`stackenv.games.lq`) for a leader above N simultaneous followers who
    interact only through the shared state — a follower's cost does not weigh another follower's control. The
    per-follower data are arrays with a leading follower axis (or one matrix shared by all), never an N × N
    table, and every field is evaluated in ``O(N)`` time and memory, so N = 10⁶ followers fit a laptop. For
    small N it is exactly ``make("lq", **game.dense_params())`` (tested), which also supplies the dense Hessians.

Players and roles:
    ``leader`` (level 0) and ``follower_0..follower_{N−1}`` (level 1, simultaneous; App. C.2).

Dynamics and costs (``disc_t = γ^t``; the ``lq`` game's with ``R_jk = 0`` between distinct followers):
    ``x_{t+1} = A x_t + B0 u_0[t] + Σ_j BF_j u_j[t] + w_t`` from ``x_0 = x0``;
    leader  ``f_0 = Σ_{t<T} disc_t (x_tᵀQ0 x_t + u_0ᵀR00 u_0 + Σ_j u_jᵀR0F_j u_j) + disc_T x_TᵀQT0 x_T + c_0``,
    follower ``f_j = Σ_{t<T} disc_t (x_tᵀQF_j x_t + u_0ᵀRF0_j u_0 + u_jᵀRFF_j u_j) + disc_T x_TᵀQTF_j x_T + c_j``
    (``c_i``: the expected cost the noise adds, as in ``lq``). Actions: each player's open-loop controls
    ``z_i = (u_i[0], …, u_i[T−1]) ∈ [−bound, bound]^{T m_i}``.

Fields in O(N) (``X = Φx0 + Σ_k Γ_k z_k`` the state trajectory, ``Q̄_i = diag(disc_t Q_i)`` with QT at t = T):
    ``∇_{z_j} f_i = 2Γ_jᵀQ̄_i X + 2R̄_ij z_j``; ``Γ_jᵀ y`` is ``(BF_jᵀ ν_{s+1})_s`` with the costate
    ``ν_t = y_t + Aᵀν_{t+1}`` — one backward pass, per follower only where the followers' ``Q`` differ.
    Followers' Jacobian ``H22 = D + UΓ_F``: ``D = blockdiag(2R̄FF_j)`` and ``U_j = 2Γ_jᵀQ̄F_j`` — block diagonal
    plus a rank ``≤ (T+1)n`` term (the followers meet only in the state). ``H21_j = U_jΓ_0`` and
    ``r = ∇_F f_0``. Woodbury on ``H22ᵀ = D + Γ_FᵀUᵀ`` gives

        ``Uᵀ H22⁻ᵀ r = (I + C)⁻¹ a``,  ``a = Σ_j U_jᵀ D_j⁻¹ r_j``,  ``C = Σ_j U_jᵀ D_j⁻¹ Γ_jᵀ``  (``(T+1)n`` square),

    (``Uᵀv = a − C(I + C)⁻¹a``), so ``Df_0 = ∇_0 f_0 − H21ᵀH22⁻ᵀ r = ∇_0 f_0 − Γ_0ᵀ (I + C)⁻¹ a``.
    ``U_jᵀ w = 2Q̄F_j Γ_j w`` is a forward simulation; ``C`` is built once from ``(T+1)n`` such passes, and
    ``I + C`` is singular exactly when ``H22`` is (``det H22 = det D · det(I + C)``). Needs every ``RFF_j ≻ 0``;
    with one shared ``QF ⪰ 0``, ``C = 2Q̄F Σ_j Γ_jD_j⁻¹Γ_jᵀ`` is a product of PSD matrices, its eigenvalues are ≥ 0
    and ``I + C`` is never singular.

Parameters:
    ``A`` (n×n), ``x0`` (n), ``horizon`` T, ``W`` (noise covariance, default 0), ``discount`` γ ∈ (0, 1],
    ``bound``; ``followers`` N ≥ 1; leader ``B0`` (n×m0), ``Q0``, ``QT0`` (default Q0), ``R00`` (m0×m0);
    per follower — one matrix shared by all, or N of them: ``BF`` (n×m), ``QF``, ``QTF`` (default QF), ``RFF``
    (m×m, positive definite), ``R0F`` (m×m, the leader's weight on that follower's control) and ``RF0``
    (m0×m0, the follower's weight on the leader's control).

Version history:
    v0: initial version.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from stackenv.games.base import Game, Player, as_float_array
from stackenv.games.lq_model import LQModel
from stackenv.games.lq_passes import FollowerPasses, shared_or_per_follower
from stackenv.games.quadratic import role_names
from stackenv.games.registry import make, register

#: Dense matrices (``hessian``, hence ``J``, ``J_S`` and the generic tools) come from the equivalent ``lq`` game,
#: whose construction holds N × N blocks: only up to this many followers.
DENSE_MAX_FOLLOWERS = 200
#: ``I + C`` counts as singular below this reciprocal condition number (as ``stackelberg.SINGULAR_RCOND``).
SINGULAR_RCOND = 1e-10

DEFAULTS: dict[str, Any] = {
    "A": [[0.9, 0.2], [0.0, 0.8]],
    "x0": [1.0, -1.0],
    "horizon": 4,
    "followers": 3,
    "B0": [[1.0], [0.0]],
    "BF": [[0.5], [1.0]],
    "Q0": [[1.0, 0.0], [0.0, 0.5]],
    "QF": [[0.5, 0.0], [0.0, 1.0]],
    "R00": [[1.0]],
    "RFF": [[2.0]],
    "R0F": [[0.2]],
    "RF0": [[0.0]],
    "QT0": None,
    "QTF": None,
    "W": None,
    "discount": 1.0,
    "bound": 10.0,
}


#: The leader + follower-0 ``LQModel`` that validates the common data: its parameter names → this game's.
_MODEL_NAMES = {
    **{f"{k}[0]": f"{k}0" for k in ("B", "Q", "QT")},
    **{f"{k}[1]": f"{k}F" for k in ("B", "Q", "QT")},
    **{"R[0][0]": "R00", "R[0][1]": "R0F", "R[1][0]": "RF0", "R[1][1]": "RFF"},
}


def _first(value: Any) -> Any:
    """Follower 0's matrix of a shared (2-D) or per-follower (3-D) parameter (``None`` stays ``None``)."""
    if value is None:
        return None
    arr = np.asarray(value, float)
    return arr[0] if arr.ndim == 3 else arr


@register
class LQFollowers(Game):
    """Open-loop LQ game: a leader above N followers coupled only through the state, with O(N) fields."""

    name = "lq_followers"
    defaults = DEFAULTS
    quadratic = True

    def __init__(
        self,
        A=DEFAULTS["A"],
        x0=DEFAULTS["x0"],
        horizon=4,
        followers=3,
        B0=DEFAULTS["B0"],
        BF=DEFAULTS["BF"],
        Q0=DEFAULTS["Q0"],
        QF=DEFAULTS["QF"],
        R00=DEFAULTS["R00"],
        RFF=DEFAULTS["RFF"],
        R0F=DEFAULTS["R0F"],
        RF0=DEFAULTS["RF0"],
        QT0=None,
        QTF=None,
        W=None,
        discount=1.0,
        bound=10.0,
    ):
        if isinstance(followers, bool) or not float(as_float_array(followers, "followers", ())).is_integer():
            raise ValueError(f"parameter 'followers' must be a positive integer, got {followers!r}")
        if int(followers) < 1:
            raise ValueError(f"parameter 'followers' must be a positive integer, got {followers!r}")
        self.N = N = int(followers)
        # the leader's and the common data are validated as the two-player LQ model "leader + follower 0"
        try:
            self.model = model = LQModel.build(
                A,
                [B0, _first(BF)],
                [Q0, _first(QF)],
                [[R00, _first(R0F)], [_first(RF0), _first(RFF)]],
                horizon,
                x0,
                W,
                None
                if QT0 is None and QTF is None
                else [Q0 if QT0 is None else QT0, _first(QF if QTF is None else QTF)],
                discount,
            )
        except ValueError as exc:  # name the parameters as this game calls them
            msg = str(exc)
            for old, new in _MODEL_NAMES.items():
                msg = msg.replace(f"'{old}'", f"'{new}'")
            raise ValueError(msg) from None
        n, T, (m0, m) = model.n, model.horizon, model.m
        per = lambda v, name, shape, sym=True: shared_or_per_follower(v, name, N, shape, sym)  # noqa: E731
        g = {  # as given (shared 2-D or per-follower 3-D): what params reports
            "BF": per(BF, "BF", (n, m), False),
            "QF": per(QF, "QF", (n, n)),
            "QTF": per(QF if QTF is None else QTF, "QTF", (n, n)),
            "RFF": per(RFF, "RFF", (m, m)),
            "R0F": per(R0F, "R0F", (m, m)),
            "RF0": per(RF0, "RF0", (m0, m0)),
        }
        if np.any(np.linalg.eigvalsh(g["RFF"])[..., 0] <= 0):
            raise ValueError("parameter 'RFF' (each follower's weight on its own control) must be positive definite")
        for key in ("QF", "QTF", "R0F", "RF0"):
            if np.any(np.linalg.eigvalsh(g[key])[..., 0] < -1e-12 * max(1.0, np.abs(g[key]).max())):
                raise ValueError(f"parameter {key!r} must hold positive semidefinite matrices")
        self.T, self.nx, self.m0, self.m = T, n, m0, m
        self.bound = float(as_float_array(bound, "bound", ()))
        if not self.bound > 0:
            raise ValueError(f"parameter 'bound' must be positive, got {self.bound}")
        leader = Player.box("leader", T * m0, -self.bound, self.bound)
        names = role_names([[0], list(range(1, N + 1))])
        follower = Player.box(names[1], T * m, -self.bound, self.bound)  # validated once; the others share it
        players = [leader, follower] + [replace(follower, name=nm) for nm in names[2:]]
        super().__init__(players, [[0], list(range(1, N + 1))])
        self.passes = FollowerPasses(model, N, g)

    @property
    def params(self):
        p = self.model.params()
        out = {k: p[k] for k in ("A", "x0", "horizon", "W", "discount")}
        out.update(
            followers=self.N, B0=self.passes.B0.tolist(), Q0=self.passes.Q0.tolist(), QT0=self.passes.QT0.tolist()
        )
        out.update(R00=self.passes.R00.tolist(), bound=self.bound)
        out.update({k: v.tolist() for k, v in self.passes.given.items()})
        return out

    def dense_params(self) -> dict[str, Any]:
        """The same game as parameters of ``make("lq", ...)`` (N × N cost weights: for small N only)."""
        N, zero = self.N, np.zeros((self.m, self.m))
        rows = [[self.passes.R00, *self.passes.R0F]]
        rows += [[self.passes.RF0[j]] + [self.passes.RFF[j] if k == j else zero for k in range(N)] for j in range(N)]
        follower_Q = [np.broadcast_to(self.passes.given[k], (N, self.nx, self.nx)) for k in ("QF", "QTF")]
        return {
            **{k: v for k, v in self.model.params().items() if k in ("A", "x0", "horizon", "W", "discount")},
            "B": [self.passes.B0.tolist()] + [b.tolist() for b in self.passes.BF],
            "Q": [self.passes.Q0.tolist()] + [q.tolist() for q in follower_Q[0]],
            "QT": [self.passes.QT0.tolist()] + [q.tolist() for q in follower_Q[1]],
            "R": [[r.tolist() for r in row] for row in rows],
            "bound": self.bound,
        }

    def _dense(self) -> Game:
        if self.N > DENSE_MAX_FOLLOWERS:
            raise ValueError(
                f"{self.name}: dense Hessians/Jacobians need N ≤ {DENSE_MAX_FOLLOWERS} followers (they are N × N), "
                f"got N = {self.N}; costs, omega and omega_S are O(N)"
            )
        if getattr(self, "_dense_game", None) is None:
            self._dense_game = make("lq", **self.dense_params())
        return self._dense_game

    def _fields(self, x: Any, stackelberg: bool, linear: bool = False) -> np.ndarray:
        """``ω`` or ``ω_S`` (module docstring) in O(N) per point; ``linear``: their linear part ``J x``/``J_S x``
        (the same sweeps from the state 0 instead of ``x0``: both fields are affine in the actions and in ``x0``)."""
        x = self.check_x(x)
        xb = x.reshape(-1, self.d)
        u0, uF = self.passes.split(xb)
        X = self.passes.states(u0, uF, linear)
        d0 = self.passes.disc[: self.T, None]
        nu0 = self.passes.costate(self.passes.weighted(X, self.passes.Q0, self.passes.QT0))  # the leader's costate
        om0 = 2 * d0 * (u0 @ self.passes.R00) + 2 * nu0[:, 1:] @ self.passes.B0
        out = np.empty_like(xb)
        omF = out[:, self.T * self.m0 :].reshape(uF.shape)  # written in place (no concatenation pass)
        nuF = 2 * self.passes.costate(self.passes.weighted(X, *self.passes.follower_Q()))  # small when Q is shared
        np.add(self.passes.times(uF, "RFF"), self.passes.gamma_T_followers(nuF), out=omF)
        if stackelberg:
            r = self.passes.times(uF, "R0F") + self.passes.gamma_T_followers(2 * nu0)  # ∇_F f_0
            w = self.passes.D_inv(r)
            sv = np.linalg.svd(self.passes.capacitance, compute_uv=False)
            if sv[-1] <= SINGULAR_RCOND * sv[0]:
                raise ValueError(f"{self.name}: the followers' Jacobian H22 is singular; their response is undefined")
            p = np.linalg.solve(self.passes.capacitance, self.passes.U_T(w).reshape(len(xb), -1).T).T  # (I + C)⁻¹ a
            om0 = om0 - self.passes.costate(p.reshape(X.shape))[:, 1:] @ self.passes.B0  # − Γ_0ᵀ (I + C)⁻¹ a
        out[:, : self.T * self.m0] = om0.reshape(len(xb), -1)
        return out.reshape(x.shape)

    def response(self, x, k: int = 0, iters: int = 100, tol: float = 1e-12):
        """The followers' Nash response to the leader's controls (``k = 0``) in O(N), by Woodbury.

        ``ω_F = D z_F + U X = 0`` with ``X = X̃ + Γ_F z_F`` (``X̃``: the followers at 0) and ``Γ_F D⁻¹ U = Cᵀ`` give
        ``z_F = D⁻¹(b − U (I + Cᵀ)⁻¹ Γ_F D⁻¹ b)``, ``b = −U X̃``. Each follower's cost is strictly convex in its
        own controls (``RFF_j ≻ 0``, ``QF_j ⪰ 0``), so this Nash point is their best response.
        """
        x = self.check_x(x).copy()
        if self.check_level(k) >= 1:
            return x
        P, xb = self.passes, x.reshape(-1, self.d)
        Q = P.follower_Q()

        def U(X: np.ndarray) -> np.ndarray:
            return 2 * P.gamma_T_followers(P.costate(P.weighted(X, *Q)))

        w = P.D_inv(-U(P.states(P.split(xb)[0], np.zeros((len(xb), self.N, self.T, self.m)))))  # D⁻¹ b
        q = np.linalg.solve(P.capacitance.T, P.simulate(0.0, P.follower_input(w)).reshape(len(xb), -1).T).T
        zF = w - P.D_inv(U(q.reshape(len(xb), self.T + 1, self.nx)))
        xb[:, self.T * self.m0 :] = zF.reshape(len(xb), -1)
        return x

    # ------------------------------------------------------------------ the Game interface
    def omega(self, x):
        return self._fields(x, stackelberg=False)

    def omega_S(self, x):
        return self._fields(x, stackelberg=True)

    def jacobian_product(self, x, u):
        """``J u`` exactly in one O(N) sweep: ``ω``'s linear part at ``u`` (``J`` is constant)."""
        self.check_x(x)
        return self._fields(np.broadcast_to(u, np.broadcast_shapes(np.shape(u), np.shape(x))), False, linear=True)

    def costs(self, x):
        x = self.check_x(x)
        xb, P = x.reshape(-1, self.d), self.passes
        u0, uF = P.split(xb)
        X = P.states(u0, uF)
        T, disc = self.T, P.disc
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
        return (np.concatenate([f0[:, None], fF], axis=1) + P.c).reshape(x.shape[:-1] + (self.N + 1,))

    def grad(self, i, x):
        """``∇_x f_i`` (all players' controls) in O(N): one costate pass with player i's state weights."""
        i, x = self.check_player(i), self.check_x(x)
        xb = x.reshape(-1, self.d)
        u0, uF = self.passes.split(xb)
        X = self.passes.states(u0, uF)
        if i == 0:
            Q, QT, R_lead = self.passes.Q0, self.passes.QT0, self.passes.R00
        else:
            QF, QTF = self.passes.follower_Q()
            Q, QT = (QF, QTF) if self.passes.shared_Q else (QF[i - 1], QTF[i - 1])
            R_lead = self.passes.RF0[i - 1]
        nu = self.passes.costate(self.passes.weighted(X, Q, QT))
        g0 = 2 * self.passes.disc[: self.T, None] * (u0 @ R_lead) + 2 * nu[:, 1:] @ self.passes.B0
        gF = 2 * self.passes.gamma_T_followers(nu)
        if i == 0:
            gF = gF + self.passes.times(uF, "R0F")
        else:
            gF = np.array(gF)  # writable (a broadcast view when BF is shared)
            gF[:, i - 1] += 2 * self.passes.disc[: self.T, None] * (uF[:, i - 1] @ self.passes.RFF[i - 1])
        return np.concatenate([g0.reshape(len(xb), -1), gF.reshape(len(xb), -1)], axis=1).reshape(x.shape)

    def hessian(self, i, x):
        """Dense ``∇²_x f_i`` from the equivalent ``lq`` game (small N only, :data:`DENSE_MAX_FOLLOWERS`)."""
        i, x = self.check_player(i), self.check_x(x)
        return self._dense().hessian(i, x)

    def jacobian(self, x):
        return self._dense().jacobian(self.check_x(x))

    def jacobian_S(self, x):
        return self._dense().jacobian_S(self.check_x(x))

    def controls(self, x: np.ndarray) -> list[np.ndarray]:
        """Per-player control sequences ``(…, T, m_i)`` (a list of N + 1 views: for small N)."""
        x = self.check_x(x)
        return [xi.reshape(xi.shape[:-1] + (self.T, dim // self.T)) for xi, dim in zip(self.split(x), self.dims)]
