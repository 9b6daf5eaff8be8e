"""Hierarchical (Stackelberg) leader: gradient descent on the total derivative (Fiez et al., eqs. 1, 5, 6).

The leader believes the follower plays its local best response ``r(x_1)`` (``∇_2 f_2(x_1, r(x_1)) = 0``)
and descends its total derivative through it:

    x_{1,k+1} = x_{1,k} − γ_{1,k} (Df_1(x_k) + w_{1,k+1})                              (eqs. 5, 6)
    Df_1 = ∇_1 f_1 + Drᵀ ∇_2 f_1,  Dr = −H22⁻¹ H21  ⇒  Df_1 = ∇_1 f_1 − H21ᵀ H22⁻ᵀ ∇_2 f_1   (§2)

with ``H22 = ∂(∇_2 f_2)/∂x_2`` and ``H21 = ∂(∇_2 f_2)/∂x_1``. Paired with a gradient-play follower
(eq. 7) on a faster timescale, ``γ_{1,k} = o(γ_{2,k})``, this is the two-timescale Stackelberg learner of
§3.2 (paper defaults: duopoly ``γ_1 = 1/k, γ_2 = 1/k^{2/3}``; torus ``γ_1 = 1/k, γ_2 = 1/√k``). The same
formula with ``H22``/``H21`` the Jacobian blocks of the *stacked* lower-level fields gives the leader of
N simultaneous followers (App. C.2) and each level of a staggered chain (App. C.1).

Feedback:
    ``hierarchical``: the env supplies ``Df_1 + w`` directly (computed by the game, which raises where
    ``H22`` is singular).
    ``second_order``: the leader forms ``Df_1`` itself from the noisy ``∇_x f_1`` and the blocks
    ``H22``, ``H21`` by one batched adjoint solve ``H22ᵀ v = ∇_2 f_1``, ``Df_1 = ∇_1 f_1 − H21ᵀ v``.

Safeguard (second_order only) where ``H22`` is singular or nearly so — the implicit map ``r`` is then
undefined and the exact ``Df_1`` blows up like ``1/σ_min(H22)``:
    ``"levenberg"`` (default): for runs with ``σ_min(H22) < λ = floor·max(1, σ_max(H22))`` the solve is
        replaced by the Tikhonov/Levenberg–Marquardt solution ``v = (H22 H22ᵀ + λ² I)⁻¹ H22 ∇_2 f_1``
        (the minimiser of ``‖H22ᵀ v − ∇_2 f_1‖² + λ²‖v‖²``), which is bounded, ``‖v‖ ≤ ‖∇_2 f_1‖ / (2λ)``.
        Other runs get the exact solve, so the rule is exactly eq. (5) wherever ``H22`` is well conditioned.
    ``"eig_floor"``: (symmetric ``H22``, e.g. one follower's Hessian) eigenvalues below ``λ`` are raised to
        ``λ`` — the leader treats the follower as minimising even where ``H22`` is indefinite.
    ``"none"``: exact solve; a singular ``H22`` raises ``ValueError``.
Every regularised (run, step) is counted in ``diagnostics["regularised"]`` and warned about once (a
``RuntimeWarning``). (Run, step) pairs where the symmetric part of ``H22`` is not positive definite — the
follower's critical point is not a local minimum, so ``r`` is not a best response, but ``Df_1`` is still
well defined — are only counted, in ``diagnostics["indefinite"]`` (early iterates on the torus pass
through such regions routinely).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from agents.base import Learner, check_shape
from agents.schedules import PowerSchedule, Schedule, as_schedule

Safeguard = Literal["levenberg", "eig_floor", "none"]
SAFEGUARDS: tuple[str, ...] = ("levenberg", "eig_floor", "none")
#: Default running-average steps ``β_k = 1/√k`` for noisy second-order blocks (see :class:`HierarchicalLeader`).
BLOCK_AVERAGE = PowerSchedule(1.0, 0.5)


def check_safeguard(safeguard: str, floor: float) -> None:
    """``ValueError`` unless ``safeguard`` is one of :data:`SAFEGUARDS` and ``floor`` is positive and finite."""
    if safeguard not in SAFEGUARDS:
        raise ValueError(f"unknown safeguard {safeguard!r}; valid: {', '.join(SAFEGUARDS)}")
    if not (np.isfinite(floor) and floor > 0):
        raise ValueError(f"safeguard floor must be positive, got {floor}")


def adjoint_solve(
    H22: np.ndarray, rhs: np.ndarray, safeguard: Safeguard = "levenberg", floor: float = 1e-3
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Solve ``H22ᵀ v = rhs`` for a batch, with the safeguard described in the module docstring.

    Args:
        H22: ``(B, m, m)`` response Jacobians.
        rhs: ``(B, m)`` right-hand sides (``∇_2 f_1``).
        safeguard: ``"levenberg"``, ``"eig_floor"`` or ``"none"``.
        floor: relative threshold ``λ / max(1, σ_max)``.

    Returns:
        ``(v, regularised, indefinite)``: ``(B, m)`` solutions (NaN rows where the input is not finite) and
        ``(B,)`` masks of runs that were regularised / whose ``H22`` has a non-positive-definite symmetric part.
    """
    check_safeguard(safeguard, floor)
    B, m = rhs.shape
    v = np.full((B, m), np.nan)
    regularised = np.zeros(B, bool)
    indefinite = np.zeros(B, bool)
    ok = np.all(np.isfinite(H22), axis=(-2, -1)) & np.all(np.isfinite(rhs), axis=-1)
    if not ok.any():
        return v, regularised, indefinite
    M, g = H22[ok], rhs[ok]
    MT = np.swapaxes(M, -1, -2)
    S = (M + MT) / 2
    eig_S = np.linalg.eigvalsh(S)
    indefinite[ok] = eig_S[:, 0] <= 0
    sv = np.linalg.svd(M, compute_uv=False)
    lam = floor * np.maximum(1.0, sv[:, 0])
    if safeguard == "eig_floor":
        if not np.allclose(M, MT, rtol=1e-10, atol=1e-12 * np.max(np.abs(M), initial=1.0)):
            raise ValueError("safeguard 'eig_floor' needs a symmetric H22 (one follower's Hessian); use 'levenberg'")
        w, V = np.linalg.eigh(S)
        low = w < lam[:, None]
        w = np.maximum(w, lam[:, None])
        v[ok] = np.einsum("bij,bj->bi", V, np.einsum("bji,bj->bi", V, g) / w)
        regularised[ok] = low.any(-1)
        return v, regularised, indefinite
    near = sv[:, -1] < lam
    if safeguard == "none" and near.any():
        raise ValueError(
            f"H22 is singular (smallest singular value {sv[:, -1].min():.3g}); the follower's implicit "
            "response is not defined — use safeguard='levenberg'"
        )
    sol = np.empty_like(g)
    if (~near).any():
        sol[~near] = np.linalg.solve(MT[~near], g[~near][..., None])[..., 0]
    if near.any():
        Mn, ln = M[near], lam[near]
        A = Mn @ np.swapaxes(Mn, -1, -2) + ln[:, None, None] ** 2 * np.eye(m)
        sol[near] = np.linalg.solve(A, np.einsum("bij,bj->bi", Mn, g[near])[..., None])[..., 0]
    v[ok] = sol
    regularised[ok] = near
    return v, regularised, indefinite


def total_derivative(grad_own: np.ndarray, H21: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``Df_1 = ∇_1 f_1 − H21ᵀ v`` with ``v = H22⁻ᵀ ∇_2 f_1`` (§2); shapes (B, d_1), (B, m, d_1), (B, m)."""
    return grad_own - np.einsum("bmo,bm->bo", H21, v)


class BlockAverage:
    """Running averages ``H̄_k = H̄_{k−1} + β_k (H_k − H̄_{k−1})`` of noisy second-order blocks (a component
    of the leaders that read ``second_order`` feedback; see :class:`HierarchicalLeader`'s note).

    Args:
        steps: the averaging steps ``β_k`` (``≤ 1``); ``None`` uses each step's raw blocks.
    """

    def __init__(self, steps: Schedule | float | None = BLOCK_AVERAGE):
        self.steps = None if steps is None else as_schedule(steps, "block_average")
        if self.steps is not None and self.steps(1) > 1:
            raise ValueError(f"block_average steps must be <= 1 (a convex average), got {self.steps(1)}")
        self.bar: list[np.ndarray] | None = None

    def reset(self) -> None:
        self.bar = None

    def __call__(self, blocks: tuple[np.ndarray, ...], k: int | None, active: np.ndarray) -> tuple[np.ndarray, ...]:
        """The averaged ``blocks`` after step k (raw blocks where ``k`` is ``None`` or averaging is off); runs
        not ``active`` keep their averages."""
        if k is None or self.steps is None:
            return blocks
        if self.bar is None:
            self.bar = [b.copy() for b in blocks]
            return tuple(self.bar)
        beta = self.steps(k)
        for bar, new in zip(self.bar, blocks):
            step = np.subtract(new, bar)  # in place: blocks can be N x N
            step *= beta * active.reshape((-1,) + (1,) * (bar.ndim - 1))
            bar += step
        return tuple(self.bar)


def second_order_blocks(learner: Learner, obs: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(∇_i f_i, ∇_below f_i, H22, H21)`` of ``learner``'s player from a ``second_order`` observation,
    shape-checked (an unbatched PettingZoo observation gets a batch axis of 1)."""
    game = learner.game
    below = game.below_coords[learner.level]
    m, B = below.size, learner.num_runs
    g = check_shape(learner, obs["grad"], game.d, "grad")
    H22, H21 = np.asarray(obs["H22"], float), np.asarray(obs["H21"], float)
    if B == 1 and H22.ndim == 2:
        H22, H21 = H22[None], H21[None]
    if H22.shape != (B, m, m) or H21.shape != (B, m, learner.dim):
        raise ValueError(
            f"{learner.name} on {learner.agent!r}: second_order blocks must have shapes ({B}, {m}, {m}) and "
            f"({B}, {m}, {learner.dim}), got {H22.shape} and {H21.shape}"
        )
    return g[:, learner.slice], g[:, below], H22, H21


def hierarchical_direction(
    learner: Learner, obs: Any, k: int | None, average: BlockAverage, safeguard: Safeguard, floor: float
) -> np.ndarray:
    """``Df_i`` ``(B, d_i)`` for ``learner``'s player: the ``hierarchical`` observation itself, or from
    ``second_order`` blocks (averaged by ``average``) by the safeguarded adjoint solve (eq. 5, §2); regularised
    and indefinite runs are counted in ``learner.diagnostics``."""
    if not isinstance(obs, dict):
        return check_shape(learner, obs, learner.dim, "observation (Df_1)")
    if learner.game.below_coords[learner.level].size == 0:  # bottom level (a chain's last follower): ∇_i f_i
        return learner._own_gradient(obs)
    g1, g2, H22, H21 = second_order_blocks(learner, obs)
    H22, H21 = average((H22, H21), k, learner.active)
    v, reg, indef = adjoint_solve(H22, g2, safeguard, floor)
    reg, indef = reg & learner.active, indef & learner.active
    learner._count("regularised", reg.sum())
    learner._count("indefinite", indef.sum())
    if reg.any():
        learner._warn_once(
            "regularised", f"H22 nearly singular in some runs; used the {safeguard!r} safeguard (counted)"
        )
    return total_derivative(g1, H21, v)


class HierarchicalLeader(Learner):
    """Leader descending its total derivative ``Df_1`` (eqs. 5–6).

    Args:
        lr: leader step sizes ``γ_{1,k}`` (default ``1/k``, the paper's choice for duopoly and torus).
        safeguard: how a (nearly) singular ``H22`` is handled under ``second_order`` feedback (module doc).
        floor: relative singular-value / eigenvalue floor ``λ / max(1, σ_max(H22))`` for the safeguard.
        block_average: step sizes ``β_k`` of running averages of the noisy ``H22``/``H21`` blocks
            (``second_order`` only; ``None`` uses each step's raw blocks). See the note.

    Note (noisy second-order feedback): ``Df_1`` is linear in ``∇_x f_1`` and ``H21`` but not in ``H22``, so
    plugging a noisy ``H22 + W`` into the solve is *biased* (``E[(H22 + W)⁻¹] ≠ H22⁻¹``) and heavy-tailed
    (``1/(H22 + W)`` has no finite variance when ``W`` has a density at ``−H22``). The leader therefore
    solves with running averages (:class:`BlockAverage`). The default ``β_k = 1/√k`` decays more slowly than
    any follower step of the paper (``1/k^{2/3}``) or leader step (``1/k``), so the averages track the blocks'
    drift along the iterates (exactly constant for quadratic games) while their noise vanishes like ``β_k``:
    a third, fastest timescale.
    """

    name = "hierarchical"
    roles = frozenset({"leader"})
    needs = "total_derivative"

    def __init__(
        self,
        lr: Schedule | float | None = None,
        safeguard: Safeguard = "levenberg",
        floor: float = 1e-3,
        block_average: Schedule | float | None = BLOCK_AVERAGE,
    ):
        super().__init__()
        self.lr = as_schedule(lr if lr is not None else PowerSchedule(1.0, 1.0), "lr")
        check_safeguard(safeguard, floor)
        self.safeguard, self.floor = safeguard, float(floor)
        self.average = BlockAverage(block_average)

    def _reset(self) -> None:
        self.average.reset()

    def direction(self, obs: Any, k: int | None = None) -> np.ndarray:
        """The (noisy) total derivative ``Df_1``, shape ``(B, d_1)``, from either feedback mode.

        Args:
            obs: a ``hierarchical`` observation (``Df_1`` itself) or a ``second_order`` dict.
            k: iteration index; given, ``second_order`` blocks are averaged over steps (``update`` passes it).
        """
        return hierarchical_direction(self, obs, k, self.average, self.safeguard, self.floor)

    def _step(self, obs: Any, reward: Any, k: int) -> np.ndarray:
        return self.x - self.lr(k) * self.direction(obs, k)
