"""The learner interface: one small ABC over batches of independent runs.

A learner plays one agent (a player of a ``stackenv.games.Game``) in B independent runs at once. Its
state is an array ``x`` of shape ``(B, d_i)`` (the action it plays next). The loop in ``agents.play``
drives it::

    learner.bind(game, agent, feedback)      # validates role, feedback mode and dimensions
    learner.reset(x0, rng)                   # x0: (B, d_i) initial action, rng: numpy Generator
    for k in 1, 2, ...:
        a = learner.act(x_partial)           # (B, d_i): the action played at step k
        obs, reward = env.step(...)          # what the env's feedback mode gives this agent
        learner.update(obs, reward, k)       # x_{k+1} from x_k and the feedback at x_k

Subclasses implement :meth:`Learner._step` — a pure function of the current iterate, the feedback and
the iteration index returning the next iterate — and, where they randomise or respond, ``_reset`` /
``act``. The base class projects iterates onto the agent's domain (``game.wrap`` on periodic
coordinates, clipping on boxes), checks shapes, and stops runs whose iterates become non-finite, with
the reason recorded (never a silent NaN).

Roles. A player of a game is a *leader* if some level lies below it and a *follower* if some level lies
above it (a middle level of a chain is both). A learner declares the roles it can play; binding it to a
player none of whose roles it has raises ``ValueError`` (e.g. a leader-only rule on the bottom follower).

Feedback. Every learner declares what it ``needs``; :func:`provided_needs` says what each of the
environments' feedback modes (``reward``, ``gradient``, ``hierarchical``, ``second_order``; see
docs/architecture.md §3) gives a player with or without levels below it. Rewards (``−cost``, noisy
only in ``reward`` mode) come with every mode.
"""

from __future__ import annotations

import math
import warnings
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Literal

import numpy as np

from stackenv.games.base import Game

Feedback = Literal["gradient", "hierarchical", "second_order", "reward"]
Role = Literal["leader", "follower"]
Need = Literal["gradient", "total_derivative", "second_order", "jacobian", "reward", "action"]

#: Feedback modes in the order :func:`agents.play.choose_feedback` prefers them (least information first).
FEEDBACK_MODES: tuple[str, ...] = ("gradient", "hierarchical", "second_order", "reward")
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


def check_feedback(feedback: str) -> str:
    """Return ``feedback`` if it is a known mode, else raise ``ValueError`` listing the valid ones."""
    if feedback not in FEEDBACK_MODES:
        raise ValueError(f"unknown feedback mode {feedback!r}; valid modes: {', '.join(FEEDBACK_MODES)}")
    return feedback


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


class Learner(ABC):
    """A learning rule for one agent, batched over B independent runs.

    Class attributes (declared once per rule):
        name: registry name.
        roles: roles the rule can play (subset of ``{"leader", "follower"}``).
        needs: the feedback quantity the rule consumes (see :data:`NEEDS` and :func:`provided_needs`).
        responds: if true, ``act`` needs this step's actions of the levels above (a best response).

    Instance attributes after :meth:`bind` / :meth:`reset`:
        game, agent, i (player index), level, dim (``d_i``), slice (into the joint action),
        x (``(B, d_i)`` current iterate), active (``(B,)`` runs still going),
        stop_reason (per run, ``None`` while active), diagnostics (dict of counters).
    """

    name: ClassVar[str] = "learner"
    roles: ClassVar[frozenset[str]] = frozenset(ROLES)
    needs: ClassVar[str] = "gradient"
    responds: ClassVar[bool] = False

    def __init__(self) -> None:
        self.game: Game | None = None
        self.agent: str | None = None
        self.i = -1
        self.level = -1
        self.dim = 0
        self.feedback: str | None = None
        self.slice = slice(0, 0)
        self.x = np.zeros((0, 0))
        self.active = np.zeros(0, bool)
        self._all_active = True
        self.stop_reason: list[str | None] = []
        self.diagnostics: dict[str, Any] = {}
        self._warned: set[str] = set()

    def __repr__(self) -> str:
        where = f" bound to {self.agent!r} of {self.game.name}" if self.game is not None else ""
        return f"<{type(self).__name__} {self.name!r}{where}>"

    # ------------------------------------------------------------------ feedback and roles
    @classmethod
    def feedback_modes(cls, has_below: bool) -> tuple[str, ...]:
        """Feedback modes that give this rule what it needs, for a player with/without levels below."""
        return tuple(m for m in FEEDBACK_MODES if cls.needs in provided_needs(m, has_below))

    @classmethod
    def fits(cls, game: Game, agent: str | int) -> bool:
        """Whether the rule can play ``agent`` in ``game`` (role check only)."""
        return bool(cls.roles & player_roles(game, player_index(game, agent)))

    def bind(self, game: Game, agent: str | int, feedback: str | None = None) -> Learner:
        """Attach the learner to one player of ``game``; validates role, feedback mode and dimensions.

        Args:
            game: the game being played.
            agent: the player's name or index.
            feedback: the environment's feedback mode for this agent (``None`` skips the check).

        Raises:
            ValueError: the rule cannot play this role, or the feedback mode does not give it what it needs.
        """
        if not isinstance(game, Game):
            raise ValueError(f"{self.name}: expected a stackenv Game, got {type(game).__name__}")
        i = player_index(game, agent)
        have = player_roles(game, i)
        name = game.players[i].name
        if not self.roles & have:
            raise ValueError(
                f"learner {self.name!r} can play {sorted(self.roles)} but agent {name!r} of {game.name} is "
                f"{' and '.join(sorted(have)) or 'neither leader nor follower'}"
            )
        has_below = "leader" in have
        if feedback is not None:
            check_feedback(feedback)
            ok = self.feedback_modes(has_below)
            if feedback not in ok:
                raise ValueError(
                    f"learner {self.name!r} on agent {name!r} needs {self.needs!r} feedback, which env feedback "
                    f"mode {feedback!r} does not provide; usable modes: {', '.join(ok) or 'none'}"
                )
        self.game, self.agent, self.i = game, name, i
        self.level = game.level_of[i]
        self.dim = game.dims[i]
        self.slice = game.slices[i]
        self.low, self.high = game.players[i].low, game.players[i].high
        self.periodic = game.players[i].periodic
        self._clip_bounds = (_shared(self.low), _shared(self.high))
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
            width = self.high - self.low
            return self.low + np.mod(x - self.low, width)
        return np.asarray(x).clip(*self._clip_bounds)  # the method skips np.clip's dispatch layer

    # ------------------------------------------------------------------ the loop's interface
    def reset(self, x0: Any, rng: np.random.Generator | None = None, obs: Any = None) -> None:
        """Start B runs from ``x0`` (shape ``(B, d_i)``; ``(d_i,)`` means B = 1).

        Args:
            x0: initial actions, inside the domain (periodic coordinates are wrapped, boxes clipped).
            rng: the learner's own random stream (only randomised rules use it).
            obs: the environment's observation at ``x0`` (kept for policies that act on observations).
        """
        self._require_bound()
        x0 = np.array(x0, dtype=float)
        if x0.ndim == 1:
            x0 = x0[None, :]
        if x0.ndim != 2 or x0.shape[1] != self.dim:
            raise ValueError(f"{self.name} on {self.agent!r}: x0 must have shape (B, {self.dim}), got {x0.shape}")
        if not np.all(np.isfinite(x0)):
            raise ValueError(f"{self.name} on {self.agent!r}: x0 contains non-finite values: {x0}")
        self.x = self.project(x0)
        B = x0.shape[0]
        self.active = np.ones(B, bool)
        self._all_active = True
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
        """The action to play at this step, shape ``(B, d_i)``.

        Args:
            x: the joint action so far, ``(B, d)``, with this step's actions of the levels above filled
                in (used only by rules with ``responds = True``).
        """
        return self.x.copy()

    def update(self, obs: Any, reward: Any, k: int) -> None:
        """Take step k (k = 1, 2, ...) from the feedback observed at the action just played.

        Args:
            obs: this agent's observation (see docs/architecture.md §3 for the shapes per mode).
            reward: ``(B,)`` rewards ``−f_i`` (noisy in ``reward`` mode).
            k: iteration index, starting at 1 (step sizes are ``γ_k``).
        """
        if int(k) != k or k < 1:
            raise ValueError(f"{self.name}: iteration index k must be a positive integer, got {k!r}")
        self.last_obs = obs
        new = np.asarray(self._step(obs, reward, int(k)), dtype=float)
        if new.shape != self.x.shape:
            raise ValueError(f"{self.name} on {self.agent!r}: step returned shape {new.shape}, expected {self.x.shape}")
        if self._all_active and math.isfinite(new.sum()):  # fast path: every run going, every value finite
            self.x = self.project(new)
            return
        finite = np.isfinite(new).all(axis=-1)
        bad = self.active & ~finite
        for b in np.flatnonzero(bad):
            self.stop_reason[b] = f"{self.agent}: non-finite iterate at step {k} ({self.name})"
        self.active &= ~bad
        self._all_active = bool(self.active.all())
        new = self.project(np.where(finite[:, None], new, self.x))
        self.x = np.where(self.active[:, None], new, self.x)

    def halt(self, runs: np.ndarray, reason: str) -> None:
        """Freeze runs (boolean mask or indices) because of something outside this learner."""
        mask = np.zeros(self.num_runs, bool)
        mask[runs] = True
        for b in np.flatnonzero(mask & self.active):
            self.stop_reason[b] = reason
        self.active &= ~mask
        self._all_active = bool(self.active.all())

    @classmethod
    def fuse(cls, members: list[Learner]) -> FusedLearners | None:
        """Hook: one :class:`FusedLearners` doing the work of ``members`` (bound, reset learners of this rule
        at one level, in agent order on adjacent coordinates), or ``None`` where the rule does not fuse or the
        members' settings differ. :func:`agents.play` asks it for many learners at one level (e.g. N
        gradient-play followers). Default: never fused."""
        return None

    @abstractmethod
    def _step(self, obs: Any, reward: Any, k: int) -> np.ndarray:
        """The rule itself: the next iterate ``(B, d_i)`` (before projection) from ``self.x`` and feedback."""

    # ------------------------------------------------------------------ helpers for subclasses
    def _own_gradient(self, obs: Any) -> np.ndarray:
        """``∇_i f_i`` (noisy) from a ``gradient``/``hierarchical`` (bottom player) or ``second_order`` obs."""
        if isinstance(obs, dict):
            return self._check_shape(obs["grad"], self.game.d, "grad")[:, self.slice]
        return self._check_shape(obs, self.dim, "observation")

    def _check_shape(self, a: Any, width: int, what: str) -> np.ndarray:
        a = np.asarray(a, dtype=float)
        B = self.x.shape[0]
        if a.shape == (B, width):
            return a
        if a.ndim == 1 and B == 1:
            a = a[None]
        if a.shape != (B, width):
            raise ValueError(
                f"{self.name} on {self.agent!r}: {what} must have shape ({B}, {width}) under feedback "
                f"{self.feedback!r}, got {a.shape}"
            )
        return a

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            warnings.warn(f"{self.name} on {self.agent!r}: {message}", RuntimeWarning, stacklevel=3)

    def _count(self, key: str, n: int | np.integer) -> None:
        self.diagnostics[key] = int(self.diagnostics.get(key, 0)) + int(n)


def _shared(bound: np.ndarray) -> np.ndarray:
    """A bound vector as a 0-d array when every coordinate shares it (``ndarray.clip`` is fastest with those)."""
    bound = np.asarray(bound, dtype=float)
    return np.array(bound.flat[0]) if bound.size and np.all(bound == bound.flat[0]) else bound


def same_settings(a: Any, b: Any) -> bool:
    """Whether two settings objects (schedules, numbers) are interchangeable: equal, or of one type with equal
    attributes (e.g. two ``PowerSchedule(1, 2/3)``)."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if hasattr(a, "__dict__"):
        return vars(a) == vars(b)
    return bool(a == b)


class FusedLearners(ABC):
    """Learners of one rule with identical settings, at one level on adjacent coordinates, stepped as one.

    The loop in :func:`agents.play` keeps one learner per agent at its interface; for many agents with the
    same rule (N gradient-play followers) it asks the rule's :meth:`Learner.fuse` for one of these and steps
    the members' concatenated iterate ``x`` ``(B, D)`` with a few array operations instead of N Python calls.
    A subclass's :meth:`_step` must do *exactly* the members' elementwise arithmetic, so the result is
    bit for bit what the members would have computed one by one. Anything else — a non-finite value, a run
    stopped from outside — is left to the members: the loop calls :meth:`write_back` and goes on with them.

    Attributes:
        members: the learners, in agent order. slice: their coordinates in the joint action.
        x: ``(B, D)`` concatenated iterate. low, high: ``(D,)`` bounds; periodic: shared flag.
    """

    def __init__(self, members: list[Learner]):
        first = members[0]
        self.members = list(members)
        self.agents = [m.agent for m in members]
        self.slice = slice(first.slice.start, members[-1].slice.stop)
        self.local = [slice(m.slice.start - first.slice.start, m.slice.stop - first.slice.start) for m in members]
        self.low = np.concatenate([np.broadcast_to(m.low, (m.dim,)) for m in members]).astype(float)
        self.high = np.concatenate([np.broadcast_to(m.high, (m.dim,)) for m in members]).astype(float)
        self.periodic = first.periodic
        self._clip_bounds = (_shared(self.low), _shared(self.high))
        self.x = np.concatenate([m.x for m in members], axis=1)
        self.last_obs: np.ndarray | None = None

    @staticmethod
    def compatible(members: list[Learner], rule: type[Learner], settings: tuple[str, ...] = ()) -> bool:
        """The common preconditions: at least two members, every one exactly of class ``rule``, bound and live,
        same game, level and periodicity, adjacent coordinates, and the attributes ``settings`` (e.g. ``lr``)
        interchangeable with the first member's (:func:`same_settings`)."""
        if len(members) < 2:
            return False
        first = members[0]
        for prev, m in zip(members, members[1:]):
            if m.slice.start != prev.slice.stop:
                return False
        return all(
            type(m) is rule
            and m.game is first.game
            and m.level == first.level
            and m.periodic == first.periodic
            and m._all_active
            and all(same_settings(getattr(m, s), getattr(first, s)) for s in settings)
            for m in members
        )

    def project(self, x: np.ndarray) -> np.ndarray:
        """The members' projections, coordinate by coordinate (same operations as :meth:`Learner.project`)."""
        if self.periodic:
            return self.low + np.mod(x - self.low, self.high - self.low)
        return x.clip(*self._clip_bounds)

    def try_step(self, obs: np.ndarray, k: int) -> bool:
        """Take step k for every member from the concatenated observation ``obs`` ``(B, D)``; return ``False``
        *without changing anything* where the members must take it themselves (a wrong shape, a non-finite value)."""
        g = np.asarray(obs, dtype=float)  # as each member's shape check converts it
        if g.shape != self.x.shape:
            return False
        new = self._step(g, k)
        if not math.isfinite(new.sum()):
            return False
        self.x, self.last_obs = self.project(new), g
        return True

    @abstractmethod
    def _step(self, g: np.ndarray, k: int) -> np.ndarray:
        """The members' rule on the concatenated iterate: the next ``x`` ``(B, D)`` before projection, from the
        observation ``g`` ``(B, D)``; no side effects (:meth:`try_step` may still decline the result)."""

    def write_back(self) -> None:
        """Hand the state back to the members (their ``x`` and last observation)."""
        for m, sl in zip(self.members, self.local):
            m.x = self.x[:, sl].copy()
            if self.last_obs is not None:
                m.last_obs = self.last_obs[:, sl]
