"""experiments.bench: runs on tiny workloads and writes every key of issues 6 and 10 (numbers are not checked:
performance targets live in the benchmark, not in timed tests); the README's table is the one bench renders
from the JSON it documents."""

import json
from pathlib import Path

import pytest

from experiments import bench, bench_lib

ROOT = Path(__file__).resolve().parents[2]

KEYS = {
    "machine",
    "env_steps_per_s",
    "bare_env_steps_per_s",
    "env_ratio",
    "batched_game_steps_per_s",
    "handwritten_game_steps_per_s",
    "batched_ratio",
    "n_follower",
    "tournament_seconds",
    "sb3_vec_speedup",
    "sb3_vec_seconds",
    "sb3_dummy_seconds",
    "sb3_vec_workload",
}
N_FOLLOWER_KEYS = {
    "N",
    "structured_s",
    "krylov_s",
    "structured_exponent",
    "krylov_exponent",
    "iterations_at_1000",
    "seconds_for_iterations_at_1000",
    "growth_exponent",
    "step_seconds",
    "peak_rss_mb",
}


def test_bench_tiny_writes_every_key(tmp_path, capsys):
    path = tmp_path / "bench.json"
    res = bench.main(["--tiny", "--repeats", "1", "--json", str(path)])
    printed = capsys.readouterr().out
    assert "| benchmark |" in printed and "standard tournament" in printed and "SB3VecEnv" in printed
    assert "leaderboard" not in printed  # the tournament's own output stays out of the benchmark table
    data = json.loads(path.read_text())
    assert KEYS <= set(data) and KEYS <= set(res)
    assert N_FOLLOWER_KEYS <= set(data["n_follower"])
    assert {"cores", "cpu_model"} <= set(data["machine"])
    assert data["tournament_workload"]["leaders"] == list(bench.STANDARD_LEADERS)
    assert data["tournament_workload"]["followers"] == list(bench.STANDARD_FOLLOWERS)
    assert len(bench.STANDARD_LEADERS) == len(bench.STANDARD_FOLLOWERS) == 5
    for key in ("env_ratio", "batched_ratio", "tournament_seconds", "sb3_vec_speedup"):
        assert data[key] > 0
    nf = data["n_follower"]
    # one entry per N, each from its own process: the interpreter and imports alone take tens of MB
    assert nf["N"] == [10, 100, 1000] and nf["failed"] is None
    for key in ("step_seconds", "setup_seconds", "peak_rss_mb", "structured_s", "krylov_s"):
        assert len(nf[key]) == len(nf["N"]), key
    assert all(rss > 30 for rss in nf["peak_rss_mb"]) and all(t >= 0 for t in nf["step_seconds"])
    # the timed workloads do what they claim even when tiny: the batched run heads for the Stackelberg point
    # (~0.6 away after 50 steps; the Nash point is ~15 away) and the N = 1000 run closes in on it
    assert data["batched_workload"]["median_distance_to_stackelberg"] < 5.0
    moved = data["n_follower"]["distance_at_1000"]
    assert moved["end"] < moved["start"]


def test_handwritten_and_library_workloads_agree():
    """The reference loop and the library run the same workload: both land near the Stackelberg point (46, 26).

    At K = 400 each run is within ~0.25 (one sd) of it and the transient bias is ~0.1, so the mean of 64 runs
    lies within 0.5 unless the dynamics differ (gradient play would end at the Nash point, ~15 away)."""
    hand = bench.handwritten_stackelberg(64, 400)
    lib = bench.library_stackelberg(64, 400).x_final
    for x in (hand, lib):
        assert abs(float(x[:, 0].mean()) - 46.0) < 0.5 and abs(float(x[:, 1].mean()) - 26.0) < 0.5


def test_readme_table_is_the_documented_bench_json():
    """Every number in the README's benchmark table comes from docs/bench.json, rendered by ``bench.table``
    (regenerate both with ``python -m experiments.bench --json docs/bench.json --readme README.md``)."""
    data = json.loads((ROOT / "docs" / "bench.json").read_text())
    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index(bench.README_START) + len(bench.README_START) : readme.index(bench.README_END)]
    assert block.strip() == bench.table(data).strip()
    assert not data["tiny"] and KEYS <= set(data) and N_FOLLOWER_KEYS <= set(data["n_follower"])


def test_growth_exponent_is_the_slope_over_the_largest_decade(monkeypatch):
    """t = c·N over the top decade gives 1 whatever happens below it; a failed N ends the measured range."""
    times = {10: 1e-3, 100: 1e-3, 1000: 2e-3, 10_000: 2e-2}

    def fake(N):
        return {"step_seconds": times[N], "mean_step_seconds": times[N], "setup_seconds": 0.0, "peak_rss_mb": 1.0}

    monkeypatch.setattr(bench_lib, "_point_in_process", lambda N, steps: fake(N))
    out = bench_lib.n_follower_scaling([10, 100, 1000, 10_000], 1000)
    assert out["growth_exponent"] == pytest.approx(1.0) and out["growth_decade"] == [1000, 10_000]

    def point(N, steps):
        if N >= 1000:
            raise MemoryError("Unable to allocate 74.5 GiB")
        return fake(N)

    monkeypatch.setattr(bench_lib, "_point_in_process", point)
    out = bench_lib.n_follower_scaling([10, 100, 1000, 10_000], 1000)
    assert out["step_seconds"] == [1e-3, 1e-3, None, None] and out["failed"].startswith("N=1000: MemoryError")
    assert out["growth_exponent"] == pytest.approx(0.0) and out["growth_decade"] == [10, 100]


def test_n_follower_step_time_is_timed_between_env_steps():
    """Steps are timed from one ``env.step`` call to the next (no ``play`` set-up in them): K steps give K − 1 per
    timed run, every one of them a stamped env step."""
    point = bench_lib.n_follower_point(10, 20)
    assert point["timed_steps"] == bench_lib.TIMED_RUNS * 19
    assert 0 < point["step_seconds"] and 0 < point["mean_step_seconds"] and point["peak_rss_mb"] > 30
    env = bench_lib.ClockedEnv(bench_lib.oligopoly(3), num_envs=1, feedback="hierarchical")
    bench_lib.play(env, bench_lib.n_follower_learners(env.game), 7, seed=0)
    assert len(env.stamps) == 7 and env.stamps == sorted(env.stamps)
