"""The math every env shares: feedback from the game's own methods, noise, divergence, initial actions.

Nothing here knows PettingZoo. An :class:`Engine` turns joint actions ``x`` of shape ``(B, d)`` into costs
and one flat feedback row per copy (:class:`~stackenv.envs.layout.FeedbackLayout`) by calling the game's
batched methods — ``costs``, ``omega`` (``gradient``), ``omega_S`` (``hierarchical``), ``grad`` and
``response_blocks`` (``second_order``) — the same code a reader finds in the game's file.

Divergence (the one check every env uses): a copy *diverges* when any cost or (noisy) feedback value is
non-finite or larger in magnitude than ``limit`` — ``F32_MAX``, the largest float32, so every observation
fits the float32 spaces, or the largest value of a narrower observation dtype — or when the game cannot
evaluate the feedback there (e.g. a singular ``H22``). The envs terminate it with the reason in ``infos``;
the values returned for it are made finite (NaN → 0, clipped to ±limit).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from stackenv.checks import all_within
from stackenv.envs.layout import GAME_BLOCKS_MAX_D, FeedbackLayout
from stackenv.envs.modes import check_feedback, check_noise_kind
from stackenv.envs.noise import NoiseStream, parse_noise_std
from stackenv.games.base import Game

#: Largest float32; values beyond it (or non-finite) count as divergence.
F32_MAX = float(np.finfo(np.float32).max)
#: Tries at drawing an initial joint action where the feedback is defined.
X0_TRIES = 100

_EVAL_ERRORS = (ValueError, np.linalg.LinAlgError, ZeroDivisionError, FloatingPointError, OverflowError)


def check_game(game: object) -> Game:
    """Accept any :class:`stackenv.games.base.Game` (built-in or user-defined) whose domain fits float32."""
    if not isinstance(game, Game):
        raise TypeError(f"game must be a stackenv.games.base.Game instance, got {type(game).__name__}: {game!r}")
    if max(float(np.max(np.abs(game.low))), float(np.max(np.abs(game.high)))) > F32_MAX:
        raise ValueError(
            f"game {game.name!r}: its domain exceeds the float32 range (±{F32_MAX:.3g}) of the env's action and "
            "observation spaces; rescale the game's units"
        )
    return game


@dataclass
class Outcome:
    """Result of one joint step for ``B`` copies (all finite).

    Attributes:
        costs: ``(B, n)`` costs. rows: ``(B, K)`` noisy feedback rows (``None`` in ``reward`` mode).
        rewards: ``(B, n)`` rewards ``−f_i`` (plus noise in ``reward`` mode).
        bad: ``(B,)`` diverged / undefined copies.
        reasons: per copy, why it is bad (``None`` where fine); ``None`` when no copy is bad.
    """

    costs: np.ndarray
    rows: np.ndarray | None
    rewards: np.ndarray
    bad: np.ndarray
    reasons: list[str | None] | None


class Engine:
    """Validated configuration and shared math of one env (any number of copies).

    Args:
        game: any :class:`~stackenv.games.base.Game`.
        feedback: one of :data:`~stackenv.envs.modes.FEEDBACK_MODES`.
        noise_std: noise standard deviation — scalar, per-agent sequence or ``{agent: std}``.
        noise: ``"gaussian"`` or ``"student_t"`` (scaled to standard deviation ``noise_std``).
        df: Student-t degrees of freedom (> 2).
        limit: divergence threshold (default ``F32_MAX``).
        flatten: flat ``second_order`` observations (:class:`~stackenv.envs.layout.FeedbackLayout`).

    Raises:
        ValueError: for an invalid option, or a feedback mode that is undefined for the game (e.g.
            ``hierarchical`` when the followers' response Jacobian is singular wherever it is probed,
            or ``second_order`` when the game provides no Hessians).
    """

    def __init__(
        self,
        game: Game,
        feedback: str = "gradient",
        noise_std: float | Sequence[float] | Mapping[str, float] = 0.0,
        noise: str = "gaussian",
        df: float = 3.0,
        limit: float = F32_MAX,
        flatten: bool = False,
    ):
        self.game = check_game(game)
        self.feedback = check_feedback(feedback)
        self.agents: list[str] = list(game.agents)
        self.std = parse_noise_std(noise_std, self.agents)
        self.noise, self.df = check_noise_kind(noise, df)
        self.layout = FeedbackLayout(game, self.feedback, flatten)
        self.limit = float(limit)
        self.noisy = bool(np.any(self.std > 0))
        check_defined(self)

    # ------------------------------------------------------------------ feedback from the game's methods
    def feedback_rows(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Costs ``(B, n)`` and noiseless feedback rows ``(B, K)`` (``None`` in ``reward`` mode) at ``x``."""
        game, lay = self.game, self.layout
        costs = np.asarray(game.costs(x), dtype=float)
        if lay.feedback == "reward":
            return costs, None
        if lay.feedback == "gradient":
            return costs, np.asarray(game.omega(x), dtype=float)
        if lay.feedback == "hierarchical":
            return costs, np.asarray(game.omega_S(x), dtype=float)
        B = x.shape[0]
        blocks = {k: game.response_blocks(x, k) for k in sorted({k for k in lay.h_level if k is not None})}
        grads = [np.asarray(game.grad(i, x), dtype=float).reshape(B, -1) for i in range(game.n)]
        dense = []  # every agent's grads and J blocks (games with d <= GAME_BLOCKS_MAX_D)
        if game.d <= GAME_BLOCKS_MAX_D:
            dense = [np.concatenate(grads, axis=1), np.asarray(game.jacobian(x), dtype=float).reshape(B, -1)]
        parts = []
        for i in range(game.n):
            parts.append(grads[i])
            k = lay.h_level[i]
            if k is not None:
                H22, H21 = blocks[k]
                parts.append(np.asarray(H22, dtype=float).reshape(B, -1))
                parts.append(np.asarray(H21, dtype=float)[..., lay.h_cols[i]].reshape(B, -1))
            parts += dense
        return costs, np.concatenate(parts, axis=1)

    def evaluate(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, list[str | None] | None]:
        """:meth:`feedback_rows`, and where the game cannot evaluate a copy, a reason per copy (``None`` when
        every copy is fine; undefined copies get NaN rows). Floating-point warnings are the caller's
        (:meth:`outcome` silences them: divergence is flagged instead)."""
        try:
            return (*self.feedback_rows(x), None)
        except _EVAL_ERRORS:
            pass
        B = x.shape[0]
        costs = np.full((B, self.game.n), np.nan)
        rows = None if self.feedback == "reward" else np.full((B, self.layout.K), np.nan)
        reasons: list[str | None] = [None] * B
        for b in range(B):  # find the copies at fault, one by one
            try:
                c, r = self.feedback_rows(x[b : b + 1])
                costs[b] = c[0]
                if rows is not None:
                    rows[b] = r[0]
            except _EVAL_ERRORS as exc:
                reasons[b] = f"feedback {self.feedback!r} undefined at x={x[b].tolist()}: {exc}"
        return costs, rows, reasons

    def outcome(self, x: np.ndarray, noise: np.ndarray | None) -> Outcome:
        """Costs, noisy feedback and rewards at joint actions ``x`` ``(B, d)``; flags divergence."""
        if x.shape[0] == 0:  # every copy frozen: nothing to evaluate
            empty = np.zeros((0, self.game.n))
            rows = None if self.feedback == "reward" else np.zeros((0, self.layout.K))
            return Outcome(empty, rows, empty, np.zeros(0, bool), None)
        with np.errstate(all="ignore"):
            costs, rows, reasons = self.evaluate(x)
            if rows is None:  # reward mode: the noise perturbs the reward
                rewards = -costs if noise is None else noise - costs
                checked = (costs, rewards)
            else:
                rewards = -costs
                if noise is not None:
                    rows = rows + noise
                checked = (costs, rows)
            lim = self.limit
            if reasons is None and all_within(checked[0], lim) and all_within(checked[1], lim):
                return Outcome(costs, rows, rewards, np.zeros(x.shape[0], bool), None)  # the usual case
            bad = ~np.logical_and.reduce([(np.abs(v) <= lim).all(axis=1) for v in checked])
        reasons = list(reasons) if reasons is not None else [None] * x.shape[0]
        for b in np.flatnonzero(bad):
            if reasons[b] is None:
                reasons[b] = (
                    f"diverged: a cost or feedback value is non-finite or exceeds {lim:.3g} in magnitude "
                    f"at x={x[b].tolist()}"
                )
        for arr in (costs, rewards, rows):
            if arr is not None:
                np.nan_to_num(arr, copy=False, nan=0.0, posinf=lim, neginf=-lim)
                np.clip(arr, -lim, lim, out=arr)
        return Outcome(costs, rows, rewards, bad, reasons)

    # ------------------------------------------------------------------ episode pieces
    def noise_stream(self, seeds: Sequence[int]) -> NoiseStream | None:
        """The per-(copy, agent) noise for copies seeded ``seeds`` (``None`` if every std is 0)."""
        if not self.noisy:
            return None
        sizes = [1] * self.game.n if self.feedback == "reward" else self.layout.sizes
        return NoiseStream(seeds, sizes, self.std, self.noise, self.df)


def check_defined(engine: Engine) -> None:
    """``ValueError`` unless the game can evaluate the feedback mode at one of a few probe points."""
    if engine.feedback == "reward":
        return
    g = engine.game
    rng = np.random.default_rng(7)  # deterministic probes: the centre and 7 uniform points
    probes = np.vstack([(g.low + g.high) / 2, g.low + (g.high - g.low) * rng.random((7, g.d))])
    errors = []
    for p in probes:
        try:
            with np.errstate(all="ignore"):
                engine.feedback_rows(p[None])
            return
        except NotImplementedError as exc:
            raise ValueError(
                f"feedback {engine.feedback!r} is not defined for game {g.name!r}: it does not provide the "
                f"derivatives this mode needs ({exc})"
            ) from exc
        except _EVAL_ERRORS as exc:
            errors.append(str(exc))
    why = (
        "the followers' response Jacobian (H22) is singular everywhere, so the implicit response "
        "and the leaders' total derivatives do not exist"
        if engine.feedback == "hierarchical"
        else "the game cannot evaluate it"
    )
    raise ValueError(
        f"feedback {engine.feedback!r} is undefined for game {g.name!r}: {why} "
        f"(failed at all {len(errors)} probe points; first error: {errors[0]})"
    )


def initial_x(engine: Engine, rngs: Sequence[np.random.Generator], x0: object | None) -> np.ndarray:
    """Initial joint actions ``(B, d)`` of an env with ``engine``, one per copy generator.

    ``x0`` (``(B, d)`` or ``(d,)``) is validated and used if given; otherwise each copy draws uniformly
    from the domain with its own generator, redrawing (up to ``X0_TRIES`` times) where the feedback is
    undefined or out of range. Raises ``ValueError`` if it is so at a given ``x0``.
    """
    g = engine.game
    B = len(rngs)
    if x0 is not None:
        x = check_x0(g, x0, B)
        reasons = engine.outcome(x, None).reasons  # undefined or out of range
        if reasons is not None:
            bad = [f"copy {b}: {r}" for b, r in enumerate(reasons) if r]
            raise ValueError(f"x0 is not a valid initial joint action: {bad[0]}")
        return x
    x = g.low + (g.high - g.low) * np.array([r.random(g.d) for r in rngs]).reshape(B, g.d)
    for _ in range(X0_TRIES):
        reasons = engine.outcome(x, None).reasons  # undefined or out of range
        if reasons is None:
            return x
        for b, r in enumerate(reasons):
            if r is not None:
                x[b] = g.low + (g.high - g.low) * rngs[b].random(g.d)
    raise ValueError(f"could not draw an initial joint action where the feedback is defined: {reasons}")


def check_x0(game: Game, x0: object, B: int) -> np.ndarray:
    """``x0`` as ``(B, d)`` float64: finite, inside the box, periodic coordinates wrapped."""
    g = game
    try:
        x = np.array(x0, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"x0 must be numeric with shape ({B}, {g.d}) or ({g.d},), got {x0!r}") from exc
    if x.shape == (g.d,):
        x = np.broadcast_to(x, (B, g.d)).copy()
    if x.shape != (B, g.d):
        raise ValueError(f"x0 must have shape ({B}, {g.d}) or ({g.d},), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"x0 must be finite, got {x.tolist()}")
    outside = ~g.periodic & ((x < g.low) | (x > g.high))
    if np.any(outside):
        b, k = np.argwhere(outside)[0]
        raise ValueError(
            f"x0[{b}, {k}] = {x[b, k]!r} lies outside the domain [{g.low[k]!r}, {g.high[k]!r}] of coordinate {k}"
        )
    inside = (x >= g.low) & (x <= g.high)
    return np.where(inside, x, g.low + np.mod(x - g.low, g.high - g.low))


__all__ = ["F32_MAX", "GAME_BLOCKS_MAX_D", "Engine", "Outcome", "check_defined", "check_game", "check_x0", "initial_x"]
