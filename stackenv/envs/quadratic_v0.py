"""General-sum quadratic games as PettingZoo envs.

Costs are quadratic in the joint action, so every derivative is affine; the env evaluates them with the
game's own closed forms (:mod:`stackenv.games.quadratic`).

Constructors ``env``, ``raw_env``, ``parallel_env``: agents, order of play and keywords in their docstrings
(shared by every versioned module: :data:`stackenv.envs.factory.VERSIONED_DOC`); game parameters in
:mod:`stackenv.games.quadratic`.

Version history:
    v0: initial version.
"""

from stackenv.envs.factory import versioned

raw_env, env, parallel_env = versioned("quadratic", "quadratic_v0")

__all__ = ["env", "parallel_env", "raw_env"]
