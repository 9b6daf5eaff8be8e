"""The JSON summary contract of issue 5, written out independently of the library, and how tests run a script."""

import json
from pathlib import Path
from types import ModuleType

#: Keys every ``runs`` entry of an experiment's ``--json`` summary must carry.
RUN_KEYS = {
    "game",
    "params",
    "dynamics",
    "steps",
    "seeds",
    "final_actions",
    "equilibrium",
    "distance_median",
    "distance_p95",
}


def run_script(script: ModuleType, out: Path, argv: list[str]) -> tuple[dict, dict]:
    """``script.main`` with ``argv`` plus ``--out out --json out/NAME.json --progress false``: the summary it
    returned and the JSON it wrote."""
    path = out / (script.__name__.rsplit(".", 1)[-1] + ".json")
    summary = script.main([*argv, "--out", str(out), "--json", str(path), "--progress", "false"])
    return summary, json.loads(path.read_text())
