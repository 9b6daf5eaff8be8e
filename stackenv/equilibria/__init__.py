"""Nash and Stackelberg equilibria, critical points, and their stability classification.

Uses only the game interface (``stackenv.games.base.Game``). Notation as in Fiez, Chasnov & Ratliff
(§2, App. C): ``ω`` is the individual gradient field with Jacobian ``J``, ``ω_S`` the Stackelberg field
(each player's total derivative through the levels below it) with Jacobian ``J_S``.

- :mod:`~stackenv.equilibria.classification`: :func:`classify` a point (differential Nash / Stackelberg,
  stable under ``ẋ = −ω`` or ``ẋ = −ω_S``; definitions and tolerances).
- :mod:`~stackenv.equilibria.search`: the zeros of ``ω`` or ``ω_S`` in the domain (closed forms, linear
  solves, Newton from a grid; the strategy and its limits).
- :mod:`~stackenv.equilibria.results`: :class:`Classification` and :class:`Equilibrium` with their JSON form.
- :mod:`~stackenv.equilibria.cache`: results per game definition; :func:`clear_cache`.
- :mod:`~stackenv.equilibria.solvers`: :func:`critical_points`, :func:`nash_equilibria`,
  :func:`stackelberg_equilibria`, :func:`search_notes`.

JSON form (:meth:`Classification.to_dict`): the four booleans; ``eig_J`` and ``eig_J_S`` as lists of
``[re, im]`` pairs sorted by real then imaginary part (``eig_J_S`` is ``null`` where ``ω_S`` is undefined);
``eig_own_hessians`` and ``eig_reduced_hessians`` as ``{player name: [eigenvalues]}`` (real: symmetric
parts); the residual norms ``omega_residual`` / ``omega_S_residual``; ``notes`` (why a flag is False
when it is for a reason other than a sign, e.g. an undefined ``ω_S``).

Critical points are the zeros of a field inside the domain; Nash equilibria are the critical points of
``ω`` that are differential Nash, Stackelberg equilibria those of ``ω_S`` that are differential Stackelberg.
"""

from stackenv.equilibria.cache import clear_cache
from stackenv.equilibria.classification import EIG_RTOL, RTOL, classify
from stackenv.equilibria.results import FIELDS, Classification, Equilibrium, EquilibriumError, EquilibriumWarning, Field
from stackenv.equilibria.search import MAX_GRID_DIM, MAX_NEWTON_DIM, MAX_POINTS, N_STARTS
from stackenv.equilibria.solvers import critical_points, nash_equilibria, search_notes, stackelberg_equilibria

__all__ = [
    "EIG_RTOL",
    "FIELDS",
    "MAX_GRID_DIM",
    "MAX_NEWTON_DIM",
    "MAX_POINTS",
    "N_STARTS",
    "RTOL",
    "Classification",
    "Equilibrium",
    "EquilibriumError",
    "EquilibriumWarning",
    "Field",
    "classify",
    "clear_cache",
    "critical_points",
    "nash_equilibria",
    "search_notes",
    "stackelberg_equilibria",
]
