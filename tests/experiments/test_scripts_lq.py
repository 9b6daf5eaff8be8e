"""experiments.lq: the vehicle scenario's exact costs, policy-space learners moving to their (different)
targets, PPO's gap curve; files and the JSON contract."""

import json

import numpy as np
import pytest

from experiments import lq
from stackenv.games import lq_solve, make
from tests.experiments.contract import RUN_KEYS, run_script


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("lq")
    argv = ["--seeds", "2", "--steps", "600", "--timesteps", "512", "--evals", "2", "--eval-episodes", "3"]
    summary, payload = run_script(lq, out, argv)
    return out, summary, payload, {r["dynamics"]: r for r in payload["runs"]}


def test_files_and_contract(result):
    out, summary, payload, runs = result
    for name in ("lq_policy_learning.png", "lq_ppo_gap.png", "table.md"):
        assert (out / name).stat().st_size > 0
    assert payload["experiment"] == "lq" and payload == json.loads(json.dumps(summary))
    assert set(runs) == {"gradient_play", "hierarchical", "ppo_leader_vs_stackelberg_follower"}
    for run in runs.values():
        assert RUN_KEYS <= set(run), RUN_KEYS - set(run)
        assert run["seeds"] == 2
    assert np.array(runs["ppo_leader_vs_stackelberg_follower"]["gap_curve"]).shape == (2, 3)


def test_exact_costs_are_the_solver_s(result):
    *_, payload, _ = result
    game = make("lq", **lq.PLATOON, horizon=50, bound=3.0)
    for concept in lq_solve.CONCEPTS:
        np.testing.assert_allclose(payload["exact"][concept]["costs"], lq_solve.solve(game.model, concept).costs)
    # the leader gains by leading, the follower pays for it (table (a): 73.39 vs 73.56, 234.6 vs 232.9)
    fn, fs = payload["exact"]["feedback_nash"]["costs"], payload["exact"]["feedback_stackelberg"]["costs"]
    assert fs[0] < fn[0] and fs[1] > fn[1]


def test_policy_learners_approach_different_targets(result):
    """Noise-free, deterministic runs: after 600 steps both learners are far closer to their target than they
    started (starts are 0.05·N(0, I) from the Nash gains, distance ≈ 0.12), and the two targets differ."""
    *_, runs = result
    nash, stack = runs["gradient_play"], runs["hierarchical"]
    assert nash["distance_p95"] < 0.02 and stack["distance_p95"] < 0.1
    target_gap = np.linalg.norm(np.subtract(nash["equilibrium"], stack["equilibrium"]))
    assert target_gap > 0.1
    fs = np.array(stack["stationary_feedback_stackelberg"])
    assert np.linalg.norm(fs - stack["equilibrium"]) > 0.1  # policy Stackelberg ≠ feedback Stackelberg


def test_ppo_gap_shrinks(result):
    *_, runs = result
    gaps = np.array(runs["ppo_leader_vs_stackelberg_follower"]["gap_curve"])
    assert np.all(gaps[:, -1] < gaps[:, 0])  # an untrained PPO leader is ~170 above the exact leader
