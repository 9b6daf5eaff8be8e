"""Competitive Gradient Descent (CGD) — each step is the Nash equilibrium of the local bilinear game.

Schäfer & Anandkumar (2019), "Competitive Gradient Descent", NeurIPS, §2. For two players (x minimises f,
y minimises g) the step solves the regularised bilinear approximation

    min_Δx  Δxᵀ∇_x f + Δxᵀ D²_xy f Δy + ‖Δx‖²/(2η),     min_Δy  Δyᵀ∇_y g + Δyᵀ D²_yx g Δx + ‖Δy‖²/(2η)

whose unique Nash equilibrium is their update (§2, Algorithm 1)

    Δx = −η (I − η² D²_xy f D²_yx g)⁻¹ (∇_x f − η D²_xy f ∇_y g)   (and symmetrically Δy).

n players (the blockwise generalisation used here). Player i's local problem is
``min Δx_iᵀ ξ_i + Σ_{j≠i} Δx_iᵀ J_ij Δx_j + ‖Δx_i‖²/(2η)`` with ``J_ij = ∇_j ∇_i f_i``; its first-order
conditions for all i together read ``Δx/η + H_o Δx = −ξ``, so

    Δx = −η (I + η H_o)⁻¹ ξ

(for n = 2, eliminating ``Δy`` gives the formula above with ``D²_xy f = J_12``, ``D²_yx g = J_21``). This is the
seat rule for any player of an n-player game, a leader above N followers included: the local game is
simultaneous (CGD ignores the hierarchy). Fixed points are the zeros of ``ξ``; on ``f = x_1 x_2`` the step is
``−η/(1 + η²) [[η, 1], [−1, η]] x``: contraction by ``1/√(1 + η²)`` per step, no rotation outward.

Where ``I + ηH_o`` is singular (general-sum games with ``η² J_12 J_21 = I`` in some direction) the least-squares
solution is used and the (run, step) counted in ``diagnostics["singular"]``.

Step and local game. In the paper η is both the step and the local game's regularisation. ``eta=None`` (the
default) keeps that: ``η = γ_k``. A fixed ``eta`` solves the local game with that η and steps ``γ_k`` along
``(I + ηH_o)⁻¹ξ`` (the paper's rule whenever ``γ_k = η``). Why it matters with noise: on ``f = x_1 x_2`` the
direction ``(I + ηJ)⁻¹ J`` has eigenvalues ``(η ± i)/(1 + η²)``, so the damping per step is ``γ_k η/(1 + η²)`` —
second order in a decaying ``γ_k`` when ``η = γ_k``, too weak to average noise out (``Σγ_k² < ∞``), first order
with a fixed η.

Defaults: ``lr`` ``1/k`` (as gradient play); ``eta`` ``None`` (``γ_k``).
Feedback: ``second_order`` with the ``jacobian`` blocks (``ξ`` and ``J``; any seat).
"""

from __future__ import annotations

import numpy as np

from agents.differentiable import GameBlocks, JointRule, check_weight, off_diagonal
from agents.schedules import Schedule


def cgd_step(blocks: GameBlocks, eta: float, slices: list[slice]) -> tuple[np.ndarray, np.ndarray]:
    """``(I + η H_o)⁻¹ ξ`` ``(B, d)`` (so that ``Δx = −η ·`` it) and the ``(B,)`` mask of singular systems."""
    M = np.eye(blocks.xi.shape[-1]) + eta * off_diagonal(blocks.J, slices)
    finite = np.isfinite(M).all(axis=(-2, -1))
    cond = np.full(M.shape[0], np.inf)
    cond[finite] = np.linalg.cond(M[finite])
    singular = finite & (cond > 1e12)
    out = np.full_like(blocks.xi, np.nan)
    ok = finite & ~singular
    if ok.any():
        out[ok] = np.linalg.solve(M[ok], blocks.xi[ok][..., None])[..., 0]
    for b in np.flatnonzero(singular):
        out[b] = np.linalg.lstsq(M[b], blocks.xi[b], rcond=None)[0]
    return out, singular


class CGD(JointRule):
    """Competitive gradient descent: ``x ← x − γ_k [(I + η H_o)⁻¹ ξ]`` (the player's block).

    Args:
        lr: step sizes γ_k (number or schedule; default ``1/k``).
        eta: the local game's η (``None``: ``γ_k``, the paper's CGD).
    """

    name = "cgd"

    def __init__(self, lr: Schedule | float | None = None, eta: float | None = None):
        super().__init__(lr)
        self.eta = check_weight(eta, "eta")

    def joint_direction(self, blocks: GameBlocks, gamma: float) -> np.ndarray:
        eta = gamma if self.eta is None else self.eta
        direction, singular = cgd_step(blocks, eta, self.game.slices)
        self._count("singular", (singular & self.active).sum())
        return direction
