"""Rendering for the PettingZoo envs: ``"ansi"`` text and ``"rgb_array"`` images (matplotlib, Agg).

- ``ansi``: one line per call — step, every agent's action, costs, and the distance (geodesic on
  periodic coordinates) from the joint action to the nearest Nash and nearest Stackelberg equilibrium
  found by :mod:`stackenv.equilibria` ("n/a" where the solver is unavailable or finds none).
- ``rgb_array``: ``(H, W, 3)`` uint8. Two coordinates (``d == 2``): the joint action space (axes labelled
  with the players' names) with the recent path (broken where it crosses a periodic boundary), the
  current joint action and the equilibria marked. More coordinates: each coordinate's position
  normalised to its bounds (0 = low, 1 = high) against its index (ticks named after the players up to
  ``MAX_NAMED_TICKS`` coordinates), equilibria overlaid.

Equilibria are computed once per renderer, on first use (the solvers can take a moment).
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from stackenv.games.base import Game

#: Up to this many coordinates the per-coordinate picture labels each tick with its player's name.
MAX_NAMED_TICKS = 12


class Renderer:
    """Draws one copy of a game's state. ``trail`` joint actions are kept for the picture."""

    def __init__(self, game: Game, trail: int = 200, size: tuple[float, float] = (4.0, 4.0), dpi: int = 80):
        self.game = game
        self.size, self.dpi = size, dpi
        self.path: deque[np.ndarray] = deque(maxlen=trail)
        self._eq: dict[str, list[np.ndarray]] | None = None
        self._fig: Any = None

    # ------------------------------------------------------------------ equilibria
    def equilibria(self) -> dict[str, list[np.ndarray]]:
        """``{"nash": [...], "stackelberg": [...]}`` joint actions; empty lists where unavailable."""
        if self._eq is None:
            eq: dict[str, list[np.ndarray]] = {"nash": [], "stackelberg": []}
            try:
                from stackenv import equilibria as E  # late import: optional at render time
            except ImportError:
                E = None
            for kind in eq:
                fn = getattr(E, f"{kind}_equilibria", None) if E is not None else None
                if fn is None:
                    continue
                try:
                    eq[kind] = [np.asarray(e.x, dtype=float) for e in fn(self.game)]
                except Exception:  # a solver failure must not break rendering
                    eq[kind] = []
            self._eq = eq
        return self._eq

    def distances(self, x: np.ndarray) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for kind, pts in self.equilibria().items():
            out[kind] = float(np.min(self.game.distance(np.asarray(pts), x))) if pts else None
        return out

    # ------------------------------------------------------------------ modes
    def record(self, x: np.ndarray) -> None:
        self.path.append(np.array(x, dtype=float))

    def reset(self) -> None:
        self.path.clear()

    def ansi(self, t: int, x: np.ndarray, costs: np.ndarray | None) -> str:
        g = self.game
        acts = ", ".join(f"{p.name}={np.array2string(x[s], precision=4)}" for p, s in zip(g.players, g.slices))
        cost = "—" if costs is None else np.array2string(np.asarray(costs), precision=4)
        dist = self.distances(x)
        dtxt = ", ".join(f"{k}: {'n/a' if v is None else f'{v:.4g}'}" for k, v in dist.items())
        return f"step {t} | actions {acts} | costs {cost} | distance to nearest equilibrium ({dtxt})"

    def rgb(self, x: np.ndarray) -> np.ndarray:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator

        g = self.game
        if self._fig is None:
            self._fig = Figure(figsize=self.size, dpi=self.dpi)
            FigureCanvasAgg(self._fig)
        fig = self._fig
        fig.clf()
        ax = fig.add_subplot(1, 1, 1)
        eq = self.equilibria()
        style = {"nash": ("o", "tab:blue"), "stackelberg": ("*", "tab:green")}
        if g.d == 2:
            path = self._path_for_plot(x)
            ax.plot(path[:, 0], path[:, 1], "-", color="0.6", lw=0.8)
            for kind, pts in eq.items():
                if pts:
                    P = np.array(pts)
                    m, c = style[kind]
                    ax.plot(P[:, 0], P[:, 1], m, color=c, ms=9, mfc="none", label=kind)
            ax.plot([x[0]], [x[1]], "o", color="tab:red", ms=6, label="x")
            ax.set_xlim(g.low[0], g.high[0])
            ax.set_ylim(g.low[1], g.high[1])
            ax.set_xlabel(f"{g.players[0].name} action")
            ax.set_ylabel(f"{g.players[1].name} action")  # d == 2 with n >= 2: two scalar players
        else:
            idx = np.arange(g.d)
            width = g.high - g.low

            def norm(v):
                return (g.wrap(np.asarray(v, dtype=float)) - g.low) / width

            for kind, pts in eq.items():
                m, c = style[kind]
                for j, p in enumerate(pts):
                    ax.plot(idx, norm(p), m, color=c, ms=7, mfc="none", label=kind if j == 0 else None)
            ax.plot(idx, norm(x), "o", color="tab:red", ms=4, label="x")
            ax.set_ylim(-0.05, 1.05)
            if g.d <= MAX_NAMED_TICKS:  # name each coordinate after its player
                names = [p.name if p.dim == 1 else f"{p.name}[{k}]" for p in g.players for k in range(p.dim)]
                ax.set_xticks(idx, names, rotation=45, ha="right", fontsize=7)
            else:
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlabel("coordinate (leader first)")
            ax.set_ylabel("position in bounds (0=low, 1=high)")
        ax.set_title(f"{g.name}: joint action", fontsize=9)
        ax.legend(loc="best", fontsize=7)
        fig.tight_layout()
        fig.canvas.draw()
        return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()

    def _path_for_plot(self, x: np.ndarray) -> np.ndarray:
        """The recent path ``(k, d)``, with a NaN row (a break in the line) wherever a step crossed the
        boundary of a periodic coordinate: the geodesic step differs from the straight one there."""
        path = np.array(self.path) if self.path else np.asarray(x, dtype=float)[None]
        if len(path) < 2 or not self.game.periodic.any():
            return path
        straight = np.diff(path, axis=0)
        geodesic = self.game.displacement(path[1:], path[:-1])
        jump = np.any(np.abs(straight - geodesic) > 1e-9, axis=1)
        return np.insert(path, np.flatnonzero(jump) + 1, np.nan, axis=0) if jump.any() else path

    def close(self) -> None:
        self._fig = None
