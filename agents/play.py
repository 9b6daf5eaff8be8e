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

Blocks. A learner object that appears for several agents of ``learners`` (all followers of a level, as
``n_follower_learners`` builds them) is bound once to that block of agents (``agents.base``) and stepped once
per step on their stacked feedback — from a batched env under ``gradient``/``hierarchical`` feedback, its
slice of ``env.feedback_rows``. Every other learner is stepped on its own. Nothing is swapped behind the
caller's back: the learners passed in are the objects that run.

Memory. Only every ``record_every``-th step (and the last) is stored (see :mod:`agents.trajectory`).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from agents.base import FEEDBACK_MODES, Learner, player_index, player_roles
from agents.loop import Loop, bind_units
from agents.trajectory import Trajectory
from stackenv.envs.batched import BatchedStackelbergEnv
from stackenv.games.base import Game


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
        learners: ``{agent name: Learner}`` for every agent of the env's game; one object given for several
            agents of a level plays them as a block (module docstring).
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
    for name, value in (("steps", steps), ("record_every", record_every)):
        if not (isinstance(value, numbers.Real) and math.isfinite(value) and int(value) == value and value >= 1):
            raise ValueError(f"{name} must be a positive (finite) integer, got {value!r}")
    if not (diverge_norm > 0):
        raise ValueError(f"diverge_norm must be positive, got {diverge_norm!r}")
    steps, record_every = int(steps), int(record_every)
    game = _env_game(env)
    feedback = _env_feedback(env)
    units = bind_units(game, learners, feedback)
    kind = _env_kind(env)
    if kind == "aec" and len(units) < game.n:
        raise ValueError("a learner holding a block of agents needs a batched or parallel env, not an AEC env")
    runner = {"batched": _play_batched, "parallel": _play_parallel, "aec": _play_aec}[kind]
    return runner(env, game, units, steps, record_every, seed, x0, diverge_norm, feedback)


def _play_batched(env, game, units, steps, record_every, seed, x0, diverge_norm, feedback) -> Trajectory:
    options = None
    if x0 is not None:
        x0 = np.asarray(x0, float)
        if x0.shape != (env.num_envs, game.d):
            raise ValueError(f"x0 must have shape ({env.num_envs}, {game.d}), got {x0.shape}")
        options = {"x0": x0}
    obs, _ = env.reset(seed=seed, options=options)
    B, d = env.num_envs, game.d
    loop = Loop(game, units, steps, record_every, diverge_norm, B, seed)
    agents = game.agents
    a0 = agents[0]
    joint_ok = isinstance(env, BatchedStackelbergEnv)  # takes the (B, d) joint action as it is
    # gradient/hierarchical feedback of our batched env: every agent's observation is its slice of (B, d) rows
    use_rows = joint_ok and feedback in ("gradient", "hierarchical") and len(units) < game.n
    loop.reset(np.asarray(env.x, float).reshape(B, d), obs, env.feedback_rows if use_rows else None)
    for k in range(1, steps + 1):
        joint = loop.joint_action(k)
        obs, rewards, terms, _, infos = env.step(
            joint if joint_ok else {a: joint[:, game.slices[i]] for i, a in enumerate(agents)}
        )
        loop.update(obs, rewards, k, env.feedback_rows if use_rows else None)
        loop.env_stops(k, np.asarray(terms[a0], bool).reshape(B), infos, a0)
        played = np.asarray(env.x, float).reshape(B, d)
        if joint_ok:  # our env keeps every agent's rewards in one (B, n) array
            loop.after_step(k, played, lambda: np.asarray(env.rewards, float))
        else:
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


def _play_parallel(env, game, units, steps, record_every, seed, x0, diverge_norm, feedback) -> Trajectory:
    options = None if x0 is None else {"x0": np.asarray(x0, float).reshape(game.d)}
    obs, _ = env.reset(seed=seed, options=options)
    start = x0 if x0 is not None else _played(env, None)
    if start is None:
        raise ValueError("parallel env exposes no current joint action 'x'; pass x0")
    loop = Loop(game, units, steps, record_every, diverge_norm, 1, seed)
    loop.reset(np.asarray(start, float).reshape(1, game.d), {a: _batch1(o) for a, o in obs.items()})
    agents = game.agents
    for k in range(1, steps + 1):
        joint = loop.joint_action(k)
        actions = {a: joint[0, game.slices[i]].copy() for i, a in enumerate(agents)}  # float64: no rounding
        obs, rewards, terms, truncs, infos = env.step(actions)
        loop.update({a: _batch1(o) for a, o in obs.items()}, {a: np.array([r], float) for a, r in rewards.items()}, k)
        loop.env_stops(k, np.array([bool(terms[agents[0]])]), infos, agents[0])
        loop.after_step(k, _played(env, joint), np.array([[rewards[a] for a in agents]], float))
        if loop.stopped.all():
            break
        if truncs[agents[0]] and k < steps:
            raise ValueError(f"the parallel env truncated the episode at step {k} < {steps}; raise its max_steps")
    return loop.result(feedback)


def _play_aec(env, game, units, steps, record_every, seed, x0, diverge_norm, feedback) -> Trajectory:
    """Leader-first rounds: at its turn an agent first learns from the last completed round's feedback
    (``env.feedback_obs``), then acts on this round's committed actions of the levels above
    (``env.x_committed``)."""
    options = None if x0 is None else {"x0": np.asarray(x0, float).reshape(game.d)}
    env.reset(seed=seed, options=options)
    agents = game.agents
    d = game.d
    loop = Loop(game, units, steps, record_every, diverge_norm, 1, seed)
    loop.reset(np.asarray(env.x, float).reshape(1, d), {a: _batch1(env.feedback_obs(a)) for a in agents})
    learners = {unit.agent: unit for unit in units}
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
