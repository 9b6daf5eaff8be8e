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
(copy b is ``SingleAgentEnv`` over the PettingZoo env seeded seed + b), under the ``Commit`` wrapper below, which
holds one decision for H follower steps — rather than through ``agents.sb3.train_sb3``, which trains on one env
step per decision.

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
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper
from tqdm.auto import tqdm

from agents import BestResponse, ConstantSchedule, GradientPlay
from experiments.common import arg, markdown_table, parse_args, run_summary, write_json
from experiments.plotting import FORMATS, mean_band, noise_caption, save, setup_matplotlib, spread_caption
from stackenv.envs import BatchedStackelbergEnv
from stackenv.games import make
from stackenv.wrappers import SB3VecEnv

#: SAC's initial entropy coefficient for rewards of unit curvature: the α at which SB3's target entropy −1
#: is met by a Gaussian policy, σ² = α = 1 / (2π e³) (docs/derivations.md).
SAC_ENT_COEF = 1.0 / (2 * math.pi * math.e**3)

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


# ---------------------------------------------------------------------------------------------- envs
class Commit(VecEnvWrapper):
    """One leader decision per episode in every copy: the action is held for ``horizon`` steps of the wrapped
    env (the follower adapts meanwhile); the reward is the last step's, and the episode ends after them (give
    the wrapped env ``max_steps=horizon`` so that it resets then). Observations are multiplied by ``obs_scale``,
    rewards divided by ``reward_scale``."""

    def __init__(self, venv: VecEnv, horizon: int, obs_scale: float, reward_scale: float):
        super().__init__(venv)
        self.horizon, self.obs_scale, self.reward_scale = horizon, np.float32(obs_scale), reward_scale

    def reset(self):
        return self.venv.reset() * self.obs_scale

    def step_async(self, actions: np.ndarray) -> None:
        self.actions = actions

    def step_wait(self):
        for _ in range(self.horizon):
            obs, reward, _, infos = self.venv.step(self.actions)
        for info in infos:  # the decision ends the episode (terminated, not truncated)
            info["TimeLimit.truncated"] = False
            if "terminal_observation" in info:
                info["terminal_observation"] = info["terminal_observation"] * self.obs_scale
        done = np.ones(self.num_envs, bool)
        return obs * self.obs_scale, reward / np.float32(self.reward_scale), done, infos


def reward_scale(game) -> float:
    """The curvature of the leader's profit along the follower's response, in [−1, 1] action units
    (docs/derivations.md)."""
    x_stack = game.stackelberg_closed_form()
    kappa = float(game.reduced_hessian(0, game.jacobian_S(x_stack))[0, 0])
    half_range = (float(game.high[0]) - float(game.low[0])) / 2
    return kappa * half_range**2


def make_env(args: Args, game, follower: str, copies: int, train: bool = True) -> tuple[Commit, BatchedStackelbergEnv]:
    """The leader's view of ``copies`` copies, rescaled (module docstring), and the batched env under it. An
    evaluation env (``train=False``) never truncates: its joint actions stay readable after the decision."""
    if follower == "best_response":
        feedback, opponent, horizon = "reward", BestResponse(), 1
    else:
        feedback, opponent, horizon = "gradient", GradientPlay(ConstantSchedule(args.follower_lr)), args.follower_steps
    batched = BatchedStackelbergEnv(
        game, copies, feedback=feedback, noise_std=args.noise_std, max_steps=horizon if train else None
    )
    venv = SB3VecEnv(batched, "leader", {"follower": opponent}, rescale_actions=True)
    scale = args.reward_scale if args.reward_scale is not None else reward_scale(game)
    return Commit(venv, horizon, 1.0 / args.A, scale), batched


def make_model(algo: str, venv: VecEnv, seed: int):
    """SB3 model with settings that learn this one-step bandit in a few thousand steps (module docstring)."""
    from stable_baselines3 import PPO, SAC, TD3
    from stable_baselines3.common.noise import NormalActionNoise

    common = {"seed": seed, "device": "cpu", "verbose": 0}
    if algo == "ppo":
        return PPO(
            "MlpPolicy", venv, n_steps=64, batch_size=64, learning_rate=3e-3, gamma=0.0, gae_lambda=1.0, **common
        )
    off_policy = {"learning_starts": 100, "gamma": 0.0, "gradient_steps": -1, **common}
    if algo == "sac":
        return SAC("MlpPolicy", venv, ent_coef=f"auto_{SAC_ENT_COEF:.6g}", **off_policy)
    noise = NormalActionNoise(np.zeros(1), 0.3 * np.ones(1))
    return TD3("MlpPolicy", venv, action_noise=noise, **off_policy)


def evaluate(model, env: Commit, batched: BatchedStackelbergEnv, game, seed: int) -> tuple[float, np.ndarray, float]:
    """Deterministic policy on one fresh episode per copy (copy e seeded ``seed + e``): mean committed q_1, mean
    final joint action, mean leader profit ``−f_1`` at it (exact, noise-free)."""
    env.seed(seed)
    action, _ = model.predict(env.reset(), deterministic=True)
    env.step(action)
    finals = np.array(batched.x, float)
    return float(finals[:, 0].mean()), finals.mean(axis=0), float(np.mean(-game.costs(finals)[:, 0]))


# ---------------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> dict:
    import torch

    args = parse_args(Args, argv)
    args.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(args.torch_threads)
    game = make("duopoly", A=args.A, c=args.c)
    x_stack, x_nash = game.stackelberg_closed_form(), game.nash_closed_form()

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
