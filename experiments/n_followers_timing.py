"""App. C.2 of Fiez, Chasnov & Ratliff at scale: the cost of one update of the N-follower leader vs N.

Three ways to compute the leader's total derivative Df_1 = ∇_1 f_1 − H21ᵀ H22⁻ᵀ ∇_F f_1 and step on it, timed on
the oligopoly (``make("oligopoly", ...)``, the market of ``experiments.n_followers_oligopoly``) at its Nash point:

- ``structured O(N)``: the game's Sherman–Morrison field ``omega_S`` (what the env computes under
  ``hierarchical`` feedback) and the leader's step; also timed on ``--timing-batch`` runs at once (seconds per
  run): one run is overhead-bound up to N ≈ 10⁴, the batch shows the O(N) work;
- ``Krylov (CG) on dense H22``: the N-follower learner's update on ``second_order`` blocks (running block
  averages and a CG adjoint solve on the dense H22, O(N²) memory traffic), up to ``--dense-max-n``;
- ``dense LU solve``: a dense LU adjoint solve, O(N³), the reference the other two avoid.

Writes ``n_followers_timing.png`` (wall time per update vs N, log-log, with slopes fitted over N ≥ 100),
``table.md`` and the JSON summary ``{"experiment", "timing_seconds_per_leader_update": {method: {N: seconds}},
"timing_slopes": {method: slope}}``.

    python -m experiments.n_followers_timing --out results/n_followers_timing
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from agents import NFollowerLeader, PowerSchedule
from experiments.common import arg, best_time, markdown_table, parse_args, write_json
from experiments.n_followers_lib import MarketArgs, StudyArgs, oligopoly
from experiments.plotting import save, setup_matplotlib


@dataclass
class Args(MarketArgs, StudyArgs):
    """The cost of one leader update vs the number of followers N (structured, Krylov, dense LU).

    Takes ``--json`` and ``--out`` but not ``--seeds``/``--steps``: it times single updates, best of repeats.
    """

    out: Path = arg(Path("results/n_followers_timing"), "folder for figures and tables")
    timing_ns: list[int] = arg([1, 3, 10, 30, 100, 300, 1000, 2000, 3000, 10000], "N values timed")
    timing_batch: int = arg(256, "batch size of the extra batched timing of the structured update")
    dense_max_n: int = arg(2000, "time the dense (Krylov, LU) leader updates only up to this N")

    def validate(self) -> None:
        if self.timing_ns and min(self.timing_ns) < 1:
            raise ValueError(f"--timing-ns must list positive follower counts, got {self.timing_ns}")
        if self.timing_batch < 1:
            raise ValueError(f"--timing-batch must be positive, got {self.timing_batch}")


def time_leader_updates(args: Args) -> dict[str, dict[int, float]]:
    """Seconds per leader update vs N, per method of the module docstring (best of repeats, after a warm-up)."""
    batched = f"structured O(N), {args.timing_batch} runs batched (per run)"
    out: dict[str, dict[int, float]] = {
        "structured O(N)": {},
        batched: {},
        "Krylov (CG) on dense H22": {},
        "dense LU solve": {},
    }
    for N in tqdm(args.timing_ns, desc="timing", disable=not args.progress):
        game = oligopoly(args, N)
        x = game.nash_closed_form()[None]
        for key, B in (("structured O(N)", 1), (batched, args.timing_batch)):
            xb = np.repeat(x, B, axis=0)
            leader = NFollowerLeader(PowerSchedule(1.0, 1.0)).bind(game, "leader", "hierarchical")
            leader.reset(xb[:, :1])
            reps = 30 if B * N <= 10**6 else 5
            out[key][N] = best_time(partial(_structured_update, leader, game, xb), reps, warmup=True) / B
        if N > args.dense_max_n:
            continue
        H22, H21 = game.response_blocks(x, 0)
        g = game.grad(0, x)
        krylov = NFollowerLeader(PowerSchedule(1.0, 1.0)).bind(game, "leader", "second_order")
        krylov.reset(x[:, :1])
        reps = 30 if N <= 300 else 5
        obs = {"grad": g, "H22": H22, "H21": H21}
        out["Krylov (CG) on dense H22"][N] = best_time(partial(krylov.update, obs, None, 2), reps, warmup=True)
        out["dense LU solve"][N] = best_time(partial(_dense_lu_df1, g, H22, H21), reps, warmup=True)
    return out


def _structured_update(leader, game, x: np.ndarray) -> None:
    """The env's O(N) Df_1 (the game's ``omega_S``) and the leader's step on it."""
    leader.update(game.omega_S(x)[:, :1], None, 1)


def _dense_lu_df1(g: np.ndarray, H22: np.ndarray, H21: np.ndarray) -> np.ndarray:
    """Reference Df_1 by a dense LU adjoint solve ``H22ᵀ v = ∇_F f_1`` (the followers' Jacobian): O(N³)."""
    v = np.linalg.solve(np.swapaxes(H22, -1, -2), g[:, 1:, None])[..., 0]
    return g[:, :1] - np.einsum("bmo,bm->bo", H21, v)


def fit_slope(times: dict[int, float], n_min: int = 100) -> float:
    """Least-squares slope of log(time) vs log(N) over N ≥ n_min (smaller N are overhead-dominated)."""
    ns = np.array([n for n in times if n >= n_min], float)
    if len(ns) < 2:
        return math.nan
    ts = np.array([times[int(n)] for n in ns])
    return float(np.polyfit(np.log(ns), np.log(ts), 1)[0])


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(Args, argv)
    args.out.mkdir(parents=True, exist_ok=True)

    # GAME + LEARN: one oligopoly per N at its Nash point, each leader update timed
    timings = time_leader_updates(args)

    # REPORT: slopes, the table, the figure, JSON
    slopes = {name: fit_slope(t) for name, t in timings.items()}
    table = timing_table(timings, slopes)
    (args.out / "table.md").write_text(table + "\n")
    plot_timing(timings, slopes, args.out / "n_followers_timing.png", args.format)
    print(table)
    summary = {
        "experiment": "n_followers_timing",
        "timing_seconds_per_leader_update": timings,
        "timing_slopes": slopes,
    }
    write_json(args.json, summary)
    return summary


def timing_table(timings: dict, slopes: dict) -> str:
    """Per method: the fitted slope and the time per update at every N."""
    rows = [
        [name, f"{slopes[name]:.2f}", ", ".join(f"N={n}: {t * 1e6:.3g} µs" for n, t in t_n.items())]
        for name, t_n in timings.items()
    ]
    return markdown_table(["leader update", "fitted slope (N ≥ 100)", "time per update"], rows)


def plot_timing(timings: dict, slopes: dict, path: Path, fmt: str = "png") -> None:
    """Wall time of one leader update vs N, log-log, with fitted slopes."""
    plt = setup_matplotlib()
    fig, ax = plt.subplots(figsize=(7, 5))
    styles = [("tab:green", "o", "-"), ("tab:green", "o", "--"), ("tab:orange", "s", "-"), ("tab:gray", "^", "-")]
    for (name, t_n), (color, marker, ls) in zip(timings.items(), styles):
        if not t_n:
            continue
        ns = np.array(list(t_n))
        ts = np.array(list(t_n.values()))
        ax.plot(ns, ts * 1e6, marker=marker, color=color, ls=ls, lw=1.3, label=f"{name}: slope {slopes[name]:.2f}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("number of followers N")
    ax.set_ylabel("wall time per leader update (µs, best of repeats)")
    ax.set_title("Cost of the leader's update vs N\n(slopes fitted over N ≥ 100; below, Python overhead dominates)")
    ax.legend(fontsize=8)
    ax.grid(True, which="major", alpha=0.3)
    fig.tight_layout()
    save(fig, path, fmt)


if __name__ == "__main__":
    main()
