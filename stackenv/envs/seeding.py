"""Seeds and generators, through numpy's own ``SeedSequence``/``Generator`` API.

A *copy* of a game (the PettingZoo env, or copy ``b`` of a batched env) seeded with ``s`` owns one
generator per purpose, numpy's spawned child ``word`` of ``SeedSequence(s)`` (:func:`stream_rngs`):
``word = 0`` draws its initial joint actions, ``word = 1`` the noise of every agent (one draw per noise value
of a step, agents in order; :mod:`stackenv.envs.noise`). A batched env reset with ``seed`` gives copy ``b`` the seed
``seed + b``, so copy ``b`` is the PettingZoo env seeded ``seed + b``, number for number. Learners use
the same scheme with their own words (:func:`generators`; ``agents.rng``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

#: Entropy words of a copy's initial-state generator and of its noise generator.
INIT_WORD = 0
NOISE_WORD = 1


def check_seed(seed: Any) -> int:
    """A copy seed must be a non-negative integer."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def fresh_seed() -> int:
    """A seed from OS entropy, for a ``reset()`` that needs new streams but got no seed."""
    return int(np.random.SeedSequence().entropy % (1 << 63))


def copy_seeds(seed: Any, B: int) -> list[int]:
    """The ``B`` copy seeds of a reset: ``seed + b`` for an int ``seed``, or ``B`` given seeds
    (``None``: a fresh seed from OS entropy, then ``+ b``)."""
    if seed is None:
        seed = fresh_seed()
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)):
        base = check_seed(seed)
        return [base + b for b in range(B)]
    if isinstance(seed, (str, bytes)) or not isinstance(seed, Sequence | np.ndarray):
        raise ValueError(f"seed must be a non-negative integer or a sequence of {B} of them, got {seed!r}")
    seeds = list(seed)
    if len(seeds) != B:
        raise ValueError(f"need one seed per copy ({B}), got {len(seeds)}")
    return [check_seed(s) for s in seeds]


def generators(entropy: Sequence[Sequence[int]]) -> list[np.random.Generator]:
    """``[np.random.default_rng(list(row)) for row in entropy]``: one generator per row of entropy words."""
    return [np.random.default_rng([int(v) for v in row]) for row in entropy]


def stream_rngs(seeds: Sequence[int], word: int) -> list[np.random.Generator]:
    """The generators of purpose ``word`` of copies seeded ``seeds``: numpy's child ``word`` of
    ``SeedSequence(seed)``, i.e. ``default_rng(SeedSequence(seed).spawn(word + 1)[word])``, built directly
    (``SeedSequence(seed, spawn_key=(word,))``; a B = 1000 reset builds 2000 of them)."""
    key = (int(word),)
    return [np.random.Generator(np.random.PCG64(np.random.SeedSequence(check_seed(s), spawn_key=key))) for s in seeds]


def init_rng(seed: int) -> np.random.Generator:
    """The generator a copy seeded with ``seed`` uses for its initial joint action."""
    return stream_rngs([seed], INIT_WORD)[0]


def noise_rng(seed: int) -> np.random.Generator:
    """The noise generator of a copy seeded with ``seed`` (all its agents' noise)."""
    return stream_rngs([seed], NOISE_WORD)[0]


#: The name ``agents.rng`` imports for its per-run learner streams.
default_rngs = generators

__all__ = [
    "INIT_WORD",
    "NOISE_WORD",
    "check_seed",
    "copy_seeds",
    "default_rngs",
    "fresh_seed",
    "generators",
    "init_rng",
    "noise_rng",
    "stream_rngs",
]
