"""App. C.2 of Fiez, Chasnov & Ratliff: one Cournot leader above N simultaneous followers — convergence and the
leader's advantage.

Oligopoly (``make("oligopoly", ...)``): one leader with unit cost ``--leader-cost`` above N followers whose unit
costs are spread linearly over ``[c_lo, c_lo + w_N]``, ``w_N = min(spread, (A − c_lo)/(2(N + 2)))`` — the spread
shrinks for large N so that every follower still produces a positive quantity in both equilibria (with A = 100
and N = 1000 each firm makes ~0.05 units). The leader runs the N-follower learner of ``agents.n_followers``
(descent on Df_1 through the followers' Nash response: the oligopoly's O(N) Sherman–Morrison field under
``hierarchical`` feedback, or a Krylov adjoint solve on the dense blocks under ``--feedback second_order``);
the followers run gradient play on the faster timescale. Noisy gradients (default variance 0.01).

Step sizes in the game's own units (derived in ``docs/derivations.md``): the leader's reduced cost has curvature
μ = 2/(N + 1), so the leader steps γ_{1,k} = (a_L/μ)/(k + 2a_L/μ); the followers step
γ_{2,k} = a_F s_F (k_F/(k + k_F))^{p_F} with s_F = 1/‖H22‖₂ = 1/(N + 1) (``follower_step_scale``). Both need
O(N) steps before their 1/k regime — an intrinsic cost of many followers. Initial quantities: leader uniform on
[0, A], followers uniform on [0, 2A/(N + 2)] (a market near the Cournot scale).

Cost: one learning step is cheap (the N followers step as one block learner; ~0.5 ms for 8 runs at N = 1000 on
2 cores), but the leader needs O(N) steps, so the default learns only for N ≤ ``--learn-max-n`` (100); larger N
get the exact curves. ``--learn-max-n 1000 --steps 20000`` learns N = 1000 too (~15 s; the runs end within ~4%
of the Stackelberg point, still closing in at the O(N)-step rate). This script keeps the paper's gradient-play
followers; the library default ``n_follower_learners(game)`` has the followers respond as one Newton block and
converges for any N within a few thousand steps (``agents.n_followers`` explains why).

Writes ``n_followers_oligopoly.png`` (relative distance to the Stackelberg point and the leader's relative error
vs k per N), ``n_followers_advantage.png`` (the leader's profit at the Stackelberg and Nash equilibria vs N —
exact curves, learned values as markers — and their ratio), ``table.md`` and the JSON summary: one ``runs`` entry
per learned N (``dynamics`` = ``stackelberg``, game ``oligopoly``), ``equilibrium`` = the Stackelberg closed form.

    python -m experiments.n_followers_oligopoly --seeds 8 --steps 3000 --out results/n_followers_oligopoly
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from agents import PowerSchedule, n_follower_learners, play
from agents.n_followers import follower_step_scale, reduced_curvature
from experiments.common import arg, markdown_table, parse_args, run_summary, write_json
from experiments.n_followers_lib import (
    OUTCOME_HEADERS,
    LearnArgs,
    MarketArgs,
    leader_profit,
    oligopoly,
    outcome_row,
)
from experiments.plotting import mean_band, save, setup_matplotlib, spread_caption
from stackenv.envs import BatchedStackelbergEnv


@dataclass
class Args(MarketArgs, LearnArgs):
    """App. C.2: a leader above N followers (convergence for several N, the leader's advantage vs N)."""

    out: Path = arg(Path("results/n_followers_oligopoly"), "folder for figures and tables")
    ns: list[int] = arg([1, 2, 5, 10, 100, 1000], "numbers of followers N")
    learn_max_n: int = arg(100, "run the learners only for N ≤ this (larger N: exact curves and timings only)")
    feedback: str = arg(
        "hierarchical",
        "leader's feedback: structured O(N) field or Krylov on dense blocks",
        choices=["hierarchical", "second_order"],
    )
    leader_lr: float = arg(4.0, "a_L: the leader's step in units of 1/μ (reduced-cost curvature)")
    follower_lr: float = arg(1.0, "a_F: the followers' step in units of 1/‖H22‖₂")
    follower_p: float = arg(0.6, "p_F: decay power of the followers' steps (< 1: faster timescale)")
    follower_k0: float = arg(100.0, "k_F: the followers' steps start decaying after about this many steps")

    def validate(self) -> None:
        LearnArgs.validate(self)
        if not self.ns or min(self.ns) < 1:
            raise ValueError(f"--ns must list positive follower counts, got {self.ns}")
        if not (self.leader_lr > 0 and self.follower_lr > 0 and self.follower_k0 > 0):
            raise ValueError("--leader-lr, --follower-lr and --follower-k0 must be positive")
        if not 0.5 < self.follower_p < 1:
            raise ValueError(f"--follower-p must lie in (1/2, 1), got {self.follower_p}")


def learners_for(args: Args, game) -> dict:
    """N-follower leader and gradient-play followers with the curvature-scaled steps of the module docstring."""
    mu = reduced_curvature(game, 0, game.stackelberg_closed_form())
    leader = PowerSchedule(args.leader_lr / mu, 1.0, 2 * args.leader_lr / mu)
    s_F = follower_step_scale(game)
    follower = PowerSchedule(
        args.follower_lr * s_F * args.follower_k0**args.follower_p, args.follower_p, args.follower_k0
    )
    return n_follower_learners(game, leader_lr=leader, follower_lr=follower)


def initial_quantities(args: Args, N: int) -> np.ndarray:
    """Leader uniform on [0, A], followers uniform on [0, 2A/(N + 2)]; ``(seeds, N + 1)``."""
    rng = np.random.default_rng([args.seed, N])
    leader = rng.uniform(0.0, args.A, (args.seeds, 1))
    followers = rng.uniform(0.0, 2 * args.A / (N + 2), (args.seeds, N))
    return np.concatenate([leader, followers], axis=1)


def learn(args: Args, games: dict) -> tuple[dict, dict]:
    """One batched env per N ≤ ``--learn-max-n`` (one copy per seed): the trajectories and the seconds per step."""
    trajs, walls = {}, {}
    learned = [N for N in games if N <= args.learn_max_n]
    for N in tqdm(learned, desc="oligopoly", disable=not args.progress):
        env = BatchedStackelbergEnv(
            games[N], num_envs=args.seeds, feedback=args.feedback, noise_std=math.sqrt(args.noise_var)
        )
        learners, x0 = learners_for(args, games[N]), initial_quantities(args, N)
        t0 = time.perf_counter()
        trajs[N] = play(env, learners, args.steps, record_every=args.record_every, seed=args.seed, x0=x0)
        walls[N] = (time.perf_counter() - t0) / args.steps
    return trajs, walls


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(Args, argv)
    args.out.mkdir(parents=True, exist_ok=True)

    # GAME: one oligopoly per N (closed forms for every N)
    games = {N: oligopoly(args, N) for N in sorted(set(args.ns))}

    # LEARN: the N-follower leader above gradient-play followers, for N ≤ --learn-max-n
    trajs, walls = learn(args, games)

    # REPORT: JSON runs, the table, the convergence and advantage figures
    runs = run_entries(args, games, trajs, walls)
    table = markdown_table(OUTCOME_HEADERS, table_rows(games, trajs, walls))
    (args.out / "table.md").write_text(table + "\n")
    if trajs:
        plt = setup_matplotlib()
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
        draw_convergence(axes, games, trajs)
        fig.suptitle("App. C.2: two-timescale hierarchical learning with N simultaneous followers, noisy gradients")
        fig.tight_layout()
        save(fig, args.out / "n_followers_oligopoly.png", args.format)
    plot_advantage(args, games, trajs, args.out / "n_followers_advantage.png", args.format)
    print(table)
    summary = {"experiment": "n_followers_oligopoly", "runs": runs}
    write_json(args.json, summary)
    return summary


def run_entries(args: Args, games: dict, trajs: dict, walls: dict) -> list[dict]:
    """One JSON ``runs`` entry per learned N."""
    runs = []
    for N, tr in trajs.items():
        game = games[N]
        runs.append(
            run_summary(
                game,
                "stackelberg",
                args.steps,
                tr.x_final,
                game.stackelberg_closed_form(),
                n_followers=N,
                feedback=args.feedback,
                noise_std=math.sqrt(args.noise_var),
                leader_profit_learned=leader_profit(game, tr.x_final),
                leader_profit_stackelberg=float(leader_profit(game, game.stackelberg_closed_form())),
                leader_profit_nash=float(leader_profit(game, game.nash_closed_form())),
                seconds_per_step=walls[N],
            )
        )
    return runs


def table_rows(games: dict, trajs: dict, walls: dict) -> list[list]:
    """Closed forms, the leader's advantage, where the runs ended and the cost per step, per N."""
    return [
        outcome_row(f"oligopoly N={N}", game, trajs[N].x_final if N in trajs else None, walls.get(N))
        for N, game in games.items()
    ]


# ---------------------------------------------------------------------------------------------- figures
def draw_convergence(axes, games: dict, trajs: dict) -> None:
    """On two axes: (a) relative distance to the Stackelberg point, (b) the leader's relative error, per N."""
    cmap = setup_matplotlib().get_cmap("viridis")
    colors = {N: cmap(0.9 * j / max(1, len(trajs) - 1)) for j, N in enumerate(trajs)}
    for N, tr in trajs.items():
        game = games[N]
        xs = game.stackelberg_closed_form()
        keep = tr.steps >= 1
        k = tr.steps[keep]
        rel = game.distance(tr.x[keep], xs) / np.linalg.norm(xs)
        lead = np.abs(tr.x[keep, :, 0] - xs[0]) / xs[0]
        for ax, y in ((axes[0], rel), (axes[1], lead)):
            mean_band(ax, k, y, centre="median", color=colors[N], lw=1.5, label=f"N = {N}")
    axes[0].set_ylabel("‖x_k − x*‖ / ‖x*‖ (all N + 1 quantities)")
    axes[0].set_title("(a) oligopoly: distance to the Stackelberg point")
    axes[1].set_ylabel("|q₀,k − q₀*| / q₀*")
    axes[1].set_title("(b) oligopoly: the leader's quantity")
    for ax in axes[:2]:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("iteration k")
        ax.legend(fontsize=8, title=spread_caption(next(iter(trajs.values())).x.shape[1], "median"), title_fontsize=8)


def plot_advantage(args: Args, games: dict, trajs: dict, path: Path, fmt: str = "png") -> None:
    """The leader's profit at the Stackelberg and Nash equilibria vs N (exact), learned values as markers."""
    plt = setup_matplotlib()
    n_max = max(games)
    dense = np.unique(np.round(np.geomspace(1, max(n_max, 2), 120)).astype(int))
    dense_games = [oligopoly(args, int(N)) for N in dense]
    ps = np.array([leader_profit(g, g.stackelberg_closed_form()) for g in dense_games])
    pn = np.array([leader_profit(g, g.nash_closed_form()) for g in dense_games])
    fig, axes = plt.subplots(1, 2, figsize=(12.5, 4.8))
    # follower costs stop spreading over the full range where w_N = (A − c_lo)/(2(N + 2)) < spread
    n_kink = (args.A - args.follower_cost_low) / (2 * args.follower_cost_spread) - 2
    for ax in axes:
        if 1 < n_kink < n_max:
            ax.axvline(n_kink, color="gray", lw=0.8, ls="--")
            ax.annotate(
                "follower cost spread\nshrinks beyond",
                (n_kink, 0.04),
                xycoords=("data", "axes fraction"),
                xytext=(4, 0),
                textcoords="offset points",
                fontsize=7.5,
                color="gray",
            )
    ax = axes[0]
    ax.plot(dense, ps, color="tab:red", lw=1.6, label="Stackelberg (leader commits), exact")
    ax.plot(dense, pn, color="tab:blue", lw=1.6, label="Nash (all simultaneous), exact")
    exact = [leader_profit(g, g.stackelberg_closed_form()) for g in games.values()]
    ax.plot(list(games), exact, "o", mfc="none", color="tab:red", ms=6)
    for N, tr in trajs.items():
        label = f"learned: {spread_caption(tr.x.shape[1], 'median')}" if N == min(trajs) else None
        _learned_marker(ax, N, leader_profit(games[N], tr.x_final), "black", label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("number of followers N")
    ax.set_ylabel("leader's profit π₀ = −f₀ (money)")
    ax.set_title("(a) the leader's profit")
    ax.legend(fontsize=8)
    ax = axes[1]
    ax.plot(dense, ps / pn, color="black", lw=1.6, label="π₀(Stackelberg) / π₀(Nash), exact")
    for N, tr in trajs.items():
        g = games[N]
        ratio = leader_profit(g, tr.x_final) / leader_profit(g, g.nash_closed_form())
        _learned_marker(ax, N, ratio, "tab:red", "learned / exact Nash profit" if N == min(trajs) else None)
    ax.axhline(1.0, color="gray", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("number of followers N")
    ax.set_ylabel("profit ratio")
    ax.set_title("(b) the leader's advantage grows with N")
    ax.legend(fontsize=8)
    fig.suptitle(
        f"Leader's advantage in the N-follower oligopoly (A = {args.A:g}, c₀ = {args.leader_cost:g}, "
        f"follower costs from {args.follower_cost_low:g}, spread ≤ {args.follower_cost_spread:g})"
    )
    fig.tight_layout()
    save(fig, path, fmt)


def _learned_marker(ax, N: int, values: np.ndarray, color: str, label: str | None) -> None:
    """The median of ``values`` over seeds at ``N``, with a 10–90% error bar."""
    lo, mid, hi = np.percentile(values, [10, 50, 90])
    ax.errorbar([N], [mid], yerr=[[mid - lo], [hi - mid]], fmt="x", color=color, ms=8, mew=1.6, capsize=3, label=label)


if __name__ == "__main__":
    main()
