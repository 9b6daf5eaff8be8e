"""The env vocabulary: feedback modes, noise kinds, render modes, episode length — and their checks.

Every name a user passes to an env as a string (or a step count) is defined and validated here, once;
the envs, the noise streams, the renderer and the learners (``agents``) all import it from this module.

Feedback modes (what an agent observes after a joint action ``x``; rows laid out by
:class:`stackenv.envs.layout.FeedbackLayout`), in the order ``agents.play`` prefers them — the plainest
oracle that serves a learner first:
    ``gradient``      ``∇_i f_i(x)``: agent i's block of the individual field ``ω(x)``.
    ``hierarchical``  agent i's block of ``ω_S(x)``: its total derivative ``Df_i`` through the responses of
                      every level below it; the bottom level's own gradient.
    ``second_order``  ``∇_x f_i`` over all coordinates, and for agents with levels below them ``H22`` and
                      their columns of ``H21`` (``game.response_blocks``).
    ``reward``        the reward ``−f_i(x)`` (bandit feedback); the observation is the joint action ``x``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

FEEDBACK_MODES: tuple[str, ...] = ("gradient", "hierarchical", "second_order", "reward")
NOISE_KINDS: tuple[str, ...] = ("gaussian", "student_t")
RENDER_MODES: tuple[str, ...] = ("ansi", "rgb_array")
#: Default episode length of the PettingZoo envs (joint steps; rounds in the AEC env), so that a plain
#: ``while env.agents:`` loop ends. ``max_steps=None`` removes the limit. (The batched env, driven for a
#: given number of steps by ``agents.play``, defaults to no limit.)
DEFAULT_MAX_STEPS = 1000


def check_feedback(feedback: Any) -> str:
    """``feedback`` if it names a mode of :data:`FEEDBACK_MODES`, else ``ValueError``."""
    if not isinstance(feedback, str) or feedback not in FEEDBACK_MODES:
        raise ValueError(f"unknown feedback mode {feedback!r}; valid modes: {', '.join(FEEDBACK_MODES)}")
    return feedback


def check_noise_kind(noise: Any, df: Any) -> tuple[str, float]:
    """``(noise, df)`` validated: a kind of :data:`NOISE_KINDS`; Student-t needs a finite ``df > 2``."""
    if not isinstance(noise, str) or noise not in NOISE_KINDS:
        raise ValueError(f"unknown noise {noise!r}; valid: {', '.join(NOISE_KINDS)}")
    try:
        df = float(df)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"df must be a number > 2, got {df!r}") from exc
    if noise == "student_t" and not (math.isfinite(df) and df > 2):
        raise ValueError(f"student_t noise needs finite df > 2 (finite variance), got df={df!r}")
    return noise, df


def check_render_mode(render_mode: Any) -> str | None:
    if render_mode is not None and render_mode not in RENDER_MODES:
        raise ValueError(f"unknown render_mode {render_mode!r}; valid: None, {', '.join(RENDER_MODES)}")
    return render_mode


def check_max_steps(max_steps: Any) -> int | None:
    """A positive integer, or ``None`` (no limit)."""
    if max_steps is None:
        return None
    if isinstance(max_steps, (bool, np.bool_)) or not isinstance(max_steps, (int, np.integer)) or max_steps < 1:
        raise ValueError(f"max_steps must be a positive integer or None, got {max_steps!r}")
    return int(max_steps)


__all__ = [
    "DEFAULT_MAX_STEPS",
    "FEEDBACK_MODES",
    "NOISE_KINDS",
    "RENDER_MODES",
    "check_feedback",
    "check_max_steps",
    "check_noise_kind",
    "check_render_mode",
]
