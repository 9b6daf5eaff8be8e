"""Game-side scaling workloads of ``experiments.bench`` (issue 10: "the same for a 1-leader/N-follower ``lq`` game
… and the K-level chain for K up to 100 levels").

``chain``: ``make("chain", K=100)`` → ``chain_learners`` (default, curvature-scaled schedules) → ``play`` on a
``BatchedStackelbergEnv`` (B = 1, hierarchical feedback, noise-free so that the run can be checked against the
Stackelberg point). A step's time is the median interval between consecutive ``env.step`` calls of one ``play``
run of ``steps`` steps (``ClockedEnv``: none of play's set-up); ``peak_traced_mb`` is the tracemalloc peak of
make + learners + env + 10 steps (what the path allocates, without the interpreter); ``equilibrium_error`` is the
largest difference between the closed-form Stackelberg point and the zero of the generic bottom-up recursion's
``(ω_S, J_S)`` (:mod:`stackenv.games.stackelberg`, H22 adjoint solves level by level), solved densely;
``distance`` is the learners' distance to the closed-form point at the start and after the run.

``lq_followers``: per N, ``make("lq_followers", followers=N)`` (horizon 4, 2 states, scalar controls), the set-up
seconds, one ``omega_S`` (best of ``repeats``; O(N) by Woodbury, :mod:`stackenv.games.lq_followers`), the
tracemalloc peak of one ``omega_S`` call, and one ``play`` step of the default N-follower path
(``n_follower_learners``, ``BatchedStackelbergEnv`` B = 1, hierarchical feedback, no noise): the median interval
between consecutive ``env.step`` calls of one ``play`` run of :data:`STEPS` steps (``ClockedEnv``);
``omega_S_exponent`` / ``step_exponent``: the slopes of log time over the largest decade measured.
"""

from __future__ import annotations

import time
import tracemalloc
import warnings
from typing import Any

import numpy as np

from agents import chain_learners, play
from agents.n_followers import n_follower_learners
from experiments.bench_lib import ClockedEnv
from experiments.common import best_time
from stackenv.games import make, stackelberg


def _chain_path(K: int):
    game = make("chain", K=K)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        learners = chain_learners(game)
    return game, learners, ClockedEnv(game, num_envs=1, feedback="hierarchical")


def bench_chain(K: int, steps: int) -> dict[str, Any]:
    """The K-level chain path (module docstring): step time, set-up time, traced peak memory, accuracy."""
    tracemalloc.start()
    game, learners, env = _chain_path(K)
    play(env, learners, 10, seed=0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    t0 = time.perf_counter()
    game, learners, env = _chain_path(K)
    setup = time.perf_counter() - t0
    traj = play(env, learners, steps, record_every=steps, seed=0)
    target = game.stackelberg_closed_form()
    om, JS = stackelberg.stackelberg_terms(game, np.zeros(game.d))
    generic = np.linalg.solve(JS, -om)
    return {
        "K": K,
        "step_seconds": float(np.median(np.diff(env.stamps))),
        "timed_steps": len(env.stamps) - 1,
        "setup_seconds": setup,
        "peak_traced_mb": peak / 2**20,
        "equilibrium_error": float(np.abs(generic - target).max()),
        "distance": {
            "start": float(game.distance(traj.x[0, 0], target)),
            "end": float(game.distance(traj.x_final[0], target)),
            "steps": steps,
        },
    }


def chain_rows(res: dict[str, Any]) -> list[list[str]]:
    """The benchmark table's row for ``res["chain"]`` (none where the run has no ``chain`` entry)."""
    ch = res.get("chain")
    if ch is None:
        return []
    return [
        [
            f"K-level chain, K = {ch['K']}: one `play` step (s) / traced peak (MB) / distance to the Stackelberg "
            f"point after {ch['distance']['steps']} steps",
            f"{ch['step_seconds']:.3g} / {ch['peak_traced_mb']:.1f} / {ch['distance']['end']:.1e}",
            f"closed form vs generic recursion {ch['equilibrium_error']:.1e}",
            "",
            "≤ 0.2 s",
        ]
    ]


#: Steps of the timed ``lq_followers`` run (``STEPS − 1`` intervals; at 10⁶ followers a step takes ~seconds).
STEPS = 6


def _decade_slope(ns: list[int], ts: list[float]) -> float | None:
    t = dict(zip(ns, ts))
    top = [N for N in t if N * 10 in t and t[N] > 0 and t[N * 10] > 0]
    return float(np.log10(t[top[-1] * 10] / t[top[-1]])) if top else None


def bench_lq_followers(ns: list[int], repeats: int) -> dict[str, Any]:
    """The N-follower ``lq_followers`` path per N (module docstring)."""
    out: dict[str, Any] = {
        "N": ns,
        "setup_seconds": [],
        "omega_S_seconds": [],
        "omega_S_traced_mb": [],
        "step_seconds": [],
    }
    for N in ns:
        t0 = time.perf_counter()
        game = make("lq_followers", followers=N)
        out["setup_seconds"].append(time.perf_counter() - t0)
        x = np.full((1, game.d), 0.1)
        out["omega_S_seconds"].append(best_time(lambda g=game, x=x: g.omega_S(x), repeats))
        tracemalloc.start()
        game.omega_S(x)
        out["omega_S_traced_mb"].append(tracemalloc.get_traced_memory()[1] / 2**20)
        tracemalloc.stop()
        env = ClockedEnv(game, num_envs=1, feedback="hierarchical")
        play(env, n_follower_learners(game), STEPS, record_every=STEPS, seed=0)
        out["step_seconds"].append(float(np.median(np.diff(env.stamps))))
    out["omega_S_exponent"] = _decade_slope(ns, out["omega_S_seconds"])
    out["step_exponent"] = _decade_slope(ns, out["step_seconds"])
    return out


def lq_rows(res: dict[str, Any]) -> list[list[str]]:
    """The benchmark table's rows for ``res["lq_followers"]`` (none where the run has no such entry)."""
    lq = res.get("lq_followers")
    if lq is None:
        return []
    rows = [
        [
            f"`lq_followers`, N = {N:,}: `omega_S` (s) / its traced peak (MB) / one `play` step (s)",
            f"{om:.3g} / {mb:.1f} / {st:.3g}",
            "",
            "",
            "≤ 0.2 s (step, N = 10⁶)" if N == 10**6 else "",
        ]
        for N, om, mb, st in zip(lq["N"], lq["omega_S_seconds"], lq["omega_S_traced_mb"], lq["step_seconds"])
    ]
    return rows
