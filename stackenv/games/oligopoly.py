"""Stackelberg oligopoly: one Cournot leader, N simultaneous followers (Fiez, Chasnov & Ratliff, App. C.2).

Description:
    ``N + 1`` firms produce one good. Firm 0 (the leader) commits to a quantity; the ``N`` followers then
    play a Cournot–Nash game among themselves. Inverse demand is linear, ``P = A − Q`` with ``Q = Σ_i q_i``.

Players and roles:
    ``leader`` (level 0) and ``follower_0`` … ``follower_{N−1}`` (level 1, simultaneous); scalar actions.

Actions and bounds:
    Quantities ``q_i ∈ [0, A]`` (units of the good).

Costs (negative profits, money units):
    ``f_i(q) = −(A − Q − c_i) q_i``. As in the duopoly's default, the linear demand is extended where
    ``Q > A`` (a negative price is a disposal cost), so the costs are smooth quadratics everywhere.
    ``∇_x f_i = q_i 1 + (Q − A + c_i) e_i``, ``∇²_x f_i = e_i 1ᵀ + 1 e_iᵀ``, ``ω_i = q_i + Q − A + c_i``, and
    ``J = I + 11ᵀ`` (``J u = u + (Σ_j u_j) 1``). All are evaluated in ``O(N)`` per point (``O(N²)`` only for the dense
    matrices).

Leader's total derivative (App. C.2): ``Df_0 = ∇_0 f_0 − H21ᵀ H22⁻ᵀ ∇_F f_0`` with the followers' ``H22 = I_N + 11ᵀ``,
    ``H21 = 1`` and ``∇_F f_0 = q_0 1``. The adjoint ``v = H22⁻ᵀ q_0 1`` is a multiple of ``1`` (an eigenvector of
    ``I + 11ᵀ`` with eigenvalue ``N + 1``; Sherman–Morrison, ``(I + 11ᵀ)⁻¹ = I − 11ᵀ/(N + 1)``, gives the same):
    ``v = q_0 1/(N + 1)`` and ``H21ᵀ v = 1ᵀ v = N q_0/(N + 1)``. So ``Df_0 = ω_0 − δ q_0 = q_0 + Q − A + c_0 − δ q_0``
    with ``δ = N/(N + 1)``: ``ω_S`` is ``ω`` with one entry changed (no pass over the followers beyond ``ω``'s),
    and ``J_S = J − δ e_0 e_0ᵀ``. (Tested against the generic bottom-up recursion and a dense adjoint solve.)

Spectra (what classifying a point needs, in closed form so that N = 10⁵ costs O(N); ``n = N + 1`` firms):
    ``J = I + 11ᵀ`` has eigenvalues 1 (N times) and ``N + 2``, ``‖J‖_F² = n² + 3n``; every own Hessian is 2.
    ``J_S`` is the identity on the vectors with ``v_0 = 0``, ``Σv = 0`` (eigenvalue 1, ``N − 1`` times); on
    ``span{e_0, 1}`` it acts as ``[[2 − δ, N], [1, N + 1]]``: trace ``T = N + 3 − δ``, determinant 2, so the last
    two eigenvalues are ``(T ± √(T² − 8))/2``; ``‖J_S‖_F² = n² + 3n − 4 + (2 − δ)²``. The followers' reduced
    Hessians are their own (2); the leader's is ``2 − δ − 1ᵀ(I + 11ᵀ)⁻¹1 = 2/(N + 1)`` (its profit's curvature).

Closed-form equilibria (``C_F = Σ_{followers} c_i``, ``C = c_0 + C_F``):
    Followers' Nash response to ``q_0``: summing ``q_i + q_0 + S_F − A + c_i = 0`` over followers gives
    ``S_F = (N(A − q_0) − C_F)/(N + 1)``, so ``r_i(q_0) = (A − q_0 + C_F)/(N + 1) − c_i``.
    Stackelberg: the leader's profit ``q_0 (A + C_F − (N+1) c_0 − q_0)/(N + 1)`` peaks at
    ``q_0 = (A + C_F − (N + 1) c_0)/2``, followers at ``r_i(q_0)``.
    Nash (all ``N + 1`` firms simultaneous): ``Q = ((N+1)A − C)/(N + 2)``, ``q_i = (A + C)/(N + 2) − c_i``.
    (Tested against a numeric derivation: scipy maximisation of the leader's profit over a linear solve of
    the followers' first-order conditions.)

Parameters:
    ``A`` (demand intercept, > every unit cost), ``leader_cost`` (``c_0 ≥ 0``), ``follower_costs`` (``c_1…c_N ≥ 0``,
    ``N ≥ 1``). Both equilibria must be interior (every quantity > 0); otherwise ``ValueError``.

Version history:
    v0: initial version.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from stackenv.games.base import Game, Player, as_float_array
from stackenv.games.cournot import check_costs, check_interior
from stackenv.games.registry import register
from stackenv.games.spectra import Spectra, check_field


@register
class Oligopoly(Game):
    """Cournot leader above ``N`` simultaneous Cournot followers, with ``O(N)`` fields."""

    name = "oligopoly"
    defaults = {"A": 100.0, "leader_cost": 5.0, "follower_costs": (2.0, 3.0, 4.0)}
    quadratic = True

    def __init__(self, A: float = 100.0, leader_cost: float = 5.0, follower_costs=(2.0, 3.0, 4.0)):
        self.A = float(as_float_array(A, "A", ()))
        self.leader_cost = float(as_float_array(leader_cost, "leader_cost", ()))
        cf = as_float_array(follower_costs, "follower_costs")
        if cf.ndim == 0:
            raise ValueError(
                f"oligopoly: follower_costs must list N >= 1 costs (one per follower), got the scalar {float(cf):g}; "
                f"for a single follower give [{float(cf):g}]"
            )
        if cf.ndim != 1 or cf.size < 1:
            raise ValueError(f"oligopoly: follower_costs must list N >= 1 costs (one per follower), got {cf.shape}")
        self.follower_costs = cf
        self.N = cf.size
        self.c = np.concatenate([[self.leader_cost], cf])  # (N + 1,) costs, leader first
        check_costs("oligopoly", self.A, self.c)
        check_interior("oligopoly", {"Nash": self.nash_closed_form(), "Stackelberg": self.stackelberg_closed_form()})
        players = [Player.box("leader", 1, 0.0, self.A)]
        follower = Player.box("follower_0", 1, 0.0, self.A)  # validated once; the others differ only in name
        players += [follower] + [replace(follower, name=f"follower_{j}") for j in range(1, self.N)]
        super().__init__(players, [[0], list(range(1, self.N + 1))])

    @property
    def params(self):
        return {"A": self.A, "leader_cost": self.leader_cost, "follower_costs": self.follower_costs.tolist()}

    # ------------------------------------------------------------------ costs and derivatives
    def costs(self, x):
        x = self.check_x(x)
        f = self.c + (x.sum(-1, keepdims=True) - self.A)  # f_i = −(A − Q − c_i) q_i = (Q − A + c_i) q_i
        f *= x
        return f

    def grad(self, i, x):
        i, x = self.check_player(i), self.check_x(x)
        g = np.repeat(x[..., i : i + 1], self.d, axis=-1)  # ∂f_i/∂q_j = q_i (j ≠ i)
        g[..., i] = self.omega(x)[..., i]
        return g

    def hessian(self, i, x):
        i, x = self.check_player(i), self.check_x(x)
        H = np.zeros(x.shape[:-1] + (self.d, self.d))
        H[..., i, :] += 1.0
        H[..., :, i] += 1.0
        return H

    def omega(self, x):
        x = self.check_x(x)
        om = self.c + (x.sum(-1, keepdims=True) - self.A)  # ω_i = ∂f_i/∂q_i = q_i + Q − A + c_i
        om += x
        return om

    def jacobian(self, x):
        x = self.check_x(x)
        return np.broadcast_to(np.eye(self.d) + 1.0, x.shape[:-1] + (self.d, self.d)).copy()

    def jacobian_product(self, x, u):
        x, u = self.check_x(x), np.asarray(u, dtype=float)
        Ju = u + u.sum(-1, keepdims=True)  # (I + 11ᵀ) u
        shape = np.broadcast_shapes(x.shape, u.shape)  # the shape of a product at each point x
        return Ju if Ju.shape == shape else np.broadcast_to(Ju, shape).copy()

    def lower_solve(self, x, level, rhs, rtol=1e-10, maxiter=50):
        """``H22⁻¹ rhs`` for the followers: ``H22 = I + 11ᵀ``, so by Sherman–Morrison ``rhs − (Σ rhs)/(N + 1) 1``
        (exact and O(N); ``rtol``/``maxiter`` of the generic GMRES solve are not needed)."""
        self.check_x(x)
        self.check_level(level)
        rhs = np.asarray(rhs, dtype=float)
        return rhs - rhs.sum(-1, keepdims=True) / (self.N + 1), np.ones(rhs.shape[:-1], bool)

    # ------------------------------------------------------------------ Stackelberg field, O(N)
    def omega_S(self, x):
        om = self.omega(x)  # checks x
        q0 = np.asarray(x, dtype=float)[..., 0]
        om[..., 0] -= self.N / (self.N + 1) * q0  # Df_0 = ω_0 − H21ᵀ H22⁻ᵀ q_0 1 = ω_0 − δ q_0 (docstring)
        return om

    def jacobian_S(self, x):
        JS = self.jacobian(x)
        JS[..., 0, 0] -= self.N / (self.N + 1)  # δ
        return JS

    def spectra(self, x, field):
        """:class:`~stackenv.games.spectra.Spectra` of ``J`` or ``J_S`` in closed form (module docstring), O(N)."""
        self.check_x(x)
        n, N, delta = self.d, self.N, self.N / (self.N + 1)
        if check_field(field) == "omega":
            eig = np.concatenate([np.ones(N), [N + 2.0]])
            return Spectra(eig.astype(complex), float(np.sqrt(n * n + 3.0 * n)), (np.array([2.0]),) * n, (0.0,) * n)
        T = N + 3 - delta
        root = np.sqrt(T * T - 8)
        eig = np.concatenate([np.ones(N - 1), [(T - root) / 2, (T + root) / 2]])
        norm = float(np.sqrt(n * n + 3.0 * n - 4 + (2 - delta) ** 2))
        return Spectra(eig.astype(complex), norm, (np.array([2 / (N + 1)]),) + (np.array([2.0]),) * N, (0.0,) * n)

    def response(self, x, k: int = 0, iters: int = 100, tol: float = 1e-12):
        """Followers' Cournot–Nash response ``r_i(q_0) = (A − q_0 + C_F)/(N + 1) − c_i`` (closed form, ``k = 0``)."""
        x = self.check_x(x).copy()
        if self.check_level(k) >= 1:
            return x
        x[..., 1:] = (self.A - x[..., :1] + self.follower_costs.sum()) / (self.N + 1) - self.follower_costs
        return x

    # ------------------------------------------------------------------ closed forms
    def nash_closed_form(self) -> np.ndarray:
        """All ``N + 1`` firms simultaneous: ``q_i = (A + Σ_j c_j)/(N + 2) − c_i``."""
        return (self.A + self.c.sum()) / (self.N + 2) - self.c

    def stackelberg_closed_form(self) -> np.ndarray:
        """``q_0 = (A + C_F − (N + 1) c_0)/2``, followers ``(A − q_0 + C_F)/(N + 1) − c_i``."""
        CF = self.follower_costs.sum()
        q0 = (self.A + CF - (self.N + 1) * self.leader_cost) / 2
        return np.concatenate([[q0], (self.A - q0 + CF) / (self.N + 1) - self.follower_costs])
