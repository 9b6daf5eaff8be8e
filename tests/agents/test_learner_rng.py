"""Randomised learners draw per run: run b's result depends on its own seed, not on the batch it shares."""

import numpy as np

from agents import make_learner, play
from agents.rng import BatchRNG
from stackenv.envs import BatchedStackelbergEnv
from stackenv.games import make


def test_batch_rng_rows_are_the_runs_own_streams():
    rng = BatchRNG([3, 4, 5], player=1, chunk=5)
    draws = np.concatenate([rng.standard_normal((3, 2)) for _ in range(7)], axis=1)  # crosses refills
    for b, seed in enumerate([3, 4, 5]):
        np.testing.assert_array_equal(draws[b], np.random.default_rng([seed, 0x5EED, 1]).standard_normal(14))
    u = BatchRNG([9, 10], player=0).uniform(0.0, 1.0, size=(2, 3))
    np.testing.assert_array_equal(u[1], np.random.default_rng([10, 0x5EED, 0]).uniform(0.0, 1.0, 3))


def test_zeroth_order_match_does_not_depend_on_the_batch():
    game = make("duopoly")

    def final(num_runs, seed):
        env = BatchedStackelbergEnv(game, num_envs=num_runs, feedback="gradient", noise_std=1.0)
        learners = {"leader": make_learner("zeroth_order"), "follower": make_learner("gradient")}
        return play(env, learners, 200, record_every=200, seed=seed).x_final

    four = final(4, 10)
    np.testing.assert_array_equal(final(2, 10), four[:2])  # runs 10, 11 alone or among four
    np.testing.assert_array_equal(final(1, 12), four[2:3])  # run 12 on its own
