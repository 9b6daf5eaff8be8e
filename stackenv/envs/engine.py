"""The math every env shares: feedback layouts, kernels that evaluate them, noise, divergence checks.

Nothing here knows PettingZoo. An :class:`Engine` turns joint actions ``x`` of shape ``(B, d)`` into
costs and one flat *feedback row* per copy, laid out agent by agent (see :class:`FeedbackLayout`);
the PettingZoo envs (``B = 1``) and the batched env cut observations out of that row. Because all
of them call the same engine, the PettingZoo env reproduces copy ``b`` of a batched env bit for bit.

Feedback rows (``K_i`` values for agent ``i``, concatenated in agent order):
    ``gradient``      ``∇_i f_i(x)`` — agent i's block of ``ω(x)`` (``K_i = d_i``).
    ``hierarchical``  agent i's block of ``ω_S(x)``: total derivative ``Df_i`` through the responses of
                      every level below it (eq. 1; App. C); the bottom level's own gradient (``K_i = d_i``).
    ``second_order``  ``∇_x f_i`` over all ``d`` coordinates, then, for agents with levels below them,
                      ``H22`` (``m × m``) and agent i's columns of ``H21`` (``m × d_i``) from
                      ``game.response_blocks(x, level)``, flattened row-major. For games with
                      ``d ≤ GAME_BLOCKS_MAX_D`` every agent then also gets the blocks that the
                      full-information rules of ``agents/`` (SOS, SGA, consensus, CGD, look-ahead) need:
                      ``grads`` (``n × d``, row j = ``∇_x f_j``, every player's gradient) and ``J``
                      (``d × d``, the game Jacobian ``Dω``, row block i = ``∇_x ∇_i f_i``). They cost
                      ``O(n d²)`` per copy, hence the size limit.
    ``reward``        ``−f_i(x)`` (``K_i = 1``); noise is added to the reward, the observation is ``x``.

Kernels: :class:`GenericKernel` calls the game's methods. For a game that declares itself quadratic
and is small (``d ≤ 8``), :class:`AffineKernel` compiles the exact affine/quadratic expansion around
the domain centre into straight-line Python that runs on floats (the PettingZoo hot path) and on
numpy columns (the batched env) with the same operation order, hence identical rounding. It is
checked against the generic kernel at build time and dropped if they disagree.

Divergence: a copy *diverges* when any cost or (noisy) feedback value is non-finite or larger in
magnitude than ``F32_MAX`` (the largest float32, so every observation fits the float32 spaces), or
when the game cannot evaluate the feedback there (e.g. a singular ``H22``). The envs terminate it
with the reason in ``infos``; the values returned for it are made finite (NaN → 0, clipped to ±F32_MAX).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from stackenv.envs.noise import NoiseStream, check_noise_kind, parse_noise_std
from stackenv.games.base import Game

Feedback = Literal["reward", "gradient", "hierarchical", "second_order"]
FEEDBACK_MODES: tuple[str, ...] = ("reward", "gradient", "hierarchical", "second_order")

#: Largest float32; values beyond it (or non-finite) count as divergence.
F32_MAX = float(np.finfo(np.float32).max)
#: Size limits under which a quadratic game gets the compiled affine kernel.
AFFINE_MAX_D = 8
AFFINE_MAX_K = 512
#: Largest game (coordinates d) whose ``second_order`` feedback carries the dense ``grads``/``J`` blocks.
GAME_BLOCKS_MAX_D = 16
#: Tries at drawing an initial joint action where the feedback is defined.
X0_TRIES = 100

_EVAL_ERRORS = (ValueError, np.linalg.LinAlgError, ZeroDivisionError, FloatingPointError)


def check_game(game: object) -> Game:
    """Accept any :class:`stackenv.games.base.Game` (built-in or user-defined)."""
    if not isinstance(game, Game):
        raise TypeError(f"game must be a stackenv.games.base.Game instance, got {type(game).__name__}: {game!r}")
    return game


def check_feedback(feedback: str) -> str:
    if feedback not in FEEDBACK_MODES:
        raise ValueError(f"unknown feedback {feedback!r}; valid: {', '.join(FEEDBACK_MODES)}")
    return feedback


def check_max_steps(max_steps: int | None) -> int | None:
    if max_steps is None:
        return None
    if isinstance(max_steps, (bool, np.bool_)) or not isinstance(max_steps, (int, np.integer)) or max_steps < 1:
        raise ValueError(f"max_steps must be a positive integer or None, got {max_steps!r}")
    return int(max_steps)


@dataclass(frozen=True)
class Block:
    """One named piece of an agent's feedback row: ``row[start:stop].reshape(shape)``."""

    key: str
    start: int
    stop: int
    shape: tuple[int, ...]


class FeedbackLayout:
    """Where each agent's feedback lives in the flat per-copy row.

    Attributes:
        sizes: ``K_i`` per agent; ``offsets``: prefix sums; ``K``: total.
        blocks: per agent, the :class:`Block` s of its observation (absolute positions in the row).
        h_level: per agent, the level whose ``response_blocks`` it observes (``second_order``), else None.
        h_cols: per agent, the positions of its coordinates among its level's coordinates.
    """

    def __init__(self, game: Game, feedback: str):
        self.feedback = feedback
        n, d, L = game.n, game.d, len(game.levels)
        self.h_level: list[int | None] = [None] * n
        self.h_cols: list[np.ndarray | None] = [None] * n
        per_agent: list[list[tuple[str, tuple[int, ...]]]] = []
        for i in range(n):
            di = game.dims[i]
            if feedback == "reward":
                per_agent.append([("reward", ())])
            elif feedback in ("gradient", "hierarchical"):
                per_agent.append([("grad", (di,))])
            else:
                k = game.level_of[i]
                parts = [("grad", (d,))]
                if k < L - 1:
                    m = int(game.below_coords[k].size)
                    level = game.level_coords[k].tolist()
                    own = list(range(game.slices[i].start, game.slices[i].stop))
                    self.h_level[i] = k
                    self.h_cols[i] = np.array([level.index(c) for c in own])
                    parts += [("H22", (m, m)), ("H21", (m, di))]
                if d <= GAME_BLOCKS_MAX_D:
                    parts += [("grads", (n, d)), ("J", (d, d))]
                per_agent.append(parts)
        self.blocks: list[list[Block]] = []
        pos = 0
        for parts in per_agent:
            blocks = []
            for key, shape in parts:
                size = int(np.prod(shape)) if shape else 1
                blocks.append(Block(key, pos, pos + size, shape))
                pos += size
            self.blocks.append(blocks)
        self.sizes = [b[-1].stop - b[0].start for b in self.blocks]
        self.offsets = [b[0].start for b in self.blocks] + [pos]
        self.K = pos


class GenericKernel:
    """Evaluates costs and feedback rows with the game's own (batched) methods."""

    def __init__(self, game: Game, layout: FeedbackLayout):
        self.game, self.layout = game, layout

    def _rows(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        game, lay = self.game, self.layout
        costs = np.asarray(game.costs(x), dtype=float)
        fb = lay.feedback
        if fb == "reward":
            return costs, -costs
        if fb == "gradient":
            return costs, np.asarray(game.omega(x), dtype=float)
        if fb == "hierarchical":
            return costs, np.asarray(game.omega_S(x), dtype=float)
        B = x.shape[0]
        blocks = {k: game.response_blocks(x, k) for k in sorted({k for k in lay.h_level if k is not None})}
        full = game.d <= GAME_BLOCKS_MAX_D
        if full:  # the dense blocks every agent gets (module doc): all gradients and the game Jacobian
            grads = np.concatenate([np.asarray(game.grad(j, x), dtype=float).reshape(B, -1) for j in range(game.n)], 1)
            J = np.asarray(game.jacobian(x), dtype=float).reshape(B, -1)
        parts = []
        for i in range(game.n):
            parts.append(np.asarray(game.grad(i, x), dtype=float).reshape(B, -1))
            k = lay.h_level[i]
            if k is not None:
                H22, H21 = blocks[k]
                parts.append(np.asarray(H22, dtype=float).reshape(B, -1))
                parts.append(np.asarray(H21, dtype=float)[..., lay.h_cols[i]].reshape(B, -1))
            if full:
                parts += [grads, J]
        return costs, np.concatenate(parts, axis=1)

    def evaluate(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str | None] | None]:
        """Costs ``(B, n)``, noiseless feedback rows ``(B, K)`` and, where the game cannot evaluate a
        copy, a reason per copy (``None`` when every copy is fine). Undefined copies get NaN rows."""
        with np.errstate(all="ignore"):
            try:
                costs, rows = self._rows(x)
                return costs, rows, None
            except _EVAL_ERRORS:
                pass
            B = x.shape[0]
            costs = np.full((B, self.game.n), np.nan)
            rows = np.full((B, self.layout.K), np.nan)
            reasons: list[str | None] = [None] * B
            for b in range(B):
                try:
                    c, r = self._rows(x[b : b + 1])
                    costs[b], rows[b] = c[0], r[0]
                except _EVAL_ERRORS as exc:
                    reasons[b] = f"feedback {self.layout.feedback!r} undefined at x={x[b].tolist()}: {exc}"
            return costs, rows, reasons


def _num(v: float) -> str:
    return f"({float(v)!r})"


#: A constant as :func:`_num` writes it (the float's repr in parentheses).
_NUMBER = re.compile(r"\((-?(?:\d[\d.]*(?:e[+-]?\d+)?|inf|nan))\)")


def _linear_terms(const: float, coef: np.ndarray) -> list[str]:
    """Source of the terms of ``const + Σ_k coef[k] u_k`` in a fixed order, skipping exact zeros."""
    terms = [_num(const)]
    for k, c in enumerate(coef):
        if c != 0.0:
            terms.append(f"u{k}" if c == 1.0 else f"{_num(c)}*u{k}")
    return terms


class AffineKernel:
    """Exact expansion of a quadratic game's costs and (affine) feedback around the domain centre.

    ``f_i(x) = f_i(c) + ∇f_i(c)·u + ½ uᵀ ∇²f_i u`` and ``row(x) = row(c) + D row · u`` with ``u = x − c``
    (exact for quadratic games; only rounding differs from the game's own formulas). The generated
    function takes ``x`` as a sequence of ``d`` floats or of ``d`` numpy columns and returns
    ``(costs, rows)`` as tuples; the same source serves both, so both round identically.
    """

    def __init__(self, game: Game, layout: FeedbackLayout, generic: GenericKernel):
        self.game, self.layout = game, layout
        d, n = game.d, game.n
        c = (game.low + game.high) / 2
        c = np.where(np.abs(c) < 1e-300, 0.0, c)
        cb = c[None]
        f0 = generic.evaluate(cb)
        if f0[2] is not None:
            raise ValueError(f0[2][0])
        costs_c, row_c = f0[0][0], f0[1][0]
        G = np.stack([np.asarray(game.grad(i, cb), float)[0] for i in range(n)])
        H = np.stack([np.asarray(game.hessian(i, cb), float)[0] for i in range(n)])
        Jrow = self._row_jacobian(game, layout, cb, H)
        lines = ["def _affine(x):"]
        lines += [f"    u{k} = x[{k}]" + (f" - {_num(c[k])}" if c[k] != 0.0 else "") for k in range(d)]
        cost_terms = []
        for i in range(n):
            terms = _linear_terms(costs_c[i], G[i])
            for j in range(d):
                for k in range(j, d):
                    q = H[i, j, j] / 2 if j == k else H[i, j, k]
                    if q != 0.0:
                        terms.append(f"{_num(q)}*u{j}*u{k}" if q != 1.0 else f"u{j}*u{k}")
            cost_terms.append(terms)
        row_terms = [] if layout.feedback == "reward" else [_linear_terms(row_c[r], Jrow[r]) for r in range(layout.K)]
        cost_exprs = [" + ".join(t) for t in cost_terms]
        row_exprs = [" + ".join(t) for t in row_terms]
        lines.append(f"    return ({', '.join(cost_exprs)},), ({''.join(e + ', ' for e in row_exprs)})")
        self.source = "\n".join(lines)
        namespace: dict = {}
        exec(compile(self.source, f"<affine kernel for {game.name}>", "exec"), namespace)  # noqa: S102
        self.fn = namespace["_affine"]
        # The column version: the same sums, term by term in the same order (so the same IEEE operations),
        # accumulated in place into the output rows; constants are 0-d float64 arrays (numpy multiplies an
        # array by one ~30% faster than by a Python float, which it must convert first).
        out = ["def _affine_columns(x, costs, rows):"]
        out += lines[1 : 1 + d]
        for name, exprs in (("costs", cost_terms), ("rows", row_terms)):
            for r, terms in enumerate(exprs):
                out.append(f"    o = {name}[{r}]")
                if len(terms) == 1:
                    out.append(f"    o[...] = {terms[0]}")
                    continue
                out.append(f"    np.add({terms[0]}, {terms[1]}, out=o)")
                out += [f"    o += {t}" for t in terms[2:]]
        consts: dict[str, np.ndarray] = {}

        def const(m: re.Match) -> str:
            name = f"_k{len(consts)}"
            consts[name] = np.array(float(m.group(1)))
            return name

        self.columns_source = _NUMBER.sub(const, "\n".join(out))
        namespace = {"np": np, **consts}
        exec(compile(self.columns_source, f"<affine column kernel for {game.name}>", "exec"), namespace)  # noqa: S102
        self.columns_fn = namespace["_affine_columns"]
        self._verify(generic)
        # |cost| over the whole (bounded) domain, from the expansion; below F32_MAX costs never diverge
        r = (game.high - game.low) / 2
        quad = np.einsum("ijk,j,k->i", np.abs(H), r, r) / 2
        bound = np.abs(costs_c) + np.abs(G) @ r + quad
        self.costs_in_range = bool(np.all(np.isfinite(bound)) and np.max(bound, initial=0.0) < F32_MAX / 4)

    @staticmethod
    def _row_jacobian(game: Game, layout: FeedbackLayout, cb: np.ndarray, H: np.ndarray) -> np.ndarray:
        d = game.d
        if layout.feedback == "reward":
            return np.zeros((0, d))
        if layout.feedback == "gradient":
            return np.asarray(game.jacobian(cb), float)[0]
        if layout.feedback == "hierarchical":
            return np.asarray(game.jacobian_S(cb), float)[0]
        J = np.zeros((layout.K, d))  # second order: gradient rows vary, Hessian blocks are constant
        for i, blocks in enumerate(layout.blocks):
            for b in blocks:
                if b.key == "grad":
                    J[b.start : b.stop] = H[i]
                elif b.key == "grads":
                    J[b.start : b.stop] = H.reshape(-1, d)
        return J

    def _verify(self, generic: GenericKernel, tol: float = 1e-9) -> None:
        game = self.game
        rng = np.random.default_rng(20240531)
        X = game.low + (game.high - game.low) * rng.random((8, game.d))
        X = np.vstack([X, game.low, game.high])
        costs_g, rows_g, reasons = generic.evaluate(X)
        if reasons is not None:
            raise ValueError("generic kernel undefined at a probe point")
        costs_a, rows_a = self.batch(X)
        for a, g in ((costs_a, costs_g), (rows_a, rows_g)):
            scale = max(1.0, float(np.max(np.abs(g), initial=0.0)))
            if not np.all(np.abs(a - g) <= tol * scale):
                raise ValueError(f"affine expansion of {game.name} disagrees with the game's own derivatives")

    def batch(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Costs ``(B, n)`` and rows ``(B, K)`` for ``x`` of shape ``(B, d)`` (column-major: each cost and
        feedback value is one contiguous column, as the kernel computes them)."""
        B = x.shape[0]
        costs = np.empty((self.game.n, B))
        rows = None if self.layout.feedback == "reward" else np.empty((self.layout.K, B))
        self.columns_fn(x.T, costs, rows)
        if rows is None:
            return costs.T, -costs.T
        return costs.T, rows.T

    def evaluate(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, None]:
        with np.errstate(all="ignore"):
            costs, rows = self.batch(x)
        return costs, rows, None


@dataclass
class Outcome:
    """Result of one joint step for ``B`` copies (all finite).

    Attributes:
        costs: ``(B, n)`` costs (sanitised).
        rows: ``(B, K)`` noisy feedback rows (sanitised); ``None`` in ``reward`` mode.
        rewards: ``(B, n)`` rewards ``−f_i`` (plus noise in ``reward`` mode).
        bad: ``(B,)`` diverged / undefined copies.
        reasons: per copy, why it is bad (``None`` where fine); ``None`` when no copy is bad.
    """

    costs: np.ndarray
    rows: np.ndarray | None
    rewards: np.ndarray
    bad: np.ndarray
    reasons: list[str | None] | None


def sanitize(v: np.ndarray) -> np.ndarray:
    """NaN → 0, ±inf and huge values → ±F32_MAX (in place on a float array; returns it)."""
    np.nan_to_num(v, copy=False, nan=0.0, posinf=F32_MAX, neginf=-F32_MAX)
    np.clip(v, -F32_MAX, F32_MAX, out=v)
    return v


def _all_in_range(v: np.ndarray) -> bool:
    """Whether every value is finite and within ±F32_MAX (NaN fails both comparisons)."""
    return v.size == 0 or bool(v.min() >= -F32_MAX and v.max() <= F32_MAX)


def _in_range(v: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (np.abs(v) <= F32_MAX).all(axis=1)


class Engine:
    """Validated configuration and shared math of one env (any number of copies).

    Args:
        game: any :class:`~stackenv.games.base.Game`.
        feedback: one of :data:`FEEDBACK_MODES`.
        noise_std: noise standard deviation — scalar, per-agent sequence or ``{agent: std}``.
        noise: ``"gaussian"`` or ``"student_t"`` (scaled to standard deviation ``noise_std``).
        df: Student-t degrees of freedom (> 2).

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
    ):
        self.game = check_game(game)
        self.feedback = check_feedback(feedback)
        self.agents: list[str] = list(game.agents)
        self.std = parse_noise_std(noise_std, self.agents)
        self.noise, self.df = check_noise_kind(noise, df)
        self.layout = FeedbackLayout(game, self.feedback)
        self.generic = GenericKernel(game, self.layout)
        self._check_defined()
        self.affine: AffineKernel | None = None
        if getattr(game, "quadratic", False) and game.d <= AFFINE_MAX_D and self.layout.K <= AFFINE_MAX_K:
            try:
                self.affine = AffineKernel(game, self.layout, self.generic)
            except (*_EVAL_ERRORS, NotImplementedError):
                self.affine = None
        self.kernel = self.affine if self.affine is not None else self.generic
        self.noisy = bool(np.any(self.std > 0))

    # ------------------------------------------------------------------ construction-time checks
    def probe_points(self, count: int = 8) -> np.ndarray:
        """Deterministic points in the domain: the centre and ``count − 1`` uniform draws."""
        g = self.game
        rng = np.random.default_rng(7)
        pts = g.low + (g.high - g.low) * rng.random((count - 1, g.d))
        return np.vstack([(g.low + g.high) / 2, pts])

    def _check_defined(self) -> None:
        name = getattr(self.game, "name", type(self.game).__name__)
        if self.feedback == "reward":
            return
        reasons = []
        for p in self.probe_points():
            try:
                with np.errstate(all="ignore"):
                    self.generic._rows(p[None])
                return
            except NotImplementedError as exc:
                raise ValueError(
                    f"feedback {self.feedback!r} is not defined for game {name!r}: it does not provide the "
                    f"derivatives this mode needs ({exc})"
                ) from exc
            except _EVAL_ERRORS as exc:
                reasons.append(str(exc))
        why = (
            "the followers' response Jacobian (H22) is singular everywhere, so the implicit response "
            "and the leaders' total derivatives do not exist"
            if self.feedback == "hierarchical"
            else "the game cannot evaluate it"
        )
        raise ValueError(
            f"feedback {self.feedback!r} is undefined for game {name!r}: {why} "
            f"(failed at all {len(reasons)} probe points; first error: {reasons[0]})"
        )

    # ------------------------------------------------------------------ episode pieces
    def noise_stream(self, seeds: Sequence[int]) -> NoiseStream | None:
        """The per-(copy, agent) noise for copies seeded ``seeds`` (``None`` if every std is 0)."""
        if not self.noisy:
            return None
        agent_major = isinstance(self.kernel, AffineKernel)  # matches the affine kernel's column-major rows
        return NoiseStream(seeds, self.layout.sizes, self.std, self.noise, self.df, agent_major=agent_major)

    def initial_x_from_rngs(self, rngs: Sequence[np.random.Generator], x0: object | None) -> np.ndarray:
        """Initial joint actions ``(B, d)``, one per copy generator (see :func:`~stackenv.envs.noise.init_rng`).

        ``x0`` (``(B, d)`` or ``(d,)``) is validated and used if given; otherwise each copy draws uniformly
        from the domain with its own generator, redrawing (up to ``X0_TRIES`` times) where the feedback
        is undefined. Raises ``ValueError`` if the feedback is undefined at a given ``x0``.
        """
        g = self.game
        B = len(rngs)
        if x0 is not None:
            x = self.check_x0(x0, B)
            _, _, reasons = self.kernel.evaluate(x)
            if reasons is not None:
                bad = [f"copy {b}: {r}" for b, r in enumerate(reasons) if r]
                raise ValueError(f"x0 is not a valid initial joint action: {bad[0]}")
            return x
        x = g.low + (g.high - g.low) * np.array([r.random(g.d) for r in rngs]).reshape(B, g.d)
        for _ in range(X0_TRIES):
            _, _, reasons = self.kernel.evaluate(x)
            if reasons is None:
                return x
            for b, r in enumerate(reasons):
                if r is not None:
                    x[b] = g.low + (g.high - g.low) * rngs[b].random(g.d)
        raise ValueError(f"could not draw an initial joint action where the feedback is defined: {reasons}")

    def check_x0(self, x0: object, B: int) -> np.ndarray:
        """``x0`` as ``(B, d)`` float64: finite, inside the box, periodic coordinates wrapped."""
        g = self.game
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
        box = ~g.periodic
        outside = box & ((x < g.low) | (x > g.high))
        if np.any(outside):
            b, k = np.argwhere(outside)[0]
            raise ValueError(
                f"x0[{b}, {k}] = {x[b, k]!r} lies outside the domain [{g.low[k]!r}, {g.high[k]!r}] of coordinate {k}"
            )
        inside = (x >= g.low) & (x <= g.high)
        return np.where(inside, x, g.low + np.mod(x - g.low, g.high - g.low))

    def outcome(self, x: np.ndarray, noise: np.ndarray | None) -> Outcome:
        """Costs, noisy feedback and rewards at joint actions ``x`` ``(B, d)``; flags divergence."""
        with np.errstate(all="ignore"):
            kernel = self.kernel
            costs_ok = False
            if isinstance(kernel, AffineKernel):  # never undefined; skips its own errstate
                costs, rows = kernel.batch(x)
                reasons = None
                costs_ok = kernel.costs_in_range
            else:
                costs, rows, reasons = kernel.evaluate(x)
            if self.feedback == "reward":
                rewards = rows if noise is None else rows + noise
                rows = None
                fb = rewards
            else:
                rewards = -costs
                if noise is not None:
                    rows = rows + noise
                fb = rows
            if reasons is None and _all_in_range(fb) and (costs_ok or _all_in_range(costs)):  # the usual case
                return Outcome(costs, rows, rewards, np.zeros(x.shape[0], bool), None)
            ok = _in_range(fb) & _in_range(costs)
        bad = ~ok
        if bad.any():
            reasons = list(reasons) if reasons is not None else [None] * x.shape[0]
            for b in np.flatnonzero(bad):
                if reasons[b] is None:
                    reasons[b] = (
                        f"diverged: a cost or feedback value is non-finite or exceeds {F32_MAX:.3g} "
                        f"in magnitude at x={x[b].tolist()}"
                    )
            for arr in (costs, rewards, rows):
                if arr is not None:
                    sanitize(arr)
        else:
            reasons = None
        return Outcome(costs, rows, rewards, bad, reasons)


def in_f32_range(values: Sequence[float]) -> bool:
    """Python-float version of the divergence check (true when every value is fine)."""
    for v in values:
        if not -F32_MAX <= v <= F32_MAX:
            return False
    return True


__all__ = [
    "AffineKernel",
    "Block",
    "Engine",
    "F32_MAX",
    "FEEDBACK_MODES",
    "FeedbackLayout",
    "GenericKernel",
    "Outcome",
    "check_feedback",
    "check_game",
    "check_max_steps",
    "in_f32_range",
]
