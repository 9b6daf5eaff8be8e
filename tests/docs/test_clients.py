"""The client recipes in docs/clients/ run as written: each page's first Python block is executed in a fresh
interpreter. TorchRL, Tianshou, the CleanRL-style loop and SB3 run in ``make test``; RLlib (Ray) only in
``make test-clients``, and is skipped where Ray is not installed."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = ROOT / "docs" / "clients"
#: page → (module that must be importable, what the block's output must contain)
RECIPES = {
    "torchrl": ("torchrl", "torch.Size([50, 1, 1])"),
    "tianshou": ("tianshou", "40 ["),
    "cleanrl": ("torch", "(Stackelberg: 46)"),
    "sb3": ("stable_baselines3", ""),
    "rllib": ("ray.rllib", "['follower', 'leader']"),
}


def first_python_block(page: str) -> str:
    match = re.search(r"```python\n(.*?)```", (CLIENTS / f"{page}.md").read_text(), re.S)
    assert match, f"docs/clients/{page}.md has no python block"
    return match.group(1)


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


@pytest.mark.parametrize(
    "page", [pytest.param(p, marks=[pytest.mark.clients] if p == "rllib" else []) for p in RECIPES]
)
def test_recipe_runs(page):
    module, expected = RECIPES[page]
    if not _installed(module):
        pytest.skip(f"{module} not installed (docs/clients/{page}.md; `make test-clients` installs Ray)")
    proc = subprocess.run(
        [sys.executable, "-c", first_python_block(page)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert expected in proc.stdout, proc.stdout
    if page == "cleanrl":  # the page's claim, by value: REINFORCE's iterate after 150 batches of 32 is within
        # ~0.5 units of q_1 = 46 on this seed; 2 units still separates it from Nash's 30.67
        assert abs(float(re.search(r"leader quantity (\S+)", proc.stdout).group(1)) - 46.0) < 2.0, proc.stdout
