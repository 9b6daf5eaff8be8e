"""Leader–follower tournaments between learning rules, from a laptop to a Dask or Ray cluster.

Every (game, leader rule, follower rule, seed) is one match: the two rules learn against each other for
``--steps`` steps on the batched env with the game's noisy feedback, and the match is recorded as one row
of ``OUT/matches.csv`` (final joint action, time-averaged costs of both roles, distances to the nearest
Stackelberg and Nash equilibrium, steps until the run entered and stayed in a neighbourhood of an
equilibrium, divergence). From the table: per-role leaderboards (mean normalised cost with 95% CI,
Bradley–Terry/Elo rating from head-to-head comparisons), a leader×follower heatmap per game (equilibrium
costs marked on the colour bars), ``OUT/report.md`` and the JSON summary (``--json``, default
``OUT/summary.json``): the experiments' contract ``{"experiment", "runs": [...]}`` with one ``runs`` entry per
(game, leader rule, follower rule) (:func:`cell_runs`), plus the leaderboards.

    python -m experiments.tournament --games duopoly torus --seeds 16 --steps 2000 --out results/tournament
    python -m experiments.tournament ... --backend dask                     # a local Dask cluster
    python -m experiments.tournament ... --backend dask --address tcp://scheduler:8786
    python -m experiments.tournament ... --resume                           # continue a killed run

Determinism: matches are computed in blocks of up to ``BLOCK`` consecutive seeds (one numpy batch each),
but every random draw of seed s — the env's initial action and noise, and the randomised rules' streams
(``agents.rng.BatchRNG``) — comes from generators seeded by s alone, and batching does not change any
copy's arithmetic. So a match's row depends only on its key (and ``--steps``), never on ``--seeds``, the
backend, worker count or completion order. ``--resume`` recomputes a block that is missing any row and
appends only the missing rows; the final table is sorted, so a killed and resumed run ends with exactly
the table an uninterrupted run gives.
"""

from __future__ import annotations

import inspect
import json
import math
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from agents import PowerSchedule, learner_spec, list_learners, make_learner, play
from agents.play import choose_feedback
from experiments.common import arg, markdown_table, parse_args, run_summary, write_json
from experiments.plotting import FORMATS
from experiments.tournament_lib import KEY, MatchStore, heatmap, leaderboard, run_tasks
from stackenv.envs import BatchedStackelbergEnv
from stackenv.equilibria import nash_equilibria, stackelberg_equilibria
from stackenv.games import list_games, make

#: Seeds per numpy batch (and per task).
BLOCK = 64

#: Per-game tournament settings: parameters, feedback noise std, neighbourhood radius (action units).
GAME_SETTINGS: dict[str, dict[str, Any]] = {
    "duopoly": {"params": {}, "noise_std": math.sqrt(10.0), "radius": 1.0},
    "torus": {"params": {}, "noise_std": 0.1, "radius": 0.1},
    "zero_sum": {"params": {"instance": "prop2"}, "noise_std": 0.1, "radius": 0.1},
    "oligopoly": {"params": {"follower_costs": [2.0, 3.0, 4.0]}, "noise_std": 1.0, "radius": 1.0},
    "hierarchy": {"params": {"costs": [5.0, 2.0, 3.0]}, "noise_std": 1.0, "radius": 1.0},
    "quadratic": {"params": {}, "noise_std": 0.1, "radius": 0.1},
}


@dataclass
class Args:
    """Leader–follower tournament between learning rules over games and seeds."""

    games: list[str] = arg(["duopoly", "torus", "zero_sum"], "games (registered names)")
    leaders: list[str] | None = arg(None, "leader rules (default: every registered rule that can lead)")
    followers: list[str] | None = arg(None, "follower rules (default: every registered rule that can follow)")
    seeds: int = arg(16, "matches per (game, leader, follower): seeds 0..N-1")
    steps: int = arg(2000, "learning steps K per match")
    out: Path = arg(Path("results/tournament"), "folder for matches.csv, heatmaps and report.md")
    json: Path | None = arg(None, "path of the JSON summary (default: OUT/summary.json)")
    backend: str = arg("loky", "loky | dask | ray | sequential", choices=["loky", "dask", "ray", "sequential"])
    address: str | None = arg(None, "scheduler address for dask/ray (none: start a local cluster)")
    n_jobs: int = arg(-1, "local workers (loky, local dask cluster); -1 = all cores")
    resume: bool = arg(False, "continue the run in OUT: skip finished matches")
    progress: bool = arg(True, "show a progress bar")
    format: str = arg("png", "heatmap file format", choices=FORMATS)

    def validate(self) -> None:
        if self.seeds < 1 or self.steps < 1:
            raise ValueError("--seeds and --steps must be positive")
        for g in self.games:
            if g not in list_games():
                raise ValueError(f"unknown game {g!r}; registered: {', '.join(list_games())}")
        for role, names in (("leader", self.leaders), ("follower", self.followers)):
            valid = list_learners(role=role)
            for name in names or []:
                if name not in valid:
                    raise ValueError(f"{name!r} cannot play {role}; rules that can: {', '.join(valid)}")


def settings(name: str) -> dict[str, Any]:
    return GAME_SETTINGS.get(name, {"params": {}, "noise_std": 0.1, "radius": 0.1})


def game_for(name: str):
    """The game with its tournament parameters."""
    return make(name, **settings(name)["params"])


def seat_indices(game) -> tuple[list[int], list[int]]:
    """Players in leader seats (with levels below them) and in follower seats (the bottom level)."""
    leader_idx = [i for i in range(game.n) if game.below_coords[game.level_of[i]].size > 0]
    return leader_idx, [i for i in range(game.n) if i not in leader_idx]


#: Step size of every follower rule that takes one: the faster timescale γ_2 = 1/k^{2/3} (the paper's duopoly
#: choice), so γ_1 = 1/k (the leaders' registry default) = o(γ_2) in every pairing, as eq. (1)'s theory needs.
FOLLOWER_LR = PowerSchedule(1.0, 2.0 / 3.0)


def _learners(game, leader: str, follower: str) -> dict:
    """One learner per agent: the leader rule (registry defaults) on every player with levels below, the
    follower rule on the bottom level, on the faster timescale :data:`FOLLOWER_LR` where it takes a step size."""
    leader_idx, _ = seat_indices(game)
    takes_lr = "lr" in inspect.signature(learner_spec(follower).factory).parameters
    out = {}
    for i, agent in enumerate(game.agents):
        if i in leader_idx:
            out[agent] = make_learner(leader)
        else:
            out[agent] = make_learner(follower, lr=FOLLOWER_LR) if takes_lr else make_learner(follower)
    return out


def fits_seats(game, rule: str, leader: bool) -> bool:
    """Whether ``rule`` can play every leader seat (players with levels below) or every bottom seat of ``game``."""
    leader_idx, follower_idx = seat_indices(game)
    return all(make_learner(rule).fits(game, game.agents[i]) for i in (leader_idx if leader else follower_idx))


def compatible(game, leader: str, follower: str) -> bool:
    """Whether one feedback mode serves both rules (and each rule fits its seat)."""
    try:
        learners = _learners(game, leader, follower)
        choose_feedback(game, learners)
        return all(lr.fits(game, a) for a, lr in learners.items())
    except ValueError:
        return False


def equilibrium_costs(game) -> dict[str, list[tuple[float, float]]]:
    """``{"Stackelberg": [...], "Nash": [...]}``: (leader-seat cost, follower-seat cost) at each equilibrium of
    that kind — the same seat averages as a match's ``leader_cost``/``follower_cost``; kinds the game lacks are
    left out."""
    leader_idx, follower_idx = seat_indices(game)
    out = {}
    for label, eqs in (("Stackelberg", stackelberg_equilibria(game)), ("Nash", nash_equilibria(game))):
        costs = [game.costs(np.asarray(e.x, float)) for e in eqs]
        if costs:
            out[label] = [(float(np.mean(c[leader_idx])), float(np.mean(c[follower_idx]))) for c in costs]
    return out


def simulate_block(game_name: str, leader: str, follower: str, seeds: tuple[int, ...], steps: int) -> list[dict]:
    """Play one block of consecutive seeds of one (game, leader, follower) cell; one row per seed."""
    warnings.simplefilter("ignore")  # schedule/safeguard warnings are reported via diagnostics
    game = game_for(game_name)
    cfg = settings(game_name)
    learners = _learners(game, leader, follower)
    feedback = choose_feedback(game, learners)
    env = BatchedStackelbergEnv(game, num_envs=len(seeds), feedback=feedback, noise_std=cfg["noise_std"])
    traj = play(env, learners, steps, record_every=1, seed=int(seeds[0]))
    stack = np.array([e.x for e in stackelberg_equilibria(game)]).reshape(-1, game.d)
    nash = np.array([e.x for e in nash_equilibria(game)]).reshape(-1, game.d)
    every = np.concatenate([stack, nash]) if len(stack) + len(nash) else np.zeros((0, game.d))

    def nearest(points, x):  # (T, B, d) or (B, d) → distance to the nearest point
        if len(points) == 0:
            return np.full(x.shape[:-1], np.inf)
        return np.min(np.stack([game.distance(x, p) for p in points]), axis=0)

    leader_idx, follower_idx = seat_indices(game)
    costs = traj.costs[1:]  # exact costs at the joint actions played at steps 1..K
    d_path = nearest(every, traj.x[1:])  # (K, B)
    outside = d_path > cfg["radius"]
    rows = []
    for b, seed in enumerate(seeds):
        stopped = bool(traj.stopped[b])
        last_out = np.flatnonzero(outside[:, b])
        if stopped or (last_out.size and last_out[-1] == len(d_path) - 1):
            reached = -1
        else:
            reached = int(traj.steps[1:][last_out[-1] + 1]) if last_out.size else int(traj.steps[1])
        rows.append(
            {
                "game": game_name,
                "leader": leader,
                "follower": follower,
                "seed": int(seed),
                "steps": steps,
                "final_action": traj.x_final[b],
                "leader_cost": float(np.mean(costs[:, b, leader_idx])),
                "follower_cost": float(np.mean(costs[:, b, follower_idx])),
                "dist_stackelberg": float(nearest(stack, traj.x_final[b])),
                "dist_nash": float(nearest(nash, traj.x_final[b])),
                "steps_to_neighbourhood": reached,
                "diverged": stopped,
                "reason": (traj.stop_reason[b] or "").replace(",", ";"),
            }
        )
    return rows


def plan(args: Args) -> tuple[list[tuple], list[tuple], list[str]]:
    """All match keys, the blocks to run, and notes on skipped pairings."""
    keys, blocks, notes = [], [], []
    for g in args.games:
        game = game_for(g)
        leaders = args.leaders or [r for r in list_learners(role="leader") if fits_seats(game, r, leader=True)]
        followers = args.followers or [r for r in list_learners(role="follower") if fits_seats(game, r, leader=False)]
        for L in leaders:
            for F in followers:
                if not compatible(game, L, F):
                    notes.append(f"{g}: {L} vs {F} skipped (no feedback mode serves both, or a seat does not fit)")
                    continue
                for start in range(0, args.seeds, BLOCK):
                    seeds = tuple(range(start, min(start + BLOCK, args.seeds)))
                    keys += [(g, L, F, s) for s in seeds]
                    blocks.append((g, L, F, seeds, args.steps))
    return keys, blocks, notes


def cell_runs(rows: list[dict[str, str]], games: list[str], steps: int) -> list[dict[str, Any]]:
    """The JSON summary's ``runs`` (issue 5's contract): one entry per (game, leader rule, follower rule) cell,
    seeds in order. ``dynamics`` is ``{leader}_leader_vs_{follower}``; ``equilibrium`` the Stackelberg equilibrium
    most of the cell's runs ended nearest to (every one is listed under ``stackelberg_equilibria``), and the
    distance statistics are to it; ``diverged`` counts the cell's diverged matches."""
    runs = []
    for g in games:
        cells: dict[tuple[str, str], list[dict[str, str]]] = {}
        for r in rows:
            if r["game"] == g:
                cells.setdefault((r["leader"], r["follower"]), []).append(r)
        if not cells:
            continue
        game = game_for(g)
        stack = np.array([e.x for e in stackelberg_equilibria(game)], float).reshape(-1, game.d)
        for (L, F), rs in sorted(cells.items()):
            rs = sorted(rs, key=lambda r: int(r["seed"]))
            finals = np.array([np.array(r["final_action"].strip("[]").split(), float) for r in rs])
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
                    noise_std=settings(g)["noise_std"],
                )
            )
    return runs


def report(rows: list[dict[str, str]], out: Path, args: Args, notes: list[str]) -> dict[str, Any]:
    """Leaderboards, heatmaps and report.md; returns the JSON summary."""
    boards = {role: leaderboard(rows, role) for role in ("leader", "follower")}
    lines = [
        "# Tournament report",
        "",
        f"Games: {', '.join(args.games)}; {args.seeds} seeds × {args.steps} steps per pairing; {len(rows)} matches.",
        "Normalised cost: each role's time-averaged cost min–max scaled per game over all matches (0 = best, "
        "diverged = 1). Rating: Bradley–Terry from head-to-head comparisons (same game, opponent rule and seed), "
        "Elo scale.",
        "",
    ]
    for role, board in boards.items():
        lines += [f"## {role.capitalize()} leaderboard", ""]
        lines.append(
            markdown_table(
                ["rank", "rule", "matches", "mean normalised cost", "95% CI ±", "Elo (BT)", "diverged"],
                [
                    [k + 1, e["rule"], e["matches"], e["mean_normalised_cost"], e["ci95"], e["elo"], e["diverged_rate"]]
                    for k, e in enumerate(board)
                ],
                floatfmt=".3f",
            )
        )
        lines.append("")
    lines += ["## Per game", ""]
    for g in args.games:
        sub = [r for r in rows if r["game"] == g]
        if not sub:
            continue
        png = f"heatmap_{g}.{args.format}"
        heatmap(rows, g, out / png, equilibrium_costs(game_for(g)), args.format)
        cells = {}
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
        lines += [f"### {g}", "", f"![{g} heatmap]({png})", ""]
        lines.append(
            markdown_table(
                [
                    "leader",
                    "follower",
                    "leader cost",
                    "follower cost",
                    "med. dist. Stackelberg",
                    "med. dist. Nash",
                    "diverged",
                ],
                table,
            )
        )
        lines.append("")
    if notes:
        lines += ["## Skipped pairings", ""] + [f"- {n}" for n in notes] + [""]
    (out / "report.md").write_text("\n".join(lines))
    return {
        "experiment": "tournament",
        "runs": cell_runs(rows, args.games, args.steps),
        "games": args.games,
        "seeds": args.seeds,
        "steps": args.steps,
        "matches": len(rows),
        "leaderboards": boards,
        "skipped": notes,
    }


def leaderboard_table(board: list[dict[str, Any]]) -> str:
    """The short form of a leaderboard (printed after a run, and in the demo's report)."""
    return markdown_table(
        ["rule", "mean normalised cost", "95% CI ±", "Elo (BT)"],
        [[e["rule"], e["mean_normalised_cost"], e["ci95"], e["elo"]] for e in board],
        floatfmt=".3f",
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(Args, argv)
    keys, blocks, notes = plan(args)
    try:
        store = MatchStore(args.out, resume=args.resume)
    except (FileExistsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    todo = [b for b in blocks if any(not store.done((b[0], b[1], b[2], s)) for s in b[3])]
    skipped = len(blocks) - len(todo)
    bar = tqdm(
        total=len(keys),
        desc="matches",
        disable=not args.progress,
        initial=sum(store.done(k) for k in keys),
    )
    if skipped:
        bar.write(f"resuming: {skipped} finished blocks skipped")
    for rows in run_tasks(simulate_block, todo, backend=args.backend, n_jobs=args.n_jobs, address=args.address):
        new = [r for r in rows if not store.done(tuple(r[k] for k in KEY))]
        store.append(new)
        bar.update(len(new))
    bar.close()
    store.finalize()
    wanted = set(keys)
    rows = [r for r in store.table() if store.key_of(r) in wanted]
    summary = report(rows, args.out, args, notes)
    write_json(args.json or args.out / "summary.json", summary)
    for role in ("leader", "follower"):
        print(f"\n{role} leaderboard")
        print(leaderboard_table(summary["leaderboards"][role]))
    return json.loads(json.dumps(summary, default=float))


if __name__ == "__main__":
    main()
