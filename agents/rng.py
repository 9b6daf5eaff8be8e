"""Per-run random streams for randomised learners, so a run's draws depend only on its own seed.

A learner that randomises (the zeroth-order rules' sphere directions) draws ``(B, d)`` arrays each step. With
one generator for the whole batch, run b's draws would depend on how many runs share the batch — a
tournament match's result would change with ``--seeds``. :class:`BatchRNG` instead gives run b its own
generator, ``numpy.random.default_rng([seed_b, 0x5EED, i])`` for player i (``seed_b = seed + b``, the env's
per-copy convention; numpy's own ``SeedSequence`` hashes the three words), and buffers ``standard_normal``
draws per run in chunks, so per-step cost stays one array copy. Chunking does not change a stream: numpy
draws the same values whether asked for 1 or 1000 at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from stackenv.envs.seeding import default_rngs

#: Salt separating learner streams from the env's noise streams.
LEARNER_SALT = 0x5EED


class BatchRNG:
    """B independent generators behind the slice of the ``numpy.random.Generator`` API learners use.

    Args:
        seeds: one non-negative seed per run.
        player: the player index (each player of a run gets its own stream).
        chunk: per-run draws buffered for ``standard_normal`` (values per run, not steps).

    ``standard_normal(size)`` with ``size = (B, ...)`` gives row b from run b's stream; other methods taking a
    ``size`` whose first entry is ``B`` are forwarded run by run (unbuffered).
    """

    def __init__(self, seeds: Sequence[int], player: int, chunk: int = 4096):
        self.seeds = [int(s) for s in seeds]
        if any(s < 0 for s in self.seeds):
            raise ValueError(f"seeds must be non-negative, got {self.seeds}")
        self.B, self.player, self.chunk = len(self.seeds), int(player), int(chunk)
        self._gens: list[np.random.Generator] | None = None
        self._buf = np.zeros((self.B, 0))
        self._pos = 0

    @property
    def generators(self) -> list[np.random.Generator]:
        """The per-run generators (built on first use: deterministic rules never pay for them)."""
        if self._gens is None:
            self._gens = default_rngs([(s, LEARNER_SALT, self.player) for s in self.seeds])
        return self._gens

    def _size(self, size: Any) -> tuple[int, ...]:
        size = (size,) if np.ndim(size) == 0 else tuple(int(v) for v in size)
        if not size or size[0] != self.B:
            raise ValueError(f"BatchRNG serves draws of shape ({self.B}, ...), got size {size}")
        return size

    def standard_normal(self, size: Any = None) -> np.ndarray:
        size = self._size(size)
        per_run = int(np.prod(size[1:], dtype=int))
        if self._pos + per_run > self._buf.shape[1]:
            rest = self._buf[:, self._pos :]
            n = max(self.chunk, per_run)
            fresh = np.stack([g.standard_normal(n) for g in self.generators])
            self._buf = np.concatenate([rest, fresh], axis=1)
            self._pos = 0
        out = self._buf[:, self._pos : self._pos + per_run]
        self._pos += per_run
        return out.reshape(size).copy()

    def __getattr__(self, name: str):
        method = getattr(np.random.Generator, name, None)
        if method is None or name.startswith("_"):
            raise AttributeError(name)

        def per_run(*args: Any, size: Any = None, **kw: Any) -> np.ndarray:
            size = self._size(size)
            return np.stack([getattr(g, name)(*args, size=size[1:], **kw) for g in self.generators])

        return per_run
