"""A leader above N simultaneous followers (Fiez et al., App. C.2), and the default N-follower learners.

The followers play a Nash game among themselves for each leader action; stacking their individual gradients
``ω_F(x_1, x_F)`` with ``H22 = ∂ω_F/∂x_F`` (N·d_F square) and ``H21 = ∂ω_F/∂x_1``, the implicit function
theorem gives ``Dr = −H22⁻¹ H21`` and the leader's total derivative

    Df_1 = ∇_1 f_1 − H21ᵀ H22⁻ᵀ ∇_F f_1                                          (App. C.2; eq. 1)

— one *adjoint* solve ``H22ᵀ v = ∇_F f_1`` per step, never an explicit inverse. The leader descends it on the
slow timescale, ``x_1 ← x_1 − γ_{1,k} (Df_1 + w)``.

Feedback:
    ``hierarchical``: ``Df_1`` comes from the env, which evaluates the game's ``omega_S`` — structured
        families use their own fast path (the oligopoly's closed-form ``O(N)`` ``Df_1``).
    ``second_order``: the leader solves ``H22ᵀ v = ∇_F f_1`` itself on the dense blocks the env sends, by a
        Krylov method (:func:`stackenv.linalg.krylov_adjoint_solve`). The blocks are ``N × N``: this path is
        for small N (it is the check that the structured path computes the same ``Df_1``).

Default learners and their step sizes (:func:`n_follower_learners`). Two facts of the game set the scales:

- The leader's *reduced curvature* ``μ`` — the curvature of ``x_1 ↦ f_1(x_1, r(x_1))``, the Schur complement
  of ``J_S`` (for Cournot ``μ = 2/(N + 1)``) — is the slope of ``Df_1`` along the response. The leader's step
  is ``γ_{1,k} = 1/(μ (k + 1))``: a Newton step on the reduced cost that decays like ``1/k`` (the
  stochastic-approximation rate; the error of the average of the noise is ``σ/(μ√k)``).
- The followers' Jacobian ``H22`` can be badly conditioned (Cournot: ``I + 11ᵀ``, condition number ``N + 1``),
  so simultaneous gradient play needs ``O(N)`` steps, and with simultaneous updates the followers' lag caps
  the leader's rate at ``O(1/N)`` per step as well (the leader's partial curvature is ~1, its reduced one
  ``2/(N + 1)``). The default followers are therefore one :class:`~agents.newton_response.NewtonResponse`
  block: they observe the leader's committed action, move along their implicit response ``Dr Δx_1`` and take
  a damped Newton step ``β_k H22⁻¹ ω_F`` on their own noisy gradients — every matrix used only through
  products with the game's Jacobian (``jacobian_product``, ``O(N)``). Their error contracts by ``1 − β_k`` per
  step whatever N is, and the leader sees ``Df_1`` at (nearly) the response, so its ``1/k`` Newton schedule
  is stable: two timescales, ``γ_{1,k} μ = 1/(k + 1) = o(β_k)``, ``β_k = min(1, (10/k)^{0.6})``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.base import Learner, check_shape
from agents.gradient import GradientPlay
from agents.hierarchical import BLOCK_AVERAGE, BlockAverage, second_order_blocks, total_derivative
from agents.newton_response import NewtonResponse, response_direction
from agents.schedules import PowerSchedule, Schedule, as_schedule
from stackenv.games.base import Game
from stackenv.linalg import (  # noqa: F401  (re-exported: their home before stackenv.linalg)
    SOLVERS,
    Solver,
    batched_cg,
    batched_gmres,
    check_solver,
    jvp,
    krylov_adjoint_solve,
)


class NFollowerLeader(Learner):
    """Leader descending ``Df_1`` through N simultaneous followers' Nash response (App. C.2).

    Args:
        lr: leader step sizes (default ``1/k``; :func:`n_follower_learners` scales it by the game's ``1/μ``).
        solver: Krylov method for ``second_order`` feedback (``"auto"``, ``"cg"``, ``"gmres"``).
        rtol: Krylov relative residual tolerance.
        block_average: running-average steps for noisy ``H22``/``H21`` (see
            :class:`~agents.hierarchical.HierarchicalLeader`).
    """

    name = "n_followers"
    roles = frozenset({"leader"})
    needs = "total_derivative"

    def __init__(
        self,
        lr: Schedule | float | None = None,
        solver: Solver = "auto",
        rtol: float = 1e-10,
        block_average: Schedule | float | None = BLOCK_AVERAGE,
    ):
        super().__init__()
        self.lr = as_schedule(lr if lr is not None else PowerSchedule(1.0, 1.0), "lr")
        check_solver(solver)
        if not (0 < rtol < 1):
            raise ValueError(f"rtol must lie in (0, 1), got {rtol}")
        self.solver, self.rtol = solver, float(rtol)
        self.average = BlockAverage(block_average)

    def _reset(self) -> None:
        self.average.reset()

    def direction(self, obs: Any, k: int | None = None) -> np.ndarray:
        """``Df_1`` ``(B, d_1)``: the ``hierarchical`` observation, or by a Krylov adjoint solve on the blocks."""
        if not isinstance(obs, dict):
            return check_shape(self, obs, self.dim, "observation (Df_1)")
        g1, gF, H22, H21 = second_order_blocks(self, obs)
        H22, H21 = self.average((H22, H21), k, self.active)
        finite = np.all(np.isfinite(H22), axis=(-2, -1)) & np.all(np.isfinite(gF), axis=-1)
        v = np.full(gF.shape, np.nan)
        ok = np.zeros(self.num_runs, bool)
        v[finite], ok[finite] = krylov_adjoint_solve(H22[finite], gF[finite], self.solver, self.rtol)
        bad = finite & ~ok & self.active
        self._count("krylov_unconverged", bad.sum())
        if bad.any():
            self._warn_once("krylov", "Krylov adjoint solve did not converge in some runs (counted)")
        return total_derivative(g1, H21, v)

    def _step(self, obs: Any, reward: Any, k: int) -> np.ndarray:
        return self.x - self.lr(k) * self.direction(obs, k)


def _centre(game: Game) -> np.ndarray:
    return ((game.low + game.high) / 2)[None]


def reduced_curvature(game: Game, leader: int = 0, x: np.ndarray | None = None) -> float:
    """The largest eigenvalue of the leader's reduced Hessian (curvature of ``x_1 ↦ f_1(x_1, r(x_1))``) at ``x``
    (default: the centre of the domain), in ``O(d_1 · N)``: ``Df_1``'s derivative along ``(e_j, Dr e_j)``.

    Raises ``ValueError`` where the reduced cost is not strictly convex (no local Stackelberg minimum to
    descend to, so no step scale).
    """
    x = _centre(game) if x is None else np.asarray(x, float).reshape(1, game.d)
    own = game.slices[leader]
    H = np.empty((own.stop - own.start,) * 2)
    for j in range(H.shape[0]):
        e = np.zeros_like(x)
        e[:, own.start + j] = 1.0
        e += response_direction(game, game.level_of[leader], x, e)
        H[:, j] = jvp(game.omega_S, x, e, affine=game.quadratic)[0, own]
    eig = np.linalg.eigvalsh((H + H.T) / 2)
    if not eig[0] > 0:
        raise ValueError(f"{game.name}: the leader's reduced cost is not strictly convex at {x[0]} (eigenvalues {eig})")
    return float(eig[-1])


def follower_step_scale(game: Game, x: np.ndarray | None = None, level: int = 0, iters: int = 50) -> float:
    """``1/‖H22‖₂`` for the levels below ``level`` at ``x`` (default: the centre of the domain), by power
    iteration on ``H22ᵀ H22`` with products through the game's ``jacobian_product`` (``O(N)`` for structured games).
    Gradient play with ``γ_2 ≤`` this is stable for symmetric positive definite ``H22``."""
    x = _centre(game) if x is None else np.asarray(x, float).reshape(1, game.d)
    b = game.below_coords[level]

    def H22(u: np.ndarray) -> np.ndarray:
        z = np.zeros_like(x)
        z[:, b] = u
        return game.jacobian_product(x, z)[:, b]

    u = np.full((1, b.size), 1 / np.sqrt(b.size))
    s = 1.0
    for _ in range(iters):
        w = H22(u)
        s = float(np.linalg.norm(w))
        if s == 0:
            raise ValueError(f"{game.name}: the followers' Jacobian vanishes at {x[0]}")
        u = w / s
    return 1.0 / s


def n_follower_learners(
    game: Game,
    leader_lr: Schedule | float | None = None,
    follower_lr: Schedule | float | None = None,
    solver: Solver = "auto",
) -> dict[str, Learner]:
    """An :class:`NFollowerLeader` and one learner for *all* followers (a block, see ``agents.base``).

    Defaults (module docstring): leader ``γ_{1,k} = 1/(μ (k + 1))`` with ``μ`` the leader's reduced curvature
    (:func:`reduced_curvature`); followers one :class:`~agents.newton_response.NewtonResponse` block. Given
    ``follower_lr``, the followers are one :class:`~agents.gradient.GradientPlay` block with that schedule
    instead (e.g. ``PowerSchedule(follower_step_scale(game), 2/3)``: simultaneous gradient play, which needs
    ``O(N)`` steps on a Cournot market). Everything here is ``O(N)`` time and memory.
    """
    if len(game.levels) != 2 or len(game.levels[0]) != 1:
        raise ValueError(f"{game.name}: n_follower_learners needs one leader above one level of followers")
    if leader_lr is None:
        leader_lr = PowerSchedule(1.0 / reduced_curvature(game, game.levels[0][0]), 1.0, 1.0)
    followers = NewtonResponse() if follower_lr is None else GradientPlay(follower_lr)
    learners: dict[str, Learner] = {game.agents[game.levels[0][0]]: NFollowerLeader(leader_lr, solver=solver)}
    learners.update(dict.fromkeys((game.agents[i] for i in game.levels[1]), followers))
    return learners
