"""The data of a linear-quadratic (LQ) dynamic game, validated once: ``LQModel``.

Dynamics and costs (shared by the ``lq`` and ``lq_policy`` games, the ``lq_v0`` env and the solvers):

    x_{t+1} = A x_t + Σ_i B_i u_i + w_t,            w_t ~ N(0, W) i.i.d.,
    f_i     = Σ_{t<T} γ^t (x_tᵀ Q_i x_t + Σ_j u_jᵀ R_ij u_j) + γ^T x_Tᵀ Q_i^T x_T.

``x ∈ R^n`` (state), ``u_i ∈ R^{m_i}`` (player i's control), player 0 leads; players ``1..N−1`` follow
simultaneously (one follower in the two-player game). ``R[i][j]`` weights player j's control in player i's
cost (``m_j × m_j``); ``γ`` is the discount (1 by default). Matrices are JSON-able nested lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from stackenv.games.base import as_float_array
from stackenv.games.quadratic import role_names


def _matrix(value: Any, name: str, shape: tuple[int, int], symmetric: bool = False) -> np.ndarray:
    """A finite float matrix of ``shape`` (a bare number for a 1×1 matrix); symmetric if asked."""
    arr = as_float_array(value, name)
    if arr.ndim == 0 and shape == (1, 1):
        arr = arr.reshape(1, 1)
    if arr.shape != shape:
        raise ValueError(f"parameter {name!r} must have shape {shape}, got {arr.shape}")
    if symmetric and not np.allclose(arr, arr.T, rtol=0, atol=1e-12 * max(1.0, np.abs(arr).max())):
        raise ValueError(f"parameter {name!r} must be symmetric, got {arr.tolist()}")
    return (arr + arr.T) / 2 if symmetric else arr


def covariance(value: Any, name: str, n: int) -> np.ndarray:
    """A symmetric positive semidefinite ``n × n`` matrix (``None``: zeros), ``ValueError`` naming it otherwise."""
    C = np.zeros((n, n)) if value is None else _matrix(value, name, (n, n), True)
    if np.linalg.eigvalsh(C)[0] < -1e-12 * max(1.0, np.abs(C).max()):
        raise ValueError(f"parameter {name!r} (a covariance) must be positive semidefinite, got {C.tolist()}")
    return C


def _per_player(value: Any, name: str, N: int | None = None) -> list:
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) < 2:
        raise ValueError(f"parameter {name!r} must be a list with one entry per player (≥ 2), got {value!r}")
    if N is not None and len(value) != N:
        raise ValueError(f"parameter {name!r} must have {N} entries (one per player), got {len(value)}")
    return list(value)


@dataclass(frozen=True)
class LQModel:
    """A validated LQ game: ``A (n,n)``, ``B[i] (n,m_i)``, ``Q[i], QT[i] (n,n)``, ``R[i][j] (m_j,m_j)``, ``W (n,n)``.

    ``x0`` (n,) is the initial state, ``horizon`` ``T`` (≥ 1) and ``discount`` ``γ ∈ (0, 1]``.
    """

    A: np.ndarray
    B: tuple[np.ndarray, ...]
    Q: np.ndarray
    R: tuple[tuple[np.ndarray, ...], ...]
    QT: np.ndarray
    W: np.ndarray
    x0: np.ndarray
    horizon: int
    discount: float

    @staticmethod
    def build(A, B, Q, R, horizon, x0, W=None, QT=None, discount=1.0) -> LQModel:
        """Validate JSON-able parameters (``ValueError`` naming the bad one) and build the model."""
        A = as_float_array(A, "A")
        if A.ndim == 0:
            A = A.reshape(1, 1)
        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise ValueError(f"parameter 'A' must be a square matrix, got shape {A.shape}")
        n = A.shape[0]
        Bs = []
        for i, b in enumerate(_per_player(B, "B")):
            b = as_float_array(b, f"B[{i}]")
            if b.ndim != 2 or b.shape[0] != n or b.shape[1] < 1:
                raise ValueError(f"parameter 'B[{i}]' must have shape ({n}, m_{i}) with m_{i} ≥ 1, got {b.shape}")
            Bs.append(b)
        N, m = len(Bs), [b.shape[1] for b in Bs]
        Qs = np.stack([_matrix(q, f"Q[{i}]", (n, n), True) for i, q in enumerate(_per_player(Q, "Q", N))])
        rows = _per_player(R, "R", N)
        Rs = tuple(
            tuple(_matrix(r, f"R[{i}][{j}]", (m[j], m[j]), True) for j, r in enumerate(_per_player(row, f"R[{i}]", N)))
            for i, row in enumerate(rows)
        )
        QTs = (
            Qs
            if QT is None
            else np.stack([_matrix(q, f"QT[{i}]", (n, n), True) for i, q in enumerate(_per_player(QT, "QT", N))])
        )
        W = covariance(W, "W", n)
        x0 = as_float_array(x0, "x0")
        if x0.shape != (n,):
            raise ValueError(f"parameter 'x0' must have shape ({n},), got {x0.shape}")
        if isinstance(horizon, bool) or not float(horizon).is_integer() or int(horizon) < 1:
            raise ValueError(f"parameter 'horizon' must be a positive integer, got {horizon!r}")
        g = float(as_float_array(discount, "discount", ()))
        if not 0 < g <= 1:
            raise ValueError(f"parameter 'discount' must lie in (0, 1], got {g}")
        return LQModel(A, tuple(Bs), Qs, Rs, QTs, W, x0, int(horizon), g)

    # ------------------------------------------------------------------ facts
    @property
    def n(self) -> int:
        """State dimension."""
        return self.A.shape[0]

    @property
    def N(self) -> int:
        """Number of players (leader first)."""
        return len(self.B)

    @property
    def m(self) -> list[int]:
        """Control dimensions ``m_i``."""
        return [b.shape[1] for b in self.B]

    @property
    def names(self) -> list[str]:
        """``leader``, ``follower`` (two players) or ``leader``, ``follower_0``, ..."""
        return role_names([[0], list(range(1, self.N))])

    def params(self) -> dict[str, Any]:
        """The parameters, JSON-friendly (``QT`` always explicit)."""
        return {
            "A": self.A.tolist(),
            "B": [b.tolist() for b in self.B],
            "Q": self.Q.tolist(),
            "R": [[r.tolist() for r in row] for row in self.R],
            "horizon": self.horizon,
            "x0": self.x0.tolist(),
            "W": self.W.tolist(),
            "QT": self.QT.tolist(),
            "discount": self.discount,
        }

    # ------------------------------------------------------------------ dynamics (batched over leading axes)
    def step(self, x: np.ndarray, u: Sequence[np.ndarray], w: np.ndarray | float = 0.0) -> np.ndarray:
        """``A x + Σ_i B_i u_i + w`` for states ``(..., n)`` and controls ``(..., m_i)``."""
        return x @ self.A.T + sum(ui @ b.T for ui, b in zip(u, self.B)) + w

    def stage_costs(self, x: np.ndarray, u: Sequence[np.ndarray]) -> np.ndarray:
        """``x_tᵀ Q_i x_t + Σ_j u_jᵀ R_ij u_j`` for every player, shape ``(..., N)`` (undiscounted)."""
        out = []
        for i in range(self.N):
            c = np.einsum("...a,ab,...b->...", x, self.Q[i], x)
            c = c + sum(np.einsum("...a,ab,...b->...", uj, self.R[i][j], uj) for j, uj in enumerate(u))
            out.append(c)
        return np.stack(out, axis=-1)

    def terminal_costs(self, x: np.ndarray) -> np.ndarray:
        """``x_Tᵀ Q_i^T x_T`` for every player, shape ``(..., N)``."""
        return np.einsum("...a,iab,...b->...i", x, self.QT, x)
