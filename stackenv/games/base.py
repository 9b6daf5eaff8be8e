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
- ``omega_S(x)``      Stackelberg field: each player's *total* derivative ``Df_i`` through the implicit
  responses of all levels below it (eq. 1 and App. C.1/C.2); the bottom level's entries are ``∇_i f_i``.
- ``jacobian_S(x)``   ``J_S = Dω_S``.

For a leader above simultaneous followers F, with ``H22 = ∂ω_F/∂x_F`` and ``H21 = ∂ω_F/∂x_1`` (App. C.2's
``J_F`` and ``J_F1``), ``Df_1 = ∇_1 f_1 − H21ᵀ H22⁻ᵀ ∇_F f_1`` (one adjoint solve, never an explicit inverse). In
a staggered chain the same formula is applied level by level, bottom-up, with ``ω_F`` replaced by the stacked
*Stackelberg* fields of all levels below (App. C.1; :mod:`stackenv.games.stackelberg`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from stackenv.games import stackelberg
from stackenv.games.players import FLOAT32_MAX, Player, as_float_array, check_levels
from stackenv.games.spectra import Field, Spectra, dense_spectra
from stackenv.games.stackelberg import SINGULAR_RCOND, norm

__all__ = ["FLOAT32_MAX", "SINGULAR_RCOND", "Game", "Player", "as_float_array", "check_levels", "norm"]


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
        players = list(players)
        if len(players) < 2:
            raise ValueError(f"a game needs at least two players, got {len(players)}")
        names = [p.name for p in players]
        if len(set(names)) != len(names):
            raise ValueError(f"player names must be unique, got {names}")
        levels = check_levels(levels, len(players))
        self.players: list[Player] = players
        self._agent_names = [p.name for p in players]  # cached: hot loops look agents up by name
        self.levels: list[list[int]] = levels
        self.n = len(players)
        self.dims = [p.dim for p in players]
        self.offsets = np.concatenate([[0], np.cumsum(self.dims)]).astype(int)
        self.d = int(self.offsets[-1])
        self.slices = [slice(int(self.offsets[i]), int(self.offsets[i + 1])) for i in range(self.n)]
        self.level_of = {i: k for k, lv in enumerate(levels) for i in lv}
        self.low = np.concatenate([p.low for p in players])
        self.high = np.concatenate([p.high for p in players])
        self.periodic = np.repeat(np.array([p.periodic for p in players], bool), self.dims)
        # coordinate indices of each level (levels are consecutive runs of players, check_levels), and of
        # everything strictly below each level
        self.level_coords = [np.arange(self.offsets[lv[0]], self.offsets[lv[-1] + 1]) for lv in levels]
        self.below_coords = [
            np.concatenate(self.level_coords[k + 1 :]) if k + 1 < len(levels) else np.zeros(0, int)
            for k in range(len(levels))
        ]

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
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{self.name}: joint action contains non-finite values: {x}")
        return x

    def split(self, x: np.ndarray) -> list[np.ndarray]:
        """Per-player views ``[x_1, ..., x_n]`` of a joint action."""
        return [x[..., s] for s in self.slices]

    def wrap(self, x: np.ndarray) -> np.ndarray:
        """Map periodic coordinates into ``[low, high)``; box coordinates are left alone."""
        if not self.periodic.any():
            return x
        width = self.high - self.low
        wrapped = self.low + np.mod(x - self.low, width)
        return np.where(self.periodic, wrapped, x)

    def project(self, x: np.ndarray) -> np.ndarray:
        """Wrap periodic coordinates and clip box coordinates into the domain."""
        return np.where(self.periodic, self.wrap(x), np.clip(x, self.low, self.high))

    def displacement(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``x − y`` with periodic coordinates taken on the circle (shortest signed arc)."""
        diff = np.asarray(x, float) - np.asarray(y, float)
        if self.periodic.any():
            width = self.high - self.low
            arc = np.mod(diff + width / 2, width) - width / 2
            diff = np.where(self.periodic, arc, diff)
        return diff

    def distance(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Euclidean distance on the domain (geodesic on periodic coordinates), over the last axis."""
        return np.linalg.norm(self.displacement(x, y), axis=-1)

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
        if isinstance(i, bool) or not isinstance(i, int | np.integer) or not 0 <= int(i) < self.n:
            raise ValueError(f"{self.name}: player index must be an integer in [0, {self.n - 1}], got {i!r}")
        return int(i)

    def check_level(self, k: int) -> int:
        """Validate a level index, raising ``ValueError`` naming the valid range."""
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 0 <= int(k) < len(self.levels):
            raise ValueError(f"{self.name}: level index must be an integer in [0, {len(self.levels) - 1}], got {k!r}")
        return int(k)

    def stackelberg_terms(self, x: np.ndarray, with_jacobian: bool = True, top: int = 0):
        """``(ω_S, J_S)`` bottom-up over the levels down to level ``top`` (:mod:`stackenv.games.stackelberg`).

        Only the rows of levels ``≥ top`` are Stackelberg rows (the rows above are ``ω`` and ``J``); ``J_S`` is
        None when ``with_jacobian`` is false. Raises ``ValueError`` where a response Jacobian ``H22`` is singular.
        """
        return stackelberg.stackelberg_terms(self, x, with_jacobian, top)

    def omega_S(self, x: np.ndarray) -> np.ndarray:
        """Stackelberg field ``ω_S(x)`` (eq. 1; App. C), shape ``(..., d)``."""
        return self.stackelberg_terms(x, with_jacobian=False)[0]

    def jacobian_S(self, x: np.ndarray) -> np.ndarray:
        """``J_S(x) = Dω_S(x)``, shape ``(..., d, d)``."""
        return self.stackelberg_terms(x)[1]

    def jacobian_S_fd(self, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
        """``J_S`` by central differences of ``ω_S`` (error ``O(h²)``), all rows; a check on :meth:`jacobian_S`."""
        x = self.check_x(x)
        cols = []
        for c in range(self.d):
            e = np.zeros(self.d)
            e[c] = h
            cols.append((self.omega_S(x + e) - self.omega_S(x - e)) / (2 * h))
        return np.stack(cols, axis=-1)

    def spectra(self, x: np.ndarray, field: Field) -> Spectra:
        """Eigenvalues, norm and per-player blocks of ``J`` or ``J_S`` at one point (:mod:`stackenv.games.spectra`)."""
        return dense_spectra(self, x, field)

    def total_derivative(self, x: np.ndarray, i: int = 0) -> np.ndarray:
        """Player i's total derivative ``Df_i`` (its block of ``ω_S``), shape ``(..., d_i)``."""
        return self.omega_S(x)[..., self.slices[i]]

    def lower_terms(self, x: np.ndarray, k: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """``(ω_S, J_S)`` valid on the rows of the levels below level k: all a response to level k needs.

        The lower levels' stationarity conditions and their Jacobian never involve level k's (or higher
        levels') total derivatives, so the bottom-up recursion stops below level k; the rows of levels
        ``≤ k`` hold ``ω`` and ``J``. For a two-level game this is just ``(ω, J)``.
        """
        x = self.check_x(x)
        k = self.check_level(k)
        if k + 2 >= len(self.levels):  # at most the bottom level below: its own gradients and Hessian rows
            return self.omega(x), self.jacobian(x)
        if self.quadratic:  # the families' affine ω_S is cheaper than a partial recursion
            return self.omega_S(x), self.jacobian_S(x)
        return self.stackelberg_terms(x, top=k + 1)

    def response_blocks(self, x: np.ndarray, k: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """The blocks ``(H22, H21)`` for the levels below level k.

        ``H22 = ∂ω_F/∂x_F`` over the coordinates of all levels below k and ``H21 = ∂ω_F/∂x_k`` over
        level k's coordinates, where ``ω_F`` stacks the lower levels' Stackelberg fields (their own
        gradients for a two-level game). Shapes ``(..., m, m)`` and ``(..., m, d_k)``.
        """
        JS = self.lower_terms(x, k)[1]
        b, a = self.below_coords[k], self.level_coords[k]
        return JS[..., b[:, None], b], JS[..., b[:, None], a]

    def reduced_hessian(self, i: int, JS: np.ndarray, symmetric: bool = True) -> np.ndarray:
        """Player i's reduced-cost Hessian from ``J_S`` (Def. 4, App. C), by default its symmetric part.

        With ``b`` the coordinates of the levels below player i, the Hessian of ``x_i ↦ f_i(x_{≤i}, ξ(x_{≤i}))``
        at a point where the lower levels are stationary is the Schur complement
        ``J_S[i,i] − J_S[i,b] J_S[b,b]⁻¹ J_S[b,i]`` (just ``J_S[i,i]`` for the bottom level). Batched over
        the leading axes of ``JS``. ``symmetric=False`` returns the Schur complement as computed (to check
        its symmetry). Raises ``np.linalg.LinAlgError`` where ``J_S[b,b]`` is singular.
        """
        i = self.check_player(i)
        o = np.arange(self.offsets[i], self.offsets[i + 1])
        b = self.below_coords[self.level_of[i]]
        S = JS[..., o[:, None], o]
        if b.size:
            S = S - JS[..., o[:, None], b] @ np.linalg.solve(JS[..., b[:, None], b], JS[..., b[:, None], o])
        return (S + np.swapaxes(S, -1, -2)) / 2 if symmetric else S

    def response(self, x: np.ndarray, k: int = 0, iters: int = 100, tol: float = 1e-12) -> np.ndarray:
        """Joint action with levels ``≤ k`` fixed and the levels below at their local response.

        Newton's method on the lower levels' stationarity conditions ``ω_S[below] = 0`` started from
        ``x`` (exact in one step for quadratic games); it needs only the lower levels' fields and their
        Jacobian (:meth:`lower_terms`). Raises ``ValueError`` if the lower levels' Jacobian ``H22`` is
        singular, if some lower player's reduced-cost Hessian (:meth:`reduced_hessian`) is not positive
        definite at the result (the response is then not a best response) or if Newton's method does not
        converge.
        """
        x = self.check_x(x).copy()
        k = self.check_level(k)
        b = self.below_coords[k]
        if b.size == 0:
            return x
        what = "the lower levels' response Jacobian (H22)"
        for _ in range(iters):
            om, JS = self.lower_terms(x, k)
            F = om[..., b]
            step = stackelberg.solve_T(self, np.swapaxes(JS[..., b[:, None], b], -1, -2), F[..., None], what)[..., 0]
            if np.max(np.abs(F), initial=0.0) <= tol * max(1.0, np.max(np.abs(x), initial=0.0)):
                break
            x[..., b] = x[..., b] - step
            x = self.wrap(x)
        else:
            raise ValueError(f"{self.name}: the followers' response did not converge from {x}")
        JS = self.lower_terms(x, k)[1]
        for lv in range(k + 1, len(self.levels)):
            for i in self.levels[lv]:
                try:
                    eig = np.linalg.eigvalsh(self.reduced_hessian(i, JS))
                except np.linalg.LinAlgError:
                    raise ValueError(
                        f"{self.name}: the response Jacobian below {self.players[i].name!r} is singular"
                    ) from None
                if np.any(eig <= 0):
                    raise ValueError(
                        f"{self.name}: {self.players[i].name!r}'s reduced Hessian is not positive definite at its "
                        f"response (eigenvalues {eig.ravel().tolist()}); the response is not a best response"
                    )
        return x
