"""experiments.rl: SB3 leaders train end to end on an off-centre duopoly (A = 100, c = (30, 2): Stackelberg quantity
q_1* = 21, Nash 14, the action range's centre 50 — where an untrained policy commits); every algorithm ends near
q_1*; the JSON follows the contract."""

import json

import numpy as np
import pytest

from experiments import rl
from tests.experiments.contract import RUN_KEYS, run_script


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("rl")
    argv = [
        "--seeds",
        "2",
        "--timesteps",
        "4096",
        "--off-policy-timesteps",
        "600",
        "--A",
        "100",
        "--c",
        "30",
        "2",
        "--algos",
        "ppo",
        "sac",
        "--follower-steps",
        "12",
        "--evals",
        "3",
        "--eval-episodes",
        "2",
    ]
    summary, payload = run_script(rl, out, argv)
    return out, summary, payload, {r["dynamics"]: r for r in payload["runs"]}


def test_files_and_contract(result):
    out, summary, payload, runs = result
    assert (out / "rl_learning_curves.png").stat().st_size > 0
    assert (out / "table.md").stat().st_size > 0
    assert payload["experiment"] == "rl"
    assert payload == json.loads(json.dumps(summary))
    assert set(runs) == {f"{a}_leader_vs_{f}" for a in ("ppo", "sac") for f in ("best_response", "gradient")}
    for run in runs.values():
        assert RUN_KEYS <= set(run), RUN_KEYS - set(run)
        assert run["game"] == "duopoly" and run["params"]["A"] == 100.0
        assert run["seeds"] == 2 and np.array(run["final_actions"]).shape == (2, 2)
        assert run["equilibrium"] == pytest.approx([21.0, 38.5])
    assert runs["ppo_leader_vs_best_response"]["steps"] >= 4096
    assert runs["sac_leader_vs_gradient"]["steps"] == 600


def test_every_leader_commits_near_stackelberg(result):
    """PPO and SAC end within 3 of q_1* = 21 (measured: within 1.9 over these seeds); the centre 50 is 29 away and
    the Nash quantity 7 — SAC with SB3's default entropy coefficient ended at 27–30, dragged towards the centre."""
    *_, runs = result
    for name, run in runs.items():
        q1 = np.array(run["leader_quantity"])
        assert np.all(np.abs(q1 - 21.0) < 3.0), (name, q1)
    final = np.array(runs["ppo_leader_vs_best_response"]["final_actions"])
    assert final[:, 1] == pytest.approx((100 - final[:, 0] - 2.0) / 2)  # the follower best-responded


def test_every_leader_beats_nash(result):
    *_, runs = result
    for name, run in runs.items():
        assert np.all(np.array(run["leader_profit"]) > 196.0), name  # Nash profit 196, Stackelberg 220.5


def test_bad_arguments_are_rejected():
    with pytest.raises(SystemExit):
        rl.main(["--follower-lr", "1.5"])
    with pytest.raises(SystemExit):
        rl.main(["--algos", "dqn"])
