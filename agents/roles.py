"""The vocabulary of seats: roles, what each feedback mode provides, and players by name or index.

The feedback modes themselves and their check belong to the envs (:mod:`stackenv.envs.modes`, re-exported
here); the learners, the registry and ``agents.play`` import the seat vocabulary from this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from stackenv.envs.modes import FEEDBACK_MODES as FEEDBACK_MODES  # re-exported: the seat vocabulary
from stackenv.envs.modes import check_feedback
from stackenv.games.base import Game

Feedback = Literal["gradient", "hierarchical", "second_order", "reward"]
Role = Literal["leader", "follower"]
Need = Literal["gradient", "total_derivative", "second_order", "jacobian", "reward", "action"]

# FEEDBACK_MODES (from stackenv.envs.modes) lists the modes in the order agents.play.choose_feedback prefers them.
ROLES: tuple[str, ...] = ("leader", "follower")
NEEDS: tuple[str, ...] = ("gradient", "total_derivative", "second_order", "jacobian", "reward", "action")


def provided_needs(feedback: str, has_below: bool) -> frozenset[str]:
    """What feedback mode ``feedback`` gives a player (with or without levels below it).

    - ``gradient``: own partial gradient ``∇_i f_i`` (for a bottom player that *is* its total derivative).
    - ``hierarchical``: own total derivative ``Df_i`` (for a bottom player that is ``∇_i f_i``).
    - ``second_order``: ``∇_x f_i`` and, for players with levels below, the blocks ``H22``, ``H21`` —
      enough to compute both ``∇_i f_i`` and ``Df_i``; and for every player (games with ``d ≤ 16``) the
      ``jacobian`` blocks: every player's gradient ``grads`` and the game Jacobian ``J``.
    - ``reward``: only the (noisy) reward and the public joint action.
    Every mode also gives the reward and lets a learner act on the joint action (``reward``, ``action``).
    """
    check_feedback(feedback)
    base = {"reward", "action"}
    if feedback == "gradient":
        extra = {"gradient"} | (set() if has_below else {"total_derivative"})
    elif feedback == "hierarchical":
        extra = {"total_derivative"} | (set() if has_below else {"gradient"})
    elif feedback == "second_order":
        extra = {"gradient", "total_derivative", "jacobian"} | ({"second_order"} if has_below else set())
    else:
        extra = set()
    return frozenset(base | extra)


def player_index(game: Game, agent: str | int) -> int:
    """Index of ``agent`` (a player name or index) in ``game.players``; ``ValueError`` otherwise."""
    if isinstance(agent, int | np.integer) and not isinstance(agent, bool):
        if not 0 <= int(agent) < game.n:
            raise ValueError(f"agent index {agent} out of range for {game.name} with {game.n} players")
        return int(agent)
    if agent not in game.agents:
        raise ValueError(f"unknown agent {agent!r} for game {game.name}; agents: {game.agents}")
    return game.agents.index(agent)


def player_roles(game: Game, i: int) -> frozenset[str]:
    """Roles of player i: ``leader`` if some level lies below it, ``follower`` if some level lies above."""
    level = game.level_of[i]
    roles = set()
    if game.below_coords[level].size > 0:
        roles.add("leader")
    if level > 0:
        roles.add("follower")
    return frozenset(roles)


def agent_indices(game: Game, agents: str | int | Sequence[str | int]) -> list[int]:
    """Player indices of one agent or of a sequence of agents (names or indices), validated."""
    if isinstance(agents, str | int | np.integer):
        return [player_index(game, agents)]
    names = {a: i for i, a in enumerate(game.agents)}  # one O(n) map, not one O(n) search per agent
    out = []
    for a in agents:
        if isinstance(a, str) and a in names:
            out.append(names[a])
        else:
            out.append(player_index(game, a))
    if not out:
        raise ValueError(f"{game.name}: a block of agents must name at least one agent")
    return out


def check_seat(learner: Any, game: Game, agent: str | int | Sequence[str | int], feedback: str | None) -> list[int]:
    """The player indices ``learner`` (an ``agents.base.Learner``) would hold as ``agent`` — one player, or a block
    of one level on adjacent coordinates for rules with ``block = True`` — after checking the role it can play and
    that ``feedback`` (``None``: unchecked) gives it what it needs; ``ValueError`` naming the problem otherwise."""
    if not isinstance(game, Game):
        raise ValueError(f"{learner.name}: expected a stackenv Game, got {type(game).__name__}")
    idx = agent_indices(game, agent)
    i = idx[0]
    if len(idx) > 1:
        if not learner.block:
            raise ValueError(f"learner {learner.name!r} plays one agent at a time, got a block of {len(idx)} agents")
        levels = {game.level_of[j] for j in idx}
        adjacent = all(game.slices[a].stop == game.slices[b].start for a, b in zip(idx, idx[1:]))
        periodic = {bool(game.players[j].periodic) for j in idx}
        if len(levels) != 1 or not adjacent or len(periodic) != 1:
            raise ValueError(
                f"{learner.name}: a block must be agents of one level on adjacent coordinates, in agent order, with "
                f"one kind of domain (got levels {sorted(levels)}, adjacent={adjacent})"
            )
    have = player_roles(game, i)
    name = game.players[i].name
    label = name if len(idx) == 1 else f"{name}…{game.players[idx[-1]].name}"
    if not learner.roles & have:
        raise ValueError(
            f"learner {learner.name!r} can play {sorted(learner.roles)} but agent {label!r} of {game.name} is "
            f"{' and '.join(sorted(have)) or 'neither leader nor follower'}"
        )
    if feedback is not None:
        check_feedback(feedback)
        ok = learner.feedback_modes("leader" in have)
        if feedback not in ok:
            raise ValueError(
                f"learner {learner.name!r} on agent {label!r} needs {learner.needs!r} feedback, which env feedback "
                f"mode {feedback!r} does not provide; usable modes: {', '.join(ok) or 'none'}"
            )
    return idx
