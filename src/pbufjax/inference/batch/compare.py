"""Model comparison calibrated with mocks of the null model.

With :math:`\\chi^2_0` (null model, :math:`k_0` free parameters) and :math:`\\chi^2_1`
(alternative, :math:`k_1`) minimized on the same data,

.. math::

    \\Delta\\chi^2 = \\chi^2_0 - \\chi^2_1,\\qquad
    \\Delta\\mathrm{AIC} = (\\chi^2_1 + 2k_1) - (\\chi^2_0 + 2k_0)

(Akaike 1974; negative ΔAIC favours the alternative). The distribution of
:math:`\\Delta\\chi^2` over mocks drawn from the null model's best fit calibrates the
value seen on the real data; the p-value is
:math:`p = (1 + \\#\\{\\Delta\\chi^2_{mock} \\ge \\Delta\\chi^2_{obs}\\})/(1 + K)`
(Davison & Hinkley 1997, eq. 4.11), which is never zero for finite :math:`K`.
Wilks' theorem (a :math:`\\chi^2_{k_1-k_0}` law) need not hold when parameters sit at a
bound or are unidentified under the null — the reason for calibrating with mocks.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ... import fit as _fit
from ...runtime.compile_cache import enable_from_environment
from ..sharding import check_count
from .common import DEFAULT_METHOD, check_fit_options, fit_real, open_campaign, problem
from .mocks import fiducial_model, mock_config, run_mocks

logger = logging.getLogger(__name__)


def _own_overrides(model: str, overrides) -> dict:
    """The overrides that ``model`` has (parameters, static settings, nuisance parameters)."""
    from ...cosmology.parameters import STATIC_PARAMS, get_defaults

    keys = set(get_defaults(model)) | set(STATIC_PARAMS) | set(_fit.NUISANCE_BOUNDS)
    return {k: v for k, v in dict(overrides or {}).items() if k in keys}


def _statistics(r0, r1, real0, real1, k0: int, k1: int) -> dict[str, Any]:
    """Δχ², ΔAIC, the p-value and quantiles of the mocks against the observed values."""
    dchi2 = r0["chi2"] - r1["chi2"]
    daic = (r1["chi2"] + 2 * k1) - (r0["chi2"] + 2 * k0)
    valid = (r0["status"] < 2) & (r1["status"] < 2) & np.isfinite(dchi2)
    obs_d = real0["chi2"] - real1["chi2"]
    obs_aic = (real1["chi2"] + 2 * k1) - (real0["chi2"] + 2 * k0)
    dv = dchi2[valid]
    p_value = float((1 + np.sum(dv >= obs_d)) / (1 + dv.size)) if dv.size else float("nan")
    quant = {q: float(np.percentile(dv, float(q))) for q in ("16", "50", "84", "95")} if dv.size else {}
    return {
        "delta_chi2": dchi2,
        "delta_aic": daic,
        "valid": valid,
        "n_valid": int(valid.sum()),
        "observed": {"chi2_null": real0["chi2"], "chi2_alt": real1["chi2"], "delta_chi2": float(obs_d),
                     "delta_aic": float(obs_aic), "params_null": real0["params"], "params_alt": real1["params"],
                     "status_null": real0["status"], "status_alt": real1["status"]},
        "p_value": p_value,
        "quantiles": {"delta_chi2": quant},
    }


def compare_models(datasets_list, n_mocks: int, *, null_model: str = "lcdm", alt_model: str = "pbuf",
                   null_params: Sequence[str] | str = ("H0", "Om0"),
                   alt_params: Sequence[str] | str = ("H0", "Om0", "k_sat"), overrides=None,
                   fiducial: Mapping | None = None, seed: int = 0, covariance_scaling: float = 1.0,
                   n_starts: int = 1, devices=None, chunk_size: int | None = None, max_memory: float | None = None,
                   progress: bool = False, method: str = DEFAULT_METHOD,
                   fit_options: Mapping | None = None, data_dir=None, output=None,
                   resume: bool = False) -> dict[str, Any]:
    """Distribution of Δχ² and ΔAIC between two models over mocks of the null model.

    Mocks are drawn from the null model's best fit to the real data (or
    ``fiducial``); both models are fitted to the same mocks (one vmapped batch each)
    and to the real data. See the module docstring for the definitions.

    Args:
        datasets_list: datasets.
        n_mocks: number of mocks K (≥ 1).
        null_model: the null model (default ΛCDM).
        alt_model: the alternative (default PBUF).
        null_params: free parameters of the null model.
        alt_params: free parameters of the alternative.
        overrides: fixed values (each model takes the ones it has).
        fiducial: parameter values of the null model for the mocks.
        seed: random seed (as in ``fit_mocks``).
        covariance_scaling: :math:`s` in :math:`C \\to sC`.
        n_starts: starts per mock.
        devices: devices to shard over.
        chunk_size: mocks per chunk.
        max_memory: memory budget of a chunk [bytes].
        progress: progress bar over chunks.
        method: batch fit method (:data:`FIT_METHODS`).
        fit_options: options of the method.
        data_dir: folder of the data files (default: the package's search path).
        output: folder of the two mock campaigns (``null/`` and ``alt/``, each as in
            :func:`~pbufjax.inference.batch.mocks.fit_mocks`), streamed chunk by chunk.
        resume: continue the campaigns in ``output``.

    Returns:
        ``{"delta_chi2": array[K], "delta_aic": array[K], "valid": bool array (both
        fits converged), "observed": {"chi2_null", "chi2_alt", "delta_chi2",
        "delta_aic", "params_null", "params_alt", "status_null", "status_alt"},
        "p_value" (of the observed Δχ²), "n_valid", "quantiles": {"delta_chi2": {"16",
        "50", "84", "95"}}, "null", "alt" (the mock-fit results), "k_null", "k_alt",
        "fiducial"}``.

    Raises:
        ValueError, KeyError, TypeError: as :func:`~pbufjax.inference.batch.mocks.fit_mocks`.
    """
    enable_from_environment()
    n_mocks = check_count("n_mocks", n_mocks)
    n_starts = check_count("n_starts", n_starts)
    options = check_fit_options(fit_options, method)
    own0, own1 = _own_overrides(null_model, overrides), _own_overrides(alt_model, overrides)
    p0 = problem(null_model, datasets_list, null_params, own0, covariance_scaling, data_dir=data_dir)
    p1 = problem(alt_model, datasets_list, alt_params, own1, covariance_scaling, data_dir=data_dir)
    real0 = fit_real(p0, options=options)
    fid_kw = {"overrides": own0, "model": null_model, "covariance_scaling": covariance_scaling, "data_dir": data_dir}
    if fiducial is None:
        if real0["status"] == _fit.Status.FAILED:
            raise ValueError(f"the fit of {null_model!r} to the real data failed")
        fid = fiducial_model(datasets_list, [], fiducial={**real0["params"]}, **fid_kw)
        fid["source"] = f"best fit of {null_model} to the real data (free: {', '.join(p0.free_params)})"
    else:
        fid = fiducial_model(datasets_list, [], fiducial=fiducial, **fid_kw)
    # alternative on the real data: from its own start and from the null best fit, keep the better
    x1 = np.array([real0["params"].get(k, v) for k, v in zip(p1.free_params, p1.x0)])
    real1 = min((fit_real(p1, options=options), fit_real(p1, np.clip(x1, p1.lower, p1.upper), options)),
                key=lambda r: r["chi2"])
    kw = {"seed": seed, "n_starts": n_starts, "options": options, "devices": devices, "chunk_size": chunk_size,
          "max_memory": max_memory, "progress": progress}
    if output is None and resume:
        raise ValueError("resume=True needs output= (the folder of the campaigns to resume)")
    camps = [None, None] if output is None else [
        open_campaign(Path(output) / part, resume, "compare_models", p, options, role=part,
                      **mock_config(fid, n_mocks, seed, n_starts)) for part, p in (("null", p0), ("alt", p1))]
    r0 = run_mocks(p0, fid, n_mocks, desc=f"{null_model} mock fits", campaign=camps[0], **kw)
    r1 = run_mocks(p1, fid, n_mocks, desc=f"{alt_model} mock fits", campaign=camps[1], **kw)
    n_data = int(p0.likelihood.n_total)
    for r, p, m in ((r0, p0, null_model), (r1, p1, alt_model)):
        r.update(model=m, datasets=list(p.datasets), free_params=list(p.free_params), n_mocks=n_mocks,
                 n_data=n_data, dof=n_data - p.n_free, seed=int(seed), fiducial=fid)
    out = _statistics(r0, r1, real0, real1, p0.n_free, p1.n_free)
    if out["n_valid"] < n_mocks:
        logger.warning("%d of %d mocks excluded: a fit failed", n_mocks - out["n_valid"], n_mocks)
    out.update({"null": r0, "alt": r1, "null_model": null_model, "alt_model": alt_model, "k_null": p0.n_free,
                "k_alt": p1.n_free, "datasets": list(p0.datasets), "fiducial": fid, "n_mocks": n_mocks,
                "seed": int(seed), "n_processes": r0["n_processes"], "n_devices": r0["n_devices"]})
    if output is not None:
        out.update(output=str(output), resumed_chunks=r0["resumed_chunks"] + r1["resumed_chunks"])
    return out


__all__ = ["compare_models"]
