"""Players and parameter checks shared by every game family: domains, numeric parameters, levels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Largest magnitude a bound may have: environments hold actions and observations in float32.
FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class Player:
    """One player: a name, an action dimension and a domain.

    Attributes:
        name: Role name used by the environments (``"leader"``, ``"follower_0"``, ...).
        dim: Action dimension ``d_i``.
        low: Lower bounds, shape ``(dim,)``.
        high: Upper bounds, shape ``(dim,)``.
        periodic: If true the action lives on the circle ``[low, high)`` (wraps around).
    """

    name: str
    dim: int
    low: np.ndarray = field(repr=False)
    high: np.ndarray = field(repr=False)
    periodic: bool = False

    @staticmethod
    def box(name: str, dim: int, low: float | Sequence[float], high: float | Sequence[float], periodic=False):
        """Build a player with box bounds broadcast to ``dim``."""
        ok = isinstance(dim, int | np.integer | float) and not isinstance(dim, bool) and np.isfinite(dim)
        if not ok or int(dim) != dim or dim < 1:
            raise ValueError(f"player {name!r}: action dimension must be a positive integer, got {dim!r}")
        try:
            lo = np.broadcast_to(np.asarray(low, dtype=float), (int(dim),)).copy()
            hi = np.broadcast_to(np.asarray(high, dtype=float), (int(dim),)).copy()
        except (TypeError, ValueError):
            raise ValueError(
                f"player {name!r}: bounds must be numbers or {dim} numbers, got {low!r}, {high!r}"
            ) from None
        if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)) and np.all(lo < hi)):
            raise ValueError(f"player {name!r}: need finite bounds with low < high, got {lo} and {hi}")
        if np.any(np.abs(lo) > FLOAT32_MAX) or np.any(np.abs(hi) > FLOAT32_MAX) or np.any(hi - lo > FLOAT32_MAX):
            raise ValueError(
                f"player {name!r}: bounds {lo} and {hi} exceed the float32 range (±{FLOAT32_MAX:.3g}) in which the "
                "environments hold actions and observations"
            )
        return Player(name, int(dim), lo, hi, bool(periodic))


def as_float_array(value: Any, name: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Convert a parameter to a finite float array, raising ``ValueError`` naming it otherwise."""
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"parameter {name!r} must be numeric, got {value!r}") from exc
    if shape is not None and arr.shape != shape:
        raise ValueError(f"parameter {name!r} must have shape {shape}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"parameter {name!r} must be finite, got {value!r}")
    return arr


def check_levels(levels: Any, n: int) -> list[list[int]]:
    """Validate a ``levels`` parameter (a partition of ``0..n−1`` in hierarchy order, top level first).

    ``None`` gives the default: player 0 leads, every other player follows simultaneously (App. C.2).
    """
    if levels is None:
        return [[0], list(range(1, n))]
    try:
        out = [[int(i) for i in lv] for lv in levels]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"parameter 'levels' must be a list of lists of player indices, got {levels!r}") from exc
    flat = [i for lv in out for i in lv]
    if sorted(flat) != list(range(n)) or flat != sorted(flat) or any(not lv for lv in out):
        raise ValueError(f"parameter 'levels' must partition players 0..{n - 1} in hierarchy order, got {levels!r}")
    return out


def check_index(value: Any, n: int, what: str, owner: str) -> int:
    """Validate an index into ``range(n)``, raising ``ValueError`` naming ``owner``, ``what`` and the valid range."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not 0 <= int(value) < n:
        raise ValueError(f"{owner}: {what} index must be an integer in [0, {n - 1}], got {value!r}")
    return int(value)


def check_players(players: Sequence[Player], levels: Any) -> tuple[list[Player], list[list[int]]]:
    """Validate a game's players (at least two, unique names) and its ``levels`` (:func:`check_levels`)."""
    players = list(players)
    if len(players) < 2:
        raise ValueError(f"a game needs at least two players, got {len(players)}")
    names = [p.name for p in players]
    if len(set(names)) != len(names):
        raise ValueError(f"player names must be unique, got {names}")
    return players, check_levels(levels, len(players))


def coordinate_index(dims: Sequence[int], levels: Sequence[Sequence[int]]):
    """Where each player and level sits in the joint action ``x``: ``(offsets, slices, level_coords, below_coords)``.

    ``offsets[i]`` is player i's first coordinate (``offsets[-1] = d``), ``slices[i]`` its slice; ``level_coords[k]``
    the coordinates of level k (levels are consecutive runs of players, :func:`check_levels`) and
    ``below_coords[k]`` those of every level strictly below k.
    """
    offsets = np.concatenate([[0], np.cumsum(dims)]).astype(int)
    slices = [slice(int(offsets[i]), int(offsets[i + 1])) for i in range(len(dims))]
    level_coords = [np.arange(offsets[lv[0]], offsets[lv[-1] + 1]) for lv in levels]
    below_coords = [
        np.concatenate(level_coords[k + 1 :]) if k + 1 < len(levels) else np.zeros(0, int) for k in range(len(levels))
    ]
    return offsets, slices, level_coords, below_coords


def stack_last(*columns: np.ndarray) -> np.ndarray:
    """``np.stack(columns, axis=-1)`` for same-shaped float arrays, as one ``empty`` and one write per column
    (a third of ``np.stack``'s time on the ``(B,)`` columns of a per-player formula)."""
    out = np.empty(columns[0].shape + (len(columns),))
    for j, col in enumerate(columns):
        out[..., j] = col
    return out
