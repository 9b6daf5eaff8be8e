"""General-sum quadratic games of any number of players, dimensions and levels.

Description:
    The simplest games in which every derivative is exact and every equilibrium is a linear solve: each
    cost is a quadratic form over the *joint* action. A test bed for learners and for the hierarchy
    machinery (Fiez, Chasnov & Ratliff §2; App. C): ``ω`` and ``ω_S`` are affine, ``J`` and ``J_S`` constant.

Players and roles:
    ``n = len(dims)`` players in hierarchy order; ``levels`` groups them (default: player 0 leads, all
    others follow simultaneously, App. C.2). Names: ``leader``/``follower`` for two players, otherwise
    ``leader`` (``leader_j`` if several share the top level) and ``follower_0``, ``follower_1``, ...

Actions and bounds:
    ``x_i ∈ [−bound, bound]^{d_i}`` (dimensionless).

Costs:
    ``f_i(x) = ½ xᵀ Q_i x + q_iᵀ x`` with ``Q_i`` symmetric ``d×d`` (``d = Σ d_i``), so
    ``∇_x f_i = Q_i x + q_i``, ``∇²_x f_i = Q_i`` and all third derivatives vanish.
    ``ω(x) = J x + ω(0)`` with row block i of ``J`` equal to row block i of ``Q_i``; ``ω_S(x) = J_S x + ω_S(0)``
    with ``J_S`` from the generic bottom-up recursion of :class:`~stackenv.games.base.Game` (eq. 1, App. C).

Equilibria (linear solves; ``None`` where the game has none in the interior of the box):
    ``critical_point()`` solves ``J x = −ω(0)``; it is *the* Nash equilibrium (``nash_equilibrium()``) when
    every own block ``∇²_ii f_i = Q_i[i, i]`` is positive definite (each cost strictly convex in its own action).
    ``stackelberg_critical_point()`` solves ``J_S x = −ω_S(0)``; it is *the* Stackelberg equilibrium
    (``stackelberg_equilibrium()``) when, level by level, each player's reduced Hessian (the Schur
    complement ``J_S[i,i] − J_S[i,b] J_S[b,b]⁻¹ J_S[b,i]`` over the coordinates b of all lower levels, i.e. the
    Hessian of ``x_i ↦ f_i(x_i, r(x_i))``) is positive definite. Quadratic reduced costs make the local
    (differential) equilibrium global. (Named ``*_equilibrium`` rather than ``*_closed_form`` because they may
    return ``None``; families whose closed form always exists, like ``hierarchy``, define ``*_closed_form``.)

    Default instance (two scalar players): ``f_1 = x_1² + x_1 x_2 + ½ x_2² − 2 x_1``,
    ``f_2 = −x_1 x_2 + x_2² − x_2``. Follower response ``r(x_1) = (1 + x_1)/2``. Nash: ``2x_1 + x_2 = 2`` and
    ``x_2 = r(x_1)`` give ``(0.6, 0.8)``. Stackelberg: ``f_1(x_1, r(x_1))`` has derivative ``3.25 x_1 − 1.25``,
    so ``x_1 = 5/13``, ``x_2 = 9/13``.

Parameters:
    ``dims`` (action dimension per player), ``Q`` (``n`` symmetric ``d×d`` matrices), ``q`` (``n`` vectors of
    length ``d``, default zeros), ``levels`` (list of lists of player indices, top first), ``bound`` (box
    half-width, > 0). Shapes, symmetry and finiteness are validated (``ValueError`` naming the parameter).

Version history:
    v0: initial version.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from stackenv.games.base import Game, Player, as_float_array, check_levels
from stackenv.games.registry import register

_DEFAULT_Q = (((2.0, 1.0), (1.0, 1.0)), ((0.0, -1.0), (-1.0, 2.0)))
_DEFAULT_q = ((-2.0, 0.0), (0.0, -1.0))


def role_names(levels: Sequence[Sequence[int]]) -> list[str]:
    """Player names in hierarchy order: ``leader``/``follower`` for two players, else numbered followers."""
    n = sum(len(lv) for lv in levels)
    if n == 2 and len(levels) == 2:
        return ["leader", "follower"]
    top = list(levels[0])
    leaders = ["leader"] if len(top) == 1 else [f"leader_{j}" for j in range(len(top))]
    return leaders + [f"follower_{j}" for j in range(n - len(top))]


class QuadraticBase(Game):
    """Shared machinery of games whose costs are ``½ xᵀQ_i x + q_iᵀx`` (zero-sum, hierarchy, general)."""

    quadratic = True

    def _box_players(self, names: Sequence[str], dims: Sequence[int], bound: float) -> list[Player]:
        """Validate ``bound`` (> 0), keep it as ``self.bound`` and build players on ``[−bound, bound]^{d_i}``."""
        self.bound = float(as_float_array(bound, "bound", ()))
        if self.bound <= 0:
            raise ValueError(f"{self.name}: parameter 'bound' must be positive, got {self.bound}")
        return [Player.box(name, d, -self.bound, self.bound) for name, d in zip(names, dims)]

    def _init_quadratic(self, players: Sequence[Player], levels, Q: np.ndarray, q: np.ndarray) -> None:
        Game.__init__(self, players, levels)
        # |f_i(x)| ≤ ½ Σ|Q_i| r² + Σ|q_i| r on the box (r = max |bound|): costs, fields and their solves must stay
        # far inside float64 (a margin of 1e8 for sums and products of the solvers)
        r = float(np.max(np.maximum(np.abs(self.low), np.abs(self.high))))
        with np.errstate(over="ignore"):
            reach = 0.5 * np.abs(Q).sum(axis=(1, 2)) * r * r + np.abs(q).sum(axis=1) * r
        if not np.all(reach <= np.finfo(float).max * 1e-8):
            raise ValueError(
                f"{self.name}: parameters 'Q' and 'q' are too large for this domain: the costs reach "
                f"{np.max(reach):.3g} on it, beyond what float64 arithmetic can handle (limit 1.8e300)"
            )
        self.Q, self.q = Q, q  # (n, d, d), (n, d)
        self._J = np.concatenate([Q[i][s, :] for i, s in enumerate(self.slices)], axis=0)
        self._omega0 = np.concatenate([q[i][s] for i, s in enumerate(self.slices)])
        self._stack = None  # cached (J_S, ω_S(0)) or the error message

    # ------------------------------------------------------------------ costs and derivatives
    def costs(self, x):
        x = self.check_x(x)
        return 0.5 * np.einsum("...a,iab,...b->...i", x, self.Q, x) + x @ self.q.T

    def grad(self, i, x):
        i, x = self.check_player(i), self.check_x(x)
        return x @ self.Q[i] + self.q[i]  # Q_i symmetric

    def hessian(self, i, x):
        i, x = self.check_player(i), self.check_x(x)
        return np.broadcast_to(self.Q[i], x.shape[:-1] + (self.d, self.d)).copy()

    # ------------------------------------------------------------------ fast affine fields
    def omega(self, x):
        x = self.check_x(x)
        return x @ self._J.T + self._omega0

    def jacobian(self, x):
        x = self.check_x(x)
        return np.broadcast_to(self._J, x.shape[:-1] + (self.d, self.d)).copy()

    def _stackelberg_affine(self) -> tuple[np.ndarray, np.ndarray]:
        """``(J_S, ω_S(0))``: ``ω_S`` is affine, so one generic evaluation at ``x = 0`` fixes it."""
        if self._stack is None:
            try:
                om, JS = Game.stackelberg_terms(self, np.zeros(self.d))
                self._stack = (JS, om)
            except ValueError as exc:
                self._stack = str(exc)
        if isinstance(self._stack, str):
            raise ValueError(self._stack)
        return self._stack

    def omega_S(self, x):
        x = self.check_x(x)
        JS, om0 = self._stackelberg_affine()
        return x @ JS.T + om0

    def jacobian_S(self, x):
        x = self.check_x(x)
        JS, _ = self._stackelberg_affine()
        return np.broadcast_to(JS, x.shape[:-1] + (self.d, self.d)).copy()

    # ------------------------------------------------------------------ equilibria
    def _solve(self, M: np.ndarray, rhs: np.ndarray) -> np.ndarray | None:
        if np.linalg.matrix_rank(M) < self.d:
            return None
        return np.linalg.solve(M, rhs)

    def critical_point(self) -> np.ndarray | None:
        """The unique zero of ``ω`` (``None`` if ``J`` is singular)."""
        return self._solve(self._J, -self._omega0)

    def stackelberg_critical_point(self) -> np.ndarray | None:
        """The unique zero of ``ω_S`` (``None`` if ``J_S`` is singular; ``ValueError`` if ``ω_S`` is undefined)."""
        JS, om0 = self._stackelberg_affine()
        return self._solve(JS, -om0)

    def _inside(self, x: np.ndarray) -> bool:
        return bool(np.all(x > self.low) and np.all(x < self.high))

    def nash_equilibrium(self) -> np.ndarray | None:
        """The Nash equilibrium: the critical point of ``ω`` if every ``∇²_ii f_i ≻ 0`` there, else ``None``."""
        x = self.critical_point()
        if x is None or not self._inside(x):
            return None
        for i, s in enumerate(self.slices):
            if np.linalg.eigvalsh(self.Q[i][s, s])[0] <= 0:
                return None
        return x

    def stackelberg_equilibrium(self) -> np.ndarray | None:
        """The Stackelberg equilibrium: the zero of ``ω_S`` if every reduced Hessian is ≻ 0, else ``None``."""
        try:
            x = self.stackelberg_critical_point()
        except ValueError:
            return None
        if x is None or not self._inside(x):
            return None
        JS, _ = self._stackelberg_affine()
        if any(np.linalg.eigvalsh(self.reduced_hessian(i, JS))[0] <= 0 for i in range(self.n)):
            return None
        return x


@register
class QuadraticGame(QuadraticBase):
    """General-sum quadratic game ``f_i(x) = ½ xᵀQ_i x + q_iᵀx`` over the joint action."""

    name = "quadratic"
    defaults = {"dims": (1, 1), "Q": _DEFAULT_Q, "q": _DEFAULT_q, "levels": None, "bound": 10.0}

    def __init__(self, dims=(1, 1), Q=_DEFAULT_Q, q=_DEFAULT_q, levels=None, bound: float = 10.0):
        dims_arr = as_float_array(dims, "dims")
        if dims_arr.ndim != 1 or dims_arr.size < 2 or np.any(dims_arr < 1) or np.any(dims_arr != np.round(dims_arr)):
            raise ValueError(f"parameter 'dims' must list at least two positive integers, got {dims!r}")
        dims = [int(v) for v in dims_arr]
        n, d = len(dims), sum(dims)
        Q = as_float_array(Q, "Q", (n, d, d))
        if not np.allclose(Q, np.swapaxes(Q, 1, 2), rtol=0, atol=1e-12 * max(1.0, np.abs(Q).max())):
            raise ValueError("parameter 'Q' must hold symmetric matrices (Q_i = Q_iᵀ)")
        q = np.zeros((n, d)) if q is None else as_float_array(q, "q", (n, d))
        levels = check_levels(levels, n)
        players = self._box_players(role_names(levels), dims, bound)
        self._init_quadratic(players, levels, Q / 2 + np.swapaxes(Q, 1, 2) / 2, q)

    @property
    def params(self):
        return {
            "dims": list(self.dims),
            "Q": self.Q.tolist(),
            "q": self.q.tolist(),
            "levels": [list(lv) for lv in self.levels],
            "bound": self.bound,
        }
