"""Tournament analysis: normalised costs, Bradley–Terry ratings, leaderboards with one ranking rule, heatmaps.

The result folder (lock, settings record, validated ``matches.csv``) is :mod:`experiments.tournament_store`;
where matches run is :mod:`experiments.tournament_backends`. Both are re-exported here.

Ranking. A leaderboard is ordered by one statistic, named in its ``ranked_by``: the mean normalised cost
(lower is better; the default) or the Bradley–Terry rating (higher is better). Each entry carries a 95%
confidence interval for both, and ``ties`` lists the rules whose interval on the ranking statistic overlaps its
own: their order is not resolved by the data.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from experiments.tournament_backends import run_tasks
from experiments.tournament_store import COLUMNS, KEY, MatchStore, format_value

__all__ = ["COLUMNS", "KEY", "MatchStore", "format_value", "run_tasks"]

#: Statistics a leaderboard can be ranked by (``--rank-by``).
RANK_BY = {"cost": "mean normalised cost (lower is better)", "bt": "Bradley–Terry rating (higher is better)"}


# ---------------------------------------------------------------------- analysis
def _floats(rows, col):
    return np.array([float(r[col]) for r in rows])


def normalised_costs(rows: list[dict[str, str]], role: str) -> np.ndarray:
    """Per game, min–max normalise the role's time-averaged cost over all its matches to [0, 1] (0 = best).

    Diverged matches get 1 (the worst), so a rule is not rewarded for blowing up.
    """
    col = f"{role}_cost"
    out = np.ones(len(rows))
    games = sorted({r["game"] for r in rows})
    for g in games:
        idx = [i for i, r in enumerate(rows) if r["game"] == g and r["diverged"] == "0"]
        if not idx:
            continue
        c = _floats([rows[i] for i in idx], col)
        lo, hi = c.min(), c.max()
        out[idx] = (c - lo) / (hi - lo) if hi > lo else 0.0
    return out


def mean_ci(values: np.ndarray, z: float = 1.96) -> tuple[float, float]:
    """Mean and half-width of a normal-approximation 95% confidence interval."""
    values = np.asarray(values, float)
    if values.size < 2:
        return float(values.mean()) if values.size else float("nan"), float("nan")
    return float(values.mean()), float(z * values.std(ddof=1) / math.sqrt(values.size))


def bradley_terry(wins: np.ndarray, iters: int = 1000, tol: float = 1e-10) -> np.ndarray:
    """Bradley–Terry strengths from a win matrix (``wins[i, j]`` = times i beat j; ties count ½ each).

    Minorisation–maximisation (Hunter 2004, *Ann. Statist.* 32:384) with a weak symmetric prior (one
    virtual tie per pair, so strengths stay finite when a rule never loses). Returns log-strengths
    centred at 0 (Elo-like scale: multiply by 400/ln 10 for Elo points).
    """
    m = wins.shape[0]
    w = wins + 0.5 * (1 - np.eye(m))
    n = w + w.T
    p = np.ones(m)
    for _ in range(iters):
        denom = (n / (p[:, None] + p[None, :])).sum(axis=1)
        new = w.sum(axis=1) / denom
        new /= np.exp(np.mean(np.log(new)))
        if np.max(np.abs(new - p)) < tol:
            p = new
            break
        p = new
    return np.log(p) - np.mean(np.log(p))


def pairwise_wins(rows: list[dict[str, str]], role: str, names: list[str]) -> np.ndarray:
    """Head-to-head wins of ``role`` rules: same game, same opponent rule, same seed → lower cost wins."""
    other = "follower" if role == "leader" else "leader"
    norm = normalised_costs(rows, role)
    groups: dict[tuple, dict[str, float]] = {}
    for r, c in zip(rows, norm):
        groups.setdefault((r["game"], r[other], r["seed"]), {})[r[role]] = c
    idx = {n: i for i, n in enumerate(names)}
    wins = np.zeros((len(names), len(names)))
    for g in groups.values():
        keys = list(g)
        for a in range(len(keys)):
            for b in range(a + 1, len(keys)):
                i, j = idx[keys[a]], idx[keys[b]]
                ca, cb = g[keys[a]], g[keys[b]]
                if ca < cb:
                    wins[i, j] += 1
                elif cb < ca:
                    wins[j, i] += 1
                else:
                    wins[i, j] += 0.5
                    wins[j, i] += 0.5
    return wins


def bradley_terry_se(wins: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Standard errors of the Bradley–Terry log-strengths ``theta`` (centred), from the inverse Fisher information
    of the same likelihood and prior as :func:`bradley_terry`: ``I_ii = Σ_j n_ij p_ij p_ji``,
    ``I_ij = −n_ij p_ij p_ji`` with ``n_ij`` comparisons and ``p_ij`` the fitted win probability; its pseudo-inverse
    is the covariance under the centring constraint ``Σ θ = 0``."""
    m = wins.shape[0]
    w = wins + 0.5 * (1 - np.eye(m))
    n = w + w.T
    p = 1.0 / (1.0 + np.exp(theta[None, :] - theta[:, None]))
    info = -n * p * p.T
    np.fill_diagonal(info, 0.0)
    np.fill_diagonal(info, -info.sum(axis=1))
    return np.sqrt(np.clip(np.diag(np.linalg.pinv(info)), 0.0, None))


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Whether two intervals ``(centre, half-width)`` overlap; an unknown (NaN) half-width overlaps everything."""
    if not (math.isfinite(a[1]) and math.isfinite(b[1])):
        return True
    return abs(a[0] - b[0]) <= a[1] + b[1]


def leaderboard(rows: list[dict[str, str]], role: str, rank_by: str = "cost") -> list[dict[str, Any]]:
    """Per-rule mean normalised cost and Bradley–Terry rating (each with a 95% CI) and divergence rate, ordered by
    ``rank_by`` (see :data:`RANK_BY`); ``rank`` is the position, ``ties`` the rules whose CI on that statistic
    overlaps this rule's."""
    if rank_by not in RANK_BY:
        raise ValueError(f"unknown ranking statistic {rank_by!r}; valid: {', '.join(RANK_BY)}")
    names = sorted({r[role] for r in rows})
    norm = normalised_costs(rows, role)
    bt, se = np.zeros(len(names)), np.full(len(names), np.nan)
    if len(names) > 1:
        wins = pairwise_wins(rows, role, names)
        bt = bradley_terry(wins)
        se = bradley_terry_se(wins, bt)
    elo = 400 / math.log(10)
    board = []
    for k, name in enumerate(names):
        sel = np.array([r[role] == name for r in rows])
        mean, half = mean_ci(norm[sel])
        div = np.mean([rows[i]["diverged"] == "1" for i in np.flatnonzero(sel)])
        board.append(
            {
                "rule": name,
                "matches": int(sel.sum()),
                "mean_normalised_cost": mean,
                "ci95": half,
                "bt_rating": float(bt[k]),
                "bt_ci95": float(1.96 * se[k]),
                "elo": float(1500 + bt[k] * elo),
                "elo_ci95": float(1.96 * se[k] * elo),
                "diverged_rate": float(div),
            }
        )
    if rank_by == "cost":
        board.sort(key=lambda e: (e["mean_normalised_cost"], -e["bt_rating"]))
        interval = {e["rule"]: (e["mean_normalised_cost"], e["ci95"]) for e in board}
    else:
        board.sort(key=lambda e: (-e["bt_rating"], e["mean_normalised_cost"]))
        interval = {e["rule"]: (e["bt_rating"], e["bt_ci95"]) for e in board}
    for k, e in enumerate(board):
        e["rank"] = k + 1
        e["ties"] = [o["rule"] for o in board if o is not e and _overlap(interval[e["rule"]], interval[o["rule"]])]
    return board


def leaderboard_rows(board: list[dict[str, Any]]) -> list[list[Any]]:
    """Table rows of a leaderboard: rank (``=`` marks a rule tied with another — overlapping 95% CIs on the
    ranking statistic), rule, matches, cost ± CI, Elo ± CI, divergence rate."""
    rank = {e["rule"]: e["rank"] for e in board}
    return [
        [
            f"{e['rank']}" + (f" (= {', '.join(str(rank[t]) for t in e['ties'])})" if e["ties"] else ""),
            e["rule"],
            e["matches"],
            e["mean_normalised_cost"],
            e["ci95"],
            e["elo"],
            e["elo_ci95"],
            e["diverged_rate"],
        ]
        for e in board
    ]


LEADERBOARD_HEADERS = [
    "rank",
    "rule",
    "matches",
    "mean normalised cost",
    "95% CI ±",
    "Elo (BT)",
    "95% CI ±",
    "diverged",
]


def heatmap(
    rows: list[dict[str, str]],
    game: str,
    path: str | os.PathLike,
    references: dict[str, list[tuple[float, float]]] | None = None,
    fmt: str = "png",
) -> None:
    """Leader×follower heatmaps of both roles' mean time-averaged cost for one game (``fmt``: png, pdf, svg).

    Means are over the matches that did not diverge (as in the report's tables); a cell with diverged matches
    says how many. ``references`` maps a label (``"Stackelberg"``, ``"Nash"``) to ``(leader cost, follower
    cost)`` at each equilibrium of that kind: they are drawn as lines on the colour bars, whose range is
    widened to hold them (with a margin, and arrowheads beside the bar), so a cell's colour reads against the
    equilibrium costs. Cell values use one positional format (``experiments.plotting.number``).
    """
    from matplotlib import patheffects
    from matplotlib.lines import Line2D

    from experiments.plotting import number, save, setup_matplotlib

    plt = setup_matplotlib()
    references = references or {}
    # one colour and dash per kind (Stackelberg first), outlined in white so a line shows on any colour
    kinds = sorted(references, key=lambda k: k != "Stackelberg")
    styles = {k: dict(zip(("color", "ls"), cs)) for k, cs in zip(kinds, [("tab:red", "-"), ("tab:blue", (0, (2, 1)))])}
    styles.update({k: {"color": "black", "ls": ":"} for k in kinds[2:]})
    outline = [patheffects.withStroke(linewidth=4.5, foreground="white")]
    sub = [r for r in rows if r["game"] == game]
    leaders = sorted({r["leader"] for r in sub})
    followers = sorted({r["follower"] for r in sub})
    fig, axes = plt.subplots(1, 2, figsize=(4 + 1.3 * len(followers) * 2, 2.2 + 0.7 * len(leaders)))
    for k, (ax, role) in enumerate(zip(axes, ("leader", "follower"))):
        M = np.full((len(leaders), len(followers)), np.nan)
        diverged = np.zeros(M.shape, int)
        for i, L in enumerate(leaders):
            for j, F in enumerate(followers):
                cell = [r for r in sub if r["leader"] == L and r["follower"] == F]
                diverged[i, j] = sum(r["diverged"] == "1" for r in cell)
                c = [float(r[f"{role}_cost"]) for r in cell if r["diverged"] == "0"]
                c = [v for v in c if math.isfinite(v)]
                if c:
                    M[i, j] = np.mean(c)
        refs = {label: sorted({round(v[k], 10) for v in vals}) for label, vals in references.items()}
        span = [v for v in M.ravel() if np.isfinite(v)] + [v for vals in refs.values() for v in vals]
        lo, hi = (min(span), max(span)) if span else (0.0, 1.0)
        pad = 0.04 * (hi - lo)  # a reference at either end of the range stays visible inside the bar
        lo, hi = lo - pad, hi + pad
        im = ax.imshow(M, cmap="viridis_r", aspect="auto", vmin=lo, vmax=hi if hi > lo else lo + 1.0)
        ax.set_xticks(range(len(followers)), followers, rotation=30, ha="right")
        ax.set_yticks(range(len(leaders)), leaders)
        ax.set_xlabel("follower rule")
        ax.set_ylabel("leader rule")
        ax.set_title(f"{game}: mean {role} cost (lower is better)")
        for i in range(len(leaders)):
            for j in range(len(followers)):
                text = number(M[i, j])  # one positional format for every cell (-940, -1060)
                if diverged[i, j]:
                    text += f"\n({diverged[i, j]} diverged)"
                # dark text on the light (low-cost, yellow) end of viridis_r, white on the dark end
                light = np.isfinite(M[i, j]) and im.norm(M[i, j]) < 0.5
                ax.text(j, i, text, ha="center", va="center", color="black" if light else "white", fontsize=8)
        bar = fig.colorbar(im, ax=ax, label=f"time-averaged {role} cost")
        for label, vals in refs.items():
            for v in vals:
                bar.ax.axhline(v, lw=2.5, path_effects=outline, **styles[label])
                for side, marker in ((-0.35, ">"), (1.35, "<")):  # arrowheads beside the bar point at the value
                    bar.ax.plot(side, v, marker, ms=7, color=styles[label]["color"], mec="white", clip_on=False)
        bar.ax.set_xlim(0, 1)
    if references:
        handles = [
            Line2D([], [], lw=2.5, path_effects=outline, label=f"{label} equilibrium cost", **styles[label])
            for label in references
        ]
        fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=9, title="on the colour bars")
        fig.tight_layout(rect=(0, min(0.3, 0.8 / fig.get_figheight()), 1, 1))  # ~0.8 in for the legend
    else:
        fig.tight_layout()
    save(fig, path, fmt)
