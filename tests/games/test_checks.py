"""``stackenv.checks``: the one-reduction checks agree with the element-wise definitions on every kind of input."""

import math

import numpy as np
import pytest

from stackenv.checks import all_finite, all_within, rows_within


def _cases():
    rng = np.random.default_rng(3)
    base = rng.normal(size=(50, 3)) * 10
    yield "plain", base
    yield "empty", np.zeros((0, 3))
    for value in (np.nan, np.inf, -np.inf):
        x = base.copy()
        x[17, 1] = value
        yield f"one {value}", x
    x = base.copy()
    x[4, 0] = 1e200  # finite, but its square overflows: the one-reduction test cannot decide
    yield "overflowing square", x
    x = base.copy()
    x[4, :] = [1e200, -1e200, np.inf]
    yield "overflow and inf", x
    yield "large everywhere", np.full((5, 2), 3e10)
    yield "1-d", base[:, 0].copy()
    long = rng.normal(size=(2, 3 * 8192 + 5))  # summed in blocks (checks.BLAS_BLOCK)
    yield "long", long
    for value in (np.nan, np.inf):
        x = long.copy()
        x[1, -1] = value  # in the last, partial block
        yield f"long, one {value}", x


CASES = list(_cases())


@pytest.mark.parametrize("name,x", CASES, ids=[c[0] for c in CASES])
def test_all_finite_is_isfinite_all(name, x):
    assert all_finite(x) == bool(np.isfinite(x).all())


@pytest.mark.parametrize("name,x", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("bound", [0.0, 5.0, 25.0, 1e11, 1e160, np.inf])
def test_all_within_is_elementwise(name, x, bound):
    assert all_within(x, bound) == bool((np.abs(x) <= bound).all())


@pytest.mark.parametrize("name,x", [c for c in CASES if c[1].ndim == 2], ids=[c[0] for c in CASES if c[1].ndim == 2])
@pytest.mark.parametrize("radius", [0.0, 20.0, 40.0, 1e11, 1e160])
def test_rows_within_flags_exactly_the_rows_outside(name, x, radius):
    norms = np.array([math.hypot(*row) for row in x])  # exact, no overflow; NaN and inf rows are outside
    outside = ~(norms <= radius)
    got = rows_within(x, radius)
    if not outside.any():
        assert got is None
    else:
        np.testing.assert_array_equal(got, outside)
