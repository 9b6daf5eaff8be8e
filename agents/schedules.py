"""Step-size schedules ``γ_k`` and checks of the theory's assumptions (Fiez et al., §3, A1b).

- Robbins–Monro (A1b): ``Σ_k γ_k = ∞`` and ``Σ_k γ_k² < ∞``.
- Timescale separation (§3.2): ``γ_{1,k} = o(γ_{2,k})``, i.e. ``γ_leader / γ_follower → 0``.

Violations *warn* (a user may break them on purpose: the paper's own torus runs use ``γ = 1/√k``,
for which ``Σγ² = ∞``); non-positive step sizes raise ``ValueError``. Iterations are counted from
``k = 1`` (the paper's ``γ_k = 1/k``).
"""

from __future__ import annotations

import math
import warnings
from abc import ABC, abstractmethod

import numpy as np


class Schedule(ABC):
    """A positive step-size sequence ``γ_k``, ``k = 1, 2, ...``.

    Attributes:
        exponent: the asymptotic decay power p in ``γ_k ~ C k^{-p}`` (0 for a constant step); the checks
            below are decided by it.
    """

    exponent: float = 0.0

    @abstractmethod
    def value(self, k: int) -> float:
        """``γ_k`` (no validation)."""

    def __call__(self, k: int) -> float:
        if int(k) != k or k < 1:
            raise ValueError(f"{self!r}: iteration index k must be a positive integer, got {k!r}")
        g = float(self.value(int(k)))
        if not 0 < g < math.inf:  # positive and finite (NaN fails)
            raise ValueError(f"{self!r}: step size at k={k} must be positive and finite, got {g}")
        return g

    def check_robbins_monro(self) -> bool:
        """Warn (``UserWarning``) unless ``Σγ_k = ∞`` and ``Σγ_k² < ∞``; returns whether both hold."""
        p = self.exponent
        problems = []
        if p > 1:
            problems.append(f"sum of steps is finite (decay power {p:g} > 1): the iterates can stall")
        if p <= 0.5:
            problems.append(f"sum of squared steps diverges (decay power {p:g} <= 1/2): noise is not averaged out")
        for msg in problems:
            warnings.warn(f"{self!r} violates Robbins–Monro: {msg}", UserWarning, stacklevel=2)
        return not problems


class PowerSchedule(Schedule):
    """``γ_k = a / (k + k0)^p``.

    Args:
        a: scale (> 0), in action units per unit of feedback.
        p: decay power (≥ 0). Robbins–Monro holds for ``1/2 < p ≤ 1``.
        k0: offset (> −1, so ``k + k0 > 0`` from ``k = 1``); damps the first steps.
    """

    def __init__(self, a: float = 1.0, p: float = 1.0, k0: float = 0.0):
        a, p, k0 = float(a), float(p), float(k0)
        if not (np.isfinite(a) and a > 0):
            raise ValueError(f"PowerSchedule: scale a must be positive and finite, got {a}")
        if not (np.isfinite(p) and p >= 0):
            raise ValueError(f"PowerSchedule: decay power p must be finite and >= 0, got {p}")
        if not (np.isfinite(k0) and k0 > -1):
            raise ValueError(f"PowerSchedule: offset k0 must be > -1 so that k + k0 > 0 from k = 1, got {k0}")
        self.a, self.p, self.k0 = a, p, k0
        self.exponent = p

    def value(self, k: int) -> float:
        return self.a / (k + self.k0) ** self.p

    def __repr__(self) -> str:
        return f"PowerSchedule(a={self.a:g}, p={self.p:g}, k0={self.k0:g})"


class ConstantSchedule(Schedule):
    """``γ_k = a`` (> 0). Violates Robbins–Monro (``Σγ² = ∞``): iterates fluctuate at O(√a·noise)."""

    def __init__(self, a: float):
        a = float(a)
        if not (np.isfinite(a) and a > 0):
            raise ValueError(f"ConstantSchedule: step size must be positive and finite, got {a}")
        self.a = a
        self.exponent = 0.0

    def value(self, k: int) -> float:
        return self.a

    def __repr__(self) -> str:
        return f"ConstantSchedule({self.a:g})"


def as_schedule(value: Schedule | float, what: str = "step size") -> Schedule:
    """A :class:`Schedule` from a schedule or a positive number (a constant step)."""
    if isinstance(value, Schedule):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise ValueError(f"{what} must be a Schedule or a positive number, got {value!r}")
    return ConstantSchedule(float(value))


def check_robbins_monro(schedule: Schedule | float) -> bool:
    """Warn unless ``schedule`` satisfies Robbins–Monro (A1b); returns whether it does."""
    return as_schedule(schedule).check_robbins_monro()


def check_timescale_separation(leader: Schedule | float, follower: Schedule | float) -> bool:
    """Warn unless ``γ_leader,k / γ_follower,k → 0`` (§3.2: the leader learns on the slower timescale).

    Decided by the decay powers: the ratio tends to 0 iff ``p_leader > p_follower``.
    """
    lead, foll = as_schedule(leader), as_schedule(follower)
    ok = lead.exponent > foll.exponent
    if not ok:
        warnings.warn(
            f"no timescale separation: leader {lead!r} does not decay faster than follower {foll!r} "
            f"(γ_1/γ_2 does not tend to 0; need p_leader > p_follower)",
            UserWarning,
            stacklevel=2,
        )
    return ok
