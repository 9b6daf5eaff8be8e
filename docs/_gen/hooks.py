"""MkDocs hook (``hooks:`` in ``mkdocs.yml``): adds the generated pages to the build and to the navigation.

The hand-written pages are listed in ``mkdocs.yml``; this hook fills the sections named there
(``Games``, ``Environments``, ``Learners``, ``Experiments``, ``API reference``) from the registries at build
time, and adds ``differences.md`` when it exists. Page content comes from :mod:`pages` beside this file.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mkdocs.structure.files import File

sys.path.insert(0, str(Path(__file__).parent))
import pages  # noqa: E402  (beside this file, not an installed package)

_GENERATED: dict[str, str | bytes] = {}


def _collect() -> dict[str, list]:
    """Generate every page's content (kept in ``_GENERATED``) and return the nav entries per section."""
    from stackenv import envs, games

    _GENERATED.clear()
    sections: dict[str, list] = {
        "Games": [],
        "Environments": [],
        "Learners": [],
        "Experiments": [],
        "API reference": [],
    }
    for name in games.list_games():
        _GENERATED[f"games/{name}.md"] = pages.game_page(name)
        _GENERATED[f"img/{name}.png"] = pages.game_figure(name)
        sections["Games"].append({name: f"games/{name}.md"})
    for module in sorted(envs.ENV_MODULES):
        _GENERATED[f"envs/{module}.md"] = pages.env_page(module)
        sections["Environments"].append({module: f"envs/{module}.md"})
    _GENERATED["learners.md"] = pages.learners_page()
    sections["Learners"] = "learners.md"
    for name in pages.experiment_modules():
        _GENERATED[f"experiments/{name}.md"] = pages.experiment_page(name)
        sections["Experiments"].append({name: f"experiments/{name}.md"})
    for module, title in pages.API_MODULES.items():
        _GENERATED[f"api/{module}.md"] = pages.api_page(module, title)
        sections["API reference"].append({title: f"api/{module}.md"})
    return sections


def on_config(config):
    sections = _collect()
    nav = []
    for entry in config["nav"]:
        ((title, value),) = entry.items()
        if title in sections:
            value = (
                [*value, *sections[title]]
                if isinstance(value, list) and isinstance(sections[title], list)
                else sections[title]
            )
        nav.append({title: value})
    if (Path(config["docs_dir"]) / "differences.md").exists():
        nav.append({"Differences from the paper": "differences.md"})
    config["nav"] = nav
    return config


def on_files(files, config):
    for path, content in _GENERATED.items():
        files.append(File.generated(config, path, content=content))
    return files
