"""RL leaders in the duopoly of Fiez, Chasnov & Ratliff (§4.1): an SB3 agent learns to commit as a Stackelberg leader.

The leader is a Stable-Baselines3 agent (PPO, and SAC or TD3) that *commits* to a quantity once per episode;
the follower then answers:

- ``*_leader_vs_best_response`` — leader-first play (``reward`` feedback; the follower acts after the leader within
  the step): the follower plays its exact best response r(q_1) = (A − q_1 − c_2)/2 (``agents.BestResponse``), so
  each episode is a one-step bandit with reward −f_1(q_1, r(q_1)) (plus reward noise if ``--noise-std`` > 0). Its
  maximiser is the Stackelberg quantity q_1 = (A + c_2 − 2c_1)/2 = 46 at the paper's A = 100, c = (5, 2) — next to
  the centre 50 of the action range, where an untrained policy already commits; ``--c 30 2`` gives q_1 = 21.
- ``*_leader_vs_gradient`` — simultaneous play (the parallel env, ``gradient`` feedback): the follower runs
  ``--follower-steps`` H steps of gradient play (``agents.GradientPlay``, constant step ``--follower-lr``) from a
  random initial quantity while the leader's committed quantity stays fixed — the follower on the fast
  timescale, the leader on the slow one (one decision per episode). The leader's reward is −f_1 at the last
  of those steps; with H large enough the follower has converged to r(q_1) and the optimum is again 46.

Training runs on ``--n-envs`` copies of one ``BatchedStackelbergEnv`` through ``stackenv.wrappers.SB3VecEnv``
(copy b is ``SingleAgentEnv`` over the PettingZoo env seeded seed + b), under the ``Commit`` wrapper of
``experiments.rl_lib``, which holds one decision for H follower steps — rather than through
``agents.sb3.train_sb3``, which trains on one env step per decision.

Scaling and SAC's entropy coefficient, derived from the game (``docs/derivations.md``): actions in [−1, 1] map
linearly onto [0, A], observations are divided by A, rewards by ``--reward-scale`` (default: the leader's
reduced-cost curvature in those action units, :func:`reward_scale`), and SAC starts at the entropy coefficient
``SAC_ENT_COEF`` = 1/(2π e³) at which SB3's target entropy is met, instead of 1, whose pull towards the range's
centre dominated short runs; the off-policy algorithms take one gradient step per collected transition.

Learning curves: every ``timesteps / evals`` training steps the deterministic policy is evaluated on
``--eval-episodes`` fresh episodes; the evaluated committed quantity q_1, the joint action the episode ended
at, and the leader's profit are recorded (median and 10–90% band over seeds in ``rl_learning_curves.png``,
Stackelberg and Nash values dashed). ``table.md`` lists where each (algorithm, follower) pair ended.

JSON ``runs``: one entry per (algorithm, follower), ``dynamics`` like ``ppo_leader_vs_best_response``,
``steps`` = training timesteps, ``final_actions`` = the evaluated joint action per seed (mean over the
evaluation episodes), ``equilibrium`` = the Stackelberg point (46, 26), plus ``leader_quantity`` and
``leader_profit`` per seed.

    python -m experiments.rl --seeds 3 --timesteps 4000 --out results/rl --json results/rl.json
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from experiments.common import arg, markdown_table, parse_args, run_summary, write_json
from experiments.plotting import FORMATS, mean_band, noise_caption, save, setup_matplotlib, spread_caption
from experiments.rl_lib import SAC_ENT_COEF, Commit, evaluate, make_env, make_model, reward_scale
from stackenv.games import make

#: Names this module has always offered (the tests and users import them from here).
__all__ = ["Args", "main", "SAC_ENT_COEF", "Commit", "evaluate", "make_env", "make_model", "reward_scale"]

ALGOS = ("ppo", "sac", "td3")
FOLLOWERS = ("best_response", "gradient")
COLORS = {"ppo": "tab:blue", "sac": "tab:red", "td3": "tab:green"}


@dataclass
class Args:
    """RL leaders (SB3 PPO and SAC/TD3) learn to commit to the Stackelberg quantity in the duopoly (§4.1)."""

    seeds: int = arg(3, "independent training runs per (algorithm, follower)")
    steps: int = arg(0, "if > 0: training timesteps of every algorithm (overrides the two options below)")
    timesteps: int = arg(4000, "training timesteps (leader decisions) of on-policy algorithms (PPO)")
    off_policy_timesteps: int = arg(1500, "training timesteps of off-policy algorithms (SAC, TD3)")
    out: Path = arg(Path("results/rl"), "folder for figures and tables")
    format: str = arg("png", "figure file format", choices=FORMATS)
    json: Path | None = arg(None, "path of the JSON summary (none: not written)")
    seed: int = arg(0, "base seed; run b uses seed + b")
    algos: list[str] = arg(["ppo", "sac"], "SB3 algorithms for the leader", choices=list(ALGOS))
    followers: list[str] = arg(list(FOLLOWERS), "follower kinds", choices=list(FOLLOWERS))
    A: float = arg(100.0, "demand intercept")
    c: list[float] = arg([5.0, 2.0], "unit costs (c_1, c_2)")
    noise_std: float = arg(0.0, "std of the env noise (on rewards in leader-first play, on gradients otherwise)")
    follower_steps: int = arg(20, "H: gradient-play steps of the follower per leader decision")
    follower_lr: float = arg(0.25, "the gradient-play follower's constant step (stable below 1: its curvature is 2)")
    reward_scale: float | None = arg(
        None, "rewards are divided by this (default: the leader's profit curvature in [-1, 1] action units)"
    )
    n_envs: int = arg(4, "copies of the batched env per training run (SB3VecEnv)")
    evals: int = arg(10, "evaluation points along training")
    eval_episodes: int = arg(4, "episodes per evaluation")
    torch_threads: int = arg(1, "torch threads (small networks: 1 is fastest on a shared CPU)")
    progress: bool = arg(True, "show a progress bar")

    def validate(self) -> None:
        if self.seeds < 1 or self.timesteps < 1 or self.off_policy_timesteps < 1:
            raise ValueError("--seeds, --timesteps and --off-policy-timesteps must be positive")
        if self.steps < 0:
            raise ValueError(f"--steps must be non-negative, got {self.steps}")
        if self.follower_steps < 1 or self.evals < 1 or self.eval_episodes < 1 or self.n_envs < 1:
            raise ValueError("--follower-steps, --evals, --eval-episodes and --n-envs must be positive")
        if not 0 < self.follower_lr < 1:
            raise ValueError(f"--follower-lr must lie in (0, 1) for stable gradient play, got {self.follower_lr}")
        if self.noise_std < 0 or (self.reward_scale is not None and not self.reward_scale > 0):
            raise ValueError("--noise-std must be non-negative and --reward-scale positive")
        if len(self.c) != 2:
            raise ValueError(f"--c takes two unit costs, got {self.c}")
        if not self.algos or not self.followers:
            raise ValueError("--algos and --followers must name at least one each")


# ---------------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> dict:
    import torch

    args = parse_args(Args, argv)
    args.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(args.torch_threads)

    # GAME: the duopoly and its closed forms (the Stackelberg point is the target)
    game = make("duopoly", A=args.A, c=args.c)
    x_stack, x_nash = game.stackelberg_closed_form(), game.nash_closed_form()

    # LEARN: one SB3 leader per (algorithm, follower, seed), evaluated before training and after every chunk
    curves: dict[tuple[str, str], dict] = {}
    jobs = [(algo, follower, b) for algo in args.algos for follower in args.followers for b in range(args.seeds)]
    for algo, follower, b in tqdm(jobs, desc="rl", disable=not args.progress):
        seed = args.seed + b
        total = args.timesteps if algo == "ppo" else args.off_policy_timesteps
        total = args.steps if args.steps > 0 else total
        venv, _ = make_env(args, game, follower, args.n_envs)
        venv.seed(seed)
        eval_env, eval_batched = make_env(args, game, follower, args.eval_episodes, train=False)
        model = make_model(algo, venv, seed)
        rec = curves.setdefault((algo, follower), {"t": [], "q1": [], "profit": [], "final": []})
        ts, q1s, profits = [], [], []
        chunk = math.ceil(total / args.evals)
        while True:  # evaluate before training and after every chunk
            q, final, p = evaluate(model, eval_env, eval_batched, game, 10_000 + seed)
            ts.append(model.num_timesteps)
            q1s.append(q)
            profits.append(p)
            if model.num_timesteps >= total:
                break
            model.learn(min(chunk, total - model.num_timesteps), reset_num_timesteps=False)
        rec["t"].append(ts)
        rec["q1"].append(q1s)
        rec["profit"].append(profits)
        rec["final"].append(final)
        venv.close()

    # REPORT: JSON runs, the table, the learning curves
    runs = []
    for (algo, follower), rec in curves.items():
        finals = np.array(rec["final"])
        runs.append(
            run_summary(
                game,
                f"{algo}_leader_vs_{follower}",
                int(rec["t"][0][-1]),
                finals,
                x_stack,
                algo=algo,
                follower=follower,
                follower_steps=1 if follower == "best_response" else args.follower_steps,
                leader_quantity=finals[:, 0],
                leader_profit=-game.costs(finals)[:, 0],
                nash=x_nash,
                noise_std=args.noise_std,
            )
        )

    table = results_table(game, curves, x_stack, x_nash)
    (args.out / "table.md").write_text(table + "\n")
    plot_curves(game, curves, x_stack, x_nash, args, args.out / "rl_learning_curves")
    print(table)
    summary = {"experiment": "rl", "runs": runs}
    write_json(args.json, summary)
    return summary


def results_table(game, curves, x_stack, x_nash) -> str:
    """Where each (algorithm, follower) pair ended: q_1, the joint action and the leader's profit."""
    prof_s, prof_n = -game.costs(x_stack)[0], -game.costs(x_nash)[0]
    rows = []
    for (algo, follower), rec in curves.items():
        finals = np.array(rec["final"])
        q1 = finals[:, 0]
        profit = -game.costs(finals)[:, 0]
        rows.append(
            [
                f"{algo}_leader_vs_{follower}",
                int(rec["t"][0][-1]),
                f"{np.median(q1):.2f} [{q1.min():.2f}, {q1.max():.2f}]",
                f"({np.median(finals[:, 0]):.2f}, {np.median(finals[:, 1]):.2f})",
                f"{np.median(profit):.1f}",
                f"{np.median(game.distance(finals, x_stack)):.3g}",
            ]
        )
    table = markdown_table(
        [
            "dynamics",
            "timesteps",
            "learned q₁: median [min, max]",
            "final joint action (median)",
            "leader profit",
            "median distance to Stackelberg",
        ],
        rows,
    )
    ref = (
        f"Stackelberg: q = ({x_stack[0]:.2f}, {x_stack[1]:.2f}), leader profit {prof_s:.1f}; "
        f"Nash: q = ({x_nash[0]:.2f}, {x_nash[1]:.2f}), leader profit {prof_n:.1f}."
    )
    return table + "\n\n" + ref


def plot_curves(game, curves, x_stack, x_nash, args: Args, path: Path) -> None:
    """Evaluated committed quantity (top) and the leader's profit shortfall to Stackelberg (bottom, log scale —
    the profit is flat near its maximum) vs training timesteps, per follower kind."""
    plt = setup_matplotlib()
    followers = [f for f in FOLLOWERS if any(key[1] == f for key in curves)]
    fig, axes = plt.subplots(2, len(followers), figsize=(6.5 * len(followers), 8), squeeze=False)
    prof_s, prof_n = -game.costs(x_stack)[0], -game.costs(x_nash)[0]
    titles = {
        "best_response": "follower: exact best response (leader-first play)",
        "gradient": f"follower: {args.follower_steps} gradient-play steps per decision",
    }
    for col, follower in enumerate(followers):
        for (algo, f), rec in curves.items():
            if f != follower:
                continue
            t = np.array(rec["t"][0])
            series = {"q1": np.array(rec["q1"]), "gap": np.maximum(prof_s - np.array(rec["profit"]), 1e-3)}
            for row, key in enumerate(("q1", "gap")):
                label = f"{algo.upper()} ({spread_caption(len(series[key]), 'median')})"
                mean_band(
                    axes[row, col],
                    t,
                    series[key].T,
                    "median",
                    marker="o",
                    ms=3,
                    color=COLORS[algo],
                    lw=1.5,
                    label=label,
                )
        ax = axes[0, col]
        ax.axhline(x_stack[0], color="black", ls="--", lw=1.0, label=f"Stackelberg q₁* = {x_stack[0]:.4g}")
        ax.axhline(x_nash[0], color="gray", ls=":", lw=1.2, label=f"Nash q₁ = {x_nash[0]:.4g}")
        ax.set_ylabel("leader's committed quantity q₁ (units)")
        ax.set_title(titles[follower])
        ax = axes[1, col]
        ax.axhline(prof_s - prof_n, color="gray", ls=":", lw=1.2, label=f"Nash: {prof_s - prof_n:.1f} below")
        ax.set_yscale("log")
        ax.set_ylabel("profit shortfall π₁(Stackelberg) − π₁ (money, log)")
        for ax in axes[:, col]:
            ax.set_xlabel("training timesteps (leader decisions)")
            ax.legend(fontsize=8)
    fig.suptitle(
        f"SB3 leaders in the duopoly (A = {game.A:g}, c = {tuple(game.c.tolist())}, "
        f"{noise_caption(args.noise_std**2)}): deterministic-policy evaluations during training"
    )
    fig.tight_layout()
    save(fig, path, args.format)


if __name__ == "__main__":
    main()
