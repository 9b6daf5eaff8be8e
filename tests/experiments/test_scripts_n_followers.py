"""experiments.n_followers: learners converge to the closed forms for several N and on the 3-level chain,
the leader's advantage grows with N, and the timings and their slopes are reported."""

import json

import numpy as np
import pytest

from experiments import n_followers, n_followers_chain, n_followers_oligopoly, n_followers_timing
from tests.experiments.contract import RUN_KEYS, run_script

NS = [1, 2, 5, 1000]


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("n_followers")
    argv = [
        "--ns",
        *map(str, NS),
        "--learn-max-n",
        "5",
        "--seeds",
        "3",
        "--steps",
        "1500",
        "--timing-ns",
        "1",
        "100",
        "300",
        "--dense-max-n",
        "300",
        "--timing-batch",
        "8",
    ]
    summary, payload = run_script(n_followers, out, argv)
    return out, summary, payload


def test_files_and_contract(result):
    out, summary, payload = result
    for name in ("n_followers_convergence.png", "n_followers_advantage.png", "n_followers_timing.png", "table.md"):
        assert (out / name).stat().st_size > 0, name
    assert payload["experiment"] == "n_followers"
    assert payload == json.loads(json.dumps(summary))
    olig = [r for r in payload["runs"] if r["game"] == "oligopoly"]
    chain = [r for r in payload["runs"] if r["game"] == "hierarchy"]
    assert [r["n_followers"] for r in olig] == [1, 2, 5]  # N = 1000 above --learn-max-n: closed forms only
    assert len(chain) == 1
    for run in payload["runs"]:
        assert RUN_KEYS <= set(run), RUN_KEYS - set(run)
        assert run["dynamics"] == "stackelberg" and run["seeds"] == 3 and run["steps"] == 1500
        assert np.array(run["final_actions"]).shape[1] == len(run["equilibrium"])
    for run in olig:
        assert len(run["params"]["follower_costs"]) == run["n_followers"]
        assert len(set(run["params"]["follower_costs"])) == run["n_followers"]  # unequal costs


def test_learners_converge_to_closed_forms(result):
    _, _, payload = result
    for run in payload["runs"]:
        x_star = np.array(run["equilibrium"])
        assert run["distance_p95"] < 1e-2 * np.linalg.norm(x_star), (run["game"], run.get("n_followers"))
    chain = next(r for r in payload["runs"] if r["game"] == "hierarchy")
    assert chain["equilibrium"] == pytest.approx([43.5, 27.75, 12.875])  # backward induction, costs (5, 2, 3)


def test_leader_advantage_grows_with_n(result):
    _, _, payload = result
    args = n_followers.parse_args(n_followers.Args, [])
    ratios = []
    for N in NS:
        game = n_followers.oligopoly(args, N)
        ps = n_followers.leader_profit(game, game.stackelberg_closed_form())
        pn = n_followers.leader_profit(game, game.nash_closed_form())
        ratios.append(ps / pn)
    assert np.all(np.diff(ratios) > 0) and ratios[0] > 1 and ratios[-1] > 100
    for run in (r for r in payload["runs"] if r["game"] == "oligopoly"):
        learned = np.median(run["leader_profit_learned"])
        # the profit is evaluated at the noisy joint action: followers' fluctuations move it by ~q₀·0.02
        assert learned == pytest.approx(run["leader_profit_stackelberg"], rel=5e-3)
        assert learned > run["leader_profit_nash"]


def test_reduced_curvature_is_two_over_n_plus_one():
    args = n_followers.parse_args(n_followers.Args, [])
    for N in (1, 7, 40):
        game = n_followers.oligopoly(args, N)
        mu = n_followers.reduced_curvature(game, 0, game.stackelberg_closed_form())
        assert mu == pytest.approx(2 / (N + 1), rel=1e-6)


def test_timings_reported(result):
    _, _, payload = result
    timing = payload["timing_seconds_per_leader_update"]
    assert set(timing["structured O(N)"]) == {"1", "100", "300"}
    assert set(timing["dense LU solve"]) == {"1", "100", "300"}
    assert all(t > 0 for per in timing.values() for t in per.values())
    assert set(payload["timing_slopes"]) == set(timing)


def test_each_study_runs_alone_and_the_front_merges_their_runs(tmp_path):
    """``experiments.n_followers`` is its three studies run with one set of flags: the oligopoly's and the chain's
    ``runs`` alone equal the front's (bit for bit but the measured seconds), the timing study reports the same
    methods and N."""
    learn = ["--seeds", "2", "--steps", "200", "--record-every", "50"]
    timing = ["--timing-ns", "1", "30", "--dense-max-n", "30", "--timing-batch", "2"]
    _, front = run_script(n_followers, tmp_path / "front", [*learn, "--ns", "1", "3", *timing])
    _, olig = run_script(n_followers_oligopoly, tmp_path / "olig", [*learn, "--ns", "1", "3"])
    _, chain = run_script(n_followers_chain, tmp_path / "chain", learn)
    _, times = run_script(n_followers_timing, tmp_path / "timing", timing)
    assert (olig["experiment"], chain["experiment"]) == ("n_followers_oligopoly", "n_followers_chain")
    for run in front["runs"] + olig["runs"]:
        run.pop("seconds_per_step", None)
    assert front["runs"] == olig["runs"] + chain["runs"]
    assert times["experiment"] == "n_followers_timing"
    assert {k: set(v) for k, v in times["timing_seconds_per_leader_update"].items()} == {
        k: set(v) for k, v in front["timing_seconds_per_leader_update"].items()
    }
    assert (tmp_path / "olig" / "n_followers_oligopoly.png").stat().st_size > 0
    assert (tmp_path / "chain" / "n_followers_chain.png").stat().st_size > 0
