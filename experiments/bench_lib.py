"""Two workloads of ``experiments.bench``: N-follower scaling — the default path up to 10⁶ followers (time per
``play`` step and peak memory, one fresh process per N) and the leader's total derivative alone — and PPO on
``SB3VecEnv`` vs ``DummyVecEnv``.

The N-follower path is the one a user takes: ``make("oligopoly", ...)`` with N follower costs,
``n_follower_learners(game)`` (default schedules) and ``play`` on a ``BatchedStackelbergEnv`` (B = 1,
hierarchical feedback, noise std 1). Each N runs in its own spawned process, so its peak resident memory
(``ru_maxrss``: interpreter, imports and the run) is its own. Steps are timed between ``env.step`` calls of a
``play`` run (:class:`ClockedEnv`): the interval between two calls is one whole step — the learners' actions and
updates and the env's step — and nothing of ``play``'s own set-up (binding, reset, the final record: seconds at
10⁶ followers), whose jitter made the earlier ``(t(2K) − t(K))/K`` difference go negative at N = 10⁴–10⁵. A run's
step time is its mean over ``K − 1`` consecutive steps (``K ≥ 100``), so it carries its share of the env's noise
refills (one draw per ~10⁶ values: every 10 steps at N = 10⁵, every step at 10⁶ — a median of single steps would
leave them out at 10⁵ but not at 10⁶); ``step_seconds`` is the median over :data:`TIMED_RUNS` runs (robust to a
run disturbed by the machine's load), ``mean_step_seconds`` the mean over all their steps.
"""

from __future__ import annotations

import math
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Any

import numpy as np

from agents import GradientPlay, PowerSchedule, play
from agents.n_followers import NFollowerLeader, n_follower_learners
from experiments.common import best_time
from stackenv.envs import BatchedStackelbergEnv, StackelbergParallelEnv
from stackenv.games import make
from stackenv.wrappers import SingleAgentEnv

NOISE_STD = math.sqrt(10.0)  # the paper's N(0, 10): variance 10
#: Timed ``play`` runs per N, and the fewest and most steps in one (``K = clip(step_budget / N, MIN, MAX)``).
TIMED_RUNS = 3
MIN_TIMED_STEPS, MAX_TIMED_STEPS = 100, 1000
#: The learner-side Krylov leader is measured up to this N (its second_order feedback holds dense N × N blocks).
KRYLOV_MAX_N = 1000


def oligopoly(N: int):
    """The benchmark's oligopoly: costs spread over [1, 10], demand large enough for an interior equilibrium."""
    return make("oligopoly", A=1000.0 + 20 * N, leader_cost=5.0, follower_costs=np.linspace(1.0, 10.0, N))


class ClockedEnv(BatchedStackelbergEnv):
    """The benchmark's env: a :class:`BatchedStackelbergEnv` that notes the time of every ``step`` call (``stamps``),
    so the interval between two calls is one ``play`` step."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.stamps: list[float] = []

    def step(self, actions: Any):
        self.stamps.append(time.perf_counter())
        return super().step(actions)


def n_follower_point(N: int, steps: int) -> dict[str, Any]:
    """One N of the default path, timed in this process (run it in a fresh one: :func:`n_follower_scaling`):
    :data:`TIMED_RUNS` ``play`` runs of ``steps`` steps, ``steps − 1`` timed steps each (module docstring)."""
    t0 = time.perf_counter()
    game = oligopoly(N)
    env = ClockedEnv(game, num_envs=1, feedback="hierarchical", noise_std=1.0)
    learners = n_follower_learners(game)
    setup = time.perf_counter() - t0
    runs = []  # per run: the mean step over its steps - 1 intervals between env.step calls
    for seed in range(TIMED_RUNS):
        env.stamps.clear()
        play(env, learners, steps, record_every=steps, seed=seed)
        runs.append((env.stamps[-1] - env.stamps[0]) / (len(env.stamps) - 1))
    return {
        "step_seconds": float(np.median(runs)),
        "mean_step_seconds": float(np.mean(runs)),
        "timed_steps": TIMED_RUNS * (steps - 1),
        "setup_seconds": setup,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # KiB on Linux
    }


def _point_in_process(N: int, steps: int) -> dict[str, Any]:
    """:func:`n_follower_point` in a fresh spawned process (its own peak memory)."""
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        return pool.submit(n_follower_point, N, steps).result()


def n_follower_scaling(ns: list[int], step_budget: int) -> dict[str, Any]:
    """Per N (a fresh process each): seconds per ``play`` step (median and mean), set-up seconds and peak RSS in MB;
    ``None`` from the first N whose process fails (e.g. killed for memory), with the error in ``failed``. Each N
    times :data:`TIMED_RUNS` runs of ``K = clip(step_budget / N, MIN_TIMED_STEPS, MAX_TIMED_STEPS)`` steps.

    ``growth_exponent``: the slope of log(step time) over the largest decade measured,
    ``log(t(N_max) / t(N_max / 10)) / log 10`` (``None`` with fewer than two decades)."""
    keys = ("step_seconds", "mean_step_seconds", "setup_seconds", "peak_rss_mb")
    out: dict[str, Any] = {**{key: [] for key in keys}, "failed": None}
    for N in ns:
        steps = int(np.clip(step_budget // N, MIN_TIMED_STEPS, MAX_TIMED_STEPS))
        point = None
        if out["failed"] is None:
            try:
                point = _point_in_process(N, steps)
            except (BrokenProcessPool, MemoryError, ValueError) as exc:
                out["failed"] = f"N={N}: {type(exc).__name__}: {exc}"
        for key in keys:
            out[key].append(None if point is None else point[key])
    t = {N: s for N, s in zip(ns, out["step_seconds"]) if s is not None and s > 0}
    top = [N for N in t if N * 10 in t]
    out["growth_exponent"] = math.log10(t[top[-1] * 10] / t[top[-1]]) if top else None
    out["growth_decade"] = [top[-1], top[-1] * 10] if top else None
    return out


def bench_n_followers(ns: list[int], iters: int, repeats: int, step_budget: int) -> dict[str, Any]:
    """Per N: the default path's ``play`` step time and peak memory (:func:`experiments.bench_lib.n_follower_scaling`,
    with ``growth_exponent`` over the largest decade), and the leader's total derivative alone — the env's
    structured one (hierarchical feedback: the oligopoly's closed-form O(N) ``Df_1``) and the learner-side Krylov
    solve from ``second_order`` blocks (dense N × N: only up to ``KRYLOV_MAX_N``, ``None`` above)."""
    out: dict[str, Any] = {"N": ns, "structured_s": [], "krylov_s": []}
    out.update(n_follower_scaling(ns, step_budget))
    rng = np.random.default_rng(0)
    for N in ns:
        game = oligopoly(N)
        x = game.stackelberg_closed_form()[None] + rng.normal(0, 0.1, (1, game.d))
        out["structured_s"].append(best_time(lambda g=game, x=x: g.omega_S(x), repeats * 5))
        if N > KRYLOV_MAX_N:
            out["krylov_s"].append(None)
            continue
        leader = NFollowerLeader(PowerSchedule(1.0, 1.0), solver="cg").bind(game, "leader", "second_order")
        leader.reset(x[:, :1])
        H22, H21 = game.response_blocks(x, 0)
        obs = {"grad": game.grad(0, x), "H22": H22, "H21": H21}
        out["krylov_s"].append(best_time(lambda lr=leader, o=obs: lr.update(o, None, 1), repeats))
    for key in ("structured", "krylov"):
        measured = [(N, t) for N, t in zip(ns, out[f"{key}_s"]) if t is not None][-3:]
        logn, t = np.log([m[0] for m in measured]), np.log([m[1] for m in measured])
        # fitted over the (up to) three largest N measured, and the local slope between the two largest
        out[f"{key}_exponent"] = float(np.polyfit(logn, t, 1)[0]) if len(measured) >= 2 else float("nan")
        out[f"{key}_exponent_top"] = (
            float((t[-1] - t[-2]) / (logn[-1] - logn[-2])) if len(measured) >= 2 else float("nan")
        )
    # wall time of `iters` full leader iterations at N = 1000 (structured total derivative + step)
    N = 1000
    game = make("oligopoly", A=30000.0, leader_cost=5.0, follower_costs=np.linspace(1.0, 10.0, N).tolist())
    env = BatchedStackelbergEnv(game, num_envs=1, feedback="hierarchical", noise_std=1.0)
    learners = n_follower_learners(game)  # followers' step scaled to their spectrum (stable gradient play)
    t = time.perf_counter()
    traj = play(env, learners, iters, record_every=iters, seed=0)
    out["iterations_at_1000"] = iters
    out["seconds_for_iterations_at_1000"] = time.perf_counter() - t
    # a meaningful run, not a clipped one: the distance to the Stackelberg point must shrink
    target = game.stackelberg_closed_form()
    out["distance_at_1000"] = {
        "start": float(game.distance(traj.x[0, 0], target)),
        "end": float(game.distance(traj.x_final[0], target)),
    }
    return out


def sb3_vec_speedup(n_envs: int, total_timesteps: int, ppo: dict[str, Any]) -> dict[str, Any]:
    """Wall time of PPO ``learn(total_timesteps)`` on ``DummyVecEnv`` over ``n_envs`` ``SingleAgentEnv`` s and on
    one ``SB3VecEnv`` over a ``BatchedStackelbergEnv`` of ``n_envs`` copies, same settings, one process: the
    duopoly leader (actions rescaled to [−1, 1]) against a gradient-play follower, gradient feedback, noise
    variance 10, 20-step episodes."""
    import torch  # here, not at the top: the N-follower processes' memory should not count torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv

    from stackenv.wrappers import SB3VecEnv

    torch.set_num_threads(1)
    game = make("duopoly")
    kw = {"feedback": "gradient", "noise_std": NOISE_STD, "max_steps": 20}

    def single():
        return SingleAgentEnv(StackelbergParallelEnv(game, **kw), "leader", {"follower": GradientPlay()}, True)

    envs = {
        "dummy": DummyVecEnv([single] * n_envs),
        "vec": SB3VecEnv(BatchedStackelbergEnv(game, n_envs, **kw), "leader", {"follower": GradientPlay()}, True),
    }
    secs = {}
    for name, venv in envs.items():
        model = PPO("MlpPolicy", venv, seed=0, device="cpu", **ppo)
        t0 = time.perf_counter()
        model.learn(total_timesteps)
        secs[name] = time.perf_counter() - t0
    return {
        "sb3_vec_speedup": secs["dummy"] / secs["vec"],
        "sb3_vec_seconds": secs["vec"],
        "sb3_dummy_seconds": secs["dummy"],
        "sb3_vec_workload": {"n_envs": n_envs, "total_timesteps": total_timesteps, "ppo": ppo},
    }
