"""Critical points of ``ω`` or ``ω_S`` in a game's domain: closed forms, linear solves, Newton from a grid.

Strategy (:func:`search`), in order:

1. Closed forms (``game.nash_closed_form()`` / ``game.stackelberg_closed_form()``) where the family has
   them (``None`` or ``NotImplementedError``: none here); each is *verified* (``ω = 0`` resp. ``ω_S = 0``
   within tolerance) or :class:`~stackenv.equilibria.results.EquilibriumError` is raised. A closed form adds a
   point (exact, preferred over a numeric duplicate) but never hides one: steps 2–3 run regardless, except
   that an affine field whose Jacobian is nonsingular at the closed form (``game.spectra``) has no other zero.
2. Quadratic games (``game.quadratic``): ``ω`` and ``ω_S`` are affine, ``F(x) = F(c) + J (x − c)``; one
   linear solve from the domain centre ``c`` (plus one refinement step) gives the critical point exactly.
3. Other games with ``d ≤ MAX_GRID_DIM``: damped Newton (``J`` resp. ``J_S``, backtracking line search on
   ``‖F‖²``) from a grid of starts covering the domain, periodic coordinates wrapped, points outside the
   box dropped, duplicates removed modulo periodicity (``game.distance``), each polished until Newton's
   method stalls at machine precision. Up to ``MAX_NEWTON_DIM`` dimensions, seeded pseudo-random starts
   replace the grid (not exhaustive; a note says so); above it no search is done (a note).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from stackenv.equilibria.classification import residual_tol
from stackenv.equilibria.results import EquilibriumError
from stackenv.games.base import Game, norm
from stackenv.games.spectra import Field, Spectra, check_field

__all__ = ["MAX_GRID_DIM", "MAX_NEWTON_DIM", "MAX_POINTS", "N_STARTS", "search"]

#: Largest joint dimension searched exhaustively from a grid of Newton starts.
MAX_GRID_DIM = 4
#: Largest joint dimension searched at all by Newton's method (pseudo-random starts above MAX_GRID_DIM).
MAX_NEWTON_DIM = 40
#: Number of Newton starts (grid points, or random points above MAX_GRID_DIM).
N_STARTS = 1600
#: At most this many distinct critical points are kept per field (a continuum of them is degenerate).
MAX_POINTS = 200


def _field_fns(game: Game, field: Field) -> tuple[Callable, Callable]:
    return (game.omega, game.jacobian) if check_field(field) == "omega" else (game.omega_S, game.jacobian_S)


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


def _nonsingular(sp: Spectra) -> bool:
    """Every eigenvalue clearly away from zero (relative to ``‖J‖_F``)."""
    return bool(np.min(np.abs(sp.eig)) > 1e-10 * sp.norm)


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
    res, tol = norm(F_fn(x)), residual_tol(x, game.spectra(x, "omega").norm)
    if not res <= tol:
        raise EquilibriumError(
            f"{game!r}: {method.__name__}() = {x.tolist()} does not satisfy {field}(x) = 0 "
            f"(residual {res:.3g} > tol {tol:.3g}); the closed form or the derivatives are wrong"
        )
    return x


def search(game: Game, field: Field) -> tuple[list[tuple[np.ndarray, str]], list[str]]:
    """All zeros of ``field`` in the domain found by the strategy of the module docstring."""
    found: list[tuple[np.ndarray, str]] = []
    notes: list[str] = []
    cf = _closed_form(game, field)
    if cf is not None:
        found.append((cf, "closed_form"))
    if game.quadratic and cf is not None and _nonsingular(game.spectra(cf, field)):
        pass  # an affine field with a nonsingular Jacobian has one zero: the verified closed form
    elif game.quadratic:
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
            res, defined = norm(F_fn(x)), np.isfinite(game.spectra(x, field).norm)
        except ValueError:
            continue
        if defined and res <= residual_tol(x, game.spectra(x, "omega").norm):
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
