"""Cournot / Stackelberg duopoly (Fiez, Chasnov & Ratliff, §4.1).

Description:
    Two firms produce one good. Firm 1 (the leader) commits to a quantity, firm 2 (the follower)
    responds. Market price is the linear inverse demand ``P = A − Q`` with ``Q = q_1 + q_2``.

Players and roles:
    ``leader`` (firm 1, level 0) and ``follower`` (firm 2, level 1); one-dimensional actions.

Actions and bounds:
    Quantities ``q_i ∈ [0, A]`` (units of the good).

Costs (negative profits, money units):
    ``f_i(q) = −(A − q_1 − q_2 − c_i) q_i``.
    Where ``A − Q`` would be negative: by default (``price_floor=False``) the linear demand is
    extended, i.e. a negative price is a disposal cost. This keeps every cost a smooth quadratic, so
    ``H22 = 2`` everywhere and the follower's implicit response is defined at every joint action,
    which is what the gradient learners need. With ``price_floor=True`` the paper's truncated price
    ``P = max(A − Q, 0)`` is used; on ``Q > A`` the cost is ``c_i q_i`` with the derivatives of that
    branch (one-sided at the kink ``Q = A``), and there ``H22 = 0``, so the implicit map is undefined
    and ``ω_S`` raises ``ValueError``. The equilibria are interior and identical in both variants.

Closed-form equilibria (derived in §4.1; checked against numeric optimisation in the tests):
    Nash:        ``q_i = (A + c_j − 2 c_i) / 3``, profit ``(A − 2c_i + c_j)² / 9``.
    Stackelberg: ``q_1 = (A + c_2 − 2c_1) / 2``, ``q_2 = (A + 2c_1 − 3c_2) / 4``,
                 profits ``(A − 2c_1 + c_2)² / 8`` and ``(A + 2c_1 − 3c_2)² / 16``.
    At the defaults (A = 100, c = (5, 2)) Nash is (30.67, 33.67) with exact profits (940.44, 1133.44)
    and Stackelberg is (46, 26) with exact profits (1058, 676). The paper's reported profits
    (944.4, 1114.7) and (1048.2, 659.9) are *not* equilibrium profits, nor time-averages: they are the
    profits at iterate 99 of one noisy learning path per dynamics, seeded ``np.random.seed(1)`` in the
    authors' notebook (944.409, 1114.715 and 1048.173, 659.947; the Nash path's 100-step averages are
    954.5 and 1113.8). ``docs/differences.md`` re-runs that path; we report the exact profits.

Parameters:
    ``A`` (demand intercept, > every unit cost), ``c`` (unit costs ``(c_1, c_2)``, ≥ 0),
    ``price_floor`` (bool, see above). Both equilibria must be interior: ``A + c_2 − 2c_1 > 0``,
    ``A + c_1 − 2c_2 > 0`` and ``A + 2c_1 − 3c_2 > 0``; otherwise ``ValueError``.

Version history:
    v0: initial version.
"""

from __future__ import annotations

import numpy as np

from stackenv.games.base import Game, Player, as_float_array
from stackenv.games.cournot import check_costs, check_interior
from stackenv.games.players import stack_last
from stackenv.games.registry import register


def _nash(A: float, c: np.ndarray) -> np.ndarray:
    (c1, c2) = c
    return np.array([(A + c2 - 2 * c1) / 3, (A + c1 - 2 * c2) / 3])


def _stackelberg(A: float, c: np.ndarray) -> np.ndarray:
    (c1, c2) = c
    return np.array([(A + c2 - 2 * c1) / 2, (A + 2 * c1 - 3 * c2) / 4])


@register
class Duopoly(Game):
    """Cournot/Stackelberg duopoly with linear inverse demand ``P = A − Q``."""

    name = "duopoly"
    defaults = {"A": 100.0, "c": (5.0, 2.0), "price_floor": False}
    quadratic = True

    def __init__(self, A: float = 100.0, c=(5.0, 2.0), price_floor: bool = False):
        self.A = float(as_float_array(A, "A", ()))
        self.c = as_float_array(c, "c", (2,))
        if not isinstance(price_floor, bool | np.bool_):
            raise ValueError(f"duopoly: price_floor must be a boolean, got {price_floor!r}")
        self.price_floor = bool(price_floor)
        check_costs("duopoly", self.A, self.c)
        check_interior("duopoly", {"Nash": _nash(self.A, self.c), "Stackelberg": _stackelberg(self.A, self.c)})
        # with a price floor the costs are piecewise quadratic: not "quadratic" for the generic code
        self.quadratic = not self.price_floor
        super().__init__([Player.box(n, 1, 0.0, self.A) for n in ("leader", "follower")], [[0], [1]])

    @property
    def params(self):
        return {"A": self.A, "c": self.c.tolist(), "price_floor": self.price_floor}

    def _saturated(self, x):
        return (x[..., 0] + x[..., 1] > self.A) if self.price_floor else np.zeros(x.shape[:-1], bool)

    # ------------------------------------------------------------------ costs and derivatives
    # Written per firm, q_1 = x[..., 0] and q_2 = x[..., 1], as in §4.1 (and on (B,) columns numpy is fastest).
    def costs(self, x):
        x = self.check_x(x)
        q1, q2 = x[..., 0], x[..., 1]
        minus_price = q1 + q2 - self.A  # −P = Q − A
        if self.price_floor:
            minus_price = np.minimum(minus_price, 0.0)
        c1, c2 = self.c.tolist()
        return stack_last((c1 + minus_price) * q1, (c2 + minus_price) * q2)

    def grad(self, i, x):
        i, x = self.check_player(i), self.check_x(x)
        g = np.empty(x.shape)
        g[..., i] = self.omega(x)[..., i]  # ∂f_i/∂q_i
        g[..., 1 - i] = x[..., i]  # ∂f_i/∂q_j = q_i
        if self.price_floor:
            sat = self._saturated(x)
            g[sat, 1 - i] = 0.0
        return g

    def hessian(self, i, x):
        i, x = self.check_player(i), self.check_x(x)
        H = np.array([[2.0, 1.0], [1.0, 0.0]]) if i == 0 else np.array([[0.0, 1.0], [1.0, 2.0]])
        H = np.broadcast_to(H, x.shape[:-1] + (2, 2)).copy()
        H[self._saturated(x)] = 0.0
        return H

    def dhessian(self, i, x, u):
        self.check_player(i)
        return np.zeros(self.check_x(x).shape[:-1] + (2, 2))

    def omega(self, x):
        """``ω_i = ∂f_i/∂q_i = −(A − Q − q_i − c_i)`` (where the price floor binds: ``c_i``)."""
        x = self.check_x(x)
        q1, q2 = x[..., 0], x[..., 1]
        c1, c2 = self.c.tolist()
        om = stack_last(2 * q1 + q2 - (self.A - c1), q1 + 2 * q2 - (self.A - c2))
        if self.price_floor:
            om[self._saturated(x)] = self.c
        return om

    def omega_S(self, x):
        """``(Df_1, ∇_2 f_2)`` with ``Df_1 = ∇_1 f_1 − H21ᵀ H22⁻¹ ∇_2 f_1 = ω_1 − q_1/2`` (``H21 = 1``, ``H22 = 2``,
        ``∇_2 f_1 = q_1``), i.e. ``Df_1 = 3q_1/2 + q_2 − (A − c_1)``. With a price floor ``H22`` is piecewise, so
        the generic recursion is used."""
        if self.price_floor:
            return super().omega_S(x)
        x = self.check_x(x)
        q1, q2 = x[..., 0], x[..., 1]
        c1, c2 = self.c.tolist()
        return stack_last(1.5 * q1 + q2 - (self.A - c1), q1 + 2 * q2 - (self.A - c2))

    # ------------------------------------------------------------------ closed forms
    def nash_closed_form(self) -> np.ndarray:
        """Cournot–Nash quantities ``q_i = (A + c_j − 2c_i)/3``."""
        return _nash(self.A, self.c)

    def stackelberg_closed_form(self) -> np.ndarray:
        """Stackelberg quantities ``((A + c_2 − 2c_1)/2, (A + 2c_1 − 3c_2)/4)``."""
        return _stackelberg(self.A, self.c)

    def response(self, x, k: int = 0, iters: int = 100, tol: float = 1e-12):
        """Follower's best response ``r(q_1) = (A − q_1 − c_2)/2`` in closed form (``k = 0``).

        Unconstrained minimiser of the (extended-demand) quadratic cost; callers clip to ``[0, A]``, which for
        a one-dimensional convex cost is the constrained best response. With ``price_floor`` the generic
        Newton response is used.
        """
        if self.price_floor or self.check_level(k) >= 1:
            return super().response(x, k, iters, tol)
        x = self.check_x(x).copy()
        x[..., 1] = (self.A - x[..., 0] - self.c[1]) / 2
        return x
