"""Issue 5: every experiment script takes ``--seeds N --steps K --out DIR --json PATH`` and documents every
argument (CleanRL style: a typed dataclass with one help text per field)."""

import dataclasses
from pathlib import Path

import pytest

from experiments import duopoly, n_followers, rl, torus, tournament, zero_sum
from experiments.common import parse_args

SCRIPTS = [duopoly, torus, zero_sum, n_followers, rl, tournament]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_common_flags_and_documented_arguments(script, tmp_path):
    argv = ["--seeds", "2", "--steps", "3", "--out", str(tmp_path / "o"), "--json", str(tmp_path / "s.json")]
    args = parse_args(script.Args, argv)
    assert (args.seeds, args.steps) == (2, 3)
    assert Path(args.out) == tmp_path / "o" and Path(args.json) == tmp_path / "s.json"
    for field in dataclasses.fields(script.Args):
        assert field.metadata.get("help", "").strip(), f"{script.__name__}: --{field.name} has no help text"
    assert (script.__doc__ or "").strip() and (script.Args.__doc__ or "").strip()
