"""The default N-follower learner path is O(N) by construction (issue 10.1): ``n_follower_learners`` and ``play``
(B = 1, hierarchical feedback) allocate no N × N object, and a step holds a few N-vectors and no per-agent object.

Memory, not time, is asserted (no timed unit tests; ``experiments.bench`` measures the seconds). At N = 20 000 an
N × N float64 object is 3.2 GB, i.e. 20 000 floats per agent.
"""

from __future__ import annotations

import tracemalloc

import numpy as np

from agents import play
from agents.n_followers import n_follower_learners
from stackenv.envs import BatchedStackelbergEnv
from stackenv.games import make

N = 20_000
FIRST, LAST = 2, 8  # the steps between these env.step calls are traced on their own


class TracedEnv(BatchedStackelbergEnv):
    """Notes the traced memory from the ``FIRST``-th ``step`` call to the ``LAST``-th: the whole ``play`` steps in
    between (the learners' actions and updates and the env's steps), none of ``play``'s own set-up."""

    calls = 0

    def step(self, actions):
        self.calls += 1
        if self.calls == FIRST:
            tracemalloc.reset_peak()
            self.before = tracemalloc.get_traced_memory()[0]
        if self.calls == LAST:
            self.after, self.peak = tracemalloc.get_traced_memory()
        return super().step(actions)


def test_n_follower_learners_and_play_allocate_o_of_n():
    costs = np.random.default_rng(0).uniform(1.0, 10.0, N)
    game = make("oligopoly", A=25.0 * (N + 1), leader_cost=1.0, follower_costs=costs)
    env = TracedEnv(game, num_envs=1, feedback="hierarchical", noise_std=1.0)
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        learners = n_follower_learners(game)  # the leader's curvature and the followers' block: products only
        learners_peak = tracemalloc.get_traced_memory()[1] - start
        tracemalloc.reset_peak()
        traj = play(env, learners, 10, record_every=10, seed=0)
        play_peak = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    # measured ~65 bytes per agent for the learners (a few N-vectors of products) and ~1.3 KB per agent for play
    # with its set-up (binding the block of agents, reset, records: a few Python objects per agent); both far
    # below one N × N array (160 KB per agent)
    assert learners_peak < 1024 * N, learners_peak / N
    assert play_peak < 8 * 1024 * N, play_peak / N
    # six whole steps hold at most ~9 float vectors of length N at once (the joint action, the GMRES basis and
    # products, the feedback rows, the noise); one Python object per agent per step (a dict entry and an array,
    # > 100 bytes) would add more than 12 floats per agent, and nothing is kept from step to step
    assert env.peak - env.before < 16 * 8 * N, (env.peak - env.before) / N / 8
    assert env.after - env.before < 8 * N
    assert np.all(np.isfinite(traj.x_final)) and not traj.stopped.any()
