"""experiments.torus: runs end to end, writes its figures and a contract-complete JSON, and the runs reach
equilibria of their own kind (Nash dynamics → Nash equilibria, hierarchical dynamics → Stackelberg)."""

import json

import numpy as np
import pytest

from experiments import torus
from stackenv.equilibria import critical_points, nash_equilibria, stackelberg_equilibria
from stackenv.games import make
from tests.experiments.contract import RUN_KEYS, run_script


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("torus")
    argv = [
        "--seeds",
        "6",
        "--steps",
        "5000",
        "--grid",
        "6",
        "--paths",
        "3",
        "--record-every",
        "5",
    ]
    summary, payload = run_script(torus, out, argv)
    return out, summary, payload


def test_files_and_contract(result):
    out, summary, payload = result
    for name in ("torus_paths.png", "torus_position_cost.png", "torus_basins.png", "table.md"):
        assert (out / name).stat().st_size > 0, name
    assert payload == json.loads(json.dumps(summary))
    assert payload["experiment"] == "torus"
    assert payload["runs"]
    for run in payload["runs"]:
        assert RUN_KEYS <= set(run), RUN_KEYS - set(run)
        assert run["game"] == "torus" and run["dynamics"] in ("nash", "stackelberg")
        assert run["params"]["alpha"] == [1.0, 1.3]
        assert len(run["final_actions"]) == run["seeds"] and len(run["equilibrium"]) == 2
        assert run["steps"] == 5000
    # every seed is accounted for once per dynamics
    for dyn in ("nash", "stackelberg"):
        assert sum(r["seeds"] for r in payload["runs"] if r["dynamics"] == dyn) == 6
        assert sum(r["share_of_seeds"] for r in payload["runs"] if r["dynamics"] == dyn) == pytest.approx(1.0)


def _nearest(game, final, points):
    return np.min([game.distance(final, p) for p in points], axis=0)


def test_runs_reach_equilibria_of_their_kind(result):
    """Nash dynamics: every run ends near a Nash equilibrium, nearer to it than to any Stackelberg equilibrium
    or non-Nash critical point of ω. Hierarchical dynamics: the leader's paper step γ_1 = 1/k moves it on a
    logarithmic clock, so a run started far out along the follower's response curve can still be creeping
    in after 5000 steps (seed 3 here; the basin plot greys such runs); all others end at a Stackelberg point."""
    _, _, payload = result
    game = make("torus")
    nash = np.array([e.x for e in nash_equilibria(game)])
    stack = np.array([e.x for e in stackelberg_equilibria(game)])
    other_omega = [c.x for c in critical_points(game, "omega") if np.min(game.distance(nash, c.x)) > 1e-6]
    finals = {
        dyn: np.concatenate([r["final_actions"] for r in payload["runs"] if r["dynamics"] == dyn])
        for dyn in ("nash", "stackelberg")
    }
    d_nash = _nearest(game, finals["nash"], nash)
    assert np.all(d_nash < 0.05), d_nash
    assert np.all(d_nash < _nearest(game, finals["nash"], stack))
    assert np.all(d_nash < _nearest(game, finals["nash"], other_omega))
    d_stack = _nearest(game, finals["stackelberg"], stack)
    near = d_stack < 0.05
    assert near.sum() >= 5, d_stack
    assert np.all(d_stack[near] < _nearest(game, finals["stackelberg"][near], nash))
    for run in payload["runs"]:
        own = nash if run["dynamics"] == "nash" else stack
        assert np.min(game.distance(own, np.array(run["equilibrium"]))) < 1e-9  # one of the game's equilibria
        if run["dynamics"] == "nash":
            assert run["distance_median"] < 0.05 and run["distance_p95"] < 0.05
    assert np.median(d_stack) < 0.02


def test_basins_cover_both_equilibria(result):
    _, _, payload = result
    for dyn in ("nash", "stackelberg"):
        shares = [r["basin_share"] for r in payload["runs"] if r["dynamics"] == dyn]
        not_conv = [r["not_converged_share"] for r in payload["runs"] if r["dynamics"] == dyn][0]
        assert 0.2 < max(shares) < 0.8 or len(shares) == 1
        assert not_conv <= 0.1


def test_foc_curves_pass_through_equilibria():
    game = make("torus")
    t, fields = torus.foc_fields(game, 201)
    for e in stackelberg_equilibria(game):
        j, i = np.argmin(np.abs(t - e.x[0])), np.argmin(np.abs(t - e.x[1]))
        scale = np.abs(fields["Df1_num"]).max()
        assert abs(fields["Df1_num"][i, j]) < 0.05 * scale
        assert abs(fields["D2f2"][i, j]) < 0.05 * np.abs(fields["D2f2"]).max()


def test_bad_arguments_are_rejected():
    with pytest.raises(SystemExit):
        torus.main(["--grid", "1"])
    with pytest.raises(SystemExit):
        torus.main(["--seeds", "2", "--sample", "5"])
