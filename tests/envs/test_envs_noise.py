"""Noise streams: chunk-size invariance, one stream per copy, independence, scaling, Student-t; batched seeding."""

from __future__ import annotations

import numpy as np
import pytest

from stackenv.envs.noise import NoiseStream, default_rngs, init_rng, noise_rng, parse_noise_std, stream_rngs


@pytest.mark.parametrize("noise", ["gaussian", "student_t"])
def test_stream_values_do_not_depend_on_chunk(noise):
    streams = [NoiseStream([3, 4], [1, 2], [1.0, 0.5], noise=noise, df=4.0, chunk=c) for c in (1, 7, 64)]
    rows = [np.array([s.next().copy() for _ in range(50)]) for s in streams]
    np.testing.assert_array_equal(rows[0], rows[1])
    np.testing.assert_array_equal(rows[0], rows[2])


def test_stream_is_std_times_copy_generator():
    """Each copy's step draws its noisy columns at once, in row order, from the copy's one generator; agents
    with zero std are skipped (they draw nothing)."""
    s = NoiseStream([11, 12], [2, 1, 1], [2.0, 0.0, 3.0], chunk=5)
    got = np.array([s.next().copy() for _ in range(12)])  # (T, B, K)
    for b, seed in enumerate((11, 12)):
        z = noise_rng(seed).standard_normal((12, 3))
        np.testing.assert_array_equal(got[:, b, :2], z[:, :2] * 2.0)
        np.testing.assert_array_equal(got[:, b, 2], 0.0)
        np.testing.assert_array_equal(got[:, b, 3], z[:, 2] * 3.0)


def test_zero_std_agents_draw_nothing():
    s = NoiseStream([0, 1], [1, 2], [0.0, 1.0])
    rows = np.array([s.next().copy() for _ in range(20)])
    assert np.all(rows[:, :, 0] == 0.0) and np.all(rows[:, :, 1:] != 0.0)
    assert not NoiseStream([0], [1], [0.0]).active


@pytest.mark.parametrize(("noise", "df", "rel"), [("gaussian", 3.0, 0.03), ("student_t", 5.0, 0.1)])
def test_noise_has_requested_std(noise, df, rel):
    s = NoiseStream(list(range(8)), [1], [2.5], noise=noise, df=df)
    w = np.array([s.next()[:, 0].copy() for _ in range(3000)]).ravel()
    assert w.std() == pytest.approx(2.5, rel=rel)
    assert abs(w.mean()) < 0.1


def test_copies_and_agents_independent():
    s = NoiseStream([0, 1], [1, 1], [1.0, 1.0])
    w = np.array([s.next().ravel().copy() for _ in range(2000)])
    c = np.corrcoef(w.T)
    assert np.all(np.abs(c[np.triu_indices(4, 1)]) < 0.1)


def test_parse_noise_std_forms():
    agents = ["leader", "follower"]
    np.testing.assert_array_equal(parse_noise_std(0.5, agents), [0.5, 0.5])
    np.testing.assert_array_equal(parse_noise_std([1, 2], agents), [1.0, 2.0])
    np.testing.assert_array_equal(parse_noise_std({"follower": 3.0}, agents), [0.0, 3.0])
    for bad in (np.nan, -0.1, "big", [1.0, 2.0, 3.0]):
        with pytest.raises(ValueError, match="noise_std"):
            parse_noise_std(bad, agents)


@pytest.mark.parametrize(
    "rows",
    [
        [(s, w) for s in (0, 1, 2, 7, 12345, 2**31, 2**32 - 1) for w in (0, 1, 2, 999)],
        [(s, 0x5EED, i) for s in (0, 42) for i in range(5)],
        [(3,), (0,), (2**32 - 1,)],
        [(1, 2, 3, 4)],
        [(2**32, 1), (2**40, 0)],  # beyond 32 bits: numpy's own path
        [(5, 1), (5, 1, 2)],  # mixed lengths: numpy's own path
    ],
)
def test_default_rngs_are_numpys_generators(rows):
    """``default_rngs`` (what ``agents.rng`` imports) gives numpy's own streams, draw for draw."""
    for row, gen in zip(rows, default_rngs(rows), strict=True):
        ref = np.random.default_rng(list(row))
        np.testing.assert_array_equal(gen.standard_normal(7), ref.standard_normal(7))
        np.testing.assert_array_equal(gen.random(3), ref.random(3))
        assert gen.bit_generator.state == ref.bit_generator.state


def test_copy_streams_are_numpys_spawned_children():
    """A copy's generator of purpose ``word`` is child ``word`` of ``SeedSequence(seed)``, as numpy spawns it."""
    for s in (0, 7, 2**40 + 3):
        children = np.random.SeedSequence(s).spawn(2)
        for word, child in enumerate(children):
            (gen,) = stream_rngs([s], word)
            ref = np.random.default_rng(child)
            assert gen.bit_generator.state == ref.bit_generator.state
            np.testing.assert_array_equal(gen.standard_normal(5), ref.standard_normal(5))


def test_stream_rngs_match_init_and_noise_rngs():
    seeds = [0, 3, 2**32 + 5]
    for s, gen in zip(seeds, stream_rngs(seeds, 1)):
        np.testing.assert_array_equal(gen.standard_normal(4), noise_rng(s).standard_normal(4))
    for s, gen in zip(seeds, stream_rngs(seeds, 0)):
        np.testing.assert_array_equal(gen.random(4), init_rng(s).random(4))
    with pytest.raises(ValueError, match="non-negative"):
        stream_rngs([1, -1], 0)


@pytest.mark.parametrize("std", [1.0, 2.5])
@pytest.mark.parametrize("B", [1, 3])
def test_stream_continues_after_a_pickle_round_trip(B, std):
    """One copy draws straight into its buffer and scales it in place; a pickled stream (whose draws no longer
    share the buffer's memory) must go on with the same values, as must a batch."""
    import pickle

    ns = NoiseStream(list(range(7, 7 + B)), [1, 2], [std, std], chunk=3)
    head = [ns.next().copy() for _ in range(2)]
    clone = pickle.loads(pickle.dumps(ns))
    tail = [clone.next().copy() for _ in range(5)]
    got = np.array(head + tail)  # (7 steps, B, 3)
    for b in range(B):
        np.testing.assert_array_equal(got[:, b, :], noise_rng(7 + b).standard_normal((7, 3)) * std)
