"""Simultaneous play over any game: :class:`StackelbergParallelEnv` (a PettingZoo ``ParallelEnv``).

Order of play: every agent submits its action at once; the joint action ``x_k`` is validated
(non-finite → ``ValueError`` naming the agent; outside the domain → clipped, or wrapped on periodic
coordinates, and flagged in ``infos[agent]["out_of_bounds"]``); then each agent receives its reward
``−f_i(x_k)`` and its feedback at ``x_k`` (see ``feedback`` below).

Episodes: ``reset(seed, options={"x0": x0})`` starts at ``x0`` (shape ``(d,)``) or, by default, at a joint
action drawn uniformly from the domain with the seed; the first observations are the feedback at
``x0``. Episodes are truncated after ``max_steps`` steps (default
:data:`~stackenv.envs.modes.DEFAULT_MAX_STEPS` = 1000, so ``while env.agents:`` ends; ``None``: never) and
terminated only when the feedback diverges or becomes undefined (reason in
``infos[agent]["termination_reason"]``). After the episode ends ``agents`` is empty and ``step`` raises
until ``reset``. ``reset()`` without a seed continues the noise streams; a copy of the env (``deepcopy``,
``pickle``) continues a running episode bit for bit, but its next unseeded ``reset()`` draws fresh streams.

Normalising observations: derivative feedback is unbounded (``Box(−inf, inf)``), so normalisers that need
bounds refuse it; use a running normaliser — SB3's ``VecNormalize``, TorchRL's ``ObservationNorm`` (with
``init_stats``) — or ``reward`` feedback, whose observation is the bounded joint action.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from pettingzoo import ParallelEnv

from stackenv.envs.actions import check_keys
from stackenv.envs.common import EpisodeEnv


class StackelbergParallelEnv(EpisodeEnv, ParallelEnv):
    """Any :class:`~stackenv.games.base.Game` as a PettingZoo parallel env (simultaneous play).

    Args:
        game: the game (built-in or user-defined).
        feedback: what agents observe after each joint action ``x``:
            ``"gradient"``      ``∇_i f_i(x) + w``, shape ``(d_i,)``;
            ``"hierarchical"``  leaders' total derivative ``Df_i(x) + w`` through the responses of all levels
                                below them (``game.omega_S``), the bottom level's own gradient; ``(d_i,)``;
            ``"second_order"``  dict ``grad`` = ``∇_x f_i + w`` ``(d,)``, and for agents with levels below them
                                ``H22`` ``(m, m)`` and ``H21`` ``(m, d_i)`` from ``game.response_blocks``, each + noise;
                                for games with ``d ≤ 16`` every agent also gets ``grads`` ``(n, d)`` (every
                                player's ``∇_x f_j``) and ``J`` ``(d, d)`` (the game Jacobian), + noise;
            ``"reward"``        the last joint action ``x`` ``(d,)``; the reward is ``−f_i(x) + w``.
        noise_std: standard deviation of ``w`` (scalar, per-agent sequence or ``{agent: std}``). The paper's
            ``N(0, 10)`` is a *variance*: use ``noise_std=sqrt(10)``. 0 gives the exact oracle.
        noise: ``"gaussian"`` or ``"student_t"`` (heavy-tailed, scaled to the same std; needs ``df > 2``).
        df: Student-t degrees of freedom.
        max_steps: truncate after this many joint steps (default 1000; ``None``: never).
        render_mode: ``None``, ``"ansi"`` or ``"rgb_array"``.
        rescale_actions: action spaces are ``Box(−1, 1)``, mapped linearly onto each agent's bounds (what MARL
            trainers assume); out-of-range actions are clipped (wrapped) and flagged as usual.
        flatten: ``second_order`` observations as one flat ``Box`` per agent instead of a ``Dict``: ``grad``
            ``(d,)``, then (agents with levels below them) ``H22`` ``(m·m,)`` and ``H21`` ``(m·d_i,)``, then (games
            with ``d ≤ 16``) ``grads`` ``(n·d,)`` and ``J`` ``(d·d,)``, each row-major; :meth:`unflatten` gives the
            dict back. (No effect on the other modes, already flat.)
        pad_observations: one observation space for every agent — the union of their (flat) boxes, each
            observation zero-padded at the end to the longest — as vectorising clients need (SuperSuit's
            ``pettingzoo_env_to_vec_env_v1``, Tianshou).

    Rewards are ``−f_i`` (plus noise only in ``reward`` mode), as Python floats.
    """

    metadata = {**EpisodeEnv.metadata, "name": "stackelberg_v0"}

    def reset(self, seed: int | None = None, options: Mapping[str, Any] | None = None):
        obs, infos = self._reset(seed, options)
        return self._present(obs), infos

    def step(self, actions: Mapping[str, Any]):
        if not self.agents:
            raise RuntimeError("step() called outside an episode: call reset() first (the last one may have ended)")
        check_keys(actions, self.possible_agents)
        checked = [self._check(i, actions[a]) for i, a in enumerate(self.possible_agents)]
        out = self._joint_step(np.concatenate([x for x, _ in checked]), [o for _, o in checked])
        if out[2][self.possible_agents[0]] or out[3][self.possible_agents[0]]:
            self.agents = []
        return (self._present(out[0]), *out[1:])
