"""Continuous games: pure math, batched over leading axes. ``make(name, **params)`` builds one."""

from stackenv.games import duopoly, torus  # noqa: F401  (registration)
from stackenv.games.base import Game, Player
from stackenv.games.registry import game_class, list_games, make, register

__all__ = ["Game", "Player", "game_class", "list_games", "make", "register"]
