"""The SB3 side of ``experiments.rl``: the leader's vectorised view of the duopoly, its models and their evaluation.

``make_env`` wraps ``--n-envs`` copies of one ``BatchedStackelbergEnv`` in ``stackenv.wrappers.SB3VecEnv`` (copy b
is ``SingleAgentEnv`` over the PettingZoo env seeded seed + b) and in :class:`Commit`, which holds one leader
decision for H follower steps; observations and rewards are scaled from the game (``docs/derivations.md``).
``make_model`` builds PPO, SAC or TD3 for this one-step bandit; ``evaluate`` runs the deterministic policy.
"""

from __future__ import annotations

import math

import numpy as np
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from agents import BestResponse, ConstantSchedule, GradientPlay
from stackenv.envs import BatchedStackelbergEnv
from stackenv.wrappers import SB3VecEnv

#: SAC's initial entropy coefficient for rewards of unit curvature: the α at which SB3's target entropy −1
#: is met by a Gaussian policy, σ² = α = 1 / (2π e³) (docs/derivations.md).
SAC_ENT_COEF = 1.0 / (2 * math.pi * math.e**3)


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


def make_env(args, game, follower: str, copies: int, train: bool = True) -> tuple[Commit, BatchedStackelbergEnv]:
    """The leader's view of ``copies`` copies, rescaled (``docs/derivations.md``), and the batched env under it
    (``args``: ``experiments.rl.Args``). An evaluation env (``train=False``) never truncates: its joint actions stay
    readable after the decision."""
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
    """SB3 model with settings that learn this one-step bandit in a few thousand steps (``experiments.rl``)."""
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
