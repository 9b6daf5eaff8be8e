"""Stackelberg duopoly (paper §4.1) as PettingZoo envs.

Two firms choose quantities in [0, A]; costs are negative profits. The paper's noise N(0, 10) is
``noise_std=10 ** 0.5``. Example: ``duopoly_v0.parallel_env(feedback="gradient", noise_std=10 ** 0.5)``.

Constructors ``env``, ``raw_env``, ``parallel_env``: agents, order of play and keywords in their docstrings
(shared by every versioned module: :data:`stackenv.envs.factory.VERSIONED_DOC`); game parameters in
:mod:`stackenv.games.duopoly`.

Version history:
    v0: initial version.
"""

from stackenv.envs.factory import versioned

raw_env, env, parallel_env = versioned("duopoly", "duopoly_v0")

__all__ = ["env", "parallel_env", "raw_env"]
