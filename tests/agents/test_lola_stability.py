"""The LOLA fixed point of the duopoly is stable for η < 3/2 (agents/lola.py docstring), by value."""

from __future__ import annotations

import numpy as np
import pytest

from agents.lola import lola_field, lola_fixed_point
from stackenv.games import make


def lola_jacobian(game, eta):
    """``DF`` of the affine LOLA field, column by column from the field itself (no formula from the docstring)."""
    F0 = lola_field(game, np.zeros(game.d), eta)
    return np.stack([lola_field(game, e, eta) - F0 for e in np.eye(game.d)], axis=-1)


@pytest.mark.parametrize("eta", [0.0, 0.25, 0.5, 1.0, 1.4, 1.6, 2.0])
def test_lola_field_jacobian_matches_the_docstring(eta):
    M = lola_jacobian(make("duopoly"), eta)
    np.testing.assert_allclose(M, [[2 - eta, 1], [1, 2]], atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(M), 3 - 2 * eta, atol=1e-12)


def test_stability_ends_at_three_halves():
    game = make("duopoly")
    stable = {eta: bool(np.all(np.linalg.eigvalsh(lola_jacobian(game, eta)) > 0)) for eta in (1.45, 1.49, 1.51, 1.9)}
    assert stable == {1.45: True, 1.49: True, 1.51: False, 1.9: False}  # the old claim "η < 2" says 1.9 is stable
    np.testing.assert_allclose(np.linalg.eigvalsh(lola_jacobian(game, 1.6)), [-0.0806, 2.4806], atol=1e-4)
    # the fixed point q_1* = (A + c_2 − 2c_1)/(3 − 2η) runs off to infinity as η → 3/2
    assert lola_fixed_point(game, 1.499)[0] > 1e4


@pytest.mark.parametrize(("eta", "converges"), [(1.4, True), (1.6, False)])
def test_small_step_play_on_the_lola_field(eta, converges):
    """x ← x − γ F(x) with γ = 0.1 (below 2/λ_max ≈ 0.8): from 1 unit off the fixed point, after 3000 steps the
    error is ≤ (1 − γλ_min)^3000 ≈ 1e-13 for η = 1.4 (λ_min = 0.21) and ≥ 1.008^3000 for η = 1.6."""
    game = make("duopoly")
    xstar = lola_fixed_point(game, eta)
    x = xstar + np.array([1.0, -1.0]) / np.sqrt(2)
    for _ in range(3000):
        x = x - 0.1 * lola_field(game, x, eta)
    err = np.linalg.norm(x - xstar)
    assert (err < 1e-8) if converges else (err > 1e6)
