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

from stackenv.games import lq_passes
from stackenv.games.base import Game, Player, as_float_array
from stackenv.games.lq_model import LQModel
from stackenv.games.lq_passes import FollowerPasses, shared_or_per_follower
from stackenv.games.quadratic import role_names
from stackenv.games.registry import make, register
from stackenv.games.stackelberg import SINGULAR_RCOND  # noqa: F401  ``I + C`` counts as singular below it

#: Dense matrices (``hessian``, hence ``J``, ``J_S`` and the generic tools) come from the equivalent ``lq`` game,
#: whose construction holds N × N blocks: only up to this many followers.
DENSE_MAX_FOLLOWERS = 200

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
#: The ``LQModel`` parameters that ``params`` and ``dense_params`` pass on unchanged.
_COMMON = ("A", "x0", "horizon", "W", "discount")


def _first(value: Any) -> Any:
    """Follower 0's matrix of a shared (2-D) or per-follower (3-D) parameter (``None`` stays ``None``)."""
    if value is None:
        return None
    arr = np.asarray(value, float)
    return arr[0] if arr.ndim == 3 else arr


def follower_passes(
    *, A, x0, horizon, followers, B0, BF, Q0, QF, R00, RFF, R0F, RF0, QT0, QTF, W, discount
) -> FollowerPasses:
    """Validate the game's parameters but ``bound`` (``ValueError`` naming the bad one) and build its O(N) passes.

    The leader's and the common data are validated as the two-player LQ model "leader + follower 0"; each
    follower parameter is kept as given, one shared matrix (2-D) or one per follower (3-D).
    """
    if isinstance(followers, bool) or not float(as_float_array(followers, "followers", ())).is_integer():
        raise ValueError(f"parameter 'followers' must be a positive integer, got {followers!r}")
    if int(followers) < 1:
        raise ValueError(f"parameter 'followers' must be a positive integer, got {followers!r}")
    N = int(followers)
    try:
        QT = None if QT0 is None and QTF is None else [Q0 if QT0 is None else QT0, _first(QF if QTF is None else QTF)]
        R = [[R00, _first(R0F)], [_first(RF0), _first(RFF)]]
        model = LQModel.build(A, [B0, _first(BF)], [Q0, _first(QF)], R, horizon, x0, W, QT, discount)
    except ValueError as exc:  # name the parameters as this game calls them
        msg = str(exc)
        for old, new in _MODEL_NAMES.items():
            msg = msg.replace(f"'{old}'", f"'{new}'")
        raise ValueError(msg) from None
    n, (m0, m) = model.n, model.m
    per = lambda v, name, shape, sym=True: shared_or_per_follower(v, name, N, shape, sym)  # noqa: E731
    given = {  # as given (shared 2-D or per-follower 3-D): what params reports
        "BF": per(BF, "BF", (n, m), False),
        "QF": per(QF, "QF", (n, n)),
        "QTF": per(QF if QTF is None else QTF, "QTF", (n, n)),
        "RFF": per(RFF, "RFF", (m, m)),
        "R0F": per(R0F, "R0F", (m, m)),
        "RF0": per(RF0, "RF0", (m0, m0)),
    }
    if np.any(np.linalg.eigvalsh(given["RFF"])[..., 0] <= 0):
        raise ValueError("parameter 'RFF' (each follower's weight on its own control) must be positive definite")
    for key in ("QF", "QTF", "R0F", "RF0"):
        if np.any(np.linalg.eigvalsh(given[key])[..., 0] < -1e-12 * max(1.0, np.abs(given[key]).max())):
            raise ValueError(f"parameter {key!r} must hold positive semidefinite matrices")
    return FollowerPasses(model, N, given)


def dense_lq_params(P: FollowerPasses, bound: float) -> dict[str, Any]:
    """The game of passes ``P`` as parameters of ``make("lq", ...)`` (N × N cost weights: for small N only)."""
    N, zero = P.N, np.zeros((P.m, P.m))
    rows = [[P.R00, *P.R0F]]
    rows += [[P.RF0[j]] + [P.RFF[j] if k == j else zero for k in range(N)] for j in range(N)]
    follower_Q = [np.broadcast_to(P.given[k], (N, P.nx, P.nx)) for k in ("QF", "QTF")]
    return {
        **{k: v for k, v in P.model.params().items() if k in _COMMON},
        "B": [P.B0.tolist()] + [b.tolist() for b in P.BF],
        "Q": [P.Q0.tolist()] + [q.tolist() for q in follower_Q[0]],
        "QT": [P.QT0.tolist()] + [q.tolist() for q in follower_Q[1]],
        "R": [[r.tolist() for r in row] for row in rows],
        "bound": bound,
    }


@register
class LQFollowers(Game):
    """Open-loop LQ game: a leader above N followers coupled only through the state, with O(N) fields.

    The arrays and sweeps are a :class:`~stackenv.games.lq_passes.FollowerPasses` (``passes``); each field is one
    call of a :mod:`~stackenv.games.lq_passes` function on the checked actions, reshaped as a batch ``(b, d)``.
    """

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
        self.passes = P = follower_passes(
            A=A,
            x0=x0,
            horizon=horizon,
            followers=followers,
            B0=B0,
            BF=BF,
            Q0=Q0,
            QF=QF,
            R00=R00,
            RFF=RFF,
            R0F=R0F,
            RF0=RF0,
            QT0=QT0,
            QTF=QTF,
            W=W,
            discount=discount,
        )
        self.model, self.N, self.T, self.nx, self.m0, self.m = P.model, P.N, P.T, P.nx, P.m0, P.m
        self.bound = float(as_float_array(bound, "bound", ()))
        if not self.bound > 0:
            raise ValueError(f"parameter 'bound' must be positive, got {self.bound}")
        leader = Player.box("leader", self.T * self.m0, -self.bound, self.bound)
        names = role_names([[0], list(range(1, self.N + 1))])
        follower = Player.box(names[1], self.T * self.m, -self.bound, self.bound)  # validated once; others share it
        players = [leader, follower] + [replace(follower, name=nm) for nm in names[2:]]
        super().__init__(players, [[0], list(range(1, self.N + 1))])

    @property
    def params(self):
        P, p = self.passes, self.model.params()
        out = {k: p[k] for k in _COMMON}
        out.update(followers=self.N, B0=P.B0.tolist(), Q0=P.Q0.tolist(), QT0=P.QT0.tolist())
        out.update(R00=P.R00.tolist(), bound=self.bound)
        out.update({k: v.tolist() for k, v in P.given.items()})
        return out

    def dense_params(self) -> dict[str, Any]:
        """The same game as parameters of ``make("lq", ...)`` (N × N cost weights: for small N only)."""
        return dense_lq_params(self.passes, self.bound)

    def _dense(self) -> Game:
        if self.N > DENSE_MAX_FOLLOWERS:
            raise ValueError(
                f"{self.name}: dense Hessians/Jacobians need N ≤ {DENSE_MAX_FOLLOWERS} followers (they are N × N), "
                f"got N = {self.N}; costs, omega and omega_S are O(N)"
            )
        if getattr(self, "_dense_game", None) is None:
            self._dense_game = make("lq", **self.dense_params())
        return self._dense_game

    def _batch(self, x: Any) -> tuple[np.ndarray, np.ndarray]:
        """The checked actions and their ``(b, d)`` view."""
        x = self.check_x(x)
        return x, x.reshape(-1, self.d)

    def response(self, x, k: int = 0, iters: int = 100, tol: float = 1e-12):
        """The followers' Nash response to the leader's controls (``k = 0``) in O(N), by Woodbury
        (:func:`~stackenv.games.lq_passes.follower_response`); ``k ≥ 1`` leaves ``x`` as it is (no level below)."""
        x = self.check_x(x).copy()
        if self.check_level(k) >= 1:
            return x
        xb = x.reshape(-1, self.d)
        xb[:, self.T * self.m0 :] = lq_passes.follower_response(self.passes, xb).reshape(len(xb), -1)
        return x

    # ------------------------------------------------------------------ the Game interface
    def omega(self, x):
        x, xb = self._batch(x)
        return lq_passes.fields(self.passes, xb, stackelberg=False).reshape(x.shape)

    def omega_S(self, x):
        x, xb = self._batch(x)
        return lq_passes.fields(self.passes, xb, stackelberg=True).reshape(x.shape)

    def lower_solve(self, x, level, rhs, rtol=1e-10, maxiter=50):
        """``H22⁻¹ rhs`` for the followers (``level = 0``) by Woodbury (:func:`~stackenv.games.lq_passes.H22_solve`):
        exact and O(N), so the generic GMRES tolerances are not needed."""
        self.check_x(x)
        self.check_level(level)
        rhs = np.asarray(rhs, dtype=float)
        if level >= 1 or rhs.shape[-1] == 0:  # nothing below the followers
            return rhs.copy(), np.ones(rhs.shape[:-1], bool)
        r = rhs.reshape(-1, self.N, self.T, self.m)
        return lq_passes.H22_solve(self.passes, r).reshape(rhs.shape), np.ones(rhs.shape[:-1], bool)

    def jacobian_product(self, x, u):
        """``J u`` exactly in one O(N) sweep: ``ω``'s linear part at ``u`` (``J`` is constant)."""
        self.check_x(x)
        u, ub = self._batch(np.broadcast_to(u, np.broadcast_shapes(np.shape(u), np.shape(x))))
        return lq_passes.fields(self.passes, ub, stackelberg=False, linear=True).reshape(u.shape)

    def costs(self, x):
        x, xb = self._batch(x)
        return lq_passes.costs(self.passes, xb).reshape(x.shape[:-1] + (self.N + 1,))

    def grad(self, i, x):
        """``∇_x f_i`` (all players' controls) in O(N): one costate pass with player i's state weights."""
        i, (x, xb) = self.check_player(i), self._batch(x)
        return lq_passes.grad(self.passes, i, xb).reshape(x.shape)

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
