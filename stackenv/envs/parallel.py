"""Simultaneous play over any game: :class:`StackelbergParallelEnv` (a PettingZoo ``ParallelEnv``).

Order of play: every agent submits its action at once; the joint action ``x_k`` is validated
(non-finite → ``ValueError`` naming the agent; outside the domain → clipped, or wrapped on periodic
coordinates, and flagged in ``infos[agent]["out_of_bounds"]``); then each agent receives its reward
``−f_i(x_k)`` and its feedback at ``x_k`` (see ``feedback`` below).

Episodes: ``reset(seed, options={"x0": x0})`` starts at ``x0`` (shape ``(d,)``) or, by default, at a joint
action drawn uniformly from the domain with the seed; the first observations are the feedback at
``x0``. Episodes are truncated after ``max_steps`` steps (never, if ``None``) and terminated only when
the feedback diverges or becomes undefined (reason in ``infos[agent]["termination_reason"]``).
After the episode ends ``agents`` is empty and ``step`` raises until ``reset``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pettingzoo import ParallelEnv

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
        max_steps: truncate after this many joint steps (``None``: never).
        render_mode: ``None``, ``"ansi"`` or ``"rgb_array"``.

    Rewards are ``−f_i`` (plus noise only in ``reward`` mode), as Python floats.
    """

    metadata = {**EpisodeEnv.metadata, "name": "stackelberg_v0"}

    # ------------------------------------------------------------------ API
    def reset(self, seed: int | None = None, options: Mapping[str, Any] | None = None):
        obs, infos = self._ep.reset(seed, options)
        self.agents = self.possible_agents[:]
        return obs, infos

    def step(self, actions: Mapping[str, Any]):
        if not self.agents:
            raise RuntimeError("step() called outside an episode: call reset() first (the last one may have ended)")
        check = self._ep.checker.check
        xs: list[float] = []
        oobs: list[bool] = []
        for i, name in enumerate(self.possible_agents):
            try:
                action = actions[name]
            except (KeyError, TypeError, IndexError):
                self._bad_keys(actions)
            vals, oob = check(i, action)
            xs += vals
            oobs.append(oob)
        if len(actions) != len(self.possible_agents):
            self._bad_keys(actions)
        out = self._ep.joint_step(xs, oobs)
        if out[2][self.possible_agents[0]] or out[3][self.possible_agents[0]]:
            self.agents = []
        return out

    def _bad_keys(self, actions: object) -> None:
        if not isinstance(actions, Mapping):
            raise ValueError(f"actions must be a dict {{agent: action}}, got {type(actions).__name__}")
        missing = [a for a in self.possible_agents if a not in actions]
        unknown = [a for a in actions if a not in self.possible_agents]
        raise ValueError(
            f"actions must name every agent exactly once; missing {missing}, unknown {unknown}; "
            f"agents are {self.possible_agents}"
        )
