"""The learner interface: one small ABC over batches of independent runs.

A learner plays one agent — or one *block* of agents of a level (below) — of a ``stackenv.games.Game`` in B
independent runs at once. Its iterate is an array ``x`` of shape ``(B, d_i)``: the action it plays next.
The loop in ``agents.play`` drives it::

    learner.bind(game, agent, feedback)      # validates role, feedback mode and dimensions
    learner.reset(x0, rng, obs)              # x0: (B, d_i) initial action, rng: its own random stream
    for k in 1, 2, ...:
        a = learner.act(x_partial)           # (B, d_i): the action played at step k
        obs, reward = env.step(...)          # what the env's feedback mode gives this agent
        learner.update(obs, reward, k)       # x_{k+1} = project(_step(obs, reward, k))

After ``bind``/``reset`` a learner has: game, agents (names held), agent (the name, or a label for a block), i
(first player index), level, dim (``Σ d_i``), slice (into the joint action), low, high (``(dim,)`` bounds),
periodic, x (``(B, dim)`` current iterate), active (``(B,)`` runs still going), stop_reason (per run, ``None``
while active) and diagnostics (a dict of counters).

The rule itself is one method, :meth:`Learner._step`: the next iterate as a function of the current iterate
``self.x``, the feedback ``obs`` (and ``reward``), the step index ``k`` and whatever state the rule keeps
(e.g. the previous gradient). Rules that randomise or respond also override ``_reset`` / ``act``. The base
class does the rest, once for every rule: projection onto the agent's domain (``game.wrap`` on periodic
coordinates, clipping on boxes), shape checks, and stopping runs whose iterates turn non-finite, with the
reason recorded (never a silent NaN). Shared mathematics (an adjoint solve, a block average, a Krylov
solver) are functions a rule calls (``agents.hierarchical``, ``stackenv.linalg``), not base classes.

Blocks. A rule with ``block = True`` (its update acts coordinate by coordinate on array feedback, e.g.
gradient play) may be bound to several agents of one level on adjacent coordinates, ``bind(game,
["follower_0", ..., "follower_9"])``: it then holds their stacked iterate ``(B, Σ d_i)``, observes their
stacked feedback and is stepped once per step. ``agents.play`` binds a learner object that appears for
several agents of ``learners`` this way — the documented N-follower path (``n_follower_learners``), O(N)
with one Python call per level. Block learners receive ``reward=None`` (no block rule uses rewards).

Roles. A player of a game is a *leader* if some level lies below it and a *follower* if some level lies
above it (a middle level of a chain is both). A learner declares the roles it can play; binding it to a
player none of whose roles it has raises ``ValueError`` (e.g. a leader-only rule on the bottom follower).

Feedback. Every learner declares what it ``needs``; :func:`provided_needs` says what each of the
environments' feedback modes (``reward``, ``gradient``, ``hierarchical``, ``second_order``; see
docs/architecture.md §3) gives a player with or without levels below it. Rewards (``−cost``, noisy
only in ``reward`` mode) come with every mode.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from agents.roles import (  # noqa: F401  (the vocabulary, re-exported where learners have always found it)
    FEEDBACK_MODES,
    NEEDS,
    ROLES,
    Feedback,
    Need,
    Role,
    agent_indices,
    check_feedback,
    check_seat,
    player_index,
    player_roles,
    provided_needs,
)
from stackenv.checks import all_finite
from stackenv.games.base import Game


class Learner(ABC):
    """A learning rule for one agent (or a block of agents of one level), batched over B independent runs.

    Class attributes (declared once per rule):
        name: registry name.
        roles: roles the rule can play (subset of ``{"leader", "follower"}``).
        needs: the feedback quantity the rule consumes (see :data:`NEEDS` and :func:`provided_needs`).
        responds: if true, ``act`` needs this step's actions of the levels above (a best response).
        block: if true, the rule can hold several agents of one level at once (module docstring).

    Instance attributes: see the module docstring.
    """

    name: ClassVar[str] = "learner"
    roles: ClassVar[frozenset[str]] = frozenset(ROLES)
    needs: ClassVar[str] = "gradient"
    responds: ClassVar[bool] = False
    block: ClassVar[bool] = False

    def __init__(self) -> None:
        self.game: Game | None = None
        self.agent, self.agents, self.feedback = None, (), None
        self.i = self.level = -1
        self.dim, self.slice = 0, slice(0, 0)
        self.x, self.active = np.zeros((0, 0)), np.zeros(0, bool)
        self.stop_reason: list[str | None] = []
        self.diagnostics: dict[str, Any] = {}
        self._warned: set[str] = set()

    def __repr__(self) -> str:
        where = f" bound to {self.agent!r} of {self.game.name}" if self.game is not None else ""
        return f"<{type(self).__name__} {self.name!r}{where}>"

    # ------------------------------------------------------------------ feedback and roles
    def feedback_modes(self, has_below: bool) -> tuple[str, ...]:
        """Feedback modes that give this learner what it ``needs``, for a player with/without levels below."""
        return tuple(m for m in FEEDBACK_MODES if self.needs in provided_needs(m, has_below))

    @classmethod
    def fits(cls, game: Game, agent: str | int) -> bool:
        """Whether the rule can play ``agent`` in ``game`` (role check only)."""
        return bool(cls.roles & player_roles(game, player_index(game, agent)))

    def bind(self, game: Game, agent: str | int | Sequence[str | int], feedback: str | None = None) -> Learner:
        """Attach the learner to ``agent`` (name or index; a sequence of agents of one level for a block rule) of
        ``game`` under env feedback mode ``feedback`` (``None``: unchecked). ``ValueError`` as
        :func:`~agents.roles.check_seat` says: a role the rule cannot play, feedback it cannot use, a bad block."""
        idx = check_seat(self, game, agent, feedback)
        i = idx[0]
        label = game.players[i].name if len(idx) == 1 else f"{game.players[i].name}…{game.players[idx[-1]].name}"
        self.game, self.agent, self.i = game, label, i
        self.agents = tuple(game.players[j].name for j in idx)
        self.level = game.level_of[i]
        self.slice = slice(game.slices[i].start, game.slices[idx[-1]].stop)
        self.dim = self.slice.stop - self.slice.start
        self.low, self.high = np.asarray(game.low[self.slice], float), np.asarray(game.high[self.slice], float)
        self.periodic = bool(game.players[i].periodic)
        self.feedback = feedback
        self._bind()
        return self

    def _bind(self) -> None:  # noqa: B027  (optional hook)
        """Hook for subclasses (e.g. per-level defaults). Called at the end of :meth:`bind`."""

    def _require_bound(self) -> Game:
        if self.game is None:
            raise ValueError(f"learner {self.name!r} is not bound to a game; call bind(game, agent) first")
        return self.game

    # ------------------------------------------------------------------ domain
    def project(self, x: np.ndarray) -> np.ndarray:
        """Wrap onto a periodic domain (``[low, high)``) or clip into the box bounds."""
        if self.periodic:
            return self.low + np.mod(x - self.low, self.high - self.low)
        return np.asarray(x).clip(self.low, self.high)

    # ------------------------------------------------------------------ the loop's interface
    def reset(self, x0: Any, rng: np.random.Generator | None = None, obs: Any = None) -> None:
        """Start B runs from ``x0`` ``(B, d_i)`` (``(d_i,)``: B = 1; wrapped/clipped into the domain), with the
        learner's own random stream ``rng`` and the env's observation ``obs`` at ``x0`` (for rules that use it)."""
        self._require_bound()
        x0 = check_x0(self, x0)
        self.x = self.project(x0)
        B = x0.shape[0]
        self.active = np.ones(B, bool)
        self.stop_reason = [None] * B
        self.rng = rng if rng is not None else np.random.default_rng()
        self.last_obs = obs
        self.diagnostics = {}
        self._reset()

    def _reset(self) -> None:  # noqa: B027  (optional hook)
        """Hook for subclasses: initialise extra per-run state (``self.x`` is set)."""

    @property
    def num_runs(self) -> int:
        """B, the number of runs (0 before :meth:`reset`)."""
        return self.x.shape[0]

    def act(self, x: np.ndarray | None = None) -> np.ndarray:
        """The action ``(B, d_i)`` to play at this step; ``x``: the joint action ``(B, d)`` with this step's actions
        of the levels above filled in (used only by rules with ``responds = True``)."""
        return self.x.copy()

    def update(self, obs: Any, reward: Any, k: int) -> None:
        """Step k (1, 2, ...) from the feedback at the action just played: ``obs`` (shapes per mode in
        docs/architecture.md §3) and ``reward`` ``(B,)`` (``−f_i``, noisy in ``reward`` mode; ``None`` for a block)."""
        if int(k) != k or k < 1:
            raise ValueError(f"{self.name}: iteration index k must be a positive integer, got {k!r}")
        self.last_obs = obs
        new = np.asarray(self._step(obs, reward, int(k)), dtype=float)
        if new.shape != self.x.shape:
            raise ValueError(f"{self.name} on {self.agent!r}: step returned shape {new.shape}, expected {self.x.shape}")
        if all_finite(new) and self.active.all():  # every run going and finite: nothing to stop
            self.x = self.project(new)
            return
        finite = np.isfinite(new).all(axis=-1)
        for b in np.flatnonzero(self.active & ~finite):
            self.stop_reason[b] = f"{self.agent}: non-finite iterate at step {k} ({self.name})"
        self.active &= finite
        new = self.project(np.where(finite[:, None], new, self.x))
        self.x = np.where(self.active[:, None], new, self.x)

    def halt(self, runs: np.ndarray, reason: str) -> None:
        """Freeze runs (boolean mask or indices) because of something outside this learner."""
        mask = np.zeros(self.num_runs, bool)
        mask[runs] = True
        for b in np.flatnonzero(mask & self.active):
            self.stop_reason[b] = reason
        self.active &= ~mask

    @abstractmethod
    def _step(self, obs: Any, reward: Any, k: int) -> np.ndarray:
        """The rule itself: the next iterate ``(B, d_i)`` (before projection) from ``self.x`` and feedback."""

    # ------------------------------------------------------------------ helpers for subclasses
    def _own_gradient(self, obs: Any) -> np.ndarray:
        """``∇_i f_i`` (noisy) from a ``gradient``/``hierarchical`` (bottom player) or ``second_order`` obs."""
        if isinstance(obs, dict):
            return check_shape(self, obs["grad"], self.game.d, "grad")[:, self.slice]
        return check_shape(self, obs, self.dim, "observation")

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            warnings.warn(f"{self.name} on {self.agent!r}: {message}", RuntimeWarning, stacklevel=3)

    def _count(self, key: str, n: int | np.integer) -> None:
        self.diagnostics[key] = int(self.diagnostics.get(key, 0)) + int(n)


def check_x0(learner: Learner, x0: Any) -> np.ndarray:
    """``x0`` as a finite ``(B, dim)`` float array (``(dim,)`` means B = 1); ``ValueError`` otherwise."""
    x0 = np.array(x0, dtype=float)
    if x0.ndim == 1:
        x0 = x0[None, :]
    if x0.ndim != 2 or x0.shape[1] != learner.dim:
        raise ValueError(f"{learner.name} on {learner.agent!r}: x0 must have shape (B, {learner.dim}), got {x0.shape}")
    if not np.all(np.isfinite(x0)):
        raise ValueError(f"{learner.name} on {learner.agent!r}: x0 contains non-finite values: {x0}")
    return x0


def check_shape(learner: Learner, a: Any, width: int, what: str) -> np.ndarray:
    """Feedback ``a`` as a ``(B, width)`` float array (a 1-d array when B = 1); ``ValueError`` naming it otherwise."""
    a = np.asarray(a, dtype=float)
    B = learner.x.shape[0]
    if a.shape == (B, width):
        return a
    if a.ndim == 1 and B == 1:
        a = a[None]
    if a.shape != (B, width):
        raise ValueError(
            f"{learner.name} on {learner.agent!r}: {what} must have shape ({B}, {width}) under feedback "
            f"{learner.feedback!r}, got {a.shape}"
        )
    return a
