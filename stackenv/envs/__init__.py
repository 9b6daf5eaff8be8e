"""PettingZoo environments for continuous Stackelberg games (contract: docs/architecture.md §3).

- :class:`StackelbergParallelEnv` — simultaneous play over any game (PettingZoo ``ParallelEnv``).
- :class:`StackelbergAECEnv` — leader-first play, level by level (PettingZoo ``AECEnv``).
- :class:`BatchedStackelbergEnv` — B copies in one numpy step; copy b == the PettingZoo env seeded seed+b.
- Generic constructors over any game (instance or registered name): :func:`parallel_env`, :func:`env`,
  :func:`raw_env`, :func:`batched_env`.
- Versioned modules fixing a built-in game: ``duopoly_v0``, ``torus_v0``, ``zero_sum_v0``, ``quadratic_v0``,
  ``oligopoly_v0``, ``hierarchy_v1`` (``hierarchy_v0``: its earlier agent names), each with ``env``,
  ``parallel_env``, ``raw_env``.
- The vocabulary (feedback modes, noise kinds, render modes, default ``max_steps``) and its checks:
  :mod:`stackenv.envs.modes`; seeds and generators: :mod:`stackenv.envs.seeding`.
"""

from stackenv.envs.aec import StackelbergAECEnv
from stackenv.envs.batched import BatchedStackelbergEnv
from stackenv.envs.engine import F32_MAX, Engine
from stackenv.envs.factory import batched_env, env, make_game, parallel_env, raw_env
from stackenv.envs.modes import DEFAULT_MAX_STEPS, FEEDBACK_MODES, NOISE_KINDS
from stackenv.envs.noise import NoiseStream
from stackenv.envs.parallel import StackelbergParallelEnv

#: Versioned env modules, one per built-in game family: ``stackenv.envs.<name>``.
ENV_MODULES: dict[str, str] = {
    "duopoly_v0": "duopoly",
    "torus_v0": "torus",
    "zero_sum_v0": "zero_sum",
    "quadratic_v0": "quadratic",
    "oligopoly_v0": "oligopoly",
    "hierarchy_v0": "hierarchy",
    "hierarchy_v1": "hierarchy",
}

#: Envs of dynamic games (own classes, not the static-game wrapper): ``stackenv.envs.lq_v0`` (:mod:`stackenv.envs.lq`).
DYNAMIC_ENV_MODULES: dict[str, str] = {"lq_v0": "lq"}

__all__ = [
    "DYNAMIC_ENV_MODULES",
    "DEFAULT_MAX_STEPS",
    "ENV_MODULES",
    "F32_MAX",
    "FEEDBACK_MODES",
    "NOISE_KINDS",
    "BatchedStackelbergEnv",
    "Engine",
    "NoiseStream",
    "StackelbergAECEnv",
    "StackelbergParallelEnv",
    "batched_env",
    "env",
    "make_game",
    "parallel_env",
    "raw_env",
]
