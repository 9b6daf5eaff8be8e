"""stackenv: continuous Stackelberg (leader–follower) games, their equilibria, and PettingZoo environments.

Convenience re-exports (loaded lazily, so ``import stackenv`` stays light)::

    stackenv.make("torus")                  # stackenv.games.make
    stackenv.nash_equilibria(game)          # stackenv.equilibria.*
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("stackenv")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

_EXPORTS = {
    "Game": "stackenv.games",
    "make": "stackenv.games",
    "list_games": "stackenv.games",
    "classify": "stackenv.equilibria",
    "critical_points": "stackenv.equilibria",
    "nash_equilibria": "stackenv.equilibria",
    "stackelberg_equilibria": "stackenv.equilibria",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'stackenv' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
