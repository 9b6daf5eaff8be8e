"""The figures of ``experiments.torus`` (Fig. 2 of Fiez, Chasnov & Ratliff, §4.2): learning paths over the
first-order-condition curves, positions and costs along one run, and the basins of the equilibria.

Each figure takes the game, the runs and the equilibria (``stackenv.equilibria``) that the script computed; the
first-order-condition curves come from the game (:func:`foc_fields`).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from experiments.plotting import (
    angle_axes,
    draw_periodic_path,
    noise_caption,
    number,
    save,
    setup_matplotlib,
    unwrap_near,
)
from stackenv.equilibria import critical_points

#: Display names of each dynamics' equilibria, its line colours, the basins' colours per equilibrium.
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


def plot_basins(game, axis, basins, equilibria, tol: float, steps: int, noise_var: float, path: Path, fmt: str) -> None:
    """Basins: each grid initialisation coloured by the equilibrium its run ended nearest to (within ``tol``
    after ``steps`` steps at gradient-noise variance ``noise_var``)."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

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
        f"Equilibrium reached after {steps} steps from each initial point, gradient "
        f"{noise_caption(noise_var)}\n"
        "(lines: first-order conditions as in Fig. 2)"
    )
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.canvas.draw()  # the legends' extents place the caption below them
    to_fig = fig.transFigure.inverted()
    bottom = min(ax.get_legend().get_window_extent().transformed(to_fig).y0 for ax in axes)
    fig.text(0.5, bottom - 0.01, SPECKLE.replace("the tolerance", f"{tol:g}"), ha="center", va="top", fontsize=8.5)
    save(fig, path, fmt)
