"""experiments.zero_sum: Props. 2–3 made visible — gradient play reaches the spurious attractor, the
hierarchical learner does not; on prop2 both reach the (non-Nash) Stackelberg point."""

import json

import numpy as np
import pytest

from experiments import zero_sum
from tests.experiments.contract import RUN_KEYS, run_script


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("zero_sum")
    argv = [
        "--seeds",
        "6",
        "--steps",
        "1500",
        "--paths",
        "2",
        "--record-every",
        "5",
    ]
    summary, payload = run_script(zero_sum, out, argv)
    runs = {(r["instance"], r["dynamics"]): r for r in payload["runs"]}
    return out, summary, payload, runs


def test_files_and_contract(result):
    out, summary, payload, runs = result
    for name in ("zero_sum_phase.png", "zero_sum_distance.png", "table.md"):
        assert (out / name).stat().st_size > 0, name
    assert payload["experiment"] == "zero_sum"
    assert payload == json.loads(json.dumps(summary))
    assert set(runs) == {(i, d) for i in ("prop2", "spurious") for d in ("nash", "stackelberg")}
    for (inst, _), run in runs.items():
        assert RUN_KEYS <= set(run), RUN_KEYS - set(run)
        assert run["game"] == "zero_sum" and run["params"]["instance"] == inst
        assert run["seeds"] == 6 and run["steps"] == 1500
        d = 2 if inst == "prop2" else 4
        assert np.array(run["final_actions"]).shape == (6, d)
        assert run["equilibrium"] == [0.0] * d


def test_classification_matches_props(result):
    *_, runs = result
    prop2, spurious = runs["prop2", "nash"]["classification"], runs["spurious", "nash"]["classification"]
    assert not prop2["differential_nash"] and prop2["differential_stackelberg"]  # Prop. 2's example
    assert prop2["stable_simgrad"] and prop2["stable_stackelberg"]
    assert not spurious["differential_nash"] and not spurious["differential_stackelberg"]
    assert spurious["stable_simgrad"] and not spurious["stable_stackelberg"]  # Prop. 3: spurious for ω only


def test_gradient_play_reaches_spurious_point_and_hierarchical_does_not(result):
    *_, runs = result
    assert runs["spurious", "nash"]["reached_share"] == 1.0
    assert runs["spurious", "nash"]["distance_p95"] < 0.05
    assert runs["spurious", "stackelberg"]["reached_share"] == 0.0
    assert runs["spurious", "stackelberg"]["boundary_share"] == 1.0
    assert runs["spurious", "stackelberg"]["distance_median"] > 5.0
    for dyn in ("nash", "stackelberg"):  # the prop2 point attracts both dynamics
        assert runs["prop2", dyn]["reached_share"] == 1.0
        assert runs["prop2", dyn]["distance_p95"] < 0.05


def test_table_lists_every_pair(result):
    out, *_ = result
    table = (out / "table.md").read_text()
    for inst in ("prop2", "spurious"):
        assert table.count(f"| {inst} |") == 2
    assert "6/6" in table and "0/6" in table


def test_bad_arguments_are_rejected():
    with pytest.raises(SystemExit):
        zero_sum.main(["--p-fast", "0.9", "--p-slow", "0.8"])
