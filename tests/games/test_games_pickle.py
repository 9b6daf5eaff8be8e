"""Every game pickles and deep-copies (issue 9.7): registered families at their defaults and every game case
(custom games included, whose compiled sympy functions are rebuilt after unpickling)."""

from __future__ import annotations

import copy
import pickle

import numpy as np

from stackenv.games import list_games, make


def _same_game(game, other, x):
    assert type(other) is type(game) and other.definition() == game.definition()
    for fn in ("costs", "omega", "jacobian", "omega_S", "jacobian_S"):
        np.testing.assert_array_equal(getattr(other, fn)(x), getattr(game, fn)(x), err_msg=fn)


def test_every_registered_game_pickles_and_deepcopies():
    for name in list_games():
        game = make(name)
        x = (game.low + game.high) / 2 + 0.1 * (game.high - game.low) * np.linspace(-1, 1, game.d)
        _same_game(game, pickle.loads(pickle.dumps(game)), x)
        _same_game(game, copy.deepcopy(game), x)


def test_every_game_case_pickles_and_deepcopies(case):
    c, game = case
    x = c.sample(game, np.random.default_rng(3), shape=(2,))
    game.omega_S(x)  # compile (custom games) and fill caches before copying
    _same_game(game, pickle.loads(pickle.dumps(game)), x)
    _same_game(game, copy.deepcopy(game), x)
