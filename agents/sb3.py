"""Stable-Baselines3 adapter: any SB3 algorithm in either role, against learner opponents.

Training happens in SB3's own ``learn()`` on the single-agent view of one role,
``stackenv.wrappers.SingleAgentEnv(env, agent, opponents)``, where the other agents are played by
:class:`~agents.base.Learner` s (or fixed policies). The trained policy then joins any other learner in
``agents.play`` as an :class:`SB3Learner`:

    follower = make_learner("best_response")
    leader = train_sb3("PPO", duopoly_v0.env(feedback="reward", max_steps=1), "leader",
                       {"follower": follower}, total_timesteps=4000, obs_scale=1/100, reward_scale=1/1000)
    traj = play(BatchedStackelbergEnv(game, 64, feedback="reward"), {"leader": leader, "follower": follower}, 100)

What the policy sees. An SB3 policy acts on the observation it was trained on: the agent's observation
under the env's feedback mode (``reward``: the last joint action; ``gradient``/``hierarchical``: its noisy
(total) derivative; ``second_order``: a dict — SB3's ``MultiInputPolicy``), after the optional scaling; in an
AEC env, agents below the top level also see this round's actions of the levels above (``"above"``), which
:class:`SB3Learner` rebuilds from the joint action the play loop hands it. The learner therefore declares
exactly one usable feedback mode — the one it was trained under — and ``bind`` checks the model's action
and observation shapes against the seat (``ValueError`` on a mismatch).

It does not learn inside ``play`` (``update`` only stores the observation): SB3's learning is ``learn()``.

Saved models in any seat. :func:`save_sb3` saves a model with a ``stackenv.json`` entry inside its zip: the game,
agent, feedback mode, action rescaling, observation scale and shapes ``SingleAgentEnv`` trained it with.
``make_learner("sb3:ALGO:PATH")`` (e.g. ``"sb3:ppo:models/leader.zip"``, also a tournament's ``--leaders`` /
``--followers``) loads it as a deterministic :class:`SB3Learner` for that seat; seating it in another game or
agent, or with other observation/action shapes, is a ``ValueError`` naming the difference.
"""

from __future__ import annotations

import functools
import json
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np

from agents.base import FEEDBACK_MODES, Learner, check_feedback


def _algo_class(algo: Any) -> type:
    """An SB3 algorithm class from a class or a name (``"PPO"``, ``"sac"``, ...)."""
    import stable_baselines3

    if isinstance(algo, str):
        names = [n for n in dir(stable_baselines3) if n.isupper() and n != "HER"]
        cls = getattr(stable_baselines3, algo.upper(), None)
        if cls is None or algo.upper() == "HER":
            raise ValueError(f"unknown SB3 algorithm {algo!r}; available: {', '.join(sorted(names))}")
        return cls
    if not isinstance(algo, type) or not callable(getattr(algo, "learn", None)):
        raise ValueError(f"algo must be an SB3 algorithm class or name, got {algo!r}")
    return algo


def _base_env(env: Any) -> Any:
    return getattr(env, "unwrapped", env)


class SB3Learner(Learner):
    """A trained SB3 model playing one agent (no learning inside ``play``).

    Args:
        model: a trained SB3 model (any algorithm).
        feedback: the feedback mode the model was trained under (its observations).
        rescale_actions: the model outputs actions in ``[−1, 1]``, mapped linearly onto the agent's bounds.
        obs_scale: observations are multiplied by this before ``predict`` (as in training).
        above: the model was trained in an AEC env below the top level, so its observation carries this round's
            actions of the levels above (appended to a flat observation, or under the dict key ``"above"``).
        deterministic: use the deterministic policy.
    """

    name = "sb3"
    roles = frozenset({"leader", "follower"})
    needs = "action"

    def __init__(
        self,
        model: Any,
        feedback: str,
        rescale_actions: bool = False,
        obs_scale: float = 1.0,
        above: bool = False,
        deterministic: bool = True,
    ):
        super().__init__()
        if not callable(getattr(model, "predict", None)):
            raise ValueError(f"model must be a trained SB3 model with predict(), got {type(model).__name__}")
        self.model = model
        self.trained_feedback = check_feedback(feedback)
        self.rescale_actions = bool(rescale_actions)
        self.obs_scale = float(obs_scale)
        if not (np.isfinite(self.obs_scale) and self.obs_scale != 0):
            raise ValueError(f"obs_scale must be finite and non-zero, got {obs_scale}")
        self.above, self.deterministic = bool(above), bool(deterministic)
        self.trained_on: dict[str, Any] | None = None  # what save_sb3 recorded (set by load_sb3)

    def fits(self, game: Any, agent: str | int) -> bool:  # type: ignore[override]
        """The role check, and for a loaded model: the game and agent it was trained for."""
        if not super().fits(game, agent):
            return False
        if self.trained_on is None:
            return True
        name = agent if isinstance(agent, str) else game.agents[agent]
        return (game.name, name) == (self.trained_on["game"], self.trained_on["agent"])

    def feedback_modes(self, has_below: bool) -> tuple[str, ...]:  # type: ignore[override]
        """Only the mode the model was trained under."""
        return (self.trained_feedback,)

    def _bind(self) -> None:
        meta = self.trained_on
        if meta is not None and (self.game.name, self.agent) != (meta["game"], meta["agent"]):
            raise ValueError(
                f"SB3 model {meta.get('path', '')} was trained as {meta['agent']!r} of {meta['game']!r}; "
                f"it cannot play {self.agent!r} of {self.game.name!r}"
            )
        shape = tuple(getattr(self.model.action_space, "shape", ()) or ())
        if shape != (self.dim,):
            raise ValueError(
                f"SB3 model's action space has shape {shape} but agent {self.agent!r} acts in {self.dim} dimension(s)"
            )
        game = self.game
        n_above = int(game.level_coords[self.level][0]) if self.level > 0 else 0  # coordinates of the levels above
        self._n_above = n_above if self.above else 0
        space = self.model.observation_space
        if isinstance(space, gymnasium.spaces.Box):
            expected = {"reward": game.d, "gradient": self.dim, "hierarchical": self.dim}.get(self.trained_feedback)
            if expected is not None and space.shape != (expected + self._n_above,):
                raise ValueError(
                    f"SB3 model's observation space has shape {space.shape}, but {self.trained_feedback!r} feedback "
                    f"for agent {self.agent!r} gives ({expected + self._n_above},)"
                )

    def _policy_obs(self, x: np.ndarray | None) -> Any:
        obs = self.last_obs
        if obs is None:
            raise ValueError(f"{self.name} on {self.agent!r}: no observation yet (pass obs to reset)")
        B = self.num_runs
        if isinstance(obs, dict):
            out = {k: np.asarray(v, np.float32) * np.float32(self.obs_scale) for k, v in obs.items()}
            if self._n_above:
                out["above"] = np.asarray(x[:, : self._n_above], np.float32) * self.obs_scale
            return out
        flat = np.asarray(obs, np.float32).reshape(B, -1)
        if self._n_above:
            flat = np.concatenate([flat, np.asarray(x[:, : self._n_above], np.float32)], axis=1)
        return flat * np.float32(self.obs_scale)

    def act(self, x: np.ndarray | None = None) -> np.ndarray:
        live = self.active
        if live.any():
            action, _ = self.model.predict(self._policy_obs(x), deterministic=self.deterministic)
            a = np.asarray(action, float).reshape(self.num_runs, self.dim)
            if self.rescale_actions:
                a = self.low + (np.clip(a, -1.0, 1.0) + 1.0) * (self.high - self.low) / 2.0
            self.x = np.where(live[:, None], self.project(a), self.x)
        return self.x.copy()

    def _step(self, obs: Any, reward: Any, k: int) -> np.ndarray:
        return self.x  # learning happens in SB3's learn()


def train_sb3(
    algo: Any,
    env: Any,
    agent: str,
    opponents: Mapping[str, Any],
    total_timesteps: int,
    *,
    rescale_actions: bool = True,
    obs_scale: float = 1.0,
    reward_scale: float = 1.0,
    policy: str | None = None,
    seed: int | None = None,
    **algo_kwargs: Any,
) -> SB3Learner:
    """Train an SB3 algorithm for ``agent`` against ``opponents`` and return it as an :class:`SB3Learner`.

    Args:
        algo: an SB3 algorithm class or name (``"PPO"``, ``"SAC"``, ``"TD3"``, ``"A2C"``, ``"DDPG"``).
        env: a stackenv PettingZoo parallel or AEC env (give it ``max_steps``: SB3 trains on episodes).
        agent: the role to train.
        opponents: ``{agent: Learner or policy}`` for every other agent (learners are bound, reset every
            episode and updated every step by the single-agent view).
        total_timesteps: passed to ``learn()``.
        rescale_actions: train in ``[−1, 1]`` (mapped onto the agent's bounds).
        obs_scale, reward_scale: multiply observations / rewards during training (costs are often O(10³)).
        policy: SB3 policy name (default ``MlpPolicy``, ``MultiInputPolicy`` for dict observations).
        seed: SB3 seed.
        **algo_kwargs: forwarded to the algorithm's constructor.
    """
    from pettingzoo import AECEnv

    from stackenv.wrappers import SingleAgentEnv

    if int(total_timesteps) != total_timesteps or total_timesteps < 1:
        raise ValueError(f"total_timesteps must be a positive integer, got {total_timesteps!r}")
    if not (np.isfinite(reward_scale) and reward_scale > 0):
        raise ValueError(f"reward_scale must be positive, got {reward_scale}")
    cls = _algo_class(algo)
    base = _base_env(env)
    feedback = getattr(base, "feedback", None)
    if feedback not in FEEDBACK_MODES:
        raise ValueError(f"env must be a stackenv PettingZoo env with a feedback mode, got {type(env).__name__}")
    single: gymnasium.Env = SingleAgentEnv(env, agent=agent, opponents=dict(opponents), rescale_actions=rescale_actions)
    space = single.observation_space
    if obs_scale != 1.0:
        if isinstance(space, gymnasium.spaces.Dict):
            single = gymnasium.wrappers.TransformObservation(
                single, lambda o: {k: np.asarray(v, np.float32) * np.float32(obs_scale) for k, v in o.items()}, space
            )
        else:
            single = gymnasium.wrappers.TransformObservation(
                single, lambda o: np.asarray(o, np.float32) * np.float32(obs_scale), space
            )
    if reward_scale != 1.0:
        single = gymnasium.wrappers.TransformReward(single, lambda r: float(r) * reward_scale)
    if policy is None:
        policy = "MultiInputPolicy" if isinstance(space, gymnasium.spaces.Dict) else "MlpPolicy"
    model = cls(policy, single, seed=seed, verbose=0, **algo_kwargs)
    model.learn(total_timesteps=int(total_timesteps))
    game = base.game
    level = game.level_of[game.agents.index(agent)]
    return SB3Learner(
        model,
        feedback,
        rescale_actions=rescale_actions,
        obs_scale=obs_scale,
        above=isinstance(env, AECEnv) and level > 0,
    )


# ---------------------------------------------------------------------- saved models
META = "stackenv.json"


def save_sb3(model: Any, path: str | os.PathLike, env: Any, obs_scale: float = 1.0) -> Path:
    """Save ``model`` (trained on ``env``, a :class:`~stackenv.wrappers.SingleAgentEnv`) to ``path`` (a ``.zip``)
    with what is needed to seat it again (``stackenv.json`` inside the zip). Returns the path."""
    from stackenv.wrappers import SingleAgentEnv

    if not isinstance(env, SingleAgentEnv):
        raise ValueError(f"env must be the SingleAgentEnv the model was trained on, got {type(env).__name__}")
    game, agent = env.game, env.agent
    feedback = _base_env(env.env).feedback
    path = Path(path).with_suffix(".zip")
    model.save(path)
    meta = {
        "algo": type(model).__name__,
        "game": game.name,
        "params": game.params,
        "agent": agent,
        "roles": sorted(roles_of(game, agent)),
        "feedback": feedback,
        "rescale_actions": bool(env.rescale_actions),
        "obs_scale": float(obs_scale),
        "above": bool(env._aec and game.level_of[game.agents.index(agent)] > 0),
        "observation_shape": list(getattr(model.observation_space, "shape", None) or []),
        "action_shape": list(model.action_space.shape),
    }
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(META, json.dumps(meta, indent=2, default=str))
    return path


def roles_of(game: Any, agent: str) -> frozenset[str]:
    from agents.base import player_roles

    return player_roles(game, game.agents.index(agent))


def parse_sb3_spec(spec: str) -> tuple[str, Path]:
    """``"sb3:ALGO:PATH"`` → ``(ALGO, PATH)``; ``ValueError`` on another form or a missing file."""
    parts = spec.split(":", 2)
    if len(parts) != 3 or parts[0] != "sb3" or not parts[1] or not parts[2]:
        raise ValueError(f"expected sb3:ALGO:PATH (e.g. sb3:ppo:models/leader.zip), got {spec!r}")
    path = Path(parts[2])
    if not path.is_file():
        raise ValueError(f"{spec!r}: no saved model at {path}")
    return parts[1], path


def sb3_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The ``stackenv.json`` that :func:`save_sb3` stored inside a model's zip."""
    try:
        with zipfile.ZipFile(path) as archive:
            meta = json.loads(archive.read(META))
    except (KeyError, zipfile.BadZipFile) as exc:
        raise ValueError(
            f"{path} is not a model saved by agents.sb3.save_sb3 ({exc}): save it with save_sb3(model, path, env) so "
            "the game, agent and observation conventions it was trained with travel with it"
        ) from None
    return {**meta, "path": str(path)}


@functools.lru_cache(maxsize=32)
def _load_model(algo: str, path: str, stamp: tuple[int, int]) -> Any:
    return _algo_class(algo).load(path, device="cpu")


def load_sb3(spec: str) -> SB3Learner:
    """The saved model of ``"sb3:ALGO:PATH"`` as a deterministic :class:`SB3Learner` for the seat it was trained in."""
    algo, path = parse_sb3_spec(spec)
    meta = sb3_metadata(path)
    if _algo_class(algo).__name__ != meta["algo"]:
        raise ValueError(f"{spec!r}: the model at {path} is a {meta['algo']} model, not {algo.upper()}")
    st = path.stat()
    model = _load_model(algo, str(path.resolve()), (st.st_mtime_ns, st.st_size))
    for what, space in (("observation", model.observation_space), ("action", model.action_space)):
        if list(getattr(space, "shape", None) or []) != meta[f"{what}_shape"]:
            raise ValueError(f"{spec!r}: the model's {what} space {space} differs from stackenv.json's")
    learner = SB3Learner(
        model, meta["feedback"], meta["rescale_actions"], meta["obs_scale"], meta["above"], deterministic=True
    )
    learner.trained_on = meta
    return learner


def sb3_spec(spec: str) -> Any:
    """The registry entry (:class:`~agents.registry.LearnerSpec`) of ``"sb3:ALGO:PATH"``: plays the role it was
    trained in."""
    from agents.registry import LearnerSpec

    _, path = parse_sb3_spec(spec)
    meta = sb3_metadata(path)

    def factory() -> SB3Learner:
        return load_sb3(spec)

    return LearnerSpec(spec, factory, frozenset(meta["roles"]), "action", f"saved {meta['algo']} model ({path})")
