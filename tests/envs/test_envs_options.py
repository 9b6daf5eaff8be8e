"""Constructor options: invalid values name the problem; the generic constructors."""

from __future__ import annotations

import numpy as np
import pytest

from stackenv import games
from stackenv.envs import (
    StackelbergAECEnv,
    StackelbergParallelEnv,
    duopoly_v0,
    parallel_env,
)
from stackenv.envs import env as aec_env

from .envs_games import Planar

F32 = np.float32


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"feedback": "oracle"}, "unknown feedback"),
        ({"noise": "cauchy"}, "unknown noise"),
        ({"noise": "student_t", "df": 2.0}, "df > 2"),
        ({"noise_std": -1.0}, "noise_std"),
        ({"noise_std": [1.0]}, "one entry per agent"),
        ({"noise_std": {"boss": 1.0}}, "unknown agent"),
        ({"max_steps": 0}, "max_steps"),
        ({"render_mode": "human"}, "render_mode"),
        ({"A": -1.0}, "duopoly"),
        ({"Z": 1.0}, "unknown parameter"),
    ],
)
def test_invalid_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        duopoly_v0.parallel_env(**kwargs)


def test_generic_constructors():
    g = games.make("duopoly", A=120.0)
    assert parallel_env(g).game is g
    assert parallel_env("duopoly", A=120.0, feedback="reward").game.A == 120.0
    assert isinstance(aec_env("torus").unwrapped, StackelbergAECEnv)
    assert isinstance(StackelbergParallelEnv(Planar()), StackelbergParallelEnv)
    with pytest.raises(ValueError, match="game parameters"):
        parallel_env(g, A=3.0)
    with pytest.raises(TypeError, match="Game"):
        StackelbergParallelEnv("duopoly")
