"""Stable Opponent Shaping (SOS) — LOLA's shaping where it helps, LookAhead where it would not converge.

Letcher, Foerster, Balduzzi, Rocktäschel & Whiteson (2019), "Stable Opponent Shaping in Differentiable Games",
ICLR, §3–4 (notation of :mod:`agents.differentiable`). With ``ξ_0 = (I − α H_o) ξ`` (LookAhead) and LOLA's
shaping term ``χ = diag(H_oᵀ ∇L)``, ``χ_i = Σ_{j≠i} J_jiᵀ ∇_j f_i``:

    LOLA:  ξ_LOLA = (I − α H_o) ξ − α χ                              (their §3; LA plus shaping)
    SOS:   ξ_p    = ξ_0 − p α χ,  p = min(p_1, p_2)                   (their §4, the criterion)
           p_1 = 1 if ⟨−αχ, ξ_0⟩ ≥ 0, else min(1, −a ‖ξ_0‖² / ⟨−αχ, ξ_0⟩)
           p_2 = 1 if ‖ξ‖ ≥ b, else ‖ξ‖²

``p_1`` keeps the shaping term from pointing against LookAhead by more than ``a ‖ξ_0‖²`` (so ``ξ_p`` stays a
descent-like direction for LA's convergence argument); ``p_2`` switches shaping off near fixed points
(``ξ → 0``), where LOLA's ``χ`` need not vanish and would move the fixed point ("arrogance"). Hence SOS has
the fixed points of LA — the zeros of ``ξ`` — and inherits LA's local convergence to stable fixed points.
``p`` is one number per run, shared by all players, as in the paper.

Arrogance, concretely: on the SOS paper's Tandem game ``f_1 = (x + y)² − 2x``, ``f_2 = (x + y)² − 2y`` every
point of ``x + y = 1`` is a stable fixed point, but LOLA (``p = 1``) has ``ξ_LOLA,i = (1 − 2α)(2s − 2) − 4αs``
with ``s = x + y``, which vanishes at ``s = (1 − 2α)/(1 − 4α) ≠ 1``; SOS reaches ``s = 1``.

Defaults: ``lr`` ``1/k``; ``lookahead`` α = ``None`` (the own step ``γ_k``, as :mod:`agents.lookahead`);
``a = 0.5``, ``b = 0.1`` (the paper's hyper-parameters); ``p = "criterion"`` — or a number in ``[0, 1]``:
``p = 1`` is LOLA in Letcher et al.'s form (the suite's leader-only ``lola`` is Fiez et al.'s shaping-only
form), ``p = 0`` is LookAhead. ``b`` is in the units of ``ξ`` (cost per action), as in the paper.

Feedback: ``second_order`` with the ``jacobian`` blocks (``ξ``, ``J`` and every player's ``∇_x f_j``; any seat).
"""

from __future__ import annotations

import numpy as np

from agents.differentiable import GameBlocks, JointRule, check_weight, shaping_term
from agents.lookahead import lookahead_direction
from agents.schedules import Schedule


def sos_p(xi: np.ndarray, xi_0: np.ndarray, chi: np.ndarray, alpha: float, a: float, b: float) -> np.ndarray:
    """The SOS criterion ``p = min(p_1, p_2)`` per run ``(B, 1)`` (module docstring)."""
    dot = np.einsum("bi,bi->b", -alpha * chi, xi_0)
    neg = dot < 0
    p1 = np.ones_like(dot)
    p1[neg] = np.minimum(1.0, -a * np.einsum("bi,bi->b", xi_0[neg], xi_0[neg]) / dot[neg])
    norm2 = np.einsum("bi,bi->b", xi, xi)
    p2 = np.where(norm2 < b * b, norm2, 1.0)
    return np.minimum(p1, p2)[:, None]


class SOS(JointRule):
    """Stable Opponent Shaping: ``x ← x − γ_k (ξ_0 − p α χ)`` (the player's block).

    Args:
        lr: step sizes ``γ_k`` (number or schedule; default ``1/k``).
        lookahead: α (``None``: the own ``γ_k``).
        a, b: the criterion's parameters (paper: 0.5, 0.1).
        p: ``"criterion"`` (SOS) or a fixed interpolation in ``[0, 1]`` (1: LOLA, 0: LookAhead).
    """

    name = "sos"

    def __init__(
        self,
        lr: Schedule | float | None = None,
        lookahead: float | None = None,
        a: float = 0.5,
        b: float = 0.1,
        p: str | float = "criterion",
    ):
        super().__init__(lr)
        self.lookahead = check_weight(lookahead, "lookahead")
        self.a, self.b = check_weight(a, "a", False), check_weight(b, "b", False)
        if not (p == "criterion" or (isinstance(p, int | float) and not isinstance(p, bool) and 0 <= p <= 1)):
            raise ValueError(f"p must be 'criterion' or a number in [0, 1], got {p!r}")
        self.p = p

    def joint_direction(self, blocks: GameBlocks, gamma: float) -> np.ndarray:
        alpha = gamma if self.lookahead is None else self.lookahead
        slices = self.game.slices
        xi_0 = lookahead_direction(blocks, alpha, slices)
        chi = shaping_term(blocks.J, blocks.grads, slices)
        p = sos_p(blocks.xi, xi_0, chi, alpha, self.a, self.b) if self.p == "criterion" else float(self.p)
        return xi_0 - p * alpha * chi
