"""Shared helpers for the learner tests."""

from __future__ import annotations

from stackenv.envs import BatchedStackelbergEnv


def make_batched_env(game, num_envs, feedback="gradient", noise_std=0.0):
    """A batched env (architecture §3) of ``num_envs`` copies."""
    return BatchedStackelbergEnv(game, num_envs=num_envs, feedback=feedback, noise_std=noise_std)
