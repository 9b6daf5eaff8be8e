"""LQ dynamic game (:mod:`stackenv.games.lq`) as PettingZoo envs: state, controls, stage costs.

``parallel_env(**game_params)`` (simultaneous play) and ``env(**game_params)`` / ``raw_env`` (leader first; the
followers see the leader's control). Observations, rewards and the episode are described in
:mod:`stackenv.envs.lq`. Example: ``lq_v0.parallel_env(horizon=20, W=[[0.01, 0], [0, 0.01]])``.

Version history:
    v0: initial version.
"""

from pettingzoo.utils import wrappers

from stackenv.envs.lq import LQAECEnv, LQParallelEnv

raw_env = LQAECEnv
parallel_env = LQParallelEnv


def env(**params):
    """The leader-first AEC env wrapped in PettingZoo's order-enforcing wrapper."""
    return wrappers.OrderEnforcingWrapper(LQAECEnv(**params))


__all__ = ["env", "parallel_env", "raw_env"]
