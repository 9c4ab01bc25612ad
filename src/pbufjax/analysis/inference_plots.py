"""Figures of inference results: corner plots of samples, profile likelihoods, mock Δχ².

Every function builds a :class:`matplotlib.figure.Figure` directly (no ``pyplot``, no
global backend switch), so it works headless; ``path`` writes the figure (PNG, PDF,
SVG by extension) and the figure is returned for further editing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .figures import figure_path, new_figure, save_figure

# ---------------------------------------------------------------------------
# Corner plot
# ---------------------------------------------------------------------------


def _hpd_levels(h: np.ndarray, masses: Sequence[float]) -> list[float]:
    """Density thresholds enclosing ``masses`` of a 2-D histogram (highest density first)."""
    flat = np.sort(h.ravel())[::-1]
    cum = np.cumsum(flat)
    if cum[-1] <= 0:
        return [0.0 for _ in masses]
    cum /= cum[-1]
    return [float(flat[min(np.searchsorted(cum, m), flat.size - 1)]) for m in masses]


def _smooth(h: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    if sigma <= 0:
        return h
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(h, sigma)


def plot_corner(samples, params: Sequence[str] | None = None, *, truths: Mapping[str, float] | None = None,
                bins: int = 40, levels: Sequence[float] = (0.68, 0.95), smooth: float = 1.0,
                path: str | Path | None = None, title: str | None = None):
    """Corner plot: 1-D marginals on the diagonal, 2-D 68/95% credible contours below it.

    Args:
        samples: a :func:`pbufjax.sample.sample_posterior` result (or a loaded sample
            file), or ``{name: 1-D array}``.
        params: which quantities (default: the free parameters, else every key).
        truths: reference values drawn as lines (e.g. published means).
        bins: histogram bins.
        levels: probability masses of the contours (highest-density regions of the
            smoothed 2-D histogram).
        smooth: Gaussian smoothing of the 2-D histograms [bins].
        path: write the figure there (:func:`~pbufjax.analysis.figures.figure_path`: a folder gets a
            default file name, no extension gets ``.png``; PNG, PDF or SVG).
        title: figure title.

    Returns:
        :class:`matplotlib.figure.Figure`.

    Raises:
        ValueError: unknown names (lists the available ones), fewer than two samples.
    """
    path = None if path is None else figure_path(path, "corner.png")  # checked first
    summary = None
    if isinstance(samples, Mapping) and "samples" in samples:
        summary = samples.get("summary")
        default = list(samples.get("free_params") or samples["samples"])
        samples = samples["samples"]
    else:
        default = list(samples) if isinstance(samples, Mapping) else []
    if not isinstance(samples, Mapping) or not samples:
        raise TypeError("samples must be a sample_posterior result or a dict name -> 1-D array")
    names = list(params) if params is not None else default
    if not names:
        raise ValueError("no quantities to plot")
    bad = [k for k in names if k not in samples]
    if bad:
        raise ValueError(f"unknown quantities {bad}; available: {', '.join(samples)}")
    data = [np.asarray(samples[k], float).reshape(-1) for k in names]
    if data[0].size < 2:
        raise ValueError("a corner plot needs at least two samples")
    n = len(names)
    fig = new_figure((2.2 * n + 0.8, 2.2 * n + 0.6))
    axes = np.atleast_2d(fig.subplots(n, n, squeeze=False))
    ranges = []
    for x in data:
        lo, hi = np.percentile(x, [0.1, 99.9])
        pad = 0.05 * (hi - lo if hi > lo else 1.0)
        ranges.append((lo - pad, hi + pad))
    for i in range(n):
        for j in range(n):
            ax = axes[i, j]
            if j > i:
                ax.set_visible(False)
                continue
            if i == j:
                ax.hist(data[i], bins=bins, range=ranges[i], histtype="step", color="k", density=True)
                q16, q50, q84 = np.percentile(data[i], [16, 50, 84])
                for q in (q16, q84):
                    ax.axvline(q, color="k", ls="--", lw=0.8)
                label = f"{names[i]} = {q50:.4g} (+{q84 - q50:.2g} −{q50 - q16:.2g})"
                if summary and names[i] in summary:
                    s = summary[names[i]]
                    label = f"{names[i]} = {s['mean']:.4g} ± {s['std']:.2g}"
                ax.set_title(label, fontsize=8)
                ax.set_yticks([])
                ax.set_xlim(ranges[i])
            else:
                h, xe, ye = np.histogram2d(data[j], data[i], bins=bins, range=[ranges[j], ranges[i]])
                h = _smooth(h, smooth)
                xc, yc = 0.5 * (xe[1:] + xe[:-1]), 0.5 * (ye[1:] + ye[:-1])
                step = max(data[j].size // 2000, 1)
                ax.plot(data[j][::step], data[i][::step], ",", color="0.6", alpha=0.5)
                # thresholds from the widest region (largest mass) to the narrowest
                lv = sorted({t for t in _hpd_levels(h, sorted(levels, reverse=True)) if t > 0})
                if lv and h.max() > lv[-1]:
                    shades = ["#9ecae1", "#3182bd", "#08519c"][: len(lv)]
                    ax.contourf(xc, yc, h.T, levels=lv + [h.max()], colors=shades, alpha=0.6)
                    ax.contour(xc, yc, h.T, levels=lv, colors="k", linewidths=0.8)
                ax.set_xlim(ranges[j])
                ax.set_ylim(ranges[i])
            if truths and names[j] in truths:
                ax.axvline(truths[names[j]], color="tab:red", lw=1)
            if truths and i != j and names[i] in truths:
                ax.axhline(truths[names[i]], color="tab:red", lw=1)
            if i == n - 1:
                ax.set_xlabel(names[j])
            else:
                ax.set_xticklabels([])
            if j == 0 and i > 0:
                ax.set_ylabel(names[i])
            elif j > 0:
                ax.set_yticklabels([])
    if title:
        fig.suptitle(title)
    return save_figure(fig, path, "corner.png")


# ---------------------------------------------------------------------------
# Profile likelihood and mock Δχ²
# ---------------------------------------------------------------------------


def plot_profile(profile: Mapping[str, Any], *, path: str | Path | None = None, title: str | None = None):
    """Profile likelihood from :func:`pbufjax.batch.profile_likelihood`: Δχ² against the
    parameter with the 68/95% levels and intervals (1-D), or the Δχ² map with the 68/95%
    contours (2-D).

    Returns:
        :class:`matplotlib.figure.Figure`.

    Raises:
        ValueError: not a profile result.
    """
    path = None if path is None else figure_path(path, "profile.png")  # checked first
    if not isinstance(profile, Mapping) or "delta_chi2" not in profile or "names" not in profile:
        raise ValueError("plot_profile needs the result of pbufjax.batch.profile_likelihood")
    names = list(profile["names"])
    d = np.asarray(profile["delta_chi2"], float)
    levels = profile.get("levels", {})
    fig = new_figure((6.0, 4.5))
    ax = fig.subplots()
    if len(names) == 1:
        x = np.asarray(profile["grid"][names[0]], float)
        order = np.argsort(x)
        ax.plot(x[order], d[order], "o-", color="k", ms=3)
        for (lab, lev), c in zip(levels.items(), ("tab:blue", "tab:orange")):
            ax.axhline(lev, color=c, ls="--", lw=1, label=f"{lab}%: Δχ² = {lev:.2f}")
            iv = profile.get("intervals", {}).get(lab)
            if iv and np.isfinite(iv["lower"]) and np.isfinite(iv["upper"]):
                ax.axvspan(iv["lower"], iv["upper"], color=c, alpha=0.12)
        top = np.nanmax(d[np.isfinite(d)]) if np.any(np.isfinite(d)) else 10.0
        ax.set_ylim(-0.2, min(max(top, 5.0), 25.0))
        ax.set_xlabel(names[0])
        ax.set_ylabel("Δχ² (profile)")
        ax.legend(fontsize=8)
    else:
        x = np.asarray(profile["grid"][names[0]], float)
        y = np.asarray(profile["grid"][names[1]], float)
        dd = np.where(np.isfinite(d), d, np.nan)
        m = ax.pcolormesh(x, y, dd.T, shading="nearest", cmap="viridis_r", vmin=0, vmax=min(np.nanmax(dd), 25.0))
        fig.colorbar(m, ax=ax, label="Δχ²")
        lv = sorted(levels.values())
        if np.nanmin(dd) <= lv[-1] and x.size > 1 and y.size > 1:
            ax.contour(x, y, dd.T, levels=lv, colors=["w", "k"], linewidths=1.2)
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
    ax.set_title(title or f"profile likelihood — {profile.get('model', '')} on {', '.join(profile.get('datasets', []))}")
    return save_figure(fig, path, "profile.png")


def plot_mock_delta_chi2(comparison: Mapping[str, Any], *, bins: int = 40, show_chi2_law: bool = True,
                         path: str | Path | None = None, title: str | None = None):
    """Histogram of Δχ² = χ²(null) − χ²(alt) over mocks (:func:`pbufjax.batch.compare_models`)
    with the real-data value marked and its mock p-value; optionally the
    :math:`\\chi^2_{k_1-k_0}` law Wilks' theorem would give.

    Returns:
        :class:`matplotlib.figure.Figure`.

    Raises:
        ValueError: not a comparison result, or no valid mock.
    """
    path = None if path is None else figure_path(path, "mocks.png")  # checked first
    if not isinstance(comparison, Mapping) or "delta_chi2" not in comparison or "observed" not in comparison:
        raise ValueError("plot_mock_delta_chi2 needs the result of pbufjax.batch.compare_models")
    d = np.asarray(comparison["delta_chi2"], float)
    valid = np.asarray(comparison.get("valid", np.isfinite(d)), bool)
    d = d[valid & np.isfinite(d)]
    if d.size == 0:
        raise ValueError("no valid mock Δχ² to plot")
    obs = float(comparison["observed"]["delta_chi2"])
    fig = new_figure((6.0, 4.5))
    ax = fig.subplots()
    lo = min(d.min(), obs, 0.0)
    hi = max(d.max(), obs) * 1.05 + 1e-9
    ax.hist(d, bins=bins, range=(lo, hi), density=True, color="tab:blue", alpha=0.6,
            label=f"{d.size} mocks of {comparison.get('null_model', 'null')}")
    dk = int(comparison.get("k_alt", 0)) - int(comparison.get("k_null", 0))
    if show_chi2_law and dk > 0:
        from scipy import stats

        xs = np.linspace(max(lo, 1e-3), hi, 300)
        ax.plot(xs, stats.chi2.pdf(xs, dk), color="k", lw=1, label=f"χ² law, {dk} dof (Wilks)")
    ax.axvline(obs, color="tab:red", lw=2, label=f"real data: Δχ² = {obs:.2f}, p = {comparison.get('p_value', float('nan')):.3g}")
    ax.set_xlabel(f"Δχ² = χ²({comparison.get('null_model', 'null')}) − χ²({comparison.get('alt_model', 'alt')})")
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    ax.set_title(title or f"model comparison on {', '.join(comparison.get('datasets', []))}")
    return save_figure(fig, path, "mocks.png")


__all__ = ["plot_corner", "plot_mock_delta_chi2", "plot_profile"]
