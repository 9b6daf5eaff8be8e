"""Wrappers over the stackenv envs: one role as a single-agent env.

- :class:`SingleAgentEnv`: one role of a PettingZoo env as a ``gymnasium.Env``;
- :class:`VectorSingleAgentEnv` (Gymnasium ``VectorEnv``) and :class:`SB3VecEnv` (stable-baselines3 ``VecEnv``):
  one role in every copy of a ``BatchedStackelbergEnv`` at once, copy b behaving as ``SingleAgentEnv`` over the
  PettingZoo env seeded seed + b.

``SB3VecEnv`` is imported on first use (it needs stable-baselines3, hence torch).
"""

from typing import Any

from stackenv.wrappers.single_agent import SingleAgentEnv
from stackenv.wrappers.vector import VectorSingleAgentEnv

__all__ = ["SB3VecEnv", "SingleAgentEnv", "VectorSingleAgentEnv"]


def __getattr__(name: str) -> Any:
    if name == "SB3VecEnv":
        from stackenv.wrappers.sb3_vec import SB3VecEnv

        return SB3VecEnv
    raise AttributeError(f"module 'stackenv.wrappers' has no attribute {name!r}")
