"""Wrappers over the stackenv envs: one role as a single-agent env.

- :class:`SingleAgentEnv`: one role of a PettingZoo env as a ``gymnasium.Env``;
- :class:`VectorSingleAgentEnv` (Gymnasium ``VectorEnv``) and :class:`SB3VecEnv` (stable-baselines3 ``VecEnv``):
  one role in every copy of a ``BatchedStackelbergEnv`` at once, copy b behaving as ``SingleAgentEnv`` over the
  PettingZoo env seeded seed + b.
"""

from stackenv.wrappers.single_agent import SingleAgentEnv
from stackenv.wrappers.vector import SB3VecEnv, VectorSingleAgentEnv

__all__ = ["SB3VecEnv", "SingleAgentEnv", "VectorSingleAgentEnv"]
