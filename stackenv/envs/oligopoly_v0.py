"""Stackelberg oligopoly: one leader above N simultaneous followers (paper App. C.2) as PettingZoo envs.

Followers act simultaneously at one level; for large N prefer the batched env
(:class:`stackenv.envs.BatchedStackelbergEnv`), which evaluates the game's O(N) fast paths.

Constructors ``env``, ``raw_env``, ``parallel_env``: agents, order of play and keywords in their docstrings
(shared by every versioned module: :data:`stackenv.envs.factory.VERSIONED_DOC`); game parameters in
:mod:`stackenv.games.oligopoly`.

Version history:
    v0: initial version.
"""

from stackenv.envs.factory import versioned

raw_env, env, parallel_env = versioned("oligopoly", "oligopoly_v0")

__all__ = ["env", "parallel_env", "raw_env"]
