"""Property test: random, hostile actions give a correct step or a clear ValueError — never a crash,
never a non-finite or out-of-space observation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stackenv.envs import FEEDBACK_MODES, BatchedStackelbergEnv

from .envs_cases import GAMES, game_envs

SPECIALS = [np.nan, np.inf, -np.inf, 1e308, -1e308, 3.5e38, 1e-320, 0.0, -0.0]
scalars = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.floats(-1e3, 1e3),
    st.sampled_from(SPECIALS),
    st.integers(-(2**70), 2**70),
)


@st.composite
def action(draw, dim: int, batch: int | None = None):
    """Mostly well-shaped arrays (any dtype, any values); sometimes wrong shapes, dtypes or types."""
    kind = draw(st.sampled_from(["array", "array", "array", "wrong_shape", "scalar", "list", "junk", "dtype"]))
    shape = (dim,) if batch is None else (batch, dim)
    if kind == "array":
        dtype = draw(st.sampled_from([np.float32, np.float64, np.float16, np.int64, np.int8]))
        vals = draw(st.lists(scalars, min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
        with np.errstate(all="ignore"):
            try:
                return np.array(vals, dtype=np.float64).astype(dtype).reshape(shape)
            except (OverflowError, ValueError):
                return np.array([0] * int(np.prod(shape)), dtype=dtype).reshape(shape)
    if kind == "wrong_shape":
        extra = draw(st.sampled_from([(dim + 1,), (1, dim, 1), (0,), (2, 2, 2)]))
        return np.zeros(extra if batch is None else (batch, *extra))
    if kind == "scalar":
        return draw(scalars)
    if kind == "list":
        return draw(st.lists(scalars, min_size=0, max_size=dim + 1))
    if kind == "dtype":
        return draw(
            st.sampled_from(
                [np.ones(shape, bool), np.ones(shape, complex), np.array(["a"] * dim), np.empty(shape, object)]
            )
        )
    return draw(st.sampled_from([None, "1.0", object(), {"a": 1}, [[1.0], [2.0, 3.0]]]))


def _check_obs(space, obs):
    if isinstance(obs, dict):
        for k, v in obs.items():
            _check_obs(space[k], v)
        return
    assert np.all(np.isfinite(obs)), obs
    assert space.contains(obs), (obs, space)


CASES = [(g, fb) for g in GAMES for fb in FEEDBACK_MODES]
FUZZ = settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@pytest.mark.parametrize(("game_name", "feedback"), CASES)
@FUZZ
@given(data=st.data())
def test_parallel_env_survives_hostile_actions(game_name, feedback, data):
    mod = game_envs(game_name)
    env = mod.parallel_env(feedback=feedback, noise_std=1.0, max_steps=50)
    env.reset(seed=0)
    for _ in range(3):
        acts = {a: data.draw(action(env.action_space(a).shape[0])) for a in env.possible_agents}
        try:
            obs, rew, term, trunc, infos = env.step(acts)
        except ValueError as exc:
            assert str(exc)
            continue
        for a in env.possible_agents:
            _check_obs(env.observation_space(a), obs[a])
            assert math.isfinite(rew[a])
        assert np.all(np.isfinite(env.x))


@pytest.mark.parametrize("game_name", GAMES)
@FUZZ
@given(data=st.data())
def test_aec_env_survives_hostile_actions(game_name, data):
    mod = game_envs(game_name)
    env = mod.env(feedback="hierarchical", noise_std=1.0, max_steps=50)
    env.reset(seed=0)
    for agent in env.agent_iter(6):
        try:
            env.step(data.draw(action(env.action_space(agent).shape[0])))
        except ValueError as exc:
            assert str(exc)
            continue
        for a in env.agents:
            _check_obs(env.observation_space(a), env.observe(a))


@pytest.mark.parametrize("game_name", GAMES)
@FUZZ
@given(data=st.data())
def test_batched_env_survives_hostile_actions(game_name, data):
    game = game_envs(game_name).parallel_env().game
    env = BatchedStackelbergEnv(game, num_envs=3, feedback="gradient", noise_std=1.0)
    env.reset(seed=0)
    for _ in range(3):
        acts = {a: data.draw(action(d, batch=3)) for a, d in zip(env.possible_agents, game.dims)}
        try:
            obs, rew, term, trunc, infos = env.step(acts)
        except ValueError as exc:
            assert str(exc)
            continue
        for a in env.possible_agents:
            _check_obs(env.observation_space(a), obs[a])
            assert np.all(np.isfinite(rew[a]))
