"""Shared cases for the env tests, derived from the registries: every registered game (through the generic
constructors) in every feedback mode, and every versioned env module."""

from __future__ import annotations

import functools
import importlib
from types import SimpleNamespace

import numpy as np

from stackenv import envs as envs_pkg
from stackenv.envs import ENV_MODULES, FEEDBACK_MODES
from stackenv.games import list_games

#: Every registered game: a game registered tomorrow is in every generic env suite the moment it exists.
GAMES = list_games()
MODULES = list(ENV_MODULES)


def game_envs(name: str) -> SimpleNamespace:
    """``parallel_env``, ``env``, ``raw_env`` and ``batched_env`` of the registered game ``name``."""
    ctors = ("parallel_env", "env", "raw_env", "batched_env")
    return SimpleNamespace(**{c: functools.partial(getattr(envs_pkg, c), name) for c in ctors})


def env_module(name: str):
    """The versioned module ``stackenv.envs.<name>`` (its game must be registered: see test_envs_registry)."""
    return importlib.import_module(f"stackenv.envs.{name}")


def all_cases():
    """(registered game, feedback) pairs."""
    return [(g, fb) for g in GAMES for fb in FEEDBACK_MODES]


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
