"""Wrappers over the stackenv PettingZoo envs: :class:`SingleAgentEnv` (one role as a ``gymnasium.Env``)."""

from stackenv.wrappers.single_agent import SingleAgentEnv

__all__ = ["SingleAgentEnv"]
