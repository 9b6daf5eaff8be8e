"""What a joint action is: critical point of ``ω`` / ``ω_S``, differential Nash / Stackelberg, stable or not.

Definitions (Fiez, Chasnov & Ratliff §2, App. C; :func:`classify`):

- ``differential_nash`` (Def. 3): ``ω(x) = 0`` and every player's own Hessian ``∇²_ii f_i ≻ 0``.
- ``differential_stackelberg`` (Def. 4, generalised to levels, App. C): ``ω_S(x) = 0`` and, for every
  player i, the Hessian of its *reduced* cost ``x_i ↦ f_i(x_{≤k}, r(x_{≤k}))`` (lower levels at their
  implicit response) is ``≻ 0``. At a critical point of ``ω_S`` this Hessian is the Schur complement
  ``S_i = J_S[i,i] − J_S[i,b] J_S[b,b]⁻¹ J_S[b,i]`` (b: all coordinates below player i's level); for the
  bottom level it is the own Hessian, i.e. ``H22 ≻ 0`` in the two-player case. ``S_i`` is *not* the diagonal
  block ``J_S[i,i]`` in general-sum games (``D_2(Df_1) ≠ 0`` when ``∇_2 f_1 ≠ 0``); the two coincide in
  zero-sum games, where ``J_S`` is block lower-triangular at critical points (eq. 3).
- ``stable_simgrad``: ``ω(x) = 0`` and ``spec(J(x))`` in the open right half-plane, i.e. ``x`` is a
  locally asymptotically stable equilibrium of ``ẋ = −ω(x)`` (§2.2).
- ``stable_stackelberg``: ``ω_S(x) = 0`` and ``spec(J_S(x))`` in the open right half-plane (``ẋ = −ω_S``).
  False, with a note, where ``ω_S`` is undefined (singular ``H22``).

Stability is a property of critical points, so both ``stable_*`` flags are False at a non-critical point;
the eigenvalues are reported regardless. Tolerances: ``ω(x) = 0`` means ``‖ω(x)‖ ≤ rtol·‖J‖_F (1 + ‖x‖)`` (a
bound on the rounding error of evaluating the field at ``x``; no absolute term, so multiplying every cost by
a constant changes no classification), and ``ω_S(x) = 0`` the same bound on ``‖ω_S(x)‖``. The scale is
``J``'s, not ``J_S``'s, on purpose: ``J_S`` blows up where ``H22`` is nearly singular, and a ``J_S``-scaled
test would accept the points next to such poles where Newton's method stalls. "≻ 0" and "open right
half-plane" mean eigenvalues (real parts) above ``1e-10·‖J‖_F`` resp. ``1e-10·‖J_S‖_F``. Norms are
overflow-free (:func:`stackenv.games.base.norm`).

The spectra come from ``game.spectra(x, field)``: dense eigenvalue problems for most games, closed forms where
a family has them (the oligopoly classifies N = 10⁵ followers in O(N)).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stackenv.equilibria.results import Classification, read_only
from stackenv.games.base import Game, norm

__all__ = ["EIG_RTOL", "RTOL", "check_game", "classify", "residual_tol"]

#: Relative tolerance of the residual test ``F(x) = 0`` (see the module docstring).
RTOL = 1e-8
#: Eigenvalues (real parts) must exceed this times ``‖J‖_F`` to count as positive.
EIG_RTOL = 1e-10


def check_game(game: Any) -> Game:
    """``ValueError`` unless ``game`` is a :class:`~stackenv.games.base.Game` (e.g. a name was passed)."""
    if not isinstance(game, Game):
        raise ValueError(
            f"expected a stackenv Game, got {type(game).__name__} {game!r}; build one with stackenv.games.make(name)"
        )
    return game


def residual_tol(x: np.ndarray, J_norm: float, rtol: float = RTOL) -> float:
    """``rtol·‖J‖_F (1 + ‖x‖)``: the residual below which ``F(x) = 0`` (scale-invariant, no absolute term)."""
    return rtol * max(J_norm * (1.0 + norm(x)), 1e-300)


def _sorted(ev: np.ndarray) -> np.ndarray:
    ev = np.asarray(ev, complex)
    return read_only(ev[np.lexsort((ev.imag, ev.real))])


def classify(game: Game, x: Any, rtol: float = RTOL) -> Classification:
    """Classify a joint action ``x`` (shape ``(d,)``) of ``game``; see the module docstring.

    Args:
        game: any game.
        x: joint action, shape ``(d,)``.
        rtol: relative residual tolerance for ``ω(x) = 0`` / ``ω_S(x) = 0``.

    Raises:
        ValueError: if ``x`` is not a finite vector of length ``d`` or ``rtol`` is not positive.
    """
    check_game(game)
    x = game.check_x(x)
    if x.ndim != 1:
        raise ValueError(f"classify: x must have shape ({game.d},), got {x.shape}")
    if not (np.isfinite(rtol) and rtol > 0):
        raise ValueError(f"classify: rtol must be positive and finite, got {rtol!r}")
    notes: list[str] = []
    players = tuple(game.agents)

    # simultaneous play: ω, J, own Hessians (Def. 3)
    sp = game.spectra(x, "omega")
    thr = EIG_RTOL * max(sp.norm, 1e-300)
    res = norm(game.omega(x))
    tol = residual_tol(x, sp.norm, rtol)
    crit = res <= tol
    own = tuple(read_only(np.asarray(e, float)) for e in sp.blocks)
    if not crit:
        notes.append(f"not a critical point of omega (|omega| = {res:.3g} > tol {tol:.3g})")

    # hierarchical play: ω_S, J_S, reduced-cost Hessians (Def. 4, App. C)
    eig_JS = red = res_S = tol_S = None
    diff_S = stable_S = False
    try:
        omS = game.omega_S(x)
        sp_S = game.spectra(x, "omega_S")
    except ValueError as exc:
        notes.append(f"omega_S undefined: {exc}")
    else:
        thr_S = EIG_RTOL * max(sp_S.norm, 1e-300)
        res_S, tol_S = norm(omS), tol
        crit_S = res_S <= tol_S
        eig_JS = _sorted(sp_S.eig)
        if sp_S.blocks is None:
            notes.append("a lower-level block of J_S is singular: reduced Hessians undefined")
        else:
            red = tuple(read_only(np.asarray(e, float)) for e in sp_S.blocks)
            diff_S = bool(crit_S and all(e.min() > thr_S for e in red))
            if crit_S:
                notes += [
                    f"reduced Hessian of {p!r} is not symmetric; using its symmetric part"
                    for p, a in zip(players, sp_S.asymmetry)
                    if a > 1e-6
                ]
        stable_S = bool(crit_S and np.all(eig_JS.real > thr_S))
        if not crit_S:
            notes.append(f"not a critical point of omega_S (|omega_S| = {res_S:.3g} > tol {tol_S:.3g})")

    eig_J = _sorted(sp.eig)
    return Classification(
        differential_nash=bool(crit and all(e.min() > thr for e in own)),
        differential_stackelberg=diff_S,
        stable_simgrad=bool(crit and np.all(eig_J.real > thr)),
        stable_stackelberg=stable_S,
        eig_J=eig_J,
        eig_J_S=eig_JS,
        eig_own_hessians=own,
        eig_reduced_hessians=red,
        omega_residual=float(res),
        omega_S_residual=None if res_S is None else float(res_S),
        tol_omega=tol,
        tol_omega_S=tol_S,
        notes=tuple(notes),
        players=players,
    )
