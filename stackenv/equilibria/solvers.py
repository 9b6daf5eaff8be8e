"""The public solvers: critical points, Nash and Stackelberg equilibria of any game, cached per game."""

from __future__ import annotations

from stackenv.equilibria.cache import critical
from stackenv.equilibria.classification import check_game
from stackenv.equilibria.results import FIELDS, Equilibrium, Field
from stackenv.games.base import Game
from stackenv.games.spectra import check_field

__all__ = ["critical_points", "nash_equilibria", "search_notes", "stackelberg_equilibria"]


def search_notes(game: Game, *, cache: bool = True) -> list[str]:
    """Caveats of the critical-point search for ``game`` (non-exhaustive search, degenerate sets), both fields."""
    return [n for f in FIELDS for n in critical(game, f, cache)[1]]


def critical_points(game: Game, field: Field | None = None, *, cache: bool = True) -> list[Equilibrium]:
    """Critical points (zeros in the domain) of ``ω`` and/or ``ω_S``, each classified.

    Args:
        game: any game.
        field: ``"omega"``, ``"omega_S"`` or None for both (``ω``'s first).
        cache: reuse results for a game with the same definition (:mod:`stackenv.equilibria.cache`).

    Returns:
        ``Equilibrium`` records with ``kind`` ``"omega"`` or ``"omega_S"``, sorted by ``x``.

    Raises:
        ValueError: unknown ``field`` or not a game.
        EquilibriumError: a closed form fails its residual check.
    """
    check_game(game)
    fields = FIELDS if field is None else (check_field(field),)
    return [p for f in fields for p in critical(game, f, cache)[0]]


def _equilibria(game: Game, field: Field, kind: str, cache: bool) -> list[Equilibrium]:
    check_game(game)
    flag = "differential_nash" if kind == "nash" else "differential_stackelberg"
    points = critical(game, field, cache)[0]
    return [
        Equilibrium(p.x, p.costs, p.classification, kind, p.source) for p in points if getattr(p.classification, flag)
    ]


def nash_equilibria(game: Game, *, cache: bool = True) -> list[Equilibrium]:
    """Differential Nash equilibria (Def. 3): the critical points of ``ω`` that are differential Nash."""
    return _equilibria(game, "omega", "nash", cache)


def stackelberg_equilibria(game: Game, *, cache: bool = True) -> list[Equilibrium]:
    """Differential Stackelberg equilibria (Def. 4, App. C): critical points of ``ω_S`` that qualify."""
    return _equilibria(game, "omega_S", "stackelberg", cache)
