"""Issue 5: every experiment script takes ``--seeds N --steps K --out DIR --json PATH`` and documents every
argument (CleanRL style: a typed dataclass with one help text per field)."""

import dataclasses
import re
import time
from pathlib import Path

import pytest

from experiments import (
    bench,
    demo,
    duopoly,
    lq,
    n_followers,
    n_followers_chain,
    n_followers_oligopoly,
    n_followers_timing,
    rl,
    torus,
    tournament,
    zero_sum,
)
from experiments.common import best_time, parse_args

SCRIPTS = [duopoly, torus, zero_sum, n_followers, n_followers_oligopoly, n_followers_chain, rl, tournament, lq]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_common_flags_and_documented_arguments(script, tmp_path):
    argv = ["--seeds", "2", "--steps", "3", "--out", str(tmp_path / "o"), "--json", str(tmp_path / "s.json")]
    args = parse_args(script.Args, argv)
    assert (args.seeds, args.steps) == (2, 3)
    assert Path(args.out) == tmp_path / "o" and Path(args.json) == tmp_path / "s.json"
    for field in dataclasses.fields(script.Args):
        assert field.metadata.get("help", "").strip(), f"{script.__name__}: --{field.name} has no help text"
    assert (script.__doc__ or "").strip() and (script.Args.__doc__ or "").strip()


def test_best_time_is_the_fastest_call_after_an_untimed_warm_up():
    calls = []

    def fn():  # slow on the first call only, like a cold cache
        calls.append(None)
        time.sleep(0.05 if len(calls) == 1 else 0.0)

    assert best_time(fn, 3, warmup=True) < 0.025 and len(calls) == 4
    calls.clear()
    assert best_time(fn, 1) >= 0.05 and len(calls) == 1  # without warm-up the slow call is the only one timed


@pytest.mark.parametrize(
    "script", [*SCRIPTS, bench, demo, n_followers_timing], ids=lambda m: m.__name__.rsplit(".", 1)[-1]
)
def test_help_names_no_issue_and_prints_each_default_once(script, capsys):
    with pytest.raises(SystemExit):
        parse_args(script.Args, ["--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert not re.search(r"issue \d", text), text
    assert "(default: None)" not in text
    for chunk in text.split("--")[1:]:
        assert chunk.count("default") <= 1, chunk


def test_bench_says_why_it_takes_no_seeds_steps_out():
    assert "not ``--seeds``/``--steps``/``--out``" in bench.Args.__doc__
    assert "not ``--seeds``/``--steps``" in n_followers_timing.Args.__doc__
