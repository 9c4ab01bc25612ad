"""Figures: BAO distances, SN Hubble diagram, corner plots, profile likelihoods, mock Δχ².

Every function builds a :class:`matplotlib.figure.Figure` directly (no ``pyplot``, no
global backend switch), so it works headless; ``path`` writes the figure (PNG, PDF,
SVG by extension) and the figure is returned for further editing.

Model curves are the compiled kernels of :mod:`pbufjax.cosmology` evaluated on a fine
redshift grid: :math:`D_M(z)/r_d`, :math:`D_H(z)/r_d = c/[H(z) r_d]` and
:math:`D_V(z)/r_d = [z D_M^2 D_H]^{1/3}/r_d` (DESI 2025, arXiv:2503.14738, eq. 2.1–2.3), and
:math:`\\mu(z) = 5\\log_{10}[(1+z)D_M(z)/\\mathrm{Mpc}] + 25` plus the supernova offset
fitted analytically to the data (the likelihood's :math:`B/E`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

#: Colors of the BAO quantities.
BAO_COLORS = {"DM": "tab:blue", "DH": "tab:orange", "DV": "tab:green"}


def _figure(figsize):
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained")


def _finish(fig, path):
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
        logger.debug("wrote %s", path)
    return fig


def _model_and_params(params, model):
    """(model name, numeric parameter dict) from a ParameterDict, a run_fit result or a dict."""
    if isinstance(params, Mapping) and "params" in params and isinstance(params["params"], Mapping):
        model = model or params.get("model")
        params = params["params"]
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a parameter dict or a run_fit result, got {type(params).__name__}")
    model = model or params.get("model_class") or "lcdm"
    from .parameter import DERIVED_PARAMS, METADATA_KEYS, get_defaults

    valid = set(get_defaults(model))
    clean = {k: v for k, v in params.items()
             if k in valid and k not in DERIVED_PARAMS and k not in METADATA_KEYS and k != "model_class"}
    return model, clean


def _problem(model, params, datasets):
    from .optimizer import _nuisance_for, canonical_datasets, get_problem

    names = canonical_datasets(datasets)
    nuis = set(_nuisance_for(names))
    over = {k: v for k, v in params.items() if k not in nuis}
    return get_problem(model, list(names), [], over)


# ---------------------------------------------------------------------------
# BAO
# ---------------------------------------------------------------------------


def _bao_points(data: Mapping, pred: Mapping | None = None):
    """Observed points as (kind, z, value, sigma) with kind in DM, DH, DV (all over r_d)."""
    from .constants import C_KM_S

    z = np.asarray(data["redshifts"], float)
    v = np.asarray(data["observations"], float)
    s = np.sqrt(np.diag(np.asarray(data["covariance"], float)))
    rdfid = np.asarray(data.get("rd_fid", np.full(z.size, np.nan)), float)
    out = []
    for i, q in enumerate(data["quantities"]):
        if q == "DM_over_rs":
            out.append(("DM", z[i], v[i], s[i]))
        elif q == "DH_over_rs":
            out.append(("DH", z[i], v[i], s[i]))
        elif q == "DV_over_rs":
            out.append(("DV", z[i], v[i], s[i]))
        elif q == "DA_over_rs":
            out.append(("DM", z[i], v[i] * (1 + z[i]), s[i] * (1 + z[i])))
        elif q == "rs_over_DV":
            out.append(("DV", z[i], 1.0 / v[i], s[i] / v[i] ** 2))
        elif q == "DM_rdfid_over_rs":
            out.append(("DM", z[i], v[i] / rdfid[i], s[i] / rdfid[i]))
        elif q == "H_rs_over_rdfid":
            out.append(("DH", z[i], C_KM_S / (v[i] * rdfid[i]), C_KM_S * s[i] / (v[i] ** 2 * rdfid[i])))
    return out


def bao_curves(model: str, params: Mapping[str, Any], z) -> dict[str, np.ndarray]:
    """:math:`D_M/r_d`, :math:`D_H/r_d`, :math:`D_V/r_d` of ``model`` at redshifts ``z``."""
    import jax.numpy as jnp

    from .constants import C_KM_S
    from .cosmology import background as bg
    from .cosmology.cmb import derived
    from .parameter import build_params

    p = build_params(model, dict(params), derived=False)
    z = jnp.asarray(np.asarray(z, float))
    rd = float(derived(p)["r_drag"])
    dm = np.asarray(bg.comoving_transverse_distance(z, p))
    dh = C_KM_S / np.asarray(bg.hubble(z, p))
    dv = np.cbrt(np.asarray(z) * dm * dm * dh)
    return {"DM": dm / rd, "DH": dh / rd, "DV": dv / rd, "r_d": rd}


def plot_bao(params, datasets: Sequence[str] | str = ("desi_dr2",), *, model: str | None = None,
             z_max: float | None = None, path: str | Path | None = None, title: str | None = None):
    """BAO measurements with the model's :math:`D_M/r_d`, :math:`D_H/r_d`, :math:`D_V/r_d` curves
    and a residual panel ((data − model)/σ, σ from the covariance diagonal).

    Args:
        params: best-fit parameters: a ``run_fit`` result, its ``"params"`` or any
            parameter dict.
        datasets: BAO datasets (``bao`` or ``bao_ani`` type).
        model: model name (default: from ``params``).
        z_max: upper end of the curves (default: 10% beyond the highest redshift).
        path: write the figure there.
        title: figure title.

    Returns:
        :class:`matplotlib.figure.Figure`.

    Raises:
        ValueError: a dataset that is not BAO.
    """
    from . import datasets as _ds

    model, p = _model_and_params(params, model)
    if isinstance(datasets, str):
        datasets = [s.strip() for s in datasets.split(",") if s.strip()]
    pts = []
    for name in datasets:
        d = _ds.load_dataset(_ds.resolve_name(name))
        dtype = d["metadata"]["dataset_type"]
        if dtype not in ("bao", "bao_ani"):
            raise ValueError(f"dataset {name!r} is of type {dtype!r}, not BAO; valid types: bao, bao_ani "
                             f"(e.g. desi_dr2, desi_dr1, boss_dr12)")
        pts += [(d["name"],) + t for t in _bao_points(d)]
    zs = np.array([t[2] for t in pts])
    zmax = float(z_max) if z_max else 1.1 * float(zs.max())
    zgrid = np.linspace(0.02, zmax, 300)
    curves = bao_curves(model, p, zgrid)
    at = bao_curves(model, p, zs)
    fig = _figure((7.0, 6.0))
    top, bot = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    for kind, color in BAO_COLORS.items():
        top.plot(zgrid, curves[kind], color=color, lw=1.5, label=f"{kind}/r_d ({model})")
    markers = ["o", "s", "^", "D"]
    seen: set[str] = set()
    order = list(dict.fromkeys(t[0] for t in pts))
    for i, (name, kind, z, v, s) in enumerate(pts):
        mk = markers[order.index(name) % len(markers)]
        top.errorbar(z, v, yerr=s, fmt=mk, color=BAO_COLORS[kind], ms=4, capsize=2,
                     label=name if name not in seen else None)
        seen.add(name)
        bot.errorbar(z, (v - at[kind][i]) / s, yerr=1.0, fmt=mk, color=BAO_COLORS[kind], ms=4, capsize=2)
    top.set_ylabel("distance / r_d")
    top.legend(fontsize=8, ncol=2)
    bot.axhline(0.0, color="k", lw=0.8)
    bot.set_xlabel("z")
    bot.set_ylabel("(data − model)/σ")
    top.set_title(title or f"BAO: {', '.join(datasets)} — {model}, r_d = {curves['r_d']:.2f} Mpc")
    return _finish(fig, path)


# ---------------------------------------------------------------------------
# Supernovae
# ---------------------------------------------------------------------------


def plot_sn(params, dataset: str = "union3", *, model: str | None = None, path: str | Path | None = None,
            title: str | None = None):
    """SN Ia Hubble diagram (μ vs z, σ from the covariance diagonal) with the model curve
    (offset fitted analytically) and a residual panel.

    Args:
        params: best-fit parameters (``run_fit`` result, its ``"params"`` or a dict).
        dataset: an SN dataset (``union3``, ``pantheonplus``, ...).
        model: model name (default: from ``params``).
        path: write the figure there.
        title: figure title.

    Returns:
        :class:`matplotlib.figure.Figure`.

    Raises:
        ValueError: a dataset that is not an SN dataset.
    """
    import jax.numpy as jnp

    from . import datasets as _ds
    from .cosmology import background as bg
    from .parameter import build_params

    model, p = _model_and_params(params, model)
    name = _ds.resolve_name(dataset)
    d = _ds.load_dataset(name)
    if d["metadata"]["dataset_type"] != "sn":
        raise ValueError(f"dataset {dataset!r} is {d['metadata']['dataset_type']!r}, not an SN dataset")
    ev = _problem(model, p, [name]).evaluate()[name]
    offset = float(np.asarray(ev["predictions"]["offset"]))
    z = np.asarray(d["z_cmb"], float)
    mu = np.asarray(d["observations"], float)
    sig = np.sqrt(np.diag(np.asarray(d["covariance"], float)))
    resid = np.asarray(ev["residuals"], float)
    pp = build_params(model, p, derived=False)
    zg = np.geomspace(max(z.min() * 0.8, 1e-3), z.max() * 1.1, 300)
    mu_g = 5 * np.log10((1 + zg) * np.asarray(bg.comoving_transverse_distance(jnp.asarray(zg), pp))) + 25 + offset
    fig = _figure((7.0, 6.0))
    top, bot = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    top.errorbar(z, mu, yerr=sig, fmt="o", ms=3, color="tab:blue", alpha=0.8, capsize=1.5, label=name)
    top.plot(zg, mu_g, color="k", lw=1.3, label=f"{model} (offset {offset:+.3f})")
    top.set_xscale("log")
    top.set_ylabel("μ (data offset convention)")
    top.legend(fontsize=8)
    bot.errorbar(z, resid, yerr=sig, fmt="o", ms=3, color="tab:blue", capsize=1.5)
    bot.axhline(0.0, color="k", lw=0.8)
    bot.set_xlabel("z")
    bot.set_ylabel("data − model")
    top.set_title(title or f"Hubble diagram: {name} — {model}, χ² = {ev['chi2']:.2f} ({mu.size} SNe)")
    return _finish(fig, path)


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
        path: write the figure there.
        title: figure title.

    Returns:
        :class:`matplotlib.figure.Figure`.

    Raises:
        ValueError: unknown names (lists the available ones), fewer than two samples.
    """
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
    fig = _figure((2.2 * n + 0.8, 2.2 * n + 0.6))
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
    return _finish(fig, path)


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
    if not isinstance(profile, Mapping) or "delta_chi2" not in profile or "names" not in profile:
        raise ValueError("plot_profile needs the result of pbufjax.batch.profile_likelihood")
    names = list(profile["names"])
    d = np.asarray(profile["delta_chi2"], float)
    levels = profile.get("levels", {})
    fig = _figure((6.0, 4.5))
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
    return _finish(fig, path)


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
    if not isinstance(comparison, Mapping) or "delta_chi2" not in comparison or "observed" not in comparison:
        raise ValueError("plot_mock_delta_chi2 needs the result of pbufjax.batch.compare_models")
    d = np.asarray(comparison["delta_chi2"], float)
    valid = np.asarray(comparison.get("valid", np.isfinite(d)), bool)
    d = d[valid & np.isfinite(d)]
    if d.size == 0:
        raise ValueError("no valid mock Δχ² to plot")
    obs = float(comparison["observed"]["delta_chi2"])
    fig = _figure((6.0, 4.5))
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
    return _finish(fig, path)


__all__ = [
    "bao_curves",
    "plot_bao",
    "plot_corner",
    "plot_mock_delta_chi2",
    "plot_profile",
    "plot_sn",
]
