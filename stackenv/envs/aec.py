"""Leader-first play over any game: :class:`StackelbergAECEnv` (a PettingZoo ``AECEnv``).

Order of play (one *round* = one joint action ``x_k``):
    1. The agents act one at a time in hierarchy order, top level first (``possible_agents`` order):
       the leader(s) of level 0, then every agent of level 1, then level 2, and so on.
    2. An agent's action is *committed* when it steps (validated, clipped/wrapped exactly as in the
       parallel env). Agents of one level act in turn but do not see each other's new actions: they
       play simultaneously among themselves.
    3. When it is an agent's turn, its observation contains the actions committed *this round* by every
       level above it (``above``), next to its feedback from the last completed round.
    4. After the last agent of the bottom level acts, the joint action ``x_k`` is complete: costs,
       rewards ``−f_i(x_k)`` and feedback at ``x_k`` are computed for everyone at once (feedback that
       depends on the whole joint action, such as a gradient, cannot exist earlier).

Observation of agent ``i`` at level ``l`` (``F_i`` is its simultaneous-play observation, see
:class:`~stackenv.envs.StackelbergParallelEnv`; ``x_above`` the coordinates of levels ``0..l−1``, committed
this round — before the first action of a round, the previous round's values):
    - level 0: ``F_i`` unchanged;
    - ``gradient`` / ``hierarchical`` / ``reward``: ``concat(F_i, x_above)`` — a flat float32 ``Box``
      (``observation_layout(agent)`` gives the two slices);
    - ``second_order``: the dict ``F_i`` plus key ``"above"`` = ``x_above``.

Rewards arrive when the round completes (zero for the intermediate steps of a round); episodes end
(all agents at once) on truncation at ``max_steps`` rounds or on divergence, as in the parallel env.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv
from pettingzoo.utils import AgentSelector

from stackenv.envs.common import F32, EpisodeEnv
from stackenv.games.base import Game


class StackelbergAECEnv(EpisodeEnv, AECEnv):
    """Any :class:`~stackenv.games.base.Game` as a PettingZoo AEC env with leader-first play.

    Arguments are those of :class:`~stackenv.envs.StackelbergParallelEnv`; ``max_steps`` counts rounds.
    """

    metadata = {**EpisodeEnv.metadata, "name": "stackelberg_aec_v0"}

    def __init__(
        self,
        game: Game,
        feedback: str = "gradient",
        noise_std: Any = 0.0,
        noise: str = "gaussian",
        df: float = 3.0,
        max_steps: int | None = None,
        render_mode: str | None = None,
    ):
        super().__init__(game, feedback, noise_std, noise, df, max_steps, render_mode)
        self._index = {a: i for i, a in enumerate(self.possible_agents)}
        # coordinates above agent i: everything before the first coordinate of its level
        self._above = [
            int(game.level_coords[game.level_of[i]].min()) if game.level_of[i] > 0 else 0 for i in range(game.n)
        ]
        self._fb_spaces = self._obs_spaces
        self._obs_spaces = {a: self._make_space(i) for i, a in enumerate(self.possible_agents)}
        self._pending = np.zeros(game.d)
        self._fb: dict[str, Any] = {}

    def _make_space(self, i: int) -> spaces.Space:
        fb, m = self._ep.obs_spaces[i], self._above[i]
        if m == 0:
            return fb
        g = self.game
        above = spaces.Box(g.low[:m].astype(F32), g.high[:m].astype(F32), shape=(m,), dtype=F32)
        if isinstance(fb, spaces.Dict):
            return spaces.Dict({**fb.spaces, "above": above})
        return spaces.Box(np.concatenate([fb.low, above.low]), np.concatenate([fb.high, above.high]), dtype=F32)

    # ------------------------------------------------------------------ spaces and state
    def observation_layout(self, agent: str) -> dict[str, slice]:
        """For flat observations: slices of the feedback part and of the ``above`` part."""
        i = self._index[agent]
        k = int(self._fb_spaces[agent].shape[0]) if isinstance(self._fb_spaces[agent], spaces.Box) else 0
        return {"feedback": slice(0, k), "above": slice(k, k + self._above[i])}

    @property
    def x_committed(self) -> np.ndarray:
        """This round's joint action so far ``(d,)``: the actions committed this round, the previous
        round's values for agents yet to act."""
        return self._pending.copy()

    def feedback_obs(self, agent: str) -> Any:
        """The agent's simultaneous-play observation from the last completed round (no ``above`` part)."""
        return self._fb[agent]

    # ------------------------------------------------------------------ API
    def reset(self, seed: int | None = None, options: Mapping[str, Any] | None = None):
        self._fb, infos = self._ep.reset(seed, options)
        self.agents = self.possible_agents[:]
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self.infos = infos
        self._pending = self._ep.x()
        self._oobs = [False] * len(self.agents)
        self._selector = AgentSelector(self.agents)
        self.agent_selection = self._selector.reset()

    def observe(self, agent: str):
        fb = self._fb[agent]
        m = self._above[self._index[agent]]
        if m == 0:
            return fb
        above = self._pending[:m].astype(F32)
        if isinstance(fb, dict):
            return {**fb, "above": above}
        return np.concatenate([fb, above])

    def step(self, action):
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        i = self._index[agent]
        vals, oob = self._ep.checker.check(i, action)
        self._pending[self.game.slices[i]] = vals
        self._oobs[i] = oob
        self._cumulative_rewards[agent] = 0.0
        if self._selector.is_last():
            self._finish_round()
        else:
            self._clear_rewards()
        self.agent_selection = self._selector.next()
        self._accumulate_rewards()

    def _finish_round(self) -> None:
        obs, rew, term, trunc, infos = self._ep.joint_step(self._pending.tolist(), self._oobs)
        self._fb = obs
        self.rewards = rew
        self.terminations = term
        self.truncations = trunc
        self.infos = infos
        self._pending = self._ep.x()
        self._oobs = [False] * len(self.possible_agents)
