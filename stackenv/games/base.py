"""The game interface: players in hierarchy order, costs and their exact derivatives, batched.

A game is pure math. Joint actions are arrays ``x`` of shape ``(..., d)`` (any leading batch axes),
the concatenation ``x = (x_1, ..., x_n)`` of the players' actions in hierarchy order (leader first).
Players are grouped into *levels*: ``levels[0]`` holds the leader(s), each later level moves after all
levels above it, and players within one level move simultaneously (a Nash game among themselves).

Notation (Fiez, Chasnov & Ratliff, §2; App. C):

- ``grad(i, x)``      ``∇_x f_i``, shape ``(..., d)``: player i's gradient w.r.t. *every* action.
- ``hessian(i, x)``   ``∇²_x f_i``, shape ``(..., d, d)``.
- ``dhessian(i,x,u)`` ``D(∇²_x f_i)[u]``, the third derivative contracted with a direction ``u``.
- ``omega(x)``        individual field ``ω = (∇_1 f_1, ..., ∇_n f_n)``, shape ``(..., d)``.
- ``jacobian(x)``     ``J = Dω``, shape ``(..., d, d)``; row block i is ``∇_i∇_x f_i``.
- ``jacobian_product(x, u)`` ``J u``, shape ``(..., d)``, without forming ``J``.
- ``omega_S(x)``      Stackelberg field: each player's *total* derivative ``Df_i`` through the implicit
  responses of all levels below it (eq. 1 and App. C.1/C.2); the bottom level's entries are ``∇_i f_i``.
- ``jacobian_S(x)``   ``J_S = Dω_S``.

For a leader above simultaneous followers F, with ``H22 = ∂ω_F/∂x_F`` and ``H21 = ∂ω_F/∂x_1`` (for one follower
the paper's ``D_2² f_2`` and ``D_21 f_2``), ``Df_1 = ∇_1 f_1 − H21ᵀ H22⁻ᵀ ∇_F f_1`` (one adjoint solve, never an
explicit inverse). In a staggered chain the same formula is applied level by level, bottom-up, with ``ω_F``
replaced by the stacked *Stackelberg* fields of all levels below (App. C.1; :mod:`stackenv.games.stackelberg`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from stackenv.checks import all_finite
from stackenv.games import responses, stackelberg
from stackenv.games.domain import Domain
from stackenv.games.players import (
    FLOAT32_MAX,
    Player,
    as_float_array,
    check_index,
    check_levels,
    check_players,
    coordinate_index,
)
from stackenv.games.spectra import dense_spectra
from stackenv.games.stackelberg import SINGULAR_RCOND, norm

__all__ = ["FLOAT32_MAX", "SINGULAR_RCOND", "Domain", "Game", "Player", "as_float_array", "check_levels", "norm"]


class Game(ABC):
    """Base class of every continuous game. Subclasses implement costs and exact derivatives.

    Class attributes declare the family's facts once (STYLE §3):
        name: registry name.
        defaults: default keyword parameters.
        zero_sum: ``f_2 = −f_1`` (two players).
        quadratic: all third derivatives vanish (``dhessian`` is zero, ``ω`` and ``ω_S`` are affine).
    """

    name: ClassVar[str] = "game"
    defaults: ClassVar[dict[str, Any]] = {}
    zero_sum: ClassVar[bool] = False
    quadratic: ClassVar[bool] = False

    def __init__(self, players: Sequence[Player], levels: Sequence[Sequence[int]] | None = None):
        players, levels = check_players(players, levels)
        self.players: list[Player] = players
        self._agent_names = [p.name for p in players]  # cached: hot loops look agents up by name
        self.levels: list[list[int]] = levels
        self.n = len(players)
        self.dims = [p.dim for p in players]
        self.offsets, self.slices, self.level_coords, self.below_coords = coordinate_index(self.dims, levels)
        self.d = int(self.offsets[-1])
        self.level_of = {i: k for k, lv in enumerate(levels) for i in lv}
        self.domain = Domain.of(players)
        self.low, self.high, self.periodic = self.domain.low, self.domain.high, self.domain.periodic

    # ------------------------------------------------------------------ facts
    @property
    def params(self) -> dict[str, Any]:
        """Every parameter of this instance, JSON-friendly (lists, not arrays)."""
        return {}

    def definition(self) -> dict[str, Any]:
        """Everything that defines this game, JSON-friendly: family, parameters, players, domain, levels.

        Two games with equal definitions have the same costs on the same domain (results may be shared).
        """
        return {
            "family": f"{type(self).__module__}.{type(self).__qualname__}",
            "name": self.name,
            "params": self.params,
            "players": self.agents,
            "dims": self.dims,
            "levels": self.levels,
            "low": self.low.tolist(),
            "high": self.high.tolist(),
            "periodic": self.periodic.tolist(),
        }

    @property
    def agents(self) -> list[str]:
        """Player names, leader first."""
        return self._agent_names

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.params.items())})"

    # ------------------------------------------------------------------ input handling
    def check_x(self, x: Any) -> np.ndarray:
        """Validate a joint action: last axis of length ``d``, finite. Returns a float array."""
        try:
            x = np.asarray(x, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"{self.name}: joint action must be numeric, got {x!r}") from None
        if x.ndim == 0 or x.shape[-1] != self.d:
            raise ValueError(f"{self.name}: joint action must have shape (..., {self.d}), got {x.shape}")
        if not all_finite(x):
            raise ValueError(f"{self.name}: joint action contains non-finite values: {x}")
        return x

    def split(self, x: np.ndarray) -> list[np.ndarray]:
        """Per-player views ``[x_1, ..., x_n]`` of a joint action."""
        return [x[..., s] for s in self.slices]

    def wrap(self, x: np.ndarray) -> np.ndarray:
        """Map periodic coordinates into ``[low, high)``; box coordinates are left alone (:class:`Domain`)."""
        return self.domain.wrap(x)

    def project(self, x: np.ndarray) -> np.ndarray:
        """Wrap periodic coordinates and clip box coordinates into the domain."""
        return self.domain.project(x)

    def displacement(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``x − y`` with periodic coordinates taken on the circle (shortest signed arc)."""
        return self.domain.displacement(x, y)

    def distance(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Euclidean distance on the domain (geodesic on periodic coordinates), over the last axis."""
        return self.domain.distance(x, y)

    # ------------------------------------------------------------------ what subclasses implement
    @abstractmethod
    def costs(self, x: np.ndarray) -> np.ndarray:
        """Costs ``f_i(x)`` of every player, shape ``(..., n)``."""

    @abstractmethod
    def grad(self, i: int, x: np.ndarray) -> np.ndarray:
        """``∇_x f_i(x)``, shape ``(..., d)``."""

    @abstractmethod
    def hessian(self, i: int, x: np.ndarray) -> np.ndarray:
        """``∇²_x f_i(x)``, shape ``(..., d, d)``."""

    def dhessian(self, i: int, x: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Third derivative contracted with a direction: ``Σ_c ∂³f_i/∂x_a∂x_b∂x_c · u_c``, ``(..., d, d)``.

        Zero for quadratic games; non-quadratic games must override it.
        """
        if self.quadratic:
            self.check_player(i)
            return np.zeros(self.check_x(x).shape[:-1] + (self.d, self.d))
        raise NotImplementedError(f"{type(self).__name__} does not provide third derivatives")

    # ------------------------------------------------------------------ generic derived quantities
    def omega(self, x: np.ndarray) -> np.ndarray:
        """Individual gradient field ``ω(x) = (∇_1 f_1, …, ∇_n f_n)``, shape ``(..., d)``."""
        x = np.asarray(x, float)
        return np.concatenate([self.grad(i, x)[..., s] for i, s in enumerate(self.slices)], axis=-1)

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        """``J(x) = Dω(x)``, shape ``(..., d, d)`` (row block i is ``∇_i ∇_x f_i``)."""
        x = np.asarray(x, float)
        return np.concatenate([self.hessian(i, x)[..., s, :] for i, s in enumerate(self.slices)], axis=-2)

    def check_player(self, i: int) -> int:
        """Validate a player index, raising ``ValueError`` naming the valid range."""
        return check_index(i, self.n, "player", self.name)

    def check_level(self, k: int) -> int:
        """Validate a level index, raising ``ValueError`` naming the valid range."""
        return check_index(k, len(self.levels), "level", self.name)

    # ω_S, J_S and the lower levels' response are functions of (game, ...) in stackelberg.py, responses.py and
    # spectra.py, bound here as methods: a family overrides one with a closed form and they reach it via the game
    stackelberg_terms = stackelberg.stackelberg_terms
    omega_S = stackelberg.omega_S
    jacobian_S = stackelberg.jacobian_S
    jacobian_S_fd = stackelberg.jacobian_S_fd
    total_derivative = stackelberg.total_derivative
    spectra = dense_spectra
    lower_terms = responses.lower_terms
    response_blocks = responses.response_blocks
    reduced_hessian = responses.reduced_hessian
    response = responses.newton_response
    lower_solve = responses.lower_solve
    jacobian_product = responses.jacobian_product
