"""User-defined games: give only the cost functions, get every derivative exactly.

Description:
    Costs are written with sympy (``sympy.cos``, ``sympy.exp``, ...). Each cost is differentiated
    *symbolically* (gradient, Hessian and, on demand, third derivatives), then compiled with
    ``sympy.lambdify`` into numpy functions that broadcast over leading batch axes. Symbolic rather than
    automatic differentiation because the derivatives are then exact to any order (``dhessian`` and ``J_S``
    included), evaluation is plain numpy (no extra heavy dependency, no tracing), and the formulas can be
    printed and checked by a human. The price is a compile step at construction (well under a second for a
    few players of small dimension); it does not suit games with hundreds of action coordinates.

Players, roles, actions and bounds:
    ``dims[i]`` action coordinates per player, hierarchy order (leader first), grouped by ``levels``
    (default: player 0 leads, the others follow simultaneously). Box ``[low, high]`` per player, or periodic
    (wraps) where ``periodic`` is true. Names default to ``leader``/``follower`` (``follower_j`` for several).

Costs:
    ``costs[i](x_1, ..., x_n, **params)`` receives one sympy column vector per player (index it: ``x1[0]``)
    and returns a scalar sympy expression ``f_i``. Costs that are polynomials of degree ≤ 2 mark the game
    ``quadratic``. In a non-quadratic chain the ``J_S`` rows of a level with two or more levels below it
    would need fourth or higher derivatives: they are central differences of that level's ``ω_S`` rows (base
    class; error ~1e-9 relative), and from four levels the ``ω_S`` of the levels above such a row inherits
    that error. Everything else is exact, including every response (``Game.response``) in a three-level chain.

Example (the paper's §4.2 torus game, written by hand)::

    import numpy as np, sympy as sp
    from stackenv.games.custom import CustomGame

    def leader(x1, x2):  # x1, x2: sympy column vectors of each player's actions
        return -sp.cos(x1[0] - sp.pi / 8) + sp.cos(x1[0] - x2[0])

    def follower(x1, x2):
        return -1.3 * sp.cos(x2[0] - sp.pi / 8) + sp.cos(x2[0] - x1[0])

    game = CustomGame([leader, follower], dims=[1, 1], low=-np.pi, high=np.pi, periodic=True, name="my_torus")
    game.omega_S(np.zeros((5, 2)))  # leader's total derivative and follower's gradient at 5 points

    ``register_custom_game("my_torus", [leader, follower], dims=[1, 1], ...)`` makes it ``make``-able by name;
    numeric ``defaults={"alpha": 1.3}`` become keyword parameters passed to every cost function.

Version history:
    v0: initial version.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy as sp

from stackenv.games.base import Game, Player, as_float_array, check_levels
from stackenv.games.quadratic import role_names
from stackenv.games.registry import game_class, register


def _per_player(value, n: int, what: str) -> list:
    """A scalar (or bool) for every player, or a list with one entry per player."""
    if np.ndim(value) == 0:
        return [value] * n
    value = list(value)
    if len(value) != n:
        raise ValueError(f"parameter {what!r} must be a scalar or have one entry per player ({n}), got {len(value)}")
    return value


def _plain(value: Any) -> Any:
    """Numeric parameter → Python float or nested lists of floats (sympy-friendly, JSON-friendly)."""
    return as_float_array(value, "params").tolist()


class CustomGame(Game):
    """A game defined by sympy cost functions; all derivatives symbolic, compiled to batched numpy."""

    name = "custom"
    _registered = False  # registered subclasses take only their numeric keyword parameters

    def __init__(
        self,
        costs: Sequence[Callable[..., Any]],
        dims: Sequence[int],
        low: Any = -10.0,
        high: Any = 10.0,
        periodic: Any = False,
        names: Sequence[str] | None = None,
        levels: Sequence[Sequence[int]] | None = None,
        name: str = "custom",
        params: dict[str, Any] | None = None,
    ):
        costs, dims_arr = list(costs), as_float_array(dims, "dims")
        if dims_arr.ndim != 1 or np.any(dims_arr < 1) or np.any(dims_arr != np.round(dims_arr)):
            raise ValueError(f"custom game {name!r}: parameter 'dims' must list positive integers, got {dims!r}")
        dims = [int(v) for v in dims_arr]
        n = len(dims)
        if len(costs) != n:
            raise ValueError(f"custom game {name!r}: need one cost per player, got {len(costs)} costs for {n} players")
        levels = check_levels(levels, n)
        names = role_names(levels) if names is None else list(names)
        if len(names) != n:
            raise ValueError(f"custom game {name!r}: need one name per player, got {names}")
        lows, highs = _per_player(low, n, "low"), _per_player(high, n, "high")
        pers = _per_player(periodic, n, "periodic")
        players = [Player.box(names[i], dims[i], lows[i], highs[i], bool(pers[i])) for i in range(n)]
        super().__init__(players, levels)
        self.name = str(name)
        self.user_params = {k: _plain(v) for k, v in (params or {}).items()}

        self.symbols = sp.symbols(f"x0:{self.d}", real=True)
        xs = [sp.Matrix(self.symbols[s]) for s in self.slices]
        self.cost_exprs = [self._expr(i, f, xs) for i, f in enumerate(costs)]
        self.quadratic = all(
            e.is_polynomial(*self.symbols) and sp.Poly(e, *self.symbols).total_degree() <= 2 for e in self.cost_exprs
        )
        self._fns: dict = {}

    def _expr(self, i: int, f: Callable[..., Any], xs: list) -> sp.Expr:
        who = f"custom game {self.name!r}: cost {i} ({self.players[i].name})"
        try:
            e = f(*xs, **self.user_params)
        except Exception as exc:  # user code: report which cost failed and the usual cause
            raise ValueError(f"{who} failed on sympy symbols ({exc}); write costs with sympy functions") from exc
        if isinstance(e, sp.MatrixBase):
            if e.shape != (1, 1):
                raise ValueError(f"{who} must be a scalar, got a matrix of shape {e.shape}")
            e = e[0, 0]
        try:
            e = sp.sympify(e)
        except (sp.SympifyError, TypeError) as exc:
            raise ValueError(f"{who} is not a sympy expression: {e!r}") from exc
        if not isinstance(e, sp.Expr) or not e.free_symbols <= set(self.symbols):
            extra = sorted(map(str, getattr(e, "free_symbols", set()) - set(self.symbols)))
            raise ValueError(f"{who} must be a scalar expression of the actions only; unknown symbols {extra}")
        return e

    @property
    def params(self):
        if self._registered:
            return dict(self.user_params)
        return {
            "costs": [str(e) for e in self.cost_exprs],
            "dims": list(self.dims),
            "levels": [list(lv) for lv in self.levels],
            **self.user_params,
        }

    def definition(self):
        return {**super().definition(), "costs": [sp.srepr(e) for e in self.cost_exprs]}

    def __reduce__(self):
        # compiled lambdas are rebuilt lazily after unpickling; a registered subclass is found by name
        state = {**self.__dict__, "_fns": {}}
        return _restore, (self.name if self._registered else None, state)

    # ------------------------------------------------------------------ compiled derivatives
    def _compiled(self, key: tuple) -> tuple[Callable, int]:
        """Compile (once) the flat list of derivative expressions named by ``key``."""
        if key not in self._fns:
            kind, i = key
            e, xs, d = self.cost_exprs, self.symbols, self.d
            if kind == "costs":
                exprs = e
            elif kind == "grad":
                exprs = [sp.diff(e[i], a) for a in xs]
            elif kind == "hess":
                exprs = [sp.diff(e[i], xs[a], xs[b]) for a in range(d) for b in range(d)]
            else:  # third derivatives T[a, b, c]
                exprs = [sp.diff(e[i], xs[a], xs[b], xs[c]) for a in range(d) for b in range(d) for c in range(d)]
            self._fns[key] = (sp.lambdify(xs, exprs, modules="numpy", cse=True), len(exprs))
        return self._fns[key]

    def _eval(self, key: tuple, x: np.ndarray) -> np.ndarray:
        fn, m = self._compiled(key)
        vals = fn(*(x[..., k] for k in range(self.d)))
        out = np.empty(x.shape[:-1] + (m,))
        for k, v in enumerate(vals):
            out[..., k] = v  # constant entries broadcast over the batch
        return out

    def costs(self, x):
        x = self.check_x(x)
        return self._eval(("costs", None), x)

    def grad(self, i, x):
        i, x = self.check_player(i), self.check_x(x)
        return self._eval(("grad", i), x)

    def hessian(self, i, x):
        i, x = self.check_player(i), self.check_x(x)
        return self._eval(("hess", i), x).reshape(x.shape[:-1] + (self.d, self.d))

    def dhessian(self, i, x, u):
        i, x = self.check_player(i), self.check_x(x)
        u = np.asarray(u, float)
        T = self._eval(("third", i), x).reshape(x.shape[:-1] + (self.d,) * 3)
        return np.einsum("...abc,...c->...ab", T, u)


def _restore(registered: str | None, state: dict) -> CustomGame:
    """Unpickle a custom game (registered subclasses are created at run time, so look them up by name)."""
    cls = CustomGame
    if registered is not None:
        cls = game_class(registered)
    game = object.__new__(cls)
    game.__dict__.update(state)
    return game


def register_custom_game(
    name: str,
    costs: Sequence[Callable[..., Any]],
    dims: Sequence[int],
    defaults: dict[str, Any] | None = None,
    **options: Any,
) -> type[CustomGame]:
    """Register a user-defined game so that ``make(name, **params)`` builds it.

    Args:
        name: registry name.
        costs: one sympy cost function per player (see the module docstring).
        dims: action dimension per player.
        defaults: numeric keyword parameters of the costs and their default values.
        **options: further ``CustomGame`` arguments (``low``, ``high``, ``periodic``, ``names``, ``levels``).
    """
    defaults = dict(defaults or {})

    def __init__(self, **params):
        unknown = set(params) - set(defaults)
        if unknown:
            raise ValueError(f"unknown parameter(s) {sorted(unknown)} for game {name!r}; valid: {sorted(defaults)}")
        CustomGame.__init__(self, costs, dims, name=name, params={**defaults, **params}, **options)

    cls = type(
        f"Custom_{name}", (CustomGame,), {"name": name, "defaults": defaults, "_registered": True, "__init__": __init__}
    )
    return register(cls)
