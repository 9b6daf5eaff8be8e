"""Registry of game families: ``make(name, **params)`` and ``list_games()``.

Plugins: installed packages declare games under the entry-point group ``stackenv.games`` (a Game class, or a
module whose import registers its games); they are loaded on first lookup.
"""

from __future__ import annotations

import warnings
from importlib.metadata import entry_points
from typing import Any

from stackenv.games.base import Game

_REGISTRY: dict[str, type[Game]] = {}
_LOADED: set[str] = set()


def load_plugins(group: str) -> list[tuple[str, Any]]:
    """``(name, object)`` of every installed entry point of ``group`` not loaded before in this process; one that
    fails to load is skipped with a warning naming it."""
    if group in _LOADED:
        return []
    _LOADED.add(group)
    out = []
    for ep in entry_points(group=group):
        try:
            out.append((ep.name, ep.load()))
        except Exception as exc:  # a broken plugin must not break the library
            warnings.warn(f"plugin {ep.name!r} ({ep.value}) of {group!r} failed to load: {exc!r}", stacklevel=2)
    return out


def _load_entry_points() -> None:
    for _, obj in load_plugins("stackenv.games"):
        if isinstance(obj, type) and issubclass(obj, Game) and obj.name not in _REGISTRY:
            register(obj)


def register(cls: type[Game]) -> type[Game]:
    """Class decorator registering a game family under ``cls.name``."""
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"a game named {cls.name!r} is already registered")
    _REGISTRY[cls.name] = cls
    return cls


def list_games() -> list[str]:
    """Names of all registered game families, sorted."""
    _load_entry_points()
    return sorted(_REGISTRY)


def game_class(name: str) -> type[Game]:
    """The class registered under ``name``; ``ValueError`` listing the valid names otherwise."""
    if name not in _REGISTRY:
        _load_entry_points()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown game {name!r}; registered games: {', '.join(list_games())}") from None


def make(name: str, **params: Any) -> Game:
    """Instantiate a registered game with keyword parameters (defaults from the family)."""
    cls = game_class(name)
    unknown = set(params) - set(cls.defaults)
    if unknown:
        raise ValueError(f"unknown parameter(s) {sorted(unknown)} for game {name!r}; valid: {sorted(cls.defaults)}")
    return cls(**params)
