"""Rendering: ansi text and rgb frames (axes, equilibria, periodic paths)."""

from __future__ import annotations

import numpy as np
import pytest

from stackenv import games
from stackenv.envs import (
    duopoly_v0,
)

from .envs_cases import env_module

F32 = np.float32


def test_render_ansi_and_rgb():
    env = duopoly_v0.parallel_env(render_mode="ansi")
    env.reset(seed=0, options={"x0": [46.0, 26.0]})
    text = env.render()
    assert "step 0" in text and "leader" in text and "follower" in text
    assert "stackelberg: 0" in text  # (46, 26) is the Stackelberg equilibrium
    env = duopoly_v0.parallel_env(render_mode="rgb_array")
    env.reset(seed=0)
    env.step({a: np.array([30.0], F32) for a in env.possible_agents})
    img = env.render()
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3 and img.std() > 0
    env.close()
    env = env_module("oligopoly_v0").env(render_mode="rgb_array")  # d > 2: per-coordinate view
    env.reset(seed=0)
    img = env.render()
    assert img.dtype == np.uint8 and img.shape[2] == 3
    with pytest.warns(UserWarning, match="render_mode"):
        env = duopoly_v0.parallel_env()
        env.reset(seed=0)
        assert env.render() is None


def _marked(ax) -> dict[str, np.ndarray]:
    """Points drawn under each legend label of a rendered frame's axes."""
    return {ln.get_label(): np.asarray(ln.get_xydata()) for ln in ax.get_lines() if not ln.get_label().startswith("_")}


def test_rgb_frame_labels_axes_and_marks_equilibria():
    from stackenv.envs.render import Renderer

    # d == 2: axes named after the players, equilibria and the current joint action drawn where they are
    game = games.make("duopoly")
    r = Renderer(game)
    x = np.array([30.0, 40.0])
    r.record(x)
    img = r.rgb(x)
    assert img.dtype == np.uint8 and img.shape[2] == 3
    ax = r._fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("leader action", "follower action")
    marks = _marked(ax)
    np.testing.assert_allclose(marks["nash"], [game.nash_closed_form()])
    np.testing.assert_allclose(marks["stackelberg"], [game.stackelberg_closed_form()])
    np.testing.assert_allclose(marks["x"], [x])
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"nash", "stackelberg", "x"}

    # the torus: both Nash and both Stackelberg points; a path crossing the periodic boundary is broken there
    r = Renderer(games.make("torus"))
    for p in ([2.9, -3.0], [-3.0, 3.0], [-2.6, 2.7]):
        r.record(np.array(p))
    r.rgb(np.array([-2.6, 2.7]))
    ax = r._fig.axes[0]
    marks = _marked(ax)
    assert len(marks["nash"]) == 2 and len(marks["stackelberg"]) == 2
    (path,) = [ln.get_xydata() for ln in ax.get_lines() if ln.get_label().startswith("_")]
    assert np.isnan(path).any(axis=1).sum() == 1  # one break, between the two steps that wrapped

    # d > 2: one tick per coordinate, named after its player
    game = games.make("oligopoly")
    r = Renderer(game)
    r.rgb(game.nash_closed_form())
    ax = r._fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == game.agents
    assert ax.get_xlabel() and ax.get_ylabel()
    assert len(_marked(ax)["stackelberg"]) == game.d
