"""The differentiable-game quantities that the full-information rules share (SOS, LA, SGA, CO, CGD).

Notation of Balduzzi et al. (2018) and Letcher et al. (2019), in this suite's names: players ``i = 1..n`` with
costs (losses) ``f_i``; the simultaneous gradient ``ξ = ω = (∇_1 f_1, …, ∇_n f_n)``; the game Jacobian
``J = ∇ξ`` (their "game Hessian" ``H``) with blocks ``J_ij = ∇_j ∇_i f_i``; its off-diagonal part ``H_o``
(``J_ij`` for ``i ≠ j``, zero diagonal blocks); its antisymmetric part ``A = (J − Jᵀ)/2``; and LOLA's shaping
term ``χ = diag(H_oᵀ ∇L)``, i.e. ``χ_i = Σ_{j≠i} J_jiᵀ ∇_j f_i`` — how player i's move changes the others'
gradient steps, weighted by how their moves change ``f_i``.

Feedback. Every player needs ``ξ`` and ``J`` of the whole game (the SOS criterion also every player's
``∇_x f_j``): the ``jacobian`` blocks of ``second_order`` feedback, ``grads`` ``(B, n, d)`` (row j =
``∇_x f_j``) and ``J`` ``(B, d, d)`` (see ``stackenv.envs.engine``; games with ``d ≤ GAME_BLOCKS_MAX_D``).
With noise each block carries its own independent noise, so products of two blocks (``H_o ξ``, ``Jᵀξ``,
``χ``) are unbiased; the rules use each step's raw blocks.

Every rule here computes the *joint* direction (all players' blocks, as each paper writes it) and the learner
keeps its own slice: a player using one of these rules assumes nothing about the others' rules (in a
leader–follower seat it ignores the hierarchy: these are simultaneous-move rules).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from agents.base import Learner
from agents.schedules import PowerSchedule, Schedule, as_schedule
from stackenv.envs.engine import GAME_BLOCKS_MAX_D


@dataclass(frozen=True)
class GameBlocks:
    """One step's (noisy) blocks for B runs: ``grads`` ``(B, n, d)``, ``J`` ``(B, d, d)``, ``xi`` ``(B, d)``."""

    grads: np.ndarray
    J: np.ndarray
    xi: np.ndarray


def check_jacobian_game(learner: Learner) -> None:
    """``ValueError`` unless the bound game is small enough for ``second_order`` to carry the dense blocks."""
    if learner.game.d > GAME_BLOCKS_MAX_D:
        raise ValueError(
            f"learner {learner.name!r} needs the game Jacobian J (d x d) in its feedback, which second_order "
            f"provides for games with at most {GAME_BLOCKS_MAX_D} coordinates; {learner.game.name} has {learner.game.d}"
        )


def check_weight(value: Any, what: str, allow_none: bool = True) -> float | None:
    """A positive finite number (or ``None`` where the rule derives it from the game); ``ValueError`` otherwise."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{what} must be a positive number{' or None' if allow_none else ''}, got {value!r}")
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{what} must be positive and finite, got {value!r}")
    return float(value)


def spectral_scale(J: np.ndarray) -> np.ndarray:
    """``1 / ‖J‖₂`` per run ``(B, 1)`` (``1`` where ``J = 0``): the unit-free weight of a ``Jᵀξ``-type term.

    ``ξ`` has units cost/action and ``Jᵀξ`` cost²/action³, so a weight on ``Jᵀξ`` that is not tuned to one game
    must scale like ``1/‖J‖``; this makes the adjustment of the same order as ``ξ`` itself."""
    norm = np.linalg.norm(J, ord=2, axis=(-2, -1))
    return np.where(norm > 0, 1.0 / np.where(norm > 0, norm, 1.0), 1.0)[:, None]


def simultaneous_gradient(grads: np.ndarray, slices: list[slice]) -> np.ndarray:
    """``ξ = (∇_1 f_1, …, ∇_n f_n)`` ``(B, d)`` from every player's gradient ``grads`` ``(B, n, d)``."""
    return np.concatenate([grads[:, j, sl] for j, sl in enumerate(slices)], axis=-1)


def read_blocks(learner: Learner, obs: Any) -> GameBlocks:
    """The ``grads``/``J`` blocks of a ``second_order`` observation, shape-checked (PettingZoo's unbatched
    observation gets a batch axis of 1)."""
    game, B = learner.game, learner.num_runs
    if not isinstance(obs, dict) or "J" not in obs or "grads" not in obs:
        raise ValueError(
            f"{learner.name} on {learner.agent!r} needs second_order feedback with the 'grads' and 'J' blocks, "
            f"got {type(obs).__name__}{'' if not isinstance(obs, dict) else ' with keys ' + str(sorted(obs))}"
        )
    grads, J = np.asarray(obs["grads"], float), np.asarray(obs["J"], float)
    if B == 1 and J.ndim == 2:
        grads, J = grads[None], J[None]
    if grads.shape != (B, game.n, game.d) or J.shape != (B, game.d, game.d):
        raise ValueError(
            f"{learner.name} on {learner.agent!r}: blocks 'grads' and 'J' must have shapes ({B}, {game.n}, "
            f"{game.d}) and ({B}, {game.d}, {game.d}), got {grads.shape} and {J.shape}"
        )
    return GameBlocks(grads, J, simultaneous_gradient(grads, game.slices))


def game_blocks(game: Any, x: np.ndarray) -> GameBlocks:
    """The noise-free blocks at joint actions ``x`` ``(B, d)``, from the game's own derivatives (what
    ``second_order`` feedback carries without noise): for fields, phase portraits and tests."""
    x = np.atleast_2d(np.asarray(x, float))
    grads = np.stack([np.asarray(game.grad(j, x), float) for j in range(game.n)], axis=1)
    return GameBlocks(grads, np.asarray(game.jacobian(x), float), np.asarray(game.omega(x), float))


def off_diagonal(J: np.ndarray, slices: list[slice]) -> np.ndarray:
    """``H_o``: ``J`` with its diagonal blocks ``J_ii`` set to zero; ``(B, d, d)``."""
    H_o = J.copy()
    for sl in slices:
        H_o[:, sl, sl] = 0.0
    return H_o


def shaping_term(J: np.ndarray, grads: np.ndarray, slices: list[slice]) -> np.ndarray:
    """LOLA's ``χ = diag(H_oᵀ ∇L)``: ``χ_i = Σ_{j≠i} J_jiᵀ ∇_j f_i``, shape ``(B, d)``."""
    H_o = off_diagonal(J, slices)
    return np.concatenate([np.einsum("bji,bj->bi", H_o[:, :, sl], grads[:, i]) for i, sl in enumerate(slices)], axis=-1)


def matvec(M: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``M v`` over a batch: ``(B, d, d) × (B, d) → (B, d)``."""
    return np.einsum("bij,bj->bi", M, v)


def rmatvec(M: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``Mᵀ v`` over a batch: ``(B, d, d) × (B, d) → (B, d)``."""
    return np.einsum("bji,bj->bi", M, v)


class JointRule(Learner):
    """A full-information rule: ``x_i ← x_i − γ_k v_i`` with ``v`` the rule's joint direction at step k.

    A rule file defines :meth:`joint_direction` (its paper's formula, as a function of the blocks) and its
    own parameters; this class holds the step sizes ``lr`` (a number for a constant step or a schedule;
    default ``1/k``, as gradient play) and reads the blocks.
    """

    roles = frozenset({"leader", "follower"})
    needs = "jacobian"

    def __init__(self, lr: Schedule | float | None = None):
        super().__init__()
        self.lr = as_schedule(lr if lr is not None else PowerSchedule(1.0, 1.0), "lr")

    def _bind(self) -> None:
        check_jacobian_game(self)

    def joint_direction(self, blocks: GameBlocks, gamma: float) -> np.ndarray:
        """The rule's direction for every player ``(B, d)`` at step size ``gamma`` (the players' step)."""
        raise NotImplementedError

    def _step(self, obs: Any, reward: Any, k: int) -> np.ndarray:
        gamma = self.lr(k)
        return self.x - gamma * self.joint_direction(read_blocks(self, obs), gamma)[:, self.slice]
