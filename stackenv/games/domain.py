"""The joint action domain of a game: per-coordinate bounds, each coordinate a box interval or a circle.

A :class:`Domain` is a small value object a :class:`~stackenv.games.base.Game` holds (``game.domain``); the
game's ``low``/``high``/``periodic`` are its arrays and ``game.wrap``/``project``/``displacement``/``distance``
call its methods. All methods act on the last axis and broadcast over leading batch axes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from stackenv.games.players import Player


@dataclass(frozen=True, eq=False)
class Domain:
    """Bounds ``low``/``high`` and periodic flags, shape ``(d,)`` each; periodic coordinates live on ``[low, high)``."""

    low: np.ndarray = field(repr=False)
    high: np.ndarray = field(repr=False)
    periodic: np.ndarray = field(repr=False)

    @cached_property
    def common_box(self) -> tuple[float, float]:
        """``(max low, min high)``: the interval inside every coordinate's bounds (a joint action with all entries in
        it lies in the domain; one comparison per bound, as the env's action check uses it)."""
        return float(self.low.max()), float(self.high.min())

    @staticmethod
    def of(players: Sequence[Player]) -> Domain:
        """The joint domain of ``players`` in order (their bounds concatenated)."""
        return Domain(
            np.concatenate([p.low for p in players]),
            np.concatenate([p.high for p in players]),
            np.repeat(np.array([p.periodic for p in players], bool), [p.dim for p in players]),
        )

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
