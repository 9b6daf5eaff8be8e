"""Zero-sum games (f_2 = −f_1; paper §2.2.1, Props. 1–3) as PettingZoo envs.

The leader minimises f_1, the follower minimises −f_1.

Agents: ``possible_agents`` are the game's players, leader first (see the game module for names).
Order of play: ``parallel_env`` — simultaneous; ``env``/``raw_env`` — leader first, level by level, each
agent observing the actions committed above it (see :mod:`stackenv.envs.aec`).
Keywords: ``feedback`` ("reward", "gradient", "hierarchical", "second_order"), ``noise_std`` (standard
deviation; the paper's variances must be square-rooted), ``noise`` ("gaussian", "student_t"), ``df``,
``max_steps``, ``render_mode`` ("ansi", "rgb_array"), and the game's own parameters
(:mod:`stackenv.games.zero_sum`).

Version history:
    v0: initial version.
"""

from stackenv.envs.factory import versioned

raw_env, env, parallel_env = versioned("zero_sum", "zero_sum_v0")

__all__ = ["env", "parallel_env", "raw_env"]
