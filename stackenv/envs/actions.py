"""Action spaces and the one action check every env uses.

Rules (DESIGN.md conventions):
    - An action is real numbers of shape ``(d_i,)`` per copy (a scalar per copy is also accepted when
      ``d_i == 1``); any integer or float dtype is converted to float64. Anything else (wrong shape, bool,
      complex, strings, objects) raises ``ValueError`` naming the agent.
    - Non-finite entries raise ``ValueError`` naming the agent.
    - Entries outside the game's domain are clipped into ``[low, high]`` (box coordinates) or wrapped
      into ``[low, high)`` (periodic coordinates). An action counts as *out of bounds* (flagged in
      ``infos[agent]["out_of_bounds"]``) when it lies outside the agent's float32 action ``Box``; values in
      the rounding sliver between the float32 box and the float64 domain are projected silently.

:func:`check_action` applies them to one agent's actions of any number of copies: batch shape ``()`` for a
single copy (the PettingZoo envs), ``(B,)`` for a batched env.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from gymnasium import spaces

from stackenv.games.base import Game, Player


def action_spaces(game: Game, rescale: bool = False) -> list[spaces.Box]:
    """A float32 ``Box`` per player with the game's bounds (``rescale``: ``[−1, 1]`` instead); players with the
    same dimension and bounds share one ``Box`` object (N followers must not cost N boxes)."""
    made: dict[tuple, spaces.Box] = {}
    out = []
    for p in game.players:
        key = (p.dim,) if rescale else (p.dim, p.low.tobytes(), p.high.tobytes())
        box = made.get(key)
        if box is None:
            low, high = (-1.0, 1.0) if rescale else (p.low.astype(np.float32), p.high.astype(np.float32))
            box = made[key] = spaces.Box(low, high, shape=(p.dim,), dtype=np.float32)
        out.append(box)
    return out


def check_action(
    player: Player,
    box: spaces.Box,
    a: Any,
    batch: tuple[int, ...],
    active: np.ndarray | None = None,
    rescale: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """One agent's actions of ``batch`` copies, validated and projected into its domain.

    Args:
        player: the agent's :class:`~stackenv.games.base.Player` (name, dimension, domain).
        box: its float32 action ``Box`` (out-of-bounds flags are taken against it).
        a: real numbers of shape ``(*batch, d_i)`` (or ``batch`` when ``d_i == 1``).
        batch: ``()`` for one copy, ``(B,)`` for B copies.
        active: ``(B,)`` copies whose actions count (others may be anything finite or not; frozen copies).
        rescale: ``a`` is in ``[−1, 1]``, mapped linearly onto the domain, ``low + (a + 1)(high − low)/2``,
            before the rules apply (``box`` stays the domain's).

    Returns:
        ``(x_i, oob)``: ``(*batch, d_i)`` float64 inside the domain and ``batch``-shaped out-of-bounds flags.
    """
    name, di = player.name, player.dim
    shape = (*batch, di)
    try:
        arr = np.asarray(a)
    except Exception as exc:  # ragged sequences, exotic objects
        raise ValueError(f"action of agent {name!r} must be real numbers of shape {shape}, got {a!r}") from exc
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"action of agent {name!r} must be real numbers, got dtype {arr.dtype}: {a!r}")
    if arr.shape != shape:
        if di == 1 and arr.shape == batch:
            arr = arr[..., None]
        else:
            raise ValueError(f"action of agent {name!r} must have shape {shape}, got shape {arr.shape}")
    x = arr.astype(float)
    if rescale:
        x = player.low + (x + 1.0) * ((player.high - player.low) / 2)
    inside = (x >= player.low) & (x <= player.high)
    if inside.all():
        return x, np.zeros(batch, bool)
    finite = np.isfinite(x).all(axis=-1)
    live = finite if active is None else finite | ~active
    if not live.all():
        if batch:
            bad = np.flatnonzero(~live)
            first = x[bad[0]].tolist()
            raise ValueError(f"action of agent {name!r} is not finite in copies {bad.tolist()[:10]}: {first}")
        raise ValueError(f"action of agent {name!r} is not finite: {x.tolist()}")
    x = np.where(finite[..., None], x, player.low)  # ignored (inactive) copies
    oob = ((x < box.low.astype(float)) | (x > box.high.astype(float))).any(axis=-1)
    if player.periodic:
        proj = player.low + np.mod(x - player.low, player.high - player.low)
    else:
        proj = np.clip(x, player.low, player.high)
    return np.where(inside, x, proj), oob


def check_keys(actions: Any, agents: list[str], what: str = "{agent: action}") -> None:
    """``actions`` must be a dict naming every agent exactly once (``ValueError`` naming the culprits)."""
    if not isinstance(actions, Mapping):
        raise ValueError(f"actions must be a dict {what}, got {type(actions).__name__}")
    if len(actions) != len(agents) or any(a not in actions for a in agents):
        missing = [a for a in agents if a not in actions]
        known = set(agents)
        unknown = [a for a in actions if a not in known]
        raise ValueError(
            f"actions must name every agent exactly once; missing {missing}, unknown {unknown}; agents are {agents}"
        )


def joint_action(
    game: Game,
    boxes: list[spaces.Box],
    actions: Any,
    B: int,
    active: np.ndarray | None,
    rescale: bool = False,
) -> tuple[np.ndarray, dict[str, np.ndarray] | None]:
    """The validated, projected joint action ``(B, d)`` of a batched step and per-agent out-of-bounds flags
    (``None``: none out of bounds).

    ``actions``: ``{agent: (B, d_i)}`` or the joint action ``(B, d)`` (agents' blocks at ``game.slices``);
    ``active``: ``(B,)`` copies whose actions count (``None``: all). A float joint action inside the domain is
    taken as it is (one comparison per bound, against ``game.domain.common_box``); everything else goes through
    :func:`check_action`.
    """
    if isinstance(actions, np.ndarray):
        if active is None and not rescale and actions.dtype.kind == "f":
            x = actions.astype(float)  # a copy: the env owns its state
            low, high = game.domain.common_box
            # inside the box common to every coordinate, or exactly inside:
            if (x.min() >= low and x.max() <= high) or ((x >= game.low) & (x <= game.high)).all():
                return x, None
        actions = {a: actions[:, sl] for a, sl in zip(game.agents, game.slices)}
    x = np.empty((B, game.d))
    oob = {}
    for i, (p, box) in enumerate(zip(game.players, boxes)):
        x[:, game.slices[i]], flags = check_action(p, box, actions[p.name], (B,), active, rescale)
        oob[p.name] = flags if active is None else flags & active
    return x, (oob if any(f.any() for f in oob.values()) else None)


__all__ = ["action_spaces", "check_action", "check_keys", "joint_action"]
