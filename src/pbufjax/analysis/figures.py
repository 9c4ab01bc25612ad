"""The figure plumbing shared by the plot modules: a headless matplotlib Figure, and saving it.

No ``pyplot`` and no global backend switch: a :class:`matplotlib.figure.Figure` built
directly renders anywhere (scripts, notebooks, servers without a display).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

logger = logging.getLogger("pbufjax.plots")


def new_figure(figsize: tuple[float, float]):
    """A :class:`matplotlib.figure.Figure` of ``figsize`` inches with constrained layout."""
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained")


def save_figure(fig, path: str | os.PathLike | None):
    """Write ``fig`` to ``path`` (format from the extension: PNG, PDF, SVG; folders created)
    when ``path`` is given; return ``fig``."""
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
        logger.debug("wrote %s", path)
    return fig


def dataset_label(given: str, canonical: str) -> str:
    """Legend label of a dataset: the caller's name, with the canonical one when it is an alias."""
    return given if given == canonical else f"{given} ({canonical})"


__all__ = ["dataset_label", "new_figure", "save_figure"]
