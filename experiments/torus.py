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
  are grey. The figure carries the explanation of its speckle (see ``experiments.torus_figures.SPECKLE``);
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
from experiments.plotting import FORMATS, number
from experiments.torus_figures import KIND, foc_fields, plot_basins, plot_paths, plot_position_cost
from stackenv.envs import BatchedStackelbergEnv
from stackenv.equilibria import nash_equilibria, stackelberg_equilibria
from stackenv.games import make

#: Names this module has always offered (the tests and users import them from here).
__all__ = ["Args", "main", "dynamics", "grid_x0", "results_table", "stability", "foc_fields"]
#: The paper's reported equilibria (§4.2), rounded as printed there.
PAPER = {
    "nash": {"x": [(-0.78, 1.18), (1.57, -0.4)], "costs": (-0.77, -1.3)},
    "stackelberg": {"x": [(-0.53, 1.25), (1.31, -0.46)], "costs": (-0.81, -1.05)},
}


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
    basins_path = args.out / "torus_basins.png"
    plot_basins(
        game, axis, basins, equilibria, args.converged_tol, args.steps, args.noise_var, basins_path, args.format
    )
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


if __name__ == "__main__":
    main()
