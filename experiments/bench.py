"""Benchmarks: env steps/s, batched learning vs hand-written numpy, the N-follower path up to 10⁶ followers, PPO on
the vectorised single-agent env, tournament time.

    python -m experiments.bench [--json results/bench.json]          # the standard workloads
    python -m experiments.bench --tiny                                # seconds; what the tests run
    python -m experiments.bench --json docs/bench.json --readme README.md   # refresh the README's table

Every rate is measured in this process, next to its reference, so ratios are like for like. The JSON has
``machine`` (cores, CPU model, Python, NumPy, load average), ``env_steps_per_s`` (+ ``bare_env_steps_per_s`` and
``env_ratio``), ``batched_game_steps_per_s`` (+ ``handwritten_game_steps_per_s``, ``batched_ratio``),
``n_follower`` (per N in ``N`` — decades up to ``--max-n``: the default path's ``step_seconds``,
``setup_seconds`` and ``peak_rss_mb``, one process per N, with ``growth_exponent`` over the largest decade
(``growth_decade``) and ``failed``; leader-update times ``structured_s``/``krylov_s`` with their fitted
exponents; the wall time of 1,000 iterations at N = 1000), ``sb3_vec_speedup`` (+ ``sb3_vec_seconds``,
``sb3_dummy_seconds``, ``sb3_vec_workload``), ``chain`` and ``lq_followers`` (:mod:`experiments.bench_games`)
and ``tournament_seconds``.

Profile notes (what was slow and what changed, measured): ``docs/profiling.md``.
"""

from __future__ import annotations

import contextlib
import io
import os
import platform
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pettingzoo import ParallelEnv

from agents import GradientPlay, HierarchicalLeader, PowerSchedule, play
from experiments.bench_games import bench_chain, bench_lq_followers, chain_rows, lq_rows
from experiments.bench_lib import KRYLOV_MAX_N, NOISE_STD, bench_n_followers, sb3_vec_speedup
from experiments.common import arg, best_time, markdown_table, parse_args, write_json
from stackenv.envs import BatchedStackelbergEnv, StackelbergParallelEnv
from stackenv.games import make

#: PPO settings of the SB3VecEnv-vs-DummyVecEnv benchmark (64 envs × 64 steps per rollout).
SB3_PPO = {"n_steps": 64, "batch_size": 512, "n_epochs": 4}
README_START, README_END = "<!-- bench-table -->", "<!-- /bench-table -->"
#: The standard tournament's 5 × 5 rules (issue 6): every leader rule kind (Stackelberg, Nash, opponent
#: shaping, optimistic, bandit) against every follower-capable rule.
STANDARD_LEADERS = ("hierarchical", "gradient", "lola", "optimistic", "zeroth_order")
STANDARD_FOLLOWERS = ("best_response", "chain", "gradient", "optimistic", "zeroth_order")


@dataclass
class Args:
    """Benchmark the suite's hot paths against hand-written references.

    Takes ``--json`` but not ``--seeds``/``--steps``/``--out``: the workloads are fixed so that numbers compare
    across machines and commits (``--tiny`` shrinks them for tests), and it writes no figures.
    """

    json: Path | None = arg(None, "path of the JSON results (none: not written)")
    tiny: bool = arg(False, "tiny workloads (seconds): checks that every benchmark runs, numbers meaningless")
    repeats: int = arg(3, "timing repeats; the best is reported")
    tournament: bool = arg(True, "run the standard tournament (the slowest benchmark)")
    max_n: int = arg(10**6, "largest N of the default N-follower path (decades from 10; the targets are at 10**6)")
    readme: Path | None = arg(None, "also rewrite this README's benchmark table from this run")


def machine() -> dict[str, Any]:
    """Cores, CPU model and library versions of this machine."""
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "load_average": os.getloadavg()[0],  # other processes' demand when the run started (shared machines)
    }


# ---------------------------------------------------------------------- 1. PettingZoo env
class BareDuopolyEnv(ParallelEnv):
    """The reference: a ParallelEnv doing only the duopoly's gradient arithmetic and Gaussian noise, no checks."""

    metadata = {"name": "bare_duopoly"}

    def __init__(self, A=100.0, c=(5.0, 2.0), noise_std=NOISE_STD):
        self.A, self.c1, self.c2, self.s = A, c[0], c[1], noise_std
        self.possible_agents = ["leader", "follower"]
        self.agents = list(self.possible_agents)

    def reset(self, seed=None, options=None):
        self.rng = np.random.default_rng(seed)
        self.agents = list(self.possible_agents)
        return {"leader": np.zeros(1, np.float32), "follower": np.zeros(1, np.float32)}, {"leader": {}, "follower": {}}

    def step(self, actions):
        q1, q2 = float(actions["leader"][0]), float(actions["follower"][0])
        w = self.rng.standard_normal(2)
        g1 = -(self.A - 2 * q1 - q2 - self.c1) + self.s * w[0]
        g2 = -(self.A - q1 - 2 * q2 - self.c2) + self.s * w[1]
        p = self.A - q1 - q2
        obs = {"leader": np.array([g1], np.float32), "follower": np.array([g2], np.float32)}
        rew = {"leader": (p - self.c1) * q1, "follower": (p - self.c2) * q2}
        flags = {"leader": False, "follower": False}
        return obs, rew, flags, dict(flags), {"leader": {}, "follower": {}}


def bench_env(steps: int, repeats: int) -> dict[str, float]:
    """Steps/s of the PettingZoo parallel env (duopoly, gradient feedback, noise) vs the bare env."""
    actions = {"leader": np.array([40.0], np.float32), "follower": np.array([30.0], np.float32)}

    def run(env):
        env.reset(seed=0)
        step = env.step
        for _ in range(steps):
            step(actions)

    ours = StackelbergParallelEnv(make("duopoly"), feedback="gradient", noise_std=NOISE_STD, max_steps=None)
    bare = BareDuopolyEnv()
    t_ours, t_bare = best_time(lambda: run(ours), repeats), best_time(lambda: run(bare), repeats)
    return {
        "env_steps_per_s": steps / t_ours,
        "bare_env_steps_per_s": steps / t_bare,
        "env_ratio": t_bare / t_ours,
    }


# ---------------------------------------------------------------------- 2. batched learning
def handwritten_stackelberg(B: int, K: int, seed: int = 0) -> np.ndarray:
    """The standard workload as a minimal numpy loop: Df_1 = ∇_1 f_1 − q_1/2, γ_1 = 1/k, γ_2 = 1/k^{2/3}."""
    A, c1, c2 = 100.0, 5.0, 2.0
    rng = np.random.default_rng(seed)
    q1, q2 = rng.uniform(0, A, B), rng.uniform(0, A, B)
    for k in range(1, K + 1):
        w = rng.standard_normal((2, B)) * NOISE_STD
        df1 = -(A - 2 * q1 - q2 - c1) - q1 / 2 + w[0]
        g2 = -(A - q1 - 2 * q2 - c2) + w[1]
        q1 = np.clip(q1 - df1 / k, 0, A)
        q2 = np.clip(q2 - g2 / k ** (2 / 3), 0, A)
    return np.stack([q1, q2], -1)


def library_stackelberg(B: int, K: int, seed: int = 0):
    """The same workload through the public API: batched env + hierarchical leader + gradient follower + play."""
    env = BatchedStackelbergEnv(make("duopoly"), num_envs=B, feedback="hierarchical", noise_std=NOISE_STD)
    learners = {
        "leader": HierarchicalLeader(PowerSchedule(1.0, 1.0)),
        "follower": GradientPlay(PowerSchedule(1.0, 2 / 3)),
    }
    return play(env, learners, K, record_every=max(K // 10, 1), seed=seed)


def bench_batched(B: int, K: int, repeats: int) -> dict[str, Any]:
    t_lib = best_time(lambda: library_stackelberg(B, K), repeats)
    t_hand = best_time(lambda: handwritten_stackelberg(B, K), repeats)
    final = library_stackelberg(B, K).x_final
    game = make("duopoly")
    return {
        "batched_game_steps_per_s": B * K / t_lib,
        "handwritten_game_steps_per_s": B * K / t_hand,
        "batched_ratio": t_hand / t_lib,
        "batched_workload": {
            "B": B,
            "K": K,
            "median_distance_to_stackelberg": float(np.median(game.distance(final, game.stackelberg_closed_form()))),
        },
    }


# ---------------------------------------------------------------------- 4. tournament
def bench_tournament(seeds: int, steps: int) -> dict[str, Any]:
    from experiments import tournament

    leaders = list(STANDARD_LEADERS)
    followers = list(STANDARD_FOLLOWERS)
    with tempfile.TemporaryDirectory() as tmp:
        argv = [
            "--games",
            "duopoly",
            "torus",
            "zero_sum",
            "--leaders",
            *leaders,
            "--followers",
            *followers,
            "--seeds",
            str(seeds),
            "--steps",
            str(steps),
            "--out",
            tmp,
            "--progress",
            "false",
        ]
        t = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # its leaderboards would bury the benchmark table
            tournament.main(argv)
        secs = time.perf_counter() - t
    return {
        "tournament_seconds": secs,
        "tournament_workload": {"leaders": leaders, "followers": followers, "games": 3, "seeds": seeds, "steps": steps},
    }


def _g(v: float | None, fmt: str = ".3g") -> str:
    return "—" if v is None else format(v, fmt)


def table(res: dict[str, Any]) -> str:
    """The benchmark table from a result dict (what ``main`` prints, and the README's block)."""
    m, nf, bw, sw = res["machine"], res["n_follower"], res["batched_workload"], res["sb3_vec_workload"]
    rows = [
        [
            "PettingZoo parallel env steps/s (duopoly, gradient, noise)",
            _g(res["env_steps_per_s"]),
            f"bare ParallelEnv {_g(res['bare_env_steps_per_s'])}",
            _g(res["env_ratio"], ".2f"),
            "≥ 0.5",
        ],
        [
            f"batched game-steps/s (B={bw['B']}, K={bw['K']}; `play` + `BatchedStackelbergEnv`)",
            _g(res["batched_game_steps_per_s"]),
            f"hand-written numpy {_g(res['handwritten_game_steps_per_s'])}",
            _g(res["batched_ratio"], ".2f"),
            "≥ 0.5",
        ],
        [
            f"PPO `learn({sw['total_timesteps']})`, {sw['n_envs']} envs (s): `SB3VecEnv` vs `DummyVecEnv` of "
            "`SingleAgentEnv`s",
            _g(res["sb3_vec_seconds"]),
            f"DummyVecEnv {_g(res['sb3_dummy_seconds'])}",
            _g(res["sb3_vec_speedup"], ".2f") + "× faster",
            "≥ 2×",
        ],
    ]
    for N, step, rss in zip(nf["N"], nf["step_seconds"], nf["peak_rss_mb"]):
        target = "≤ 0.2 s / ≤ 2000 MB" if N == 10**6 else ""
        rows.append(
            [
                f"default N-follower path, N = {N:,}: one `play` step (s) / peak RSS (MB)",
                f"{_g(step)} / {_g(rss, '.0f')}",
                "",
                "",
                target,
            ]
        )
    if nf["growth_decade"] is not None:
        a, b = nf["growth_decade"]
        rows.append(
            [f"growth exponent of that step time, N = {a:,}…{b:,}", _g(nf["growth_exponent"], ".2f"), "", "", "≤ 1.1"]
        )
    if nf["failed"]:
        rows.append([f"default N-follower path failed at {nf['failed'].split(':')[0]}", "", "", "", ""])
    rows += [
        [
            "N-follower leader update, fitted exponent (structured O(N) / Krylov on dense blocks, N ≤ "
            f"{KRYLOV_MAX_N:,})",
            f"{nf['structured_exponent']:.2f} / {nf['krylov_exponent']:.2f}",
            f"local slope {nf['structured_exponent_top']:.2f} / {nf['krylov_exponent_top']:.2f}",
            "",
            "≤ 2",
        ],
        [
            f"{nf['iterations_at_1000']} `play` iterations at N=1000 (s)",
            _g(nf["seconds_for_iterations_at_1000"]),
            "",
            "",
            "≤ 10",
        ],
    ]
    rows += chain_rows(res) + lq_rows(res)
    if res["tournament_seconds"] is not None:
        tw = res["tournament_workload"]
        rows.append(
            [
                f"standard tournament, 5 × 5 rules × {tw['games']} games × {tw['seeds']} seeds × {tw['steps']} "
                "steps, loky (s)",
                _g(res["tournament_seconds"]),
                "",
                "",
                "≤ 60",
            ]
        )
    head = (
        f"Machine: {m['cores']} cores, {m['cpu_model']}, Python {m['python']}, NumPy {m['numpy']}, load average "
        f"{m['load_average']:.1f} at the start (`python -m experiments.bench`, one run)."
    )
    return head + "\n\n" + markdown_table(["benchmark", "ours", "reference", "ratio", "target"], rows)


def write_readme(path: Path, res: dict[str, Any]) -> None:
    """Replace the block between ``<!-- bench-table -->`` and ``<!-- /bench-table -->`` in ``path``."""
    text = path.read_text()
    start, end = text.index(README_START) + len(README_START), text.index(README_END)
    path.write_text(text[:start] + "\n" + table(res) + "\n" + text[end:])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(Args, argv)
    warnings.simplefilter("ignore")
    if args.tiny:
        ns = [10, 100, 1000]
        sizes = {"env": 2000, "B": 50, "K": 50, "iters": 20, "seeds": 2, "steps": 20, "budget": 1000}
        sb3 = {"n_envs": 8, "total_timesteps": 128, "ppo": {"n_steps": 8, "batch_size": 64, "n_epochs": 1}}
    else:
        ns = [10**k for k in range(1, 7) if 10**k <= args.max_n]
        sizes = {"env": 100_000, "B": 1000, "K": 2000, "iters": 1000, "seeds": 64, "steps": 2000, "budget": 10**5}
        sb3 = {"n_envs": 64, "total_timesteps": 64 * 64 * 4, "ppo": dict(SB3_PPO)}
    res: dict[str, Any] = {"machine": machine(), "tiny": args.tiny}
    res.update(bench_env(sizes["env"], args.repeats))
    res.update(bench_batched(sizes["B"], sizes["K"], args.repeats))
    res["n_follower"] = bench_n_followers(ns, sizes["iters"], args.repeats, sizes["budget"])
    res.update(sb3_vec_speedup(sb3["n_envs"], sb3["total_timesteps"], sb3["ppo"]))
    res["chain"] = bench_chain(100, 100 if args.tiny else 2000)  # issue 10: K = 100 levels
    res["lq_followers"] = bench_lq_followers(ns, args.repeats)  # issue 10: the N-follower lq game
    if args.tournament:
        res.update(bench_tournament(sizes["seeds"], sizes["steps"]))
    else:  # every key is always present; null says "not measured in this run"
        res.update({"tournament_seconds": None, "tournament_workload": None})
    print(table(res))
    write_json(args.json, res)
    if args.readme is not None:
        write_readme(args.readme, res)
    return res


if __name__ == "__main__":
    main()
