"""experiments.zoo: every LOLA-style rule on the suite's games — the contract, where the rules end (Nash for the
simultaneous rules, Stackelberg for the hierarchical learner, the spurious attractor for all but it), the phase
portraits and the tournament with the new rules in both roles."""

import dataclasses
import json

import numpy as np
import pytest

from experiments import zoo
from experiments.common import parse_args
from tests.experiments.contract import RUN_KEYS, run_script

STEPS, SEEDS = 600, 4


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("zoo")
    argv = ["--seeds", str(SEEDS), "--steps", str(STEPS), "--tournament-seeds", "1", "--tournament-steps", "100"]
    summary, payload = run_script(zoo, out, [*argv, "--tournament-backend", "sequential"])
    runs = {(r["instance"], r["dynamics"]): r for r in payload["runs"]}
    return out, summary, payload, runs


def test_files_and_contract(result):
    out, summary, payload, runs = result
    assert payload["experiment"] == "zoo" and payload == json.loads(json.dumps(summary))
    for name in ("table.md", "zoo_phase_duopoly.png", "zoo_phase_torus.png", "zoo_phase_prop2.png"):
        assert (out / name).stat().st_size > 0, name
    assert not (out / "zoo_phase_spurious.png").exists()  # 4-D: no portrait
    rules = zoo.SELF_PLAY + zoo.REFERENCE
    assert set(runs) == {(g, r) for g in zoo.GAMES for r in rules}
    for run in runs.values():
        assert RUN_KEYS <= set(run) and run["seeds"] == SEEDS and run["steps"] == STEPS
        assert {"distance_nash_median", "distance_stackelberg_median", "distance_other_median"} <= set(run)
        assert sum(run["ended_at"].values()) == pytest.approx(1.0)
    table = (out / "table.md").read_text()
    assert all(f"| {rule} |" in table for rule in rules)


def test_simultaneous_rules_reach_nash_and_the_hierarchical_learner_stackelberg(result):
    """Duopoly (Nash (30.67, 33.67), Stackelberg (46, 26); noise std 0.1 against gradients of order 10):
    every simultaneous-move rule ends at the Nash point, the two-timescale hierarchical learner at the
    Stackelberg point. Tolerance 1 (action units of 0..100): the gap between the two points is 17.4."""
    *_, runs = result
    for rule in zoo.SELF_PLAY:
        assert runs["duopoly", rule]["distance_nash_median"] < 1.0, rule
        assert runs["duopoly", rule]["ended_at"] == {"Nash": 1.0}, rule
    assert runs["duopoly", "hierarchical"]["distance_stackelberg_median"] < 1.0


def test_spurious_attractor_catches_every_rule_but_the_hierarchical_learner(result):
    """zero_sum 'spurious': x = 0 is stable for ω (and for each rule's field: see test_zoo_convergence) but
    neither Nash nor Stackelberg; only the Stackelberg dynamics are repelled from it (Prop. 3)."""
    *_, runs = result
    for rule in zoo.SELF_PLAY:
        assert runs["spurious", rule]["ended_at"] == {"other critical": 1.0}, rule
    assert "other critical" not in runs["spurious", "hierarchical"]["ended_at"]


def test_tournament_has_the_new_rules_in_both_roles(result):
    out, summary, *_ = result
    boards = summary["tournament"]["leaderboards"]
    for role in ("leader", "follower"):
        assert set(zoo.NEW_RULES) <= {row["rule"] for row in boards[role]}, role
    assert (out / "tournament" / "matches.csv").stat().st_size > 0


def test_field_of_a_joint_rule_is_its_learners_direction():
    """The portraits draw each rule's own direction: LookAhead's field is ξ − α H_o ξ (here from the game)."""
    from stackenv.games import make

    game = make("quadratic")
    X = np.array([[0.1, -0.3], [1.0, 2.0]])
    xi, J = game.omega(X), game.jacobian(X)
    H_o = J * np.array([[0, 1], [1, 0]])
    expected = xi - 0.2 * np.einsum("bij,bj->bi", H_o, xi)
    np.testing.assert_allclose(zoo.field(game, "lookahead", X, 0.2), expected, rtol=1e-12)
    np.testing.assert_allclose(zoo.field(game, "hierarchical", X, 0.2), game.omega_S(X))


def test_flags_documented_and_bad_input():
    args = parse_args(zoo.Args, ["--seeds", "2", "--steps", "3", "--out", "o", "--json", "s.json"])
    assert (args.seeds, args.steps) == (2, 3)
    for field in dataclasses.fields(zoo.Args):
        assert field.metadata.get("help", "").strip(), field.name
    with pytest.raises(SystemExit) as exc:
        parse_args(zoo.Args, ["--p", "0.9", "--p-slow", "0.8"])
    assert exc.value.code == 2
