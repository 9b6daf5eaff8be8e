"""experiments.plotting: number formatting, captions true to the seed count and noise, --format on the scripts."""

import math

import numpy as np
import pytest

from experiments import duopoly, torus, zero_sum
from experiments.plotting import noise_caption, number, save, setup_matplotlib, spread_caption
from stackenv.equilibria import nash_equilibria, stackelberg_equilibria
from stackenv.games import make
from tests.experiments.figures import captured_figures


def test_number_is_positional_with_three_significant_digits():
    assert [number(v) for v in (-940.0, -1058.0, 1133.44, 30.666, 0.012345, 1.5, 0.0)] == [
        "-940",
        "-1060",
        "1130",
        "30.7",
        "0.0123",
        "1.5",
        "0",
    ]
    assert number(math.inf) == "∞" and number(math.nan) == "—" and number(2.5e7) == "2.50e+07"


def test_captions_follow_the_data():
    assert spread_caption(32) == "mean of 32 seeds, shaded 10–90% of seeds"
    assert "one seed" in spread_caption(1) and "%" not in spread_caption(1)
    assert noise_caption(0.0) == "no noise" and noise_caption(10.0) == "noise variance 10 (std 3.16)"


def test_save_writes_the_requested_format_and_rejects_others(tmp_path):
    plt = setup_matplotlib()
    for fmt, magic in (("pdf", b"%PDF"), ("svg", b"<?xml"), ("png", b"\x89PNG")):
        fig, _ = plt.subplots()
        assert save(fig, tmp_path / "f.png", fmt).read_bytes().startswith(magic)
    with pytest.raises(ValueError, match="unknown figure format 'jpg'"):
        save(plt.figure(), tmp_path / "f", "jpg")


@pytest.mark.parametrize("script", [duopoly, zero_sum], ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_one_seed_figures_claim_no_band_and_pdf_is_written(script, tmp_path):
    argv = ["--seeds", "1", "--steps", "30", "--out", str(tmp_path), "--progress", "false", "--format", "pdf"]
    with captured_figures() as saved:
        script.main(argv)
    assert saved and all(path.endswith(".pdf") for path, _, _ in saved)
    assert all((tmp_path / path.rsplit("/", 1)[-1]).read_bytes().startswith(b"%PDF") for path, _, _ in saved)
    for _, fig, _ in saved:
        texts = " ".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")))
        assert "10–90%" not in texts and "1 seeds" not in texts


def test_duopoly_table_explains_the_paper_profit_gap(tmp_path):
    duopoly.main(["--seeds", "2", "--steps", "20", "--out", str(tmp_path), "--progress", "false"])
    table = (tmp_path / "table.md").read_text()
    assert "(940.4, 1133.4)" in table and "(1058, 676)" in table and "not the profits of any equilibrium" in table


def test_torus_stability_says_why_a_point_is_not_stable():
    game = make("torus")
    nash, stack = nash_equilibria(game)[0], stackelberg_equilibria(game)[0]
    text = torus.stability(nash.classification)
    assert text.startswith("ω: yes, spec J = {") and "ω_S: no, not a critical point (‖ω_S‖ = " in text
    text = torus.stability(stack.classification)
    assert "ω: no, not a critical point" in text and "ω_S: yes, spec J_S = {" in text


def test_zero_sum_median_distance_never_prints_inf():
    assert zero_sum.median_distance(np.array([np.inf, np.inf, 1.0])) == "diverged (2/3 runs)"
    assert zero_sum.median_distance(np.array([np.inf, 0.5, 1.0])) == "1"
