"""Fig. 1 of Fiez, Chasnov & Ratliff (§4.1): Nash vs Stackelberg (and LOLA) learning in the Cournot duopoly.

Runs simultaneous gradient play ("nash", γ_k = 1/k for both firms), the two-timescale hierarchical
learner ("stackelberg", γ_1 = 1/k, γ_2 = 1/k^{2/3}) and LOLA (leader lookahead η against a gradient-play
follower) on the batched env with noisy gradient feedback (variance 10, i.e. std √10, as in the paper),
one run per seed. Writes production and profit paths (mean and 10–90% band over seeds, equilibria
marked), a Markdown table of exact equilibria vs where the runs ended vs the paper's numbers, and the
JSON summary.

    python -m experiments.duopoly --seeds 64 --steps 5000 --out results/duopoly --json results/duopoly.json
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from agents import GradientPlay, HierarchicalLeader, PowerSchedule, play
from agents.lola import LOLA, lola_fixed_point
from experiments.common import arg, markdown_table, parse_args, run_summary, setup_matplotlib, write_json
from stackenv.envs import BatchedStackelbergEnv
from stackenv.games import make

#: The paper's reported numbers (§4.1), rounded as printed there.
PAPER = {
    "nash": {"q": (30.67, 33.67), "profit": (944.4, 1114.7)},
    "stackelberg": {"q": (46.0, 26.0), "profit": (1048.2, 659.9)},
}


@dataclass
class Args:
    """Reproduce §4.1 / Fig. 1 (duopoly): Nash vs Stackelberg vs LOLA learning dynamics."""

    seeds: int = arg(32, "number of independent runs (one seed each)")
    steps: int = arg(3000, "learning steps K per run")
    out: Path = arg(Path("results/duopoly"), "folder for figures and tables")
    json: Path | None = arg(None, "path of the JSON summary (none: not written)")
    seed: int = arg(0, "base seed; run b uses seed + b")
    A: float = arg(100.0, "demand intercept")
    c: list[float] = arg([5.0, 2.0], "unit costs (c_1, c_2)")
    noise_var: float = arg(10.0, "variance of the gradient noise (paper: 10, i.e. std √10)")
    lola_lookahead: float = arg(0.25, "LOLA's constant lookahead η (the follower step it anticipates)")
    record_every: int = arg(1, "store every n-th step of the paths")
    progress: bool = arg(True, "show a progress bar")

    def validate(self) -> None:
        if self.seeds < 1 or self.steps < 1 or self.record_every < 1:
            raise ValueError("--seeds, --steps and --record-every must be positive")
        if self.noise_var < 0:
            raise ValueError(f"--noise-var must be non-negative, got {self.noise_var}")
        if len(self.c) != 2:
            raise ValueError(f"--c takes two unit costs, got {self.c}")


def dynamics(args: Args) -> dict[str, tuple[dict, str]]:
    """The learner pairings compared, each with the env feedback mode it runs under."""
    one_over_k = PowerSchedule(1.0, 1.0)
    return {
        "nash": ({"leader": GradientPlay(one_over_k), "follower": GradientPlay(one_over_k)}, "gradient"),
        "stackelberg": (
            {"leader": HierarchicalLeader(one_over_k), "follower": GradientPlay(PowerSchedule(1.0, 2 / 3))},
            "hierarchical",
        ),
        "lola": (
            {
                "leader": LOLA(one_over_k, lookahead=args.lola_lookahead),
                "follower": GradientPlay(PowerSchedule(1.0, 2 / 3)),
            },
            "second_order",
        ),
    }


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(Args, argv)
    args.out.mkdir(parents=True, exist_ok=True)
    game = make("duopoly", A=args.A, c=args.c)
    targets = {
        "nash": game.nash_closed_form(),
        "stackelberg": game.stackelberg_closed_form(),
        "lola": lola_fixed_point(game, args.lola_lookahead),
    }
    trajs = {}
    for name, (learners, feedback) in tqdm(dynamics(args).items(), desc="duopoly", disable=not args.progress):
        env = BatchedStackelbergEnv(game, num_envs=args.seeds, feedback=feedback, noise_std=math.sqrt(args.noise_var))
        trajs[name] = play(env, learners, args.steps, record_every=args.record_every, seed=args.seed)

    runs = [
        run_summary(game, name, args.steps, tr.x_final, targets[name], noise_std=math.sqrt(args.noise_var))
        for name, tr in trajs.items()
    ]
    table = results_table(game, trajs, targets)
    (args.out / "table.md").write_text(table + "\n")
    plot_paths(game, trajs, targets, args.out / "duopoly_paths.png")
    print(table)
    summary = {"experiment": "duopoly", "runs": runs}
    write_json(args.json, summary)
    return summary


def results_table(game, trajs, targets) -> str:
    """Exact equilibria and profits, where the runs ended (mean ± sd over seeds), the paper's numbers."""
    rows = []
    at_paper = game.A == 100.0 and np.allclose(game.c, (5.0, 2.0))  # the paper's numbers only apply there
    for name, tr in trajs.items():
        x_star = targets[name]
        profit_star = -game.costs(x_star)
        final = tr.x_final
        paper = PAPER.get(name) if at_paper else None
        rows.append(
            [
                name,
                f"({x_star[0]:.2f}, {x_star[1]:.2f})",
                f"({profit_star[0]:.1f}, {profit_star[1]:.1f})",
                "(" + ", ".join(f"{final[:, i].mean():.2f} ± {final[:, i].std():.2f}" for i in (0, 1)) + ")",
                f"{np.median(game.distance(final, x_star)):.3g}",
                f"({paper['q'][0]}, {paper['q'][1]})" if paper else "—",
                f"({paper['profit'][0]}, {paper['profit'][1]})" if paper else "—",
            ]
        )
    return markdown_table(
        [
            "dynamics",
            "exact equilibrium q*",
            "exact profits π(q*)",
            "runs ended at (mean ± sd)",
            "median distance",
            "paper q*",
            "paper profits",
        ],
        rows,
    )


def plot_paths(game, trajs, targets, path: Path) -> None:
    """Fig. 1: production (a) and profit (b) paths, mean and 10–90% band over seeds, equilibria dashed."""
    plt = setup_matplotlib()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    colors = {"nash": "tab:blue", "stackelberg": "tab:red", "lola": "tab:green"}
    for name, tr in trajs.items():
        keep = tr.steps >= 1  # log-scaled iteration axis: start at k = 1
        k = tr.steps[keep]
        profits = -tr.costs
        for ax, series in ((axes[0], tr.x), (axes[1], profits)):
            for firm, style in ((0, "-"), (1, ":")):
                y = series[keep, :, firm]
                mid = np.nanmean(y, axis=1)  # the mean path over seeds (Fig. 1), with the 10–90% spread
                lo, hi = np.nanpercentile(y, [10, 90], axis=1)
                label = f"{name}, firm {firm + 1} ({'leader' if firm == 0 else 'follower'})"
                ax.plot(k, mid, style, color=colors[name], label=label, lw=1.4)
                ax.fill_between(k, lo, hi, color=colors[name], alpha=0.12)
        for firm in (0, 1):
            axes[0].axhline(targets[name][firm], color=colors[name], lw=0.8, ls="--", alpha=0.7)
            axes[1].axhline(-game.costs(targets[name])[firm], color=colors[name], lw=0.8, ls="--", alpha=0.7)
    for ax, ylabel, title in (
        (axes[0], r"quantity $q_i$ (units)", "(a) production paths (dashed: equilibria)"),
        (axes[1], r"profit $\pi_i = -f_i$ (money)", "(b) profit paths (dashed: equilibrium profits)"),
    ):
        ax.set_xscale("log")
        ax.set_xlabel("iteration k")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
    eq_profits = np.concatenate([-game.costs(t) for t in targets.values()])
    axes[1].set_ylim(0.5 * eq_profits.min(), 1.3 * eq_profits.max())  # early transients leave the frame
    axes[0].legend(fontsize=7, ncol=2)
    fig.suptitle(f"Duopoly A={game.A:g}, c={tuple(game.c.tolist())}: mean and 10–90% band over seeds")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
