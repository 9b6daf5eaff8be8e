"""Zero-sum games (f_2 = −f_1; paper §2.2.1, Props. 1–3) as PettingZoo envs.

The leader minimises f_1, the follower minimises −f_1.

Constructors ``env``, ``raw_env``, ``parallel_env``: agents, order of play and keywords in their docstrings
(shared by every versioned module: :data:`stackenv.envs.factory.VERSIONED_DOC`); game parameters in
:mod:`stackenv.games.zero_sum`.

Version history:
    v0: initial version.
"""

from stackenv.envs.factory import versioned

raw_env, env, parallel_env = versioned("zero_sum", "zero_sum_v0")

__all__ = ["env", "parallel_env", "raw_env"]
