r"""Marginal densities of posterior samples for triangle plots: getdist's kernel density
estimates when getdist is installed, smoothed histograms otherwise.

Both estimators answer the same three questions about one set of samples, so the drawing code
(:mod:`pbufjax.analysis.triangle`) never asks which one it has:

* :meth:`~HistogramDensities.density_1d`: the 1-D marginal on a grid, scaled to a peak of 1;
* :meth:`~HistogramDensities.density_2d`: the 2-D marginal on a grid and the density thresholds of
  its highest-density regions enclosing the probability masses ``levels`` (68%, 95%);
* :meth:`~HistogramDensities.interval`: the mean and the 68% interval, as LaTeX.

getdist (Lewis 2019, arXiv:1910.13970) uses Gaussian kernels with an automatic bandwidth and
corrections at the prior edges (the uniform prior bounds of a ``sample_posterior`` result are
passed as its ``ranges``). The fallback bins the samples (``bins`` per axis) and smooths the
histogram with a Gaussian of ``smooth`` bins; its contours are the highest-density regions of the
smoothed histogram.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Mapping, Sequence

import numpy as np

from ..cosmology.labels import latex

#: Density backends of :func:`make_densities` (``"auto"``: getdist when it can be imported).
BACKENDS = ("auto", "getdist", "matplotlib")
#: Fewest samples for getdist's kernel densities (its automatic bandwidth fails below); ``"auto"``
#: uses the histograms for smaller sets, ``"getdist"`` refuses them.
MIN_GETDIST_SAMPLES = 50


def getdist_available() -> bool:
    """True when ``getdist`` can be imported."""
    try:
        import getdist.mcsamples  # noqa: F401
    except ImportError:
        return False
    return True


def _hpd_levels(h: np.ndarray, masses: Sequence[float]) -> list[float]:
    """Density thresholds whose super-level sets of ``h`` hold the probability ``masses``."""
    flat = np.sort(h.ravel())[::-1]
    cum = np.cumsum(flat)
    if cum[-1] <= 0:
        return [0.0 for _ in masses]
    cum /= cum[-1]
    return [float(flat[min(np.searchsorted(cum, m), flat.size - 1)]) for m in masses]


def format_interval(mean: float, lower: float, upper: float) -> str:
    r"""``mean`` with its 68% interval as LaTeX, rounded to two significant digits of the error.

    Example:
        >>> format_interval(68.372, 68.07, 68.68)
        '68.37^{+0.31}_{-0.30}'
        >>> format_interval(0.30041, 0.2966, 0.3042)
        '0.3004\\pm 0.0038'
    """
    up, down = upper - mean, mean - lower
    err = min(e for e in (up, down) if e > 0) if max(up, down) > 0 else 0.0
    digits = max(0, 1 - math.floor(math.log10(err))) if err > 0 else 3
    f = f"{{:.{digits}f}}"
    if f.format(up) == f.format(down):
        return f"{f.format(mean)}\\pm {f.format(up)}"
    return f"{f.format(mean)}^{{+{f.format(up)}}}_{{-{f.format(down)}}}"


class HistogramDensities:
    """Densities from Gaussian-smoothed histograms (needs only numpy and scipy).

    Args:
        samples: ``{name: 1-D array}`` (equal lengths).
        levels: probability masses of the contours (e.g. ``(0.68, 0.95)``).
        bins: histogram bins per axis.
        smooth: standard deviation of the Gaussian smoothing [bins]; 0 for none.
        ranges: ``{name: (lo, hi)}`` of the grids (default: the samples' extent).
    """

    name = "matplotlib"

    def __init__(self, samples: Mapping[str, np.ndarray], levels: Sequence[float], *, bins: int = 40,
                 smooth: float = 1.0, ranges: Mapping[str, tuple[float, float]] | None = None):
        self.samples = samples
        self.levels = tuple(levels)
        self.bins = int(bins)
        self.smooth = float(smooth)
        self.ranges = dict(ranges or {})

    def _range(self, name):
        x = self.samples[name]
        return self.ranges.get(name, (float(x.min()), float(x.max())))

    def density_1d(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(grid, density with peak 1) of ``name``."""
        from scipy.ndimage import gaussian_filter1d

        h, edges = np.histogram(self.samples[name], bins=self.bins, range=self._range(name))
        h = h.astype(float)
        if self.smooth > 0:
            h = gaussian_filter1d(h, self.smooth, mode="constant")
        return 0.5 * (edges[1:] + edges[:-1]), h / h.max()

    def density_2d(self, x: str, y: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[float]]:
        """(x grid, y grid, density indexed ``[y, x]``, thresholds from the widest region to the narrowest)."""
        from scipy.ndimage import gaussian_filter

        h, xe, ye = np.histogram2d(self.samples[x], self.samples[y], bins=self.bins,
                                   range=[self._range(x), self._range(y)])
        if self.smooth > 0:
            h = gaussian_filter(h, self.smooth, mode="constant")
        thresholds = _hpd_levels(h, sorted(self.levels, reverse=True))
        return 0.5 * (xe[1:] + xe[:-1]), 0.5 * (ye[1:] + ye[:-1]), h.T, thresholds

    def interval(self, name: str) -> str:
        """``symbol = mean^{+up}_{-down}`` (68% central interval), LaTeX without ``$``."""
        x = self.samples[name]
        lo, hi = np.percentile(x, [15.865, 84.135])
        return f"{latex(name, unit=False)} = {format_interval(float(x.mean()), float(lo), float(hi))}"


class GetdistDensities:
    """Densities from getdist's kernel density estimates (``getdist.MCSamples``).

    Args:
        samples: ``{name: 1-D array}`` (equal lengths).
        levels: probability masses of the contours.
        ranges: ``{name: (lo, hi)}`` hard prior bounds (getdist corrects the densities there).
        settings: further getdist analysis settings (e.g. ``{"smooth_scale_2D": 0.5}``).
    """

    name = "getdist"

    def __init__(self, samples: Mapping[str, np.ndarray], levels: Sequence[float], *,
                 ranges: Mapping[str, tuple[float, float]] | None = None, settings: Mapping | None = None):
        from getdist import MCSamples

        names = list(samples)
        self.levels = tuple(levels)
        with contextlib.redirect_stdout(io.StringIO()):  # getdist prints "Removed no burn in"
            self.mc = MCSamples(samples=np.column_stack([samples[k] for k in names]), names=names,
                                labels=[latex(k, unit=False) for k in names], ranges=dict(ranges or {}),
                                settings={"contours": list(self.levels), **dict(settings or {})})

    def density_1d(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(grid, density with peak 1) of ``name``."""
        d = self.mc.get1DDensity(name)
        p = np.asarray(d.P, float)
        return np.asarray(d.x, float), p / p.max()

    def density_2d(self, x: str, y: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[float]]:
        """(x grid, y grid, density indexed ``[y, x]``, thresholds from the widest region to the narrowest)."""
        d = self.mc.get2DDensityGridData(x, y, num_plot_contours=len(self.levels))
        order = np.argsort(self.levels)[::-1]  # getdist's thresholds follow self.levels
        return (np.asarray(d.x, float), np.asarray(d.y, float), np.asarray(d.P, float),
                [float(np.asarray(d.contours)[i]) for i in order])

    def interval(self, name: str) -> str:
        """getdist's ``symbol = mean^{+up}_{-down}`` (68% limits), LaTeX without ``$``."""
        return self.mc.getInlineLatex(name, limit=1)


def make_densities(samples: Mapping[str, np.ndarray], levels: Sequence[float], *, backend: str = "auto",
                   bins: int = 40, smooth: float = 1.0, ranges: Mapping[str, tuple[float, float]] | None = None,
                   prior_ranges: Mapping[str, tuple[float, float]] | None = None):
    """The density estimator of one sample set.

    Args:
        samples: ``{name: 1-D array}``.
        levels: contour probability masses.
        backend: ``"getdist"``, ``"matplotlib"`` (smoothed histograms) or ``"auto"`` (getdist when
            installed).
        bins, smooth: histogram bins and smoothing [bins] of the fallback.
        ranges: plotting ranges (histogram grids of the fallback).
        prior_ranges: hard prior bounds (getdist's edge correction).

    Returns:
        :class:`GetdistDensities` or :class:`HistogramDensities`.

    Raises:
        ValueError: an unknown ``backend`` (the message lists :data:`BACKENDS`), or
            ``backend="getdist"`` with fewer than :data:`MIN_GETDIST_SAMPLES` samples.
        ImportError: ``backend="getdist"`` without getdist installed.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown corner-plot backend {backend!r}; valid: {', '.join(BACKENDS)}")
    n = min((np.size(v) for v in samples.values()), default=0)
    if backend == "getdist" and n < MIN_GETDIST_SAMPLES:
        raise ValueError(f"backend='getdist' needs at least {MIN_GETDIST_SAMPLES} samples, got {n}; "
                         f"use backend='matplotlib' (smoothed histograms)")
    if backend == "getdist" or (backend == "auto" and n >= MIN_GETDIST_SAMPLES and getdist_available()):
        try:
            return GetdistDensities(samples, levels, ranges=prior_ranges)
        except ImportError as exc:
            raise ImportError("backend='getdist' needs getdist: pip install \"pbufjax[getdist]\"") from exc
    return HistogramDensities(samples, levels, bins=bins, smooth=smooth, ranges=ranges)


__all__ = ["BACKENDS", "MIN_GETDIST_SAMPLES", "GetdistDensities", "HistogramDensities", "format_interval",
           "getdist_available", "make_densities"]
