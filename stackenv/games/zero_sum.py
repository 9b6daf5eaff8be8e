"""Zero-sum quadratic games (Fiez, Chasnov & Ratliff §2.2.1, Props. 1–3).

Description:
    The leader minimises ``f`` and the follower maximises it. In zero-sum games stable differential Nash
    equilibria are differential Stackelberg equilibria (Prop. 1), some *non*-Nash attractors of simultaneous
    gradient play are Stackelberg equilibria (Prop. 2), and every stable attractor of the Stackelberg
    dynamics ``ẋ = −ω_S(x)`` is a differential Stackelberg equilibrium (Prop. 3). The named instances
    below make Prop. 2 and the "spurious attractor" case concrete.

Players and roles:
    ``leader`` (player 1, level 0, ``x_1 ∈ R^{d_1}``) and ``follower`` (player 2, level 1, ``x_2 ∈ R^{d_2}``).

Actions and bounds:
    ``x_i ∈ [−bound, bound]^{d_i}`` (dimensionless).

Costs:
    ``f_1 = f``, ``f_2 = −f`` with ``f(x) = ½ x_1ᵀA x_1 + x_1ᵀB x_2 + ½ x_2ᵀC x_2 + a·x_1 + b·x_2``.
    ``ω = (A x_1 + B x_2 + a, −Bᵀx_1 − C x_2 − b)``, ``J = [[A, B], [−Bᵀ, −C]]``, ``H22 = −C``,
    ``H21 = −Bᵀ``, ``Df_1 = ∇_1 f − B C⁻¹ (Bᵀx_1 + C x_2 + b)`` and the leader's reduced Hessian is the
    Schur complement ``A − B C⁻¹ Bᵀ`` (eq. 3). ``ω_S`` needs ``C`` invertible (else ``ValueError``).
    ``A`` and ``C`` must be symmetric (a ``ValueError`` otherwise; only the symmetric part of a quadratic form
    matters, and requiring it keeps ``params`` equal to the Hessians actually used). Scalars stand for
    multiples of the identity (scalar ``a``/``b``: that value in every coordinate); ``d_1``/``d_2`` are read
    off the matrix-valued parameters, and default to 1.

Named instances (``instance=...``; all have ``a = b = 0`` and their only critical point at ``x = 0``):
    ``"prop2"`` (the default): scalar ``A = −1, B = 2, C = −2``. ``J = [[−1, 2], [−2, 2]]`` has trace 1 and
    determinant 2, so its eigenvalues ``(1 ± i√7)/2`` lie in the open right half-plane: ``x = 0`` is a stable
    attractor of gradient play. It is *not* Nash (the leader's ``∇²_11 f = A = −1 < 0``), but it *is* a
    differential Stackelberg equilibrium: ``H22 = −C = 2 > 0`` and ``A − B²/C = −1 + 2 = 1 > 0``; there
    ``J_S = [[1, 0], [−2, 2]]`` (spectrum {1, 2}), so it is also stable for the Stackelberg dynamics (Prop. 2).
    ``"spurious"``: ``d_1 = d_2 = 2``, ``A = diag(−0.5, 2)``, ``B = 2I``, ``C = diag(−2, 0.5)``. The game splits into
    two scalar games with ``J``-blocks ``[[α, β], [−β, −γ]]`` = ``[[−0.5, 2], [−2, 2]]`` and ``[[2, 2], [−2, −0.5]]``:
    both have trace 1.5 > 0 and determinant 3 > 0, so ``x = 0`` is a stable attractor of gradient play. It is
    neither Nash (``A`` and ``−C`` are both indefinite) nor Stackelberg (``H22 = −C = diag(2, −0.5)`` is not
    positive definite, and the reduced Hessian ``A − B C⁻¹ Bᵀ = diag(1.5, −6)`` is not either);
    ``spec J_S = {1.5, −6, 2, −0.5}``, so the Stackelberg dynamics are repelled from it (Prop. 3).

Equilibria (inherited from the quadratic family): ``critical_point()``, ``stackelberg_critical_point()``,
``nash_equilibrium()`` and ``stackelberg_equilibrium()`` (``None`` where no such equilibrium exists: no Nash
equilibrium in either named instance; ``stackelberg_equilibrium()`` is ``0`` for ``"prop2"``, ``None`` for
``"spurious"``).

Parameters:
    ``A`` (d1×d1), ``B`` (d1×d2), ``C`` (d2×d2), ``a`` (d1), ``b`` (d2), ``bound`` (box half-width, > 0),
    ``instance`` (``"prop2"``, ``"spurious"`` or ``None``). Giving an instance together with matrices that
    differ from it is a ``ValueError``; with neither, the ``"prop2"`` instance is used.

Version history:
    v0: initial version.
"""

from __future__ import annotations

import numpy as np

from stackenv.games.base import as_float_array
from stackenv.games.quadratic import QuadraticBase
from stackenv.games.registry import register

INSTANCES: dict[str, dict] = {
    "prop2": {"A": -1.0, "B": 2.0, "C": -2.0},
    "spurious": {"A": [[-0.5, 0.0], [0.0, 2.0]], "B": [[2.0, 0.0], [0.0, 2.0]], "C": [[-2.0, 0.0], [0.0, 0.5]]},
}


def _blocks(A, B, C, a, b) -> tuple[np.ndarray, ...]:
    """Validate the parameters and expand scalars to full blocks ``(A, B, C, a, b)``."""
    raw = {k: as_float_array(v, k) for k, v in zip("ABCab", (A, B, C, a, b))}
    for k in "ABC":
        if raw[k].ndim not in (0, 2):
            raise ValueError(f"zero_sum: parameter {k!r} must be a scalar or a matrix, got shape {raw[k].shape}")
    for k in "ab":
        if raw[k].ndim > 1:
            raise ValueError(f"zero_sum: parameter {k!r} must be a scalar or a vector, got shape {raw[k].shape}")
    votes = {1: {}, 2: {}}  # dimension sources for d1 and d2
    for k, (i, j) in {"A": (1, 1), "B": (1, 2), "C": (2, 2)}.items():
        if raw[k].ndim == 2:
            votes[i][k] = raw[k].shape[0]
            votes[j].setdefault(k, raw[k].shape[1])
            if i == j and raw[k].shape[0] != raw[k].shape[1]:
                raise ValueError(f"zero_sum: parameter {k!r} must be square, got shape {raw[k].shape}")
    for k, i in (("a", 1), ("b", 2)):
        if raw[k].ndim == 1:
            votes[i][k] = raw[k].size
    dims = []
    for i in (1, 2):
        if len(set(votes[i].values())) > 1:
            raise ValueError(f"zero_sum: mismatched shapes, the sizes of d{i} disagree: {votes[i]}")
        dims.append(next(iter(votes[i].values()), 1))
    d1, d2 = dims
    if raw["B"].ndim == 0 and d1 != d2:
        raise ValueError(f"zero_sum: a scalar B needs d1 == d2, got d1={d1}, d2={d2}; give B as a {d1}x{d2} matrix")
    A_ = raw["A"] * np.eye(d1) if raw["A"].ndim == 0 else raw["A"]
    B_ = raw["B"] * np.eye(d1) if raw["B"].ndim == 0 else raw["B"]
    C_ = raw["C"] * np.eye(d2) if raw["C"].ndim == 0 else raw["C"]
    for k, M in (("A", A_), ("C", C_)):
        if not np.allclose(M, M.T, rtol=0, atol=1e-12 * max(1.0, np.abs(M).max())):
            raise ValueError(f"zero_sum: parameter {k!r} must be symmetric, got {M.tolist()}")
    return A_, B_, C_, np.broadcast_to(raw["a"], (d1,)).copy(), np.broadcast_to(raw["b"], (d2,)).copy()


@register
class ZeroSum(QuadraticBase):
    """Zero-sum quadratic game ``(f, −f)``; the leader minimises ``f``."""

    name = "zero_sum"
    defaults = {"A": None, "B": None, "C": None, "a": None, "b": None, "bound": 10.0, "instance": None}
    zero_sum = True

    def __init__(self, A=None, B=None, C=None, a=None, b=None, bound: float = 10.0, instance: str | None = None):
        given = {"A": A, "B": B, "C": C, "a": a, "b": b}
        if instance is not None and (not isinstance(instance, str) or instance not in INSTANCES):
            raise ValueError(f"zero_sum: unknown instance {instance!r}; valid: {sorted(INSTANCES)} or None")
        if instance is None and all(given[k] is None for k in "ABC"):
            instance = "prop2"
        if instance is None:
            missing = [k for k in "ABC" if given[k] is None]
            if missing:
                raise ValueError(f"zero_sum: give A, B and C together (or an instance); missing {missing}")
            blocks = _blocks(A, B, C, 0.0 if a is None else a, 0.0 if b is None else b)
        else:
            spec = {"a": 0.0, "b": 0.0, **INSTANCES[instance]}
            blocks = _blocks(*(spec[k] for k in "ABCab"))
            if any(v is not None for v in given.values()):
                mine = _blocks(*(spec[k] if given[k] is None else given[k] for k in "ABCab"))
                if any(m.shape != s.shape or not np.array_equal(m, s) for m, s in zip(mine, blocks)):
                    raise ValueError(f"zero_sum: parameters {given} conflict with instance {instance!r}")
        self.A, self.B, self.C, self.a, self.b = blocks
        self.instance = instance if instance is not None else self._match_instance()
        players = self._box_players(["leader", "follower"], self.B.shape, bound)
        Q1 = np.block([[self.A, self.B], [self.B.T, self.C]])
        q1 = np.concatenate([self.a, self.b])
        self._init_quadratic(players, [[0], [1]], np.stack([Q1, -Q1]), np.stack([q1, -q1]))

    def _match_instance(self) -> str | None:
        for key, spec in INSTANCES.items():
            ref = _blocks(*({"a": 0.0, "b": 0.0, **spec}[k] for k in "ABCab"))
            mine = (self.A, self.B, self.C, self.a, self.b)
            if all(m.shape == r.shape and np.array_equal(m, r) for m, r in zip(mine, ref)):
                return key
        return None

    @property
    def params(self):
        return {
            "A": self.A.tolist(),
            "B": self.B.tolist(),
            "C": self.C.tolist(),
            "a": self.a.tolist(),
            "b": self.b.tolist(),
            "bound": self.bound,
            "instance": self.instance,
        }
