"""Shared cases for the env tests: every versioned env module, every feedback mode."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from stackenv.envs import ENV_MODULES, FEEDBACK_MODES
from stackenv.games import list_games

MODULES = list(ENV_MODULES)


def env_module(name: str):
    """The versioned module ``stackenv.envs.<name>``; skips if its game is not registered (yet)."""
    if ENV_MODULES[name] not in list_games():
        pytest.skip(f"game {ENV_MODULES[name]!r} is not registered")
    return importlib.import_module(f"stackenv.envs.{name}")


def all_cases():
    """(module, feedback) pairs."""
    return [(m, fb) for m in MODULES for fb in FEEDBACK_MODES]


def random_actions(env, rng: np.random.Generator, oob: float = 0.0) -> dict:
    """One action per live agent, uniform in a box widened by ``oob`` × its width on each side."""
    out = {}
    for a in env.agents:
        box = env.action_space(a)
        lo, hi = box.low.astype(float), box.high.astype(float)
        w = hi - lo
        out[a] = rng.uniform(lo - oob * w, hi + oob * w).astype(np.float32)
    return out


def assert_finite_obs(obs) -> None:
    if isinstance(obs, dict):
        for v in obs.values():
            assert_finite_obs(v)
    else:
        assert np.all(np.isfinite(obs)), obs
