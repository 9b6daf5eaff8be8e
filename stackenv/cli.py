"""Command line: ``stackenv games`` and ``stackenv equilibria`` (also ``python -m stackenv``).

Usage::

    stackenv games [--json]                                  # built-in games, one line each, defaults
    stackenv equilibria GAME [--set NAME=VALUE ...] [--json]  # equilibria, critical points, classification
    stackenv equilibria --all [--json]                       # every registered game at its defaults

``--set`` values are parsed as JSON (``A=[[1,0],[0,2]]``, ``price_floor=true``, ``alpha=1.5``), else as a
comma-separated list (``c=5,2``), else as a bare string (``instance=prop2``); Python-style ``True`` and
``False`` are accepted too. Bad game names or parameters print an error and exit with code 2.

JSON output of ``equilibria``::

    {"game": NAME, "params": {...}, "nash": [{"x", "costs", "classification"}], "stackelberg": [...],
     "critical_points": [{"x", "costs", "classification", "field": "omega" | "omega_S"}], "notes": [...]}

``classification`` is :meth:`stackenv.equilibria.Classification.to_dict` (complex eigenvalues as
``[re, im]`` pairs).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TextIO

import numpy as np

from stackenv import equilibria as eq
from stackenv.games import Game, game_class, list_games, lq_solve, make


class UsageError(Exception):
    """Bad command-line input (exit code 2)."""


# ---------------------------------------------------------------------------------------------- parsing
def _scalar(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    if text in ("True", "False"):
        return text == "True"
    try:
        return float(text)
    except ValueError:
        return text


def parse_value(text: str) -> Any:
    """Parse one ``--set`` value: JSON, else a comma-separated list, else a bool or number, else a string."""
    text = text.strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    if "," in text:
        return [_scalar(part.strip()) for part in text.split(",")]
    return _scalar(text)


def parse_sets(items: Sequence[str]) -> dict[str, Any]:
    """``["A=100", "c=5,2"]`` → ``{"A": 100, "c": [5.0, 2.0]}``; ``UsageError`` on a malformed item."""
    params: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name or not value.strip():
            raise UsageError(f"--set expects NAME=VALUE, got {item!r}")
        if name in params:
            raise UsageError(f"parameter {name!r} set twice")
        params[name] = parse_value(value)
    return params


# ---------------------------------------------------------------------------------------------- formatting
def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def _num(v: float) -> str:
    return f"{v:.5g}" if v != 0 else "0"


def _vec(values: Sequence[float], limit: int = 4) -> str:
    vals = [float(v) for v in values]
    if len(vals) > limit:
        return "(" + ", ".join(_num(v) for v in vals[:3]) + f", … {len(vals)} values)"
    return "(" + ", ".join(_num(v) for v in vals) + ")"


def _eigs(ev: np.ndarray | None, limit: int = 4) -> str:
    if ev is None:
        return "undefined"
    if len(ev) > limit:
        return f"{len(ev)} values, min Re {_num(float(np.min(ev.real)))}"

    def one(z: complex) -> str:
        if abs(z.imag) <= 1e-12 * max(abs(z.real), 1.0):
            return _num(z.real)
        return f"{_num(z.real)}{'+' if z.imag >= 0 else '-'}{_num(abs(z.imag))}i"

    return ", ".join(one(complex(z)) for z in ev)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _stable(flag: bool, residual: float | None, tol: float | None) -> str:
    """``yes``, or ``no`` with its reason: the point is not critical for that field, or ``eig`` has a real part ≤ 0."""
    if flag:
        return "yes"
    if residual is None:
        return "no (undefined)"
    return "no (not critical)" if residual > tol else "no (eig ≤ 0)"


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[j]) for r in [header, *rows]) for j in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join("  " + line for line in lines)


def _points_table(points: list[eq.Equilibrium], with_field: bool) -> str:
    if not points:
        return "  (none)"
    header = ["#", *(["field"] if with_field else []), "x", "costs", "diff.Nash", "diff.Stack", "stable J"]
    header += ["stable J_S", "eig J", "eig J_S"]
    rows = []
    for k, p in enumerate(points, 1):
        c = p.classification
        row = [str(k), *([p.field] if with_field else []), _vec(p.x), _vec(p.costs)]
        row += [_yes(c.differential_nash), _yes(c.differential_stackelberg)]
        row += [_stable(c.stable_simgrad, c.omega_residual, c.tol_omega)]
        row += [_stable(c.stable_stackelberg, c.omega_S_residual, c.tol_omega_S), _eigs(c.eig_J), _eigs(c.eig_J_S)]
        rows.append(row)
    return _table(rows, header)


#: Printed under the tables: what "stable" and its two kinds of "no" mean.
STABLE_LEGEND = (
    "stable J / J_S: yes = a critical point of omega / omega_S with every eigenvalue in the open right half-plane;\n"
    "  no (not critical) = that field does not vanish there, whatever its eigenvalues;"
    " no (eig ≤ 0) = critical, but an eigenvalue has real part ≤ 0"
)


def _describe_player(game: Game, i: int) -> str:
    p = game.players[i]
    lo, hi = _num(float(p.low.min())), _num(float(p.high.max()))
    dom = f"[{lo}, {hi}) periodic" if p.periodic else f"[{lo}, {hi}]"
    return f"{p.name} (level {game.level_of[i]}, dim {p.dim}, {dom})"


def _solve(game: Game) -> tuple[list[eq.Equilibrium], list[eq.Equilibrium], list[eq.Equilibrium], list[str]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", eq.EquilibriumWarning)  # reported as notes instead
        nash = eq.nash_equilibria(game)
        stack = eq.stackelberg_equilibria(game)
        crit = eq.critical_points(game)
        notes = eq.search_notes(game)
    return nash, stack, crit, notes


def equilibria_report(game: Game) -> dict[str, Any]:
    """The JSON document of ``stackenv equilibria`` for one game."""
    nash, stack, crit, notes = _solve(game)
    return {
        "game": game.name,
        "params": _jsonable(game.params),
        "nash": [p.to_dict() for p in nash],
        "stackelberg": [p.to_dict() for p in stack],
        "critical_points": [p.to_dict() for p in crit],
        "notes": notes,
    }


def format_equilibria(game: Game) -> str:
    """Readable tables of a game's equilibria and critical points with their classification."""
    nash, stack, crit, notes = _solve(game)
    params = "  ".join(f"{k}={json.dumps(_jsonable(v))}" for k, v in game.params.items())
    players = game.agents
    shown = ", ".join(_describe_player(game, i) for i in range(min(game.n, 4)))
    if game.n > 4:
        shown += f", … ({game.n} players)"
    lines = [
        f"== {game.name}  {params}",
        f"players (leader first): {shown}",
        f"costs are listed in player order: {', '.join(players[:4])}{', …' if game.n > 4 else ''}",
        "",
        "Nash equilibria (critical points of omega that are differential Nash):",
        _points_table(nash, False),
        "",
        "Stackelberg equilibria (critical points of omega_S that are differential Stackelberg):",
        _points_table(stack, False),
        "",
        "All critical points of omega and omega_S:",
        _points_table(crit, True),
        "",
        STABLE_LEGEND,
    ]
    lines += [f"note: {n}" for n in notes]
    return "\n".join(lines) + "\n"


def _every_game(render: Callable[[Game], Any]) -> Iterator[tuple[str, Any, Exception | None]]:
    """``(name, render(game), None)`` for every registered game at its defaults, ``(name, None, error)`` on failure."""
    for name in list_games():
        try:
            yield name, render(make(name)), None
        except (ValueError, eq.EquilibriumError) as exc:
            yield name, None, exc


def print_all_equilibria(file: TextIO | None = None) -> int:
    """Print the equilibria tables of every registered game at its defaults; returns the number of failures."""
    out = file if file is not None else sys.stdout
    failures = 0
    for name, text, exc in _every_game(format_equilibria):
        if exc is not None:
            failures += 1
            text = f"== {name}\nerror: {exc}\n"
        print(text, file=out)
    return failures


_REST_ROLE = re.compile(r":[a-z]+(?::[a-z]+)?:`~?([^`]+)`")


def plain_text(doc: str) -> str:
    """A reST docstring fragment as plain text: ``literal`` → literal, :func:`name` → name, *em* → em."""
    text = _REST_ROLE.sub(r"\1", doc)
    text = re.sub(r"``([^`]+)``", r"\1", text)
    text = re.sub(r"(?<![\w*])\*{1,2}([^*\s][^*]*?)\*{1,2}(?![\w*])", r"\1", text)
    return text.replace("`", "")


def _effective_defaults(name: str) -> dict[str, Any]:
    """The parameters ``make(name)`` actually uses (a family default of ``None`` resolved by the game)."""
    try:
        return make(name).params
    except (ValueError, TypeError):
        return game_class(name).defaults


def _rounded(value: Any) -> Any:
    """Floats (nested in lists) to 6 significant digits, for display."""
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def _games_listing() -> list[dict[str, Any]]:
    out = []
    for name in list_games():
        cls = game_class(name)
        doc = (cls.__doc__ or sys.modules[cls.__module__].__doc__ or "").strip()
        description = plain_text(doc.splitlines()[0]) if doc else ""
        out.append({"name": name, "description": description, "defaults": _effective_defaults(name)})
    return _jsonable(out)


# ---------------------------------------------------------------------------------------------- main
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stackenv", description="Continuous Stackelberg games: games and equilibria.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_games = sub.add_parser("games", help="list the built-in games with their default parameters")
    p_games.add_argument("--json", action="store_true", help="print JSON instead of text")
    p_eq = sub.add_parser("equilibria", help="Nash/Stackelberg equilibria and critical points of a game")
    p_eq.add_argument("game", nargs="?", help=f"registered game: {', '.join(list_games())}")
    p_eq.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="game parameter: a number, comma-separated list (c=5,2), JSON (A=[[1,0],[0,2]]) or string",
    )
    p_eq.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p_eq.add_argument("--all", action="store_true", help="every registered game at its defaults")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``stackenv`` console script; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "games":
            listing = _games_listing()
            if args.json:
                print(json.dumps(listing, indent=2))
            else:
                width = max(len(g["name"]) for g in listing)
                for g in listing:
                    defaults = "  ".join(f"{k}={json.dumps(_rounded(v))}" for k, v in g["defaults"].items())
                    print(f"{g['name'].ljust(width)}  {g['description']}\n{' ' * width}  defaults: {defaults}")
            return 0
        if args.all:
            if args.game or args.sets:
                raise UsageError("--all takes no GAME and no --set")
            if args.json:
                results = list(_every_game(equilibria_report))
                print(
                    json.dumps(
                        [r if exc is None else {"game": n, "error": str(exc)} for n, r, exc in results], indent=2
                    )
                )
                return 1 if any(exc is not None for *_, exc in results) else 0
            return 1 if print_all_equilibria() else 0
        if not args.game:
            raise UsageError("give a GAME (one of: " + ", ".join(list_games()) + ") or --all")
        params = parse_sets(args.sets)
        try:
            game = make(args.game, **params)
        except (ValueError, TypeError) as exc:
            raise UsageError(str(exc)) from exc
        extra = lq_solve.feedback_report(game.model) if args.game == "lq" else {}  # dynamic: feedback equilibria
        if args.json:
            print(json.dumps({**equilibria_report(game), **extra}, indent=2))
        else:
            print(format_equilibria(game) + (lq_solve.format_feedback(extra) if extra else ""), end="")
        return 0
    except UsageError as exc:
        parser.exit(2, f"stackenv {args.command}: error: {exc}\n")
    except (eq.EquilibriumError, lq_solve.NoEquilibriumError) as exc:
        parser.exit(1, f"stackenv {args.command}: error: {exc}\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
