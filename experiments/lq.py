"""Dynamic Stackelberg games: a lead and a following vehicle, exact feedback equilibria, learners.

Scenario (``PLATOON``): two vehicles on a lane, time step ``dt = 0.2 s``. State ``x = (gap error [m], leader speed
deviation [m/s], follower speed deviation [m/s])``: the gap is 5 m shorter than the follower's safe gap and the
leader drives 2 m/s above the cruise speed. Controls are accelerations [m/s²] within ±3:
``gap⁺ = gap + dt (v_L − v_F)``, ``v_L⁺ = v_L + dt a_L``, ``v_F⁺ = v_F + dt a_F``, speed disturbances
``W = diag(0, 0.01, 0.01)``. The leader wants its cruise speed back and, less, a safe gap behind it
(``Q_L = diag(0.5, 1, 0)``); the follower wants the safe gap and a steady speed (``Q_F = diag(2, 0, 0.5)``);
each pays its own acceleration (``R = 1``). Horizon 10 s (50 stages).

GAME — (a) exact feedback Nash vs feedback Stackelberg costs (``stackenv.games.lq_solve``), noise-free from x0
and expected under the noise. (b) Policy space (``lq_policy``, discount 0.98): gradient play (both players,
``agents.GradientPlay``) and the hierarchical leader (``agents.HierarchicalLeader`` above a faster gradient-play
follower) from ``--seeds`` starts near the stationary feedback Nash gains; gradient play must reach those gains,
the hierarchical leader the policy Stackelberg point (zero of ω_S) — which is not the stationary feedback
Stackelberg point. LEARN — (c) SB3 PPO in the leader seat of ``lq_v0`` (leader first), the follower answering
exactly (``stackelberg_follower``); every ``--timesteps / --evals`` steps the leader's mean cost over
``--eval-episodes`` seeded episodes is compared with the exact feedback Stackelberg leader's on the same noise.

Outputs: ``table.md``, ``lq_policy_learning.png``, ``lq_ppo_gap.png`` and the JSON summary (``runs``: policy-space
learners on ``lq_policy`` with the gains as actions; PPO on ``lq`` with the realised control sequences from x0).

    python -m experiments.lq --seeds 4 --steps 3000 --timesteps 20000 --out results/lq --json results/lq.json
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agents import ConstantSchedule, GradientPlay, HierarchicalLeader, play
from experiments.common import arg, markdown_table, parse_args, run_summary, write_json
from experiments.plotting import mean_band, number, save, setup_matplotlib, spread_caption
from stackenv.envs import BatchedStackelbergEnv, lq_v0
from stackenv.envs.lq import feedback_policy, stackelberg_follower
from stackenv.games import lq_solve, make

DT = 0.2
PLATOON = {
    "A": [[1.0, DT, -DT], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
    "B": [[[0.0], [DT], [0.0]], [[0.0], [0.0], [DT]]],
    "Q": [np.diag([0.5, 1.0, 0.0]).tolist(), np.diag([2.0, 0.0, 0.5]).tolist()],
    "R": [[[[1.0]], [[0.0]]], [[[0.0]], [[1.0]]]],
    "x0": [-5.0, 2.0, 0.0],
    "W": np.diag([0.0, 0.01, 0.01]).tolist(),
}


@dataclass
class Args:
    """Lead and following vehicle: exact feedback Nash vs Stackelberg, policy-space learners, a PPO leader."""

    seeds: int = arg(4, "starts of the policy-space learners, and PPO training runs")
    steps: int = arg(3000, "learning steps of the policy-space learners")
    timesteps: int = arg(20000, "PPO training timesteps (leader decisions)")
    horizon: int = arg(50, "stages of the vehicle game (dt = 0.2 s)")
    discount: float = arg(0.98, "discount of the policy-space (infinite-horizon) game")
    noise_std: float = arg(0.0, "std of the gradient noise of the policy-space learners")
    evals: int = arg(8, "evaluation points along PPO training")
    eval_episodes: int = arg(16, "seeded episodes per evaluation")
    out: Path = arg(Path("results/lq"), "folder for figures and tables")
    json: Path | None = arg(None, "path of the JSON summary (none: not written)")
    format: str = arg("png", "figure format (png, pdf or svg)")
    progress: bool = arg(True, "show progress (unused: the runs are short)")


def newton(field, jac, x: np.ndarray, iters: int = 50) -> np.ndarray:
    """Zero of ``field`` by Newton's method from ``x`` (to polish the policy Stackelberg point)."""
    for _ in range(iters):
        x = x - np.linalg.solve(jac(x), field(x))
    return x


def episode_costs(env, policies: dict, seeds: range) -> np.ndarray:
    """Realised costs ``(len(seeds), N)`` of the AEC env under ``policies`` (one per agent), and the controls."""
    costs, controls = [], []
    for s in seeds:
        env.reset(seed=s)
        total, us = np.zeros(len(env.possible_agents)), []
        while env.agents:
            a = env.agent_selection
            if env.terminations[a]:
                env.step(None)
                continue
            u = np.asarray(policies[a](env.observe(a)), float)
            us.append(u)
            env.step(u)
            total += [env.rewards[b] for b in env.possible_agents] if a == env.possible_agents[-1] else 0.0
        costs.append(-total)
        controls.append(np.concatenate(us))
    return np.array(costs), np.array(controls)


def main(argv: list[str] | None = None) -> dict:
    import torch
    from gymnasium.wrappers import TransformReward
    from stable_baselines3 import PPO

    from stackenv.wrappers import SingleAgentEnv

    args = parse_args(Args, argv)
    args.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    plt = setup_matplotlib()

    # GAME (a): exact feedback equilibria of the finite-horizon vehicle game
    game = make("lq", **PLATOON, horizon=args.horizon, bound=3.0)
    sols = {c: lq_solve.solve(game.model, c) for c in lq_solve.CONCEPTS}
    rows_a = [[c, *np.round(s.costs, 4), *np.round(s.expected_costs, 4)] for c, s in sols.items()]

    # GAME (b): policy space; LEARN with the suite's learners (noise-free unless --noise-std)
    pol = make("lq_policy", **PLATOON, discount=args.discount, low=-20.0, high=20.0)
    k_nash, k_fs = pol.feedback("feedback_nash"), pol.feedback("feedback_stackelberg")
    k_ps = newton(pol.omega_S, pol.jacobian_S, k_fs)  # the policy Stackelberg point: ω_S = 0
    lr = 0.5 / np.abs(np.linalg.eigvals(pol.jacobian(k_nash))).max()  # from the curvature at the Nash gains
    starts = k_nash + 0.05 * np.random.default_rng(0).standard_normal((args.seeds, pol.d))
    trajs = {}
    for name, feedback, leader in (
        ("gradient_play", "gradient", GradientPlay(ConstantSchedule(lr))),
        ("hierarchical", "hierarchical", HierarchicalLeader(ConstantSchedule(lr / 2))),
    ):
        env = BatchedStackelbergEnv(pol, num_envs=args.seeds, feedback=feedback, noise_std=args.noise_std)
        learners = {"leader": leader, "follower": GradientPlay(ConstantSchedule(lr))}
        trajs[name] = play(env, learners, steps=args.steps, seed=0, x0=starts, record_every=10)
    targets = {"gradient_play": k_nash, "hierarchical": k_ps}

    # LEARN (c): PPO leader in lq_v0 against the exact follower answer; gap to the exact leader on the same noise
    exact_env = lq_v0.raw_env(**PLATOON, horizon=args.horizon, bound=3.0)
    answer = stackelberg_follower(game, "follower")
    exact = {"leader": feedback_policy(game, sols["feedback_stackelberg"], "leader"), "follower": answer}
    eval_seeds = range(10_000, 10_000 + args.eval_episodes)
    exact_costs, _ = episode_costs(exact_env, exact, eval_seeds)
    scale = float(sols["feedback_stackelberg"].expected_costs[0]) / args.horizon  # rewards O(1) per stage
    gaps, ts, ppo_controls = [], [], []
    for b in range(args.seeds):
        train = SingleAgentEnv(lq_v0.env(**PLATOON, horizon=args.horizon, bound=3.0), "leader",
                               {"follower": answer}, rescale_actions=True)  # fmt: skip
        model = PPO("MlpPolicy", TransformReward(train, lambda r: r / scale), n_steps=256, batch_size=64,
                    gamma=1.0, seed=b, device="cpu", verbose=0)  # fmt: skip

        def leader(obs, model=model):
            a, _ = model.predict(obs, deterministic=True)
            return -3.0 + (np.clip(a, -1, 1) + 1.0) * 3.0

        g, t = [], []
        chunk = math.ceil(args.timesteps / args.evals)
        while True:
            costs, ctrl = episode_costs(exact_env, {"leader": leader, "follower": answer}, eval_seeds)
            g.append(float(np.mean(costs[:, 0] - exact_costs[:, 0])))
            t.append(model.num_timesteps)
            if model.num_timesteps >= args.timesteps:
                break
            model.learn(min(chunk, args.timesteps - model.num_timesteps), reset_num_timesteps=False)
        quiet = lq_v0.raw_env(**{**PLATOON, "W": None}, horizon=args.horizon, bound=3.0)
        ppo_controls.append(episode_costs(quiet, {"leader": leader, "follower": answer}, range(1))[1][0])
        gaps.append(g)
        ts.append(t)
    gaps, ts = np.array(gaps), np.array(ts[0])
    quiet = lq_v0.raw_env(**{**PLATOON, "W": None}, horizon=args.horizon, bound=3.0)
    eq_controls = episode_costs(quiet, exact, range(1))[1][0]
    order = np.concatenate([np.arange(0, 2 * args.horizon, 2), np.arange(1, 2 * args.horizon, 2)])  # (u_L; u_F)

    # REPORT
    runs = [
        run_summary(
            pol,
            name,
            args.steps,
            trajs[name].x_final,
            targets[name],
            starts=starts,
            stationary_feedback_nash=k_nash,
            stationary_feedback_stackelberg=k_fs,
        )  # fmt: skip
        for name in trajs
    ]
    runs.append(
        run_summary(
            game,
            "ppo_leader_vs_stackelberg_follower",
            args.timesteps,
            np.array(ppo_controls)[:, order],
            eq_controls[order],
            leader_cost_gap=gaps[:, -1],
            gap_curve=gaps,
            timesteps=ts,
            exact_leader_cost=float(exact_costs[:, 0].mean()),
        )  # fmt: skip
    )
    rows_b = [[r["dynamics"], number(r["distance_median"]), number(r["distance_p95"])] for r in runs[:2]]
    rows_c = [[int(t), number(np.median(gaps[:, k])), number(gaps[:, k].min()), number(gaps[:, k].max())]
              for k, t in enumerate(ts)]  # fmt: skip
    ps_cost, fs_cost = pol.costs(k_ps), pol.costs(k_fs)
    table = "\n\n".join([
        "### (a) Lead and following vehicle: exact feedback equilibria (costs of leader, follower)",
        markdown_table(["concept", "f_L", "f_F", "E f_L", "E f_F"], rows_a),
        f"### (b) Policy space (discount {args.discount}): distance of the learned gains to the target",
        markdown_table(["learner (target)", "median distance", "p95 distance"], rows_b),
        f"Policy Stackelberg point: leader cost {number(ps_cost[0], 5)}, distance {number(np.linalg.norm(k_ps - k_fs))}"
        f" from the stationary feedback Stackelberg gains (leader cost there {number(fs_cost[0], 5)}).",
        "### (c) PPO leader: its cost minus the exact feedback Stackelberg leader's (same noise), over training",
        markdown_table(["timesteps", "median gap", "min", "max"], rows_c),
    ])  # fmt: skip
    (args.out / "table.md").write_text(table + "\n")
    print(table)

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for (name, tr), color in zip(trajs.items(), ("tab:blue", "tab:red")):
        dist = np.linalg.norm(tr.x - targets[name], axis=-1)  # (T, seeds)
        mean_band(
            ax,
            tr.steps,
            dist,
            centre="median",
            color=color,
            label=f"{name} → {'Nash' if name[0] == 'g' else 'policy Stackelberg'}",
        )
    ax.set(yscale="log", xlabel="learning step k", ylabel="‖K_k − K*‖",
           title=f"Policy-space learners, vehicle game ({spread_caption(args.seeds, 'median')})")  # fmt: skip
    ax.legend()
    save(fig, args.out / "lq_policy_learning", args.format)

    fig, ax = plt.subplots(figsize=(6, 3.5))
    mean_band(ax, ts, gaps.T, centre="median", color="tab:blue", label="PPO leader")
    ax.axhline(0.0, color="k", ls="--", lw=1, label="exact feedback Stackelberg leader")
    ax.set_yscale("symlog", linthresh=1.0)  # the first evaluation is ~100× the late gaps
    ax.set(xlabel="PPO training timesteps", ylabel=f"leader cost gap (mean of {args.eval_episodes} episodes)",
           title=f"PPO leader in lq_v0 vs the exact leader ({spread_caption(args.seeds, 'median')})")  # fmt: skip
    ax.legend()
    save(fig, args.out / "lq_ppo_gap", args.format)

    summary = {
        "experiment": "lq",
        "runs": runs,
        "scenario": PLATOON,
        "exact": {c: s.to_dict() for c, s in sols.items()},
    }
    write_json(args.json, summary)
    return summary


if __name__ == "__main__":
    main()
