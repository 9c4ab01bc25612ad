"""Figures of data against a model: BAO distances and the SN Hubble diagram.

Every function builds a :class:`matplotlib.figure.Figure` directly (no ``pyplot``, no
global backend switch), so it works headless; ``path`` writes the figure (PNG, PDF,
SVG by extension) and the figure is returned for further editing. Datasets are
labelled by the names the caller gave (the canonical name added for an alias), and
``data_dir`` is the folder of the release files (default: the data registry's search path).

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

from .figures import dataset_label, figure_path, new_figure, save_figure

#: Colors of the BAO quantities.
BAO_COLORS = {"DM": "tab:blue", "DH": "tab:orange", "DV": "tab:green"}


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
    and a residual panel ((data − model)/σ, σ from the covariance diagonal).

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
        pts += [(dataset_label(name, d["name"]),) + t for t in _bao_points(d)]
    zs = np.array([t[2] for t in pts])
    zmax = float(z_max) if z_max else 1.1 * float(zs.max())
    zgrid = np.linspace(0.02, zmax, 300)
    curves = bao_curves(model, p, zgrid)
    at = bao_curves(model, p, zs)
    fig = new_figure((7.0, 6.0))
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
    return save_figure(fig, path, "bao.png")


# ---------------------------------------------------------------------------
# Supernovae
# ---------------------------------------------------------------------------


def plot_sn(params, dataset: str = "union3", *, model: str | None = None, path: str | Path | None = None,
            title: str | None = None, data_dir: str | os.PathLike | None = None):
    """SN Ia Hubble diagram (μ vs z, σ from the covariance diagonal) with the model curve
    (offset fitted analytically) and a residual panel.

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
    fig = new_figure((7.0, 6.0))
    top, bot = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    top.errorbar(z, mu, yerr=sig, fmt="o", ms=3, color="tab:blue", alpha=0.8, capsize=1.5,
                 label=dataset_label(dataset, name))
    top.plot(zg, mu_g, color="k", lw=1.3, label=f"{model} (offset {offset:+.3f})")
    top.set_xscale("log")
    top.set_ylabel("μ (data offset convention)")
    top.legend(fontsize=8)
    bot.errorbar(z, resid, yerr=sig, fmt="o", ms=3, color="tab:blue", capsize=1.5)
    bot.axhline(0.0, color="k", lw=0.8)
    bot.set_xlabel("z")
    bot.set_ylabel("data − model")
    top.set_title(title or f"Hubble diagram: {dataset_label(dataset, name)} — {model}, χ² = {ev['chi2']:.2f} "
                           f"({mu.size} SNe)")
    return save_figure(fig, path, "sn.png")


__all__ = ["BAO_COLORS", "bao_curves", "plot_bao", "plot_sn"]
