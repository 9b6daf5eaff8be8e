"""App. C of Fiez, Chasnov & Ratliff: a leader above N simultaneous followers, and a 3-level chain — three studies.

Runs, with one set of arguments, and merges into one table, one JSON summary and three figures:

- ``experiments.n_followers_oligopoly`` (App. C.2): one Cournot leader above N followers with unequal unit
  costs; the N-follower leader over gradient-play followers for every N ≤ ``--learn-max-n``, and the leader's
  profit at the Stackelberg and Nash equilibria for every N in ``--ns`` (its page explains the market and the
  step sizes, derived from the game in ``docs/derivations.md``);
- ``experiments.n_followers_chain`` (App. C.1): a 3-level chain with ``chain_learners``;
- ``experiments.n_followers_timing``: the wall time of one leader update vs N (structured O(N), Krylov on the
  dense blocks, dense LU reference).

Each study is also a script of its own, with the same flags for the same things.

Writes ``n_followers_convergence.png`` (relative distance to the Stackelberg point and the leader's relative
error vs k per N; the chain's quantities vs k with the closed form), ``n_followers_advantage.png`` (the
leader's profit at the Stackelberg and Nash equilibria vs N — exact curves, learned values as markers — and
their ratio), ``n_followers_timing.png`` (wall time of one leader update vs N, log-log with fitted slopes),
``table.md`` and the JSON summary: one ``runs`` entry per learned N (``dynamics`` = ``stackelberg``, game
``oligopoly``) and one for the chain (game ``hierarchy``), ``equilibrium`` = the Stackelberg closed form, plus
``timing_seconds_per_leader_update`` and ``timing_slopes``.

    python -m experiments.n_followers --seeds 8 --steps 3000 --out results/n_followers --json results/n_followers.json
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agents.n_followers import reduced_curvature
from experiments import n_followers_chain, n_followers_oligopoly, n_followers_timing
from experiments.common import arg, markdown_table, parse_args, write_json
from experiments.n_followers_lib import OUTCOME_HEADERS, leader_profit, oligopoly
from experiments.plotting import save, setup_matplotlib

#: Names this module has always offered (the tests and users import them from here).
__all__ = ["Args", "main", "leader_profit", "oligopoly", "parse_args", "reduced_curvature"]


@dataclass
class Args(n_followers_timing.Args, n_followers_chain.Args, n_followers_oligopoly.Args):
    """Reproduce App. C: N-follower oligopoly (convergence, leader's advantage, cost vs N) and a 3-level chain."""

    out: Path = arg(Path("results/n_followers"), "folder for figures and tables")

    def validate(self) -> None:
        for study in (n_followers_oligopoly.Args, n_followers_chain.Args, n_followers_timing.Args):
            study.validate(self)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(Args, argv)
    args.out.mkdir(parents=True, exist_ok=True)

    # GAME: one oligopoly per N in --ns (the chain's game is built by its study)
    games = {N: oligopoly(args, N) for N in sorted(set(args.ns))}

    # LEARN: the three studies
    trajs, walls = n_followers_oligopoly.learn(args, games)
    chain_game, chain_tr, chain_mus = n_followers_chain.learn(args)
    timings = n_followers_timing.time_leader_updates(args)

    # REPORT: the studies' JSON runs and table rows merged, the three figures
    runs = n_followers_oligopoly.run_entries(args, games, trajs, walls)
    runs.append(n_followers_chain.run_entry(args, chain_game, chain_tr, chain_mus))
    slopes = {name: n_followers_timing.fit_slope(t) for name, t in timings.items()}
    rows = [*n_followers_oligopoly.table_rows(games, trajs, walls), n_followers_chain.table_row(chain_game, chain_tr)]
    table = markdown_table(OUTCOME_HEADERS, rows) + "\n\n" + n_followers_timing.timing_table(timings, slopes)
    (args.out / "table.md").write_text(table + "\n")
    plot_convergence(games, trajs, chain_game, chain_tr, args.out / "n_followers_convergence.png", args.format)
    n_followers_oligopoly.plot_advantage(args, games, trajs, args.out / "n_followers_advantage.png", args.format)
    n_followers_timing.plot_timing(timings, slopes, args.out / "n_followers_timing.png", args.format)
    print(table)
    summary = {
        "experiment": "n_followers",
        "runs": runs,
        "timing_seconds_per_leader_update": timings,
        "timing_slopes": slopes,
    }
    write_json(args.json, summary)
    return summary


def plot_convergence(games, trajs, chain_game, chain_tr, path: Path, fmt: str = "png") -> None:
    """(a) relative distance to the Stackelberg point, (b) the leader's relative error, per N; (c) the chain."""
    plt = setup_matplotlib()
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.8))
    if trajs:
        n_followers_oligopoly.draw_convergence(axes[:2], games, trajs)
    else:
        for ax in axes[:2]:
            ax.set_visible(False)
    n_followers_chain.draw_chain(axes[2], chain_game, chain_tr, "(c) ")
    fig.suptitle(
        "App. C: two-timescale hierarchical learning with N simultaneous followers (a, b) and a staggered "
        "chain (c); noisy gradients"
    )
    fig.tight_layout()
    save(fig, path, fmt)


if __name__ == "__main__":
    main()
