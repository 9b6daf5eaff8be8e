"""``{agent: value}`` results of a batched step without one Python object per agent: :class:`PerAgent`.

A step of an env with N agents returns five per-agent mappings. Built as dicts they cost N entries (and N
array views) each step — seconds per step at N = 10⁶ followers, for callers that read one or two entries
(``agents.play`` reads the leader's reward and one flag). A :class:`PerAgent` is a read-only
:class:`~collections.abc.Mapping` over the agents in hierarchy order whose value for agent ``i`` is made
when asked: ``values[i]`` (e.g. row ``i`` of a ``(n, B)`` reward array, a view), or the one ``same`` value
every agent shares. ``dict(m)`` gives the plain dict. ``==`` compares agents and values exactly (arrays
element-wise, with their shapes), so ``gymnasium.utils.env_checker.data_equivalence`` works on step results.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

_NO_VALUES = object()


class PerAgent(Mapping):
    """Read-only ``{agent: values[index[agent]]}`` (or ``{agent: same}``), values made on access.

    Args:
        index: ``{agent: i}`` in hierarchy order (shared, never copied).
        values: indexable by agent position (an array whose first axis runs over the agents).
        same: the value of every agent (when ``values`` is not given).
    """

    __slots__ = ("_index", "_values", "_same")

    def __init__(self, index: Mapping[str, int], values: Any = _NO_VALUES, same: Any = None):
        self._index, self._values, self._same = index, values, same

    def __getitem__(self, agent: str) -> Any:
        i = self._index[agent]  # KeyError for an unknown agent, as a dict
        return self._same if self._values is _NO_VALUES else self._values[i]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, agent: object) -> bool:
        return agent in self._index

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping) or len(other) != len(self) or any(a not in other for a in self._index):
            return False
        return all(_equal(self[a], other[a]) for a in self._index)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        head = ", ".join(f"{a!r}: {self[a]!r}" for a in list(self._index)[:3])
        return f"PerAgent({{{head}{', …' if len(self) > 3 else ''}}}, n={len(self)})"


def _equal(a: Any, b: Any) -> bool:
    """Exact equality of two values of a step result (arrays, or dicts of arrays)."""
    if isinstance(a, Mapping) or isinstance(b, Mapping):
        both = isinstance(a, Mapping) and isinstance(b, Mapping) and a.keys() == b.keys()
        return both and all(_equal(a[k], b[k]) for k in a)
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b))


__all__ = ["PerAgent"]
