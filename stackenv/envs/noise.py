"""Seeded, buffered noise streams shared by the PettingZoo envs and the batched env.

Every (copy, agent) pair owns a private ``numpy.random.Generator`` derived from the copy's seed:
``default_rng([seed, 1 + i])`` for agent ``i`` (``default_rng([seed, 0])`` is the copy's initial-state
stream, see :func:`init_rng`). Draws are made in chunks of many steps at once and handed out one
step at a time, so the per-step cost is an index, not a generator call. Numpy fills a requested
block element by element from the bit generator, so the values a stream yields do not depend on the
chunk size (a test checks this); the PettingZoo env (one copy) and copy ``b`` of a batched env seeded
``seed + b`` therefore see identical noise.

Noise scale (``noise_std``): the *standard deviation* of each noise coordinate, in the units of the
quantity it perturbs. The paper writes ``N(0, 10)`` (duopoly) and ``N(0, 0.01)`` (torus) for
*variances*: pass ``noise_std=sqrt(10)`` and ``noise_std=0.1`` to reproduce them.

Kinds (``noise=``):
    ``"gaussian"``   ``w = std · z``, ``z ~ N(0, 1)``.
    ``"student_t"``  ``w = std · sqrt((df − 2)/df) · t``, ``t ~ Student-t(df)``: heavy-tailed with the same
                     standard deviation ``std`` (needs ``df > 2``, where the variance is finite).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
from numpy.random.bit_generator import ISeedSequence

NoiseKind = Literal["gaussian", "student_t"]
NOISE_KINDS: tuple[str, ...] = ("gaussian", "student_t")

#: Upper bound on the floats held in one stream's buffer (B copies × chunk steps × values per step; 8 MB).
_BUFFER_FLOATS = 1 << 20
_MAX_CHUNK = 1024
#: Floats of scratch per refill block (256 kB).
_SCRATCH_FLOATS = 1 << 15


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


def check_noise_kind(noise: str, df: float) -> tuple[str, float]:
    """Validate ``noise`` and ``df``; returns them normalised."""
    if noise not in NOISE_KINDS:
        raise ValueError(f"unknown noise {noise!r}; valid: {', '.join(NOISE_KINDS)}")
    try:
        df = float(df)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"df must be a number > 2, got {df!r}") from exc
    if noise == "student_t" and not (math.isfinite(df) and df > 2):
        raise ValueError(f"student_t noise needs finite df > 2 (finite variance), got df={df!r}")
    return noise, df


def check_seed(seed: int) -> int:
    """A copy seed must be a non-negative integer."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def init_rng(seed: int) -> np.random.Generator:
    """The generator a copy seeded with ``seed`` uses for its initial joint action."""
    return np.random.default_rng([check_seed(seed), 0])


def agent_rng(seed: int, agent_index: int) -> np.random.Generator:
    """The noise generator of agent ``agent_index`` in a copy seeded with ``seed``."""
    return np.random.default_rng([check_seed(seed), 1 + int(agent_index)])


# ---------------------------------------------------------------------- many generators at once
# numpy's SeedSequence (O'Neill's seed_seq hash; numpy/random/bit_generator.pyx), vectorised over seeds.
_M32 = 0xFFFFFFFF
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715
_POOL = 4


def _seed_sequence_states(words: np.ndarray) -> np.ndarray:
    """``SeedSequence(row).generate_state(4, uint64)`` for every row of ``words`` ``(B, L)`` uint32, L ≤ 4."""
    B, L = words.shape
    u32 = np.uint32
    hc = _INIT_A

    def hashmix(v: np.ndarray) -> np.ndarray:
        nonlocal hc
        v = v ^ u32(hc)
        hc = (hc * _MULT_A) & _M32
        v = v * u32(hc)
        return v ^ (v >> u32(16))

    zero = np.zeros(B, u32)
    pool = [hashmix(words[:, i] if i < L else zero) for i in range(_POOL)]
    for src in range(_POOL):
        for dst in range(_POOL):
            if src != dst:
                r = u32(_MIX_L) * pool[dst] - u32(_MIX_R) * hashmix(pool[src])
                pool[dst] = r ^ (r >> u32(16))
    hb = _INIT_B
    out = np.empty((B, 8), u32)
    for k in range(8):
        v = pool[k % _POOL] ^ u32(hb)
        hb = (hb * _MULT_B) & _M32
        v = v * u32(hb)
        out[:, k] = v ^ (v >> u32(16))
    return out.astype("<u4").view("<u8").astype(np.uint64)


class _PresetSeedSequence(ISeedSequence):
    """A seed sequence whose PCG64 state words were computed in a batch (:func:`stream_rngs`)."""

    __slots__ = ("state",)

    def __init__(self, state: np.ndarray):
        self.state = state

    def generate_state(self, n_words: int, dtype=np.uint32) -> np.ndarray:
        if n_words != 4 or np.dtype(dtype) != np.uint64:  # only PCG64's request is precomputed
            raise ValueError("a preset seed sequence only serves PCG64 (4 uint64 words)")
        return self.state


def default_rngs(entropy: Sequence[Sequence[int]] | np.ndarray) -> list[np.random.Generator]:
    """``[np.random.default_rng(list(row)) for row in entropy]``: the same generators, built ~5x faster.

    ``default_rng`` spends most of its ~9 µs hashing the seed in ``SeedSequence``; here the hash runs once over
    all rows in numpy (an integer array ``(M, L)``, ``L ≤ 4``, entries in ``[0, 2**32)``; anything else takes
    numpy's own path). A test checks the streams against ``default_rng`` draw for draw.
    """
    try:
        words = np.asarray(entropy)
    except ValueError:  # ragged rows
        words = None
    if words is not None and words.size == 0:
        return []
    if (
        words is None
        or words.ndim != 2
        or words.dtype.kind not in "iu"
        or not 1 <= words.shape[1] <= _POOL
        or words.min() < 0
        or words.max() > _M32
    ):
        return [np.random.default_rng([int(v) for v in row]) for row in entropy]
    states = _seed_sequence_states(words.astype(np.uint32))
    Gen, PCG64 = np.random.Generator, np.random.PCG64
    return [Gen(PCG64(_PresetSeedSequence(st))) for st in states]


def stream_rngs(seeds: Sequence[int], word: int) -> list[np.random.Generator]:
    """``[np.random.default_rng([seed, word]) for seed in seeds]`` via :func:`default_rngs`."""
    return default_rngs(_seed_words(seeds, [int(word)]))


def _seed_words(seeds: Sequence[int], words: Sequence[int]) -> np.ndarray | list[tuple[int, int]]:
    """Rows ``(seed, word)`` for every seed, then every word (seeds validated as by :func:`check_seed`)."""
    arr = np.asarray(seeds)
    if arr.ndim == 1 and arr.dtype.kind in "iu" and (arr.size == 0 or arr.min() >= 0):
        out = np.empty((arr.size, len(words), 2), dtype=np.int64 if arr.dtype.kind == "i" else np.uint64)
        out[:, :, 0] = arr[:, None]
        out[:, :, 1] = words
        return out.reshape(-1, 2)
    return [(check_seed(s), w) for s in seeds for w in words]


class NoiseStream:
    """Per-step noise for ``B`` copies × ``n`` agents, buffered in chunks.

    Each step yields a ``(B, K)`` array, ``K = sum(sizes)``; columns ``offsets[i]:offsets[i+1]`` belong to
    agent ``i`` and are ``std_i`` times draws from that (copy, agent) pair's own generator. Agents with
    ``std_i == 0`` (or ``sizes[i] == 0``) draw nothing and get exact zeros.

    Args:
        seeds: one non-negative integer seed per copy.
        sizes: noise values per step for each agent.
        std: per-agent standard deviations ``(n,)``.
        noise: ``"gaussian"`` or ``"student_t"``.
        df: Student-t degrees of freedom (``> 2``).
        chunk: steps drawn per refill (default: as many as fit a small buffer, at most 1024).
        agent_major: lay each step's ``(B, K)`` block out column by column (``next()`` then returns an
            F-ordered view), for consumers that evaluate feedback agent by agent over the copies.
    """

    def __init__(
        self,
        seeds: Sequence[int],
        sizes: Sequence[int],
        std: Sequence[float],
        noise: NoiseKind = "gaussian",
        df: float = 3.0,
        chunk: int | None = None,
        agent_major: bool = False,
    ):
        self.noise, self.df = check_noise_kind(noise, df)
        self.seeds = [check_seed(s) for s in seeds]
        self.sizes = [int(k) for k in sizes]
        self.std = np.asarray(std, dtype=float)
        if self.std.shape != (len(self.sizes),):
            raise ValueError(f"need one std per agent ({len(self.sizes)}), got shape {self.std.shape}")
        self.B = len(self.seeds)
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(int).tolist()
        self.K = self.offsets[-1]
        unit = math.sqrt((self.df - 2.0) / self.df) if self.noise == "student_t" else 1.0
        # (agent index, column slice, scale); scale = std (· t-correction) — applied once per chunk
        self._draws = [
            (i, slice(self.offsets[i], self.offsets[i + 1]), float(self.std[i]) * unit)
            for i in range(len(self.sizes))
            if self.sizes[i] > 0 and self.std[i] > 0
        ]
        S = len(self._draws)  # agent_rng(seed, i) for every (copy, drawing agent), in one batch
        flat = default_rngs(_seed_words(self.seeds, [1 + i for i, _, _ in self._draws]))
        self._gens = [flat[b * S : (b + 1) * S] for b in range(self.B)]
        if chunk is None:
            chunk = max(1, min(_MAX_CHUNK, _BUFFER_FLOATS // max(1, self.B * self.K)))
        self.chunk = int(chunk)
        if self.chunk < 1:
            raise ValueError(f"chunk must be >= 1, got {chunk!r}")
        # indexed (step, copy, value) either way; only the memory order differs
        if agent_major:
            self._buf = np.zeros((self.chunk, self.K, self.B)).transpose(0, 2, 1)
        else:
            self._buf = np.zeros((self.chunk, self.B, self.K))
        self._rows: list[list[float]] | None = None
        self._t = self.chunk  # forces a refill on first use

    @property
    def active(self) -> bool:
        """Whether any agent draws noise at all."""
        return bool(self._draws)

    def _refill(self) -> None:
        buf = self._buf
        if self.noise == "gaussian":
            # each stream fills contiguous scratch rows in place, a block of copies at a time (scratch of
            # ~256 kB stays in cache), then one scaled transpose per block and agent
            for j, (i, cols, scale) in enumerate(self._draws):
                k = self.sizes[i]
                block = max(1, _SCRATCH_FLOATS // (self.chunk * k))
                z = np.empty((min(block, self.B), self.chunk, k))
                for b0 in range(0, self.B, block):
                    gens = self._gens[b0 : b0 + block]
                    zb = z[: len(gens)]
                    for b, g in enumerate(gens):
                        g[j].standard_normal(out=zb[b])
                    np.multiply(zb.transpose(1, 0, 2), scale, out=buf[:, b0 : b0 + len(gens), cols])
        else:
            for b, gens in enumerate(self._gens):
                for (i, cols, scale), gen in zip(self._draws, gens):
                    z = gen.standard_t(self.df, (self.chunk, self.sizes[i]))
                    np.multiply(z, scale, out=buf[:, b, cols])
        self._rows = None
        self._t = 0

    def next(self) -> np.ndarray:
        """The next step's noise, ``(B, K)`` (a view into the buffer: read it, don't keep or write it)."""
        if self._t >= self.chunk:
            self._refill()
        t = self._t
        self._t = t + 1
        return self._buf[t]

    def next_list(self) -> list[float]:
        """The next step's noise of the single copy as a list of ``K`` Python floats (``B == 1`` only)."""
        if self._t >= self.chunk:
            self._refill()
        if self._rows is None:
            if self.B != 1:
                raise ValueError(f"next_list() needs a single copy, this stream has B={self.B}")
            self._rows = self._buf[:, 0, :].tolist()
        t = self._t
        self._t = t + 1
        return self._rows[t]
