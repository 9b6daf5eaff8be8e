"""experiments.bench: runs on tiny workloads and writes every key of issue 6 (numbers are not checked:
performance targets live in the benchmark, not in timed tests)."""

import json

from experiments import bench

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
}
N_FOLLOWER_KEYS = {
    "N",
    "structured_s",
    "krylov_s",
    "structured_exponent",
    "krylov_exponent",
    "iterations_at_1000",
    "seconds_for_iterations_at_1000",
}


def test_bench_tiny_writes_every_key(tmp_path, capsys):
    path = tmp_path / "bench.json"
    res = bench.main(["--tiny", "--repeats", "1", "--json", str(path)])
    printed = capsys.readouterr().out
    assert "| benchmark |" in printed and "standard tournament (s)" in printed
    assert "leaderboard" not in printed  # the tournament's own output stays out of the benchmark table
    data = json.loads(path.read_text())
    assert KEYS <= set(data) and KEYS <= set(res)
    assert N_FOLLOWER_KEYS <= set(data["n_follower"])
    assert {"cores", "cpu_model"} <= set(data["machine"])
    assert data["tournament_workload"]["leaders"] == list(bench.STANDARD_LEADERS)
    assert data["tournament_workload"]["followers"] == list(bench.STANDARD_FOLLOWERS)
    assert len(bench.STANDARD_LEADERS) == len(bench.STANDARD_FOLLOWERS) == 5
    for key in ("env_ratio", "batched_ratio", "tournament_seconds"):
        assert data[key] > 0
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
