"""Leader–follower tournaments between learning rules, from a laptop to a Dask or Ray cluster.

Every (game, leader rule, follower rule, seed) is one match: the two rules learn against each other for
``--steps`` steps on the batched env with the game's noisy feedback, and the match is recorded as one row
of ``OUT/matches.csv`` (final joint action, time-averaged costs of both roles, distances to the nearest
Stackelberg and Nash equilibrium, steps until the run entered and stayed in a neighbourhood of an
equilibrium, divergence). From the table: per-role leaderboards ranked by one named statistic (mean normalised
cost or Bradley–Terry rating, with 95% CIs and ties marked), a leader×follower heatmap per game (equilibrium
costs marked on the colour bars), ``OUT/report.md`` and the JSON summary (``--json``, default
``OUT/summary.json``): the experiments' contract ``{"experiment", "runs": [...]}`` with one ``runs`` entry per
(game, leader rule, follower rule), plus the leaderboards.

    python -m experiments.tournament --games duopoly torus --seeds 16 --steps 2000 --out results/tournament
    python -m experiments.tournament ... --backend dask                     # a local Dask cluster
    python -m experiments.tournament ... --backend dask --address tcp://scheduler:8786
    python -m experiments.tournament ... --resume                           # continue a killed run
    python -m experiments.tournament ... --import my_rules                  # your register_learner/register calls
    python -m experiments.tournament ... --leaders sb3:ppo:models/leader.zip  # a saved SB3 model (agents.sb3)

Rules and games of your own: ``--import MODULE`` (repeatable) imports MODULE here and in every worker before
any match; installed packages can declare them under the entry-point groups ``stackenv.learners`` and
``stackenv.games`` instead. Per-game settings (noise, radius, feedback): :mod:`experiments.tournament_match`.

Determinism: matches are computed in blocks of up to ``BLOCK`` consecutive seeds (one numpy batch each),
but every random draw of seed s — the env's initial action and noise, and the randomised rules' streams
(``agents.rng.BatchRNG``) — comes from generators seeded by s alone, and batching does not change any
copy's arithmetic. So a match's row depends only on its key and the settings recorded in ``OUT/run.json``,
never on ``--seeds``, the backend, worker count or completion order. ``--resume`` recomputes a block that is
missing any row and appends only the missing rows; the final table is sorted, so a killed and resumed run ends
with exactly the table an uninterrupted run gives. ``--resume`` with other settings is refused
(:mod:`experiments.tournament_store`); nothing is written before every argument, plugin and backend is checked.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from agents import FEEDBACK_MODES, learner_spec, list_learners
from experiments.common import arg, parse_args, write_json
from experiments.plotting import FORMATS
from experiments.tournament_backends import BACKENDS, import_plugins, open_backend, workers
from experiments.tournament_lib import RANK_BY
from experiments.tournament_match import (  # noqa: F401  (re-exported: the tournament's public names)
    FOLLOWER_LR,
    GAME_SETTINGS,
    _learners,
    compatible,
    equilibrium_costs,
    equilibrium_points,
    fits_seats,
    game_for,
    seat_indices,
    settings,
    simulate_block,
)
from experiments.tournament_report import cell_runs, leaderboard_table, report  # noqa: F401
from experiments.tournament_store import KEY, FolderLock, MatchStore
from stackenv.games import list_games

#: Seeds per numpy batch (and per task).
BLOCK = 64
#: Memory per match row kept for the report (measured: ≈ 650 B per row in the table, ×3 for the analysis).
ROW_BYTES = 2000


@dataclass
class Args:
    """Leader–follower tournament between learning rules over games and seeds."""

    games: list[str] = arg(["duopoly", "torus", "zero_sum"], "games (registered names)")
    leaders: list[str] | None = arg(
        None, "leader rules, or sb3:ALGO:PATH (default: every registered rule that can lead)"
    )
    followers: list[str] | None = arg(None, "follower rules, or sb3:ALGO:PATH (default: every rule that can follow)")
    seeds: int = arg(16, "matches per (game, leader, follower): seeds 0..N-1")
    steps: int = arg(2000, "learning steps K per match")
    out: str = arg("results/tournament", "folder for matches.csv, heatmaps and report.md")
    json: Path | None = arg(None, "path of the JSON summary (default: OUT/summary.json)")
    backend: str = arg("loky", "where matches run", choices=list(BACKENDS))
    address: str | None = arg(None, "scheduler address for dask/ray (none: start a local cluster)")
    n_jobs: int = arg(-1, "local workers (loky, local dask cluster); -1 = all cores")
    resume: bool = arg(False, "continue the run in OUT: skip finished matches (refused if its settings differ)")
    progress: bool = arg(True, "show a progress bar")
    imports: list[str] = arg(
        [], "plugin module to import here and in every worker (repeatable)", flag="--import", repeatable=True
    )
    noise_std: list[str] | None = arg(None, "feedback noise std: one value for every game, or GAME=VALUE entries")
    radius: list[str] | None = arg(
        None,
        "neighbourhood radius (action units) that steps_to_neighbourhood counts from: one value, or GAME=VALUE entries"
        " (alias: --init-radius)",
        flag=("--radius", "--init-radius"),
    )
    feedback: str | None = arg(
        None, "feedback mode of every match (default: the least that serves both rules)", choices=list(FEEDBACK_MODES)
    )
    format: str = arg("png", "heatmap file format", choices=FORMATS)
    rank_by: str = arg(
        "cost", "leaderboard statistic: cost (mean normalised cost) or bt (Bradley–Terry)", choices=list(RANK_BY)
    )


def per_game(flag: str, entries: list[str] | None, games: list[str], positive: bool) -> dict[str, float]:
    """``--flag V`` (every game) or ``--flag GAME=V ...`` as ``{game: V}``; ``ValueError`` naming a bad entry."""
    out: dict[str, float] = {}
    for entry in entries or []:
        game, _, text = entry.rpartition("=")
        if game and game not in games:
            raise ValueError(f"--{flag} {entry}: {game!r} is not among --games ({', '.join(games)})")
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and (value > 0 if positive else value >= 0)):
            raise ValueError(f"--{flag} {entry}: need a finite number {'> 0' if positive else '>= 0'}")
        out.update({game: value} if game else dict.fromkeys(games, value))
    return out


def check(args: Args) -> dict[str, dict[str, Any]]:
    """Import the plugins, then check every argument; returns each game's settings. ``ValueError`` on a problem."""
    import_plugins(args.imports)
    if args.seeds < 1 or args.steps < 1:
        raise ValueError(f"--seeds and --steps must be positive, got {args.seeds} and {args.steps}")
    if not args.out.strip():
        raise ValueError("--out is empty: name the folder for the results (e.g. --out results/tournament)")
    workers(args.n_jobs)
    for g in args.games:
        if g not in list_games():
            raise ValueError(f"unknown game {g!r}; registered: {', '.join(list_games())} (plugins: --import MODULE)")
    for role, names in (("leader", args.leaders), ("follower", args.followers)):
        for name in names or []:
            spec = learner_spec(name)  # ValueError listing the registered names
            if role not in spec.roles:
                raise ValueError(f"{name!r} cannot play {role}; rules that can: {', '.join(list_learners(role=role))}")
    noise = per_game("noise-std", args.noise_std, args.games, positive=False)
    radius = per_game("radius", args.radius, args.games, positive=True)
    return {
        g: settings(g, {"noise_std": noise.get(g), "radius": radius.get(g), "feedback": args.feedback})
        for g in args.games
    }


@dataclass
class Plan:
    """The cells (game, leader, follower) to play, notes on skipped pairings, and the blocks (made lazily)."""

    cells: list[tuple[str, str, str]]
    notes: list[str]
    seeds: int
    steps: int
    cfg: dict[str, dict[str, Any]]
    imports: tuple[str, ...]
    points: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # per game, found once

    @property
    def matches(self) -> int:
        return len(self.cells) * self.seeds

    def blocks(self):
        for g, L, F in self.cells:
            if g not in self.points:
                self.points[g] = equilibrium_points(game_for(g, self.cfg[g]["params"]))
            for start in range(0, self.seeds, BLOCK):
                seeds = tuple(range(start, min(start + BLOCK, self.seeds)))
                yield (g, L, F, seeds, self.steps, self.cfg[g], self.imports, self.points[g])

    def keys(self):
        return ((g, L, F, s) for g, L, F in self.cells for s in range(self.seeds))


def plan(args: Args, cfg: dict[str, dict[str, Any]] | None = None) -> Plan:
    """The cells to play (pairings that fit their seats and share a feedback mode) and notes on the others."""
    cfg = cfg or check(args)
    cells, notes = [], []
    for g in args.games:
        game = game_for(g, cfg[g]["params"])
        leaders = args.leaders or [r for r in list_learners(role="leader") if fits_seats(game, r, leader=True)]
        followers = args.followers or [r for r in list_learners(role="follower") if fits_seats(game, r, leader=False)]
        for L in leaders:
            for F in followers:
                if compatible(game, L, F, cfg[g]["feedback"]):
                    cells.append((g, L, F))
                else:
                    notes.append(f"{g}: {L} vs {F} skipped (no feedback mode serves both, or a seat does not fit)")
    return Plan(cells, notes, args.seeds, args.steps, cfg, tuple(args.imports))


def check_size(p: Plan) -> None:
    """Refuse a plan whose table would not fit in memory, with the estimate."""
    have = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    need = p.matches * ROW_BYTES
    if need > have / 2:
        raise ValueError(
            f"{p.matches:.3g} matches ({len(p.cells)} pairings × {p.seeds} seeds) need ≈ {need / 1e9:.3g} GB of memory "
            f"for the table (this machine has {have / 1e9:.3g} GB) and ≈ {p.matches * p.steps:.3g} game-steps: "
            f"use at most {int(have / 2 / ROW_BYTES / max(len(p.cells), 1))} --seeds, or split the run"
        )


def code_version() -> dict[str, str | None]:
    """The package version and, in a git checkout, its commit."""
    try:
        version = metadata.version("stackenv")
    except metadata.PackageNotFoundError:
        version = None
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return {"stackenv": version, "commit": commit or None}


def rule_fingerprint(name: str) -> dict[str, str]:
    """What identifies a rule's code: its class, or a saved model's file hash (``sb3:ALGO:PATH``)."""
    if name.startswith("sb3:"):
        from agents.sb3 import parse_sb3_spec

        return {"sha256": hashlib.sha256(parse_sb3_spec(name)[1].read_bytes()).hexdigest()}
    factory = learner_spec(name).factory
    return {"class": f"{factory.__module__}.{factory.__qualname__}"}


def run_record(p: Plan) -> dict[str, Any]:
    """The settings every row depends on (``OUT/run.json``)."""
    rules = sorted({r for _, L, F in p.cells for r in (L, F)})
    return {
        "steps": p.steps,
        "code": code_version(),
        "games": {
            g: {**{k: v for k, v in s.items() if k != "source"}, "d": game_for(g, s["params"]).d}
            for g, s in p.cfg.items()
        },
        "rules": {r: rule_fingerprint(r) for r in rules},
        "imports": list(p.imports),
    }


def check_out(out: str) -> Path:
    """``--out`` as a folder this process can create or write in (``ValueError`` otherwise)."""
    path = Path(out)
    near = path
    while not near.exists() and near != near.parent:
        near = near.parent
    if not near.is_dir():
        raise ValueError(f"--out {out}: {near} is not a folder: choose another --out")
    if not os.access(near, os.W_OK | os.X_OK):
        raise ValueError(f"--out {out}: cannot write in {near} (permission denied): choose another --out")
    return path


def fail(message: Any) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(Args, argv)
    try:
        p = plan(args)
        check_size(p)
        record = run_record(p)
        out = check_out(args.out)
        with open_backend(args.backend, args.n_jobs, args.address) as run:
            out.mkdir(parents=True, exist_ok=True)
            with FolderLock(out):
                store = MatchStore(out, resume=args.resume, record=record)
                summary = _run(args, p, store, run, out)
    except (ValueError, FileExistsError) as exc:
        fail(exc)
    except OSError as exc:
        fail(f"cannot write the results in {args.out}: {exc}: free space or choose another --out, then --resume")
    for role in ("leader", "follower"):
        print(f"\n{role} leaderboard (ranked by {RANK_BY[args.rank_by]})")
        print(leaderboard_table(summary["leaderboards"][role]))
    return json.loads(json.dumps(summary, default=float))


def _run(args: Args, p: Plan, store: MatchStore, run, out: Path) -> dict[str, Any]:
    """Play the missing blocks into ``store``, then write the report and the JSON summary."""
    if store.quarantined:
        print(
            f"warning: {len(store.quarantined)} bad rows moved to {out / 'matches.quarantine.csv'} "
            f"(first: {store.quarantined[0][1]}); their matches are recomputed",
            file=sys.stderr,
        )
    todo = [b for b in p.blocks() if any(not store.done((b[0], b[1], b[2], s)) for s in b[3])]
    n_blocks = len(p.cells) * -(-p.seeds // BLOCK)
    done = sum(store.done(k) for k in p.keys())
    bar = tqdm(total=p.matches, desc="matches", disable=not args.progress, initial=done)
    if len(todo) < n_blocks:
        bar.write(f"resuming: {n_blocks - len(todo)} finished blocks skipped")
    if todo:
        for rows in run(simulate_block, todo):
            new = [r for r in rows if not store.done(tuple(r[k] for k in KEY))]
            store.append(new)
            bar.update(len(new))
    bar.close()
    store.finalize()
    wanted = set(p.keys())
    rows = [r for r in store.table() if store.key_of(r) in wanted]
    summary = report(rows, out, args, p.cfg, p.notes)
    write_json(args.json or out / "summary.json", summary)
    return summary


if __name__ == "__main__":
    main()
