"""Action spaces and action validation shared by every env.

Rules (DESIGN.md conventions):
    - An action is real numbers of shape ``(d_i,)`` (a scalar is also accepted when ``d_i == 1``);
      any integer or float dtype is converted to float64. Anything else (wrong shape, bool, complex,
      strings, objects) raises ``ValueError`` naming the agent.
    - Non-finite entries raise ``ValueError`` naming the agent.
    - Entries outside the game's domain are clipped into ``[low, high]`` (box coordinates) or wrapped
      into ``[low, high)`` (periodic coordinates). An action counts as *out of bounds* (flagged in
      ``infos[agent]["out_of_bounds"]``) when it lies outside the agent's float32 action ``Box``; values in
      the rounding sliver between the float32 box and the float64 domain are projected silently.

:class:`ActionChecker` is the single-copy version (pure Python floats for small actions: the hot path of
the PettingZoo env); :func:`check_batch_action` the batched one. Both round identically.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from stackenv.games.base import Game

_FAST_CHARS = "fd"  # float32 / float64 arrays take the fast path


def action_spaces(game: Game) -> list[spaces.Box]:
    """One float32 ``Box`` per player with the game's bounds (built once per env)."""
    return [
        spaces.Box(p.low.astype(np.float32), p.high.astype(np.float32), shape=(p.dim,), dtype=np.float32)
        for p in game.players
    ]


class ActionChecker:
    """Validates and projects one agent's action at a time (single copy)."""

    def __init__(self, game: Game, boxes: list[spaces.Box]):
        self.names = list(game.agents)
        self.dims = list(game.dims)
        self.shapes = [(d,) for d in self.dims]
        self.lo = [p.low.tolist() for p in game.players]
        self.hi = [p.high.tolist() for p in game.players]
        self.blo = [b.low.astype(float).tolist() for b in boxes]
        self.bhi = [b.high.astype(float).tolist() for b in boxes]
        self.periodic = [p.periodic for p in game.players]
        self.width = [(p.high - p.low).tolist() for p in game.players]

    def coerce(self, i: int, a: object) -> list[float]:
        """Any accepted action → list of ``d_i`` floats (not yet checked for finiteness or bounds)."""
        name, di = self.names[i], self.dims[i]
        try:
            arr = np.asarray(a)
        except Exception as exc:  # ragged sequences, exotic objects
            raise ValueError(f"action of agent {name!r} must be real numbers of shape ({di},), got {a!r}") from exc
        if arr.dtype.kind not in "iuf":
            raise ValueError(f"action of agent {name!r} must be real numbers, got dtype {arr.dtype}: {a!r}")
        if arr.shape != (di,) and not (di == 1 and arr.shape == ()):
            raise ValueError(f"action of agent {name!r} must have shape ({di},), got shape {arr.shape}")
        return arr.astype(float).reshape(di).tolist()

    def check(self, i: int, a: object) -> tuple[list[float], bool]:
        """Agent ``i``'s action as ``d_i`` floats inside the domain, and whether it was out of bounds."""
        if type(a) is np.ndarray and a.dtype.char in _FAST_CHARS and a.shape == self.shapes[i]:
            vals = a.tolist()
        else:
            vals = self.coerce(i, a)
        lo, hi = self.lo[i], self.hi[i]
        if len(vals) == 1:
            if lo[0] <= vals[0] <= hi[0]:
                return vals, False
            return self._project(i, vals)
        for k, v in enumerate(vals):
            if not lo[k] <= v <= hi[k]:
                return self._project(i, vals)
        return vals, False

    def _project(self, i: int, vals: list[float]) -> tuple[list[float], bool]:
        for v in vals:
            if v != v or v in (float("inf"), float("-inf")):
                raise ValueError(f"action of agent {self.names[i]!r} is not finite: {vals}")
        lo, hi, blo, bhi, w = self.lo[i], self.hi[i], self.blo[i], self.bhi[i], self.width[i]
        out, oob = [], False
        for k, v in enumerate(vals):
            if v < blo[k] or v > bhi[k]:
                oob = True
            if lo[k] <= v <= hi[k]:
                out.append(v)
            elif self.periodic[i]:
                out.append(lo[k] + (v - lo[k]) % w[k])
            else:
                out.append(min(max(v, lo[k]), hi[k]))
        return out, oob


def check_batch_action(game: Game, boxes: list[spaces.Box], i: int, a: object, B: int, active: np.ndarray):
    """Batched version of :meth:`ActionChecker.check`.

    Args:
        a: ``(B, d_i)`` (or ``(B,)`` when ``d_i == 1``) real numbers.
        active: ``(B,)`` copies whose actions count; others are ignored (frozen copies).

    Returns:
        ``(x_i, oob)``: ``(B, d_i)`` float64 inside the domain and ``(B,)`` out-of-bounds flags.
    """
    p = game.players[i]
    name, di = p.name, p.dim
    try:
        arr = np.asarray(a)
    except Exception as exc:
        raise ValueError(f"action of agent {name!r} must be real numbers of shape ({B}, {di})") from exc
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"action of agent {name!r} must be real numbers, got dtype {arr.dtype}")
    if arr.shape != (B, di):
        if di == 1 and arr.shape == (B,):
            arr = arr[:, None]
        else:
            raise ValueError(f"action of agent {name!r} must have shape ({B}, {di}), got shape {arr.shape}")
    x = arr.astype(float)
    inside = (x >= p.low) & (x <= p.high)
    if inside.all():
        return x, np.zeros(B, bool)
    finite = np.isfinite(x).all(axis=1)
    if not finite[active].all():
        bad = np.flatnonzero(active & ~finite)
        raise ValueError(f"action of agent {name!r} is not finite in copies {bad.tolist()[:10]}: {x[bad[0]].tolist()}")
    x = np.where(finite[:, None], x, p.low)  # ignored (inactive) copies
    box = boxes[i]
    oob = ((x < box.low.astype(float)) | (x > box.high.astype(float))).any(axis=1)
    if p.periodic:
        proj = p.low + np.mod(x - p.low, p.high - p.low)
    else:
        proj = np.clip(x, p.low, p.high)
    return np.where(inside, x, proj), oob
