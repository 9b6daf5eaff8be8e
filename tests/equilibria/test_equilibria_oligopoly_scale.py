"""Issue 17.6: the oligopoly's equilibria come from closed forms at any N (no dense N×N matrix is built)."""

from __future__ import annotations

import numpy as np
import pytest

from stackenv import equilibria as eq
from stackenv.games import make
from stackenv.games.spectra import dense_spectra


@pytest.mark.parametrize("N", [1, 2, 5, 9])
@pytest.mark.parametrize("field", ["omega", "omega_S"])
def test_closed_form_spectra_equal_the_dense_ones(N, field):
    game = make("oligopoly", A=60.0, leader_cost=3.0, follower_costs=np.linspace(1.0, 2.5, N).tolist())
    x = np.random.default_rng(N).uniform(0, 10, game.d)  # the spectra of an affine field do not depend on x
    fast, dense = game.spectra(x, field), dense_spectra(game, x, field)
    np.testing.assert_allclose(np.sort_complex(fast.eig), np.sort_complex(dense.eig), atol=1e-10)
    assert fast.norm == pytest.approx(dense.norm, rel=1e-12)
    for a, b in zip(fast.blocks, dense.blocks, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-12)
    np.testing.assert_allclose(fast.asymmetry, dense.asymmetry, atol=1e-12)


@pytest.mark.parametrize("N", [3000, 10**5])
def test_equilibria_at_large_N_without_dense_matrices(N, monkeypatch):
    """The closed forms are the unique critical points (J and J_S nonsingular: det J_S = 2) and are classified
    from the closed-form spectra; building J or J_S densely would fail this test."""
    game = make("oligopoly", A=1e6, leader_cost=1.0, follower_costs=np.linspace(1.0, 2.0, N).tolist())
    for dense in ("jacobian", "jacobian_S"):
        monkeypatch.setattr(game, dense, lambda x: pytest.fail("dense Jacobian built"))
    (nash,) = eq.nash_equilibria(game, cache=False)
    (stack,) = eq.stackelberg_equilibria(game, cache=False)
    np.testing.assert_allclose(nash.x, game.nash_closed_form())
    np.testing.assert_allclose(stack.x, game.stackelberg_closed_form())
    # the leader's reduced curvature is 2/(N + 1); both points are stable for both dynamics
    assert stack.classification.eig_reduced_hessians[0][0] == pytest.approx(2 / (N + 1))
    assert nash.classification.stable_simgrad and stack.classification.stable_stackelberg
