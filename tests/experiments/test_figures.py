"""Every figure of every experiment script, from a small run, passes the reviewer's checks of
``tests/experiments/figures.py``: labelled axes, a legend or colour bar, equilibria named, nothing cut off."""

from pathlib import Path

import pytest

from experiments import (
    duopoly,
    n_followers,
    n_followers_chain,
    n_followers_oligopoly,
    n_followers_timing,
    rl,
    torus,
    zero_sum,
)
from tests.experiments.figures import captured_figures, figure_problems

SMALL = {
    duopoly: ["--seeds", "3", "--steps", "100"],
    torus: ["--seeds", "3", "--steps", "100", "--grid", "4", "--paths", "2"],
    zero_sum: ["--seeds", "3", "--steps", "100", "--paths", "2"],
    n_followers: ["--seeds", "2", "--steps", "100", "--ns", "1", "10", "--timing-ns", "10", "100"],
    n_followers_oligopoly: ["--seeds", "2", "--steps", "100", "--ns", "1", "10"],
    n_followers_chain: ["--seeds", "2", "--steps", "100"],
    n_followers_timing: ["--timing-ns", "10", "100", "--timing-batch", "2"],
    rl: ["--seeds", "1", "--steps", "64", "--algos", "ppo", "--n-envs", "1", "--evals", "1", "--eval-episodes", "1"],
}
#: Figures with no equilibrium to mark.
NO_EQUILIBRIUM = {"n_followers_timing.png"}


@pytest.mark.parametrize("script", list(SMALL), ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_figures_pass_the_reviewer_checks(script, tmp_path):
    with captured_figures() as saved:
        script.main([*SMALL[script], "--out", str(tmp_path), "--progress", "false"])
    assert saved, "the script saved no figure"
    problems = [
        p
        for path, fig, kw in saved
        for p in figure_problems(path, fig, kw, equilibria=Path(path).name not in NO_EQUILIBRIUM)
    ]
    assert not problems, problems
