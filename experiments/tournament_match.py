"""One tournament match block: the game's settings, the learners in their seats, and the row of each match.

Settings. A game's tournament settings are its parameters, the feedback noise's standard deviation
(``noise_std``), the neighbourhood radius (action units) for ``steps_to_neighbourhood``, and the feedback mode
(``None``: the least-information mode that serves both rules, :func:`agents.play.choose_feedback`). They come,
in this order of precedence, from the command line (``--noise-std``, ``--radius``, ``--feedback``), from the
game class (a ``tournament_settings`` dict class attribute, for games of your own), from the paper's choices for
the built-in games (:data:`GAME_SETTINGS`), or from the game's domain: radius 1% of the domain's diameter,
exact feedback (noise 0). ``report.md`` prints each game's settings and where they came from.

Memory. A match keeps what its row needs, not its path: :class:`MeteredEnv` accumulates each seat's cost and
the last step outside the neighbourhood as the env steps — O(B) memory for any number of steps.
"""

from __future__ import annotations

import inspect
import math
import warnings
from typing import Any

import numpy as np

from agents import PowerSchedule, learner_spec, make_learner, play
from agents.play import choose_feedback
from experiments.tournament_backends import import_plugins
from stackenv.envs import BatchedStackelbergEnv
from stackenv.equilibria import nash_equilibria, stackelberg_equilibria
from stackenv.games import game_class, make

#: The paper's settings for the built-in games (§4.1 duopoly noise variance 10, §4.2 torus 0.01) and
#: instances with interior equilibria for the others.
GAME_SETTINGS: dict[str, dict[str, Any]] = {
    "duopoly": {"params": {}, "noise_std": math.sqrt(10.0), "radius": 1.0},
    "torus": {"params": {}, "noise_std": 0.1, "radius": 0.1},
    "zero_sum": {"params": {"instance": "prop2"}, "noise_std": 0.1, "radius": 0.1},
    "oligopoly": {"params": {"follower_costs": [2.0, 3.0, 4.0]}, "noise_std": 1.0, "radius": 1.0},
    "hierarchy": {"params": {"costs": [5.0, 2.0, 3.0]}, "noise_std": 1.0, "radius": 1.0},
    "quadratic": {"params": {}, "noise_std": 0.1, "radius": 0.1},
}
SETTING_KEYS = ("params", "noise_std", "radius", "feedback")


def settings(name: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The game's tournament settings (``params``, ``noise_std``, ``radius``, ``feedback``, ``source``)."""
    declared = getattr(game_class(name), "tournament_settings", None)
    base, source = (declared, "game") if declared else (GAME_SETTINGS.get(name), "paper")
    if base is None:
        game = make(name)
        base, source = {"radius": 0.01 * float(np.linalg.norm(game.high - game.low)), "noise_std": 0.0}, "domain"
    out = {"params": {}, "feedback": None} | {k: base[k] for k in SETTING_KEYS if k in base}
    out["source"] = {k: source for k in SETTING_KEYS}
    for k, v in (overrides or {}).items():
        if v is not None:
            out[k], out["source"][k] = v, "command line"
    return out


def game_for(name: str, params: dict[str, Any] | None = None):
    """The game with its tournament parameters."""
    return make(name, **(settings(name)["params"] if params is None else params))


def seat_indices(game) -> tuple[list[int], list[int]]:
    """Players in leader seats (with levels below them) and in follower seats (the bottom level)."""
    leader_idx = [i for i in range(game.n) if game.below_coords[game.level_of[i]].size > 0]
    return leader_idx, [i for i in range(game.n) if i not in leader_idx]


#: Step size of every follower rule that takes one: the faster timescale γ_2 = 1/k^{2/3} (the paper's duopoly
#: choice), so γ_1 = 1/k (the leaders' registry default) = o(γ_2) in every pairing, as eq. (1)'s theory needs.
FOLLOWER_LR = PowerSchedule(1.0, 2.0 / 3.0)


def _learners(game, leader: str, follower: str) -> dict:
    """One learner per agent: the leader rule (registry defaults) on every player with levels below, the
    follower rule on the bottom level, on the faster timescale :data:`FOLLOWER_LR` where it takes a step size."""
    leader_idx, _ = seat_indices(game)
    takes_lr = "lr" in inspect.signature(learner_spec(follower).factory).parameters
    out = {}
    for i, agent in enumerate(game.agents):
        if i in leader_idx:
            out[agent] = make_learner(leader)
        else:
            out[agent] = make_learner(follower, lr=FOLLOWER_LR) if takes_lr else make_learner(follower)
    return out


def fits_seats(game, rule: str, leader: bool) -> bool:
    """Whether ``rule`` can play every leader seat (players with levels below) or every bottom seat of ``game``."""
    leader_idx, follower_idx = seat_indices(game)
    return all(make_learner(rule).fits(game, game.agents[i]) for i in (leader_idx if leader else follower_idx))


def feedback_for(game, learners: dict, feedback: str | None) -> str:
    """``feedback`` if every learner can use it in its seat (``None``: the mode :func:`choose_feedback` picks)."""
    if feedback is None:
        return choose_feedback(game, learners)
    for agent, learner in learners.items():
        learner.bind(game, agent, feedback)  # ValueError naming the learner that cannot use it
    return feedback


def compatible(game, leader: str, follower: str, feedback: str | None = None) -> bool:
    """Whether one feedback mode (``feedback``, if given) serves both rules, and each rule fits its seat."""
    try:
        learners = _learners(game, leader, follower)
        feedback_for(game, learners, feedback)
        return all(lr.fits(game, a) for a, lr in learners.items())
    except ValueError:
        return False


def equilibrium_costs(game) -> dict[str, list[tuple[float, float]]]:
    """``{"Stackelberg": [...], "Nash": [...]}``: (leader-seat cost, follower-seat cost) at each equilibrium of
    that kind — the same seat averages as a match's ``leader_cost``/``follower_cost``; kinds the game lacks are
    left out."""
    leader_idx, follower_idx = seat_indices(game)
    out = {}
    for label, eqs in (("Stackelberg", stackelberg_equilibria(game)), ("Nash", nash_equilibria(game))):
        costs = [game.costs(np.asarray(e.x, float)) for e in eqs]
        if costs:
            out[label] = [(float(np.mean(c[leader_idx])), float(np.mean(c[follower_idx]))) for c in costs]
    return out


def equilibrium_points(game) -> tuple[np.ndarray, np.ndarray]:
    """The game's Stackelberg and Nash equilibria as ``(P, d)`` arrays (``P`` may be 0)."""
    stack = np.array([e.x for e in stackelberg_equilibria(game)], float).reshape(-1, game.d)
    return stack, np.array([e.x for e in nash_equilibria(game)], float).reshape(-1, game.d)


def nearest_distance(game, points: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Distance of each joint action in ``x`` (``(..., d)``) to the nearest of ``points`` (inf if none)."""
    if len(points) == 0:
        return np.full(x.shape[:-1], np.inf)
    return game.distance(x[..., None, :], np.asarray(points, float)).min(axis=-1)  # (..., P) distances, nearest


class MeteredEnv(BatchedStackelbergEnv):
    """The batched env that also keeps, per copy, what a match row needs as it steps: the sums of the leader
    seats' and follower seats' mean costs over steps 1..K, and the last step at which the joint action was
    farther than ``radius`` from every point of ``points`` (0: never)."""

    def __init__(self, game, points: np.ndarray, radius: float, **kwargs: Any):
        super().__init__(game, **kwargs)
        self.points, self.radius = points, radius
        self.seats = seat_indices(game)

    def reset(self, seed=None, options=None):
        out = super().reset(seed=seed, options=options)
        self.cost_sums = np.zeros((self.num_envs, 2))
        self.last_outside = np.zeros(self.num_envs, int)
        return out

    def step(self, actions):
        out = super().step(actions)
        costs = self.game.costs(self.x)
        for j, seat in enumerate(self.seats):  # the seat's mean cost (sum / count, as np.mean computes it)
            self.cost_sums[:, j] += costs[:, seat].sum(axis=1) / len(seat)
        outside = nearest_distance(self.game, self.points, self.x) > self.radius
        self.last_outside[outside] = self.t
        return out


def simulate_block(
    game_name: str,
    leader: str,
    follower: str,
    seeds: tuple[int, ...],
    steps: int,
    cfg: dict[str, Any] | None = None,
    imports: tuple[str, ...] = (),
    points: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[dict]:
    """Play one block of consecutive seeds of one (game, leader, follower) cell; one row per seed.

    ``cfg``: the game's settings (:func:`settings`; default: without overrides). ``imports``: plugin modules to
    import first (this runs in the workers). ``points``: the game's :func:`equilibrium_points` (default: found
    here; the tournament finds them once and hands them to every block, so no worker repeats the search)."""
    import_plugins(imports)
    warnings.simplefilter("ignore")  # schedule/safeguard warnings are reported via diagnostics
    cfg = cfg or settings(game_name)
    game = game_for(game_name, cfg["params"])
    learners = _learners(game, leader, follower)
    feedback = feedback_for(game, learners, cfg["feedback"])
    stack, nash = points if points is not None else equilibrium_points(game)
    env = MeteredEnv(
        game,
        np.concatenate([stack, nash]),
        cfg["radius"],
        num_envs=len(seeds),
        feedback=feedback,
        noise_std=cfg["noise_std"],
    )
    traj = play(env, learners, steps, record_every=steps, seed=int(seeds[0]))
    rows = []
    for b, seed in enumerate(seeds):
        stopped = bool(traj.stopped[b])
        reached = -1 if stopped or env.last_outside[b] == steps else int(env.last_outside[b]) + 1
        rows.append(
            {
                "game": game_name,
                "leader": leader,
                "follower": follower,
                "seed": int(seed),
                "steps": steps,
                "final_action": traj.x_final[b],
                "leader_cost": float(env.cost_sums[b, 0] / steps),
                "follower_cost": float(env.cost_sums[b, 1] / steps),
                "dist_stackelberg": float(nearest_distance(game, stack, traj.x_final[b])),
                "dist_nash": float(nearest_distance(game, nash, traj.x_final[b])),
                "steps_to_neighbourhood": reached,
                "diverged": stopped,
                "reason": (traj.stop_reason[b] or "").replace(",", ";"),
            }
        )
    return rows
