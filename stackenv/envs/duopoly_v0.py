"""Stackelberg duopoly (paper §4.1) as PettingZoo envs.

Two firms choose quantities in [0, A]; costs are negative profits. The paper's noise N(0, 10) is
``noise_std=10 ** 0.5``. Example: ``duopoly_v0.parallel_env(feedback="gradient", noise_std=10 ** 0.5)``.

Agents: ``possible_agents`` are the game's players, leader first (see the game module for names).
Order of play: ``parallel_env`` — simultaneous; ``env``/``raw_env`` — leader first, level by level, each
agent observing the actions committed above it (see :mod:`stackenv.envs.aec`).
Keywords: ``feedback`` ("reward", "gradient", "hierarchical", "second_order"), ``noise_std`` (standard
deviation; the paper's variances must be square-rooted), ``noise`` ("gaussian", "student_t"), ``df``,
``max_steps``, ``render_mode`` ("ansi", "rgb_array"), and the game's own parameters
(:mod:`stackenv.games.duopoly`).

Version history:
    v0: initial version.
"""

from stackenv.envs.factory import versioned

raw_env, env, parallel_env = versioned("duopoly", "duopoly_v0")

__all__ = ["env", "parallel_env", "raw_env"]
