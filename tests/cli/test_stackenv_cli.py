"""The ``stackenv`` command line: ``games``, ``equilibria GAME [--set] [--json]``, ``equilibria --all``."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from stackenv import cli
from stackenv.cli import main, parse_sets, parse_value, plain_text
from stackenv.games import list_games, make

FLAGS = {"differential_nash", "differential_stackelberg", "stable_simgrad", "stable_stackelberg"}


def run(*args):
    return subprocess.run([sys.executable, "-m", "stackenv", *args], capture_output=True, text=True, timeout=120)


def test_torus_json_lists_two_stable_nash_and_two_stackelberg():
    proc = run("equilibria", "torus", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert {"game", "params", "nash", "stackelberg", "critical_points"} <= set(out)
    assert out["game"] == "torus" and out["params"] == make("torus").params
    assert len(out["nash"]) == 2 and len(out["stackelberg"]) == 2
    for entry, flag, stable in [(e, "differential_nash", "stable_simgrad") for e in out["nash"]] + [
        (e, "differential_stackelberg", "stable_stackelberg") for e in out["stackelberg"]
    ]:
        assert set(entry) == {"x", "costs", "classification"}
        cls = entry["classification"]
        assert FLAGS <= set(cls) and all(isinstance(cls[k], bool) for k in FLAGS)
        assert cls[flag] and cls[stable]
        assert all(len(pair) == 2 for pair in cls["eig_J"] + cls["eig_J_S"])
    nash = np.array(sorted(e["x"] for e in out["nash"]))
    stack = np.array(sorted(e["x"] for e in out["stackelberg"]))
    np.testing.assert_allclose(nash, [[-0.78, 1.18], [1.57, -0.40]], atol=0.02)
    np.testing.assert_allclose(stack, [[-0.53, 1.25], [1.31, -0.46]], atol=0.02)
    fields = [e["field"] for e in out["critical_points"]]
    assert fields.count("omega") == 6 and fields.count("omega_S") == 6


def test_console_script():
    script = Path(sys.executable).parent / "stackenv"
    if not script.exists():
        pytest.skip("console script not installed in this environment")
    proc = subprocess.run([str(script), "games"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "torus" in proc.stdout


def test_bad_game_exits_2_without_traceback():
    proc = run("equilibria", "no_such_game")
    assert proc.returncode == 2
    assert "unknown game 'no_such_game'" in proc.stderr and "torus" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_set_values_reach_the_game(capsys):
    assert main(["equilibria", "duopoly", "--set", "c=4,1", "--set", "A=90", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["params"]["c"] == [4.0, 1.0] and out["params"]["A"] == 90.0
    (nash,) = out["nash"]
    (stack,) = out["stackelberg"]
    np.testing.assert_allclose(nash["x"], [(90 + 1 - 8) / 3, (90 + 4 - 2) / 3])
    np.testing.assert_allclose(stack["x"], [(90 + 1 - 8) / 2, (90 + 8 - 3) / 4])


def test_default_duopoly_with_explicit_costs(capsys):
    assert main(["equilibria", "duopoly", "--set", "c=5,2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    np.testing.assert_allclose(out["nash"][0]["x"], [30 + 2 / 3, 33 + 2 / 3])
    np.testing.assert_allclose(out["stackelberg"][0]["x"], [46, 26])
    np.testing.assert_allclose(out["stackelberg"][0]["costs"], [-1058, -676])


@pytest.mark.parametrize(
    "argv, message",
    [
        (["equilibria", "duopoly", "--set", "A=1"], "A > every unit cost"),
        (["equilibria", "duopoly", "--set", "bogus=1"], "unknown parameter"),
        (["equilibria", "duopoly", "--set", "c=1,2,3"], "shape"),
        (["equilibria", "duopoly", "--set", "A"], "NAME=VALUE"),
        (["equilibria", "duopoly", "--set", "A=nan"], "finite"),
        (["equilibria", "duopoly", "--set", "A=1", "--set", "A=2"], "twice"),
        (["equilibria"], "give a GAME"),
        (["equilibria", "torus", "--all"], "--all"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_parse_value():
    assert parse_value("5") == 5
    assert parse_value("5,2") == [5.0, 2.0]
    assert parse_value("[[1,0],[0,2]]") == [[1, 0], [0, 2]]
    assert parse_value("true") is True and parse_value("False") is False
    assert parse_value("prop2") == "prop2"
    assert parse_value("1e-3") == 1e-3
    assert parse_sets(["instance=spurious", "A=[[1, 0], [0, 2]]"]) == {
        "instance": "spurious",
        "A": [[1, 0], [0, 2]],
    }


def test_string_and_bool_params(capsys):
    assert main(["equilibria", "zero_sum", "--set", "instance=spurious", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["nash"] == [] and out["stackelberg"] == []
    (omega,) = [e for e in out["critical_points"] if e["field"] == "omega"]
    assert omega["classification"]["stable_simgrad"]  # the spurious attractor of gradient play
    assert main(["equilibria", "duopoly", "--set", "price_floor=true", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["params"]["price_floor"] is True


def test_table_output(capsys):
    assert main(["equilibria", "torus"]) == 0
    text = capsys.readouterr().out
    for word in ("Nash equilibria", "Stackelberg equilibria", "diff.Nash", "diff.Stack", "stable J", "eig J_S"):
        assert word in text
    assert "leader" in text and "follower" in text
    assert "-0.78331" in text and "-0.52523" in text


def test_games_listing(capsys):
    assert main(["games"]) == 0
    text = capsys.readouterr().out
    for name in list_games():
        assert name in text
    assert "defaults:" in text
    assert main(["games", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert [g["name"] for g in listing] == list_games()
    assert all(g["description"] for g in listing)


def test_games_listing_is_plain_text_with_the_defaults_make_uses(capsys):
    """No raw reST in the descriptions; zero_sum shows the prop2 instance make() builds, not its None defaults."""
    assert main(["games"]) == 0
    text = capsys.readouterr().out
    assert "``" not in text and "`" not in text
    assert "P = A − Q" in text
    zero_sum = text[text.index("zero_sum") :]
    assert 'instance="prop2"' in zero_sum and "null" not in zero_sum and "C=[[-2.0]]" in zero_sum
    assert "phi=[0.392699, 0.392699]" in text
    assert main(["games", "--json"]) == 0
    listing = {g["name"]: g for g in json.loads(capsys.readouterr().out)}
    assert listing["zero_sum"]["defaults"] == make("zero_sum").params


def test_plain_text():
    assert (
        plain_text("``P = A − Q`` via :func:`~stackenv.games.make`, *not* **this**")
        == "P = A − Q via stackenv.games.make, not this"
    )


def test_all_prints_every_game(capsys):
    assert main(["equilibria", "--all"]) == 0
    text = capsys.readouterr().out
    for name in list_games():
        assert f"== {name}" in text
    assert "error" not in text


def test_matrix_parameters_as_json(capsys):
    """``--set A=[[1,0],[0,2]]`` reaches a game taking matrices; mismatched shapes exit 2 with the game's message."""
    sets = ["--set", "A=[[1,0],[0,2]]", "--set", "B=[[1,0],[0,1]]", "--set", "C=[[-1,0],[0,-1]]"]
    assert main(["equilibria", "zero_sum", *sets, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["params"]["A"] == [[1.0, 0.0], [0.0, 2.0]] and out["params"]["C"] == [[-1.0, 0.0], [0.0, -1.0]]
    (nash,) = out["nash"]
    (stack,) = out["stackelberg"]
    np.testing.assert_allclose(nash["x"], np.zeros(4), atol=1e-12)
    np.testing.assert_allclose(stack["x"], np.zeros(4), atol=1e-12)
    assert all(nash["classification"][k] for k in FLAGS)  # A ≻ 0, −C ≻ 0: stable Nash and Stackelberg (Prop. 1)
    with pytest.raises(SystemExit) as exc:
        main(["equilibria", "zero_sum", "--set", "A=[[1,0],[0,2]]", "--set", "B=1", "--set", "C=-1"])
    assert exc.value.code == 2
    assert "zero_sum" in capsys.readouterr().err


def test_all_json_lists_every_game_and_reports_failures(capsys, monkeypatch):
    assert main(["equilibria", "--all", "--json"]) == 0
    reports = json.loads(capsys.readouterr().out)
    assert [r["game"] for r in reports] == list_games()
    duopoly = next(r for r in reports if r["game"] == "duopoly")
    np.testing.assert_allclose(duopoly["stackelberg"][0]["x"], [46, 26])

    def broken(name, **params):
        if name == "torus":
            raise ValueError("torus is broken")
        return make(name, **params)

    monkeypatch.setattr(cli, "make", broken)
    assert main(["equilibria", "--all", "--json"]) == 1
    reports = json.loads(capsys.readouterr().out)
    assert {"game": "torus", "error": "torus is broken"} in reports and len(reports) == len(list_games())
    assert main(["equilibria", "--all"]) == 1
    assert "== torus\nerror: torus is broken" in capsys.readouterr().out


def test_equilibria_table_says_why_a_point_is_not_stable(capsys):
    # The torus' Nash points are not critical points of omega_S (their eigenvalues of J_S are positive), and its
    # critical point (-2.7489, 0.3927) is a saddle of omega: each "no" must carry its reason.
    assert main(["equilibria", "torus"]) == 0
    out = capsys.readouterr().out
    nash_rows = out.split("Nash equilibria")[1].split("Stackelberg equilibria")[0]
    assert nash_rows.count("no (not critical)") == 2
    assert "no (eig ≤ 0)" in out.split("All critical points")[1]
    assert "stable J / J_S: yes = a critical point" in out
