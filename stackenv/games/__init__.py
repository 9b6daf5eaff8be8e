"""Continuous games: pure math, batched over leading axes. ``make(name, **params)`` builds one."""

from stackenv.games import chain, duopoly, hierarchy, lq, lq_followers, lq_policy, oligopoly, quadratic, torus, zero_sum  # noqa: F401  (registration)
from stackenv.games.base import Game, Player
from stackenv.games.custom import CustomGame, register_custom_game
from stackenv.games.registry import game_class, list_games, make, register

__all__ = ["CustomGame", "Game", "Player", "game_class", "list_games", "make", "register", "register_custom_game"]
