"""Tournament machinery: the match store (incremental, resumable CSV), execution backends, ratings, report.

Kept apart from the script (``experiments/tournament.py``) so the pieces can be tested on their own.

Determinism: a match is the tuple ``(game, leader, follower, seed)``; its result depends on nothing
else (per-copy noise streams and initial actions come from the seed; batching several seeds of one
cell in one numpy array does not change any copy's arithmetic). Rows are appended to
``matches.csv`` and fsync'ed as each task finishes; at the end the table is rewritten sorted, so an
interrupted-then-resumed run ends with byte-for-byte the table an uninterrupted run gives.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

#: Columns of ``matches.csv``, in order.
COLUMNS = [
    "game",
    "leader",
    "follower",
    "seed",
    "steps",
    "final_action",
    "leader_cost",
    "follower_cost",
    "dist_stackelberg",
    "dist_nash",
    "steps_to_neighbourhood",
    "diverged",
    "reason",
]
KEY = ("game", "leader", "follower", "seed")


def format_value(v: Any) -> str:
    """Exact, platform-independent text for a CSV cell (``repr`` of floats round-trips)."""
    if isinstance(v, bool | np.bool_):
        return "1" if v else "0"
    if isinstance(v, float | np.floating):
        v = float(v)
        return repr(v) if math.isfinite(v) else ("nan" if math.isnan(v) else ("inf" if v > 0 else "-inf"))
    if isinstance(v, list | tuple | np.ndarray):
        return "[" + " ".join(format_value(u) for u in np.asarray(v, float).ravel()) + "]"
    return str(v)


class MatchStore:
    """``DIR/matches.csv``: appended row by row, durable after each write, resumable."""

    def __init__(self, out: str | os.PathLike, resume: bool = False):
        self.dir = Path(out)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / "matches.csv"
        self.rows: dict[tuple, dict[str, str]] = {}
        if self.path.exists() and resume:
            self._load()
        elif self.path.exists():
            raise FileExistsError(
                f"{self.path} already exists: pass --resume to continue that run, or choose another --out"
            )
        self._rewrite()

    @staticmethod
    def key_of(row: dict[str, Any]) -> tuple:
        return (str(row["game"]), str(row["leader"]), str(row["follower"]), int(row["seed"]))

    def _load(self) -> None:
        text = self.path.read_text()
        # a kill mid-write can leave a partial last line: keep only newline-terminated, complete rows
        complete = text[: text.rfind("\n") + 1] if "\n" in text else ""
        reader = csv.DictReader(io.StringIO(complete))
        if reader.fieldnames is not None and list(reader.fieldnames) != COLUMNS:
            raise ValueError(f"{self.path}: unexpected columns {reader.fieldnames}; expected {COLUMNS}")
        for row in reader:
            if None in row or any(row.get(c) is None for c in COLUMNS):
                continue
            self.rows[self.key_of(row)] = {c: row[c] for c in COLUMNS}

    def _rewrite(self) -> None:
        tmp = self.path.with_suffix(".csv.tmp")
        with open(tmp, "w", newline="") as fh:
            w = csv.DictWriter(fh, COLUMNS, lineterminator="\n")
            w.writeheader()
            for key in sorted(self.rows):
                w.writerow(self.rows[key])
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def done(self, key: tuple) -> bool:
        return key in self.rows

    def append(self, rows: Iterable[dict[str, Any]]) -> None:
        """Append finished matches and fsync, so a ``kill -9`` right after loses nothing."""
        formatted = [{c: format_value(r[c]) for c in COLUMNS} for r in rows]
        with open(self.path, "a", newline="") as fh:
            w = csv.DictWriter(fh, COLUMNS, lineterminator="\n")
            for row in formatted:
                w.writerow(row)
            fh.flush()
            os.fsync(fh.fileno())
        for row in formatted:
            self.rows[self.key_of(row)] = row

    def finalize(self) -> None:
        """Rewrite the table sorted by (game, leader, follower, seed)."""
        self._rewrite()

    def table(self) -> list[dict[str, str]]:
        return [self.rows[k] for k in sorted(self.rows)]


# ---------------------------------------------------------------------- backends
def run_tasks(
    fn: Callable[..., Any],
    tasks: list[tuple],
    backend: str = "loky",
    n_jobs: int = -1,
    address: str | None = None,
) -> Iterator[Any]:
    """Run ``fn(*task)`` for every task, yielding results as they finish (any order).

    Backends: ``sequential``; ``loky`` (joblib processes on this machine); ``dask`` (a distributed
    cluster at ``address``, or a new local cluster when ``address`` is None); ``ray`` (``ray.init``
    at ``address``, or a local Ray runtime).
    """
    if not tasks:
        return
    if backend == "sequential":
        for t in tasks:
            yield fn(*t)
    elif backend == "loky":
        from joblib import Parallel, delayed

        yield from Parallel(n_jobs=n_jobs, backend="loky", return_as="generator_unordered")(
            delayed(fn)(*t) for t in tasks
        )
    elif backend == "dask":
        yield from _run_dask(fn, tasks, n_jobs, address)
    elif backend == "ray":
        yield from _run_ray(fn, tasks, address)
    else:
        raise ValueError(f"unknown backend {backend!r}; valid: sequential, loky, dask, ray")


def _run_dask(fn, tasks, n_jobs, address):
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - dask is a declared dependency of the dev extra
        raise ValueError("--backend dask needs dask[distributed]: pip install 'stackenv[dask]'") from exc
    cluster = None
    if address is None:
        workers = os.cpu_count() if n_jobs in (-1, None) else n_jobs
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        address = cluster.scheduler_address
    client = Client(address)
    try:
        futures = [client.submit(fn, *t, pure=False) for t in tasks]
        for fut in as_completed(futures):
            yield fut.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _run_ray(fn, tasks, address):
    try:
        import ray
    except ImportError as exc:
        raise ValueError("--backend ray needs Ray: pip install 'stackenv[ray]'") from exc
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
    try:
        remote = ray.remote(fn)
        pending = [remote.remote(*t) for t in tasks]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])
    finally:
        if started:
            ray.shutdown()


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


def leaderboard(rows: list[dict[str, str]], role: str) -> list[dict[str, Any]]:
    """Per-rule mean normalised cost (95% CI), Bradley–Terry rating, divergence rate; best first."""
    names = sorted({r[role] for r in rows})
    norm = normalised_costs(rows, role)
    bt = bradley_terry(pairwise_wins(rows, role, names)) if len(names) > 1 else np.zeros(len(names))
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
                "elo": float(1500 + bt[k] * 400 / math.log(10)),
                "diverged_rate": float(div),
            }
        )
    board.sort(key=lambda e: (e["mean_normalised_cost"], -e["bt_rating"]))
    return board


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
