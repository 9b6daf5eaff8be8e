"""The main job (``make demo``): the paper's duopoly and torus results, a small tournament, one report.

Runs, on the local machine in well under two minutes on 2 cores:

1. the equilibria of every built-in game with their classification (``stackenv equilibria --all``);
2. ``experiments.duopoly`` — §4.1 / Fig. 1 (Nash vs Stackelberg vs LOLA learning);
3. ``experiments.torus`` — §4.2 / Fig. 2 (paths over the first-order-condition curves, basins);
4. a small leader–follower tournament on the local (loky) backend;
5. ``experiments.lq`` with a small budget — the LQ dynamic game (lead and following vehicle): exact feedback
   Nash vs Stackelberg costs, policy-space learners, a PPO leader's gap to the exact leader.

Figures, tables and ``results/REPORT.md`` go to ``--out`` (default ``results/``); the headline table
(paper vs exact vs learned) is printed at the end.
"""

from __future__ import annotations

import io
import json
import shutil
import time
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from experiments import duopoly, lq, torus, tournament
from experiments.common import arg, markdown_table, parse_args, write_json
from experiments.plotting import FORMATS, number
from stackenv.cli import print_all_equilibria


@dataclass
class Args:
    """Reproduce the paper's §4.1–4.2 results and run a small tournament (the project's main job)."""

    out: Path = arg(Path("results"), "folder for every figure, table and the report")
    seeds: int = arg(32, "seeds per reproduction")
    steps: int = arg(3000, "learning steps per run")
    tournament_seeds: int = arg(16, "seeds per tournament pairing")
    tournament_steps: int = arg(1000, "steps per tournament match")
    json: Path | None = arg(None, "path of the combined JSON summary {duopoly, torus, tournament} (none: not written)")
    format: str = arg("png", "figure file format", choices=FORMATS)
    progress: bool = arg(True, "show progress bars")


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(Args, argv)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    flag = ["--progress", str(args.progress).lower()]

    print("== Equilibria of the built-in games ==")
    buf = io.StringIO()
    with redirect_stdout(buf):
        print_all_equilibria()
    (out / "equilibria.txt").write_text(buf.getvalue())
    print(buf.getvalue())

    def reproduce(script) -> dict:
        name = script.__name__.rsplit(".", 1)[-1]
        argv = ["--seeds", str(args.seeds), "--steps", str(args.steps), "--out", str(out / name)]
        return script.main([*argv, "--json", str(out / f"{name}.json"), "--format", args.format, *flag])

    print("== §4.1 duopoly ==")
    duo = reproduce(duopoly)
    print("\n== §4.2 torus ==")
    tor = reproduce(torus)
    print("\n== LQ dynamic game (lead and following vehicle) ==")
    lq_argv = ["--seeds", "2", "--steps", "1500", "--timesteps", "4096", "--evals", "4", "--eval-episodes", "8"]
    lq.main([*lq_argv, "--out", str(out / "lq"), "--json", str(out / "lq.json"), "--format", args.format])
    print("\n== tournament ==")
    tdir = out / "tournament"
    if tdir.exists():
        shutil.rmtree(tdir)
    tour = tournament.main(
        [
            "--games",
            "duopoly",
            "torus",
            "zero_sum",
            "--leaders",
            "hierarchical",
            "gradient",
            "lola",
            "zeroth_order",
            "--followers",
            "gradient",
            "best_response",
            "zeroth_order",
            "--seeds",
            str(args.tournament_seeds),
            "--steps",
            str(args.tournament_steps),
            "--out",
            str(tdir),
            *flag,
        ]
    )

    rows = []
    for summary in (duo, tor):
        for run in summary["runs"]:
            eq = ", ".join(f"{v:.3f}" for v in run["equilibrium"])
            rows.append(
                [  # distances in the one positional format of the figures (experiments.plotting.number)
                    summary["experiment"],
                    run["dynamics"],
                    f"({eq})",
                    run["seeds"],
                    run["steps"],
                    number(run["distance_median"]),
                    number(run["distance_p95"]),
                ]
            )
    headline = markdown_table(
        ["experiment", "dynamics", "equilibrium", "seeds", "steps", "median distance", "p95 distance"], rows
    )
    board = tournament.leaderboard_table(tour["leaderboards"]["leader"])
    report = [
        "# stackenv demo report",
        "",
        "## Reproductions: where the learners ended (distance to the target equilibrium)",
        "",
        headline,
        "",
        "## Duopoly (§4.1)",
        "",
        (out / "duopoly" / "table.md").read_text(),
        f"![duopoly paths](duopoly/duopoly_paths.{args.format})",
        "",
        "## Torus (§4.2)",
        "",
        (out / "torus" / "table.md").read_text(),
        *[f"![{p.stem}](torus/{p.name})" for p in sorted((out / "torus").glob(f"*.{args.format}"))],
        "",
        "## LQ dynamic game: lead and following vehicle",
        "",
        (out / "lq" / "table.md").read_text(),
        f"![policy-space learners](lq/lq_policy_learning.{args.format}) ![PPO leader](lq/lq_ppo_gap.{args.format})",
        "",
        "## Tournament leader leaderboard",
        "",
        board,
        "",
        "Full tournament report: [tournament/report.md](tournament/report.md). "
        "Equilibria of every game: [equilibria.txt](equilibria.txt).",
        "",
    ]
    (out / "REPORT.md").write_text("\n".join(report))
    print("\n== Headline ==")
    print(headline)
    print()
    print(board)
    print(f"\nwrote {out / 'REPORT.md'} in {time.perf_counter() - t0:.0f} s")
    summary = json.loads(json.dumps({"duopoly": duo, "torus": tor, "tournament": tour}, default=float))
    write_json(args.json, summary)
    return summary


if __name__ == "__main__":
    main()
