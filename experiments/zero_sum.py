"""§2.2 of Fiez, Chasnov & Ratliff (Props. 1–3): gradient play vs hierarchical learning in zero-sum games.

Two shipped instances of ``make("zero_sum", instance=...)``, both with their only critical point at x = 0:

- ``prop2`` (scalar, d = 2): x = 0 is *not* a Nash equilibrium (the leader's ∇²₁₁f = −1 < 0) but a stable
  attractor of gradient play, and — as Prop. 2 predicts — a differential Stackelberg equilibrium that also
  attracts the Stackelberg dynamics ẋ = −ω_S(x). Both learners converge to it.
- ``spurious`` (d_1 = d_2 = 2, d = 4): x = 0 is a stable attractor of gradient play that is neither Nash
  nor Stackelberg — a spurious attractor. By Prop. 3 every stable attractor of ẋ = −ω_S is a differential
  Stackelberg equilibrium, so the hierarchical learner is repelled from it (spec J_S has negative
  eigenvalues) and ends on the box boundary instead.

Learners on the batched env with noisy gradient feedback (default variance 0.01, i.e. std 0.1):
"nash" = simultaneous gradient play, γ_{i,k} = a/(k + k0)^{p_fast} for both players; "stackelberg" =
hierarchical leader on its total derivative Df_1, γ_{1,k} = a/(k + k0)^{p_slow}, over a gradient-play
follower, γ_{2,k} = a/(k + k0)^{p_fast} (p_slow > p_fast: timescale separation, both Robbins–Monro).
Initial joint actions are uniform in [−init, init]^d (one per seed, shared by both dynamics).

Writes ``zero_sum_phase.png`` (streamplots of −ω and −ω_S on the prop2 plane and on the spurious
instance's two coordinate planes (x_{1,j}, x_{2,j}) — the spurious game splits into two scalar games, so
these planes carry the exact 2-D dynamics — with the critical point classified and sample paths
overlaid), ``zero_sum_distance.png`` (distance to the critical point vs k, median over seeds with 10–90% of
seeds shaded, both instances and dynamics; figures in ``--format`` png, pdf or svg), ``table.md`` (the
critical point's classification from
``stackenv.equilibria.classify`` and which attractor each dynamics reached) and the JSON summary: one
``runs`` entry per (instance, dynamics), ``equilibrium`` = the critical point x = 0, with ``instance``,
``reached_share`` (runs ending within ``--reach-tol`` of it) and ``classification``.

    python -m experiments.zero_sum --seeds 32 --steps 3000 --out results/zero_sum --json results/zero_sum.json
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from agents import GradientPlay, HierarchicalLeader, PowerSchedule, play
from experiments.common import arg, markdown_table, parse_args, run_summary, write_json
from experiments.plotting import FORMATS, mean_band, noise_caption, number, save, setup_matplotlib, spread_caption
from stackenv.envs import BatchedStackelbergEnv
from stackenv.equilibria import classify, critical_points
from stackenv.games import make

INSTANCES = ("prop2", "spurious")
COLORS = {"nash": "tab:blue", "stackelberg": "tab:red"}
LABELS = {"nash": "gradient play", "stackelberg": "hierarchical"}


@dataclass
class Args:
    """Reproduce §2.2 (Props. 1–3): gradient play vs hierarchical dynamics on zero-sum games."""

    seeds: int = arg(32, "number of independent runs per instance and dynamics (one seed each)")
    steps: int = arg(3000, "learning steps K per run")
    out: Path = arg(Path("results/zero_sum"), "folder for figures and tables")
    json: Path | None = arg(None, "path of the JSON summary (none: not written)")
    seed: int = arg(0, "base seed; run b uses seed + b (initial points and noise)")
    noise_var: float = arg(0.01, "variance of the gradient noise")
    init: float = arg(2.0, "initial joint actions uniform in [−init, init]^d; also the phase portraits' half-width")
    lr: float = arg(0.5, "step-size scale a")
    k0: float = arg(10.0, "step-size offset k0 (damps the first steps)")
    p_fast: float = arg(0.6, "decay power of the fast steps (gradient play; the follower)")
    p_slow: float = arg(0.8, "decay power of the hierarchical leader's steps (> p_fast)")
    reach_tol: float = arg(0.1, "a run reached the critical point if it ended within this distance")
    paths: int = arg(6, "sample paths overlaid on each phase portrait")
    record_every: int = arg(1, "store every n-th step of the paths")
    progress: bool = arg(True, "show a progress bar")
    format: str = arg("png", "figure file format", choices=FORMATS)

    def validate(self) -> None:
        if self.seeds < 1 or self.steps < 1 or self.record_every < 1:
            raise ValueError("--seeds, --steps and --record-every must be positive")
        if self.noise_var < 0:
            raise ValueError(f"--noise-var must be non-negative, got {self.noise_var}")
        if not (self.init > 0 and self.lr > 0 and self.reach_tol > 0):
            raise ValueError("--init, --lr and --reach-tol must be positive")
        if not (0.5 < self.p_fast < self.p_slow <= 1.0):
            raise ValueError(f"need 1/2 < p_fast < p_slow <= 1, got p_fast={self.p_fast}, p_slow={self.p_slow}")
        if self.k0 <= -1:
            raise ValueError(f"--k0 must exceed −1, got {self.k0}")


def dynamics(args: Args) -> dict[str, tuple[dict, str]]:
    """Gradient play and the two-timescale hierarchical learner, each with its env feedback mode."""
    fast = PowerSchedule(args.lr, args.p_fast, args.k0)
    slow = PowerSchedule(args.lr, args.p_slow, args.k0)
    return {
        "nash": ({"leader": GradientPlay(fast), "follower": GradientPlay(fast)}, "gradient"),
        "stackelberg": ({"leader": HierarchicalLeader(slow), "follower": GradientPlay(fast)}, "hierarchical"),
    }


def ending(game, final: np.ndarray, point: np.ndarray, tol: float) -> np.ndarray:
    """Where each run ended: ``"critical point"``, ``"box boundary"`` or ``"elsewhere"``."""
    near = game.distance(final, point) <= tol
    wall = np.any(np.isclose(final, game.low) | np.isclose(final, game.high), axis=-1)
    return np.where(near, "critical point", np.where(wall, "box boundary", "elsewhere"))


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(Args, argv)
    args.out.mkdir(parents=True, exist_ok=True)
    noise_std = math.sqrt(args.noise_var)

    # GAME: both instances, their one critical point x* = 0 and its classification
    games = {inst: make("zero_sum", instance=inst) for inst in INSTANCES}
    points = {}
    for inst, game in games.items():
        crit = critical_points(game, "omega")
        if len(crit) != 1:
            raise RuntimeError(f"zero_sum {inst}: expected one critical point, found {len(crit)}")
        points[inst] = np.asarray(crit[0].x)
    classes = {inst: classify(game, points[inst]) for inst, game in games.items()}

    # LEARN: both dynamics on both instances, from the same uniform initial points
    trajs: dict[str, dict] = {inst: {} for inst in INSTANCES}
    jobs = [(inst, name) for inst in INSTANCES for name in ("nash", "stackelberg")]
    for inst, name in tqdm(jobs, desc="zero_sum", disable=not args.progress):
        game = games[inst]
        rng = np.random.default_rng([args.seed, game.d])
        x0 = rng.uniform(-args.init, args.init, (args.seeds, game.d))
        learners, feedback = dynamics(args)[name]
        env = BatchedStackelbergEnv(game, num_envs=args.seeds, feedback=feedback, noise_std=noise_std)
        trajs[inst][name] = play(env, learners, args.steps, record_every=args.record_every, seed=args.seed, x0=x0)

    # REPORT: JSON runs (one per instance and dynamics), the table, phase portraits and distances
    runs = []
    for inst, per in trajs.items():
        game = games[inst]
        for name, tr in per.items():
            where = ending(game, tr.x_final, points[inst], args.reach_tol)
            runs.append(
                run_summary(
                    game,
                    name,
                    args.steps,
                    tr.x_final,
                    points[inst],
                    instance=inst,
                    reached_share=float(np.mean(where == "critical point")),
                    boundary_share=float(np.mean(where == "box boundary")),
                    classification=classes[inst].to_dict(),
                    noise_std=noise_std,
                )
            )

    table = results_table(games, points, classes, trajs, args.reach_tol)
    (args.out / "table.md").write_text(table + "\n")
    plot_phase(games, points, classes, trajs, args, args.out / "zero_sum_phase.png")
    plot_distance(games, points, trajs, args.out / "zero_sum_distance.png", args.noise_var, args.format)
    print(table)
    summary = {"experiment": "zero_sum", "runs": runs}
    write_json(args.json, summary)
    return summary


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _eigs(values) -> str:
    vals = []
    for z in values:
        z = complex(z)
        sign = "+" if z.imag >= 0 else "−"
        vals.append(number(z.real) if abs(z.imag) < 1e-12 else f"{number(z.real)}{sign}{number(abs(z.imag))}i")
    return "{" + ", ".join(vals) + "}"


def median_distance(dist: np.ndarray) -> str:
    """The median distance, or how many runs diverged when that makes the median infinite (never ``inf``)."""
    finite = np.isfinite(dist)
    if np.median(np.where(finite, dist, np.inf)) < np.inf:
        return number(np.median(np.where(finite, dist, np.inf)))
    return f"diverged ({int((~finite).sum())}/{len(dist)} runs)"


def results_table(games, points, classes, trajs, tol: float) -> str:
    """The critical point's classification and, per dynamics, where the runs ended."""
    rows = []
    for inst, per in trajs.items():
        c = classes[inst]
        for name, tr in per.items():
            where = ending(games[inst], tr.x_final, points[inst], tol)
            counts = {w: int((where == w).sum()) for w in ("critical point", "box boundary", "elsewhere")}
            dist = games[inst].distance(tr.x_final, points[inst])
            rows.append(
                [
                    inst,
                    _yes(c.differential_nash),
                    _yes(c.differential_stackelberg),
                    f"{_yes(c.stable_simgrad)} {_eigs(c.eig_J)}",
                    f"{_yes(c.stable_stackelberg)} {_eigs(c.eig_J_S)}" if c.eig_J_S is not None else "undefined",
                    name,
                    f"{counts['critical point']}/{len(where)}",
                    f"{counts['box boundary']}/{len(where)}",
                    median_distance(dist),
                ]
            )
    return markdown_table(
        [
            "instance",
            "x*=0 diff. Nash",
            "diff. Stackelberg",
            "stable for ω (spec J)",
            "stable for ω_S (spec J_S)",
            "dynamics",
            f"runs reaching x* (≤ {tol:g})",
            "runs on box boundary",
            "median ‖x_K − x*‖",
        ],
        rows,
    )


# ---------------------------------------------------------------------------------------------- figures
def _planes(games) -> list[tuple[str, int, int, str, str]]:
    """(instance, leader coordinate, follower coordinate, x label, y label) of each phase-portrait plane."""
    d1 = games["spurious"].dims[0]
    planes = [("prop2", 0, 1, _coord(1, None), _coord(2, None))]
    planes += [("spurious", j, d1 + j, _coord(1, j + 1), _coord(2, j + 1)) for j in range(d1)]
    return planes


_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _coord(player: int, j: int | None) -> str:
    """``x₁`` or ``x₁,₂``: player's action, coordinate j (1-based) for vector actions."""
    return f"x{str(player).translate(_SUB)}" + ("" if j is None else "," + str(j).translate(_SUB))


def _plane_stability(game, point, i: int, j: int) -> tuple[bool, bool]:
    """Whether x* attracts ẋ = −ω resp. ẋ = −ω_S restricted to the plane of coordinates (i, j)."""
    idx = np.ix_([i, j], [i, j])
    J, JS = game.jacobian(point)[idx], game.jacobian_S(point)[idx]
    return bool(np.all(np.linalg.eigvals(J).real > 0)), bool(np.all(np.linalg.eigvals(JS).real > 0))


def plot_phase(games, points, classes, trajs, args, path: Path) -> None:
    """Streamplots of −ω (top) and −ω_S (bottom) on each plane, critical point marked, sample paths overlaid."""
    plt = setup_matplotlib()
    planes = _planes(games)
    fig, axes = plt.subplots(2, len(planes), figsize=(5.2 * len(planes), 10.4))
    w = args.init * 1.25
    s = np.linspace(-w, w, 41)
    for col, (inst, i, j, xlab, ylab) in enumerate(planes):
        game, point = games[inst], points[inst]
        c = classes[inst]
        kind = {
            (True, True): "Nash and Stackelberg",
            (False, True): "Stackelberg, not Nash",
            (True, False): "Nash, not Stackelberg",
            (False, False): "neither Nash nor Stackelberg",
        }[(c.differential_nash, c.differential_stackelberg)]
        where = "" if game.d == 2 else f", plane ({xlab}, {ylab})"
        attracts = dict(zip(("nash", "stackelberg"), _plane_stability(game, point, i, j)))
        U, V = np.meshgrid(s, s, indexing="xy")
        X = np.broadcast_to(point, U.shape + (game.d,)).copy()
        X[..., i], X[..., j] = U, V
        for row, (name, field) in enumerate((("nash", game.omega), ("stackelberg", game.omega_S))):
            ax = axes[row, col]
            F = -field(X)
            ax.streamplot(s, s, F[..., i], F[..., j], color="0.6", density=1.1, linewidth=0.7, arrowsize=0.9)
            tr = trajs[inst][name]
            for b in range(min(args.paths, tr.num_runs)):
                ax.plot(
                    tr.x[:, b, i],
                    tr.x[:, b, j],
                    color=COLORS[name],
                    lw=1.0,
                    alpha=0.85,
                    label="sample paths (noisy)" if b == 0 else None,
                )
                ax.plot(
                    tr.x[0, b, i],
                    tr.x[0, b, j],
                    "o",
                    ms=4,
                    color=COLORS[name],
                    mec="black",
                    mew=0.4,
                    label="initial points" if b == 0 else None,
                )
            ax.plot(point[i], point[j], "*", ms=16, color="gold", mec="black", zorder=5, label="critical point x* = 0")
            ax.set_xlim(-w, w)
            ax.set_ylim(-w, w)
            ax.set_aspect("equal")
            ax.set_xlabel(f"leader's action {xlab}")
            ax.set_ylabel(f"follower's action {ylab}")
            sym = "ω" if name == "nash" else "ω_S"
            verdict = "attracts" if attracts[name] else "repels (saddle)"
            ax.set_title(f"{inst}{where}\n{LABELS[name]}, ẋ = −{sym}: x* {verdict}", fontsize=10)
            ax.legend(fontsize=7.5, loc="lower left", framealpha=0.9)
        axes[0, col].set_title(  # three short lines: one long line runs into the next panel's title
            f"{inst}{where}\nx* is {kind} (full game)\n" + axes[0, col].get_title().split("\n")[1], fontsize=10
        )
    fig.suptitle(
        "Phase portraits: gradient play (top) vs hierarchical dynamics (bottom). prop2: a non-Nash Stackelberg "
        "point attracts both (Prop. 2);\nspurious: x* attracts gradient play but repels the hierarchical "
        "dynamics in the (x₁,₂, x₂,₂) plane (Prop. 3). Grey: flow lines of the field."
    )
    fig.tight_layout()
    save(fig, path, args.format)


def plot_distance(games, points, trajs, path: Path, noise_var: float = 0.01, fmt: str = "png") -> None:
    """Distance to the critical point vs k: median over seeds, 10–90% of seeds shaded."""
    plt = setup_matplotlib()
    fig, axes = plt.subplots(1, len(trajs), figsize=(6.2 * len(trajs), 4.5))
    n_seeds = 1
    for ax, (inst, per) in zip(axes, trajs.items()):
        game = games[inst]
        for name, tr in per.items():
            keep = tr.steps >= 1
            n_seeds = tr.x.shape[1]
            d = game.distance(tr.x[keep], points[inst])
            label = f"{LABELS[name]} ({name})"
            mean_band(ax, tr.steps[keep], d, centre="median", color=COLORS[name], lw=1.5, label=label)
        corner = float(np.linalg.norm(np.maximum(np.abs(game.low), np.abs(game.high))))
        ax.axhline(corner, color="black", ls="--", lw=0.8, label=f"box corner (‖x‖ = {number(corner)})")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("iteration k")
        ax.set_ylabel("distance to the critical point ‖x_k − x*‖")
        ax.set_title(f"{inst} (d = {game.d})")
        ax.legend(fontsize=8)
    fig.suptitle(
        f"Convergence to the critical point x* = 0, gradient {noise_caption(noise_var)}: "
        f"{spread_caption(n_seeds, 'median')}"
    )
    fig.tight_layout()
    save(fig, path, fmt)


if __name__ == "__main__":
    main()
