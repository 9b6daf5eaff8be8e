"""The built docs site, shared by the docs tests.

``make test`` builds ``site/`` once with warnings as errors and points ``STACKENV_SITE`` at it; a plain
``pytest`` run builds the site itself into a temporary folder (also with ``--strict``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    built = os.environ.get("STACKENV_SITE")
    if built:
        path = Path(built)
        if not path.is_absolute():
            path = ROOT / path
        assert (path / "index.html").exists(), f"STACKENV_SITE={built} has no index.html"
        return path
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT)},
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out
