"""Parameter checks shared by the Cournot families (duopoly, oligopoly, hierarchy): linear demand ``A − Q``."""

from __future__ import annotations

import numpy as np


def check_costs(game: str, A: float, costs: np.ndarray) -> None:
    """Unit costs non-negative and below the demand intercept ``A``; ``ValueError`` naming the game otherwise."""
    if np.any(costs < 0):
        raise ValueError(f"{game}: unit costs must be non-negative, got {costs.tolist()}")
    if not A > costs.max():
        raise ValueError(f"{game}: need A > every unit cost, got A={A:g}, costs={costs.tolist()}")


def check_interior(game: str, equilibria: dict[str, np.ndarray]) -> None:
    """Every firm produces a positive quantity at each closed-form equilibrium (the models are interior)."""
    for kind, q in equilibria.items():
        if np.any(q <= 0):
            i = int(np.argmin(q))
            raise ValueError(f"{game}: the {kind} equilibrium is not interior (firm {i} produces {q[i]:g} <= 0)")
