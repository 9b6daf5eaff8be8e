"""The env path of N followers is O(N) by construction (issue 10.1): no N × N object, no per-agent work per step.

Memory, not time, is asserted (no timed unit tests; the seconds are measured by
``experiments.bench``): an N × N float64 object at N = 20 000 is 3.2 GB, N² / N = 20 000 floats per agent.
"""

from __future__ import annotations

import tracemalloc

import numpy as np

from stackenv.envs import BatchedStackelbergEnv
from stackenv.games import make

N = 20_000


def test_n_follower_env_construction_and_steps_allocate_no_n_by_n_object():
    costs = np.random.default_rng(0).uniform(1.0, 10.0, N)
    tracemalloc.start()
    try:
        game = make("oligopoly", A=25.0 * (N + 1), leader_cost=1.0, follower_costs=costs)
        env = BatchedStackelbergEnv(game, num_envs=1, feedback="hierarchical", noise_std=1.0)
        env.reset(seed=0)
        x = np.full((1, game.d), 1.0)
        for _ in range(3):
            obs, rew, term, trunc, infos = env.step(x)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        for _ in range(3):
            obs, rew, term, trunc, infos = env.step(x)
        after, step_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # set-up keeps a few Python objects per agent (Player, slice, dict entries, layout Block: ~1-2 KB); 8 KB =
    # 1000 floats per agent leaves room and is still 20x below one N x N float array
    assert peak < 8 * 1024 * N, peak / N
    # a step holds a few float vectors of N (feedback rows, costs, the joint action: measured ~9 floats per agent;
    # the noise buffer is refilled only every ~50 steps at this N, not within these 3). One Python object per
    # agent (a dict entry plus an array view, ~150 bytes) would exceed 16 floats = 128 bytes per agent.
    assert step_peak - before < 16 * 8 * N, (step_peak - before) / N
    assert after - before < 16 * 8 * N
    np.testing.assert_array_equal(obs["follower_7"], env.feedback_rows[:, 8:9])
    assert rew["leader"].shape == (1,) and not term["follower_0"][0] and not trunc["follower_1"][0]
    assert len(obs) == len(rew) == len(infos) == N + 1 and not infos[f"follower_{N - 1}"]["out_of_bounds"][0]
