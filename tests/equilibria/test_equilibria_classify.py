"""Classification of joint actions (Defs. 3–4, stability of ω and ω_S) on points known by hand."""

import json

import numpy as np
import pytest

from stackenv.equilibria import classify
from stackenv.games import make

FLAGS = ("differential_nash", "differential_stackelberg", "stable_simgrad", "stable_stackelberg")


def flags(c):
    return tuple(getattr(c, f) for f in FLAGS)


def test_duopoly_nash_point_is_stable_differential_nash():
    g = make("duopoly")
    A, c1, c2 = 100.0, 5.0, 2.0
    x = np.array([(A + c2 - 2 * c1) / 3, (A + c1 - 2 * c2) / 3])  # derived in §4.1
    c = classify(g, x)
    assert c.differential_nash and c.stable_simgrad
    assert not c.differential_stackelberg and not c.stable_stackelberg  # Df_1 = −q_1/2 ≠ 0 there
    # J = [[2, 1], [1, 2]] for every duopoly: eigenvalues 1 and 3, own Hessians 2 and 2
    np.testing.assert_allclose(c.eig_J, [1.0, 3.0], atol=1e-12)
    np.testing.assert_allclose(np.concatenate(c.eig_own_hessians), [2.0, 2.0])
    assert c.omega_residual < 1e-10


def test_duopoly_stackelberg_point_is_stable_differential_stackelberg():
    g = make("duopoly", A=80.0, c=(3.0, 4.0))
    A, c1, c2 = 80.0, 3.0, 4.0
    x = np.array([(A + c2 - 2 * c1) / 2, (A + 2 * c1 - 3 * c2) / 4])
    c = classify(g, x)
    assert c.differential_stackelberg and c.stable_stackelberg
    assert not c.differential_nash and not c.stable_simgrad
    # reduced leader cost −((A − q1 + c2)/2 − c1) q1 has second derivative 1; follower's Hessian is 2
    np.testing.assert_allclose(np.concatenate(c.eig_reduced_hessians), [1.0, 2.0], atol=1e-12)
    # J_S = [[3/2, 1], [1, 2]]: eigenvalues (7 ± √17)/4
    np.testing.assert_allclose(c.eig_J_S.real, [(7 - np.sqrt(17)) / 4, (7 + np.sqrt(17)) / 4], atol=1e-12)


def test_non_critical_point_is_neither():
    g = make("duopoly")
    c = classify(g, [10.0, 10.0])
    assert flags(c) == (False, False, False, False)
    assert c.omega_residual > 1 and c.omega_S_residual > 1
    assert any("not a critical point of omega" in n for n in c.notes)
    assert len(c.eig_J) == 2 and len(c.eig_J_S) == 2  # eigenvalues are reported anyway


def test_torus_source_is_critical_but_neither_equilibrium_nor_stable():
    g = make("torus")
    phi = np.pi / 8
    x = np.array([phi - np.pi, phi - np.pi])  # both players opposite their targets: ω = 0
    c = classify(g, x)
    assert c.critical_omega and c.critical_omega_S
    assert flags(c) == (False, False, False, False)
    assert np.all(c.eig_J.real < 0)


def test_reduced_hessian_matches_finite_differences_of_the_reduced_cost():
    """Def. 4's second-order condition uses D²f_1(x_1, r(x_1)), *not* the diagonal block of J_S."""
    g = make("torus")
    x = np.array([-0.5252, 1.2465])
    x = g.response(x)  # follower at its best response
    for _ in range(50):  # Newton on ω_S to the nearby Stackelberg point
        x = g.wrap(x - np.linalg.solve(g.jacobian_S(x), g.omega_S(x)))
    c = classify(g, x)
    assert c.differential_stackelberg

    def reduced(t):
        return g.costs(g.response(np.array([t, x[1]])))[0]

    h = 1e-4
    fd = (reduced(x[0] + h) - 2 * reduced(x[0]) + reduced(x[0] - h)) / h**2
    assert c.eig_reduced_hessians[0][0] == pytest.approx(fd, abs=1e-5)
    assert abs(g.jacobian_S(x)[0, 0] - fd) > 0.1  # general-sum: the diagonal block differs


def test_undefined_omega_S_gives_false_with_reason():
    g = make("duopoly", price_floor=True)
    c = classify(g, [80.0, 80.0])  # Q > A: the price is floored, H22 = 0
    assert not c.stable_stackelberg and not c.differential_stackelberg
    assert c.eig_J_S is None and c.eig_reduced_hessians is None and c.omega_S_residual is None
    assert any("omega_S undefined" in n for n in c.notes)
    d = c.to_dict()
    assert d["eig_J_S"] is None and d["stable_stackelberg"] is False


def test_to_dict_is_json_with_the_four_booleans_and_complex_pairs():
    g = make("quadratic")  # default instance: J has eigenvalues 2 ± i
    x = np.linalg.solve(g.jacobian(np.zeros(2)), -g.omega(np.zeros(2)))
    c = classify(g, x)
    d = json.loads(json.dumps(c.to_dict()))
    for key in FLAGS:
        assert isinstance(d[key], bool)
    assert d["differential_nash"] and d["stable_simgrad"]
    eig = np.array(d["eig_J"])
    assert eig.shape == (2, 2)
    np.testing.assert_allclose(eig, [[2.0, -1.0], [2.0, 1.0]], atol=1e-12)
    assert set(d["eig_own_hessians"]) == set(g.agents)


def test_classify_rejects_bad_points():
    g = make("torus")
    with pytest.raises(ValueError, match="shape"):
        classify(g, [0.0, 0.0, 0.0])
    with pytest.raises(ValueError):
        classify(g, [np.nan, 0.0])
    with pytest.raises(ValueError, match="shape"):
        classify(g, np.zeros((3, 2)))
