"""The figure plumbing shared by the plot modules: a headless matplotlib Figure, and saving it.

No ``pyplot`` and no global backend switch: a :class:`matplotlib.figure.Figure` built
directly renders anywhere (scripts, notebooks, servers without a display).

Where a figure goes (:func:`figure_path`, used before any work is done and by
:func:`save_figure`): a path ending in ``.png``, ``.pdf`` or ``.svg`` is written as given;
an existing folder (or a path ending in ``/``) receives a default file name inside it; a
path with no extension gets ``.png``; any other extension is a ``ValueError`` listing
:data:`FIGURE_FORMATS`. The path returned is the path written.
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


#: Figure file extensions (the format follows the extension).
FIGURE_FORMATS = (".png", ".pdf", ".svg")


def figure_path(path: str | os.PathLike, default_name: str = "figure.png") -> Path:
    """The file a figure given ``path`` is written to.

    Args:
        path: a file name, or a folder.
        default_name: file name used inside a folder.

    Returns:
        ``path`` itself when it ends in one of :data:`FIGURE_FORMATS`; ``path /
        default_name`` when ``path`` is an existing folder or ends with a separator;
        ``path`` plus ``.png`` when it has no extension.

    Raises:
        ValueError: any other extension (the message lists the valid ones).

    Example:
        >>> str(figure_path("out/bao"))
        'out/bao.png'
        >>> figure_path("bao.txt")
        Traceback (most recent call last):
        ...
        ValueError: figure file bao.txt: unknown extension '.txt'; valid: .png, .pdf, .svg
    """
    text = os.fspath(path)
    p = Path(text).expanduser()
    if p.is_dir() or text.endswith((os.sep, "/")):
        p = p / default_name
    elif not p.suffix:
        p = p.with_name(p.name + ".png")
    if p.suffix.lower() not in FIGURE_FORMATS:
        raise ValueError(f"figure file {text}: unknown extension {p.suffix!r}; valid: {', '.join(FIGURE_FORMATS)}")
    return p


def save_figure(fig, path: str | os.PathLike | None, default_name: str = "figure.png"):
    """Write ``fig`` to :func:`figure_path` of ``path`` (format from the extension: PNG, PDF,
    SVG; folders created) when ``path`` is given; return ``fig``.

    Raises:
        ValueError: an extension not in :data:`FIGURE_FORMATS`.
    """
    if path is not None:
        path = figure_path(path, default_name)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=150)
        logger.debug("wrote %s", path)
    return fig


def save_formats(fig, root: str | os.PathLike, formats: tuple[str, ...] = (".png", ".pdf")) -> list[Path]:
    """Write ``fig`` once per format: ``root`` with each extension of ``formats`` (folders created).

    Args:
        fig: the figure.
        root: the file name without extension (``documents/figures/bao``).
        formats: extensions, each one of :data:`FIGURE_FORMATS`.

    Returns:
        The files written, in the order of ``formats``.

    Raises:
        ValueError: an extension not in :data:`FIGURE_FORMATS`, or an empty ``formats``.
    """
    bad = [f for f in formats if f not in FIGURE_FORMATS]
    if bad or not formats:
        raise ValueError(f"figure formats {list(formats)}: valid are {', '.join(FIGURE_FORMATS)}")
    root = Path(os.fspath(root)).expanduser()
    paths = [root.with_name(root.name + f) for f in formats]
    for p in paths:
        save_figure(fig, p)
    return paths


__all__ = ["FIGURE_FORMATS", "figure_path", "new_figure", "save_figure", "save_formats"]
