"""Tournament result folders (issues 14.5, 14.7, 17.1, 17.2, 17.6, 17.7): settings-keyed resume, the folder lock
against a second real process, validated rows with quarantine, clear one-line failures before any file exists."""

import csv
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from agents import play
from experiments import tournament
from experiments.tournament_match import MeteredEnv, _learners, nearest_distance, seat_indices, settings
from experiments.tournament_store import QUARANTINE
from stackenv.envs import BatchedStackelbergEnv
from stackenv.equilibria import nash_equilibria, stackelberg_equilibria
from stackenv.games import make

ROOT = Path(__file__).resolve().parents[2]
BASE = ["--games", "duopoly", "--leaders", "hierarchical", "--followers", "gradient", "--seeds", "3"]
BASE += ["--progress", "false", "--backend", "sequential"]


def cli(*argv, cwd=ROOT, **kw):
    """``python -m experiments.tournament ARGV`` in a subprocess (the code a user runs)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "experiments.tournament", *argv]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, **kw)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref")
    tournament.main([*BASE, "--steps", "200", "--out", str(out)])
    return out


def test_resume_with_other_steps_is_refused_naming_the_difference(reference, capsys):
    before = (reference / "matches.csv").read_text()
    with pytest.raises(SystemExit) as exc:
        tournament.main([*BASE, "--steps", "500", "--out", str(reference), "--resume"])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and err.count("\n") == 0
    assert "steps: 200 in run.json, 500 now" in err
    with pytest.raises(SystemExit):
        tournament.main([*BASE, "--steps", "200", "--noise-std", "0", "--out", str(reference), "--resume"])
    assert "duopoly noise_std: 3.16" in capsys.readouterr().err
    assert (reference / "matches.csv").read_text() == before


def test_a_first_run_never_says_resuming(tmp_path, capsys):
    tournament.main([*BASE, "--steps", "50", "--out", str(tmp_path / "fresh"), "--progress", "true"])
    assert "resuming" not in capsys.readouterr().err


def test_settings_come_from_the_paper_or_the_command_line_and_are_reported(tmp_path):
    out = tmp_path / "o"
    argv = [*BASE, "--steps", "50", "--out", str(out), "--noise-std", "duopoly=0", "--radius", "2.5"]
    summary = tournament.main(argv)
    record = json.loads((out / "run.json").read_text())
    assert record["games"]["duopoly"] | {"d": 2} == {
        "params": {},
        "noise_std": 0.0,
        "radius": 2.5,
        "feedback": None,
        "d": 2,
    }
    assert summary["settings"]["duopoly"]["noise_std"] == 0.0
    report = (out / "report.md").read_text()
    assert "| duopoly | {} (paper) | 0 (command line) | 2.5 (command line) | auto |" in report
    assert settings("torus")["noise_std"] == 0.1 and settings("torus")["source"]["noise_std"] == "paper"
    # --init-radius (the name issue 14 gave the option) sets the same setting
    out2 = tmp_path / "o2"
    tournament.main([*BASE, "--steps", "50", "--out", str(out2), "--init-radius", "duopoly=3.5"])
    assert json.loads((out2 / "run.json").read_text())["games"]["duopoly"]["radius"] == 3.5


def test_bad_rows_are_quarantined_and_recomputed(reference, tmp_path, capsys):
    """Issue 17.2: a bogus duplicate of a good row, and a row with a valid key and ``abc`` values, are moved to
    the quarantine file with a warning and recomputed, so the table ends as the uninterrupted run's."""
    out = tmp_path / "o"
    out.mkdir()
    for name in ("matches.csv", "run.json"):
        (out / name).write_bytes((reference / name).read_bytes())
    good = (reference / "matches.csv").read_text()
    lines = good.splitlines()
    bogus = lines[1].split(",")
    bogus[6] = "-999999.0"  # leader_cost
    broken = lines[2].split(",")
    broken[6:11] = ["abc"] * 5
    lines[2] = ",".join(broken)
    (out / "matches.csv").write_text("\n".join([*lines, ",".join(bogus)]) + "\n")
    tournament.main([*BASE, "--steps", "200", "--out", str(out), "--resume"])
    assert "3 bad rows moved to" in capsys.readouterr().err
    assert (out / "matches.csv").read_text() == good
    quarantined = list(csv.DictReader((out / QUARANTINE).read_text().splitlines()))
    assert sorted(q["problem"] for q in quarantined) == [
        "2 different rows for one match",
        "2 different rows for one match",
        "could not convert string to float: 'abc'",
    ]


def test_a_second_process_on_the_same_folder_is_refused_and_no_row_is_lost(tmp_path):
    """Issue 17.1, with two real processes: while one run holds the folder a second refuses, naming the holder's
    pid; run afterwards, it adds its own game's rows and keeps the first run's."""
    out = tmp_path / "o"
    # one block of 30000 steps (≈ 6 s of CPU): the second process starts well before the first is done
    first = [*BASE, "--steps", "30000", "--out", str(out), "--resume"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "experiments.tournament", *first], cwd=ROOT, env=env)
    lock = out / ".lock"
    deadline = time.time() + 120
    while time.time() < deadline and not (lock.exists() and lock.read_text()):
        time.sleep(0.05)
    torus = ["--games", "torus", "--seeds", "1", "--steps", "30000", "--out", str(out), "--resume"]
    second = cli(*BASE, *torus)
    proc.wait(timeout=600)
    assert proc.returncode == 0
    assert second.returncode == 2 and f"in use by pid {proc.pid} on " in second.stderr
    assert second.stderr.strip().count("\n") == 0
    assert cli(*BASE, *torus).returncode == 0
    rows = list(csv.DictReader((out / "matches.csv").read_text().splitlines()))
    assert sum(r["game"] == "duopoly" for r in rows) == 3 and sum(r["game"] == "torus" for r in rows) == 1


def test_a_lock_left_by_a_killed_run_does_not_block(reference, tmp_path):
    out = tmp_path / "o"
    cmd = [sys.executable, "-m", "experiments.tournament", *BASE, "--steps", "200", "--out", str(out)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and not (out / ".lock").exists():
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert f"pid {proc.pid}" in (out / ".lock").read_text()  # the dead holder's note is still there
    tournament.main([*BASE, "--steps", "200", "--out", str(out), "--resume"])
    assert (out / "matches.csv").read_text() == (reference / "matches.csv").read_text()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--n-jobs", "0"], "--n-jobs 0 leaves no worker"),
        (["--import", "no_such_plugin_module"], "cannot import plugin module 'no_such_plugin_module'"),
        (
            ["--backend", "dask", "--address", "tcp://127.0.0.1:9"],
            "cannot reach the Dask scheduler at tcp://127.0.0.1:9",
        ),
        (["--seeds", str(10**9)], "1e+09 matches (1 pairings × 1000000000 seeds) need ≈"),
    ],
    ids=["n-jobs-0", "plugin", "dask", "huge-seeds"],
)
def test_clear_failures_exit_2_with_one_line_before_any_file(tmp_path, capsys, extra, message):
    out = tmp_path / "o"
    with pytest.raises(SystemExit) as exc:
        tournament.main([*BASE, "--steps", "50", "--out", str(out), *extra])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and message in err and err.strip().count("\n") == 0
    assert not out.exists()


def test_missing_ray_empty_and_unusable_out_are_one_line_errors(tmp_path):
    (tmp_path / "file").write_text("")
    cases = [(["--out", ""], "--out is empty"), (["--out", str(tmp_path / "file" / "o")], "is not a folder")]
    try:
        import ray  # noqa: F401
    except ImportError:
        cases.append((["--backend", "ray", "--out", str(tmp_path / "r")], "needs Ray, which is not installed"))
    for extra, message in cases:
        res = cli(*BASE, "--steps", "50", *extra, cwd=tmp_path)
        assert res.returncode == 2 and message in res.stderr and res.stderr.count("\n") == 1, res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_a_full_disk_is_a_one_line_error(tmp_path):
    """Writes past a file-size limit fail like a full disk (EFBIG instead of ENOSPC): one line, exit 2."""

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1500, 1500))

    res = cli(*BASE, "--steps", "50", "--seeds", "40", "--out", str(tmp_path / "o"), preexec_fn=limit)
    assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
    assert res.stderr.startswith("error: cannot write the results in") and "File too large" in res.stderr


def test_a_match_keeps_what_its_row_needs_not_its_path():
    """The metered sums equal the statistics of the full recorded path (issue 17.6: O(B) memory, not O(K·B·d))."""
    game = make("duopoly")
    cfg = settings("duopoly")
    points = np.array([e.x for e in stackelberg_equilibria(game) + nash_equilibria(game)])
    runs = []
    for metered in (True, False):
        kw = dict(num_envs=5, feedback="hierarchical", noise_std=cfg["noise_std"])
        env = MeteredEnv(game, points, cfg["radius"], **kw) if metered else BatchedStackelbergEnv(game, **kw)
        traj = play(env, _learners(game, "hierarchical", "gradient"), 300, record_every=300 if metered else 1, seed=0)
        runs.append((env, traj))
    (env, short), (_, full) = runs
    assert short.x.shape[0] == 2 and full.x.shape[0] == 301
    np.testing.assert_array_equal(short.x_final, full.x_final)
    leader_idx, follower_idx = seat_indices(game)
    np.testing.assert_allclose(env.cost_sums[:, 0] / 300, full.costs[1:, :, leader_idx].mean(axis=(0, 2)), rtol=1e-12)
    np.testing.assert_allclose(env.cost_sums[:, 1] / 300, full.costs[1:, :, follower_idx].mean(axis=(0, 2)), rtol=1e-12)
    outside = nearest_distance(game, points, full.x[1:]) > cfg["radius"]
    last = [np.flatnonzero(outside[:, b])[-1] + 1 if outside[:, b].any() else 0 for b in range(5)]
    np.testing.assert_array_equal(env.last_outside, last)
