"""docs/differences.md: every python block prints the text block after it; the CLI command shows what it says."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import numpy as np
import pytest

from stackenv.cli import main
from stackenv.equilibria import critical_points
from stackenv.games import make

PAGE = Path(__file__).resolve().parents[1] / "docs" / "differences.md"
PAIRS = re.findall(r"```python\n(.*?)```\s*```text\n(.*?)```", PAGE.read_text(), flags=re.S)


def test_the_page_has_its_examples():
    assert len(PAIRS) == 4, "every python block of docs/differences.md needs the text block it prints"


@pytest.mark.parametrize(("code", "expected"), PAIRS, ids=[f"block{i}" for i in range(len(PAIRS))])
def test_block_prints_what_the_page_says(code, expected, monkeypatch):
    monkeypatch.syspath_prepend(str(PAGE.parents[1]))  # the real packages before tests/ folders of the same name
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(PAGE), "exec"), {"__name__": "__differences__"})
    assert out.getvalue().strip() == expected.strip()


def test_prop2_counterexample_from_the_cli(capsys):
    assert main(["equilibria", "zero_sum", "--set", "A=3", "--set", "B=2", "--set", "C=1"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.split()[1:3] == ["omega", "(0,"])
    # columns: diff.Nash, diff.Stack, stable J, stable J_S
    assert row.split()[6:10] == ["no", "no", "yes", "no"], row


def _their_torus_test(game, x):
    """The authors' find_stackelberg_points: diag(J_S) > 0, with their J_S[0, 0] (d221 of the wrong sign)."""
    JS = game.jacobian_S(x)
    grad2_f1, H21, H22 = game.grad(0, x)[1], game.hessian(1, x)[1, 0], game.hessian(1, x)[1, 1]
    theirs = JS[0, 0] - 2 * grad2_f1 * H21 * game.dhessian(1, x, np.array([1.0, 0.0]))[1, 1] / H22**2
    return bool(theirs > 0 and JS[1, 1] > 0)


def test_their_torus_test_agrees_with_def4_at_the_paper_defaults():
    """'The paper's default results are unaffected': their test accepts exactly Def. 4's Stackelberg points."""
    game = make("torus")
    points = critical_points(game, "omega_S")
    assert len(points) >= 4  # the two Stackelberg points and other critical points to reject
    theirs = [_their_torus_test(game, p.x) for p in points]
    ours = [p.classification.differential_stackelberg for p in points]
    assert theirs == ours and sum(ours) == 2
