"""Shared plotting for the experiment scripts: one backend, one way to save, captions true to the data.

Every script saves through :func:`save` (``--format png|pdf|svg``), draws spreads over seeds with
:func:`mean_band` (no band and a caption that says "one seed" when there is one) and formats numbers in
tables and figure cells with :func:`number`, so ``-940`` and ``-1060`` read alike (never ``-1.06e+03``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

#: File formats every experiment script can write its figures in (``--format``).
FORMATS = ("png", "pdf", "svg")
#: Percentiles of the shaded spread over seeds.
BAND = (10, 90)


def setup_matplotlib():
    """Import pyplot on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig: Any, path: str | Path, fmt: str = "png") -> Path:
    """Save ``fig`` as ``path`` with the suffix ``.fmt`` (bounding box grown to hold every artist) and close it.

    PNGs get 150 dpi; PDF and SVG are vector. Returns the written path.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown figure format {fmt!r}; choose one of {', '.join(FORMATS)}")
    path = Path(path).with_suffix("." + fmt)
    fig.savefig(path, dpi=150 if fmt == "png" else None, bbox_inches="tight")
    setup_matplotlib().close(fig)
    return path


def spread_caption(n_seeds: int, centre: str = "mean") -> str:
    """What the line and the shading of :func:`mean_band` show, e.g. ``"mean of 32 seeds, shaded 10–90%"``."""
    if n_seeds == 1:
        return "one seed (no spread to show)"
    return f"{centre} of {n_seeds} seeds, shaded {BAND[0]}–{BAND[1]}% of seeds"


def noise_caption(variance: float) -> str:
    """``"noise variance 10 (std 3.16)"``, or ``"no noise"``."""
    if variance == 0:
        return "no noise"
    return f"noise variance {number(variance)} (std {number(math.sqrt(variance))})"


def mean_band(ax: Any, k: np.ndarray, y: np.ndarray, centre: str = "mean", band: bool = True, **line: Any) -> tuple:
    """Plot the ``centre`` (``"mean"`` or ``"median"``) over seeds of ``y`` (shape ``(T, seeds)``) against ``k``,
    shaded between the :data:`BAND` percentiles when there is more than one seed. Returns ``(centre, lo, hi)``."""
    mid = np.nanmean(y, axis=1) if centre == "mean" else np.nanmedian(y, axis=1)
    lo, hi = np.nanpercentile(y, BAND, axis=1)
    ax.plot(k, mid, **line)
    if band and y.shape[1] > 1:
        ax.fill_between(k, lo, hi, color=line.get("color"), alpha=0.15, lw=0)
    return mid, lo, hi


def number(value: float, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits in positional notation: ``-940``, ``-1060``, ``0.0123``, ``1.5``.

    Exponent notation only outside ``[1e-3, 1e6)``; ``inf`` as ``∞``, NaN as ``—``.
    """
    v = float(value)
    if math.isnan(v):
        return "—"
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    if v == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(v)))
    if not -3 <= magnitude < 6:
        return f"{v:.{digits - 1}e}"
    rounded = round(v, digits - 1 - magnitude)
    decimals = max(0, digits - 1 - magnitude)
    return f"{rounded:.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{rounded:.0f}"


# ---------------------------------------------------------------------------------------------- angles
#: Ticks of an angle axis over [−π, π].
ANGLE_TICKS = ([-math.pi, -math.pi / 2, 0.0, math.pi / 2, math.pi], ["−π", "−π/2", "0", "π/2", "π"])


def angle_axes(ax: Any, xlabel: str, ylabel: str) -> None:
    """The unfolded torus [−π, π]²: square, π ticks, labelled."""
    ax.set_xlim(-math.pi, math.pi)
    ax.set_ylim(-math.pi, math.pi)
    ax.set_aspect("equal")
    ax.set_xticks(*ANGLE_TICKS)
    ax.set_yticks(*ANGLE_TICKS)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)


def draw_periodic_path(ax: Any, path: np.ndarray, **line: Any) -> None:
    """Draw a wrapped path ``(T, 2)`` on [−π, π)² continuously: unwrap it in time, then draw it and its eight
    2π-translates (the axes clip them), so leaving one edge means re-entering at the opposite edge."""
    u = np.unwrap(path, axis=0)
    shifts = [(2 * math.pi * i, 2 * math.pi * j) for i in (-1, 0, 1) for j in (-1, 0, 1)]
    for k, (sx, sy) in enumerate(shifts):
        ax.plot(u[:, 0] + sx, u[:, 1] + sy, **(line if k == 0 else {**line, "label": None}))


def unwrap_near(series: np.ndarray, target: float) -> np.ndarray:
    """Unwrap an angle series in time and shift it by a multiple of 2π so that it ends nearest ``target``."""
    u = np.unwrap(series)
    return u - 2 * math.pi * np.round((u[-1] - target) / (2 * math.pi))
