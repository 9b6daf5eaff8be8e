"""Play learners against an environment for K steps and record the trajectory.

``play(env, learners, steps)`` drives one :class:`~agents.base.Learner` per agent against

- a batched env (``stackenv.envs.BatchedStackelbergEnv``; the fast path: B runs in one numpy step),
- a PettingZoo parallel env (B = 1), or
- a PettingZoo AEC env (leader first; B = 1).

Each step, levels act top-down: a learner that ``responds`` (a best response) sees this step's actions of
the levels above. The env then returns every agent's feedback at the joint action just played, and each
learner takes its step ``k`` (``k = 1, 2, ...``).

Feedback. One env has one feedback mode; :func:`choose_feedback` picks the mode that serves every learner
in a pairing (least information first): a hierarchical leader with a gradient-play follower works under
``hierarchical`` (a bottom player's total derivative is its own gradient); LOLA needs ``second_order``,
which serves everyone except bandit-only rules. ``play`` checks the env's mode against every learner and
raises ``ValueError`` naming the mismatch.

Divergence. A run whose joint action turns non-finite (or exceeds ``diverge_norm``) is stopped: its
learners freeze, the env keeps replaying its last finite action, and the trajectory records the step
and the reason. Nothing is silently NaN.

Memory. Only every ``record_every``-th step (and the last) is stored: ``(steps/record_every + 1)·B·(d + 2n)``
floats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agents.base import FEEDBACK_MODES, FusedLearners, Learner, check_feedback, player_index, player_roles
from agents.rng import BatchRNG
from stackenv.envs.batched import BatchedStackelbergEnv
from stackenv.games.base import Game


@dataclass
class Trajectory:
    """What :func:`play` records.

    Attributes:
        agents: agent names, hierarchy order (leader first).
        feedback: the env's feedback mode.
        steps: ``(T,)`` step index of each record (0 = the initial joint action ``x_0``).
        x: ``(T, B, d)`` joint action played at each recorded step (``x[0]`` is ``x_0``).
        costs: ``(T, B, n)`` exact costs ``f_i`` at those joint actions (from the game).
        rewards: ``(T, B, n)`` rewards as observed (noisy in ``reward`` mode; NaN at step 0).
        x_final: ``(B, d)`` the last joint action played (for stopped runs: at the stop).
        stopped: ``(B,)`` runs stopped by divergence; ``stop_step`` ``(B,)`` (−1 if not) and ``stop_reason``.
        diagnostics: per agent, the learner's counters (e.g. ``regularised``).
    """

    agents: list[str]
    feedback: str | dict[str, str]
    steps: np.ndarray
    x: np.ndarray
    costs: np.ndarray
    rewards: np.ndarray
    x_final: np.ndarray
    stopped: np.ndarray
    stop_step: np.ndarray
    stop_reason: list[str | None]
    diagnostics: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def num_runs(self) -> int:
        return self.x_final.shape[0]

    def distance(self, game: Game, point: np.ndarray) -> np.ndarray:
        """``(B,)`` distance of each run's final joint action to ``point`` (geodesic on periodic coordinates)."""
        return game.distance(self.x_final, np.asarray(point, float))

    def nearest(self, game: Game, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each run, the index of the nearest of ``points`` ``(P, d)`` and the distance to it."""
        points = np.atleast_2d(np.asarray(points, float))
        dist = np.stack([game.distance(self.x_final, p) for p in points], axis=-1)
        return np.argmin(dist, axis=-1), np.min(dist, axis=-1)


# ---------------------------------------------------------------------- feedback selection
def choose_feedback(game: Game, learners: dict[str, Learner]) -> str:
    """The first mode in :data:`~agents.base.FEEDBACK_MODES` that serves every learner in its seat.

    Raises:
        ValueError: no single mode serves them all (e.g. a bandit-only rule against a gradient rule).
    """
    usable = {}
    for agent, learner in learners.items():
        i = player_index(game, agent)
        usable[agent] = learner.feedback_modes("leader" in player_roles(game, i))
    for mode in FEEDBACK_MODES:
        if all(mode in modes for modes in usable.values()):
            return mode
    detail = "; ".join(f"{a} ({learners[a].name}): {', '.join(m) or 'none'}" for a, m in usable.items())
    raise ValueError(f"no single feedback mode serves every learner — usable modes per agent: {detail}")


def _env_game(env: Any) -> Game:
    for obj in (env, getattr(env, "unwrapped", None)):
        game = getattr(obj, "game", None)
        if isinstance(game, Game):
            return game
    raise ValueError(f"cannot find the game of env {type(env).__name__} (expected an attribute 'game')")


def _env_feedback(env: Any) -> str | dict[str, str] | None:
    for obj in (env, getattr(env, "unwrapped", None)):
        fb = getattr(obj, "feedback", None)
        if fb is not None:
            return fb
    return None


def _env_kind(env: Any) -> str:
    if hasattr(env, "num_envs") and hasattr(env, "x"):
        return "batched"
    if hasattr(env, "agent_iter"):
        return "aec"
    if hasattr(env, "possible_agents"):
        return "parallel"
    raise ValueError(f"unsupported env {type(env).__name__}: expected a batched, parallel or AEC stackenv env")


# ---------------------------------------------------------------------- the loop
class _Recorder:
    def __init__(self, steps: int, record_every: int, B: int, d: int, n: int):
        T = steps // record_every + 1 + (steps % record_every != 0)
        self.every, self.steps_total = record_every, steps
        self.steps = np.zeros(T, int)
        self.x = np.full((T, B, d), np.nan)
        self.costs = np.full((T, B, n), np.nan)
        self.rewards = np.full((T, B, n), np.nan)
        self.t = 0

    def wants(self, k: int) -> bool:
        return not (k % self.every and k != self.steps_total)

    def put(self, k: int, x: np.ndarray, costs: np.ndarray, rewards: Any) -> None:
        """Store step k; ``rewards`` may be an array, ``None`` or a zero-argument callable (built lazily)."""
        t = self.t
        self.steps[t], self.x[t], self.costs[t] = k, x, costs
        rewards = rewards() if callable(rewards) else rewards
        if rewards is not None:
            self.rewards[t] = rewards
        self.t += 1


class _Loop:
    """State shared by the three env adapters: learners, divergence bookkeeping, records."""

    def __init__(self, game, learners, steps, record_every, diverge_norm, B, seed):
        self.game, self.learners, self.steps = game, learners, steps
        self.diverge_norm = diverge_norm
        self.order = [(game.agents[i], game.slices[i]) for lv in game.levels for i in lv]
        self.stopped = np.zeros(B, bool)
        self.stop_step = np.full(B, -1)
        self.stop_reason: list[str | None] = [None] * B
        self.rec = _Recorder(steps, record_every, B, game.d, game.n)
        self.seed = seed
        self.any_stopped = False
        # Σ_b ‖x_b‖² below this ⇒ every run finite with ‖x_b‖ ≤ diverge_norm (one dot; margin for rounding)
        self.sq_bound = diverge_norm**2 * (1 - 1e-9)
        self.groups: list[FusedLearners] = []
        self._set_units()

    # ------------------------------------------------------------------ fused groups
    def _set_units(self) -> None:
        """``acts`` (level order: slice, learner or group, whether it acts with its iterate ``x``) and
        ``units`` (agent order: agent, learner, group) from the current groups."""
        owner = {id(m): g for g in self.groups for m in g.members}
        self.acts, self.units, seen, seen_act = [], [], set(), set()
        for a, sl in self.order:
            lr = self.learners[a]
            g = owner.get(id(lr))
            if g is None:
                self.acts.append((sl, lr, type(lr).act is Learner.act))
            elif id(g) not in seen_act:
                seen_act.add(id(g))
                self.acts.append((g.slice, g, True))
        for a in self.game.agents:
            lr = self.learners[a]
            g = owner.get(id(lr))
            if g is None:
                self.units.append((a, lr, None))
            elif id(g) not in seen:
                seen.add(id(g))
                self.units.append((a, lr, g))
        self.singles = [lr for _, lr, g in self.units if g is None]

    def fuse(self) -> None:
        """Replace each run of ≥ 2 same-rule learners at one level by the rule's fused group, where it has one
        (:meth:`~agents.base.Learner.fuse`); the learners stay the interface and get their state back."""
        for level in self.game.levels:
            run: list[Learner] = []
            for i in [*level, None]:
                lr = None if i is None else self.learners[self.game.agents[i]]
                if run and (lr is None or type(lr) is not type(run[0])):
                    if len(run) >= 2 and type(run[0]).act is Learner.act:
                        group = type(run[0]).fuse(run)
                        if group is not None:
                            self.groups.append(group)
                    run = []
                if lr is not None:
                    run.append(lr)
        self._set_units()

    def dissolve(self) -> None:
        """Hand every group's state back to its members, which carry on one by one."""
        for g in self.groups:
            g.write_back()
        self.groups = []
        self._set_units()

    def update(self, obs: Any, rewards: Any, k: int, rows: np.ndarray | None = None) -> None:
        """Every learner (or fused group) takes step k from its feedback; ``rows``: the env's ``(B, d)``
        feedback rows where every agent's observation is its own slice of them (batched, array feedback)."""
        dissolve = False
        for agent, learner, group in self.units:
            if group is None:
                learner.update(obs[agent], rewards[agent], k)
                continue
            if rows is not None:
                block = rows[:, group.slice]
            else:
                try:
                    block = np.concatenate([obs[a] for a in group.agents], axis=1)
                except (ValueError, TypeError):
                    block = None
            if block is None or not group.try_step(block, k):  # rare: the members step themselves
                group.write_back()
                for a in group.agents:
                    self.learners[a].update(obs[a], rewards[a], k)
                self.groups.remove(group)
                dissolve = True
        if dissolve:
            self._set_units()

    def reset(self, x0: np.ndarray, obs: dict[str, Any]) -> None:
        if self.seed is None:
            rngs = {a: np.random.default_rng() for a, _ in self.order}
        else:  # run b, player i: default_rng([seed + b, 0x5EED, i]) — independent of the batch's size
            B = x0.shape[0]
            rngs = {a: BatchRNG(range(int(self.seed), int(self.seed) + B), i) for i, a in enumerate(self.game.agents)}
        for agent, sl in self.order:
            self.learners[agent].reset(x0[:, sl], rngs[agent], obs.get(agent))
        self.last = x0.copy()
        self.rec.put(0, x0, self.game.costs(x0), None)

    def joint_action(self, k: int) -> np.ndarray:
        """Levels act top-down; non-finite or exploding runs are stopped and replay their last action."""
        joint = self.last.copy()
        for sl, unit, plain in self.acts:
            joint[:, sl] = unit.x if plain else unit.act(joint)
        flat = joint.ravel()
        if not self.any_stopped and flat @ flat <= self.sq_bound:  # all finite and small: nothing to stop
            return joint
        bad = ~np.all(np.isfinite(joint), axis=-1)
        big = np.linalg.norm(np.where(np.isfinite(joint), joint, 0.0), axis=-1) > self.diverge_norm
        self._stop(bad, k, "non-finite joint action")
        self._stop(big & ~bad, k, f"joint action norm exceeded {self.diverge_norm:g}")
        return np.where(self.stopped[:, None], self.last, joint)

    def after_step(self, k: int, played: np.ndarray, rewards: Any) -> None:
        for learner in self.singles:  # fused groups are live by construction
            if learner._all_active:
                continue
            new = ~learner.active & ~self.stopped
            for b in np.flatnonzero(new):
                self._stop_one(b, k, learner.stop_reason[b] or f"{learner.agent}: stopped")
        if self.any_stopped:
            played = np.where(self.stopped[:, None], self.last, played)
        self.last = played
        if self.rec.wants(k):
            self.rec.put(k, played, self.game.costs(played), rewards)

    def env_stops(self, k: int, terminated: np.ndarray, infos: Any, agent: str) -> None:
        """Stop runs the env terminated (divergence or undefined feedback), with the env's reason."""
        if not terminated.any():
            return
        for b in np.flatnonzero(terminated & ~self.stopped):
            info = infos.get(agent, {}) if isinstance(infos, dict) else {}
            reason = info.get("termination_reason") if isinstance(info, dict) else None
            if isinstance(reason, list | tuple | np.ndarray):
                reason = reason[b]
            self._stop_one(b, k, f"env terminated: {reason or 'diverged'}")

    def _stop(self, mask: np.ndarray, k: int, reason: str) -> None:
        for b in np.flatnonzero(mask & ~self.stopped):
            self._stop_one(b, k, reason)

    def _stop_one(self, b: int, k: int, reason: str) -> None:
        if self.groups:
            self.dissolve()
        self.stopped[b], self.stop_step[b], self.stop_reason[b] = True, k, f"step {k}: {reason}"
        self.any_stopped = True
        for learner in self.learners.values():
            learner.halt(np.array([b]), f"stopped at step {k}: {reason}")

    def result(self, feedback) -> Trajectory:
        self.dissolve()
        r = self.rec
        return Trajectory(
            agents=list(self.game.agents),
            feedback=feedback,
            steps=r.steps[: r.t],
            x=r.x[: r.t],
            costs=r.costs[: r.t],
            rewards=r.rewards[: r.t],
            x_final=self.last.copy(),
            stopped=self.stopped.copy(),
            stop_step=self.stop_step.copy(),
            stop_reason=list(self.stop_reason),
            diagnostics={a: dict(lr.diagnostics) for a, lr in self.learners.items()},
        )


def play(
    env: Any,
    learners: dict[str, Learner],
    steps: int,
    record_every: int = 1,
    seed: int | None = None,
    x0: np.ndarray | None = None,
    diverge_norm: float = 1e12,
) -> Trajectory:
    """Run ``learners`` (one per agent) against ``env`` for ``steps`` steps.

    Args:
        env: a batched, PettingZoo parallel or PettingZoo AEC stackenv env (exposing ``game`` and ``feedback``).
        learners: ``{agent name: Learner}`` for every agent of the env's game.
        steps: number of joint steps K (> 0).
        record_every: store every n-th step (plus step 0 and the last).
        seed: seeds the env's reset and each learner's own random stream.
        x0: initial joint action ``(B, d)`` (batched) or ``(d,)``; default: the env's reset draws it.
        diverge_norm: runs whose joint-action norm exceeds this are stopped as diverged.

    Returns:
        The :class:`Trajectory`.

    Raises:
        ValueError: missing/unknown agents, a learner in a role it cannot play, a feedback mode a learner
            cannot use, bad ``steps``/``record_every``/``x0`` shapes.
    """
    if int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if int(record_every) != record_every or record_every < 1:
        raise ValueError(f"record_every must be a positive integer, got {record_every!r}")
    if not (diverge_norm > 0):
        raise ValueError(f"diverge_norm must be positive, got {diverge_norm!r}")
    steps, record_every = int(steps), int(record_every)
    game = _env_game(env)
    if set(learners) != set(game.agents):
        raise ValueError(f"learners must cover exactly the agents {game.agents}, got {sorted(learners)}")
    feedback = _env_feedback(env)
    for agent, learner in learners.items():
        if not isinstance(learner, Learner):
            raise ValueError(f"learner for {agent!r} is not an agents.Learner: {learner!r}")
        fb = feedback.get(agent) if isinstance(feedback, dict) else feedback
        learner.bind(game, agent, check_feedback(fb) if fb is not None else None)
    kind = _env_kind(env)
    runner = {"batched": _play_batched, "parallel": _play_parallel, "aec": _play_aec}[kind]
    return runner(env, game, learners, steps, record_every, seed, x0, diverge_norm, feedback)


def _play_batched(env, game, learners, steps, record_every, seed, x0, diverge_norm, feedback) -> Trajectory:
    options = None
    if x0 is not None:
        x0 = np.asarray(x0, float)
        if x0.shape != (env.num_envs, game.d):
            raise ValueError(f"x0 must have shape ({env.num_envs}, {game.d}), got {x0.shape}")
        options = {"x0": x0}
    obs, _ = env.reset(seed=seed, options=options)
    B, d = env.num_envs, game.d
    loop = _Loop(game, learners, steps, record_every, diverge_norm, B, seed)
    loop.reset(np.asarray(env.x, float).reshape(B, d), obs)
    if feedback in ("gradient", "hierarchical"):  # array observations: same-rule learners may fuse
        loop.fuse()
    agents = game.agents
    a0 = agents[0]
    joint_ok = isinstance(env, BatchedStackelbergEnv)  # takes the (B, d) joint action as it is
    slices = [(a, game.slices[i]) for i, a in enumerate(agents)]
    seen = None
    for k in range(1, steps + 1):
        joint = loop.joint_action(k)
        obs, rewards, terms, _, infos = env.step(joint if joint_ok else {a: joint[:, sl] for a, sl in slices})
        loop.update(obs, rewards, k, env.feedback_rows if joint_ok and loop.groups else None)
        term = terms[a0]
        if term is not seen:  # our env hands out one read-only flag array until a copy terminates
            loop.env_stops(k, np.asarray(term, bool).reshape(B), infos, a0)
            seen = term if joint_ok else None
        played = np.asarray(env.x, float).reshape(B, d)
        loop.after_step(k, played, lambda r=rewards: np.stack([np.asarray(r[a], float) for a in agents], -1))
    return loop.result(feedback)


def _batch1(obs: Any) -> Any:
    """Add a leading batch axis of 1 to a PettingZoo observation (array or dict of arrays)."""
    if isinstance(obs, dict):
        return {key: np.asarray(val, float)[None] for key, val in obs.items()}
    return np.asarray(obs, float)[None]


def _played(env: Any, fallback: np.ndarray) -> np.ndarray:
    for obj in (env, getattr(env, "unwrapped", None)):
        x = getattr(obj, "x", None)
        if x is not None:
            return np.asarray(x, float).reshape(1, -1)
    return fallback


def _play_parallel(env, game, learners, steps, record_every, seed, x0, diverge_norm, feedback) -> Trajectory:
    options = None if x0 is None else {"x0": np.asarray(x0, float).reshape(game.d)}
    obs, _ = env.reset(seed=seed, options=options)
    start = x0 if x0 is not None else _played(env, None)
    if start is None:
        raise ValueError("parallel env exposes no current joint action 'x'; pass x0")
    loop = _Loop(game, learners, steps, record_every, diverge_norm, 1, seed)
    loop.reset(np.asarray(start, float).reshape(1, game.d), {a: _batch1(o) for a, o in obs.items()})
    agents = game.agents
    for k in range(1, steps + 1):
        joint = loop.joint_action(k)
        actions = {a: joint[0, game.slices[i]].copy() for i, a in enumerate(agents)}  # float64: no rounding
        obs, rewards, terms, truncs, infos = env.step(actions)
        for a in agents:
            learners[a].update(_batch1(obs[a]), np.array([rewards[a]], float), k)
        loop.env_stops(k, np.array([bool(terms[agents[0]])]), infos, agents[0])
        loop.after_step(k, _played(env, joint), np.array([[rewards[a] for a in agents]], float))
        if loop.stopped.all():
            break
        if truncs[agents[0]] and k < steps:
            raise ValueError(f"the parallel env truncated the episode at step {k} < {steps}; raise its max_steps")
    return loop.result(feedback)


def _play_aec(env, game, learners, steps, record_every, seed, x0, diverge_norm, feedback) -> Trajectory:
    """Leader-first rounds: at its turn an agent first learns from the last completed round's feedback
    (``env.feedback_obs``), then acts on this round's committed actions of the levels above
    (``env.x_committed``)."""
    options = None if x0 is None else {"x0": np.asarray(x0, float).reshape(game.d)}
    env.reset(seed=seed, options=options)
    agents = game.agents
    d = game.d
    loop = _Loop(game, learners, steps, record_every, diverge_norm, 1, seed)
    loop.reset(np.asarray(env.x, float).reshape(1, d), {a: _batch1(env.feedback_obs(a)) for a in agents})
    k = 0
    for agent in env.agent_iter():
        _, reward, term, trunc, info = env.last()
        if term:
            loop.env_stops(k, np.array([True]), {agent: info}, agent)
            break
        if trunc:
            if k < steps:
                raise ValueError(f"the AEC env truncated the episode at round {k} < {steps}; raise its max_steps")
            break
        i = agents.index(agent)
        if i == 0:
            if k > 0:  # round k is complete
                rewards = np.array([[env.rewards[a] for a in agents]], float)
                loop.after_step(k, np.asarray(env.x, float).reshape(1, d), rewards)
            if k == steps or loop.stopped.all():
                break
            k += 1
        if k > 1:
            learners[agent].update(_batch1(env.feedback_obs(agent)), np.array([reward], float), k - 1)
        sl = game.slices[i]
        a = learners[agent].act(np.asarray(env.x_committed, float).reshape(1, d))
        if not np.all(np.isfinite(a)) or np.linalg.norm(a) > diverge_norm:
            loop._stop(np.array([True]), k, f"{agent}: non-finite or exploding action")
        if loop.stopped.all():
            break
        env.step(np.asarray(a, float).reshape(sl.stop - sl.start))  # float64: no rounding
    return loop.result(feedback)
