"""The LOLA-style family side by side (issue 13): where each rule ends on the suite's games, and a tournament.

Rules, each in both seats (self-play) with γ_k = lr/(k + k0)^p and otherwise the registry defaults (look-ahead
α = γ_k, CGD's η = γ_k, SGA/consensus weights 1/‖J‖): ``gradient``, ``optimistic``, ``extragradient``,
``lookahead``, ``sos``, ``sga``, ``consensus``, ``cgd``. For reference, two leader rules over a gradient-play
follower (the follower on the faster timescale p, the leader on p_slow): ``hierarchical`` (the Stackelberg
learner, eqs. 5–7) and ``lola`` (Fiez et al.'s §2.2.2 form, η = 0.1).

Games: ``duopoly``, ``torus``, ``zero_sum`` (instances ``prop2`` and ``spurious``) and the default
``quadratic``, with noisy feedback (``--noise-std`` on every feedback entry) from starts uniform in the
domain. For each (game, rule): the median final distance to the nearest Nash point, the nearest Stackelberg
point and the nearest other critical point of ω (``stackenv.equilibria``), and where the runs ended (the
nearest of those points within ``--reach-tol`` × the domain's diameter — at most a quarter of the gap between
the two closest distinct points — else "elsewhere").

Writes ``table.md``; ``zoo_phase_GAME.png`` for the 2-D games (one panel per rule: the rule's noise-free field
at γ = α = η = γ_1, sample paths, Nash/Stackelberg/other critical points marked); ``tournament/`` — the
standard tournament (experiments.bench's rules) with the new rules added as leaders and followers, run through
``experiments.tournament.main``; and the JSON summary: one ``runs`` entry per (game, rule) with ``instance``,
``distance_nash_median``, ``distance_stackelberg_median``, ``distance_other_median`` and ``ended_at``
(shares per label), plus ``tournament`` (its leaderboards).

    python -m experiments.zoo --seeds 16 --steps 2000 --out results/zoo --json results/zoo.json
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from agents import LOLA, GradientPlay, HierarchicalLeader, PowerSchedule, make_learner, play
from agents.differentiable import JointRule, game_blocks
from agents.lola import lola_field
from agents.play import choose_feedback
from experiments import tournament
from experiments.bench import STANDARD_FOLLOWERS, STANDARD_LEADERS
from experiments.common import arg, markdown_table, parse_args, run_summary, write_json
from experiments.plotting import FORMATS, number, save, setup_matplotlib
from stackenv.envs import BatchedStackelbergEnv
from stackenv.equilibria import critical_points, nash_equilibria, stackelberg_equilibria
from stackenv.games import make

SELF_PLAY = ("gradient", "optimistic", "extragradient", "lookahead", "sos", "sga", "consensus", "cgd")
REFERENCE = ("hierarchical", "lola")
NEW_RULES = ("extragradient", "lookahead", "sos", "sga", "consensus", "cgd")
GAMES = {
    "duopoly": ("duopoly", {}),
    "torus": ("torus", {}),
    "prop2": ("zero_sum", {"instance": "prop2"}),
    "spurious": ("zero_sum", {"instance": "spurious"}),
    "quadratic": ("quadratic", {}),
}
MARKERS = {"Nash": ("o", "tab:blue"), "Stackelberg": ("*", "tab:red"), "other critical": ("X", "tab:gray")}


@dataclass
class Args:
    """Every LOLA-style rule on duopoly, torus, zero-sum and quadratic games; phase portraits; a tournament."""

    seeds: int = arg(16, "runs per (game, rule), one seed each")
    steps: int = arg(2000, "learning steps K per run")
    out: Path = arg(Path("results/zoo"), "folder for the table, figures and the tournament")
    json: Path | None = arg(None, "path of the JSON summary (none: not written)")
    seed: int = arg(0, "base seed; run b uses seed + b (initial points and noise)")
    noise_std: float = arg(0.1, "standard deviation of the noise on every feedback entry")
    lr: float = arg(0.5, "step-size scale a of γ_k = a/(k + k0)^p")
    k0: float = arg(10.0, "step-size offset k0")
    p: float = arg(0.6, "decay power of the self-play rules' and the followers' steps")
    p_slow: float = arg(0.8, "decay power of the reference leaders' steps (> p: timescale separation)")
    reach_tol: float = arg(0.01, "a run ended at a point within this fraction of the domain's diameter")
    record_every: int = arg(10, "store every n-th step of the sample paths")
    tournament_seeds: int = arg(8, "seeds per match of the tournament (0: no tournament)")
    tournament_steps: int | None = arg(None, "steps per tournament match (none: --steps)")
    tournament_backend: str = arg("loky", "the tournament's backend", choices=["loky", "sequential"])
    format: str = arg("png", "figure file format", choices=list(FORMATS))
    progress: bool = arg(True, "show a progress bar")

    def validate(self) -> None:
        if self.seeds < 1 or self.steps < 1 or self.record_every < 1 or self.tournament_seeds < 0:
            raise ValueError("--seeds, --steps and --record-every must be positive, --tournament-seeds >= 0")
        if self.tournament_steps is not None and self.tournament_steps < 1:
            raise ValueError(f"--tournament-steps must be positive, got {self.tournament_steps}")
        if not (self.noise_std >= 0 and self.lr > 0 and self.reach_tol > 0 and self.k0 > -1):
            raise ValueError("--noise-std must be >= 0, --lr and --reach-tol positive, --k0 > -1")
        if not (0.5 < self.p < self.p_slow <= 1.0):
            raise ValueError(f"need 1/2 < p < p_slow <= 1, got p={self.p}, p_slow={self.p_slow}")


def learners_for(game, rule: str, args: Args) -> dict:
    """Self-play for the LOLA-style rules; a reference leader over a faster gradient-play follower."""
    fast, slow = PowerSchedule(args.lr, args.p, args.k0), PowerSchedule(args.lr, args.p_slow, args.k0)
    if rule in SELF_PLAY:
        return {a: make_learner(rule, lr=fast) for a in game.agents}
    leader = HierarchicalLeader(slow) if rule == "hierarchical" else LOLA(slow)
    return {game.agents[0]: leader, game.agents[1]: GradientPlay(fast)}


def labelled_points(game) -> dict[str, np.ndarray]:
    """Nash points, Stackelberg points and the other critical points of ω, each ``(P, d)`` (possibly empty)."""
    nash = [e.x for e in nash_equilibria(game)]
    other = [c.x for c in critical_points(game, "omega") if not c.classification.differential_nash]
    stack = [e.x for e in stackelberg_equilibria(game)]
    return {k: np.reshape(np.array(v, float), (-1, game.d)) for k, v in zip(MARKERS, (nash, stack, other))}


def nearest(game, final: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Per run, the distance to the nearest of ``points`` (∞ when there are none)."""
    if len(points) == 0:
        return np.full(len(final), np.inf)
    return np.min(np.stack([game.distance(final, p) for p in points], axis=-1), axis=-1)


def reach_tolerance(game, points: dict[str, np.ndarray], fraction: float) -> float:
    """``fraction`` × the domain's diameter, capped at a quarter of the gap between the two closest distinct
    labelled points (so a run is never "at" two different points)."""
    tol = fraction * float(np.linalg.norm(game.high - game.low))
    pts = np.concatenate([p for p in points.values() if len(p)] or [np.zeros((0, game.d))])
    gaps = [game.distance(a, b) for i, a in enumerate(pts) for b in pts[i + 1 :]]
    gaps = [g for g in gaps if g > 1e-9]
    return min([tol] + [min(gaps) / 4] if gaps else [tol])


def ended_at(game, final: np.ndarray, points: dict[str, np.ndarray], tol: float) -> list[str]:
    """Per run, the labels of the points within ``tol`` (a point can be both Stackelberg and critical), or
    ``"elsewhere"``."""
    near = {k: nearest(game, final, p) <= tol for k, p in points.items()}
    return [", ".join(k for k in points if near[k][b]) or "elsewhere" for b in range(len(final))]


def field(game, rule: str, X: np.ndarray, gamma: float) -> np.ndarray:
    """The rule's noise-free direction at the joint actions ``X`` ``(M, d)`` (the flow is its negative)."""
    if rule == "hierarchical":
        return game.omega_S(X)
    if rule == "lola":
        return lola_field(game, X, 0.1)
    if rule == "extragradient":  # the gradient at the trial point
        return game.omega(game.project(X - gamma * game.omega(X)))
    if rule in ("gradient", "optimistic"):  # optimistic's rest points and limit field are gradient play's
        return game.omega(X)
    learner = make_learner(rule).bind(game, 0, "second_order")
    assert isinstance(learner, JointRule)
    learner.reset(X[:, game.slices[0]])
    return learner.joint_direction(game_blocks(game, X), gamma)


def plot_phase(name: str, game, points, trajs, args: Args, path: Path) -> Path:
    """One panel per rule on a 2-D game: streamlines of the rule's flow, three sample paths, the points."""
    plt = setup_matplotlib()
    rules = list(trajs)
    cols = 5
    fig, axes = plt.subplots(-(-len(rules) // cols), cols, figsize=(3.4 * cols, 3.3 * -(-len(rules) // cols)))
    lo, hi = game.low, game.high
    g1, g2 = np.meshgrid(np.linspace(lo[0], hi[0], 25), np.linspace(lo[1], hi[1], 25))
    X = np.stack([g1.ravel(), g2.ravel()], axis=-1)
    gamma = PowerSchedule(args.lr, args.p, args.k0)(1)
    for ax, rule in zip(axes.ravel(), rules):
        with np.errstate(all="ignore"):
            V = -field(game, rule, X, gamma)
        ax.streamplot(g1, g2, V[:, 0].reshape(g1.shape), V[:, 1].reshape(g1.shape), color="0.75", density=0.8)
        for b in range(min(3, trajs[rule].x.shape[1])):
            ax.plot(trajs[rule].x[:, b, 0], trajs[rule].x[:, b, 1], ".", ms=1.5, color=f"C{b + 2}")
        for label, pts in points.items():
            marker, color = MARKERS[label]
            if len(pts):
                ax.plot(pts[:, 0], pts[:, 1], marker, color=color, ms=9, mec="k", label=label, ls="none")
        ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]), title=f"{rule} (η = 0.1)" if rule == "lola" else rule)
        ax.set_xlabel(f"x_1 ({game.agents[0]})")
        ax.set_ylabel(f"x_2 ({game.agents[1]})")
    for ax in axes.ravel()[len(rules) :]:
        ax.axis("off")
    handles, labels = axes.ravel()[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=len(labels), bbox_to_anchor=(0.5, 0.0))
    fig.suptitle(
        f"{name}: flows −v(x) of each rule (noise-free; look-ahead α, trial step δ and CGD's η = {number(gamma)}), "
        f"3 sample paths (noise std {number(args.noise_std)}, {args.steps} steps)"
    )
    fig.tight_layout()
    return save(fig, path, args.format)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(Args, argv)
    args.out.mkdir(parents=True, exist_ok=True)

    # GAME: the instances and their labelled points
    games = {name: make(g, **params) for name, (g, params) in GAMES.items()}
    points = {name: labelled_points(game) for name, game in games.items()}

    # LEARN: every rule on every game, from starts uniform in the domain (shared by the rules)
    trajs: dict[str, dict] = {name: {} for name in games}
    jobs = [(name, rule) for name in games for rule in SELF_PLAY + REFERENCE]
    for name, rule in tqdm(jobs, desc="zoo", disable=not args.progress):
        game = games[name]
        x0 = game.low + (game.high - game.low) * np.random.default_rng([args.seed, game.d]).random((args.seeds, game.d))
        learners = learners_for(game, rule, args)
        feedback = choose_feedback(game, learners)
        env = BatchedStackelbergEnv(game, num_envs=args.seeds, feedback=feedback, noise_std=args.noise_std)
        trajs[name][rule] = play(env, learners, args.steps, record_every=args.record_every, seed=args.seed, x0=x0)

    # REPORT: runs, the table, phase portraits, the tournament
    runs, rows = [], []
    for name, game in games.items():
        tol = reach_tolerance(game, points[name], args.reach_tol)
        for rule, tr in trajs[name].items():
            dist = {k: nearest(game, tr.x_final, p) for k, p in points[name].items()}
            labels = ended_at(game, tr.x_final, points[name], tol)
            shares = {lab: labels.count(lab) / len(labels) for lab in sorted(set(labels))}
            target = next((p[0] for p in points[name].values() if len(p)), np.full(game.d, np.nan))
            medians = {k: float(np.median(v)) for k, v in dist.items()}
            runs.append(
                run_summary(
                    game,
                    rule,
                    args.steps,
                    tr.x_final,
                    target,
                    instance=name,
                    feedback=tr.feedback,
                    noise_std=args.noise_std,
                    distance_nash_median=medians["Nash"],
                    distance_stackelberg_median=medians["Stackelberg"],
                    distance_other_median=medians["other critical"],
                    ended_at=shares,
                )
            )
            ends = "; ".join(f"{lab} {round(100 * s)}%" for lab, s in shares.items())
            rows.append([name, rule, *(number(medians[k]) if medians[k] < np.inf else "—" for k in MARKERS), ends])
    table = markdown_table(["game", "rule", "to Nash", "to Stackelberg", "to other critical", "ended at"], rows)
    (args.out / "table.md").write_text(table + "\n")
    print(table)
    for name, game in games.items():
        if game.d == 2:
            plot_phase(name, game, points[name], trajs[name], args, args.out / f"zoo_phase_{name}")
    summary = {"experiment": "zoo", "runs": runs}
    if args.tournament_seeds:
        summary["tournament"] = run_tournament(args)
    write_json(args.json, summary)
    return summary


def run_tournament(args: Args) -> dict:
    """The standard tournament (experiments.bench's rules) with the new rules added, through its public CLI."""
    argv = ["--games", "duopoly", "torus", "zero_sum", "--leaders", *STANDARD_LEADERS, *NEW_RULES]
    argv += ["--followers", *STANDARD_FOLLOWERS, *NEW_RULES, "--seeds", str(args.tournament_seeds)]
    steps = args.steps if args.tournament_steps is None else args.tournament_steps
    argv += ["--steps", str(steps), "--out", str(args.out / "tournament"), "--progress", "false"]
    argv += ["--backend", args.tournament_backend]
    with contextlib.redirect_stdout(io.StringIO()):  # its report is in OUT/tournament/report.md
        result = tournament.main(argv)
    return {"leaderboards": result["leaderboards"], "out": str(args.out / "tournament")}


if __name__ == "__main__":
    main()
