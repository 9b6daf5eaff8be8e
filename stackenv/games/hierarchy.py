"""Staggered K-level Cournot chain (Fiez, Chasnov & Ratliff, App. C.1).

Description:
    ``K`` firms produce one good and move in sequence: firm ``j`` commits after observing firms ``1..j−1``
    and before firms ``j+1..K``, anticipating their (nested) responses. Inverse demand ``P = A − Q``,
    ``Q = Σ_k q_k``. Firm 1 is the slowest learner (the leader), firm K the fastest (App. C.1).

Players and roles:
    ``leader`` (level 0), ``follower_0`` (level 1), …, ``follower_{K−2}`` (level K−1); one player per level,
    scalar actions.

Actions and bounds:
    Quantities ``q_k ∈ [0, A]`` (units of the good).

Costs (negative profits, money units):
    ``f_k(q) = −(A − Q − c_k) q_k = ½ qᵀ(e_k 1ᵀ + 1 e_kᵀ) q − (A − c_k) q_k`` (a quadratic game; the linear
    demand is extended past ``Q > A`` as in the duopoly's default). ``ω_S`` and ``J_S`` come from the generic
    bottom-up recursion of :class:`~stackenv.games.base.Game`: level j differentiates through the responses
    of all levels below it, defined by their own total-derivative stationarity conditions.

Closed-form Stackelberg equilibrium (backward induction; 1-indexed firms, ``S_j = Σ_{m<j} q_m``):
    Let the firms below j respond to the output ``S`` above them with total ``T_{j+1}(S) = α_{j+1}(A − S) − β_{j+1}``.
    Firm K's best response gives ``α_K = ½``, ``β_K = c_K/2``. Firm j maximises
    ``q_j((1 − α_{j+1})(A − S_j − q_j) + β_{j+1} − c_j)``, so ``q_j = (A − S_j)/2 + (β_{j+1} − c_j)/(2(1 − α_{j+1}))``,
    and ``α_j = (1 + α_{j+1})/2``, ``β_j = (β_{j+1} + c_j)/2``. Hence ``1 − α_{j+1} = 2^{−(K−j)}``,
    ``β_{j+1} = Σ_{m>j} 2^{−(m−j)} c_m`` and

        ``q_j = (A − S_j + Σ_{m>j} 2^{K−m} c_m − 2^{K−j} c_j) / 2``.

    With equal costs ``q_j = (A − c)/2^j``. (For K ≥ 3 the weights on the lower firms' costs are ``2^{K−m}``,
    largest for the firm just below j, not ``2^{m−j−1}``.) Tested against sympy backward induction and
    nested numeric optimisation.
    Nash (all K simultaneous): ``q_k = (A + Σ_m c_m)/(K + 1) − c_k``.

Parameters:
    ``A`` (demand intercept, > every cost), ``costs`` (unit costs ``c_1..c_K ≥ 0``, ``2 ≤ K = len(costs) ≤ 200``). Both
    equilibria must be interior (every quantity > 0); otherwise ``ValueError``.

Version history:
    v0: initial version.
"""

from __future__ import annotations

import numpy as np

from stackenv.games.base import Player, as_float_array
from stackenv.games.cournot import check_costs, check_interior
from stackenv.games.quadratic import QuadraticBase, role_names
from stackenv.games.registry import register

#: Most levels a chain may have: the game holds K dense K×K cost matrices Q_k (K³ floats, 64 MB at K = 200) and
#: ``J_S`` costs O(K⁴); the closed form alone would fail only past K ≈ 1024 (weights 2^{K−1}, quantities 2^{−K}).
MAX_LEVELS = 200


@register
class Hierarchy(QuadraticBase):
    """K firms in a staggered Stackelberg chain with linear inverse demand."""

    name = "hierarchy"
    defaults = {"A": 100.0, "costs": (5.0, 2.0, 3.0)}

    def __init__(self, A: float = 100.0, costs=(5.0, 2.0, 3.0)):
        self.A = float(as_float_array(A, "A", ()))
        c = as_float_array(costs, "costs")
        if c.ndim != 1 or c.size < 2:
            raise ValueError(f"hierarchy: costs must list K >= 2 unit costs (one per level), got shape {c.shape}")
        if c.size > MAX_LEVELS:
            raise ValueError(
                f"hierarchy: at most {MAX_LEVELS} levels, got K = {c.size} (the game holds K dense K×K cost "
                f"matrices: {8 * c.size**3 / 1e9:.3g} GB)"
            )
        check_costs("hierarchy", self.A, c)
        self.costs_ = c
        self.K = K = c.size
        check_interior("hierarchy", {"Nash": self.nash_closed_form(), "Stackelberg": self.stackelberg_closed_form()})
        E = np.eye(K)
        Q = E[:, :, None] + E[:, None, :]  # Q_k = e_k 1ᵀ + 1 e_kᵀ
        q = -(self.A - c)[:, None] * E
        levels = [[k] for k in range(K)]
        players = [Player.box(name, 1, 0.0, self.A) for name in role_names(levels)]
        self._init_quadratic(players, levels, Q, q)

    @property
    def params(self):
        return {"A": self.A, "costs": self.costs_.tolist()}

    def nash_closed_form(self) -> np.ndarray:
        """All K firms simultaneous (Cournot): ``q_k = (A + Σ c)/(K + 1) − c_k``."""
        return (self.A + self.costs_.sum()) / (self.K + 1) - self.costs_

    def stackelberg_closed_form(self) -> np.ndarray:
        """Backward induction: ``q_j = (A − S_j + Σ_{m>j} 2^{K−m} c_m − 2^{K−j} c_j)/2``."""
        K, c = self.K, self.costs_
        q = np.zeros(K)
        for j in range(K):  # 0-indexed j ↔ firm j+1: weights 2^{K−1−m}
            lower = sum(2.0 ** (K - 1 - m) * c[m] for m in range(j + 1, K))
            q[j] = (self.A - q[:j].sum() + lower - 2.0 ** (K - 1 - j) * c[j]) / 2
        return q
