"""K-level staggered chain (paper App. C.1) as PettingZoo envs.

Levels [[0], [1], ..., [K−1]]; in the AEC env level j observes the actions of levels 0..j−1 committed
this round. In ``hierarchical`` mode each level observes its total derivative through all levels below.

Agents: ``possible_agents`` are the game's players, leader first (see the game module for names).
Order of play: ``parallel_env`` — simultaneous; ``env``/``raw_env`` — leader first, level by level, each
agent observing the actions committed above it (see :mod:`stackenv.envs.aec`).
Keywords: ``feedback`` ("reward", "gradient", "hierarchical", "second_order"), ``noise_std`` (standard
deviation; the paper's variances must be square-rooted), ``noise`` ("gaussian", "student_t"), ``df``,
``max_steps``, ``render_mode`` ("ansi", "rgb_array"), and the game's own parameters
(:mod:`stackenv.games.hierarchy`).

Version history:
    v0: initial version.
"""

from stackenv.envs.factory import versioned

raw_env, env, parallel_env = versioned("hierarchy", "hierarchy_v0")

__all__ = ["env", "parallel_env", "raw_env"]
