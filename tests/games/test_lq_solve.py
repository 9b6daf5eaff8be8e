"""Feedback Nash / Stackelberg solutions of LQ games against an independent stage-wise solver written here.

The reference below never uses the gain formulas of :mod:`stackenv.games.lq_solve` (no ``D``, ``M``, ``W̄``):
at every stage it writes each player's cost-to-go as one quadratic form ``zᵀ M_i z`` of the stacked vector
``z = (x, u_0, ..., u_{N−1})`` (next state ``[A B_0 … B_{N−1}] z``), and solves the stage game from the
definitions — Nash: every player's partial gradient in its own control vanishes (one stacked linear solve);
Stackelberg: the followers' stacked conditions give ``u_F`` as a linear map of ``(x, u_0)``, the leader minimises
its form restricted to that map. Costs are checked by simulating the closed loop and by propagating the state's
mean and covariance.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from stackenv.cli import main
from stackenv.games import lq_solve, make
from stackenv.games.lq_model import LQModel

RTOL = 1e-6


def random_model(rng: np.random.Generator, N: int | None = None, noise: bool = True, **over) -> LQModel:
    """A random LQ game: n ≤ 4 states, m_i ≤ 3 controls, N ∈ {2, 3} players, horizon ≤ 8, PSD weights."""
    N = int(rng.integers(2, 4)) if N is None else N
    n = int(rng.integers(1, 5))
    m = [int(v) for v in rng.integers(1, 4, size=N)]

    def psd(k, shift):
        M = rng.normal(size=(k, k))
        return M @ M.T / k + shift * np.eye(k)

    params = {
        "A": rng.normal(size=(n, n)) / np.sqrt(n),
        "B": [rng.normal(size=(n, mi)) for mi in m],
        "Q": [psd(n, 0.0) for _ in range(N)],
        "R": [[psd(m[j], 0.5 if i == j else 0.0) * (1.0 if i == j else 0.3) for j in range(N)] for i in range(N)],
        "horizon": int(rng.integers(1, 9)),
        "x0": rng.normal(size=n),
        "W": psd(n, 0.0) * 0.1 if noise else None,
        "QT": [psd(n, 0.1) for _ in range(N)],
    }
    params.update(over)
    return LQModel.build(**params)


# ---------------------------------------------------------------------------------------------- reference
def stage_forms(model: LQModel, P: np.ndarray) -> list[np.ndarray]:
    """Player i's stage cost-to-go ``zᵀ M_i z`` over ``z = (x, u_0, ..., u_{N−1})``."""
    n, m = model.n, model.m
    E = np.hstack([model.A, *model.B])  # next state = E z
    forms = []
    for i in range(model.N):
        M = E.T @ (model.discount * P[i]) @ E
        M[:n, :n] += model.Q[i]
        off = n
        for j, mj in enumerate(m):
            M[off : off + mj, off : off + mj] += model.R[i][j]
            off += mj
        forms.append(M)
    return forms


def reference_stage(model: LQModel, P: np.ndarray, concept: str) -> np.ndarray:
    """The stage map ``C`` with ``z = C x`` (so ``u = −K x`` is ``C[n:]``), from the definitions."""
    n, m = model.n, model.m
    idx = np.cumsum([n, *m])
    own = [np.arange(idx[i], idx[i + 1]) for i in range(model.N)]
    forms = stage_forms(model, P)
    if concept == "feedback_nash":
        rows = np.vstack([forms[i][own[i]] for i in range(model.N)])  # ∂/∂u_i (zᵀM_iz)/2 = M_i[u_i, :] z = 0
        u = -np.linalg.solve(rows[:, n:], rows[:, :n])
        return np.vstack([np.eye(n), u])
    F = np.concatenate(own[1:])
    rows = np.vstack([forms[j][own[j]] for j in range(1, model.N)])
    lead = np.concatenate([np.arange(n), own[0]])  # (x, u_0)
    resp = -np.linalg.solve(rows[:, F], rows[:, lead])  # u_F = resp (x, u_0)
    L = np.zeros((idx[-1], n + m[0]))
    L[lead, np.arange(n + m[0])] = 1.0
    L[F] = resp
    M0 = L.T @ forms[0] @ L  # leader's form over (x, u_0)
    u0 = -np.linalg.solve(M0[n:, n:], M0[n:, :n])
    return L @ np.vstack([np.eye(n), u0])


def reference_solution(model: LQModel, concept: str):
    """Gains ``K[t][i]`` and values ``P[t]`` by backward recursion on the stage forms."""
    T, n = model.horizon, model.n
    P = [None] * (T + 1)
    P[T] = model.QT
    gains = [None] * T
    idx = np.cumsum([n, *model.m])
    for t in range(T - 1, -1, -1):
        C = reference_stage(model, P[t + 1], concept)
        gains[t] = [-C[idx[i] : idx[i + 1]] for i in range(model.N)]
        P[t] = np.stack([C.T @ M @ C for M in stage_forms(model, P[t + 1])])
    return gains, np.stack(P)


def simulated_costs(model: LQModel, gains) -> tuple[np.ndarray, np.ndarray]:
    """Noise-free costs along the closed loop from x0, and expected costs by mean/covariance propagation."""
    x, mu, S = model.x0.copy(), model.x0.copy(), np.zeros((model.n, model.n))
    J, EJ = np.zeros(model.N), np.zeros(model.N)
    for t, K in enumerate(gains):
        g = model.discount**t
        u = [-k @ x for k in K]
        J += g * model.stage_costs(x, u)
        F = model.A - sum(b @ k for b, k in zip(model.B, K))
        for i in range(model.N):
            Wi = model.Q[i] + sum(k.T @ r @ k for k, r in zip(K, model.R[i]))
            EJ[i] += g * (mu @ Wi @ mu + np.trace(Wi @ S))
        x, mu, S = F @ x, F @ mu, F @ S @ F.T + model.W
    g = model.discount ** len(gains)
    J += g * model.terminal_costs(x)
    EJ += g * (np.einsum("a,iab,b->i", mu, model.QT, mu) + np.einsum("iab,ba->i", model.QT, S))
    return J, EJ


def assert_rel(a, b, what, rtol=RTOL):
    a, b = np.asarray(a, float), np.asarray(b, float)
    err = np.abs(a - b).max() / max(np.abs(b).max(), 1e-12)
    assert err <= rtol, f"{what}: relative error {err:.3g}"


# ---------------------------------------------------------------------------------------------- tests
@pytest.mark.parametrize("concept", lq_solve.CONCEPTS)
@pytest.mark.parametrize("seed", range(12))
def test_solution_matches_independent_recursion(seed, concept):
    rng = np.random.default_rng(1000 + seed)
    model = random_model(rng, discount=float(rng.choice([1.0, 0.9])))
    sol = lq_solve.solve(model, concept)
    gains, P = reference_solution(model, concept)
    for t in range(model.horizon):
        for i in range(model.N):
            assert_rel(sol.gains[t][i], gains[t][i], f"K_{i}[{t}]")
    assert_rel(sol.values, P, "values")
    J, EJ = simulated_costs(model, sol.gains)
    assert_rel(sol.costs, J, "costs vs the simulated closed loop")
    assert_rel(sol.expected_costs, EJ, "expected costs vs mean/covariance propagation")
    assert np.all(sol.expected_costs >= sol.costs)


def test_two_player_stackelberg_differs_from_nash_and_one_player_is_lqr():
    """Sanity on the concepts: the default game separates them; with the follower's control having no effect
    (B_1 = 0) both reduce to the leader's LQR, whose gain is the discrete Riccati solution."""
    game = make("lq")
    nash, stack = game.feedback_nash(), game.feedback_stackelberg()
    assert np.abs(nash.gains[0][0] - stack.gains[0][0]).max() > 1e-3
    model = LQModel.build(
        A=[[1.1]], B=[[[1.0]], [[0.0]]], Q=[[[1.0]], [[1.0]]], R=[[1, 0], [0, 1]], horizon=400, x0=[1]
    )
    from scipy.linalg import solve_discrete_are

    Pare = solve_discrete_are(model.A, model.B[0], model.Q[0], model.R[0][0])
    for concept in lq_solve.CONCEPTS:
        assert_rel(lq_solve.solve(model, concept).values[0, 0], Pare, concept, 1e-9)
        assert_rel(lq_solve.stationary(model, concept).values[0], Pare, concept, 1e-9)


@pytest.mark.parametrize("concept", lq_solve.CONCEPTS)
@pytest.mark.parametrize("seed", range(4))
def test_stationary_is_a_fixed_point_and_the_long_horizon_limit(seed, concept):
    rng = np.random.default_rng(2000 + seed)
    model = random_model(rng, N=2 + seed % 2, discount=0.9, horizon=300)
    st = lq_solve.stationary(model, concept)
    C = reference_stage(model, st.values, concept)
    n = model.n
    assert_rel(np.vstack(st.gains), -C[n:], "stationary gains vs one reference stage at the fixed point", 1e-8)
    assert_rel(st.values, np.stack([C.T @ M @ C for M in stage_forms(model, st.values)]), "fixed point", 1e-8)
    finite = lq_solve.solve(model, concept)
    assert_rel(np.vstack(finite.gains[0]), np.vstack(st.gains), "K[0] of a long horizon", 1e-7)
    g = model.discount
    assert_rel(st.expected_costs, st.costs + g / (1 - g) * np.einsum("iab,ba->i", st.values, model.W), "noise")


def test_not_convex_and_unstable_raise_clear_errors():
    bad = LQModel.build(A=[[1.0]], B=[[[1.0]], [[1.0]]], Q=[[[1.0]], [[1.0]]], R=[[1, 0], [0, -5]], horizon=3, x0=[1])
    for concept in lq_solve.CONCEPTS:
        with pytest.raises(lq_solve.NoEquilibriumError, match="not strictly convex"):
            lq_solve.solve(bad, concept)
    # The leader's stage problem alone can fail: R_00 < 0 but the follower's answer is fine.
    lead = LQModel.build(A=[[1.0]], B=[[[1.0]], [[1.0]]], Q=[[[0.0]], [[1.0]]], R=[[-5, 0], [0, 1]], horizon=2, x0=[1])
    with pytest.raises(lq_solve.NoEquilibriumError, match="leader's R_00"):
        lq_solve.feedback_stackelberg(lead)
    # Nobody cares about the state: the stationary gains are zero and the unstable A stays unstable.
    lazy = LQModel.build(A=[[2.0]], B=[[[1.0]], [[1.0]]], Q=[[[0.0]], [[0.0]]], R=[[1, 0], [0, 1]], horizon=1, x0=[1])
    with pytest.raises(lq_solve.NoEquilibriumError, match="not stable"):
        lq_solve.stationary(lazy, "feedback_nash")
    with pytest.raises(ValueError, match="unknown concept"):
        lq_solve.stage(lazy, lazy.QT, "open_loop")


@pytest.mark.parametrize(
    "params, match",
    [
        ({"A": [[1, 2]]}, "'A' must be a square matrix"),
        ({"B": [[[1.0], [0.0]]]}, "'B' must be a list with one entry per player"),
        ({"B": [[[1.0]], [[0.5], [1.0]]]}, r"'B\[0\]' must have shape \(2, m_0\)"),
        ({"Q": [[[1, 1], [0, 1]], [[1, 0], [0, 1]]]}, r"'Q\[0\]' must be symmetric"),
        ({"R": [[1, 0], [0, 1, 2]]}, r"'R\[1\]' must have 2 entries"),
        ({"W": [[-1, 0], [0, 0]]}, "positive semidefinite"),
        ({"horizon": 0}, "'horizon' must be a positive integer"),
        ({"x0": [1.0]}, r"'x0' must have shape \(2,\)"),
        ({"discount": 1.5}, r"'discount' must lie in \(0, 1\]"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        make("lq", **params)


def test_cli_json_contract_matches_the_reference(capsys):
    """``stackenv equilibria lq --set ... --json``: gains ``[[K_1[t], K_2[t]] for t]`` and noise-free costs."""
    rng = np.random.default_rng(7)
    model = random_model(rng, N=2, noise=False)
    p = model.params()
    sets = [f"{k}={json.dumps(p[k])}" for k in ("A", "B", "Q", "R", "horizon", "x0")]
    assert main(["equilibria", "lq", *[a for s in sets for a in ("--set", s)], "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    model = LQModel.build(p["A"], p["B"], p["Q"], p["R"], p["horizon"], p["x0"])  # QT defaults to Q on the CLI
    for concept in lq_solve.CONCEPTS:
        gains, _ = reference_solution(model, concept)
        got = doc[concept]
        assert len(got["gains"]) == model.horizon and all(len(Kt) == 2 for Kt in got["gains"])
        for t in range(model.horizon):
            for i in range(2):
                assert_rel(got["gains"][t][i], gains[t][i], f"{concept} K_{i}[{t}]")
        assert_rel(got["costs"], simulated_costs(model, gains)[0], f"{concept} costs")
    assert doc["nash"] and doc["stackelberg"]  # the generic (open-loop) report is kept


def test_cli_errors(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["equilibria", "lq", "--set", "R=[[1,0],[0,-5]]"])
    assert exc.value.code == 1 and "not strictly convex" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["equilibria", "lq", "--set", "A=[[1,2]]"])
    assert exc.value.code == 2 and "'A' must be a square matrix" in capsys.readouterr().err
    assert main(["equilibria", "lq"]) == 0
    text = capsys.readouterr().out
    assert "feedback_nash: costs from x0" in text and "feedback_stackelberg" in text


def test_open_loop_game_costs_are_the_simulated_costs():
    """The ``lq`` Game's action is the open-loop control sequence; its costs are the simulated expected costs."""
    rng = np.random.default_rng(3)
    model = random_model(rng, N=3)
    game = make("lq", **{k: v for k, v in model.params().items()})
    z = rng.normal(size=(4, game.d))
    us = game.controls(z)
    x, S = np.broadcast_to(model.x0, (4, model.n)), np.zeros((model.n, model.n))
    J = np.zeros((4, model.N))
    noise = np.zeros(model.N)
    for t in range(model.horizon):
        J += model.stage_costs(x, [u[:, t] for u in us])
        noise += np.einsum("iab,ba->i", model.Q, S)
        x, S = model.step(x, [u[:, t] for u in us]), model.A @ S @ model.A.T + model.W
    J += model.terminal_costs(x)
    noise += np.einsum("iab,ba->i", model.QT, S)
    assert_rel(game.costs(z), J + noise, "open-loop expected costs")
