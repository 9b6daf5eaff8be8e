"""Results per game definition: a search and its classifications run once per game and field.

The key is ``json.dumps(game.definition())``: family, parameters, players, domain (bounds and periodicity),
levels and, for custom games, the cost expressions, so two games share results exactly when they are the same
game. A game whose definition is not JSON-serialisable is not cached. :func:`clear_cache` empties it.
"""

from __future__ import annotations

import json
import warnings

import numpy as np

from stackenv.equilibria import search as search_module
from stackenv.equilibria.classification import check_game, classify
from stackenv.equilibria.results import Equilibrium, EquilibriumWarning, read_only
from stackenv.games.base import Game
from stackenv.games.spectra import Field

__all__ = ["cache_key", "clear_cache", "critical"]

_CACHE: dict[str, dict[Field, tuple[list[Equilibrium], list[str]]]] = {}


def cache_key(game: Game) -> str | None:
    """The game's whole definition (family, parameters, domain, levels, cost expressions) as JSON; None if not
    serialisable."""
    try:
        return json.dumps(game.definition(), sort_keys=True)
    except (TypeError, ValueError):
        return None


def clear_cache() -> None:
    """Forget every cached result."""
    _CACHE.clear()


def _frozen(a: np.ndarray) -> np.ndarray:
    return read_only(np.array(a, float))


def critical(game: Game, field: Field, cache: bool) -> tuple[list[Equilibrium], list[str]]:
    """The classified critical points of ``field`` and the search's notes (warned once, when computed)."""
    check_game(game)
    key = cache_key(game) if cache else None
    entry = _CACHE.setdefault(key, {}) if key is not None else {}
    if field not in entry:
        points, notes = search_module.search(game, field)
        for note in notes:
            warnings.warn(f"{game.name}: {note}", EquilibriumWarning, stacklevel=4)
        eqs = [Equilibrium(_frozen(x), _frozen(game.costs(x)), classify(game, x), field, src) for x, src in points]
        entry[field] = (eqs, notes)
    eqs, notes = entry[field]
    return list(eqs), list(notes)
