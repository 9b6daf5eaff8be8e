"""Nash and Stackelberg equilibria, critical points, and their stability classification.

Uses only the game interface (``stackenv.games.base.Game``). Notation as in Fiez, Chasnov & Ratliff
(§2, App. C): ``ω`` is the individual gradient field with Jacobian ``J``, ``ω_S`` the Stackelberg field
(each player's total derivative through the levels below it) with Jacobian ``J_S``.

Classification of a joint action ``x`` (:func:`classify`):

- ``differential_nash`` (Def. 3): ``ω(x) = 0`` and every player's own Hessian ``∇²_ii f_i ≻ 0``.
- ``differential_stackelberg`` (Def. 4, generalised to levels, App. C): ``ω_S(x) = 0`` and, for every
  player i, the Hessian of its *reduced* cost ``x_i ↦ f_i(x_{≤k}, r(x_{≤k}))`` (lower levels at their
  implicit response) is ``≻ 0``. At a critical point of ``ω_S`` this Hessian is the Schur complement
  ``S_i = J_S[i,i] − J_S[i,b] J_S[b,b]⁻¹ J_S[b,i]`` (b: all coordinates below player i's level); for the
  bottom level it is the own Hessian, i.e. ``H22 ≻ 0`` in the two-player case. Note that ``S_i`` is *not*
  the diagonal block ``J_S[i,i]`` in general-sum games (``D_2(Df_1) ≠ 0`` when ``∇_2 f_1 ≠ 0``); the two
  coincide in zero-sum games, where ``J_S`` is block lower-triangular at critical points (eq. 3).
- ``stable_simgrad``: ``ω(x) = 0`` and ``spec(J(x))`` in the open right half-plane, i.e. ``x`` is a
  locally asymptotically stable equilibrium of ``ẋ = −ω(x)`` (§2.2).
- ``stable_stackelberg``: ``ω_S(x) = 0`` and ``spec(J_S(x))`` in the open right half-plane (``ẋ = −ω_S``).
  False, with a note, where ``ω_S`` is undefined (singular ``H22``).

Stability is a property of critical points, so both ``stable_*`` flags are False at a non-critical point;
the eigenvalues are reported regardless. Tolerances: ``ω(x) = 0`` means
``‖ω(x)‖ ≤ rtol·‖J‖_F (1 + ‖x‖)`` (a bound on the rounding error of evaluating the field at ``x``; no
absolute term, so multiplying every cost by a constant changes no classification),
and ``ω_S(x) = 0`` the same bound on ``‖ω_S(x)‖``. The scale is ``J``'s, not ``J_S``'s, on purpose:
``J_S`` blows up where ``H22`` is nearly singular, and a ``J_S``-scaled test would accept the points next
to such poles where Newton's method stalls. "≻ 0" and "open right half-plane" mean eigenvalues (real
parts) above ``1e-10·‖J‖_F`` resp. ``1e-10·‖J_S‖_F``.

JSON form (:meth:`Classification.to_dict`): the four booleans; ``eig_J`` and ``eig_J_S`` as lists of
``[re, im]`` pairs sorted by real then imaginary part (``eig_J_S`` is ``null`` where ``ω_S`` is undefined);
``eig_own_hessians`` and ``eig_reduced_hessians`` as ``{player name: [eigenvalues]}`` (real: symmetric
parts); the residual norms ``omega_residual`` / ``omega_S_residual``; ``notes`` (why a flag is False
when it is for a reason other than a sign, e.g. an undefined ``ω_S``).

Solvers (:func:`critical_points`, :func:`nash_equilibria`, :func:`stackelberg_equilibria`), in order:

1. Closed forms (``game.nash_closed_form()`` / ``game.stackelberg_closed_form()``) where the family has
   them (``None`` or ``NotImplementedError``: none here); each is *verified* (``ω = 0`` resp. ``ω_S = 0``
   within tolerance) or :class:`EquilibriumError` is raised. Steps 2–3 run regardless, so a closed form
   adds a point (exact, preferred over a numeric duplicate) but never hides one.
2. Quadratic games (``game.quadratic``): ``ω`` and ``ω_S`` are affine, ``F(x) = F(c) + J (x − c)``; one
   linear solve from the domain centre ``c`` (plus one refinement step) gives the critical point exactly,
   at any dimension (the oligopoly with N = 1000 followers is one 1001×1001 solve).
3. Other games with ``d ≤ MAX_GRID_DIM``: damped Newton (``J`` resp. ``J_S``, backtracking line search on
   ``‖F‖²``) from a grid of starts covering the domain, periodic coordinates wrapped, points outside the
   box dropped, duplicates removed modulo periodicity (``game.distance``), each polished until Newton's
   method stalls at machine precision. Up to ``MAX_NEWTON_DIM`` dimensions, seeded pseudo-random starts
   replace the grid (not exhaustive; a warning says so); above it no search is done (warning).

Critical points are the zeros of a field inside the domain; Nash equilibria are the critical points of
``ω`` that are differential Nash, Stackelberg equilibria those of ``ω_S`` that are differential
Stackelberg. Results are cached per game definition (``game.definition()``: family, parameters, domain, levels and,
for custom games, the cost expressions); :func:`clear_cache` empties it.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from stackenv.games.base import Game, norm

__all__ = [
    "Classification",
    "Equilibrium",
    "EquilibriumError",
    "EquilibriumWarning",
    "classify",
    "clear_cache",
    "critical_points",
    "nash_equilibria",
    "search_notes",
    "stackelberg_equilibria",
]

Field = Literal["omega", "omega_S"]
FIELDS: tuple[Field, ...] = ("omega", "omega_S")

#: Relative tolerance of the residual test ``F(x) = 0`` (see module docstring).
RTOL = 1e-8
#: Eigenvalues (real parts) must exceed this times ``‖J‖_F`` to count as positive.
EIG_RTOL = 1e-10
#: Largest joint dimension searched exhaustively from a grid of Newton starts.
MAX_GRID_DIM = 4
#: Largest joint dimension searched at all by Newton's method (pseudo-random starts above MAX_GRID_DIM).
MAX_NEWTON_DIM = 40
#: Number of Newton starts (grid points, or random points above MAX_GRID_DIM).
N_STARTS = 1600
#: At most this many distinct critical points are kept per field (a continuum of them is degenerate).
MAX_POINTS = 200


class EquilibriumError(RuntimeError):
    """A game's closed form does not satisfy its own first-order conditions (a bug in the game)."""


class EquilibriumWarning(UserWarning):
    """The critical-point search is not exhaustive or found a degenerate (continuum) critical set."""


# ---------------------------------------------------------------------------------------------- results
@dataclass(frozen=True, eq=False)
class Classification:
    """What a joint action ``x`` is (see module docstring for the definitions and tolerances).

    Attributes:
        differential_nash: ``ω(x) = 0`` and every own Hessian ``∇²_ii f_i ≻ 0`` (Def. 3).
        differential_stackelberg: ``ω_S(x) = 0`` and every reduced-cost Hessian ``≻ 0`` (Def. 4, App. C).
        stable_simgrad: ``ω(x) = 0`` and ``spec J(x)`` in the open right half-plane.
        stable_stackelberg: ``ω_S(x) = 0`` and ``spec J_S(x)`` in the open right half-plane.
        eig_J: eigenvalues of ``J(x)``, complex, sorted by (real, imaginary) part.
        eig_J_S: eigenvalues of ``J_S(x)``, or None where ``ω_S`` is undefined.
        eig_own_hessians: per player, eigenvalues of the symmetric part of ``∇²_ii f_i``.
        eig_reduced_hessians: per player, eigenvalues of the symmetric part of its reduced-cost Hessian
            ``S_i`` (None where ``ω_S`` is undefined).
        omega_residual: ``‖ω(x)‖``.
        omega_S_residual: ``‖ω_S(x)‖`` (None where undefined).
        tol_omega: residual tolerance used for ``ω`` and ``ω_S`` (``tol_omega_S``; None where undefined).
        notes: reasons for flags that are False for other reasons than a sign.
        players: player names, in the order of the per-player tuples.
    """

    differential_nash: bool
    differential_stackelberg: bool
    stable_simgrad: bool
    stable_stackelberg: bool
    eig_J: np.ndarray
    eig_J_S: np.ndarray | None
    eig_own_hessians: tuple[np.ndarray, ...]
    eig_reduced_hessians: tuple[np.ndarray, ...] | None
    omega_residual: float
    omega_S_residual: float | None
    tol_omega: float
    tol_omega_S: float | None
    notes: tuple[str, ...]
    players: tuple[str, ...]

    @property
    def critical_omega(self) -> bool:
        """``ω(x) = 0`` within tolerance."""
        return self.omega_residual <= self.tol_omega

    @property
    def critical_omega_S(self) -> bool:
        """``ω_S(x) = 0`` within tolerance (False where ``ω_S`` is undefined)."""
        return self.omega_S_residual is not None and self.omega_S_residual <= self.tol_omega_S

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict: the four booleans, eigenvalues (complex as ``[re, im]``), residuals, notes."""

        def pairs(ev):
            return None if ev is None else [[float(z.real), float(z.imag)] for z in ev]

        def per_player(evs):
            return None if evs is None else {p: [float(v) for v in e] for p, e in zip(self.players, evs)}

        return {
            "differential_nash": bool(self.differential_nash),
            "differential_stackelberg": bool(self.differential_stackelberg),
            "stable_simgrad": bool(self.stable_simgrad),
            "stable_stackelberg": bool(self.stable_stackelberg),
            "eig_J": pairs(self.eig_J),
            "eig_J_S": pairs(self.eig_J_S),
            "eig_own_hessians": per_player(self.eig_own_hessians),
            "eig_reduced_hessians": per_player(self.eig_reduced_hessians),
            "omega_residual": float(self.omega_residual),
            "omega_S_residual": None if self.omega_S_residual is None else float(self.omega_S_residual),
            "notes": list(self.notes),
        }


@dataclass(frozen=True, eq=False)
class Equilibrium:
    """A critical point or equilibrium with its costs and classification.

    Attributes:
        x: joint action, shape ``(d,)`` (read-only).
        costs: ``f_i(x)`` of every player, shape ``(n,)`` (read-only).
        classification: see :class:`Classification`.
        kind: ``"nash"``, ``"stackelberg"`` (equilibria), ``"omega"`` or ``"omega_S"`` (critical points).
        source: how it was found: ``"closed_form"``, ``"linear_solve"`` or ``"newton"``.
    """

    x: np.ndarray
    costs: np.ndarray
    classification: Classification
    kind: Literal["nash", "stackelberg", "omega", "omega_S"]
    source: str = "newton"

    @property
    def field(self) -> Field:
        """The field this point is a zero of."""
        return "omega" if self.kind in ("nash", "omega") else "omega_S"

    def to_dict(self) -> dict[str, Any]:
        """``{"x", "costs", "classification"}`` plus ``"field"`` for critical points."""
        out: dict[str, Any] = {
            "x": [float(v) for v in self.x],
            "costs": [float(v) for v in self.costs],
            "classification": self.classification.to_dict(),
        }
        if self.kind in FIELDS:
            out["field"] = self.kind
        return out


# ---------------------------------------------------------------------------------------------- classification
def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def _sorted_eigvals(M: np.ndarray) -> np.ndarray:
    ev = np.linalg.eigvals(M).astype(complex)
    return _read_only(ev[np.lexsort((ev.imag, ev.real))])


def _sym_eigvalsh(M: np.ndarray) -> np.ndarray:
    return _read_only(np.linalg.eigvalsh((M + M.T) / 2))


def _tol(x: np.ndarray, Jm: np.ndarray, rtol: float) -> float:
    return rtol * max(norm(Jm) * (1.0 + norm(x)), 1e-300)  # scale-invariant: no absolute term


def _coords(game: Game, i: int) -> np.ndarray:
    return np.arange(game.d)[game.slices[i]]


def classify(game: Game, x: Any, rtol: float = RTOL) -> Classification:
    """Classify a joint action ``x`` (shape ``(d,)``) of ``game``; see the module docstring.

    Args:
        game: any game.
        x: joint action, shape ``(d,)``.
        rtol: relative residual tolerance for ``ω(x) = 0`` / ``ω_S(x) = 0``.

    Raises:
        ValueError: if ``x`` is not a finite vector of length ``d`` or ``rtol`` is not positive.
    """
    _check_game(game)
    x = game.check_x(x)
    if x.ndim != 1:
        raise ValueError(f"classify: x must have shape ({game.d},), got {x.shape}")
    if not (np.isfinite(rtol) and rtol > 0):
        raise ValueError(f"classify: rtol must be positive and finite, got {rtol!r}")
    notes: list[str] = []
    players = tuple(game.agents)

    # simultaneous play: ω, J, own Hessians (Def. 3)
    om = game.omega(x)
    Jm = game.jacobian(x)
    thr = EIG_RTOL * max(norm(Jm), 1e-300)
    res = float(norm(om))
    tol = _tol(x, Jm, rtol)
    crit = res <= tol
    eig_J = _sorted_eigvals(Jm)
    own = tuple(_sym_eigvalsh(Jm[np.ix_(_coords(game, i), _coords(game, i))]) for i in range(game.n))
    own_pd = all(e.min() > thr for e in own)
    stable_J = bool(np.all(eig_J.real > thr))
    if not crit:
        notes.append(f"not a critical point of omega (|omega| = {res:.3g} > tol {tol:.3g})")

    # hierarchical play: ω_S, J_S, reduced-cost Hessians (Def. 4, App. C)
    eig_JS = red = res_S = tol_S = None
    diff_S = stable_S = False
    try:
        omS = game.omega_S(x)
        JS = game.jacobian_S(x)
    except ValueError as exc:
        notes.append(f"omega_S undefined: {exc}")
    else:
        thr_S = EIG_RTOL * max(norm(JS), 1e-300)
        res_S = float(norm(omS))
        tol_S = tol
        crit_S = res_S <= tol_S
        eig_JS = _sorted_eigvals(JS)
        red_list = []
        try:
            for i in range(game.n):
                S = game.reduced_hessian(i, JS, symmetric=False)
                if crit_S and norm(S - S.T) > 1e-6 * max(norm(S), 1.0):
                    notes.append(f"reduced Hessian of {players[i]!r} is not symmetric; using its symmetric part")
                red_list.append(_sym_eigvalsh(S))
        except np.linalg.LinAlgError:
            notes.append("a lower-level block of J_S is singular: reduced Hessians undefined")
        else:
            red = tuple(red_list)
            diff_S = bool(crit_S and all(e.min() > thr_S for e in red))
        stable_S = bool(crit_S and np.all(eig_JS.real > thr_S))
        if not crit_S:
            notes.append(f"not a critical point of omega_S (|omega_S| = {res_S:.3g} > tol {tol_S:.3g})")

    return Classification(
        differential_nash=bool(crit and own_pd),
        differential_stackelberg=diff_S,
        stable_simgrad=bool(crit and stable_J),
        stable_stackelberg=stable_S,
        eig_J=eig_J,
        eig_J_S=eig_JS,
        eig_own_hessians=own,
        eig_reduced_hessians=red,
        omega_residual=res,
        omega_S_residual=res_S,
        tol_omega=tol,
        tol_omega_S=tol_S,
        notes=tuple(notes),
        players=players,
    )


# ---------------------------------------------------------------------------------------------- field evaluation
def _field_fns(game: Game, field: Field) -> tuple[Callable, Callable]:
    if field == "omega":
        return game.omega, game.jacobian
    if field == "omega_S":
        return game.omega_S, game.jacobian_S
    raise ValueError(f"unknown field {field!r}; valid: {', '.join(FIELDS)}")


def _evaluate(game: Game, field: Field, X: np.ndarray, jac: bool) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """``F(X)`` (B, d), ``DF(X)`` (B, d, d) or None, and a mask of points where both are defined and finite.

    A batch in which ``ω_S`` is undefined somewhere (singular ``H22``) is re-evaluated point by point.
    """
    F_fn, J_fn = _field_fns(game, field)
    B, d = X.shape
    with np.errstate(all="ignore"):
        try:
            F = np.asarray(F_fn(X), float)
            Jm = np.asarray(J_fn(X), float) if jac else None
        except (ValueError, np.linalg.LinAlgError):
            F = np.full((B, d), np.nan)
            Jm = np.full((B, d, d), np.nan) if jac else None
            for b in range(B):
                try:
                    F[b] = F_fn(X[b])
                    if jac:
                        Jm[b] = J_fn(X[b])
                except (ValueError, np.linalg.LinAlgError):
                    pass
    ok = np.all(np.isfinite(F), axis=-1)
    if jac:
        ok &= np.all(np.isfinite(Jm), axis=(-2, -1))
    return F, Jm, ok


# ---------------------------------------------------------------------------------------------- Newton search
def _starts(game: Game) -> np.ndarray:
    """Grid of cell centres over the domain (``d ≤ MAX_GRID_DIM``), else seeded uniform points."""
    lo, hi = game.low, game.high
    if game.d <= MAX_GRID_DIM:
        m = max(2, int(np.floor(N_STARTS ** (1.0 / game.d))))
        axes = [lo[j] + (np.arange(m) + 0.5) * (hi[j] - lo[j]) / m for j in range(game.d)]
        return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, game.d)
    rng = np.random.default_rng(0)
    return lo + rng.random((N_STARTS, game.d)) * (hi - lo)


def _newton(game: Game, field: Field, X: np.ndarray, max_iter: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Damped Newton from every row of ``X``; returns final points and a mask of those that stalled cleanly.

    Each iteration takes the (pseudo-inverse) Newton step, capped at a quarter of the domain width, and
    halves it until ``‖F‖²`` decreases sufficiently (Armijo). A point finishes when no step decreases
    ``‖F‖²`` any more (at a root: machine precision; elsewhere: a local minimum of ``‖F‖²``, rejected later
    by the residual test) or when its residual is exactly zero.
    """
    X = game.wrap(X.copy())
    max_step = 0.25 * float(np.min(game.high - game.low))
    active = np.ones(len(X), bool)
    finished = np.zeros(len(X), bool)
    F, Jm, ok = _evaluate(game, field, X, jac=True)
    active &= ok
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        Fa, Ja = F[idx], Jm[idx]
        merit = norm(Fa, axis=-1)  # ‖F‖ (its square overflows for huge fields)
        step = np.einsum("bij,bj->bi", np.linalg.pinv(Ja, rcond=1e-13), Fa)
        size = norm(step, axis=-1)
        step *= np.minimum(1.0, max_step / np.maximum(size, 1e-300))[:, None]
        t = np.ones(idx.size)
        pending = merit > 0
        new_X = X[idx].copy()
        for _ in range(25):
            p = np.flatnonzero(pending)
            if p.size == 0:
                break
            Xt = game.wrap(X[idx[p]] - t[p, None] * step[p])
            Ft, _, okt = _evaluate(game, field, Xt, jac=False)
            mt = np.where(okt, norm(np.where(okt[:, None], Ft, 0.0), axis=-1), np.inf)
            acc = mt <= np.sqrt(1.0 - 1e-4 * t[p]) * merit[p]  # Armijo on ‖F‖²
            new_X[p[acc]] = Xt[acc]
            pending[p[acc]] = False
            t[p[~acc]] *= 0.5
        done = pending | (merit == 0)  # no acceptable step: converged or stuck
        finished[idx[done]] = True
        active[idx[done]] = False
        moved = idx[~done]
        X[moved] = new_X[~done]
        if moved.size:
            F[moved], Jm[moved], okm = _evaluate(game, field, X[moved], jac=True)
            active[moved[~okm]] = False
    return X, finished | active


def _check_game(game: Any) -> Game:
    """``ValueError`` unless ``game`` is a :class:`~stackenv.games.base.Game` (e.g. a name was passed)."""
    if not isinstance(game, Game):
        raise ValueError(
            f"expected a stackenv Game, got {type(game).__name__} {game!r}; build one with stackenv.games.make(name)"
        )
    return game


def _in_domain(game: Game, x: np.ndarray) -> bool:
    slack = 1e-9 * (game.high - game.low)
    box = ~game.periodic
    return bool(np.all(x[box] >= game.low[box] - slack[box]) and np.all(x[box] <= game.high[box] + slack[box]))


def _dedup(game: Game, points: list[np.ndarray]) -> list[np.ndarray]:
    tol = 1e-7 * max(1.0, float(np.max(game.high - game.low)))
    kept: list[np.ndarray] = []
    for p in points:
        if not kept or np.min(game.distance(np.asarray(kept), p)) > tol:
            kept.append(p)
    return kept


def _linear_solve(game: Game, field: Field) -> tuple[list[np.ndarray], list[str]]:
    """The zero of an affine field ``F(x) = F(c) + J (x − c)``, ``c`` the domain centre."""
    c = (game.low + game.high) / 2
    F_fn, J_fn = _field_fns(game, field)
    try:
        F0, Jm = F_fn(c), J_fn(c)
    except ValueError as exc:
        return [], [f"{field} undefined: {exc}"]
    notes = []
    sv = np.linalg.svd(Jm, compute_uv=False)
    if sv[-1] > 1e-12 * sv[0]:
        x = c - np.linalg.solve(Jm, F0)
        x = x - np.linalg.solve(Jm, F_fn(x))  # one step of iterative refinement
    else:
        x = c - np.linalg.lstsq(Jm, F0, rcond=None)[0]
        rank = int(np.sum(sv > 1e-12 * sv[0]))
        notes.append(
            f"{field}: J is singular (rank {rank} of {game.d}); the critical set is empty or an affine "
            f"subspace of dimension {game.d - rank}, represented by its point nearest the domain centre"
        )
    return [x], notes


def _closed_form(game: Game, field: Field) -> np.ndarray | None:
    """The family's closed form for this field (Nash for ω, Stackelberg for ω_S), verified; None if absent."""
    method = getattr(game, "nash_closed_form" if field == "omega" else "stackelberg_closed_form", None)
    if method is None:
        return None
    try:
        x = method()
    except NotImplementedError:
        return None
    if x is None:  # the family says there is no such equilibrium here; the search below still runs
        return None
    x = np.asarray(x, float)
    if x.shape != (game.d,) or not np.all(np.isfinite(x)):
        raise EquilibriumError(f"{game!r}: {method.__name__}() returned {x!r}, not a finite vector of length {game.d}")
    F_fn, _ = _field_fns(game, field)
    res, tol = float(norm(F_fn(x))), _tol(x, game.jacobian(x), RTOL)
    if not res <= tol:
        raise EquilibriumError(
            f"{game!r}: {method.__name__}() = {x.tolist()} does not satisfy {field}(x) = 0 "
            f"(residual {res:.3g} > tol {tol:.3g}); the closed form or the derivatives are wrong"
        )
    return x


def _search(game: Game, field: Field) -> tuple[list[tuple[np.ndarray, str]], list[str]]:
    """All zeros of ``field`` in the domain found by the strategy of the module docstring."""
    found: list[tuple[np.ndarray, str]] = []
    notes: list[str] = []
    cf = _closed_form(game, field)
    if cf is not None:
        found.append((cf, "closed_form"))
    if game.quadratic:
        pts, notes = _linear_solve(game, field)
        found += [(p, "linear_solve") for p in pts]
    elif game.d <= MAX_NEWTON_DIM:
        if game.d > MAX_GRID_DIM:
            notes.append(
                f"{field}: d = {game.d} > {MAX_GRID_DIM}: Newton from {N_STARTS} random starts, not exhaustive"
            )
        X, fin = _newton(game, field, _starts(game))
        found += [(x, "newton") for x in X[fin]]
    else:
        notes.append(f"{field}: d = {game.d} > {MAX_NEWTON_DIM} and the game is not quadratic: no numeric search")
    # keep verified zeros inside the domain, best residual first, closed forms win ties
    F_fn, J_fn = _field_fns(game, field)
    scored = []
    for x, src in found:
        x = game.wrap(x)
        if not _in_domain(game, x):
            continue
        try:
            F, Jm = F_fn(x), J_fn(x)
        except ValueError:
            continue
        res = float(norm(F))
        if np.all(np.isfinite(Jm)) and res <= _tol(x, game.jacobian(x), RTOL):
            scored.append((src != "closed_form", res, x, src))
    scored.sort(key=lambda s: (s[0], s[1]))
    kept = _dedup(game, [s[2] for s in scored])
    src_of = {id(s[2]): s[3] for s in scored}
    out = [(x, src_of[id(x)]) for x in kept]
    if any(src == "newton" for _, src in out):
        sv = [np.linalg.svd(J_fn(x), compute_uv=False) for x, _ in out]
        degenerate = sum(v[-1] <= 1e-8 * max(v[0], 1e-300) for v in sv)
        if degenerate:
            notes.append(
                f"{field}: {degenerate} degenerate critical point(s) (singular Jacobian): the critical set may "
                "contain curves or surfaces, of which the points listed are samples"
            )
    if len(out) > MAX_POINTS:
        notes.append(f"{field}: {len(out)} distinct critical points (a continuum?); kept {MAX_POINTS}")
        out = out[:MAX_POINTS]
    out.sort(key=lambda p: tuple(np.round(p[0], 9)))
    return out, notes


# ---------------------------------------------------------------------------------------------- public solvers
_CACHE: dict[tuple, dict[Field, tuple[list[Equilibrium], list[str]]]] = {}


def _cache_key(game: Game) -> str | None:
    """The game's whole definition (family, parameters, domain, levels, cost expressions) as JSON."""
    try:
        return json.dumps(game.definition(), sort_keys=True)
    except (TypeError, ValueError):
        return None  # not JSON-serialisable: do not cache


def clear_cache() -> None:
    """Forget every cached result."""
    _CACHE.clear()


def _frozen(a: np.ndarray) -> np.ndarray:
    return _read_only(np.array(a, float))


def _critical(game: Game, field: Field, cache: bool) -> tuple[list[Equilibrium], list[str]]:
    _check_game(game)
    key = _cache_key(game) if cache else None
    entry = _CACHE.setdefault(key, {}) if key is not None else {}
    if field not in entry:
        points, notes = _search(game, field)
        for note in notes:
            warnings.warn(f"{game.name}: {note}", EquilibriumWarning, stacklevel=4)
        eqs = [Equilibrium(_frozen(x), _frozen(game.costs(x)), classify(game, x), field, src) for x, src in points]
        entry[field] = (eqs, notes)
    eqs, notes = entry[field]
    return list(eqs), list(notes)


def search_notes(game: Game, *, cache: bool = True) -> list[str]:
    """Caveats of the critical-point search for ``game`` (non-exhaustive search, degenerate sets), both fields."""
    return [n for f in FIELDS for n in _critical(game, f, cache)[1]]


def critical_points(game: Game, field: Field | None = None, *, cache: bool = True) -> list[Equilibrium]:
    """Critical points (zeros in the domain) of ``ω`` and/or ``ω_S``, each classified.

    Args:
        game: any game.
        field: ``"omega"``, ``"omega_S"`` or None for both (``ω``'s first).
        cache: reuse results for a game of the same class and parameters.

    Returns:
        ``Equilibrium`` records with ``kind`` ``"omega"`` or ``"omega_S"``, sorted by ``x``.

    Raises:
        ValueError: unknown ``field`` or not a game.
        EquilibriumError: a closed form fails its residual check.
    """
    _check_game(game)
    if field is not None and field not in FIELDS:
        raise ValueError(f"unknown field {field!r}; valid: {', '.join(FIELDS)}")
    fields = FIELDS if field is None else (field,)
    return [p for f in fields for p in _critical(game, f, cache)[0]]


def nash_equilibria(game: Game, *, cache: bool = True) -> list[Equilibrium]:
    """Differential Nash equilibria (Def. 3): the critical points of ``ω`` that are differential Nash."""
    _check_game(game)
    return [
        Equilibrium(p.x, p.costs, p.classification, "nash", p.source)
        for p in _critical(game, "omega", cache)[0]
        if p.classification.differential_nash
    ]


def stackelberg_equilibria(game: Game, *, cache: bool = True) -> list[Equilibrium]:
    """Differential Stackelberg equilibria (Def. 4, App. C): critical points of ``ω_S`` that qualify."""
    _check_game(game)
    return [
        Equilibrium(p.x, p.costs, p.classification, "stackelberg", p.source)
        for p in _critical(game, "omega_S", cache)[0]
        if p.classification.differential_stackelberg
    ]
