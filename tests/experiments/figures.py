"""What a paper reviewer checks in a figure, as code: every panel has labelled axes, the figure has a legend
(or a colour bar) and names its equilibria, and no title or axis label runs off the saved image."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

#: Words by which a figure names the reference points it marks (in a legend, title or colour-bar label).
EQUILIBRIUM_WORDS = ("equilibri", "stackelberg", "nash", "critical point", "closed form")


@contextlib.contextmanager
def captured_figures() -> Iterator[list[tuple[str, Figure, dict]]]:
    """Record every ``Figure.savefig(path, **kw)`` call made inside the block as ``(path, figure, kw)``."""
    saved: list[tuple[str, Figure, dict]] = []
    original = Figure.savefig

    def record(self, fname, *args, **kwargs):
        saved.append((str(fname), self, dict(kwargs)))
        return original(self, fname, *args, **kwargs)

    Figure.savefig = record
    try:
        yield saved
    finally:
        Figure.savefig = original


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text().strip()]


def figure_problems(path: str, fig: Figure, savefig_kwargs: dict, equilibria: bool = True) -> list[str]:
    """The reviewer's complaints about one saved figure (empty list: none); ``equilibria=False`` for figures
    with no equilibrium to mark (timings)."""
    FigureCanvasAgg(fig)  # plt.close detached the canvas
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    name = path.rsplit("/", 1)[-1]
    problems = []
    colorbars = {id(im.colorbar.ax) for ax in fig.axes for im in ax.images if im.colorbar is not None}
    panels = [ax for ax in fig.axes if id(ax) not in colorbars and ax.get_visible()]
    for ax in panels:
        siblings = ax.get_shared_x_axes().get_siblings(ax)
        if not any(s.get_xlabel().strip() for s in siblings):
            problems.append(f"{name}: panel {ax.get_title()!r} has no x label")
        if not ax.get_ylabel().strip():
            problems.append(f"{name}: panel {ax.get_title()!r} has no y label")
    if not (fig.legends or any(ax.get_legend() for ax in panels) or colorbars):
        problems.append(f"{name}: no legend or colour bar")
    text = " ".join(_texts(fig)).lower()
    if equilibria and not any(w in text for w in EQUILIBRIUM_WORDS):
        problems.append(f"{name}: names no equilibrium or reference point")
    if savefig_kwargs.get("bbox_inches") != "tight":  # a tight bounding box grows to hold every artist
        frame = fig.bbox
        heads = [ax.title for ax in panels] + [ax.xaxis.label for ax in panels] + [ax.yaxis.label for ax in panels]
        heads += [fig._suptitle] if fig._suptitle is not None else []
        for t in heads:
            if not t.get_text().strip():
                continue
            bb = t.get_window_extent(renderer)
            if bb.x0 < frame.x0 - 1 or bb.x1 > frame.x1 + 1 or bb.y0 < frame.y0 - 1 or bb.y1 > frame.y1 + 1:
                problems.append(f"{name}: {t.get_text()[:50]!r} runs off the image")
    titles = [ax.title for ax in panels if ax.get_title().strip()]
    for i, a in enumerate(titles):
        for b in titles[i + 1 :]:
            if a.get_window_extent(renderer).overlaps(b.get_window_extent(renderer)):
                problems.append(f"{name}: titles {a.get_text()[:30]!r} and {b.get_text()[:30]!r} overlap")
    return problems
