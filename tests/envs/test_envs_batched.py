"""The batched env: bit-for-bit agreement with the PettingZoo env, per-copy seeds, frozen copies."""

from __future__ import annotations

import numpy as np
import pytest

from stackenv.envs import BatchedStackelbergEnv, batched_env, parallel_env

from .envs_cases import all_cases, env_module, game_envs
from .envs_games import Planar

F32 = np.float32


def _copy_obs(obs, b):
    """Copy b's observation out of a batched observation dict entry."""
    if isinstance(obs, dict):
        return {k: v[b] for k, v in obs.items()}
    return obs[b]


def _assert_same(pz, batched, b=0):
    """PettingZoo obs == batched obs (copy b) cast to float32, exactly."""
    if isinstance(pz, dict):
        assert set(pz) == set(batched)
        for k in pz:
            _assert_same(pz[k], batched[k], b)
        return
    np.testing.assert_array_equal(pz, batched[b].astype(F32))


def _actions(env_pz, rng, B):
    """Per-agent (B, d_i) actions, 30% of them outside the bounds."""
    out = {}
    for a in env_pz.possible_agents:
        box = env_pz.action_space(a)
        lo, hi = box.low.astype(float), box.high.astype(float)
        w = hi - lo
        out[a] = rng.uniform(lo - 0.3 * w, hi + 0.3 * w, size=(B, *box.shape)).astype(F32)
    return out


@pytest.mark.parametrize("noise_std", [0.0, 1.5])
@pytest.mark.parametrize(("game_name", "feedback"), all_cases())
def test_batched_b1_equals_pettingzoo(game_name, feedback, noise_std):
    mod = game_envs(game_name)
    pz = mod.parallel_env(feedback=feedback, noise_std=noise_std)
    bat = BatchedStackelbergEnv(pz.game, num_envs=1, feedback=feedback, noise_std=noise_std)
    obs_p, _ = pz.reset(seed=42)
    obs_b, _ = bat.reset(seed=42)
    np.testing.assert_array_equal(pz.x, bat.x[0])
    for a in pz.possible_agents:
        _assert_same(obs_p[a], obs_b[a])
    rng = np.random.default_rng(0)
    for _ in range(12):
        acts = _actions(pz, rng, 1)
        obs_p, rew_p, term_p, trunc_p, info_p = pz.step({a: v[0] for a, v in acts.items()})
        obs_b, rew_b, term_b, trunc_b, info_b = bat.step(acts)
        np.testing.assert_array_equal(pz.x, bat.x[0])
        for a in pz.possible_agents:
            _assert_same(obs_p[a], obs_b[a])
            assert rew_p[a] == rew_b[a][0]
            assert term_p[a] == term_b[a][0] and trunc_p[a] == trunc_b[a][0]
            assert info_p[a]["out_of_bounds"] == info_b[a]["out_of_bounds"][0]


@pytest.mark.parametrize("feedback", ["gradient", "hierarchical", "second_order", "reward"])
@pytest.mark.parametrize("game", ["torus", "duopoly", "planar"])
def test_copy_b_equals_pettingzoo_seed_plus_b(game, feedback):
    B, seed = 3, 100
    g = Planar() if game == "planar" else env_module(f"{game}_v0").parallel_env().game
    bat = batched_env(g, num_envs=B, feedback=feedback, noise_std=0.5)
    pzs = [parallel_env(g, feedback=feedback, noise_std=0.5) for _ in range(B)]
    obs_b, _ = bat.reset(seed=seed)
    obs_p = [pz.reset(seed=seed + b)[0] for b, pz in enumerate(pzs)]
    rng = np.random.default_rng(1)
    for step in range(9):
        for b in range(B):
            np.testing.assert_array_equal(pzs[b].x, bat.x[b])
            for a in bat.possible_agents:
                # copies agree to rounding; the arithmetic is elementwise here, so exactly
                _assert_same(obs_p[b][a], obs_b[a], b)
        if step == 8:  # (the last step's observations are checked too)
            break
        acts = _actions(pzs[0], rng, B)
        obs_b, rew_b, *_ = bat.step(acts)
        steps = [pz.step({a: v[b] for a, v in acts.items()}) for b, pz in enumerate(pzs)]
        obs_p = [s[0] for s in steps]
        for b in range(B):
            for a in bat.possible_agents:
                assert rew_b[a][b] == steps[b][1][a]


@pytest.mark.parametrize("game", ["torus", "duopoly", "planar"])
def test_student_t_and_per_agent_noise_match_pettingzoo(game):
    """Same noise semantics in the batched env: Student-t, per-agent std (dict form), copy b == seed + b."""
    B, seed = 2, 7
    g = Planar() if game == "planar" else env_module(f"{game}_v0").parallel_env().game
    kw = {"feedback": "gradient", "noise": "student_t", "df": 3.5, "noise_std": {g.agents[0]: 0.2, g.agents[1]: 1.5}}
    bat = batched_env(g, num_envs=B, **kw)
    pzs = [parallel_env(g, **kw) for _ in range(B)]
    obs_b, _ = bat.reset(seed=seed)
    obs_p = [pz.reset(seed=seed + b)[0] for b, pz in enumerate(pzs)]
    rng = np.random.default_rng(2)
    for step in range(7):
        for b in range(B):
            for a in bat.possible_agents:
                _assert_same(obs_p[b][a], obs_b[a], b)
        if step == 6:
            break
        acts = _actions(pzs[0], rng, B)
        obs_b, *_ = bat.step(acts)
        obs_p = [pz.step({a: v[b] for a, v in acts.items()})[0] for b, pz in enumerate(pzs)]


def test_seed_sequence_and_dtype():
    g = env_module("duopoly_v0").parallel_env().game
    a = BatchedStackelbergEnv(g, num_envs=3, noise_std=1.0, dtype=np.float32)
    b = BatchedStackelbergEnv(g, num_envs=3, noise_std=1.0)
    oa, _ = a.reset(seed=[5, 6, 7])
    ob, _ = b.reset(seed=5)
    assert oa["leader"].dtype == F32 and ob["leader"].dtype == np.float64
    np.testing.assert_array_equal(oa["leader"], ob["leader"].astype(F32))
    assert a.observation_space("leader").contains(oa["leader"])
    assert b.observation_space("follower").contains(ob["follower"])
    with pytest.raises(ValueError, match="one seed per copy"):
        a.reset(seed=[1, 2])
    with pytest.raises(ValueError, match="non-negative"):
        a.reset(seed=-1)
    x0 = np.array([[10.0, 20.0], [30.0, 40.0], [50.0, 5.0]])
    a.reset(seed=0, options={"x0": x0})
    np.testing.assert_array_equal(a.x, x0)


def test_action_validation_batched():
    g = env_module("duopoly_v0").parallel_env().game
    env = BatchedStackelbergEnv(g, num_envs=4)
    with pytest.raises(RuntimeError, match="reset"):
        env.step({"leader": np.zeros((4, 1)), "follower": np.zeros((4, 1))})
    env.reset(seed=0)
    ok = np.full((4, 1), 30.0)
    env.step({"leader": np.full(4, 30.0), "follower": ok})  # (B,) accepted for 1-d actions
    with pytest.raises(ValueError, match=r"missing \['follower'\]"):
        env.step({"leader": ok})
    with pytest.raises(ValueError, match="shape"):
        env.step({"leader": np.zeros((3, 1)), "follower": ok})
    bad = ok.copy()
    bad[2, 0] = np.nan
    with pytest.raises(ValueError, match="'leader'.*not finite.*copies \\[2\\]"):
        env.step({"leader": bad, "follower": ok})
    _, _, _, _, infos = env.step({"leader": np.array([[150.0], [-1.0], [3.0], [4.0]]), "follower": ok})
    np.testing.assert_array_equal(infos["leader"]["out_of_bounds"], [True, True, False, False])
    np.testing.assert_array_equal(env.x[:, 0], [100.0, 0.0, 3.0, 4.0])


def test_frozen_copies_after_termination_and_truncation():
    mod = env_module("duopoly_v0")
    g = mod.parallel_env(price_floor=True).game
    env = BatchedStackelbergEnv(g, num_envs=3, feedback="hierarchical", noise_std=1.0, max_steps=4)
    x0 = np.array([[30.0, 30.0]] * 3)
    env.reset(seed=0, options={"x0": x0})
    lead = np.array([[40.0], [80.0], [40.0]])  # copy 1: Q = 110 > A, H22 = 0 → undefined
    fol = np.full((3, 1), 30.0)
    obs, rew, term, trunc, infos = env.step({"leader": lead, "follower": fol})
    np.testing.assert_array_equal(term["leader"], [False, True, False])
    reasons = infos["follower"]["termination_reason"]
    assert reasons[0] == "" and "singular" in reasons[1]
    assert np.all(np.isfinite(obs["leader"]))
    frozen_obs, frozen_x = obs["leader"][1].copy(), env.x[1].copy()
    nan = np.array([[35.0], [np.nan], [35.0]])  # a frozen copy's actions are ignored, even NaN
    for t in range(2, 5):
        obs, rew, term, trunc, infos = env.step({"leader": nan, "follower": fol})
        np.testing.assert_array_equal(obs["leader"][1], frozen_obs)
        np.testing.assert_array_equal(env.x[1], frozen_x)
        assert rew["leader"][1] == 0.0 and term["leader"][1]
        np.testing.assert_array_equal(trunc["leader"], [t == 4, False, t == 4])
    assert env.done.all()
    obs, rew, term, trunc, _ = env.step({"leader": nan, "follower": fol})  # all frozen: a no-op
    np.testing.assert_array_equal(rew["leader"], 0.0)
    np.testing.assert_array_equal(obs["leader"][1], frozen_obs)


def test_large_batch_oligopoly_fast_path():
    mod = env_module("oligopoly_v0")
    N = 200
    game = mod.parallel_env(leader_cost=2.0, follower_costs=np.full(N, 2.0)).game
    env = BatchedStackelbergEnv(game, num_envs=64, feedback="hierarchical", noise_std=0.1)
    obs, _ = env.reset(seed=0)
    acts = {a: np.full((64, 1), 1.0) for a in env.possible_agents}
    obs, rew, term, *_ = env.step(acts)
    assert obs["leader"].shape == (64, 1) and not term["leader"].any()
    np.testing.assert_allclose(obs["leader"].std(), 0.1, rtol=0.5)
    # the noise is centred on the exact total derivative, and copy 5 is the PettingZoo env seeded 5
    exact = game.omega_S(env.x[0])[0]
    assert abs(obs["leader"].mean() - exact) < 0.1
    pz = parallel_env(game, feedback="hierarchical", noise_std=0.1)
    pz.reset(seed=5)
    obs_p, rew_p, *_ = pz.step({a: v[5] for a, v in acts.items()})
    for a in env.possible_agents:
        _assert_same(obs_p[a], obs[a], 5)
        assert rew_p[a] == rew[a][5]


@pytest.mark.parametrize("feedback", ["gradient", "hierarchical", "second_order", "reward"])
def test_joint_action_array_equals_action_dict(feedback):
    """``step(x)`` with the (B, d) joint action is ``step({agent: x[:, slice]})``, out-of-bounds flags included."""
    g = env_module("duopoly_v0").parallel_env().game
    envs = [BatchedStackelbergEnv(g, num_envs=5, feedback=feedback, noise_std=0.7) for _ in range(2)]
    for env in envs:
        env.reset(seed=3)
    rng = np.random.default_rng(4)
    for _ in range(6):
        x = rng.uniform(-20.0, 120.0, size=(5, g.d))  # some outside [0, 100]
        by_dict = envs[0].step({a: x[:, g.slices[i]] for i, a in enumerate(g.agents)})
        by_array = envs[1].step(x)
        np.testing.assert_array_equal(envs[0].x, envs[1].x)
        for a in g.agents:
            o1, o2 = by_dict[0][a], by_array[0][a]
            for key in o1 if isinstance(o1, dict) else [None]:
                np.testing.assert_array_equal(o1 if key is None else o1[key], o2 if key is None else o2[key])
            np.testing.assert_array_equal(by_dict[1][a], by_array[1][a])
            np.testing.assert_array_equal(by_dict[4][a]["out_of_bounds"], by_array[4][a]["out_of_bounds"])
    with pytest.raises(ValueError, match="joint action must have shape"):
        envs[1].step(np.zeros((4, g.d)))
    bad = np.full((5, g.d), 30.0)
    bad[1, 0] = np.inf
    with pytest.raises(ValueError, match="not finite"):
        envs[1].step(bad)


def test_step_outputs_are_shared_views():
    """Flags are one read-only array for every agent; observations are views of ``feedback_rows``."""
    g = env_module("duopoly_v0").parallel_env().game
    env = BatchedStackelbergEnv(g, num_envs=4, feedback="gradient", noise_std=1.0)
    env.reset(seed=0)
    obs, _, term, trunc, infos = env.step(np.full((4, g.d), 30.0))
    assert term["leader"] is term["follower"] and not term["leader"].flags.writeable
    assert not infos["leader"]["out_of_bounds"].flags.writeable
    for i, a in enumerate(g.agents):
        assert np.shares_memory(obs[a], env.feedback_rows)
        np.testing.assert_array_equal(obs[a], env.feedback_rows[:, g.slices[i]])
