"""Pieces every single-agent view shares: the opponents (policies or learners; :class:`Opponents` acts, resets and
updates them), their actions and updates, and
the ``[−1, 1]`` action rescaling. :class:`~stackenv.wrappers.SingleAgentEnv` calls them with batches of one,
:class:`~stackenv.wrappers.VectorSingleAgentEnv` with the ``B`` copies of a batched env.

An opponent is either

- a *policy*: any callable ``policy(observation) -> action`` (the opponent's own observation; batched in
  the vector views: ``(B, ...)`` in, ``(B, d_i)`` out);
- a *learner* (duck-typed on ``act`` and ``update``; the :class:`agents.base.Learner` interface), bound to
  the game if unbound (``bind(game, agent, feedback)``), asked ``act(x_partial)`` with the ``(B, d)`` joint
  action so far and updated with ``update(obs, reward, k)`` — or ``update(obs, k)`` if its ``update`` takes
  two arguments.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from gymnasium import spaces


def is_learner(opp: object) -> bool:
    """Whether ``opp`` is a learner (has callable ``act`` and ``update``) rather than a policy."""
    return callable(getattr(opp, "act", None)) and callable(getattr(opp, "update", None))


def check_opponents(
    possible_agents: Sequence[str],
    agent: str,
    opponents: Mapping[str, Callable[[Any], Any] | Any],
    game: Any,
    feedback: Any,
) -> dict[str, bool]:
    """Validate ``opponents`` for the exposed ``agent`` and bind unbound learners to ``game``.

    Returns:
        ``{name: two_arg_update}`` for every learner opponent (policies are not listed).

    Raises:
        ValueError: unknown agent, missing or unknown opponents, a learner without a game to bind it to, or an
            opponent that is neither callable nor a learner.
    """
    if agent not in possible_agents:
        raise ValueError(f"unknown agent {agent!r}; agents are {list(possible_agents)}")
    if not isinstance(opponents, Mapping):
        raise ValueError(f"opponents must be a dict {{agent_id: policy_or_learner}}, got {opponents!r}")
    others = [a for a in possible_agents if a != agent]
    missing = [a for a in others if a not in opponents]
    unknown = [a for a in opponents if a not in others]
    if missing or unknown:
        raise ValueError(
            f"opponents must cover every other agent exactly: missing {missing}, unknown {unknown} "
            f"(exposed agent {agent!r}; agents {list(possible_agents)})"
        )
    two_arg: dict[str, bool] = {}
    for name, opp in opponents.items():
        if is_learner(opp):
            if game is None:
                raise ValueError(f"opponent {name!r} is a learner but env has no .game to bind it to")
            if getattr(opp, "game", None) is None and callable(getattr(opp, "bind", None)):
                opp.bind(game, name, feedback)
            try:
                two_arg[name] = len(inspect.signature(opp.update).parameters) == 2
            except (TypeError, ValueError):
                two_arg[name] = False
        elif not callable(opp):
            raise ValueError(
                f"opponent {name!r} must be a callable policy(observation) -> action or a learner with "
                f"act()/update(), got {type(opp).__name__}"
            )
    return two_arg


def checked_action(kind: str, name: str, action: Any, shape: tuple[int, ...]) -> np.ndarray:
    """``action`` (what the ``kind`` — "policy" or "learner" — of opponent ``name`` returned) as a float array
    of ``shape``; ``ValueError`` naming the opponent if it is not numeric or has the wrong size."""
    try:
        arr = np.asarray(action, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{kind} for {name!r} returned {action!r}, not a numeric action") from None
    if arr.size != int(np.prod(shape)):
        raise ValueError(f"{kind} for {name!r} returned an action of shape {arr.shape}, expected {shape}")
    return arr.reshape(shape)


def update_learner(opp: Any, two_arg: bool, obs: Any, reward: np.ndarray, k: int) -> None:
    """One learner step from its batched observation and ``(B,)`` rewards (``update(obs, k)`` if two-argument)."""
    if two_arg:
        opp.update(obs, k)
    else:
        opp.update(obs, reward, k)


def rescale_action(action: Any, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Map ``action`` in ``[−1, 1]`` linearly onto ``[low, high]`` (float64; ``low``/``high`` broadcast)."""
    a = np.asarray(action, dtype=np.float64)
    return low + (a + 1.0) * (high - low) / 2.0


class Opponents:
    """The opponents of one exposed agent, validated and bound (:func:`check_opponents`), acting and learning on a
    batch: the ``B`` copies of a batched env, or a batch of one under :class:`~stackenv.wrappers.SingleAgentEnv`.

    Attributes:
        all: ``{agent_id: policy_or_learner}`` for every other agent.
        learners: the learner opponents among them (in the same order).
    """

    def __init__(
        self,
        possible_agents: Sequence[str],
        agent: str,
        opponents: Mapping[str, Callable[[Any], Any] | Any],
        game: Any,
        feedback: Any,
    ):
        self._two_arg = check_opponents(possible_agents, agent, opponents, game, feedback)
        self.all = dict(opponents)
        self.learners = {name: self.all[name] for name in self._two_arg}
        self._game, self._agents = game, list(possible_agents)

    def act(self, name: str, obs: Any, x_partial: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        """Opponent ``name``'s action checked to ``shape`` (:func:`checked_action`): a learner's
        ``act(x_partial)`` on the batched joint action so far, a policy's ``policy(obs)``."""
        if name in self.learners:
            return checked_action("learner", name, self.learners[name].act(x_partial), shape)
        return checked_action("policy", name, self.all[name](obs), shape)

    def reset(self, x0: np.ndarray, rng: np.random.Generator, feedback: Callable[[str], Any]) -> None:
        """Reset every learner that has ``reset``: ``reset(x0_i, generator, feedback(name))``, ``x0`` the batched
        initial joint action; each learner's generator is seeded by one draw from ``rng``, in order."""
        for name, opp in self.learners.items():
            if callable(getattr(opp, "reset", None)):
                sl = self._game.slices[self._agents.index(name)]
                opp.reset(x0[:, sl], np.random.default_rng(int(rng.integers(2**63))), feedback(name))

    def update(self, feedback: Callable[[str], Any], rewards: Callable[[str], np.ndarray], k: int) -> None:
        """One step of every learner from its batched ``feedback(name)`` and ``(B,)`` ``rewards(name)``."""
        for name, opp in self.learners.items():
            update_learner(opp, self._two_arg[name], feedback(name), rewards(name), k)


def exposed_action_space(box: spaces.Box, rescale_actions: bool) -> spaces.Box:
    """The action space a single-agent view exposes: ``Box(−1, 1)`` of ``box``'s shape when rescaling, else ``box``."""
    return spaces.Box(-1.0, 1.0, shape=box.shape, dtype=np.float32) if rescale_actions else box
