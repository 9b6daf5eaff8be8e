"""A tournament's outputs from its rows: ``report.md`` (settings, leaderboards, per-game tables and heatmaps)
and the JSON summary (the experiments' contract, :func:`cell_runs`, plus the leaderboards)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from experiments.common import markdown_table, run_summary
from experiments.tournament_lib import LEADERBOARD_HEADERS, RANK_BY, heatmap, leaderboard, leaderboard_rows
from experiments.tournament_match import equilibrium_costs, game_for
from experiments.tournament_store import parse_action
from stackenv.equilibria import stackelberg_equilibria


def cell_runs(rows: list[dict[str, str]], cfg: dict[str, dict[str, Any]], steps: int) -> list[dict[str, Any]]:
    """The JSON summary's ``runs``: one entry per (game, leader rule, follower rule) cell, seeds in order.
    ``dynamics`` is ``{leader}_leader_vs_{follower}``; ``equilibrium`` the Stackelberg equilibrium most of the cell's
    runs ended nearest to (every one is listed under ``stackelberg_equilibria``), and the distance statistics are
    to it; ``diverged`` counts the cell's diverged matches. ``cfg``: each game's settings, in report order."""
    runs = []
    for g, settings in cfg.items():
        cells: dict[tuple[str, str], list[dict[str, str]]] = {}
        for r in rows:
            if r["game"] == g:
                cells.setdefault((r["leader"], r["follower"]), []).append(r)
        if not cells:
            continue
        game = game_for(g, settings["params"])
        stack = np.array([e.x for e in stackelberg_equilibria(game)], float).reshape(-1, game.d)
        for (L, F), rs in sorted(cells.items()):
            rs = sorted(rs, key=lambda r: int(r["seed"]))
            finals = np.array([parse_action(r["final_action"]) for r in rs])
            if len(stack):
                nearest = np.argmin([game.distance(finals, p) for p in stack], axis=0)
                eq = stack[np.bincount(nearest, minlength=len(stack)).argmax()]
            else:  # no Stackelberg equilibrium: distances are null
                eq = np.full(game.d, np.nan)
            runs.append(
                run_summary(
                    game,
                    f"{L}_leader_vs_{F}",
                    steps,
                    finals,
                    eq,
                    leader=L,
                    follower=F,
                    seed_indices=[int(r["seed"]) for r in rs],
                    diverged=sum(r["diverged"] == "1" for r in rs),
                    stackelberg_equilibria=stack,
                    noise_std=settings["noise_std"],
                )
            )
    return runs


def settings_table(cfg: dict[str, dict[str, Any]]) -> str:
    """Each game's settings and where each came from (command line, the game, the paper, the domain)."""

    def shown(settings, key):
        value = settings[key]
        if value is None:  # feedback: chosen per pairing
            return "auto"
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        return f"{text} ({settings['source'][key]})"

    return markdown_table(
        ["game", "params", "noise std", "radius", "feedback"],
        [
            [g, shown(s, "params"), shown(s, "noise_std"), shown(s, "radius"), shown(s, "feedback")]
            for g, s in cfg.items()
        ],
    )


def _cell_table(sub: list[dict[str, str]]) -> str:
    cells: dict[tuple[str, str], list[dict[str, str]]] = {}
    for r in sub:
        cells.setdefault((r["leader"], r["follower"]), []).append(r)
    table = []
    for (L, F), rs in sorted(cells.items()):
        fin = [r for r in rs if r["diverged"] == "0"]
        table.append(
            [
                L,
                F,
                np.mean([float(r["leader_cost"]) for r in fin]) if fin else float("nan"),
                np.mean([float(r["follower_cost"]) for r in fin]) if fin else float("nan"),
                np.median([float(r["dist_stackelberg"]) for r in rs]),
                np.median([float(r["dist_nash"]) for r in rs]),
                f"{sum(r['diverged'] == '1' for r in rs)}/{len(rs)}",
            ]
        )
    headers = ["leader", "follower", "leader cost", "follower cost", "med. dist. Stackelberg", "med. dist. Nash"]
    return markdown_table([*headers, "diverged"], table)


def report(
    rows: list[dict[str, str]], out: Path, args: Any, cfg: dict[str, dict[str, Any]], notes: list[str]
) -> dict[str, Any]:
    """Leaderboards, heatmaps and ``out/report.md``; returns the JSON summary."""
    boards = {role: leaderboard(rows, role, args.rank_by) for role in ("leader", "follower")}
    lines = [
        "# Tournament report",
        "",
        f"Games: {', '.join(cfg)}; {args.seeds} seeds × {args.steps} steps per pairing; {len(rows)} matches.",
        "",
        "## Settings",
        "",
        settings_table(cfg),
        "",
        f"**Ranked by {RANK_BY[args.rank_by]}.** Normalised cost: each role's time-averaged cost min–max scaled per "
        "game over all matches (0 = best, diverged = 1). Rating: Bradley–Terry from head-to-head comparisons (same "
        "game, opponent rule and seed), Elo scale. Both with 95% confidence intervals; a rank followed by (= k) is "
        "tied with rank k: their intervals on the ranking statistic overlap.",
        "",
    ]
    for role, board in boards.items():
        lines += [f"## {role.capitalize()} leaderboard", ""]
        lines += [markdown_table(LEADERBOARD_HEADERS, leaderboard_rows(board), floatfmt=".3f"), ""]
    lines += ["## Per game", ""]
    for g, settings in cfg.items():
        sub = [r for r in rows if r["game"] == g]
        if not sub:
            continue
        png = f"heatmap_{g}.{args.format}"
        heatmap(rows, g, out / png, equilibrium_costs(game_for(g, settings["params"])), args.format)
        lines += [f"### {g}", "", f"![{g} heatmap]({png})", "", _cell_table(sub), ""]
    if notes:
        lines += ["## Skipped pairings", ""] + [f"- {n}" for n in notes] + [""]
    (out / "report.md").write_text("\n".join(lines))
    return {
        "experiment": "tournament",
        "runs": cell_runs(rows, cfg, args.steps),
        "games": list(cfg),
        "seeds": args.seeds,
        "steps": args.steps,
        "matches": len(rows),
        "settings": {g: {k: v for k, v in s.items() if k != "source"} for g, s in cfg.items()},
        "ranked_by": args.rank_by,
        "leaderboards": boards,
        "skipped": notes,
    }


def leaderboard_table(board: list[dict[str, Any]]) -> str:
    """The short form of a leaderboard (printed after a run, and in the demo's report)."""
    return markdown_table(
        ["rank", "rule", "mean normalised cost", "95% CI ±", "Elo (BT)"],
        [
            [row[0], e["rule"], e["mean_normalised_cost"], e["ci95"], e["elo"]]
            for row, e in zip(leaderboard_rows(board), board)
        ],
        floatfmt=".3f",
    )
