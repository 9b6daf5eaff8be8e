"""App. C of Fiez, Chasnov & Ratliff: a leader above N simultaneous followers, and a 3-level chain.

Oligopoly (App. C.2, ``make("oligopoly", ...)``): one Cournot leader with unit cost ``--leader-cost`` above N
followers whose unit costs are spread linearly over ``[c_lo, c_lo + w_N]``, ``w_N = min(spread, (A − c_lo)/(2(N + 2)))``
— the spread shrinks for large N so that every follower still produces a positive quantity in both
equilibria (with A = 100 and N = 1000 each firm makes ~0.05 units). The leader runs the N-follower learner
of ``agents.n_followers`` (descent on Df_1 through the followers' Nash response: the oligopoly's O(N)
Sherman–Morrison field under ``hierarchical`` feedback, or a Krylov adjoint solve on the dense blocks under
``--feedback second_order``); the followers run gradient play on the faster timescale. Noisy gradients
(default variance 0.01).

Step sizes in the game's own units. The leader's reduced cost ``q_0 ↦ f_0(q_0, r(q_0))`` has curvature
μ = 2/(N + 1) (computed from the game by finite differences of Df_1 along the response), while its
partial curvature stays ≈ 1, and with simultaneous updates the followers' response lags one step, which
caps the leader's step below ≈ 1. The library default γ_{1,k} = 1/k therefore moves the leader at the
effective rate 2/((N + 1)k): for N ≥ 5 it has barely moved after thousands of steps. We use
γ_{1,k} = (a_L/μ)/(k + 2a_L/μ) (γ_{1,1} ≈ 1/2; effective rate a_L/(k + 2a_L/μ), so O(N) steps are
needed before the 1/k regime — an intrinsic cost of many followers) and, for the followers,
γ_{2,k} = a_F s_F (k_F/(k + k_F))^{p_F} with s_F = 1/‖J_F‖₂ = 1/(N + 1) (``follower_step_scale``): J_F = I + 11ᵀ
has condition number N + 1, so the followers' individual deviations from their mean also converge in
O(N) steps. Initial quantities: leader uniform on [0, A], followers uniform on [0, 2A/(N + 2)] (a market
near the Cournot scale).

Cost: one learning step is cheap (the N followers step as one block learner; ~0.5 ms for 8 runs at N = 1000 on
2 cores), but the leader needs O(N) steps, so the default learns only for N ≤ ``--learn-max-n`` (100); larger N
get the exact curves and the timings. ``--learn-max-n 1000 --steps 20000`` learns N = 1000 too (~15 s; the
runs end within ~4% of the Stackelberg point, still closing in at the O(N)-step rate). This script keeps the paper's
gradient-play followers; the library default ``n_follower_learners(game)`` has the followers respond as one
Newton block and converges for any N within a few thousand steps (``agents.n_followers`` explains why).

3-level chain (App. C.1, ``make("hierarchy", ...)``): ``chain_learners`` with the default exponents
1, 0.8, 0.6 (levels top-down), each level's scale divided by its reduced curvature (0.5, 1, 2), noisy
total-derivative feedback; converges to the backward-induction closed form.

Writes ``n_followers_convergence.png`` (relative distance to the Stackelberg point and the leader's relative
error vs k per N; the chain's quantities vs k with the closed form), ``n_followers_advantage.png`` (the
leader's profit at the Stackelberg and Nash equilibria vs N — exact curves, learned values as markers — and
their ratio), ``n_followers_timing.png`` (wall time of one leader update vs N, log-log with fitted slopes:
structured O(N), Krylov on the dense blocks, dense LU reference), ``table.md`` and the JSON summary: one
``runs`` entry per learned N (``dynamics`` = ``stackelberg``, game ``oligopoly``) and one for the chain (game
``hierarchy``), ``equilibrium`` = the Stackelberg closed form.

    python -m experiments.n_followers --seeds 8 --steps 3000 --out results/n_followers --json results/n_followers.json
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from agents import NFollowerLeader, PowerSchedule, chain_learners, n_follower_learners, play
from agents.chain import chain_schedules
from agents.n_followers import follower_step_scale
from experiments.common import arg, best_time, markdown_table, parse_args, run_summary, write_json
from experiments.plotting import FORMATS, mean_band, save, setup_matplotlib, spread_caption
from stackenv.envs import BatchedStackelbergEnv
from stackenv.games import make


@dataclass
class Args:
    """Reproduce App. C: N-follower oligopoly (convergence, leader's advantage, cost vs N) and a 3-level chain."""

    seeds: int = arg(8, "number of independent runs per N (one seed each)")
    steps: int = arg(3000, "learning steps K per run")
    out: Path = arg(Path("results/n_followers"), "folder for figures and tables")
    json: Path | None = arg(None, "path of the JSON summary (none: not written)")
    seed: int = arg(0, "base seed; run b uses seed + b")
    ns: list[int] = arg([1, 2, 5, 10, 100, 1000], "numbers of followers N")
    learn_max_n: int = arg(100, "run the learners only for N ≤ this (larger N: exact curves and timings only)")
    A: float = arg(100.0, "demand intercept")
    leader_cost: float = arg(2.0, "the leader's unit cost c_0")
    follower_cost_low: float = arg(2.0, "lowest follower unit cost c_lo")
    follower_cost_spread: float = arg(1.0, "spread of the follower costs (shrunk for large N, see docstring)")
    noise_var: float = arg(0.01, "variance of the gradient noise (every agent)")
    feedback: str = arg(
        "hierarchical",
        "leader's feedback: structured O(N) field or Krylov on dense blocks",
        choices=["hierarchical", "second_order"],
    )
    leader_lr: float = arg(4.0, "a_L: the leader's step in units of 1/μ (reduced-cost curvature)")
    follower_lr: float = arg(1.0, "a_F: the followers' step in units of 1/‖J_F‖₂")
    follower_p: float = arg(0.6, "p_F: decay power of the followers' steps (< 1: faster timescale)")
    follower_k0: float = arg(100.0, "k_F: the followers' steps start decaying after about this many steps")
    chain_costs: list[float] = arg([5.0, 2.0, 3.0], "unit costs of the 3-level chain, top level first")
    timing_ns: list[int] = arg([1, 3, 10, 30, 100, 300, 1000, 2000, 3000, 10000], "N values timed")
    timing_batch: int = arg(256, "batch size of the extra batched timing of the structured update")
    dense_max_n: int = arg(2000, "time the dense (Krylov, LU) leader updates only up to this N")
    record_every: int = arg(10, "store every n-th step of the paths")
    progress: bool = arg(True, "show a progress bar")
    format: str = arg("png", "figure file format", choices=FORMATS)

    def validate(self) -> None:
        if self.seeds < 1 or self.steps < 1 or self.record_every < 1:
            raise ValueError("--seeds, --steps and --record-every must be positive")
        if not self.ns or min(self.ns) < 1 or (self.timing_ns and min(self.timing_ns) < 1):
            raise ValueError(
                f"--ns and --timing-ns must list positive follower counts, got {self.ns}, {self.timing_ns}"
            )
        if self.noise_var < 0:
            raise ValueError(f"--noise-var must be non-negative, got {self.noise_var}")
        if not (self.leader_lr > 0 and self.follower_lr > 0 and self.follower_k0 > 0):
            raise ValueError("--leader-lr, --follower-lr and --follower-k0 must be positive")
        if not 0.5 < self.follower_p < 1:
            raise ValueError(f"--follower-p must lie in (1/2, 1), got {self.follower_p}")
        if len(self.chain_costs) != 3:
            raise ValueError(f"--chain-costs takes three unit costs, got {self.chain_costs}")


# ---------------------------------------------------------------------------------------------- setup
def follower_costs(args: Args, N: int) -> np.ndarray:
    """``N`` costs spread linearly over ``[c_lo, c_lo + w_N]``, ``w_N = min(spread, (A − c_lo)/(2(N + 2)))``."""
    width = min(args.follower_cost_spread, (args.A - args.follower_cost_low) / (2 * (N + 2)))
    return np.linspace(args.follower_cost_low, args.follower_cost_low + width, N)


def oligopoly(args: Args, N: int):
    return make("oligopoly", A=args.A, leader_cost=args.leader_cost, follower_costs=follower_costs(args, N))


def reduced_curvature(game, i: int, x: np.ndarray) -> float:
    """Curvature of player i's reduced cost ``x_i ↦ f_i(x_{≤i}, r(x_{≤i}))`` at ``x`` (scalar actions, the levels
    below at their response): the game's reduced Hessian, a Schur complement of ``J_S``."""
    return float(game.reduced_hessian(i, game.jacobian_S(x))[0, 0])


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


def chain_game_and_learners(args: Args):
    """The 3-level chain with ``chain_learners``: default exponents, scales divided by each level's curvature."""
    game = make("hierarchy", A=args.A, costs=args.chain_costs)
    x_star = game.stackelberg_closed_form()
    mus = [reduced_curvature(game, i, x_star) for i in range(game.n)]
    schedules = [PowerSchedule(1.0 / mu, s.p, 1.0) for mu, s in zip(mus, chain_schedules(len(game.levels)))]
    return game, chain_learners(game, schedules), mus


def leader_profit(game, x: np.ndarray) -> np.ndarray:
    return -game.costs(x)[..., 0]


# ---------------------------------------------------------------------------------------------- timing
def time_leader_updates(args: Args) -> dict[str, dict[int, float]]:
    """Seconds per leader update vs N, one run: structured O(N) Df_1 (the game's Sherman–Morrison field, as
    the env computes it under ``hierarchical`` feedback) + the step; the N-follower learner's update on
    ``second_order`` blocks (running block averages and a CG adjoint solve on the dense J_F, O(N²) memory
    traffic); a dense LU adjoint solve (O(N³), the reference the other two avoid). The structured update
    is also timed on ``timing_batch`` runs at once (seconds per run): one run is overhead-bound up to
    N ≈ 10⁴, the batch shows the O(N) work."""
    batched = f"structured O(N), {args.timing_batch} runs batched (per run)"
    out: dict[str, dict[int, float]] = {
        "structured O(N)": {},
        batched: {},
        "Krylov (CG) on dense J_F": {},
        "dense LU solve": {},
    }
    for N in args.timing_ns:
        game = oligopoly(args, N)
        x = game.nash_closed_form()[None]
        for key, B in (("structured O(N)", 1), (batched, args.timing_batch)):
            xb = np.repeat(x, B, axis=0)
            leader = NFollowerLeader(PowerSchedule(1.0, 1.0)).bind(game, "leader", "hierarchical")
            leader.reset(xb[:, :1])
            out[key][N] = (
                best_time(partial(_structured_update, leader, game, xb), 30 if B * N <= 10**6 else 5, warmup=True) / B
            )
        if N > args.dense_max_n:
            continue
        JF, JF1 = game.response_blocks(x, 0)
        g = game.grad(0, x)
        obs = {"grad": g, "H22": JF, "H21": JF1}
        krylov = NFollowerLeader(PowerSchedule(1.0, 1.0)).bind(game, "leader", "second_order")
        krylov.reset(x[:, :1])
        reps = 30 if N <= 300 else 5
        out["Krylov (CG) on dense J_F"][N] = best_time(partial(krylov.update, obs, None, 2), reps, warmup=True)
        out["dense LU solve"][N] = best_time(partial(_dense_lu_df1, g, JF, JF1), reps, warmup=True)
    return out


def _structured_update(leader, game, x: np.ndarray) -> None:
    """The env's O(N) Df_1 (the game's ``omega_S``) and the leader's step on it."""
    leader.update(game.omega_S(x)[:, :1], None, 1)


def _dense_lu_df1(g: np.ndarray, JF: np.ndarray, JF1: np.ndarray) -> np.ndarray:
    """Reference Df_1 by a dense LU adjoint solve ``J_Fᵀ v = ∇_F f_1``: O(N³)."""
    v = np.linalg.solve(np.swapaxes(JF, -1, -2), g[:, 1:, None])[..., 0]
    return g[:, :1] - np.einsum("bmo,bm->bo", JF1, v)


def fit_slope(times: dict[int, float], n_min: int = 100) -> float:
    """Least-squares slope of log(time) vs log(N) over N ≥ n_min (smaller N are overhead-dominated)."""
    ns = np.array([n for n in times if n >= n_min], float)
    if len(ns) < 2:
        return math.nan
    ts = np.array([times[int(n)] for n in ns])
    return float(np.polyfit(np.log(ns), np.log(ts), 1)[0])


# ---------------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> dict:
    args = parse_args(Args, argv)
    args.out.mkdir(parents=True, exist_ok=True)
    noise_std = math.sqrt(args.noise_var)
    ns = sorted(set(args.ns))
    learn_ns = [N for N in ns if N <= args.learn_max_n]
    games = {N: oligopoly(args, N) for N in ns}

    trajs, walls = {}, {}
    jobs = [("oligopoly", N) for N in learn_ns] + [("chain", 3), ("timing", 0)]
    chain_game, chain_tr, chain_mus, timings = None, None, None, {}
    for kind, N in tqdm(jobs, desc="n_followers", disable=not args.progress):
        if kind == "oligopoly":
            game = games[N]
            env = BatchedStackelbergEnv(game, num_envs=args.seeds, feedback=args.feedback, noise_std=noise_std)
            t0 = time.perf_counter()
            trajs[N] = play(
                env,
                learners_for(args, game),
                args.steps,
                record_every=args.record_every,
                seed=args.seed,
                x0=initial_quantities(args, N),
            )
            walls[N] = (time.perf_counter() - t0) / args.steps
        elif kind == "chain":
            chain_game, learners, chain_mus = chain_game_and_learners(args)
            env = BatchedStackelbergEnv(chain_game, num_envs=args.seeds, feedback="hierarchical", noise_std=noise_std)
            chain_tr = play(env, learners, args.steps, record_every=args.record_every, seed=args.seed)
        else:
            timings = time_leader_updates(args)

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
                noise_std=noise_std,
                leader_profit_learned=leader_profit(game, tr.x_final),
                leader_profit_stackelberg=float(leader_profit(game, game.stackelberg_closed_form())),
                leader_profit_nash=float(leader_profit(game, game.nash_closed_form())),
                seconds_per_step=walls[N],
            )
        )
    runs.append(
        run_summary(
            chain_game,
            "stackelberg",
            args.steps,
            chain_tr.x_final,
            chain_game.stackelberg_closed_form(),
            learner="chain",
            levels=len(chain_game.levels),
            noise_std=noise_std,
            reduced_curvatures=chain_mus,
        )
    )
    slopes = {name: fit_slope(t) for name, t in timings.items()}

    table = results_table(games, trajs, walls, chain_game, chain_tr, timings, slopes)
    (args.out / "table.md").write_text(table + "\n")
    plot_convergence(games, trajs, chain_game, chain_tr, args.out / "n_followers_convergence.png", args.format)
    plot_advantage(args, games, trajs, args.out / "n_followers_advantage.png", args.format)
    plot_timing(timings, slopes, args.out / "n_followers_timing.png", args.format)
    print(table)
    summary = {
        "experiment": "n_followers",
        "runs": runs,
        "timing_seconds_per_leader_update": timings,
        "timing_slopes": slopes,
    }
    write_json(args.json, summary)
    return summary


def results_table(games, trajs, walls, chain_game, chain_tr, timings, slopes) -> str:
    """Closed forms, the leader's advantage, where the runs ended, and the cost per step, per N; the chain."""
    rows = []
    for N, game in games.items():
        xs, xn = game.stackelberg_closed_form(), game.nash_closed_form()
        ps, pn = leader_profit(game, xs), leader_profit(game, xn)
        tr = trajs.get(N)
        if tr is not None:
            rel = game.distance(tr.x_final, xs) / np.linalg.norm(xs)
            learned = [
                f"{np.median(tr.x_final[:, 0]):.3f}",
                f"{np.median(leader_profit(game, tr.x_final)):.4g}",
                f"{np.median(rel):.2e}",
                f"{walls[N] * 1e3:.2f}",
            ]
        else:
            learned = ["—", "—", "—", "—"]
        rows.append([f"oligopoly N={N}", f"{xs[0]:.3f}", f"{ps:.4g}", f"{pn:.4g}", f"{ps / pn:.3g}", *learned])
    xs = chain_game.stackelberg_closed_form()
    ps, pn = leader_profit(chain_game, xs), leader_profit(chain_game, chain_game.nash_closed_form())
    rel = chain_game.distance(chain_tr.x_final, xs) / np.linalg.norm(xs)
    rows.append(
        [
            f"chain K={chain_game.n} (q* = {', '.join(f'{v:.3f}' for v in xs)})",
            f"{xs[0]:.3f}",
            f"{ps:.4g}",
            f"{pn:.4g}",
            f"{ps / pn:.3g}",
            f"{np.median(chain_tr.x_final[:, 0]):.3f}",
            f"{np.median(leader_profit(chain_game, chain_tr.x_final)):.4g}",
            f"{np.median(rel):.2e}",
            "—",
        ]
    )
    table = markdown_table(
        [
            "game",
            "leader q₀* (Stackelberg)",
            "leader profit, Stackelberg",
            "leader profit, Nash",
            "advantage ratio",
            "learned q₀ (median)",
            "learned leader profit",
            "median ‖x_K − x*‖/‖x*‖",
            "ms per learning step",
        ],
        rows,
    )
    trows = [
        [name, f"{slopes[name]:.2f}", ", ".join(f"N={n}: {t * 1e6:.3g} µs" for n, t in t_n.items())]
        for name, t_n in timings.items()
    ]
    return table + "\n\n" + markdown_table(["leader update", "fitted slope (N ≥ 100)", "time per update"], trows)


# ---------------------------------------------------------------------------------------------- figures
def _n_colors(plt, ns):
    cmap = plt.get_cmap("viridis")
    return {N: cmap(0.9 * j / max(1, len(ns) - 1)) for j, N in enumerate(ns)}


def plot_convergence(games, trajs, chain_game, chain_tr, path: Path, fmt: str = "png") -> None:
    """(a) relative distance to the Stackelberg point, (b) the leader's relative error, per N; (c) the chain."""
    plt = setup_matplotlib()
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.8))
    colors = _n_colors(plt, list(trajs))
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
    ax = axes[2]
    xs, xn = chain_game.stackelberg_closed_form(), chain_game.nash_closed_form()
    keep = chain_tr.steps >= 1
    k = chain_tr.steps[keep]
    for i, name in enumerate(chain_game.agents):
        y = chain_tr.x[keep, :, i]
        lo, mid, hi = np.percentile(y, [10, 50, 90], axis=1)
        color = f"C{i}"
        ax.plot(k, mid, color=color, lw=1.5, label=f"level {i + 1} ({name})")
        ax.fill_between(k, lo, hi, color=color, alpha=0.15)
        ax.axhline(xs[i], color=color, ls="--", lw=0.9)
        ax.axhline(xn[i], color=color, ls=":", lw=0.9)
    ax.plot([], [], "k--", lw=0.9, label="Stackelberg closed form")
    ax.plot([], [], "k:", lw=0.9, label="Nash (simultaneous) for reference")
    ax.set_xscale("log")
    ax.set_xlabel("iteration k")
    ax.set_ylabel("quantity q_j (units)")
    ax.set_title(f"(c) {chain_game.n}-level chain, costs {tuple(chain_game.costs_.tolist())}")
    ax.legend(fontsize=8)
    fig.suptitle(
        "App. C: two-timescale hierarchical learning with N simultaneous followers (a, b) and a staggered "
        "chain (c); noisy gradients"
    )
    fig.tight_layout()
    save(fig, path, fmt)


def plot_advantage(args: Args, games, trajs, path: Path, fmt: str = "png") -> None:
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
    ax.plot(
        list(games),
        [leader_profit(g, g.stackelberg_closed_form()) for g in games.values()],
        "o",
        mfc="none",
        color="tab:red",
        ms=6,
    )
    for N, tr in trajs.items():
        y = leader_profit(games[N], tr.x_final)
        lo, mid, hi = np.percentile(y, [10, 50, 90])
        ax.errorbar(
            [N],
            [mid],
            yerr=[[mid - lo], [hi - mid]],
            fmt="x",
            color="black",
            ms=8,
            mew=1.6,
            capsize=3,
            label=f"learned: {spread_caption(tr.x.shape[1], 'median')}" if N == min(trajs) else None,
        )
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
        lo, mid, hi = np.percentile(ratio, [10, 50, 90])
        ax.errorbar(
            [N],
            [mid],
            yerr=[[mid - lo], [hi - mid]],
            fmt="x",
            color="tab:red",
            ms=8,
            mew=1.6,
            capsize=3,
            label="learned / exact Nash profit" if N == min(trajs) else None,
        )
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


def plot_timing(timings, slopes, path: Path, fmt: str = "png") -> None:
    """Wall time of one leader update vs N, log-log, with fitted slopes."""
    plt = setup_matplotlib()
    fig, ax = plt.subplots(figsize=(7, 5))
    styles = [("tab:green", "o", "-"), ("tab:green", "o", "--"), ("tab:orange", "s", "-"), ("tab:gray", "^", "-")]
    for (name, t_n), (color, marker, ls) in zip(timings.items(), styles):
        if not t_n:
            continue
        ns = np.array(list(t_n))
        ts = np.array(list(t_n.values()))
        ax.plot(ns, ts * 1e6, marker=marker, color=color, ls=ls, lw=1.3, label=f"{name}: slope {slopes[name]:.2f}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("number of followers N")
    ax.set_ylabel("wall time per leader update (µs, best of repeats)")
    ax.set_title("Cost of the leader's update vs N\n(slopes fitted over N ≥ 100; below, Python overhead dominates)")
    ax.legend(fontsize=8)
    ax.grid(True, which="major", alpha=0.3)
    fig.tight_layout()
    save(fig, path, fmt)


if __name__ == "__main__":
    main()
