"""Location game on the torus (paper §4.2) as PettingZoo envs.

Two players choose angles on [−π, π) (periodic: out-of-range actions wrap). The paper's noise
N(0, 0.01) is ``noise_std=0.1``.

Constructors ``env``, ``raw_env``, ``parallel_env``: agents, order of play and keywords in their docstrings
(shared by every versioned module: :data:`stackenv.envs.factory.VERSIONED_DOC`); game parameters in
:mod:`stackenv.games.torus`.

Version history:
    v0: initial version.
"""

from stackenv.envs.factory import versioned

raw_env, env, parallel_env = versioned("torus", "torus_v0")

__all__ = ["env", "parallel_env", "raw_env"]
