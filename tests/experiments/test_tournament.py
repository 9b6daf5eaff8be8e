"""Tournament: local table, real local Dask cluster equality, kill -9 + --resume, ratings and store."""

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from experiments import tournament
from experiments.tournament_lib import bradley_terry
from experiments.tournament_store import COLUMNS, MatchStore

SMALL = [
    "--games",
    "duopoly",
    "zero_sum",
    "--leaders",
    "gradient",
    "hierarchical",
    "--followers",
    "gradient",
    "best_response",
    "--seeds",
    "3",
    "--steps",
    "400",
    "--progress",
    "false",
]
ROOT = Path(__file__).resolve().parents[2]


def _table(out: Path) -> str:
    return (out / "matches.csv").read_text()


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("local")
    summary = tournament.main(SMALL + ["--out", str(out), "--backend", "loky", "--n-jobs", "2"])
    return out, summary


def test_local_run_writes_table_report_and_heatmaps(local_run):
    out, summary = local_run
    rows = list(csv.DictReader(open(out / "matches.csv")))
    assert list(rows[0]) == COLUMNS
    keys = {(r["game"], r["leader"], r["follower"], int(r["seed"])) for r in rows}
    assert len(rows) == len(keys) == 2 * 2 * 2 * 3
    assert (out / "report.md").read_text().count("| rank |") == 2
    for g in ("duopoly", "zero_sum"):
        assert (out / f"heatmap_{g}.png").stat().st_size > 10_000
    # the hierarchical leader against a best-responding follower lands on the Stackelberg point
    hb = [
        r for r in rows if r["game"] == "duopoly" and r["leader"] == "hierarchical" and r["follower"] == "best_response"
    ]
    assert all(float(r["dist_stackelberg"]) < float(r["dist_nash"]) for r in hb)
    # and earns the lower time-averaged cost than a gradient-play leader in the same seat (leader advantage)
    gb = {
        r["seed"]: float(r["leader_cost"])
        for r in rows
        if r["game"] == "duopoly" and r["leader"] == "gradient" and r["follower"] == "best_response"
    }
    assert all(float(r["leader_cost"]) < gb[r["seed"]] for r in hb)
    board = {e["rule"]: e for e in summary["leaderboards"]["leader"]}
    assert set(board) == {"gradient", "hierarchical"}


def test_dask_local_cluster_gives_the_same_table(local_run, tmp_path):
    out, _ = local_run
    tournament.main(SMALL + ["--out", str(tmp_path), "--backend", "dask", "--n-jobs", "2"])
    assert _table(tmp_path) == _table(out)


def test_kill_9_then_resume_gives_the_uninterrupted_table(local_run, tmp_path):
    out, _ = local_run
    cmd = [sys.executable, "-m", "experiments.tournament", *SMALL, "--out", str(tmp_path), "--backend", "sequential"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    path = tmp_path / "matches.csv"
    deadline = time.time() + 120
    while time.time() < deadline:  # wait for the first finished block, then kill mid-run
        if path.exists() and path.read_text().count("\n") > 1:
            break
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = path.read_text().count("\n") - 1
    assert 0 < partial < 24, "the kill should land mid-run"
    with open(path, "a") as fh:  # simulate a torn write
        fh.write("duopoly,gradient,gra")
    tournament.main(SMALL + ["--out", str(tmp_path), "--backend", "sequential", "--resume"])
    assert _table(tmp_path) == _table(out)


def test_existing_output_without_resume_is_refused(local_run):
    out, _ = local_run
    with pytest.raises(SystemExit) as exc:
        tournament.main(SMALL + ["--out", str(out)])
    assert exc.value.code == 2


def test_unknown_rule_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit):
        tournament.main(["--leaders", "best_response", "--out", str(tmp_path)])
    assert "cannot play leader" in capsys.readouterr().err


def test_bradley_terry_recovers_known_strengths():
    rng = np.random.default_rng(0)
    true = np.array([1.0, 0.0, -0.5, -1.5])
    wins = np.zeros((4, 4))
    for _ in range(4000):
        i, j = rng.choice(4, 2, replace=False)
        p = 1 / (1 + np.exp(true[j] - true[i]))
        if rng.random() < p:
            wins[i, j] += 1
        else:
            wins[j, i] += 1
    est = bradley_terry(wins)
    # 4000 games give ~0.1 standard error on each log-strength; 0.25 is a 2.5-sigma band
    np.testing.assert_allclose(est, true - true.mean(), atol=0.25)


def test_store_drops_a_torn_last_line(tmp_path):
    store = MatchStore(tmp_path)
    row = dict.fromkeys(COLUMNS, "0") | {"game": "g", "leader": "a", "follower": "b", "seed": 1}
    store.append([row])
    with open(store.path, "a") as fh:
        fh.write("g,a,b,2,0")
    again = MatchStore(tmp_path, resume=True)
    assert list(again.rows) == [("g", "a", "b", 1)]


def test_a_match_depends_on_its_seed_not_on_how_many_seeds_run(tmp_path):
    base = [
        "--games",
        "duopoly",
        "--leaders",
        "zeroth_order",
        "--followers",
        "gradient",
        "--steps",
        "200",
        "--progress",
        "false",
        "--backend",
        "sequential",
    ]
    tournament.main(base + ["--seeds", "2", "--out", str(tmp_path / "two")])
    tournament.main(base + ["--seeds", "4", "--out", str(tmp_path / "four")])
    two = list(csv.DictReader(open(tmp_path / "two" / "matches.csv")))
    four = list(csv.DictReader(open(tmp_path / "four" / "matches.csv")))
    assert two == four[:2]


def test_json_summary_follows_the_experiments_contract(local_run):
    """One ``runs`` entry per (game, leader, follower) cell, with the keys every experiment's summary carries."""
    import json

    from stackenv.games import make
    from tests.experiments.contract import RUN_KEYS

    out, summary = local_run
    payload = json.loads((out / "summary.json").read_text())
    assert payload == summary and payload["experiment"] == "tournament"
    rows = list(csv.DictReader(open(out / "matches.csv")))
    runs = {(r["game"], r["leader"], r["follower"]): r for r in payload["runs"]}
    assert set(runs) == {(r["game"], r["leader"], r["follower"]) for r in rows} and len(runs) == len(payload["runs"])
    for (game, leader, follower), run in runs.items():
        assert RUN_KEYS <= set(run), RUN_KEYS - set(run)
        assert run["dynamics"] == f"{leader}_leader_vs_{follower}"
        assert run["params"] == tournament.game_for(game).params and run["steps"] == 400 and run["seeds"] == 3
        cell = sorted(
            (r for r in rows if (r["game"], r["leader"], r["follower"]) == (game, leader, follower)),
            key=lambda r: int(r["seed"]),
        )
        finals = [[float(v) for v in r["final_action"].strip("[]").split()] for r in cell]
        np.testing.assert_array_equal(run["final_actions"], finals)
        g = make(game, **tournament.settings(game)["params"])
        dist = g.distance(np.array(finals), np.array(run["equilibrium"]))
        assert run["distance_median"] == pytest.approx(np.median(dist))
        assert run["distance_p95"] == pytest.approx(np.percentile(dist, 95))
    np.testing.assert_allclose(runs[("duopoly", "hierarchical", "best_response")]["equilibrium"], [46.0, 26.0])
    assert runs[("duopoly", "hierarchical", "best_response")]["distance_median"] < 1.0


def test_heatmap_marks_equilibrium_costs_and_keeps_cell_labels_readable(tmp_path):
    """Equilibrium costs are lines on the colour bars (inside their range), named in a legend; diverged
    matches are left out of a cell's mean and counted; cell text is dark on light cells, white on dark."""
    from experiments.tournament_lib import heatmap
    from tests.experiments.figures import captured_figures, figure_problems

    def row(leader, seed, lc, fc, diverged="0"):
        return {
            "game": "g",
            "leader": leader,
            "follower": "f",
            "seed": str(seed),
            "leader_cost": str(lc),
            "follower_cost": str(fc),
            "diverged": diverged,
        }

    rows = [row("cheap", 0, -10.0, 1.0), row("dear", 0, 10.0, 2.0), row("dear", 1, 99.0, 99.0, diverged="1")]
    refs = {"Stackelberg": [(-20.0, 0.5)], "Nash": [(5.0, 3.0)]}
    with captured_figures() as saved:
        heatmap(rows, "g", tmp_path / "h.png", refs)
    ((path, fig, kw),) = saved
    assert not figure_problems(path, fig, kw)
    panels = [ax for ax in fig.axes if ax.images]
    bars = [ax for ax in fig.axes if not ax.images]
    assert len(panels) == len(bars) == 2
    for k, (ax, bar) in enumerate(zip(panels, bars)):
        lo, hi = ax.images[0].get_clim()
        marks = sorted(line.get_ydata()[0] for line in bar.lines if line.get_linestyle() != "None")
        arrows = sorted(line.get_ydata()[0] for line in bar.lines if line.get_linestyle() == "None")
        assert marks == sorted([refs["Stackelberg"][0][k], refs["Nash"][0][k]])
        assert arrows == sorted(2 * marks)  # an arrowhead on each side of the bar at each mark
        assert lo < min(marks) and max(marks) < hi  # a margin: a mark at the end of the range is not on the edge
        texts = {t.get_text(): t.get_color() for t in ax.texts}
        cheap, dear = ("-10", "10") if k == 0 else ("1", "2")
        assert texts[cheap] == "black" and texts[f"{dear}\n(1 diverged)"] == "white"  # the diverged 99 is left out
    legend = " ".join(t.get_text() for t in fig.legends[0].get_texts())
    assert "Stackelberg equilibrium cost" in legend and "Nash equilibrium cost" in legend


def test_without_rule_lists_every_registered_rule_that_fits_takes_part():
    """Issue 5: without ``--leaders/--followers`` every registered learner that fits the role plays; a pairing no
    feedback mode serves is skipped with a note, never silently."""
    from agents import list_learners
    from experiments.common import parse_args

    args = parse_args(tournament.Args, ["--games", "duopoly", "--seeds", "2"])
    p = tournament.plan(args)
    keys, blocks, notes = list(p.keys()), list(p.blocks()), p.notes
    leaders, followers = list_learners(role="leader"), list_learners(role="follower")
    assert {k[1] for k in keys} == set(leaders) and {k[2] for k in keys} == set(followers)
    for L in leaders:
        for F in followers:
            played = {("duopoly", L, F, 0), ("duopoly", L, F, 1)} <= set(keys)
            assert played != any(f"{L} vs {F} skipped" in n for n in notes), (L, F)
    assert sum(len(b[3]) for b in blocks) == len(keys)


def test_followers_learn_on_the_faster_timescale():
    from stackenv.games import make

    game = make("duopoly")
    learners = tournament._learners(game, "hierarchical", "gradient")
    k = 1000.0
    assert learners["leader"].lr(k) == pytest.approx(1 / k)  # γ_1 = 1/k
    assert learners["follower"].lr(k) == pytest.approx(k ** (-2 / 3))  # γ_2 = 1/k^{2/3}: γ_1 = o(γ_2)
    assert tournament._learners(game, "gradient", "best_response")["follower"].name == "best_response"


def test_bradley_terry_standard_errors_match_the_two_player_closed_form():
    """Two rules, 100 comparisons (+ the prior's half win each way): the fitted win probability is p = 70.5/101 and
    Var(θ_1 − θ_2) = 1/(n p (1 − p)); centred, θ_1 = −θ_2, so each standard error is half of that one's."""
    from experiments.tournament_lib import bradley_terry_se

    wins = np.array([[0.0, 70.0], [30.0, 0.0]])
    theta = bradley_terry(wins)
    p = 70.5 / 101
    np.testing.assert_allclose(theta[0] - theta[1], np.log(p / (1 - p)), rtol=1e-8)
    np.testing.assert_allclose(bradley_terry_se(wins, theta), 0.5 / np.sqrt(101 * p * (1 - p)), rtol=1e-6)


@pytest.mark.parametrize("rank_by", ["cost", "bt"])
def test_leaderboard_ranks_by_one_named_statistic_and_marks_overlapping_intervals(rank_by):
    """Rule a is best in every match; b and c trade places seed by seed (their intervals overlap: a tie)."""
    from experiments.tournament_lib import leaderboard, leaderboard_rows

    rows = []
    for seed in range(20):
        costs = {"a": 0.0, "b": 10.0 + seed % 2, "c": 10.0 + (seed + 1) % 2 + 0.01}
        for rule, cost in costs.items():
            rows.append(
                {"game": "g", "leader": rule, "follower": "f", "seed": str(seed), "leader_cost": str(cost)}
                | {"follower_cost": "0.0", "diverged": "0"}
            )
    board = leaderboard(rows, "leader", rank_by)
    assert [e["rule"] for e in board] == ["a", "b", "c"] and [e["rank"] for e in board] == [1, 2, 3]
    assert [e["ties"] for e in board] == [[], ["c"], ["b"]]
    assert [r[0] for r in leaderboard_rows(board)] == ["1", "2 (= 3)", "3 (= 2)"]
    with pytest.raises(ValueError, match="unknown ranking statistic"):
        leaderboard(rows, "leader", "elo")


def test_report_states_the_ranking_statistic(local_run):
    out, summary = local_run
    assert summary["ranked_by"] == "cost"
    assert "**Ranked by mean normalised cost (lower is better).**" in (out / "report.md").read_text()
