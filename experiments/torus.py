"""Fig. 2 of Fiez, Chasnov & Ratliff (§4.2): Nash vs Stackelberg learning in the location game on the torus.

Runs simultaneous gradient play ("nash", γ_{i,k} = 1/√k for both players) and the two-timescale
hierarchical learner ("stackelberg", leader γ_{1,k} = 1/k on its total derivative Df_1, follower
γ_{2,k} = 1/√k) on the batched env with noisy gradient feedback (variance 0.01, i.e. std 0.1, as in
the paper), at the paper's parameters α = (1, 1.3), φ = (π/8, π/8). Figures go to ``--out`` in
``--format`` (png, pdf or svg):

- ``torus_paths.png`` (Fig. 2a–b): sample paths on the unfolded torus [−π, π)² over the first-order
  condition curves — D₁f₁ = 0 (a) resp. Df₁ = 0 (b) for the leader, D₂f₂ = 0 for the follower —
  computed on a grid from the game; equilibria and the other critical points from
  ``stackenv.equilibria``. Paths are unwrapped in time and drawn with their translates by 2π, so a
  path leaving one edge re-enters at the opposite edge instead of cutting across the square;
- ``torus_position_cost.png`` (Fig. 2c–d): (c) positions and (d) costs of both players along one sampled
  initial condition under both dynamics, with the equilibrium values dashed;
- ``torus_basins.png``: the basin of each equilibrium — a ``grid × grid`` lattice of initial joint
  actions run as one batch per dynamics, each cell coloured by the equilibrium (of that dynamics' kind)
  its run ended nearest to; cells that ended farther than ``--converged-tol`` from every equilibrium
  are grey. The figure carries the explanation of its speckle (see :data:`SPECKLE`);
- ``table.md``: the equilibria with the paper's rounded numbers, why each is (not) stable for each field,
  where the seeded runs ended, basin shares.

JSON ``runs``: one entry per (dynamics, equilibrium reached) over the ``--seeds`` runs from uniformly random
initial conditions: each run is assigned to the nearest equilibrium of its dynamics' kind (Nash equilibria
for ``nash``, Stackelberg equilibria for ``stackelberg``); an entry holds the final actions of the runs
assigned to it (``seeds`` = how many), the equilibrium, and the distance statistics to it, plus
``share_of_seeds`` and ``basin_share`` (share of the grid of initialisations that ended nearest to it).
An equilibrium no seeded run reached gets no entry (the table still lists it). Splitting by equilibrium
keeps ``distance_median`` meaningful on a game with two equilibria per dynamics: it measures convergence,
not which basin a seed happened to start in.

    python -m experiments.torus --seeds 32 --steps 5000 --out results/torus --json results/torus.json
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from agents import GradientPlay, HierarchicalLeader, PowerSchedule, play
from experiments.common import arg, markdown_table, parse_args, run_summary, write_json
from experiments.plotting import (
    FORMATS,
    angle_axes,
    draw_periodic_path,
    noise_caption,
    number,
    save,
    setup_matplotlib,
    unwrap_near,
)
from stackenv.envs import BatchedStackelbergEnv
from stackenv.equilibria import critical_points, nash_equilibria, stackelberg_equilibria
from stackenv.games import make

#: The paper's reported equilibria (§4.2), rounded as printed there.
PAPER = {
    "nash": {"x": [(-0.78, 1.18), (1.57, -0.4)], "costs": (-0.77, -1.3)},
    "stackelberg": {"x": [(-0.53, 1.25), (1.31, -0.46)], "costs": (-0.81, -1.05)},
}
KIND = {"nash": "Nash", "stackelberg": "Stackelberg"}
COLORS = {"nash": "tab:blue", "stackelberg": "tab:red"}
EQ_COLORS = ("tab:orange", "tab:green", "tab:purple", "tab:brown")
#: Why the Stackelberg basins are speckled (printed under the basin figure).
SPECKLE = (
    "Speckle in (b) is not noise: it stays with --noise-var 0. The first Stackelberg steps are large "
    "(γ₁,₁ = γ₂,₁ = 1) and Df₁ = ∇₁f₁ − H21 ∇₂f₁ / H22 blows up where the follower's curvature H22 nears 0,\n"
    "so the first wrapped moves jump across the torus and neighbouring initial points land in different basins. "
    "Grey: runs still farther than the tolerance from every equilibrium after K steps "
    "(the leader's 1/k steps are slow)."
)


@dataclass
class Args:
    """Reproduce §4.2 / Fig. 2 (torus): Nash vs Stackelberg learning paths, equilibria and basins."""

    seeds: int = arg(32, "number of independent runs from random initial conditions (one seed each)")
    steps: int = arg(5000, "learning steps K per run (also for the basin grid)")
    out: Path = arg(Path("results/torus"), "folder for figures and tables")
    json: Path | None = arg(None, "path of the JSON summary (none: not written)")
    seed: int = arg(0, "base seed; run b uses seed + b")
    alpha: list[float] = arg([1.0, 1.3], "attraction strengths (α_1, α_2)")
    phi: list[float] = arg([math.pi / 8, math.pi / 8], "preferred locations (φ_1, φ_2), radians")
    noise_var: float = arg(0.01, "variance of the gradient noise (paper: 0.01, i.e. std 0.1)")
    grid: int = arg(25, "basin plot: grid × grid initial joint actions (cell centres of [−π, π)²)")
    converged_tol: float = arg(0.1, "basin plot: runs ending farther than this from every equilibrium are grey")
    paths: int = arg(8, "number of sample paths drawn per panel of the path figure")
    sample: int = arg(0, "index of the seeded run shown in the position/cost figure")
    record_every: int = arg(1, "store every n-th step of the seeded runs' paths")
    progress: bool = arg(True, "show a progress bar")
    format: str = arg("png", "figure file format", choices=FORMATS)

    def validate(self) -> None:
        if self.seeds < 1 or self.steps < 1 or self.record_every < 1:
            raise ValueError("--seeds, --steps and --record-every must be positive")
        if self.grid < 2:
            raise ValueError(f"--grid must be at least 2, got {self.grid}")
        if self.noise_var < 0:
            raise ValueError(f"--noise-var must be non-negative, got {self.noise_var}")
        if self.converged_tol <= 0:
            raise ValueError(f"--converged-tol must be positive, got {self.converged_tol}")
        if len(self.alpha) != 2 or len(self.phi) != 2:
            raise ValueError(f"--alpha and --phi take two values each, got {self.alpha} and {self.phi}")
        if not 0 <= self.sample < self.seeds:
            raise ValueError(f"--sample must index a seeded run (0 ≤ sample < {self.seeds}), got {self.sample}")
        if self.paths < 0:
            raise ValueError(f"--paths must be non-negative, got {self.paths}")


def dynamics() -> dict[str, tuple[dict, str]]:
    """The paper's two learning dynamics (§4.2 step sizes), each with the env feedback mode it runs under."""
    root_k = PowerSchedule(1.0, 0.5)
    return {
        "nash": ({"leader": GradientPlay(root_k), "follower": GradientPlay(root_k)}, "gradient"),
        "stackelberg": (
            {"leader": HierarchicalLeader(PowerSchedule(1.0, 1.0)), "follower": GradientPlay(root_k)},
            "hierarchical",
        ),
    }


def grid_x0(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Cell centres of an ``n × n`` lattice on [−π, π)²: axis values ``(n,)`` and joint actions ``(n², 2)``
    (θ_1 varies along the first axis)."""
    t = -math.pi + (np.arange(n) + 0.5) * 2 * math.pi / n
    return t, np.stack(np.meshgrid(t, t, indexing="ij"), -1).reshape(-1, 2)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(Args, argv)
    args.out.mkdir(parents=True, exist_ok=True)

    # GAME: the torus and its Nash and Stackelberg equilibria (all local ones, by Newton from a grid)
    game = make("torus", alpha=args.alpha, phi=args.phi)
    noise_std = math.sqrt(args.noise_var)
    equilibria = {"nash": nash_equilibria(game), "stackelberg": stackelberg_equilibria(game)}
    targets = {name: np.array([e.x for e in eqs]) for name, eqs in equilibria.items()}
    if any(len(t) == 0 for t in targets.values()):
        raise RuntimeError(f"torus {game.params}: no Nash or no Stackelberg equilibrium found")

    # LEARN: seeded runs (random initial conditions) and the basin grid, per dynamics
    axis, x0_grid = grid_x0(args.grid)
    trajs, grid_trajs = {}, {}
    jobs = [(name, part) for name in dynamics() for part in ("seeds", "grid")]
    for name, part in tqdm(jobs, desc="torus", disable=not args.progress):
        learners, feedback = dynamics()[name]
        if part == "seeds":
            env = BatchedStackelbergEnv(game, num_envs=args.seeds, feedback=feedback, noise_std=noise_std)
            trajs[name] = play(env, learners, args.steps, record_every=args.record_every, seed=args.seed)
        else:
            env = BatchedStackelbergEnv(game, num_envs=len(x0_grid), feedback=feedback, noise_std=noise_std)
            grid_trajs[name] = play(env, learners, args.steps, record_every=args.steps, seed=args.seed, x0=x0_grid)

    # REPORT: which equilibrium each run reached, JSON runs, the table and the figures
    reached = {name: tr.nearest(game, targets[name]) for name, tr in trajs.items()}
    basins = {}
    for name, tr in grid_trajs.items():
        idx, dist = tr.nearest(game, targets[name])
        basins[name] = np.where(dist <= args.converged_tol, idx, -1).reshape(args.grid, args.grid)

    runs = []
    for name, tr in trajs.items():
        idx, _ = reached[name]
        for j, eq in enumerate(equilibria[name]):
            mine = idx == j
            if not mine.any():
                continue
            shares = {"share_of_seeds": float(mine.mean()), "basin_share": float((basins[name] == j).mean())}
            shares["not_converged_share"] = float((basins[name] == -1).mean())
            extra = {"equilibrium_kind": eq.kind, "equilibrium_index": j, "noise_std": noise_std, **shares}
            runs.append(
                run_summary(game, name, args.steps, tr.x_final[mine], eq.x, **extra, seed_indices=np.flatnonzero(mine))
            )

    table = results_table(game, equilibria, trajs, reached, basins)
    (args.out / "table.md").write_text(table + "\n")
    plot_paths(game, trajs, equilibria, args.paths, args.out / "torus_paths.png", args.noise_var, args.format)
    plot_position_cost(game, trajs, equilibria, reached, args.sample, args.out / "torus_position_cost.png", args.format)
    plot_basins(game, axis, basins, equilibria, args, args.out / "torus_basins.png")
    print(table)
    summary = {"experiment": "torus", "runs": runs}
    write_json(args.json, summary)
    return summary


def results_table(game, equilibria, trajs, reached, basins) -> str:
    """Each equilibrium with the paper's numbers, the seeded runs that reached it and its basin share."""
    rows = []
    at_paper = np.allclose(game.alpha, (1.0, 1.3)) and np.allclose(game.phi, (np.pi / 8, np.pi / 8))
    for name, eqs in equilibria.items():
        idx, dist = reached[name]
        for j, eq in enumerate(eqs):
            mine = idx == j
            paper = min(PAPER[name]["x"], key=lambda p: float(game.distance(np.array(p), eq.x)))
            rows.append(
                [
                    name,
                    f"{KIND[name]} {j + 1}",
                    f"({eq.x[0]:.3f}, {eq.x[1]:.3f})",
                    f"({eq.costs[0]:.3f}, {eq.costs[1]:.3f})",
                    stability(eq.classification),
                    f"({paper[0]}, {paper[1]})" if at_paper else "— (other parameters)",
                    f"({PAPER[name]['costs'][0]}, {PAPER[name]['costs'][1]})" if at_paper else "—",
                    f"{int(mine.sum())}/{len(idx)}",
                    f"{np.median(dist[mine]):.3g}" if mine.any() else "—",
                    f"{(basins[name] == j).mean():.1%}",
                ]
            )
        rows.append([name, "not converged", "", "", "", "", "", "", "", f"{(basins[name] == -1).mean():.1%}"])
    return markdown_table(TABLE_HEADERS, rows)


TABLE_HEADERS = (
    "dynamics|equilibrium|exact θ*|exact costs f(θ*)|stable for ω (gradient play) / ω_S (Stackelberg)?|paper θ*|"
    "paper costs|seeded runs reaching it|median distance|basin share (grid)"
).split("|")


def _spectrum(values) -> str:
    return (
        "{"
        + ", ".join(
            number(z.real) if abs(z.imag) < 1e-12 else f"{number(z.real)}±{number(abs(z.imag))}i"
            for z in values
            if z.imag >= -1e-12
        )
        + "}"
    )


def stability(c) -> str:
    """Why a point is or is not a stable attractor of ẋ = −ω and of ẋ = −ω_S: a point that is not a zero of
    the field cannot be one, whatever the eigenvalues of its Jacobian; at a zero the spectrum decides."""
    parts = []
    for field, critical, stable, eig, residual in (
        ("ω", c.critical_omega, c.stable_simgrad, c.eig_J, c.omega_residual),
        ("ω_S", c.critical_omega_S, c.stable_stackelberg, c.eig_J_S, c.omega_S_residual),
    ):
        jac = "J" if field == "ω" else "J_S"
        if not critical:
            parts.append(f"{field}: no, not a critical point (‖{field}‖ = {number(residual)})")
        else:
            verdict = "yes" if stable else "no"
            parts.append(f"{field}: {verdict}, spec {jac} = {_spectrum(eig)}")
    return "; ".join(parts)


# ---------------------------------------------------------------------------------------------- figures
def foc_fields(game, n: int = 401) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """First-order-condition fields on an ``n × n`` grid of [−π, π]² (edges included, so contours close).

    ``D1f1`` = ∇_1 f_1, ``D2f2`` = ∇_2 f_2 and ``Df1_num`` = Df_1 · H22 = ∇_1 f_1 H22 − H21 ∇_2 f_1: the
    total derivative times the follower's curvature has the same zero set as Df_1 but no pole where
    H22 = 0, so its zero contour does not pick up the sign flip through infinity.
    Arrays are indexed ``[θ_2, θ_1]`` (matplotlib's row/column convention).
    """
    t = np.linspace(-math.pi, math.pi, n)
    X = np.stack(np.meshgrid(t, t, indexing="xy"), -1)  # X[i, j] = (θ_1 = t[j], θ_2 = t[i])
    om = game.omega(X)
    H22, H21 = game.response_blocks(X, 0)
    g1 = game.grad(0, X)
    Df1_num = g1[..., 0] * H22[..., 0, 0] - H21[..., 0, 0] * g1[..., 1]
    return t, {"D1f1": om[..., 0], "D2f2": om[..., 1], "Df1_num": Df1_num}


def _draw_foc(ax, t, fields, leader_key: str) -> None:
    ax.contour(t, t, fields[leader_key], levels=[0.0], colors="black", linewidths=1.3)
    ax.contour(t, t, fields["D2f2"], levels=[0.0], colors="tab:gray", linewidths=1.3, linestyles="--")


def _mark_points(ax, game, equilibria, panel: str) -> None:
    """Equilibria of the panel's kind filled, of the other kind hollow; other critical points as small x."""
    other = "stackelberg" if panel == "nash" else "nash"
    marks, size = {"nash": "*", "stackelberg": "D"}, {"nash": 15, "stackelberg": 8}
    common = dict(mec="black", mew=1.0, ls="none", zorder=5)
    pts = np.array([e.x for e in equilibria[panel]])
    ax.plot(*pts.T, marks[panel], ms=size[panel], color="gold", label=f"{KIND[panel]} equilibria", **common)
    pts = np.array([e.x for e in equilibria[other]])
    ax.plot(*pts.T, marks[other], ms=size[other] * 0.8, mfc="none", label=f"{KIND[other]} equilibria", **common)
    field = "omega" if panel == "nash" else "omega_S"
    eq_x = np.array([e.x for e in equilibria[panel]])
    rest = [c.x for c in critical_points(game, field) if np.min(game.distance(eq_x, c.x)) > 1e-6]
    if rest:
        label = f"other critical points of {'ω' if panel == 'nash' else 'ω_S'}"
        ax.plot(*np.array(rest).T, "x", ms=7, color="black", mew=1.2, ls="none", label=label, zorder=5)


def _angles(values) -> str:
    return ", ".join("π/8" if np.isclose(v, math.pi / 8) else number(v) for v in values)


def _square(ax) -> None:
    angle_axes(ax, "leader's position θ₁ (rad)", "follower's position θ₂ (rad)")


def plot_paths(game, trajs, equilibria, n_paths: int, path: Path, noise_var: float = 0.01, fmt: str = "png") -> None:
    """Fig. 2a–b: sample paths over the first-order-condition curves, equilibria marked."""
    from matplotlib.lines import Line2D

    plt = setup_matplotlib()
    t, fields = foc_fields(game)
    fig, axes = plt.subplots(1, 2, figsize=(13, 7.6))
    for ax, (name, tr), leader_key, letter in zip(axes, trajs.items(), ("D1f1", "Df1_num"), "ab"):
        _draw_foc(ax, t, fields, leader_key)
        cmap = plt.get_cmap("viridis")
        for b in range(min(n_paths, tr.num_runs)):
            c = cmap(b / max(1, n_paths - 1) * 0.9)
            draw_periodic_path(ax, tr.x[:, b], color=c, lw=0.9, alpha=0.85)
            ax.plot(*tr.x[0, b], "o", ms=5, color=c, mec="black", mew=0.5, zorder=4)
        _mark_points(ax, game, equilibria, name)
        _square(ax)
        leader_label = "D₁f₁ = 0 (leader, individual)" if name == "nash" else "Df₁ = 0 (leader, total derivative)"
        handles, labels = ax.get_legend_handles_labels()
        handles = [
            Line2D([], [], color="black", lw=1.3),
            Line2D([], [], color="tab:gray", lw=1.3, ls="--"),
            Line2D([], [], color=cmap(0.4), lw=0.9),
            Line2D([], [], color=cmap(0.4), marker="o", mec="black", mew=0.5, ls="none"),
            *handles,
        ]
        labels = [leader_label, "D₂f₂ = 0 (follower)", "sample paths", "initial points", *labels]
        ax.legend(handles, labels, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2)
        ax.set_title(f"({letter}) {KIND[name]} dynamics: {min(n_paths, tr.num_runs)} sample paths")
    fig.suptitle(
        f"Location game on the torus, α=({', '.join(number(a) for a in game.alpha)}), φ=({_angles(game.phi)}): "
        f"learning paths over {int(trajs['nash'].steps[-1])} steps, gradient {noise_caption(noise_var)}"
    )
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    save(fig, path, fmt)


def plot_position_cost(game, trajs, equilibria, reached, b: int, path: Path, fmt: str = "png") -> None:
    """Fig. 2c–d: (c) positions and (d) costs of both players along one sampled initial condition, under both
    dynamics (Nash blue, Stackelberg red; leader solid, follower dotted), the reached equilibrium's values dashed."""
    plt = setup_matplotlib()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), sharex=True)
    for name, tr in trajs.items():
        keep = tr.steps >= 1
        k = tr.steps[keep]
        eq = equilibria[name][int(reached[name][0][b])]
        for i, (player, style) in enumerate((("leader", "-"), ("follower", ":"))):
            pos = unwrap_near(tr.x[:, b, i], eq.x[i])[keep]
            label = f"{KIND[name]}, player {i + 1} ({player})"
            axes[0].plot(k, pos, style, color=COLORS[name], lw=1.4, label=label)
            axes[0].axhline(eq.x[i], color=COLORS[name], lw=0.8, ls="--", alpha=0.7)
            axes[1].plot(k, tr.costs[keep, b, i], style, color=COLORS[name], lw=1.4, label=label)
            axes[1].axhline(eq.costs[i], color=COLORS[name], lw=0.8, ls="--", alpha=0.7)
    x0 = next(iter(trajs.values())).x[0, b]
    axes[0].set_title("(c) Positions")
    axes[1].set_title("(d) Costs")
    axes[0].set_ylabel(r"position $\theta_i$ (rad, unwrapped)")
    axes[1].set_ylabel(r"cost $f_i(\theta)$")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("iteration k")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=4, fontsize=8)
    fig.suptitle(
        f"Seeded run {b} from θ₀ = ({x0[0]:.2f}, {x0[1]:.2f}); "
        "dashed: the Nash resp. Stackelberg equilibrium it reached"
    )
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    save(fig, path, fmt)


def plot_basins(game, axis, basins, equilibria, args: Args, path: Path) -> None:
    """Basins: each grid initialisation coloured by the equilibrium its run ended nearest to (``args``: the
    tolerance, K, the noise and the file format)."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    tol = args.converged_tol
    plt = setup_matplotlib()
    t, fields = foc_fields(game)
    fig, axes = plt.subplots(1, 2, figsize=(13, 7.6))
    n = len(axis)
    for ax, (name, basin), leader_key, letter in zip(axes, basins.items(), ("D1f1", "Df1_num"), "ab"):
        eqs = equilibria[name]
        cmap = ListedColormap(["lightgray", *EQ_COLORS[: len(eqs)]])
        # basin[i, j]: θ_1 = axis[i], θ_2 = axis[j]; imshow wants rows = θ_2
        square = (-math.pi, math.pi, -math.pi, math.pi)
        shown = {"vmin": -0.5, "vmax": len(eqs) + 0.5, "interpolation": "nearest", "alpha": 0.75}
        ax.imshow(basin.T + 1, origin="lower", extent=square, cmap=cmap, **shown)
        _draw_foc(ax, t, fields, leader_key)
        _mark_points(ax, game, equilibria, name)
        _square(ax)
        shares = [
            f"→ {KIND[name]} eq. ({e.x[0]:.2f}, {e.x[1]:.2f}): {(basin == j).mean():.0%}" for j, e in enumerate(eqs)
        ]
        patches = [Patch(color=EQ_COLORS[j], alpha=0.75, label=label) for j, label in enumerate(shares)]
        patches.append(Patch(color="lightgray", label=f"not within {tol:g} of either: {(basin == -1).mean():.0%}"))
        handles, labels = ax.get_legend_handles_labels()
        below = {"fontsize": 7.5, "loc": "upper center", "bbox_to_anchor": (0.5, -0.1), "ncol": 2}
        ax.legend([*patches, *handles], [p.get_label() for p in patches] + labels, **below)
        ax.set_title(f"({letter}) {KIND[name]} dynamics: basins over {n}×{n} initial points")
    fig.suptitle(
        f"Equilibrium reached after {args.steps} steps from each initial point, gradient "
        f"{noise_caption(args.noise_var)}\n"
        "(lines: first-order conditions as in Fig. 2)"
    )
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.canvas.draw()  # the legends' extents place the caption below them
    to_fig = fig.transFigure.inverted()
    bottom = min(ax.get_legend().get_window_extent().transformed(to_fig).y0 for ax in axes)
    fig.text(0.5, bottom - 0.01, SPECKLE.replace("the tolerance", f"{tol:g}"), ha="center", va="top", fontsize=8.5)
    save(fig, path, args.format)


if __name__ == "__main__":
    main()
