r"""Triangle (corner) plots of posterior samples, one or several sample sets overlaid.

The diagonal holds each quantity's smoothed 1-D marginal (peak scaled to 1), the panels below it
the 2-D marginals with filled 68% and 95% highest-density regions. The densities come from
getdist's kernel density estimates (Lewis 2019, arXiv:1910.13970) when getdist is installed and
from Gaussian-smoothed histograms otherwise (:mod:`pbufjax.analysis.densities`); the drawing is the
same either way, on a :class:`matplotlib.figure.Figure` built without ``pyplot``. Axis labels and
units come from :mod:`pbufjax.cosmology.labels`, legend names from its dataset table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..cosmology.labels import axis_label, dataset_label, model_label
from .densities import make_densities
from .figures import figure_path, new_figure, save_figure

#: Colours of the overlaid sample sets, in order (colour-blind safe: Okabe & Ito 2008).
SET_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")


def _tint(color, amount: float):
    """``color`` mixed with white (``amount`` = 0: unchanged, 1: white), as RGB."""
    from matplotlib.colors import to_rgb

    return tuple(c + (1.0 - c) * amount for c in to_rgb(color))


def _default_legend(result: Mapping, index: int) -> str:
    if result.get("datasets"):
        names = " + ".join(dataset_label(str(d)) for d in result["datasets"])
        return f"{model_label(str(result['model']))}: {names}" if result.get("model") else names
    return f"samples {index + 1}"


def _prior_ranges(result: Mapping) -> dict[str, tuple[float, float]]:
    out = {}
    for k, p in (result.get("priors") or {}).items():
        if isinstance(p, Mapping) and p.get("type") == "uniform":
            out[k] = (float(p["lower"]), float(p["upper"]))
    return out


def sample_sets(samples) -> list[dict]:
    """Normalize the ``samples`` argument of :func:`plot_corner` into a list of sample sets.

    Args:
        samples: one sample set or a list/tuple of them; a set is a ``sample_posterior`` result
            (or a loaded sample file) or ``{name: 1-D array}``.

    Returns:
        ``[{"samples": {name: array}, "default": [names], "legend": str, "priors": {name: (lo, hi)}}]``.

    Raises:
        TypeError: a set that is neither a result nor a dict of arrays.
    """
    many = isinstance(samples, (list, tuple))
    out = []
    for i, s in enumerate(samples if many else [samples]):
        if isinstance(s, Mapping) and "samples" in s:
            entry = {"samples": s["samples"], "default": list(s.get("free_params") or s["samples"]),
                     "legend": _default_legend(s, i), "priors": _prior_ranges(s)}
        elif isinstance(s, Mapping):
            entry = {"samples": s, "default": list(s), "legend": f"samples {i + 1}", "priors": {}}
        else:
            entry = {"samples": None}
        if not isinstance(entry["samples"], Mapping) or not entry["samples"]:
            raise TypeError("samples must be a sample_posterior result or a dict name -> 1-D array "
                            f"(or a list of them), got {type(s).__name__}")
        out.append(entry)
    return out


def _columns(sets, names) -> list[dict[str, np.ndarray]]:
    cols = []
    for k, s in enumerate(sets):
        bad = [n for n in names if n not in s["samples"]]
        if bad:
            where = f" in sample set {k + 1}" if len(sets) > 1 else ""
            raise ValueError(f"unknown quantities {bad}{where}; available: {', '.join(s['samples'])}")
        c = {n: np.asarray(s["samples"][n], float).reshape(-1) for n in names}
        size = next(iter(c.values())).size
        if size < 2:
            raise ValueError("a corner plot needs at least two samples")
        for n, x in c.items():
            if x.size != size:
                raise ValueError(f"quantity {n!r} has {x.size} samples, others {size}")
            if not np.all(np.isfinite(x)):
                raise ValueError(f"quantity {n!r} has non-finite samples")
            if np.ptp(x) == 0:
                raise ValueError(f"quantity {n!r} is constant ({x[0]:.6g}) in the samples: nothing to plot")
        cols.append(c)
    return cols


def _ranges(cols, names, priors) -> list[tuple[float, float]]:
    """Plotting range of each quantity: the samples' 0.1-99.9% span, padded, clipped to the prior bounds."""
    out = []
    for n in names:
        lo = min(np.percentile(c[n], 0.1) for c in cols)
        hi = max(np.percentile(c[n], 99.9) for c in cols)
        pad = 0.06 * (hi - lo)
        bounds = [p[n] for p in priors if n in p]
        lo_b = min(b[0] for b in bounds) if bounds else -np.inf
        hi_b = max(b[1] for b in bounds) if bounds else np.inf
        out.append((float(max(lo - pad, lo_b)), float(min(hi + pad, hi_b))))
    return out


def plot_corner(samples, params: Sequence[str] | None = None, *, truths: Mapping[str, float] | None = None,
                bins: int = 40, levels: Sequence[float] = (0.68, 0.95), smooth: float = 1.0,
                path: str | Path | None = None, title: str | None = None,
                legend_labels: Sequence[str] | None = None, backend: str = "auto",
                colors: Sequence[str] | None = None):
    """Triangle plot: smoothed 1-D marginals on the diagonal, filled 68/95% credible regions below.

    Args:
        samples: a :func:`pbufjax.sample.sample_posterior` result (or a loaded sample file), or
            ``{name: 1-D array}``; or a list of these to overlay several posteriors.
        params: which quantities (default: the first set's free parameters, else every key).
        truths: reference values drawn as dashed lines (e.g. published means).
        bins: histogram bins (fallback backend).
        levels: probability masses of the contours, at most 3 (highest-density regions).
        smooth: Gaussian smoothing of the histograms [bins] (fallback backend; getdist chooses its
            kernel width itself).
        path: write the figure there (:func:`~pbufjax.analysis.figures.figure_path`: a folder gets a
            default file name, no extension gets ``.png``; PNG, PDF or SVG).
        title: figure title.
        legend_labels: legend name of each sample set (default: model and datasets of a result).
        backend: ``"getdist"`` (kernel densities), ``"matplotlib"`` (smoothed histograms) or
            ``"auto"`` (getdist when installed).
        colors: colour of each sample set (default :data:`SET_COLORS`).

    Returns:
        :class:`matplotlib.figure.Figure`; ``fig.corner_backend`` names the density backend used
        (``"getdist"`` or ``"matplotlib"``; the histograms serve sets too small for getdist under ``"auto"``).

    Raises:
        ValueError: unknown names (lists the available ones), fewer than two samples, a constant
            or non-finite quantity, a bad ``levels``/``legend_labels``/``backend``.
        TypeError: ``samples`` of the wrong type.
    """
    path = None if path is None else figure_path(path, "corner.png")  # checked first
    sets = sample_sets(samples)
    names = list(params) if params is not None else sets[0]["default"]
    if not names:
        raise ValueError("no quantities to plot")
    levels = sorted(float(v) for v in levels)
    if not levels or len(levels) > 3 or not all(0.0 < v < 1.0 for v in levels):
        raise ValueError(f"levels must be 1 to 3 probability masses in (0, 1), got {levels}")
    if legend_labels is not None:
        legend_labels = [str(s) for s in legend_labels]
        if len(legend_labels) != len(sets):
            raise ValueError(f"{len(legend_labels)} legend_labels for {len(sets)} sample sets")
        for s, lab in zip(sets, legend_labels):
            s["legend"] = lab
    colors = list(colors or SET_COLORS)
    if len(colors) < len(sets):
        raise ValueError(f"{len(sets)} sample sets but only {len(colors)} colours")
    cols = _columns(sets, names)
    ranges = _ranges(cols, names, [s["priors"] for s in sets])
    dens = [make_densities(c, levels, backend=backend, bins=bins, smooth=smooth, ranges=dict(zip(names, ranges)),
                           prior_ranges={k: v for k, v in s["priors"].items() if k in names})
            for c, s in zip(cols, sets)]
    n = len(names)
    size = 2.0 if n > 2 else 2.6
    fig = new_figure((size * n + 0.9, size * n + 0.7))
    fig.get_layout_engine().set(w_pad=0.02, h_pad=0.02, wspace=0.0, hspace=0.0)
    axes = np.atleast_2d(fig.subplots(n, n, squeeze=False))
    single = len(sets) == 1
    for i in range(n):
        for j in range(n):
            ax = axes[i, j]
            if j > i:
                ax.set_visible(False)
                continue
            for k, d in enumerate(dens):
                c = colors[k]
                if i == j:
                    x, p = d.density_1d(names[i])
                    ax.plot(x, p, color=c, lw=1.5)
                else:
                    x, y, p, th = d.density_2d(names[j], names[i])
                    th = sorted(t for t in th if 0 < t < p.max())
                    if th:
                        shades = [_tint(c, a) for a in (0.7, 0.45, 0.0)[-len(th):]]
                        ax.contourf(x, y, p, levels=th + [p.max()], colors=shades, alpha=0.85 if single else 0.6)
                        ax.contour(x, y, p, levels=th, colors=[c], linewidths=1.0)
            _decorate(ax, i, j, n, names, ranges, truths)
            if i == j and single:
                ax.set_title(f"${dens[0].interval(names[i])}$", fontsize=9)
    fig.align_labels()
    if not single:
        from matplotlib.patches import Patch

        handles = [Patch(facecolor=_tint(colors[k], 0.3), edgecolor=colors[k], label=s["legend"])
                   for k, s in enumerate(sets)]
        width = 0.5 + 0.08 * max(len(h.get_label()) for h in handles)  # inches, at fontsize 10
        if width < (n - 1) * size:  # fits in the empty upper triangle
            fig.legend(handles=handles, loc="upper right", bbox_to_anchor=(0.98, 0.98), fontsize=10, frameon=False)
        else:  # above the panels, in space the layout reserves
            fig.legend(handles=handles, loc="outside upper center", fontsize=10, frameon=False)
    if title:
        fig.suptitle(title)
    fig.corner_backend = "+".join(dict.fromkeys(d.name for d in dens))  # one name unless the sets differ
    return save_figure(fig, path, "corner.png")


def _decorate(ax, i, j, n, names, ranges, truths):
    """Limits, ticks, labels and reference lines of panel (row ``i``, column ``j``)."""
    from matplotlib.ticker import MaxNLocator

    ax.set_xlim(ranges[j])
    ax.xaxis.set_major_locator(MaxNLocator(4, prune="both"))
    ax.tick_params(labelsize=8, direction="in", top=True, right=i != j)
    if i == j:
        ax.set_ylim(0.0, 1.08)
        ax.set_yticks([])
    else:
        ax.set_ylim(ranges[i])
        ax.yaxis.set_major_locator(MaxNLocator(4, prune="both"))
    if truths and names[j] in truths:
        ax.axvline(truths[names[j]], color="0.25", ls="--", lw=0.9)
    if truths and i != j and names[i] in truths:
        ax.axhline(truths[names[i]], color="0.25", ls="--", lw=0.9)
    if i == n - 1:
        ax.set_xlabel(axis_label(names[j]), fontsize=10)
        ax.tick_params(axis="x", labelrotation=45)
    else:
        ax.set_xticklabels([])
    if j == 0 and i > 0:
        ax.set_ylabel(axis_label(names[i]), fontsize=10)
    elif j > 0 or i == 0:
        ax.set_yticklabels([])


__all__ = ["SET_COLORS", "plot_corner", "sample_sets"]
