"""Scale of the N-follower path: one ``play`` step at N followers, end to end, and its growth with N (App. C.2).

From ``make("oligopoly", ...)`` with N follower costs, through ``n_follower_learners`` (default schedules) and
``play`` on ``BatchedStackelbergEnv`` (B = 1, hierarchical feedback): the seconds per step and the process's
peak resident memory. Each N runs in a fresh process (``--n``), so peak memory is that N's alone;
:func:`measure` does that from Python and :func:`growth_exponent` turns the times into the exponent over the
largest decade measured. ``experiments.bench`` reports these (``n_follower.step_seconds``,
``n_follower.peak_rss_mb``, ``n_follower.growth_exponent``).

    python -m experiments.n_follower_scale --n 1000000
"""

from __future__ import annotations

import json
import math
import resource
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np

from agents import n_follower_learners, play
from experiments.common import arg, parse_args
from stackenv.envs import BatchedStackelbergEnv
from stackenv.games import make


@dataclass
class Args:
    """Time one play step of the default N-follower learners at N followers (one process per N)."""

    n: int = arg(10_000, "number of followers N")
    steps: int = arg(4, "play steps timed (the first step's share of reset and binding is subtracted)")
    seed: int = arg(0, "seed of the follower costs and of the run")


def oligopoly(N: int, seed: int = 0):
    """A Cournot market with N followers of random unit costs in [1, 10] (both equilibria interior)."""
    costs = np.random.default_rng([seed, N]).uniform(1.0, 10.0, N)
    return make("oligopoly", A=25.0 * (N + 1), leader_cost=1.0, follower_costs=costs)


def step_seconds(N: int, steps: int = 4, seed: int = 0) -> dict[str, float]:
    """Seconds per ``play`` step (from the difference of a 1-step and a ``steps``-step run, so reset and binding
    cancel), the setup seconds (game, env, learners) and this process's peak resident memory in MB."""
    t0 = time.perf_counter()
    game = oligopoly(N, seed)
    env = BatchedStackelbergEnv(game, num_envs=1, feedback="hierarchical", noise_std=1.0)
    setup = time.perf_counter() - t0
    walls = []
    for k in (1, steps):
        learners = n_follower_learners(game)
        t = time.perf_counter()
        play(env, learners, k, record_every=k, seed=seed)
        walls.append(time.perf_counter() - t)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    return {"N": N, "step_seconds": (walls[1] - walls[0]) / (steps - 1), "setup_seconds": setup, "peak_rss_mb": rss_mb}


def measure(N: int, steps: int = 4, seed: int = 0, timeout: float = 600.0) -> dict[str, float]:
    """:func:`step_seconds` in a fresh Python process (so ``peak_rss_mb`` belongs to this N alone)."""
    cmd = [sys.executable, "-m", "experiments.n_follower_scale", "--n", str(N), "--steps", str(steps)]
    cmd += ["--seed", str(seed)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def growth_exponent(ns: list[int], seconds: list[float]) -> float:
    """The exponent of step time over the largest decade measured: the slope of log t vs log N between the
    largest N and the largest N at most a tenth of it (the two largest if no such pair)."""
    ns, seconds = list(ns), list(seconds)
    top = int(np.argmax(ns))
    low = [i for i, n in enumerate(ns) if n <= ns[top] / 10] or [i for i in range(len(ns)) if i != top]
    if not low:
        return math.nan
    j = max(low, key=lambda i: ns[i])
    return float(math.log(seconds[top] / seconds[j]) / math.log(ns[top] / ns[j]))


def main(argv: list[str] | None = None) -> dict[str, float]:
    args = parse_args(Args, argv)
    if args.n < 1 or args.steps < 2:
        raise SystemExit("error: --n must be >= 1 and --steps >= 2")
    out = step_seconds(args.n, args.steps, args.seed)
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
