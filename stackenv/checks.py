"""Whole-array checks on the hot path: finiteness and magnitude bounds in one BLAS reduction.

Every step of a batched run checks its iterates (finite? inside the divergence bound?). On ``(B, d)`` arrays
with small ``d`` numpy's element-wise checks (``np.isfinite(x).all()``, ``np.abs(x) <= c``) cost several
passes and temporaries; one squared norm ``q = Σ x²`` (``np.vdot``, no temporary) decides the usual case:

- ``q`` finite  ⇒  every entry is finite (a NaN or ±inf makes ``q`` NaN or inf);
- ``q ≤ c²``    ⇒  every entry, and every row's Euclidean norm, is at most ``c`` (each is bounded by ``√q``).

Only when ``q`` does not decide (overflow beyond ~1.3e154, or a genuinely large entry) do the functions fall
back to the exact element-wise check, so the answers are exact in every case; the tests compare them with
the element-wise definitions on random, NaN, inf and overflowing inputs.
"""

from __future__ import annotations

import math

import numpy as np

#: ``np.vdot`` is OpenBLAS's ddot, multi-threaded above ~10⁴ elements; on a loaded machine its threads wait for a
#: core (a play step at N = 10⁵ followers went from ~3 to ~28 ms), so longer arrays are summed in single-threaded
#: blocks of this many elements.
BLAS_BLOCK = 8192


def _sq_norm(x: np.ndarray) -> float:
    if x.size <= BLAS_BLOCK:
        return float(np.vdot(x, x)) if x.size else 0.0  # vdot flattens its arguments itself
    r = x.reshape(-1)
    return sum(float(np.vdot(r[i : i + BLAS_BLOCK], r[i : i + BLAS_BLOCK])) for i in range(0, r.size, BLAS_BLOCK))


def all_finite(x: np.ndarray) -> bool:
    """``np.isfinite(x).all()`` for a float array."""
    return _sq_norm(x) < math.inf or bool(np.isfinite(x).all())


def all_within(x: np.ndarray, bound: float) -> bool:
    """``(np.abs(x) <= bound).all()`` for a float array (NaN entries are not within any bound)."""
    q = _sq_norm(x)
    return (q < math.inf and q <= bound * bound) or bool((np.abs(x) <= bound).all())


def rows_within(x: np.ndarray, radius: float) -> np.ndarray | None:
    """``None`` when every row of ``x`` ``(B, d)`` has Euclidean norm ``<= radius``; else the boolean ``(B,)``
    mask of the rows that do not (a non-finite row never does)."""
    q = _sq_norm(x)
    if q < math.inf and q <= radius * radius:
        return None
    outside = ~(np.hypot.reduce(x, axis=1) <= radius)  # norms without overflow; NaN compares false: outside
    return outside if outside.any() else None


__all__ = ["all_finite", "all_within", "rows_within"]
