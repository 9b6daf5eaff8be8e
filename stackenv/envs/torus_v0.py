"""Location game on the torus (paper §4.2) as PettingZoo envs.

Two players choose angles on [−π, π) (periodic: out-of-range actions wrap). The paper's noise
N(0, 0.01) is ``noise_std=0.1``.

Agents: ``possible_agents`` are the game's players, leader first (see the game module for names).
Order of play: ``parallel_env`` — simultaneous; ``env``/``raw_env`` — leader first, level by level, each
agent observing the actions committed above it (see :mod:`stackenv.envs.aec`).
Keywords: ``feedback`` ("reward", "gradient", "hierarchical", "second_order"), ``noise_std`` (standard
deviation; the paper's variances must be square-rooted), ``noise`` ("gaussian", "student_t"), ``df``,
``max_steps``, ``render_mode`` ("ansi", "rgb_array"), and the game's own parameters
(:mod:`stackenv.games.torus`).

Version history:
    v0: initial version.
"""

from stackenv.envs.factory import versioned

raw_env, env, parallel_env = versioned("torus", "torus_v0")

__all__ = ["env", "parallel_env", "raw_env"]
