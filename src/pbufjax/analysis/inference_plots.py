r"""Figures of inference results: corner plots of samples, profile likelihoods, mock Δχ².

Every function builds a :class:`matplotlib.figure.Figure` directly (no ``pyplot``, no
global backend switch), so it works headless; ``path`` writes the figure (PNG, PDF,
SVG by extension) and the figure is returned for further editing. Axis labels, units, model
and dataset names come from :mod:`pbufjax.cosmology.labels`.

The corner plot lives in :mod:`pbufjax.analysis.triangle` (getdist densities, smoothed histograms
as the fallback) and is re-exported here. The mock histogram counts mocks per bin and draws
Wilks' law (Wilks 1938) as the expected count in each bin,
:math:`N_\mathrm{mocks}\,[F_{\chi^2_k}(b_{i+1}) - F_{\chi^2_k}(b_i)]`, so the law's
:math:`z^{-1/2}` divergence at zero for :math:`k = 1` cannot flatten the histogram.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..cosmology.labels import axis_label, dataset_label, latex, model_label
from .figures import figure_path, new_figure, save_figure
from .triangle import plot_corner

#: Fill colours of the 68% and 95% profile intervals (two shades of one hue, drawn opaque, so the
#: 95% band shows only outside the 68% one and the two never blend).
PROFILE_COLORS = {"68": "#6baed6", "95": "#d6e6f4"}
#: Line styles of the 68% and 95% contours of a 2-D profile.
PROFILE_LINESTYLES = {"68": "-", "95": "--"}

# ---------------------------------------------------------------------------
# Profile likelihood and mock Δχ²
# ---------------------------------------------------------------------------


def _datasets_text(doc: Mapping[str, Any]) -> str:
    return " + ".join(dataset_label(str(d)) for d in doc.get("datasets", []))


def _level_name(key: str) -> str:
    return f"{key}%" if str(key).replace(".", "").isdigit() else str(key)


def _finite_interval(iv) -> bool:
    return bool(iv) and np.isfinite(iv.get("lower", np.nan)) and np.isfinite(iv.get("upper", np.nan))


def _interval_text(name: str, iv: Mapping[str, Any], decimals: int) -> str:
    """``0.329 < Ωm < 0.383`` (mathtext), one-sided when the interval reaches the grid's end."""
    sym = latex(name, unit=False)
    lo, hi = f"{float(iv['lower']):.{decimals}f}", f"{float(iv['upper']):.{decimals}f}"
    if not iv.get("lower_closed", True) and iv.get("upper_closed", True):
        return f"${sym} < {hi}$"
    if not iv.get("upper_closed", True) and iv.get("lower_closed", True):
        return f"${sym} > {lo}$"
    return f"${lo} < {sym} < {hi}$"


def plot_profile(profile: Mapping[str, Any], *, path: str | Path | None = None, title: str | None = None):
    r"""Profile likelihood from :func:`pbufjax.batch.profile_likelihood`.

    1-D: :math:`\Delta\chi^2` against the parameter, the 68% and 95% levels as dashed lines and the
    intervals as two opaque shades of one hue (the 95% band visible only outside the 68% one), the
    best fit marked. 2-D: the :math:`\Delta\chi^2` map with the 68% (solid) and 95% (dashed)
    contours and the best fit.

    Args:
        profile: the ``profile_likelihood`` result (or its JSON).
        path: write the figure there (PNG, PDF or SVG by extension).
        title: figure title (default: model and datasets).

    Returns:
        :class:`matplotlib.figure.Figure`.

    Raises:
        ValueError: not a profile result, or a grid whose size does not match ``delta_chi2``.
    """
    path = None if path is None else figure_path(path, "profile.png")  # checked first
    if not isinstance(profile, Mapping) or "delta_chi2" not in profile or "names" not in profile:
        raise ValueError("plot_profile needs the result of pbufjax.batch.profile_likelihood")
    names = list(profile["names"])
    if len(names) not in (1, 2) or any(k not in profile.get("grid", {}) for k in names):
        raise ValueError(f"plot_profile draws 1-D or 2-D profiles with a grid for each name; got names {names} "
                         f"and grid {list(profile.get('grid', {}))}")
    d = np.asarray(profile["delta_chi2"], float)
    levels = {str(k): float(v) for k, v in (profile.get("levels") or {"68": 1.0, "95": 3.84}).items()}
    fig = new_figure((6.0, 4.5))
    ax = fig.subplots()
    best = profile.get("best") or {}
    if len(names) == 1:
        _profile_1d(ax, names[0], np.asarray(profile["grid"][names[0]], float), d, levels,
                    profile.get("intervals") or {}, best)
    else:
        _profile_2d(fig, ax, names, profile, d, levels, best)
    model = model_label(str(profile["model"])) if profile.get("model") else ""
    ax.set_title(title or f"Profile likelihood: {model}" + (f" on {_datasets_text(profile)}"
                                                             if profile.get("datasets") else ""), fontsize=11)
    return save_figure(fig, path, "profile.png")


def _profile_1d(ax, name, x, d, levels, intervals, best):
    if x.shape != d.shape:
        raise ValueError(f"profile grid of {name!r} has {x.size} points but delta_chi2 has shape {d.shape}")
    from matplotlib.patches import Patch

    order = np.argsort(x)
    x, d = x[order], d[order]
    handles = []
    shown = {k: intervals[k] for k in levels if _finite_interval(intervals.get(k))}
    widths = [float(iv["upper"]) - float(iv["lower"]) for iv in shown.values()]
    narrow = min([w for w in widths if w > 0] or [1.0])
    decimals = max(0, 1 - int(np.floor(np.log10(narrow / 2))))  # two significant digits of the half-width
    for key in sorted(shown, key=levels.get, reverse=True):  # widest band first, the 68% one on top
        color = PROFILE_COLORS.get(key, "0.85")
        iv = shown[key]
        ax.axvspan(iv["lower"], iv["upper"], facecolor=color, edgecolor="none", zorder=0)
        handles.insert(0, Patch(facecolor=color, label=f"{_level_name(key)}: {_interval_text(name, iv, decimals)}"))
    for key, lev in levels.items():
        ax.axhline(lev, color="0.3", ls="--", lw=0.9, zorder=1)
        ax.annotate(f"{_level_name(key)} (${latex('delta_chi2')} = {lev:.2f}$)", (1.0, lev), xycoords=("axes fraction",
                    "data"), xytext=(-4, 3), textcoords="offset points", ha="right", va="bottom", fontsize=8,
                    color="0.2")
    ok = np.isfinite(d)
    ax.plot(x[ok], d[ok], "-", color="k", lw=1.4, zorder=3)
    ax.plot(x[ok], d[ok], "o", color="k", ms=2.5, zorder=3)
    if name in best:
        from matplotlib.lines import Line2D

        ax.axvline(float(best[name]), color="k", lw=0.8, ls=":", zorder=2)
        handles.append(Line2D([], [], color="k", lw=0.8, ls=":",
                              label=f"best fit: ${latex(name, unit=False)} = {float(best[name]):.{decimals + 1}f}$"))
    top_level = max(levels.values()) if levels else 4.0
    dmax = float(np.max(d[ok])) if ok.any() else 10.0
    ax.set_ylim(-0.03 * top_level * 3, min(max(dmax, 1.3 * top_level), max(3.0 * top_level, 9.0)))
    ax.set_xlim(float(x.min()), float(x.max()))
    ax.set_xlabel(axis_label(name))
    ax.set_ylabel(f"${latex('delta_chi2')}$ (profile)")
    if handles:
        ax.legend(handles=handles, fontsize=8, loc="upper center", framealpha=0.95)


def _profile_2d(fig, ax, names, profile, d, levels, best):
    from matplotlib.lines import Line2D

    x = np.asarray(profile["grid"][names[0]], float)
    y = np.asarray(profile["grid"][names[1]], float)
    if d.shape != (x.size, y.size):
        raise ValueError(f"2-D profile delta_chi2 has shape {d.shape}, the grid ({x.size}, {y.size})")
    dd = np.where(np.isfinite(d), d, np.nan)
    top = max(levels.values()) if levels else 6.18
    vmax = float(min(np.nanmax(dd), 4.0 * top)) if np.isfinite(dd).any() else 1.0
    m = ax.pcolormesh(x, y, dd.T, shading="nearest", cmap="Greys", vmin=0.0, vmax=vmax)
    fig.colorbar(m, ax=ax, label=f"${latex('delta_chi2')}$", extend="max" if np.nanmax(dd) > vmax else "neither")
    handles = []
    if x.size > 1 and y.size > 1 and np.isfinite(dd).any():
        for key, lev in sorted(levels.items(), key=lambda kv: kv[1]):
            if np.nanmin(dd) <= lev:
                ax.contour(x, y, dd.T, levels=[lev], colors=[PROFILE_COLORS["68"]], linewidths=1.6,
                           linestyles=[PROFILE_LINESTYLES.get(key, ":")])
                handles.append(Line2D([], [], color=PROFILE_COLORS["68"], lw=1.6, ls=PROFILE_LINESTYLES.get(key, ":"),
                                      label=f"{_level_name(key)} (${latex('delta_chi2')} = {lev:.2f}$)"))
    if names[0] in best and names[1] in best:
        ax.plot(float(best[names[0]]), float(best[names[1]]), "+", color="#D55E00", ms=10, mew=2)
        handles.append(Line2D([], [], color="#D55E00", marker="+", ls="none", ms=10, mew=2, label="best fit"))
    ax.set_xlabel(axis_label(names[0]))
    ax.set_ylabel(axis_label(names[1]))
    if handles:
        ax.legend(handles=handles, fontsize=8, loc="upper right", framealpha=0.9)


def plot_mock_delta_chi2(comparison: Mapping[str, Any], *, bins: int = 40, show_chi2_law: bool = True,
                         path: str | Path | None = None, title: str | None = None):
    r"""Histogram of :math:`\Delta\chi^2 = \chi^2_\mathrm{null} - \chi^2_\mathrm{alt}` over mocks
    (:func:`pbufjax.batch.compare_models`) with the real-data value and its mock p-value marked.

    The y-axis counts mocks per bin. With ``show_chi2_law`` the :math:`\chi^2_{k}` law of Wilks'
    theorem (:math:`k = k_\mathrm{alt} - k_\mathrm{null}`) is drawn as the expected count per bin, a
    step curve on the same scale, so it never flattens the histogram; its p-value of the observed
    :math:`\Delta\chi^2` is given next to the mocks' one.

    Args:
        comparison: the ``compare_models`` result (or its JSON).
        bins: histogram bins.
        show_chi2_law: draw Wilks' law (when ``k_alt > k_null``).
        path: write the figure there (PNG, PDF or SVG by extension).
        title: figure title (default: the datasets).

    Returns:
        :class:`matplotlib.figure.Figure`.

    Raises:
        ValueError: not a comparison result, no valid mock, or ``bins`` < 1.
    """
    path = None if path is None else figure_path(path, "mocks.png")  # checked first
    if not isinstance(comparison, Mapping) or "delta_chi2" not in comparison or "observed" not in comparison:
        raise ValueError("plot_mock_delta_chi2 needs the result of pbufjax.batch.compare_models")
    if int(bins) < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}")
    d = np.asarray(comparison["delta_chi2"], float)
    valid = np.asarray(comparison.get("valid", np.isfinite(d)), bool)
    d = d[valid & np.isfinite(d)]
    if d.size == 0:
        raise ValueError("no valid mock Δχ² to plot")
    obs = float(comparison["observed"]["delta_chi2"])
    null = model_label(str(comparison.get("null_model", "null")))
    alt = model_label(str(comparison.get("alt_model", "alt")))
    fig = new_figure((6.4, 4.6))
    ax = fig.subplots()
    lo = min(float(d.min()), obs, 0.0)
    hi = max(float(d.max()), obs) * 1.05 + 1e-9
    counts, edges, _ = ax.hist(d, bins=int(bins), range=(lo, hi), color="#56B4E9", edgecolor="#0072B2", lw=0.6,
                               label=f"{d.size} mocks of {null}")
    ymax = float(counts.max())
    dk = int(comparison.get("k_alt", 0)) - int(comparison.get("k_null", 0))
    wilks_p = None
    if show_chi2_law and dk > 0:
        from scipy import stats

        cdf = stats.chi2.cdf(np.clip(edges, 0.0, None), dk)
        expected = d.size * np.diff(cdf)
        wilks_p = float(stats.chi2.sf(max(obs, 0.0), dk))
        ax.stairs(expected, edges, color="k", lw=1.3, label=f"Wilks: $\\chi^2_{{{dk}}}$ law, expected per bin")
        ymax = max(ymax, float(expected.max()))
    n_above = int(np.sum(d >= obs))
    p = comparison.get("p_value", (n_above + 1) / (d.size + 1))
    text = f"real data: ${latex('delta_chi2')} = {obs:.2f}$\n  p = {float(p):.3g} (mocks: {n_above} of {d.size} above)"
    if wilks_p is not None:
        text += f"\n  p = {wilks_p:.3g} (Wilks)"
    ax.axvline(obs, color="#D55E00", lw=2, label=text)
    ax.set_ylim(0.0, 1.15 * ymax)
    ax.set_xlim(lo, hi)
    ax.set_xlabel(f"${latex('delta_chi2')} = \\chi^2$({null}) $-$ $\\chi^2$({alt})")
    ax.set_ylabel("mocks per bin")
    ax.legend(fontsize=8, loc="best", framealpha=0.95)
    ds = _datasets_text(comparison)
    ax.set_title(title or f"{null} vs {alt}" + (f" on {ds}" if ds else ""), fontsize=11)
    return save_figure(fig, path, "mocks.png")


__all__ = ["plot_corner", "plot_mock_delta_chi2", "plot_profile"]
