"""K-level staggered chain (paper App. C.1) as PettingZoo envs, every level with a distinct agent name.

Agents: ``leader`` (level 0), ``level1``, …, ``level{K−1}``. Levels [[0], [1], ..., [K−1]]; in the AEC env
level j observes the actions of levels 0..j−1 committed this round. In ``hierarchical`` mode each level
observes its total derivative through all levels below.

Constructors ``env``, ``raw_env``, ``parallel_env``: agents, order of play and keywords in their docstrings
(shared by every versioned module: :data:`stackenv.envs.factory.VERSIONED_DOC`); game parameters in
:mod:`stackenv.games.hierarchy`.

Version history:
    v1: levels named ``leader``, ``level1``, …, ``level{K−1}``. v0 named them ``leader``, ``follower_0``,
        ``follower_1``, …, which MARL clients read as one group of interchangeable agents (``name_i``): AgileRL
        refused them (unequal observation spaces) or shared one network between levels, TorchRL grouped them.
        The ``name_i`` pattern is kept for agents *on one level* (the oligopoly's followers).
    v0: initial version (still importable: ``stackenv.envs.hierarchy_v0``).
"""

from stackenv.envs.factory import versioned


def level_names(game) -> list[str]:
    """``leader``, ``level1``, …, ``level{K−1}``: one distinct name per level."""
    return ["leader", *(f"level{k}" for k in range(1, game.n))]


raw_env, env, parallel_env = versioned("hierarchy", "hierarchy_v1", level_names)

__all__ = ["env", "level_names", "parallel_env", "raw_env"]
