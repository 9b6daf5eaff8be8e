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
    - ``gradient`` / ``hierarchical`` / ``reward`` (and ``second_order`` with ``flatten=True``):
      ``concat(F_i, x_above)`` — a flat float32 ``Box`` (``observation_layout(agent)`` gives the two slices);
    - ``second_order``: the dict ``F_i`` plus key ``"above"`` = ``x_above``.

So agents' observation spaces differ. ``pad_observations=True`` gives every agent one flat space, the union
of their boxes: each observation zero-padded at the end to the longest (``observation_layout`` still gives
each agent's slices) — what vectorising clients (Tianshou, SuperSuit's ``agent_indicator_v0``) need.

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

from stackenv.envs.batched import check_agent
from stackenv.envs.common import EpisodeEnv
from stackenv.envs.layout import F32


class StackelbergAECEnv(EpisodeEnv, AECEnv):
    """Any :class:`~stackenv.games.base.Game` as a PettingZoo AEC env with leader-first play.

    Arguments are those of :class:`~stackenv.envs.StackelbergParallelEnv` (``max_steps`` counts rounds);
    ``pad_observations`` matters most here, where agents below the top observe the actions above them.
    """

    metadata = {**EpisodeEnv.metadata, "name": "stackelberg_aec_v0"}

    _fb: dict[str, Any] = {}  # the last completed round's feedback observations (none before reset)

    def _observation_spaces(self) -> dict[str, spaces.Space]:
        """Feedback spaces plus the ``above`` part; agents with one feedback space and level share one space."""
        game = self.game
        self._above = [int(game.level_coords[game.level_of[i]].min()) for i in range(game.n)]
        self._index = {a: i for i, a in enumerate(game.agents)}
        self._pending = np.zeros(game.d)
        made: dict[tuple[int, int], spaces.Space] = {}
        out = {}
        for i, a in enumerate(self.possible_agents):
            key = (id(self._fb_spaces[a]), self._above[i])
            if key not in made:
                made[key] = self._make_space(i)
            out[a] = made[key]
        return out

    def _make_space(self, i: int) -> spaces.Space:
        fb, m = self._fb_spaces[self.possible_agents[i]], self._above[i]
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
        space = check_agent(self._fb_spaces, agent)
        k = int(space.shape[0]) if isinstance(space, spaces.Box) else 0
        return {"feedback": slice(0, k), "above": slice(k, k + self._above[self._index[agent]])}

    @property
    def x_committed(self) -> np.ndarray:
        """This round's joint action so far ``(d,)``: the actions committed this round, the previous
        round's values for agents yet to act."""
        return self._pending.copy()

    def feedback_obs(self, agent: str) -> Any:
        """The agent's simultaneous-play observation from the last completed round (no ``above`` part)."""
        if not self._fb:
            raise RuntimeError("feedback_obs() called before reset()")
        check_agent(self._index, agent)
        return self._fb[agent]

    # ------------------------------------------------------------------ API
    def reset(self, seed: int | None = None, options: Mapping[str, Any] | None = None):
        self._fb, infos = self._reset(seed, options)
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self.infos = infos
        self._pending = self.x
        self._oobs = [False] * len(self.agents)
        self._selector = AgentSelector(self.agents)
        self.agent_selection = self._selector.reset()

    def observe(self, agent: str):
        if not self._fb:
            raise RuntimeError("observe() called before reset()")
        i = check_agent(self._index, agent)
        fb, m = self._fb[agent], self._above[i]
        obs = fb
        if m:
            above = self._pending[:m].astype(F32)
            obs = {**fb, "above": above} if isinstance(fb, dict) else np.concatenate([fb, above])
        return self._padded(obs)

    def step(self, action):
        if not self.agents:
            raise RuntimeError("step() called outside an episode: call reset() first (the last one may have ended)")
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        i = self._index[agent]
        self._pending[self.game.slices[i]], self._oobs[i] = self._check(i, action)
        self._cumulative_rewards[agent] = 0.0
        if self._selector.is_last():
            self._fb, self.rewards, self.terminations, self.truncations, self.infos = self._joint_step(
                self._pending.copy(), self._oobs
            )
            self._pending = self.x
            self._oobs = [False] * len(self.possible_agents)
        else:
            self._clear_rewards()
        self.agent_selection = self._selector.next()
        self._accumulate_rewards()
