"""A K-level chain of command: a staggered Stackelberg chain that stays well conditioned at any depth.

Description:
    ``K`` agents move in sequence (level j commits after levels ``0..j−1``, before ``j+1..K−1``, anticipating
    their nested responses; App. C.1). Level j's own ideal is to pass on its superior's instruction: ``x_j =
    a x_{j−1} + c_j`` (``a``: how much of the superior's action carries over, ``c_j``: its own bias; the top has
    no superior, ``x_{−1} = 0``). It also wants its immediate subordinate's action near its target ``t_j``
    (weight ``ρ``). Every level thus steers the one below through the responses of the whole chain below it.

    Why this chain and not the Cournot ``hierarchy`` for deep chains: in the Cournot chain each firm takes half
    of the residual demand, so the response slopes compound (``1 − α_j = 2^{−(K−j)}``), level j's reduced curvature
    is ``2^{j+2−K}`` and the equilibrium moves by ``2^{K−j}`` times a change of a lower firm's cost. Past K ≈ 30 the
    response Jacobians are numerically singular and the closed form cancels (K = 100: quantities ``2^{−100}`` out
    of weights ``2^{100}``). Here the coupling is nearest-neighbour and every response slope is damped by a
    curvature ``≥ 1`` (below), so nothing compounds.

Players and roles:
    ``leader`` (level 0), ``follower_0`` (level 1), …, ``follower_{K−2}`` (level K−1); one player per level,
    scalar actions.

Actions and bounds:
    ``x_j ∈ [−bound, bound]`` (dimensionless).

Costs (0-indexed levels, ``x_{−1} = 0``; the bottom level has no second term):
    ``f_j(x) = ½ (x_j − a x_{j−1} − c_j)² + ½ ρ (x_{j+1} − t_j)²``. Individual field ``ω_j = x_j − a x_{j−1} − c_j``,
    ``J`` lower bidiagonal (1 on the diagonal, ``−a`` below). All evaluated in ``O(K)`` per point.

Stackelberg equilibrium (backward induction, derived here; tested against exact rational backward induction by
nested minimisation and against the generic bottom-up recursion):
    Let the levels below j respond to ``x_j`` with ``x_{j+1} = s_{j+1} x_j + e_{j+1}`` (the whole lower chain at
    its response). The bottom level minimises ``½(x − a x_{K−2} − c_{K−1})²``: ``s_{K−1} = a``, ``e_{K−1} = c_{K−1}``.
    Level j's reduced cost ``½(x_j − a x_{j−1} − c_j)² + ½ρ(s_{j+1} x_j + e_{j+1} − t_j)²`` has curvature

        ``h_j = 1 + ρ s_{j+1}²  ≥ 1``   (``h_{K−1} = 1``),

    and its minimiser gives ``s_j = a / h_j``, ``e_j = (c_j + ρ s_{j+1}(t_j − e_{j+1})) / h_j``. The equilibrium is
    ``x_0 = e_0``, ``x_j = s_j x_{j−1} + e_j``. Level j's total derivative through the responses below is

        ``Df_j = ω_j + ρ s_{j+1} (x_{j+1} − t_j)``   (``ω_S``; the bottom row is ``ω_{K−1}``),

    since ``∂x_{j+1}/∂x_j = s_{j+1}`` along the lower levels' (affine) stationarity conditions. So ``J_S`` is
    tridiagonal: 1 on the diagonal, ``−a`` below, ``ρ s_{j+1}`` above; its Schur complements (the reduced
    Hessians, Def. 4) are the ``h_j``, and ``ω_S = 0`` is the backward-induction point above.
    Nash (all levels simultaneous): ``x_0 = c_0``, ``x_j = a x_{j−1} + c_j``.

Conditioning (why K = 100, or 1000, is as easy as K = 3):
    ``h_j ≥ 1`` gives ``|s_j| ≤ |a|`` at every depth. If ``|a|(1 + ρ) < 1`` (the defaults: 0.75), ``J_S`` and every
    response Jacobian ``H22`` (a trailing block of ``J_S``) are strictly diagonally dominant by rows, so
    ``‖J_S⁻¹‖_∞ ≤ 1/(1 − |a|(1 + ρ))`` and ``cond_∞(J_S) ≤ (1 + |a|(1 + ρ))/(1 − |a|(1 + ρ))`` (7 at the defaults)
    whatever K; the backward recursion contracts (``|ρ s_{j+1}/h_j| ≤ ρ|a|``) and so does the forward pass
    (``|s_j| ≤ |a|``), so the closed form loses no digits; the reduced curvatures lie in ``[1, 1 + ρa²]``, so
    every level of a chain learner sees the same problem. (Outside that regime the game is still well defined —
    ``h_j ≥ 1`` always — but with ``|a| ≥ 1`` the equilibrium grows like ``|a|^K`` and leaves the box.)

Parameters:
    ``K`` (levels, ``2 ≤ K ≤ 1000``), ``a`` (carry-over of the superior's action), ``rho`` (weight ``ρ ≥ 0`` on the
    subordinate's target), ``c`` (per-level bias: a number or ``K`` numbers), ``targets`` (``t_0..t_{K−2}``: a
    number or ``K − 1`` numbers), ``bound`` (box half-width, > 0). Both equilibria must lie inside the box;
    otherwise ``ValueError``.

Version history:
    v0: initial version.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from stackenv.games.base import Game, Player, as_float_array
from stackenv.games.quadratic import role_names
from stackenv.games.registry import register

#: Most levels: the generic ``Game`` keeps the coordinates below each level (``K²/2`` indices) and dense ``J_S``
#: requests are ``K × K``; the fields themselves are O(K).
MAX_LEVELS = 1000


def _per_level(value, name: str, n: int) -> np.ndarray:
    """A number (broadcast) or exactly ``n`` numbers."""
    arr = as_float_array(value, name)
    if arr.ndim == 0:
        return np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(f"chain: parameter {name!r} must be a number or {n} numbers, got shape {arr.shape}")
    return arr


@register
class Chain(Game):
    """K levels, each passing on its superior's action and steering its subordinate; O(K) fields."""

    name = "chain"
    defaults = {"K": 4, "a": 0.5, "rho": 0.5, "c": 1.0, "targets": 0.0, "bound": 10.0}
    quadratic = True

    def __init__(self, K: int = 4, a: float = 0.5, rho: float = 0.5, c=1.0, targets=0.0, bound: float = 10.0):
        if isinstance(K, bool) or not float(as_float_array(K, "K", ())).is_integer() or not 2 <= K <= MAX_LEVELS:
            raise ValueError(f"chain: parameter 'K' must be an integer in [2, {MAX_LEVELS}], got {K!r}")
        self.K = K = int(K)
        self.a = float(as_float_array(a, "a", ()))
        self.rho = float(as_float_array(rho, "rho", ()))
        if self.rho < 0:
            raise ValueError(f"chain: parameter 'rho' must be >= 0 (a weight), got {self.rho}")
        self.c = _per_level(c, "c", K)
        self.t = _per_level(targets, "targets", K - 1)
        self.bound = float(as_float_array(bound, "bound", ()))
        if not self.bound > 0:
            raise ValueError(f"chain: parameter 'bound' must be positive, got {self.bound}")
        # backward induction (module docstring): slopes s_j, offsets e_j, reduced curvatures h_j
        s, e, h = np.empty(K), np.empty(K), np.ones(K)
        s[-1], e[-1] = self.a, self.c[-1]
        for j in range(K - 2, -1, -1):
            h[j] = 1.0 + self.rho * s[j + 1] ** 2
            s[j] = self.a / h[j]
            e[j] = (self.c[j] + self.rho * s[j + 1] * (self.t[j] - e[j + 1])) / h[j]
        self.slopes, self.response_offsets, self.curvatures = s, e, h
        self._up = self.rho * s[1:]  # J_S[j, j+1]
        for kind, x in (("Nash", self.nash_closed_form()), ("Stackelberg", self.stackelberg_closed_form())):
            if not np.all(np.abs(x) < self.bound):
                j = int(np.argmax(np.abs(x)))
                raise ValueError(
                    f"chain: the {kind} equilibrium leaves the box [-bound, bound] (level {j}: {x[j]:.6g}, bound "
                    f"{self.bound:g}); need |a| < 1 for deep chains, or a larger bound"
                )
        top = Player.box("leader", 1, -self.bound, self.bound)
        names = role_names([[j] for j in range(K)])
        players = [top] + [replace(top, name=name) for name in names[1:]]
        super().__init__(players, [[j] for j in range(K)])

    @property
    def params(self):
        return {
            "K": self.K,
            "a": self.a,
            "rho": self.rho,
            "c": self.c.tolist(),
            "targets": self.t.tolist(),
            "bound": self.bound,
        }

    # ------------------------------------------------------------------ costs and derivatives, O(K)
    def _deviation(self, x: np.ndarray) -> np.ndarray:
        """``ω_j = x_j − a x_{j−1} − c_j`` (``x_{−1} = 0``)."""
        dev = x - self.c
        dev[..., 1:] -= self.a * x[..., :-1]
        return dev

    def costs(self, x):
        x = self.check_x(x)
        f = 0.5 * self._deviation(x) ** 2
        f[..., :-1] += 0.5 * self.rho * (x[..., 1:] - self.t) ** 2
        return f

    def grad(self, i, x):
        i, x = self.check_player(i), self.check_x(x)
        g = np.zeros_like(x)
        dev = self._deviation(x)[..., i]
        g[..., i] = dev
        if i > 0:
            g[..., i - 1] = -self.a * dev
        if i < self.K - 1:
            g[..., i + 1] = self.rho * (x[..., i + 1] - self.t[i])
        return g

    def hessian(self, i, x):
        i, x = self.check_player(i), self.check_x(x)
        H = np.zeros(x.shape[:-1] + (self.d, self.d))
        H[..., i, i] = 1.0
        if i > 0:
            H[..., i - 1, i - 1] = self.a**2
            H[..., i, i - 1] = H[..., i - 1, i] = -self.a
        if i < self.K - 1:
            H[..., i + 1, i + 1] = self.rho
        return H

    def omega(self, x):
        return self._deviation(self.check_x(x))

    def _bidiagonal(self, x: np.ndarray) -> np.ndarray:
        """``J``: 1 on the diagonal, ``−a`` below (dense ``K × K``, on request only)."""
        J = np.eye(self.d) - self.a * np.eye(self.d, k=-1)
        return np.broadcast_to(J, x.shape[:-1] + J.shape).copy()

    def jacobian(self, x):
        return self._bidiagonal(self.check_x(x))

    # ------------------------------------------------------------------ Stackelberg field, O(K)
    def omega_S(self, x):
        x = self.check_x(x)
        om = self._deviation(x)
        om[..., :-1] += self._up * (x[..., 1:] - self.t)  # + ρ s_{j+1} (x_{j+1} − t_j)
        return om

    def jacobian_S(self, x):
        JS = self._bidiagonal(self.check_x(x))
        j = np.arange(self.K - 1)
        JS[..., j, j + 1] = self._up
        return JS

    def response(self, x, k: int = 0, iters: int = 100, tol: float = 1e-12):
        """Levels below k at their nested response ``x_j = s_j x_{j−1} + e_j`` (closed form, O(K))."""
        x = self.check_x(x).copy()
        for j in range(self.check_level(k) + 1, self.K):
            x[..., j] = self.slopes[j] * x[..., j - 1] + self.response_offsets[j]
        return x

    # ------------------------------------------------------------------ closed forms
    def nash_closed_form(self) -> np.ndarray:
        """All levels simultaneous: ``x_0 = c_0``, ``x_j = a x_{j−1} + c_j``."""
        x = np.empty(self.K)
        x[0] = self.c[0]
        for j in range(1, self.K):
            x[j] = self.a * x[j - 1] + self.c[j]
        return x

    def stackelberg_closed_form(self) -> np.ndarray:
        """Backward induction: ``x_0 = e_0``, ``x_j = s_j x_{j−1} + e_j`` (module docstring)."""
        x = np.empty(self.K)
        x[0] = self.response_offsets[0]
        for j in range(1, self.K):
            x[j] = self.slopes[j] * x[j - 1] + self.response_offsets[j]
        return x
