"""Shared plumbing for the experiment scripts: typed argument parsing, JSON summaries, figures.

Each script declares a dataclass of arguments (one docstring-like ``help`` per field, CleanRL style)
and calls :func:`parse_args`. :func:`run_summary` builds one entry of the JSON summary contract::

    {"experiment": NAME, "runs": [{"game", "params", "dynamics", "steps", "seeds",
      "final_actions", "equilibrium", "distance_median", "distance_p95", ...}, ...]}
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from experiments.plotting import setup_matplotlib  # noqa: F401  (re-exported: scripts import it from here)


def arg(default: Any, help: str, **kw: Any) -> Any:
    """A dataclass field with a help string (the CleanRL docstring-per-field convention)."""
    if isinstance(default, list | dict):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata={"help": help, **kw})
    return dataclasses.field(default=default, metadata={"help": help, **kw})


def _base_type(tp: Any) -> tuple[Any, bool]:
    """Strip ``Optional`` and detect ``list[...]``: returns (element type, is_list)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _base_type(args[0])
    if origin is list:
        return typing.get_args(tp)[0], True
    return tp, False


def _parse_bool(text: str) -> bool:
    low = text.lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected a boolean, got {text!r}")


def _help_text(help: str, default: Any) -> str:
    """The field's help with its default appended once: not when it is None (the help says what happens) or
    when the help already names its default."""
    if default is None or "default" in help:
        return help
    shown = (
        " ".join(map(str, default))
        if isinstance(default, list)
        else str(default).lower()
        if isinstance(default, bool)
        else default
    )
    return f"{help} (default: {shown})"


def option_strings(f: dataclasses.Field) -> tuple[str, ...]:
    """A field's command-line flags: ``--field-name``, or its ``flag`` metadata (a name, e.g. ``"--import"`` for
    a keyword, or a tuple of names: the first is the flag's name, the others aliases)."""
    flag = f.metadata.get("flag", "--" + f.name.replace("_", "-"))
    return (flag,) if isinstance(flag, str) else tuple(flag)


def parse_args(cls: type, argv: list[str] | None = None, description: str | None = None):
    """Parse command-line arguments into an instance of the dataclass ``cls``."""
    hints = typing.get_type_hints(cls)
    parser = argparse.ArgumentParser(description=description or (cls.__doc__ or "").strip().splitlines()[0])
    for f in dataclasses.fields(cls):
        tp, is_list = _base_type(hints[f.name])
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        flags = option_strings(f)
        help_text = _help_text(f.metadata.get("help", ""), default)
        if tp is bool:
            parser.add_argument(*flags, type=_parse_bool, nargs="?", const=True, default=default, help=help_text)
        elif is_list:
            choices = f.metadata.get("choices")
            action = "extend" if f.metadata.get("repeatable") else "store"  # --x a --x b: [a, b]
            parser.add_argument(
                *flags, type=tp, nargs="+", default=default, help=help_text, choices=choices, action=action, dest=f.name
            )
        else:
            conv = Path if tp is Path else tp
            choices = f.metadata.get("choices")
            parser.add_argument(*flags, type=conv, default=default, help=help_text, choices=choices, dest=f.name)
    ns = parser.parse_args(argv)
    args = cls(**vars(ns))
    check = getattr(args, "validate", None)
    if check is not None:
        try:
            check()
        except ValueError as exc:
            parser.error(str(exc))
    return args


def jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays (nested) into plain JSON types."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def run_summary(
    game: Any,
    dynamics: str,
    steps: int,
    final_actions: np.ndarray,
    equilibrium: np.ndarray,
    **extra: Any,
) -> dict[str, Any]:
    """One ``runs`` entry: final actions per seed and distance statistics to ``equilibrium``.

    Distances use the game's geometry (geodesic on periodic coordinates). Diverged runs (non-finite
    final actions) count as infinite distance in the percentiles and are reported as ``null``.
    """
    final_actions = np.asarray(final_actions, float)
    finite = np.all(np.isfinite(final_actions), axis=-1)
    dist = np.full(final_actions.shape[0], np.inf)
    dist[finite] = game.distance(final_actions[finite], np.asarray(equilibrium, float))
    entry = {
        "game": game.name,
        "params": game.params,
        "dynamics": dynamics,
        "steps": int(steps),
        "seeds": int(final_actions.shape[0]),
        "final_actions": final_actions,
        "equilibrium": np.asarray(equilibrium, float),
        "distance_median": float(np.median(dist)),
        "distance_p95": float(np.percentile(dist, 95)),
        "diverged": int((~finite).sum()),
    }
    entry.update(extra)
    return jsonable(entry)


def write_json(path: str | os.PathLike | None, payload: dict[str, Any]) -> None:
    """Write ``payload`` as JSON atomically (temp file + rename); no-op if ``path`` is None."""
    if path is None:
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(jsonable(payload), indent=2))
    os.replace(tmp, path)


def markdown_table(headers: list[str], rows: list[list[Any]], floatfmt: str = ".4g") -> str:
    """A GitHub-flavoured Markdown table (pastes into papers via pandoc)."""

    def cell(v: Any) -> str:
        if isinstance(v, float | np.floating):
            return format(float(v), floatfmt)
        return str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def best_time(fn: Callable[[], object], repeats: int, warmup: bool = False) -> float:
    """Smallest wall time (seconds) of ``repeats`` calls of ``fn()``, after one untimed call if ``warmup``."""
    if warmup:
        fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best
