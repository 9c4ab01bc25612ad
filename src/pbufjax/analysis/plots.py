"""Figures of data against a model: BAO distances and the SN Hubble diagram.

Every function builds a :class:`matplotlib.figure.Figure` directly (no ``pyplot``, no
global backend switch), so it works headless; ``path`` writes the figure (PNG, PDF,
SVG by extension) and the figure is returned for further editing. Axis labels with units,
dataset names (``DESI DR2``) and model names (``ΛCDM``) come from :mod:`pbufjax.cosmology.labels`;
``data_dir`` is the folder of the release files (default: the data registry's search path).

Both figures have a residual panel under the main one. In the BAO figure colour is the quantity
(:data:`BAO_COLORS`, shared by its curve and its points) and marker shape the dataset
(:data:`BAO_MARKERS`), with one legend for each, so every legend entry looks like what it names.

Model curves are the compiled kernels of :mod:`pbufjax.cosmology` evaluated on a fine
redshift grid: :math:`D_M(z)/r_d`, :math:`D_H(z)/r_d = c/[H(z) r_d]` and
:math:`D_V(z)/r_d = [z D_M^2 D_H]^{1/3}/r_d` (DESI 2025, arXiv:2503.14738, eq. 2.1–2.3), and
:math:`\\mu(z) = 5\\log_{10}[(1+z)D_M(z)/\\mathrm{Mpc}] + 25` plus the supernova offset
fitted analytically to the data (the likelihood's :math:`B/E`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..cosmology.labels import axis_label, dataset_label, latex, model_label
from .figures import figure_path, new_figure, save_figure

#: Colors of the BAO quantities (points and model curves of one quantity share its colour).
BAO_COLORS = {"DM": "tab:blue", "DH": "tab:orange", "DV": "tab:green"}
#: Marker of each dataset of a BAO figure, in the order given (the dataset legend shows them in grey).
BAO_MARKERS = ("o", "s", "^", "D", "v", "P")
#: Colour of the dataset legend's markers (neutral: colour is the quantity, shape the dataset).
DATASET_MARKER_COLOR = "0.35"
#: Supernova data sets larger than this get binned residuals drawn over the points.
SN_BIN_ABOVE = 60


def _model_and_params(params, model):
    """(model name, numeric parameter dict) from a ParameterDict, a run_fit result or a dict."""
    if isinstance(params, Mapping) and "params" in params and isinstance(params["params"], Mapping):
        model = model or params.get("model")
        params = params["params"]
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a parameter dict or a run_fit result, got {type(params).__name__}")
    model = model or params.get("model_class") or "lcdm"
    from ..cosmology.parameters import DERIVED_PARAMS, METADATA_KEYS, get_defaults

    valid = set(get_defaults(model))
    clean = {k: v for k, v in params.items()
             if k in valid and k not in DERIVED_PARAMS and k not in METADATA_KEYS and k != "model_class"}
    return model, clean


def _problem(model, params, datasets, data_dir):
    """The fit problem evaluating ``params`` (nuisance parameters left to the likelihood)."""
    from .. import fit as _opt

    names = _opt.canonical_datasets(datasets)
    nuis = set(_opt.nuisance_for(names))
    over = {k: v for k, v in params.items() if k not in nuis}
    return _opt.get_problem(model, list(names), [], over, data_dir=data_dir)


# ---------------------------------------------------------------------------
# BAO
# ---------------------------------------------------------------------------


def _bao_points(data: Mapping, pred: Mapping | None = None):
    """Observed points as (kind, z, value, sigma) with kind in DM, DH, DV (all over r_d)."""
    from ..constants import C_KM_S

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

    from ..cosmology import background as bg
    from ..cosmology.cmb import derived
    from ..cosmology.parameters import build_params

    p = build_params(model, dict(params), derived=False)
    z = jnp.asarray(np.asarray(z, float))
    rd = float(derived(p)["r_drag"])
    dm = np.asarray(bg.comoving_transverse_distance(z, p))
    dh = np.asarray(bg.hubble_distance_z(z, p))
    dv = np.asarray(bg.volume_averaged_distance(z, p))
    return {"DM": dm / rd, "DH": dh / rd, "DV": dv / rd, "r_d": rd}


def plot_bao(params, datasets: Sequence[str] | str = ("desi_dr2",), *, model: str | None = None,
             z_max: float | None = None, path: str | Path | None = None, title: str | None = None,
             data_dir: str | os.PathLike | None = None):
    """BAO measurements with the model's :math:`D_M/r_d`, :math:`D_H/r_d`, :math:`D_V/r_d` curves
    and a residual panel ((data − model)/σ, σ from the covariance diagonal, the ±1σ band shaded).

    Colour is the quantity and marker shape the dataset; one legend shows the quantities' colours,
    the other the datasets' shapes (in grey, so no dataset entry borrows a quantity's colour).

    Args:
        params: best-fit parameters: a ``run_fit`` result, its ``"params"`` or any
            parameter dict.
        datasets: BAO datasets (``bao``, ``bao_ani`` or ``bao_tabulated`` type, whose Gaussian summary is
            drawn) or combinations of them (``sdss_legacy``).
        model: model name (default: from ``params``).
        z_max: upper end of the curves (default: 10% beyond the highest redshift).
        path: write the figure there (:func:`~pbufjax.analysis.figures.figure_path`: a folder gets a
            default file name, no extension gets ``.png``; PNG, PDF or SVG).
        title: figure title.
        data_dir: folder of the release files.

    Returns:
        :class:`matplotlib.figure.Figure`.

    Raises:
        ValueError: a dataset that is not BAO.
    """
    path = None if path is None else figure_path(path, "bao.png")  # checked first
    from .. import data as _data

    model, p = _model_and_params(params, model)
    if isinstance(datasets, str):
        datasets = [s.strip() for s in datasets.split(",") if s.strip()]
    pts = []
    for name, canonical in _data.dataset_name_pairs(datasets):  # a combination gives its members
        d = _data.load_dataset(canonical, data_dir=data_dir)
        dtype = d["metadata"]["dataset_type"]
        if dtype not in _data.BAO_TYPES:
            raise ValueError(f"dataset {name!r} is of type {dtype!r}, not BAO; valid types: "
                             f"{', '.join(_data.BAO_TYPES)} (e.g. desi_dr2, desi_dr1, boss_dr12, sdss_mgs)")
        pts += [(dataset_label(canonical),) + t for t in _bao_points(d)]
    zs = np.array([t[2] for t in pts])
    zmax = float(z_max) if z_max else 1.1 * float(zs.max())
    zgrid = np.linspace(0.02, zmax, 300)
    curves = bao_curves(model, p, zgrid)
    at = bao_curves(model, p, zs)
    fig = new_figure((7.0, 6.4))
    top, bot = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.2]})
    _draw_bao(top, bot, pts, zgrid, curves, at, model)
    shown = ", ".join(dict.fromkeys(t[0] for t in pts))
    top.set_title(title or f"BAO: {shown} — {model_label(model)}, $r_\\mathrm{{d}}$ = {curves['r_d']:.2f} Mpc",
                  fontsize=11)
    return save_figure(fig, path, "bao.png")


def _draw_bao(top, bot, pts, zgrid, curves, at, model):
    """Curves, points (colour: quantity, marker: dataset), two legends and the residual panel."""
    from matplotlib.lines import Line2D

    kinds = [k for k in BAO_COLORS if any(t[1] == k for t in pts)]
    order = list(dict.fromkeys(t[0] for t in pts))
    dodge = {"DM": -0.012, "DH": 0.012, "DV": 0.0}  # residuals at one redshift side by side
    for kind in kinds:
        top.plot(zgrid, curves[kind], color=BAO_COLORS[kind], lw=1.5, zorder=1)
    for i, (name, kind, z, v, s) in enumerate(pts):
        mk = BAO_MARKERS[order.index(name) % len(BAO_MARKERS)]
        style = {"fmt": mk, "color": BAO_COLORS[kind], "ms": 5, "capsize": 2, "mec": "k", "mew": 0.5, "zorder": 3}
        top.errorbar(z, v, yerr=s, **style)
        bot.errorbar(z + dodge[kind] * zgrid[-1], (v - at[kind][i]) / s, yerr=1.0, **style)
    quantity = [Line2D([], [], color=BAO_COLORS[k], lw=1.5, marker="o", ms=5, mec="k", mew=0.5,
                       label=f"${latex(k + '_over_rd')}$") for k in kinds]
    data = [Line2D([], [], color=DATASET_MARKER_COLOR, ls="none", marker=BAO_MARKERS[i % len(BAO_MARKERS)], ms=5,
                   mec="k", mew=0.5, label=name) for i, name in enumerate(order)]
    first = top.legend(handles=quantity, loc="upper left", fontsize=9, title=f"lines: {model_label(model)}",
                       title_fontsize=9)
    top.add_artist(first)
    top.legend(handles=data, loc="lower right", fontsize=9, title="dataset", title_fontsize=9)
    top.set_ylabel("distance / $r_\\mathrm{d}$")
    bot.axhspan(-1.0, 1.0, color="0.92", zorder=0)
    bot.axhline(0.0, color="k", lw=0.8)
    bot.set_xlabel(f"redshift {axis_label('z')}")
    bot.set_ylabel("(data $-$ model)/$\\sigma$", fontsize=9)
    lim = max(3.0, 1.15 * max(abs((t[3] - at[t[1]][i]) / t[4]) + 1.0 for i, t in enumerate(pts)))
    bot.set_ylim(-lim, lim)
    top.set_xlim(0.0, zgrid[-1])


# ---------------------------------------------------------------------------
# Supernovae
# ---------------------------------------------------------------------------


def plot_sn(params, dataset: str = "union3", *, model: str | None = None, path: str | Path | None = None,
            title: str | None = None, data_dir: str | os.PathLike | None = None):
    """SN Ia Hubble diagram (μ [mag] vs z, σ from the covariance diagonal) with the model curve
    (offset fitted analytically with the full covariance) and a residual panel; a release of more
    than :data:`SN_BIN_ABOVE` supernovae gets inverse-variance binned residuals over the points.

    Args:
        params: best-fit parameters (``run_fit`` result, its ``"params"`` or a dict).
        dataset: an SN dataset (``union3``, ``pantheonplus``, ...).
        model: model name (default: from ``params``).
        path: write the figure there (:func:`~pbufjax.analysis.figures.figure_path`: a folder gets a
            default file name, no extension gets ``.png``; PNG, PDF or SVG).
        title: figure title.
        data_dir: folder of the release files.

    Returns:
        :class:`matplotlib.figure.Figure`.

    Raises:
        ValueError: a dataset that is not an SN dataset.
    """
    path = None if path is None else figure_path(path, "sn.png")  # checked first
    import jax.numpy as jnp

    from .. import data as _data
    from ..cosmology import background as bg
    from ..cosmology.parameters import build_params

    model, p = _model_and_params(params, model)
    name = _data.resolve_name(dataset)
    d = _data.load_dataset(name, data_dir=data_dir)
    if d["metadata"]["dataset_type"] != "sn":
        raise ValueError(f"dataset {dataset!r} is {d['metadata']['dataset_type']!r}, not an SN dataset")
    ev = _problem(model, p, [name], data_dir).evaluate()[name]
    offset = float(np.asarray(ev["predictions"]["offset"]))
    z = np.asarray(d["z_cmb"], float)
    mu = np.asarray(d["observations"], float)
    sig = np.sqrt(np.diag(np.asarray(d["covariance"], float)))
    resid = np.asarray(ev["residuals"], float)
    pp = build_params(model, p, derived=False)
    zg = np.geomspace(max(z.min() * 0.8, 1e-3), z.max() * 1.1, 300)
    mu_g = 5 * np.log10((1 + zg) * np.asarray(bg.comoving_transverse_distance(jnp.asarray(zg), pp))) + 25 + offset
    label = dataset_label(name)
    fig = new_figure((7.0, 6.4))
    top, bot = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.2]})
    big = mu.size > SN_BIN_ABOVE
    style = {"fmt": "o", "ms": 2 if big else 4, "color": "tab:blue", "ecolor": "#9cc3e6" if big else "tab:blue",
             "elinewidth": 0.6 if big else 1.0, "alpha": 0.6 if big else 0.9, "capsize": 0 if big else 1.5, "zorder": 2}
    top.errorbar(z, mu, yerr=sig, label=f"{label} ({mu.size} SNe)", **style)
    top.plot(zg, mu_g, color="k", lw=1.3, zorder=3,
             label=f"{model_label(model)} (offset {offset:+.3f} mag fitted)")
    top.set_xscale("log")
    # limits from the moduli, not their error bars (some releases de-weight SNe with huge diagonal errors)
    top.set_ylim(min(float(np.percentile(mu, 0.5)), float(mu_g.min())) - 0.6,
                 max(float(np.percentile(mu, 99.5)), float(mu_g.max())) + 0.6)
    top.set_ylabel(f"distance modulus {axis_label('mu')}")
    top.legend(fontsize=9, loc="upper left")
    bot.errorbar(z, resid, yerr=sig, **style)
    if big:
        zb, rb, eb = _binned_residuals(z, resid, sig)
        bot.errorbar(zb, rb, yerr=eb, fmt="s", ms=4, color="k", capsize=2, zorder=4,
                     label="binned (inverse-variance mean)")
        bot.legend(fontsize=8, loc="lower left")
        lim = max(0.3, 1.3 * float(np.max(np.abs(rb) + eb)), float(np.percentile(np.abs(resid), 98)))
        bot.set_ylim(-lim, lim)
    bot.axhline(0.0, color="k", lw=0.8)
    bot.text(0.99, 0.04, "errors: covariance diagonal; offset fitted with the full covariance",
             transform=bot.transAxes, ha="right", va="bottom", fontsize=7, color="0.3",
             bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1.0})
    bot.set_xlabel(f"redshift {axis_label('z')}")
    bot.set_ylabel(axis_label("delta_mu"), fontsize=9)
    top.set_title(title or f"Hubble diagram: {label} — {model_label(model)}, $\\chi^2$ = {ev['chi2']:.2f} "
                           f"({mu.size} SNe)", fontsize=11)
    return save_figure(fig, path, "sn.png")


def _binned_residuals(z, resid, sig, n_bins: int = 12):
    """Inverse-variance means (diagonal errors) of the residuals in log-spaced redshift bins."""
    edges = np.geomspace(z.min(), z.max() * (1 + 1e-9), n_bins + 1)
    idx = np.clip(np.digitize(z, edges) - 1, 0, n_bins - 1)
    zb, rb, eb = [], [], []
    for b in range(n_bins):
        m = idx == b
        if m.sum() < 3:
            continue
        w = 1.0 / sig[m] ** 2
        zb.append(float(np.exp(np.mean(np.log(z[m])))))
        rb.append(float(np.sum(w * resid[m]) / np.sum(w)))
        eb.append(float(1.0 / np.sqrt(np.sum(w))))
    return np.array(zb), np.array(rb), np.array(eb)


__all__ = ["BAO_COLORS", "BAO_MARKERS", "bao_curves", "plot_bao", "plot_sn"]
