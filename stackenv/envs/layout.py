"""Where each agent's feedback lives in a copy's flat feedback row, and the observation spaces it gives.

A *feedback row* holds every agent's feedback at one joint action, agent by agent (``K_i`` values for agent
``i``; the modes are described in :mod:`stackenv.envs.modes`):
    ``gradient`` / ``hierarchical``  ``K_i = d_i`` — observation ``Box(−inf, inf, (d_i,))``.
    ``second_order``                 ``grad`` ``(d,)``, then for agents with levels below them ``H22``
                                     ``(m, m)`` and their columns of ``H21`` ``(m, d_i)``, then — for games
                                     with ``d ≤ GAME_BLOCKS_MAX_D`` (16), for every agent — ``grads``
                                     ``(n, d)`` (row j: ``∇_x f_j``) and the game Jacobian ``J = Dω``
                                     ``(d, d)`` (what SOS, SGA, consensus, CGD, look-ahead need), row-major —
                                     observation ``Dict(grad=…, H22=…, H21=…)`` — or, with
                                     ``flatten=True``, the agent's slice of the row, one ``Box((K_i,))``
                                     (:meth:`FeedbackLayout.unflatten` gives the dict back).
    ``reward``                       no row (the reward carries the feedback); observation: the joint action,
                                     ``Box(low, high, (d,))``, one space shared by every agent.
Derivative spaces are unbounded float32 boxes (gradients can be arbitrarily large; every emitted value is
nonetheless finite and within float32 range — see :mod:`stackenv.envs.engine`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from stackenv.envs.per_agent import PerAgent
from stackenv.games.base import Game

F32 = np.float32
_INF = float("inf")
#: Largest game (coordinates d) whose ``second_order`` feedback carries the dense ``grads``/``J`` blocks.
GAME_BLOCKS_MAX_D = 16


@dataclass(frozen=True)
class Block:
    """One named piece of an agent's feedback row: ``row[start:stop].reshape(shape)``."""

    key: str
    start: int
    stop: int
    shape: tuple[int, ...]


class FeedbackLayout:
    """Where each agent's feedback lives in the flat per-copy row.

    Attributes:
        sizes: ``K_i`` per agent; ``K``: total.
        blocks: per agent, the :class:`Block` s of its observation (absolute positions in the row).
        h_level: per agent, the level whose ``response_blocks`` it observes (``second_order``), else None.
        h_cols: per agent, the positions of its coordinates among its level's coordinates.
    """

    def __init__(self, game: Game, feedback: str, flatten: bool = False):
        self.feedback = feedback
        self.flat = feedback != "second_order" or bool(flatten)  # observations are row slices
        n, d, L = game.n, game.d, len(game.levels)
        self.h_level: list[int | None] = [None] * n
        self.h_cols: list[np.ndarray | None] = [None] * n
        self.blocks: list[list[Block]] = []
        pos = 0
        for i in range(n):
            parts: list[tuple[str, tuple[int, ...]]] = []
            if feedback in ("gradient", "hierarchical"):
                parts = [("grad", (game.dims[i],))]
            elif feedback == "second_order":
                k = game.level_of[i]
                parts = [("grad", (d,))]
                if k < L - 1:
                    m = int(game.below_coords[k].size)
                    self.h_level[i] = k
                    self.h_cols[i] = np.searchsorted(game.level_coords[k], np.arange(d)[game.slices[i]])
                    parts += [("H22", (m, m)), ("H21", (m, game.dims[i]))]
                if d <= GAME_BLOCKS_MAX_D:  # the dense blocks of agents' full-information rules
                    parts += [("grads", (n, d)), ("J", (d, d))]
            blocks = []
            for key, shape in parts:
                size = math.prod(shape)
                blocks.append(Block(key, pos, pos + size, shape))
                pos += size
            self.blocks.append(blocks)
        self.sizes = [sum(b.stop - b.start for b in blocks) for blocks in self.blocks]
        self.K = pos
        # gradient/hierarchical rows with K_i equal for every agent: observations are one reshape
        self.uniform = feedback in ("gradient", "hierarchical") and len(set(self.sizes)) == 1

    def spaces(self, game: Game) -> list[spaces.Space]:
        """Per-agent float32 observation spaces of one copy (simultaneous play)."""
        if self.feedback == "reward":
            shared = spaces.Box(game.low.astype(F32), game.high.astype(F32), shape=(game.d,), dtype=F32)
            return [shared] * game.n  # one object: N agents must not cost N copies of a (d,) box
        if self.flat:  # agents with equally many values share one Box
            made = {k: spaces.Box(-_INF, _INF, shape=(k,), dtype=F32) for k in set(self.sizes)}
            return [made[k] for k in self.sizes]
        return [
            spaces.Dict({b.key: spaces.Box(-_INF, _INF, shape=b.shape, dtype=F32) for b in blocks})
            for blocks in self.blocks
        ]

    def unflatten(self, i: int, flat: np.ndarray) -> dict[str, np.ndarray]:
        """Agent ``i``'s flat ``second_order`` observation (any leading axes) as the dict of its blocks."""
        if self.feedback != "second_order":
            raise ValueError(f"unflatten applies to second_order feedback, not {self.feedback!r}")
        flat = np.asarray(flat)
        blocks = self.blocks[i]
        off, size = blocks[0].start, blocks[-1].stop - blocks[0].start
        if flat.shape[-1:] != (size,):
            raise ValueError(f"a flat second_order observation of this agent has {size} values, got shape {flat.shape}")
        lead = flat.shape[:-1]
        return {b.key: flat[..., b.start - off : b.stop - off].reshape(*lead, *b.shape) for b in blocks}

    def observations(self, index: Mapping[str, int], rows: np.ndarray | None, x: np.ndarray) -> Mapping[str, Any]:
        """Per-agent views of the feedback rows ``(B, K)`` — or, in ``reward`` mode, the joint actions ``x``
        ``(B, d)`` (one read-only array shared by every agent). ``index``: ``{agent: i}`` in hierarchy order.
        Gradient/hierarchical rows with equal ``K_i`` give a :class:`~stackenv.envs.per_agent.PerAgent`
        (views made on access: O(1) per step for any number of agents)."""
        if rows is None:
            x = x.copy()
            x.flags.writeable = False
            return PerAgent(index, same=x)
        B = rows.shape[0]
        if self.uniform:  # agent i's view is block i of an (n, B, k) view
            return PerAgent(index, rows.reshape(B, len(index), -1).transpose(1, 0, 2))
        if self.flat:
            return {a: rows[:, blocks[0].start : blocks[-1].stop] for a, blocks in zip(index, self.blocks)}
        return {
            a: {b.key: rows[:, b.start : b.stop].reshape(B, *b.shape) for b in blocks}
            for a, blocks in zip(index, self.blocks)
        }


__all__ = ["F32", "GAME_BLOCKS_MAX_D", "Block", "FeedbackLayout"]
