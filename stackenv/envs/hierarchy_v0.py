"""K-level staggered chain (paper App. C.1) as PettingZoo envs.

Levels [[0], [1], ..., [K−1]]; in the AEC env level j observes the actions of levels 0..j−1 committed
this round. In ``hierarchical`` mode each level observes its total derivative through all levels below.

Constructors ``env``, ``raw_env``, ``parallel_env``: agents, order of play and keywords in their docstrings
(shared by every versioned module: :data:`stackenv.envs.factory.VERSIONED_DOC`); game parameters in
:mod:`stackenv.games.hierarchy`.

Version history:
    v0: initial version; superseded by ``hierarchy_v1`` (distinct level names), kept importable.
"""

from stackenv.envs.factory import versioned

raw_env, env, parallel_env = versioned("hierarchy", "hierarchy_v0")

__all__ = ["env", "parallel_env", "raw_env"]
