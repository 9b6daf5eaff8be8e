"""Registry of built-in game families: ``make(name, **params)`` and ``list_games()``."""

from __future__ import annotations

from typing import Any

from stackenv.games.base import Game

_REGISTRY: dict[str, type[Game]] = {}


def register(cls: type[Game]) -> type[Game]:
    """Class decorator registering a game family under ``cls.name``."""
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"a game named {cls.name!r} is already registered")
    _REGISTRY[cls.name] = cls
    return cls


def list_games() -> list[str]:
    """Names of all registered game families, sorted."""
    return sorted(_REGISTRY)


def game_class(name: str) -> type[Game]:
    """The class registered under ``name``; ``ValueError`` listing the valid names otherwise."""
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
