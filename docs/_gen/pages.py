"""Markdown for the generated pages, from the code's own registries, metadata and docstrings.

Nothing here is hand-kept per game: a game registered in :mod:`stackenv.games`, an env module listed in
:data:`stackenv.envs.ENV_MODULES`, a learner in :mod:`agents.registry` or an experiment script with an
``Args`` dataclass gets its page (or its section) the next time the site is built.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import io
import os
import pkgutil
import re
import textwrap
from typing import Any

import numpy as np

from experiments.common import option_strings
from stackenv import envs, games
from stackenv.envs import FEEDBACK_MODES

#: Sections of a module docstring (STYLE §1) that become level-2 headings.
_SECTION = re.compile(r"^([A-Z][^:\n]{2,100}):\s*$")
_ROLE = re.compile(r":[a-z]+(?::[a-z]+)?:`~?([^`]+)`")


def markdown(doc: str | None) -> str:
    """A Google-style docstring as Markdown: ``Section:`` lines followed by an indented body become ``###``
    headings, bodies are dedented,
    Sphinx roles (``:func:`x```) become code spans, indented lines keep their line breaks."""
    if not doc:
        return ""
    lines = inspect.cleandoc(doc).splitlines()
    out: list[str] = []
    body: list[str] = []

    def flush() -> None:
        text = textwrap.dedent("\n".join(body)).strip("\n")
        for para in re.split(r"\n\s*\n", text):
            rows = para.splitlines()
            if rows:
                out.extend([_paragraph(rows), ""])
        body.clear()

    for n, line in enumerate(lines):
        following = lines[n + 1] if n + 1 < len(lines) else ""
        match = _SECTION.match(line) if following[:1].isspace() and following.strip() else None
        if match:
            flush()
            out += [f"### {match.group(1)}", ""]
        else:
            body.append(line)
    flush()
    return _ROLE.sub(r"`\1`", "\n".join(out)).strip() + "\n"


_LABEL = re.compile(r"\w[\w ()/-]*:\s")


def _paragraph(rows: list[str]) -> str:
    """One docstring paragraph as Markdown: an indented block is code, ``- `` lines start list items (their
    continuation lines join them), two or more ``Label: value`` lines keep their line breaks."""
    if all(r.startswith("    ") for r in rows):
        return "```text\n" + textwrap.dedent("\n".join(rows)) + "\n```"
    if rows[0].lstrip().startswith("- "):
        items: list[str] = []
        for r in rows:
            if r.lstrip().startswith("- ") or not items:
                items.append(r.strip())
            else:
                items[-1] += " " + r.strip()
        return "\n".join(items)
    if sum(bool(_LABEL.match(r)) for r in rows) >= 2:
        return "  \n".join(r.strip() for r in rows)
    return "\n".join(r.strip() for r in rows)


def _first_line(doc: str | None) -> str:
    """The first paragraph of a docstring, on one line."""
    if not doc or not doc.strip():
        return ""
    para = re.split(r"\n\s*\n", inspect.cleandoc(doc))[0]
    return _ROLE.sub(r"`\1`", " ".join(line.strip() for line in para.splitlines()))


def _code(value: Any) -> str:
    value = value.tolist() if isinstance(value, np.ndarray) else value
    text = str(value) if isinstance(value, os.PathLike) else repr(value)
    return "`" + (text if len(text) <= 80 else text[:77] + "…") + "`"


def _space(space: Any) -> tuple[str, str]:
    """``(shape, values)`` of a gymnasium space, compact."""
    if hasattr(space, "spaces") and isinstance(space.spaces, dict):
        parts = [f"`{k}`: {_space(v)[0]}" for k, v in space.spaces.items()]
        values = "; ".join(f"`{k}` {_space(v)[1]}" for k, v in space.spaces.items())
        return "Dict(" + ", ".join(parts) + ")", values
    low, high = np.asarray(space.low, float), np.asarray(space.high, float)
    shape = f"`{tuple(space.shape)}`"
    if np.all(low == low.flat[0]) and np.all(high == high.flat[0]):
        return shape, f"[{_bound(low.flat[0])}, {_bound(high.flat[0])}]"
    pairs = [f"[{_bound(a)}, {_bound(b)}]" for a, b in zip(low.ravel(), high.ravel())]
    return shape, " × ".join(pairs[:4]) + (" × …" if len(pairs) > 4 else "")


def _bound(v: float) -> str:
    if np.isinf(v):
        return "−∞" if v < 0 else "∞"
    return f"{v:.4g}".replace("-", "−")


def _signature_defaults(fn: Any) -> list[tuple[str, Any]]:
    out = []
    for name, p in inspect.signature(fn).parameters.items():
        if name in ("self", "game") or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            continue
        out.append((name, p.default if p.default is not p.empty else "(required)"))
    return out


# ---------------------------------------------------------------------------------------------- games
def game_page(name: str) -> str:
    """One game family: its module docstring as the spec, the parameters ``make(name)`` uses, equilibria."""
    cls = games.game_class(name)
    module = importlib.import_module(cls.__module__)
    game = games.make(name)
    env_modules = [m for m, g in envs.ENV_MODULES.items() if g == name]
    lines = [
        f"# `{name}` — {_first_line(cls.__doc__ or module.__doc__)}",
        "",
        f'`make("{name}")` · class `{cls.__module__}.{cls.__qualname__}` · '
        + ("zero-sum · " if cls.zero_sum else "general-sum · ")
        + ("quadratic" if cls.quadratic else "non-quadratic")
        + (" · env modules: " + ", ".join(f"[`{m}`](../envs/{m}.md)" for m in env_modules) if env_modules else ""),
        "",
        "## Players",
        "",
        "| player | role | level | action dim | domain |",
        "|---|---|---|---|---|",
    ]
    for i, p in enumerate(game.players[:6]):
        role = "leader" if game.level_of[i] == 0 else "follower"
        dom = f"[{_bound(p.low.min())}, {_bound(p.high.max())}]" + (" periodic" if p.periodic else "")
        lines.append(f"| `{p.name}` | {role} | {game.level_of[i]} | {p.dim} | {dom} |")
    if game.n > 6:
        lines.append(f"| … | | | | ({game.n} players) |")
    lines += ["", "## Parameters (the values `make` uses by default)", "", "| parameter | default |", "|---|---|"]
    lines += [f"| `{k}` | {_code(v)} |" for k, v in game.params.items()]
    lines += ["", "## Equilibria at the defaults", "", _equilibria_table(game), ""]
    lines += [f"![{name}](../img/{name}.png)", "", "## Specification (the module docstring)", ""]
    lines.append(markdown(module.__doc__).replace("### ", "#### "))
    return "\n".join(lines)


def _equilibria_table(game: Any) -> str:
    from stackenv.equilibria import nash_equilibria, stackelberg_equilibria

    rows = ["| kind | x* | costs f(x*) |", "|---|---|---|"]
    for kind, fn in (("Nash", nash_equilibria), ("Stackelberg", stackelberg_equilibria)):
        try:
            found = fn(game)
        except Exception as exc:  # a solver that fails says so on the page instead of breaking the build
            rows.append(f"| {kind} | — | {type(exc).__name__}: {exc} |")
            continue
        if not found:
            rows.append(f"| {kind} | none | |")
        for e in found[:4]:
            rows.append(f"| {kind} | {_vec(e.x)} | {_vec(e.costs)} |")
    return "\n".join(rows)


def _vec(v: Any) -> str:
    v = np.asarray(v, float).ravel()
    shown = ", ".join(f"{x:.4g}" for x in v[:4]) + (f", … ({len(v)} values)" if len(v) > 4 else "")
    return f"({shown})"


# ---------------------------------------------------------------------------------------------- envs
def env_page(module_name: str) -> str:
    """One versioned env module: PettingZoo-style table per feedback mode, keywords, docstrings, history."""
    module = importlib.import_module(f"stackenv.envs.{module_name}")
    game_name = envs.ENV_MODULES[module_name]
    par = module.parallel_env()
    agents = par.possible_agents
    lines = [
        f"# `{module_name}`",
        "",
        _first_line(module.__doc__),
        "",
        "| | |",
        "|---|---|",
        f"| Import | `from stackenv.envs import {module_name}` |",
        f"| Actions | Continuous (`Box`, float32); out-of-bounds actions are {_oob(par)} and flagged in `infos` |",
        f"| Parallel API | `{module_name}.parallel_env(...)` (simultaneous play) |",
        f"| AEC API | `{module_name}.env(...)` (leader first, level by level) |",
        f"| Agents | `agents = {agents[:4]}`" + (f" … ({len(agents)})" if len(agents) > 4 else "") + " |",
        f"| Number of agents | {len(agents)} |",
        f"| Game | [`{game_name}`](../games/{game_name}.md) |",
        "",
    ]
    shown = agents[:3] + ([agents[-1]] if len(agents) > 3 else [])
    lines += ["## Actions", "", "| agent | action shape | action values |", "|---|---|---|"]
    for a in shown:
        shape, values = _space(par.action_space(a))
        lines.append(f"| `{a}` | {shape} | {values} |")
    lines += ["", "## Observations per feedback mode", ""]
    lines.append(
        "Each feedback mode is a keyword, e.g. "
        f'`{module_name}.parallel_env(feedback="gradient")`. Parallel envs observe after the joint action; in '
        "the AEC env an agent also observes the actions committed above it."
    )
    for mode in FEEDBACK_MODES:
        p_env, a_env = module.parallel_env(feedback=mode), module.env(feedback=mode)
        lines += [
            "",
            f'### `feedback="{mode}"`',
            "",
            "| agent | observation shape (parallel) | observation values (parallel) | observation shape (AEC) |",
            "|---|---|---|---|",
        ]
        for a in shown:
            shape, values = _space(p_env.observation_space(a))
            lines.append(f"| `{a}` | {shape} | {values} | {_space(a_env.observation_space(a))[0]} |")
    lines += ["", "## Arguments", "", "| keyword | default |", "|---|---|"]
    lines += [f"| `{k}` | {_code(v)} |" for k, v in _signature_defaults(type(par).__init__)]
    lines += [f"| game parameters | see [`{game_name}`](../games/{game_name}.md) |", ""]
    lines += [f"![{module_name}](../img/{game_name}.png)", ""]
    lines += ["## Usage", "", "```python", f"from stackenv.envs import {module_name}", ""]
    lines += [
        f'env = {module_name}.parallel_env(feedback="gradient", noise_std=0.1, max_steps=100)',
        "observations, infos = env.reset(seed=0)",
        "while env.agents:",
        "    actions = {agent: env.action_space(agent).sample() for agent in env.agents}",
        "    observations, rewards, terminations, truncations, infos = env.step(actions)",
        "```",
        "",
        "## Module docstring",
        "",
        markdown(module.__doc__).replace("### ", "#### "),
        "## Constructor docstring",
        "",
        markdown(module.parallel_env.__doc__).replace("### ", "#### "),
    ]
    return "\n".join(lines)


def _oob(env: Any) -> str:
    return "wrapped (periodic)" if np.any(env.game.periodic) else "clipped"


def game_figure(name: str) -> bytes:
    """A PNG of the env's ``rgb_array`` render after a few gradient steps at the game's defaults."""
    from stackenv.envs import parallel_env

    env = parallel_env(name, feedback="gradient", render_mode="rgb_array", max_steps=10)
    env.reset(seed=0)
    for _ in range(3):
        env.step({a: env.action_space(a).sample() for a in env.agents})
    frame = env.render()
    import matplotlib.image

    buf = io.BytesIO()
    matplotlib.image.imsave(buf, frame, format="png")
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------- learners
def _learner_class(spec: Any) -> type:
    return spec.factory if isinstance(spec.factory, type) else type(spec.factory())


def _summary(spec: Any) -> str:
    return _first_line(_learner_class(spec).__doc__) or spec.summary


def learners_page() -> str:
    """Every registered learning rule: roles, feedback per role, defaults, its update in the docstring."""
    from agents.registry import learner_spec, list_learners

    lines = [
        "# Learners",
        "",
        "Every rule registered in `agents.registry` (build one with `agents.make_learner(name, **kw)`). The update "
        "rules are written in the paper's notation in each class docstring, reproduced below; `γ` are step-size "
        "schedules, `ω`, `ω_S`, `Df_1`, `H22`, `H21` as in the [architecture notes](architecture.md).",
        "",
        "| name | roles | feedback as leader | feedback as follower | summary |",
        "|---|---|---|---|---|",
    ]
    names = list_learners()
    for name in names:
        spec = learner_spec(name)
        fb = {
            r: ", ".join(f"`{m}`" for m in spec.feedback(r)) if r in spec.roles else "—" for r in ("leader", "follower")
        }
        roles = ", ".join(sorted(spec.roles))
        lines.append(f"| [`{name}`](#{name}) | {roles} | {fb['leader']} | {fb['follower']} | {_summary(spec)} |")
    for name in names:
        spec = learner_spec(name)
        cls = _learner_class(spec)
        lines += ["", f"## `{name}` {{#{name}}}", "", f"`{cls.__module__}.{cls.__qualname__}`", ""]
        defaults = _signature_defaults(cls.__init__) if isinstance(spec.factory, type) else []
        if defaults:
            lines += ["| argument | default |", "|---|---|"]
            lines += [f"| `{k}` | {_code(v)} |" for k, v in defaults]
            lines.append("")
        lines.append(markdown(cls.__doc__).replace("### ", "#### "))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- experiments
def experiment_modules() -> list[str]:
    """``experiments.NAME`` modules that are scripts (they define an ``Args`` dataclass)."""
    import experiments

    out = []
    for info in pkgutil.iter_modules(experiments.__path__):
        module = importlib.import_module(f"experiments.{info.name}")
        if dataclasses.is_dataclass(getattr(module, "Args", None)):
            out.append(info.name)
    return sorted(out)


def experiment_page(name: str) -> str:
    """One script: what it reproduces (its docstring) and its arguments with defaults."""
    module = importlib.import_module(f"experiments.{name}")
    lines = [f"# `python -m experiments.{name}`", "", markdown(module.__doc__), "## Arguments", ""]
    lines += ["| flag | default | meaning |", "|---|---|---|"]
    for f in dataclasses.fields(module.Args):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        text = f.metadata.get("help", "").replace("|", "\\|")
        flag = " ".join(f"`{s}`" for s in option_strings(f))
        lines.append(f"| {flag} | {_code(default)} | {text} |")
    extra = markdown(module.Args.__doc__)
    return "\n".join([*lines, "", extra])


# ---------------------------------------------------------------------------------------------- API
#: Packages with an API reference page (mkdocstrings renders the members from their docstrings).
API_MODULES = {
    "stackenv.games": "Games",
    "stackenv.equilibria": "Equilibria",
    "stackenv.envs": "Environments",
    "stackenv.wrappers": "Single-agent wrapper",
    "agents": "Learners",
    "experiments.common": "Experiment plumbing",
    "experiments.plotting": "Plotting",
}


def api_page(module: str, title: str) -> str:
    return f"# {title}: `{module}`\n\n::: {module}\n"
