"""What the N-follower studies of App. C share: their arguments, the oligopoly they build, the leader's profit and
the rows of their results table.

``python -m experiments.n_followers`` runs the three studies and merges their results; each is also a script of
its own: ``experiments.n_followers_oligopoly`` (one leader above N followers: convergence and the leader's
advantage), ``experiments.n_followers_chain`` (the 3-level chain) and ``experiments.n_followers_timing`` (the
cost of one leader update vs N). A study's ``Args`` is built from the argument groups below, so a flag means
the same thing, with the same default, in every study and in ``experiments.n_followers``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from experiments.common import arg
from experiments.plotting import FORMATS
from stackenv.games import make


@dataclass
class StudyArgs:
    """Arguments of every N-follower study: where its outputs go and the market's demand intercept."""

    out: Path = arg(Path("results/n_followers"), "folder for figures and tables")
    json: Path | None = arg(None, "path of the JSON summary (none: not written)")
    A: float = arg(100.0, "demand intercept")
    progress: bool = arg(True, "show a progress bar")
    format: str = arg("png", "figure file format", choices=FORMATS)


@dataclass
class LearnArgs(StudyArgs):
    """Arguments of a study that learns: runs, steps, seeds, noise, recording."""

    seeds: int = arg(8, "number of independent runs per N (one seed each)")
    steps: int = arg(3000, "learning steps K per run")
    seed: int = arg(0, "base seed; run b uses seed + b")
    noise_var: float = arg(0.01, "variance of the gradient noise (every agent)")
    record_every: int = arg(10, "store every n-th step of the paths")

    def validate(self) -> None:
        if self.seeds < 1 or self.steps < 1 or self.record_every < 1:
            raise ValueError("--seeds, --steps and --record-every must be positive")
        if self.noise_var < 0:
            raise ValueError(f"--noise-var must be non-negative, got {self.noise_var}")


@dataclass
class MarketArgs:
    """The oligopoly's unit costs (App. C.2): the leader's and the followers' spread."""

    leader_cost: float = arg(2.0, "the leader's unit cost c_0")
    follower_cost_low: float = arg(2.0, "lowest follower unit cost c_lo")
    follower_cost_spread: float = arg(1.0, "spread of the follower costs (shrunk for large N, see docstring)")


def follower_costs(args: MarketArgs, N: int) -> np.ndarray:
    """``N`` costs spread linearly over ``[c_lo, c_lo + w_N]``, ``w_N = min(spread, (A − c_lo)/(2(N + 2)))``: the
    spread shrinks for large N so that every follower still produces a positive quantity in both equilibria
    (with A = 100 and N = 1000 each firm makes ~0.05 units)."""
    width = min(args.follower_cost_spread, (args.A - args.follower_cost_low) / (2 * (N + 2)))
    return np.linspace(args.follower_cost_low, args.follower_cost_low + width, N)


def oligopoly(args: MarketArgs, N: int):
    """The App. C.2 oligopoly with N followers at the market of ``args`` (its unit costs and ``A``)."""
    return make("oligopoly", A=args.A, leader_cost=args.leader_cost, follower_costs=follower_costs(args, N))


def leader_profit(game, x: np.ndarray) -> np.ndarray:
    """The top player's profit ``π₀ = −f₀(x)``."""
    return -game.costs(x)[..., 0]


#: Columns of the results table (one row per oligopoly N and one for the chain, :func:`outcome_row`).
OUTCOME_HEADERS = [
    "game",
    "leader q₀* (Stackelberg)",
    "leader profit, Stackelberg",
    "leader profit, Nash",
    "advantage ratio",
    "learned q₀ (median)",
    "learned leader profit",
    "median ‖x_K − x*‖/‖x*‖",
    "ms per learning step",
]


def outcome_row(label: str, game, x_final: np.ndarray | None = None, seconds_per_step: float | None = None) -> list:
    """One row of :data:`OUTCOME_HEADERS`: closed forms and the leader's advantage, then where the runs ended
    (``x_final`` ``(seeds, d)``; dashes when nothing was learned) and the cost per step."""
    xs = game.stackelberg_closed_form()
    ps, pn = leader_profit(game, xs), leader_profit(game, game.nash_closed_form())
    row = [label, f"{xs[0]:.3f}", f"{ps:.4g}", f"{pn:.4g}", f"{ps / pn:.3g}"]
    if x_final is None:
        return [*row, "—", "—", "—", "—"]
    rel = game.distance(x_final, xs) / np.linalg.norm(xs)
    return [
        *row,
        f"{np.median(x_final[:, 0]):.3f}",
        f"{np.median(leader_profit(game, x_final)):.4g}",
        f"{np.median(rel):.2e}",
        "—" if seconds_per_step is None else f"{seconds_per_step * 1e3:.2f}",
    ]
