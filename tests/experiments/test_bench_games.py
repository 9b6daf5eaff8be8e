"""experiments.bench_games: the K-level chain workload runs at K = 100 and reports what it claims (numbers are not
timed here; the benchmark measures them)."""

from experiments import bench_games


def test_chain_workload_at_100_levels():
    res = bench_games.bench_chain(100, 40)
    assert res["K"] == 100 and "step_seconds" in res and res["peak_traced_mb"] > 0
    # closed form and generic recursion agree to rounding (cond(J_S) ≈ 1.8 at the defaults)
    assert res["equilibrium_error"] < 1e-12
    assert res["distance"]["end"] < 0.1 * res["distance"]["start"]  # the learners head for the closed-form point
    (row,) = bench_games.chain_rows({"chain": res})
    assert "K = 100" in row[0]
    assert bench_games.chain_rows({}) == []


def test_lq_followers_workload():
    """Runs per N and reports each key; the traced peak of one omega_S grows like N (10× per decade measured 8.6;
    an N × N object would make it 100×)."""
    res = bench_games.bench_lq_followers([100, 1000], 1)
    for key in ("setup_seconds", "omega_S_seconds", "omega_S_traced_mb", "step_seconds"):
        assert len(res[key]) == 2, key
    small, large = res["omega_S_traced_mb"]
    assert large / small < 30
    assert res["omega_S_exponent"] is not None and "step_exponent" in res
    rows = bench_games.lq_rows({"lq_followers": res})
    assert len(rows) == 2 and "N = 1,000" in rows[1][0]
    assert bench_games.lq_rows({}) == []
