"""Your own rules, games and trained models in tournaments (issue 14 items 2, 3): a plugin module on PYTHONPATH
(``--import``; on loky and on a local Dask cluster), an installed package's entry points, and a saved PPO model
in a seat — on the default (loky) backend, in real subprocesses."""

import csv
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from agents import make_learner, play
from stackenv.envs import BatchedStackelbergEnv
from stackenv.games import make

ROOT = Path(__file__).resolve().parents[2]
GAME = """
from stackenv.games import register_custom_game

def leader(x1, x2):    # near 1, far from the follower
    return (x1[0] - 1) ** 2 - 0.5 * x1[0] * x2[0]

def follower(x1, x2):  # tracks half the leader's action
    return (x2[0] - 0.5 * x1[0]) ** 2

register_custom_game(NAME, [leader, follower], dims=[1, 1], low=-5, high=5)
"""


def tournament(path: Path, *argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(path), str(ROOT)])}
    cmd = [sys.executable, "-m", "experiments.tournament", "--progress", "false", "--n-jobs", "2", *argv]
    return subprocess.run(cmd, cwd=path, capture_output=True, text=True, env=env, timeout=600)


def rows(out: Path) -> list[dict[str, str]]:
    return list(csv.DictReader((out / "matches.csv").read_text().splitlines()))


@pytest.mark.parametrize("backend", ["loky", "dask"])
def test_a_plugin_module_reaches_every_worker(tmp_path, backend):
    (tmp_path / "my_rules.py").write_text(
        "from agents import GradientPlay, register_learner\n"
        'register_learner(GradientPlay, name="my_gradient", summary="gradient play, from a user module")\n'
        + GAME.replace("NAME", '"my_game"')
    )
    argv = [
        "--backend",
        backend,
        "--import",
        "my_rules",
        "--games",
        "my_game",
        "--leaders",
        "my_gradient",
        "hierarchical",
    ]
    res = tournament(tmp_path, *argv, "--followers", "my_gradient", "--seeds", "2", "--steps", "300", "--out", "o")
    assert res.returncode == 0, res.stderr
    got = rows(tmp_path / "o")
    assert sorted((r["leader"], r["seed"]) for r in got) == [("hierarchical", "0"), ("hierarchical", "1")] + [
        ("my_gradient", "0"),
        ("my_gradient", "1"),
    ]
    # the game's Stackelberg point (x1 = 4/3, x2 = 2/3) is found, and the hierarchical leader heads for it
    hier = [r for r in got if r["leader"] == "hierarchical"]
    assert all(float(r["dist_stackelberg"]) < 0.5 for r in hier)
    assert (
        "| my_game | {} (domain) | 0 (domain) | 0.1414 (domain) | auto |" in (tmp_path / "o" / "report.md").read_text()
    )


def test_installed_entry_points_are_found_without_import(tmp_path):
    """A real installed distribution (a ``.dist-info`` on ``sys.path``) declares a learner class and a game module."""
    pkg = tmp_path / "ep_plugin"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from agents import GradientPlay as EpGradient  # noqa: F401\n")
    (pkg / "games.py").write_text(GAME.replace("NAME", '"ep_game"'))
    info = tmp_path / "ep_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ep-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        textwrap.dedent(
            """
            [stackenv.learners]
            ep_gradient = ep_plugin:EpGradient
            [stackenv.games]
            ep_game = ep_plugin.games
            """
        )
    )
    argv = ["--games", "ep_game", "--leaders", "ep_gradient", "--followers", "ep_gradient", "--seeds", "2"]
    res = tournament(tmp_path, *argv, "--steps", "50", "--out", "o")
    assert res.returncode == 0, res.stderr
    assert {(r["game"], r["leader"], r["follower"]) for r in rows(tmp_path / "o")} == {
        ("ep_game", "ep_gradient", "ep_gradient")
    }


@pytest.fixture(scope="module")
def ppo_leader(tmp_path_factory):
    """A PPO leader trained briefly (128 steps) against a best response, saved with save_sb3."""
    from stable_baselines3 import PPO

    from agents.sb3 import save_sb3
    from stackenv.envs import duopoly_v0
    from stackenv.wrappers import SingleAgentEnv

    env = SingleAgentEnv(
        duopoly_v0.parallel_env(feedback="reward", max_steps=1),
        agent="leader",
        opponents={"follower": make_learner("best_response")},
        rescale_actions=True,
    )
    model = PPO("MlpPolicy", env, n_steps=64, batch_size=32, seed=0).learn(128)
    return save_sb3(model, tmp_path_factory.mktemp("models") / "leader.zip", env)


def test_a_saved_ppo_model_plays_its_seat_in_a_tournament(ppo_leader, tmp_path):
    spec = f"sb3:ppo:{ppo_leader}"
    argv = ["--games", "duopoly", "--leaders", spec, "hierarchical", "--followers", "best_response", "gradient"]
    res = tournament(tmp_path, *argv, "--seeds", "3", "--steps", "40", "--out", "o")
    assert res.returncode == 0, res.stderr
    sb3 = sorted((r for r in rows(tmp_path / "o") if r["leader"] == spec), key=lambda r: int(r["seed"]))
    assert [r["follower"] for r in sb3] == ["best_response"] * 3  # gradient needs feedback the model never saw
    assert f"duopoly: {spec} vs gradient skipped" in (tmp_path / "o" / "report.md").read_text()
    # the worker's rows are the model's deterministic play, as make_learner + play give it here
    env = BatchedStackelbergEnv(make("duopoly"), 3, feedback="reward", noise_std=10**0.5)
    traj = play(env, {"leader": make_learner(spec), "follower": make_learner("best_response")}, 40, seed=0)
    np.testing.assert_array_equal(
        [[float(v) for v in r["final_action"].strip("[]").split()] for r in sb3], traj.x_final
    )


def test_a_saved_model_in_the_wrong_seat_or_game_is_a_clear_error(ppo_leader, tmp_path):
    spec = f"sb3:ppo:{ppo_leader}"
    with pytest.raises(ValueError, match="was trained as 'leader' of 'duopoly'; it cannot play 'leader' of 'torus'"):
        play(
            BatchedStackelbergEnv(make("torus"), 1, feedback="reward"),
            {"leader": make_learner(spec), "follower": make_learner("best_response")},
            5,
        )
    with pytest.raises(ValueError, match="is a PPO model, not SAC"):
        make_learner(f"sb3:sac:{ppo_leader}")
    (tmp_path / "bare.zip").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="save it with save_sb3"):
        make_learner(f"sb3:ppo:{tmp_path / 'bare.zip'}")
    res = tournament(tmp_path, "--games", "duopoly", "--followers", spec, "--out", "o")
    assert res.returncode == 2 and "cannot play follower" in res.stderr and not (tmp_path / "o").exists()
