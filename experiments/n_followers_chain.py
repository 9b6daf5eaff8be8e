"""App. C.1 of Fiez, Chasnov & Ratliff: a 3-level chain of Cournot firms learns the backward-induction quantities.

``make("hierarchy", ...)`` with unit costs ``--chain-costs`` (top level first); ``chain_learners`` with the default
exponents 1, 0.8, 0.6 (levels top-down), each level's scale divided by the curvature of its reduced cost (0.5, 1,
2 at the paper's costs), noisy total-derivative (``hierarchical``) feedback. The runs converge to the
backward-induction closed form.

Writes ``n_followers_chain.png`` (each level's quantity vs k, median and 10–90% band over seeds, with the
Stackelberg and Nash closed forms), ``table.md`` and the JSON summary: one ``runs`` entry (game ``hierarchy``,
``dynamics`` = ``stackelberg``, ``equilibrium`` = the Stackelberg closed form, ``reduced_curvatures`` per level).

    python -m experiments.n_followers_chain --seeds 8 --steps 3000 --out results/n_followers_chain
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agents import PowerSchedule, chain_learners, play
from agents.chain import chain_schedules, level_curvatures
from experiments.common import arg, markdown_table, parse_args, run_summary, write_json
from experiments.n_followers_lib import OUTCOME_HEADERS, LearnArgs, outcome_row
from experiments.plotting import save, setup_matplotlib, spread_caption
from stackenv.envs import BatchedStackelbergEnv
from stackenv.games import make


@dataclass
class Args(LearnArgs):
    """App. C.1: a 3-level chain of leaders and followers learns the backward-induction (Stackelberg) quantities."""

    out: Path = arg(Path("results/n_followers_chain"), "folder for figures and tables")
    chain_costs: list[float] = arg([5.0, 2.0, 3.0], "unit costs of the 3-level chain, top level first")

    def validate(self) -> None:
        LearnArgs.validate(self)
        if len(self.chain_costs) != 3:
            raise ValueError(f"--chain-costs takes three unit costs, got {self.chain_costs}")


def chain_game_and_learners(args: Args):
    """The 3-level chain with ``chain_learners``: default exponents, scales divided by each level's curvature
    (returned too) at the Stackelberg point."""
    game = make("hierarchy", A=args.A, costs=args.chain_costs)
    mus = level_curvatures(game, game.stackelberg_closed_form())
    schedules = [PowerSchedule(1.0 / mu, s.p, 1.0) for mu, s in zip(mus, chain_schedules(len(game.levels)))]
    return game, chain_learners(game, schedules), mus


def learn(args: Args):
    """The chain's runs, one copy per seed: the game, the trajectory and the levels' curvatures."""
    game, learners, mus = chain_game_and_learners(args)
    noise_std = math.sqrt(args.noise_var)
    env = BatchedStackelbergEnv(game, num_envs=args.seeds, feedback="hierarchical", noise_std=noise_std)
    return game, play(env, learners, args.steps, record_every=args.record_every, seed=args.seed), mus


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(Args, argv)
    args.out.mkdir(parents=True, exist_ok=True)

    # GAME + LEARN: the chain, its levels' curvatures, and chain_learners on hierarchical feedback
    game, tr, mus = learn(args)

    # REPORT: the JSON run, the table row, the figure
    table = markdown_table(OUTCOME_HEADERS, [table_row(game, tr)])
    (args.out / "table.md").write_text(table + "\n")
    plt = setup_matplotlib()
    fig, ax = plt.subplots(figsize=(7, 4.8))
    draw_chain(ax, game, tr)
    fig.suptitle("App. C.1: a staggered chain learns the backward-induction quantities, noisy gradients")
    fig.tight_layout()
    save(fig, args.out / "n_followers_chain.png", args.format)
    print(table)
    summary = {"experiment": "n_followers_chain", "runs": [run_entry(args, game, tr, mus)]}
    write_json(args.json, summary)
    return summary


def run_entry(args: Args, game, tr, mus: list[float]) -> dict:
    """The chain's JSON ``runs`` entry."""
    return run_summary(
        game,
        "stackelberg",
        args.steps,
        tr.x_final,
        game.stackelberg_closed_form(),
        learner="chain",
        levels=len(game.levels),
        noise_std=math.sqrt(args.noise_var),
        reduced_curvatures=mus,
    )


def table_row(game, tr) -> list:
    """The chain's row of the results table: its closed form in the label."""
    xs = game.stackelberg_closed_form()
    return outcome_row(f"chain K={game.n} (q* = {', '.join(f'{v:.3f}' for v in xs)})", game, tr.x_final)


def draw_chain(ax, game, tr, panel: str = "") -> None:
    """Each level's quantity vs k (median and 10–90% band), the Stackelberg (dashed) and Nash (dotted) values;
    ``panel`` prefixes the title (``"(c) "``)."""
    xs, xn = game.stackelberg_closed_form(), game.nash_closed_form()
    keep = tr.steps >= 1
    k = tr.steps[keep]
    for i, name in enumerate(game.agents):
        y = tr.x[keep, :, i]
        lo, mid, hi = np.percentile(y, [10, 50, 90], axis=1)
        color = f"C{i}"
        ax.plot(k, mid, color=color, lw=1.5, label=f"level {i + 1} ({name})")
        ax.fill_between(k, lo, hi, color=color, alpha=0.15)
        ax.axhline(xs[i], color=color, ls="--", lw=0.9)
        ax.axhline(xn[i], color=color, ls=":", lw=0.9)
    ax.plot([], [], "k--", lw=0.9, label="Stackelberg closed form")
    ax.plot([], [], "k:", lw=0.9, label="Nash (simultaneous) for reference")
    ax.set_xscale("log")
    ax.set_xlabel("iteration k")
    ax.set_ylabel("quantity q_j (units)")
    ax.set_title(f"{panel}{game.n}-level chain, costs {tuple(game.costs_.tolist())}")
    ax.legend(fontsize=8, title=spread_caption(tr.x.shape[1], "median"), title_fontsize=8)


if __name__ == "__main__":
    main()
