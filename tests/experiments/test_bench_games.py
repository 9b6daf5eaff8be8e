"""experiments.bench_games: the K-level chain workload runs at K = 100 and reports what it claims (numbers are not
timed here; the benchmark measures them)."""

from experiments import bench_games


def test_chain_workload_at_100_levels():
    res = bench_games.bench_chain(100, 20, 1)
    assert res["K"] == 100 and "step_seconds" in res and res["peak_traced_mb"] > 0
    # closed form and generic recursion agree to rounding (cond(J_S) ≈ 1.8 at the defaults)
    assert res["equilibrium_error"] < 1e-12
    assert res["distance"]["end"] < 0.1 * res["distance"]["start"]  # the learners head for the closed-form point
    (row,) = bench_games.chain_rows({"chain": res})
    assert "K = 100" in row[0]
    assert bench_games.chain_rows({}) == []
