"""Seeded, buffered noise streams, one per copy: :class:`NoiseStream`.

Every copy draws its noise from one generator, child ``NOISE_WORD`` of ``SeedSequence(seed)`` for a copy seeded
``seed`` (:mod:`stackenv.envs.seeding`): each step it draws the values of every noisy agent at once, ``(K',)``
standard draws in row order (agents with zero std or no values skipped), scaled per agent. Draws are made
in chunks of many steps at once, ``(chunk, K')`` per copy, and handed out one step at a time — no Python
loop over agents, so a step costs O(K) for any number of agents. Numpy fills a requested block element by
element from the bit generator, so the values a stream yields do not depend on the chunk size (a test
checks this); a single copy and copy ``b`` of a batched env seeded ``seed + b`` therefore see identical
noise.

Noise scale (``noise_std``): the *standard deviation* of each noise coordinate, in the units of the
quantity it perturbs. The paper writes ``N(0, 10)`` (duopoly) and ``N(0, 0.01)`` (torus) for
*variances*: pass ``noise_std=sqrt(10)`` and ``noise_std=0.1`` to reproduce them.

Kinds (``noise=``, :data:`stackenv.envs.modes.NOISE_KINDS`):
    ``"gaussian"``   ``w = std · z``, ``z ~ N(0, 1)``.
    ``"student_t"``  ``w = std · sqrt((df − 2)/df) · t``, ``t ~ Student-t(df)``: heavy-tailed with the same
                     standard deviation ``std`` (needs ``df > 2``, where the variance is finite).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from stackenv.envs.modes import NOISE_KINDS, check_noise_kind
from stackenv.envs.seeding import NOISE_WORD, check_seed, default_rngs, init_rng, noise_rng, stream_rngs

#: Upper bound on the floats held in one stream's buffer (B copies × chunk steps × values per step; 8 MB).
_BUFFER_FLOATS = 1 << 20
_MAX_CHUNK = 1024


def parse_noise_std(noise_std: float | Sequence[float] | Mapping[str, float], agents: Sequence[str]) -> np.ndarray:
    """Per-agent noise standard deviations as a float array ``(n,)``.

    Args:
        noise_std: one scalar for every agent, a sequence in agent order, or a dict ``{agent: std}``
            (agents left out get 0).
        agents: agent names in hierarchy order.

    Raises:
        ValueError: on a negative, non-finite or non-numeric std, a wrong length or an unknown agent.
    """
    n = len(agents)
    if isinstance(noise_std, Mapping):
        unknown = set(noise_std) - set(agents)
        if unknown:
            raise ValueError(f"noise_std names unknown agent(s) {sorted(map(str, unknown))}; agents are {list(agents)}")
        values = [noise_std.get(a, 0.0) for a in agents]
    elif np.ndim(noise_std) == 0:
        values = [noise_std] * n
    else:
        values = list(noise_std)
        if len(values) != n:
            raise ValueError(f"noise_std must have one entry per agent ({n}: {list(agents)}), got {len(values)}")
    try:
        std = np.array(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"noise_std must be numeric, got {noise_std!r}") from exc
    if std.shape != (n,) or not np.all(np.isfinite(std)) or np.any(std < 0):
        raise ValueError(f"noise_std must be finite and >= 0 for every agent, got {noise_std!r}")
    return std


class NoiseStream:
    """Per-step noise for ``B`` copies × ``n`` agents, buffered in chunks.

    Each step yields a ``(B, K)`` array, ``K = sum(sizes)``; columns ``offsets[i]:offsets[i+1]`` belong to
    agent ``i`` and are ``std_i`` times that copy's standard draws (:func:`~stackenv.envs.seeding.noise_rng`;
    one step's draws fill the noisy agents' columns in order). Agents with ``std_i == 0`` (or
    ``sizes[i] == 0``) draw nothing and get exact zeros.

    Args:
        seeds: one non-negative integer seed per copy.
        sizes: noise values per step for each agent.
        std: per-agent standard deviations ``(n,)``.
        noise: ``"gaussian"`` or ``"student_t"``.
        df: Student-t degrees of freedom (``> 2``).
        chunk: steps drawn per refill (default: as many as fit a small buffer, at most 1024).
    """

    def __init__(
        self,
        seeds: Sequence[int],
        sizes: Sequence[int],
        std: Sequence[float],
        noise: str = "gaussian",
        df: float = 3.0,
        chunk: int | None = None,
    ):
        self.noise, self.df = check_noise_kind(noise, df)
        self.seeds = [check_seed(s) for s in seeds]
        self.sizes = [int(k) for k in sizes]
        self.std = np.asarray(std, dtype=float)
        if self.std.shape != (len(self.sizes),):
            raise ValueError(f"need one std per agent ({len(self.sizes)}), got shape {self.std.shape}")
        self.B = len(self.seeds)
        offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(int).tolist()
        self.K = offsets[-1]
        unit = math.sqrt((self.df - 2.0) / self.df) if self.noise == "student_t" else 1.0
        per_col = np.repeat(self.std * unit, self.sizes)  # (K,) scale of every column
        self._cols = np.flatnonzero(per_col > 0)  # the columns that draw, in row order
        self._scale = per_col[self._cols]
        self._all = self._cols.size == self.K  # every column draws: no scatter
        self._gens = stream_rngs(self.seeds, NOISE_WORD)  # one per copy
        if chunk is None:
            chunk = max(1, min(_MAX_CHUNK, _BUFFER_FLOATS // max(1, self.B * self.K)))
        self.chunk = int(chunk)
        if self.chunk < 1:
            raise ValueError(f"chunk must be >= 1, got {chunk!r}")
        self._buf = np.zeros((self.chunk, self.B, self.K))  # scaled noise, one contiguous (B, K) block per step
        # copy b's standard draws, contiguous per copy; one copy drawing every column draws in step order, so its
        # draws are the buffer itself (scaled in place, no transposing copy: a pass less per 10⁶-value step; after
        # a pickle round trip the two are separate arrays and the scaling copies, with the same values)
        shape = (self.B, self.chunk, self._cols.size)
        self._draws = self._buf.reshape(shape) if self.B == 1 and self._all else np.empty(shape)
        self._t = self.chunk  # forces a refill on first use

    @property
    def active(self) -> bool:
        """Whether any agent draws noise at all."""
        return bool(self._cols.size)

    def _refill(self) -> None:
        draws = self._draws
        for b, gen in enumerate(self._gens):  # one (chunk, K') block per copy, drawn in place
            if self.noise == "gaussian":
                gen.standard_normal(out=draws[b])
            else:
                draws[b] = gen.standard_t(self.df, draws.shape[1:])
        steps_first = draws.transpose(1, 0, 2)  # (chunk, B, K')
        scale = self._scale
        if scale.size and np.all(scale == scale[0]):
            scale = float(scale[0])  # one std for all: a scalar product is much faster than a broadcast one
        if self._all:  # in place when the draws are the buffer (one copy)
            np.multiply(steps_first, scale, out=self._buf)
        else:
            self._buf[:, :, self._cols] = steps_first * scale
        self._t = 0

    def next(self) -> np.ndarray:
        """The next step's noise, ``(B, K)`` (a view into the buffer: read it, don't keep or write it)."""
        if self._t >= self.chunk:
            self._refill()
        t = self._t
        self._t = t + 1
        return self._buf[t]


__all__ = [
    "NOISE_KINDS",
    "NoiseStream",
    "check_noise_kind",
    "check_seed",
    "default_rngs",
    "init_rng",
    "noise_rng",
    "parse_noise_std",
    "stream_rngs",
]
