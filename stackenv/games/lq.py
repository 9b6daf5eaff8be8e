"""Linear-quadratic dynamic game with state: one leader, one or N simultaneous followers, horizon T.

Description:
    The dynamic game every RL/control study of leader–follower learning starts from (Başar & Olsder ch. 6–7):
    a shared linear state driven by every player's control, quadratic costs. Its exact feedback Nash and
    feedback Stackelberg solutions (time-varying linear gains by backward recursion) are in
    :mod:`stackenv.games.lq_solve`; ``stackenv equilibria lq`` prints them. The ``lq_v0`` env plays it with
    state, and :mod:`stackenv.games.lq_policy` is its policy-space game (stationary gains as actions).

Players and roles:
    ``leader`` (player 0) and ``follower`` (two players) or ``follower_0..follower_{N−2}``: the followers play
    a Nash game among themselves (App. C.2).

Dynamics and costs (:mod:`stackenv.games.lq_model`):
    ``x_{t+1} = A x_t + Σ_i B_i u_i + w_t``, ``w_t ~ N(0, W)``; player i pays
    ``Σ_{t<T} γ^t (x_tᵀQ_i x_t + Σ_j u_jᵀR_ij u_j) + γ^T x_TᵀQ_i^T x_T``.

Actions and bounds (this class, the static view of the game that every generic tool uses):
    Player i's action is its whole *open-loop* control sequence ``(u_i[0], ..., u_i[T−1]) ∈ [−bound, bound]^{T m_i}``
    from the known ``x0``. Stacking the states ``X = Φ x0 + Γ z`` (``z`` the joint action,
    ``Γ[t, (j, s)] = A^{t−1−s} B_j`` for ``s < t``), each expected cost is a quadratic
    ``f_i(z) = ½ zᵀ H_i z + g_iᵀ z + c_i`` with ``H_i = 2(ΓᵀQ̄_iΓ + R̄_i)``, ``g_i = 2ΓᵀQ̄_iΦx0`` and
    ``c_i = x0ᵀΦᵀQ̄_iΦx0 + Σ_t tr(Q̄_i[t] Σ_t)`` (``Σ_t`` the state covariance the noise adds). So the generic
    ``nash_equilibria`` / ``stackelberg_equilibria`` of this game are the **open-loop** Nash and Stackelberg
    equilibria — a third concept beside the two feedback ones (``stackenv equilibria lq`` reports all of them).

Parameters:
    ``A`` (n×n), ``B`` (list of n×m_i), ``Q`` (list of n×n), ``R`` (nested list, ``R[i][j]`` m_j×m_j),
    ``horizon`` T, ``x0`` (n), ``W`` (n×n noise covariance, default 0), ``QT`` (terminal weights, default Q),
    ``discount`` γ ∈ (0, 1] (default 1), ``bound`` (box half-width of the open-loop controls, default 10).

Version history:
    v0: initial version.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import block_diag

from stackenv.games import lq_solve
from stackenv.games.lq_model import LQModel
from stackenv.games.quadratic import QuadraticBase
from stackenv.games.registry import register

DEFAULTS = {
    "A": [[0.9, 0.2], [0.0, 0.8]],
    "B": [[[1.0], [0.0]], [[0.5], [1.0]]],
    "Q": [[[1.0, 0.0], [0.0, 0.5]], [[0.5, 0.0], [0.0, 1.0]]],
    "R": [[[[1.0]], [[0.2]]], [[[0.0]], [[2.0]]]],
    "horizon": 5,
    "x0": [1.0, -1.0],
    "W": None,
    "QT": None,
    "discount": 1.0,
    "bound": 10.0,
}


def open_loop_matrices(model: LQModel) -> tuple[np.ndarray, np.ndarray]:
    """``(Φ, Γ)`` with the stacked states ``X = Φ x0 + Γ z``: ``Φ`` ``((T+1)n, n)``, ``Γ`` ``((T+1)n, d)``."""
    T, n = model.horizon, model.n
    powers = [np.eye(n)]
    for _ in range(T):
        powers.append(model.A @ powers[-1])
    Phi = np.vstack(powers)
    cols = []
    for b in model.B:
        for s in range(T):
            for a in range(b.shape[1]):  # column of u_j[s][a]
                col = np.zeros((T + 1, n))
                for t in range(s + 1, T + 1):
                    col[t] = powers[t - 1 - s] @ b[:, a]
                cols.append(col.ravel())
    return Phi, np.stack(cols, axis=1)


@register
class LQGame(QuadraticBase):
    """Linear-quadratic dynamic game: the open-loop static view, with its exact feedback solutions attached."""

    name = "lq"
    defaults = DEFAULTS

    def __init__(
        self,
        A=DEFAULTS["A"],
        B=DEFAULTS["B"],
        Q=DEFAULTS["Q"],
        R=DEFAULTS["R"],
        horizon=5,
        x0=DEFAULTS["x0"],
        W=None,
        QT=None,
        discount=1.0,
        bound=10.0,
    ):
        self.model = model = LQModel.build(A, B, Q, R, horizon, x0, W, QT, discount)
        T, n, N = model.horizon, model.n, model.N
        players = self._box_players(model.names, [T * m for m in model.m], bound)
        Phi, Gamma = open_loop_matrices(model)
        disc = model.discount ** np.arange(T + 1)
        # Σ_t: state covariance added by the noise, Σ_{t+1} = A Σ_t Aᵀ + W
        Sig = np.zeros((T + 1, n, n))
        for t in range(T):
            Sig[t + 1] = model.A @ Sig[t] @ model.A.T + model.W
        H, g, c = [], [], []
        for i in range(N):
            Qs = [model.Q[i]] * T + [model.QT[i]]
            Qbar = block_diag(*[d * q for d, q in zip(disc, Qs)])
            Rbar = block_diag(*[np.kron(np.diag(disc[:T]), model.R[i][j]) for j in range(N)])
            H.append(2 * (Gamma.T @ Qbar @ Gamma + Rbar))
            g.append(2 * Gamma.T @ Qbar @ Phi @ model.x0)
            noise = sum(d * np.trace(q @ s) for d, q, s in zip(disc, Qs, Sig))
            c.append(model.x0 @ Phi.T @ Qbar @ Phi @ model.x0 + noise)
        self.c = np.array(c)
        H = np.stack(H)
        self._init_quadratic(players, [[0], list(range(1, N))], (H + np.swapaxes(H, 1, 2)) / 2, np.stack(g))

    @property
    def params(self):
        return {**self.model.params(), "bound": self.bound}

    def costs(self, x):
        """Expected costs of the open-loop controls ``x``, shape ``(..., N)`` (noise adds the constant ``c_i``)."""
        return super().costs(x) + self.c

    def controls(self, x: np.ndarray) -> list[np.ndarray]:
        """Per-player control sequences ``u_i``, shape ``(..., T, m_i)``, from a joint action."""
        x = self.check_x(x)
        return [xi.reshape(xi.shape[:-1] + (self.model.horizon, m)) for xi, m in zip(self.split(x), self.model.m)]

    def feedback_nash(self) -> lq_solve.LQSolution:
        """Exact finite-horizon feedback Nash equilibrium (:mod:`stackenv.games.lq_solve`)."""
        return lq_solve.feedback_nash(self.model)

    def feedback_stackelberg(self) -> lq_solve.LQSolution:
        """Exact finite-horizon feedback Stackelberg equilibrium (:mod:`stackenv.games.lq_solve`)."""
        return lq_solve.feedback_stackelberg(self.model)
