"""The fitting engine: :func:`run_fit`.

One call configures a fit (model, datasets, free parameters, fixed values,
optimizer), minimizes the joint χ² with exact JAX gradients, and returns the API
reference's ResultsDict:

.. code-block:: python

    {
        "model", "mode", "datasets", "dataset_names", "free_params",
        "params": ParameterDict,            # best fit (fixed values included, derived keys filled)
        "results": {name: {"chi2", "predictions", "residuals", "n_data", "dataset"}},
        "metrics": {"total_chi2", "aic", "bic", "dof", "p_value", "reduced_chi2", "n_data", "n_params"},
        "uncertainties": {name: sigma},     # 1σ from the Hessian; NaN where unconstrained
        "covariance": ndarray (k, k),       # ordered as free_params
        "figure_of_merit": float | None,    # DETF 1/sqrt(det Cov(w0, wa)) when w0, wa are free
        "correlation": ndarray (k, k),
        "diagnostics": {"unconstrained", "h_ratios", "recomb_check", "covariance_status", ...},
        "optimization": {"convergence_status", "chi2_improvement", "method", ...},
        "timing": {...},
    }

Dataset names
-------------
Every entry keyed by dataset (``results``, and in individual mode ``fits`` and the
``per_dataset`` blocks) is keyed by the name the caller passed, alias or not:
``run_fit("pbuf", ["cmb", "bao"])["results"]["cmb"]``. Each block records the
canonical name under ``"dataset"`` (``"planck2018_priors"``); ``datasets`` lists the
canonical names in the caller's order and ``dataset_names`` maps given → canonical.

Uncertainties are the Laplace approximation of :mod:`pbufjax.analysis.uncertainties`.

Caching
-------
Likelihoods and their compiled χ², gradient and Hessian are cached per (model,
datasets, free parameters, names of the overridden parameters, recombination
method, covariance scaling); override values, starting points and bounds flow as
arrays, so a second fit of the same configuration runs in milliseconds.
:func:`clear_cache` forgets them. The persistent compilation cache
(:mod:`pbufjax.compile_cache`) is switched on at the first :func:`run_fit` call.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .. import data as _data
from .. import fit as _opt
from ..fit import settings as _settings
from ..fit.merit import figure_of_merit
from ..runtime import compile_cache as _compile_cache
from ..runtime import utc_now
from . import diagnostics as _diagnostics
from .statistics import compute_metrics
from .uncertainties import empty_uncertainties, hessian_uncertainties

logger = logging.getLogger("pbufjax.engine")  # the public module's name: what users and the CLI filter on

#: Valid keys of ``optimizer_config``.
OPTIMIZER_CONFIG_KEYS = ("method", "options", "bounds", "covariance_scaling", "uncertainties", "integrity",
                         "frozen_parameters")

MODES = ("joint", "individual")

#: ``convergence_status`` of a run without free parameters.
NOT_OPTIMIZED = "not optimized"

#: Worst status first when combining individual fits (keyed by the status values).
_STATUS_RANK = {str(_opt.Status.SUCCESS): 0, str(_opt.Status.MAX_ITER): 1, str(_opt.Status.FAILED): 2}


def clear_cache() -> None:
    """Forget the cached likelihoods and compiled functions."""
    _opt.clear_cache()


# ---------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------


def _check_config(optimizer_config: Mapping | None, model: str, datasets: Sequence[str]) -> dict:
    """``optimizer_config`` checked by :mod:`pbufjax.fit.settings` (the checks of the CLI's
    configuration files): keys, method, options, covariance scaling, frozen parameters."""
    if optimizer_config is None:
        return {}
    if not isinstance(optimizer_config, Mapping):
        raise TypeError(f"optimizer_config must be a dict, got {type(optimizer_config).__name__}")
    cfg = dict(optimizer_config)
    unknown = sorted(set(cfg) - set(OPTIMIZER_CONFIG_KEYS))
    if unknown:
        raise ValueError(f"unknown optimizer_config key(s) {unknown}; valid keys: {', '.join(OPTIMIZER_CONFIG_KEYS)}")
    method = _settings.check_method(cfg.get("method", _settings.DEFAULT_METHOD))
    if cfg.get("options") is not None:
        cfg["options"] = _settings.check_options(method, cfg["options"])
    if "covariance_scaling" in cfg:
        cfg["covariance_scaling"] = _settings.check_covariance_scaling(cfg["covariance_scaling"])
    if cfg.get("frozen_parameters") is not None:
        cfg["frozen_parameters"] = _settings.check_frozen_parameters(model, cfg["frozen_parameters"], datasets)
    for key in ("uncertainties", "integrity"):
        if key in cfg and not isinstance(cfg[key], bool):
            raise TypeError(f"optimizer_config[{key!r}] must be True or False, got {cfg[key]!r}")
    return cfg


def _free_list(optimization_params, cfg: dict, model: str, datasets: Sequence[str]) -> list[str]:
    """The parameters to optimize: ``optimization_params`` less the frozen ones; ``cfg["bounds"]``
    checked for them (:func:`pbufjax.fit.settings.check_bounds`)."""
    if optimization_params is None:
        optimization_params = []
    if not isinstance(optimization_params, (str, list, tuple)):
        raise TypeError(f"optimization_params must be a list of parameter names, "
                        f"got {type(optimization_params).__name__}")
    names = _settings.check_name_list(optimization_params, "optimization_params")
    frozen = cfg.get("frozen_parameters") or []
    free = [p for p in names if p not in frozen]
    if cfg.get("bounds") is not None:
        cfg["bounds"] = _settings.check_bounds(model, cfg["bounds"], datasets, free)
    return free


def _dataset_names(datasets_list: Sequence[str] | str) -> dict[str, str]:
    """Given name → canonical name, in the caller's order (errors from ``canonical_datasets``); a
    combination (``sdss_legacy``) gives its members, each under its own name."""
    _opt.canonical_datasets(datasets_list)  # the checks and their messages
    return dict(_data.dataset_name_pairs(datasets_list))


def _get_problem(model, datasets, free, overrides, cfg, data_dir, bounds=None):
    return _opt.get_problem(model, tuple(datasets), free, overrides, cfg.get("covariance_scaling", 1.0), bounds,
                            data_dir=data_dir)


# ---------------------------------------------------------------------------
# run_fit
# ---------------------------------------------------------------------------


def run_fit(
    model: str,
    datasets_list: Sequence[str] | str,
    mode: str = "joint",
    overrides: Mapping[str, Any] | None = None,
    optimizer_config: Mapping[str, Any] | None = None,
    optimization_params: Sequence[str] | str | None = None,
    *,
    data_dir: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Fit (or evaluate) a model on a list of datasets.

    Args:
        model: model name (``lcdm``, ``wcdm``, ``w0wacdm``, ``pbuf`` or a registered one).
        datasets_list: dataset names or aliases (``["cmb", "bao", "sn"]``).
        mode: ``"joint"`` (one χ² summed over the datasets) or ``"individual"``
            (each dataset fitted on its own).
        overrides: parameter values: fixed values, and starting values of the
            optimized ones (``recomb_method`` and nuisance parameters allowed).
        optimizer_config: ``{"method": name in OPTIMIZERS (default "minimize"),
            "options": {...}, "bounds": {name: (lo, hi)}, "covariance_scaling": s,
            "uncertainties": True, "integrity": True, "frozen_parameters": [...]}``.
        optimization_params: parameters to optimize; None or empty evaluates at
            the given values.
        data_dir: folder of the release data files (default: the data registry's
            search path, ``$PBUFJAX_DATA_DIR`` among them).

    Returns:
        ResultsDict (module docstring), per-dataset entries keyed by the names in
        ``datasets_list``. ``result["optimization"]["convergence_status"]`` is
        ``"success"``, ``"max_iter"`` or ``"failed"`` (``"not optimized"`` without
        free parameters).

    Raises:
        ValueError: unknown model, empty ``datasets_list``, unknown mode, a
            parameter that cannot be optimized for the model, bounds reversed,
            not finite, outside the parameter's valid range or for a fixed
            parameter, a starting value outside its bounds, an unknown optimizer
            method or option, an option out of range (``maxiter`` < 1), a
            ``covariance_scaling`` outside (0, 1000], a frozen parameter that is
            neither the model's nor a dataset's, non-physical parameter values.
            The settings are checked by :mod:`pbufjax.fit.settings`, as the CLI's
            configuration files are (same messages).
        KeyError: unknown dataset.
        TypeError: wrong argument types (e.g. an override given as a string).

    Example:
        >>> r = run_fit("lcdm", ["bao"], optimization_params=["H0", "Om0"],
        ...             overrides={"Obh2": 0.02237})                       # doctest: +SKIP
        >>> r["params"]["Om0"], r["uncertainties"]["Om0"]                  # doctest: +SKIP
        (0.2972..., 0.0086...)
        >>> r["results"]["bao"]["dataset"]                                 # doctest: +SKIP
        'desi_dr2'
    """
    t_start = time.perf_counter()
    _compile_cache.enable_from_environment()
    if not isinstance(mode, str) or mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; valid modes: {', '.join(MODES)}")
    names = _dataset_names(datasets_list)
    cfg = _check_config(optimizer_config, model, list(names.values()))
    free = _free_list(optimization_params, cfg, model, list(names.values()))
    if mode == "joint" or len(names) == 1:
        result = _fit_joint(model, names, overrides, cfg, free, data_dir)
        result["mode"] = mode
        result["timing"]["total"] = time.perf_counter() - t_start
        return result
    return _fit_individual(model, names, overrides, cfg, free, data_dir, t_start)


def _fit_individual(model, names, overrides, cfg, free, data_dir, t_start) -> dict[str, Any]:
    fits = {}
    for given, canonical in names.items():
        sub_cfg = dict(cfg)
        if cfg.get("bounds"):
            sub_cfg["bounds"] = {k: v for k, v in cfg["bounds"].items() if k in free}
        fits[given] = _fit_joint(model, {given: canonical}, overrides, sub_cfg, free, data_dir)
    results = {}
    for d, r in fits.items():
        block = dict(r["results"][d])
        block.update(params={k: r["params"][k] for k in free}, uncertainties=r["uncertainties"],
                     metrics=r["metrics"], convergence_status=r["optimization"]["convergence_status"])
        results[d] = block
    total = float(sum(r["metrics"]["total_chi2"] for r in fits.values()))
    n_params = sum(r["metrics"]["n_params"] for r in fits.values())
    metrics = compute_metrics(total, n_params, {d: r["metrics"]["n_data"] for d, r in fits.items()})
    statuses = [r["optimization"]["convergence_status"] for r in fits.values()]
    worst = max(statuses, key=lambda s: _STATUS_RANK.get(str(s), -1))
    start = _get_problem(model, list(names.values())[:1], [], overrides, cfg, data_dir).params()
    return {
        "model": model,
        "mode": "individual",
        "datasets": list(names.values()),
        "dataset_names": dict(names),
        "free_params": list(free),
        "params": dict(start),
        "results": results,
        "fits": fits,
        "metrics": metrics,
        "uncertainties": {},
        "covariance": np.zeros((0, 0)),
        "correlation": np.zeros((0, 0)),
        "figure_of_merit": None,
        "diagnostics": {
            "unconstrained": sorted({p for r in fits.values() for p in r["diagnostics"]["unconstrained"]}),
            "per_dataset": {d: r["diagnostics"] for d, r in fits.items()},
            "warnings": [w for r in fits.values() for w in r["diagnostics"].get("warnings", [])],
        },
        "optimization": {
            "convergence_status": worst if free else NOT_OPTIMIZED,
            "per_dataset": {d: r["optimization"] for d, r in fits.items()},
            "chi2_improvement": float(sum(r["optimization"].get("chi2_improvement", 0.0) for r in fits.values())),
            "method": cfg.get("method", "minimize") if free else None,
        },
        "timing": {"total": time.perf_counter() - t_start},
    }


def _optimize(problem, cfg) -> tuple[np.ndarray, dict[str, Any], Any, Any]:
    """Minimize: (best x, the ``optimization`` block, unit-box Hessian and gradient at the end or None)."""
    method = cfg.get("method", "minimize")
    if not problem.n_free:
        return problem.x0, {"convergence_status": NOT_OPTIMIZED, "success": None, "method": None,
                            "covariance_scaling": problem.covariance_scaling,
                            "recomb_method": problem.recomb_method, "chi2_improvement": 0.0}, None, None
    out = _opt.solve(problem, method, cfg.get("options"))  # read through its (pre-redesign) key view
    best = np.asarray(out["x"], np.float64)
    extra = dict(out.get("extra") or {})
    hess_unit = extra.pop("hess_unit", None)  # exact unit-box Hessian at the end, when the solver has it
    if hess_unit is None:
        hess_unit = out.get("hess_unit")
    grad_unit = out.get("gradient_unit")
    versions = _opt.library_versions()
    version = versions.get(out["library"], "unknown")
    optimization = {
        "convergence_status": out["status"],
        "success": out["success"],
        "message": out["message"],
        "method": method,
        "library": out["library"],
        "version": version,
        "optimizer_info": {"method": method, "library": out["library"], "version": version},
        "options": dict(cfg.get("options") or {}),
        "optimized_params": {k: float(v) for k, v in zip(problem.free_params, best)},
        "starting_params": {k: float(v) for k, v in zip(problem.free_params, out["x0"])},
        "starting_chi2": float(out["chi2_start"]),
        "final_chi2": float(out["fun"]),
        "chi2_improvement": float(out["chi2_start"] - out["fun"]),
        "n_iterations": int(out["n_iterations"]),
        "n_function_evaluations": int(out["n_function_evaluations"]),
        "n_gradient_evaluations": int(out["n_gradient_evaluations"]),
        "gradient_norm": float(out["gradient_norm"]),
        "optimization_time": float(out["time"]),
        "bounds": {k: list(v) for k, v in problem.bounds.items()},
        "bounds_reached": list(out["bounds_reached"]),
        "log_space_params": [k for k, m in zip(problem.free_params, problem.log_mask) if m],
        "covariance_scaling": problem.covariance_scaling,
        "recomb_method": problem.recomb_method,
        "timestamp": utc_now(timespec="seconds"),
        "library_versions": versions,
    }
    if extra:
        optimization["extra"] = extra
    return best, optimization, hess_unit, grad_unit


def _uncertainties(problem, cfg, best, rep, hess_unit, grad_unit) -> dict[str, Any]:
    if not problem.n_free:
        return empty_uncertainties()
    if not cfg.get("uncertainties", True):
        return empty_uncertainties("not computed (uncertainties=False)")
    if hess_unit is not None:  # the optimizer already has the exact Hessian at the optimum
        hess = _opt.unit_hessian_to_physical(hess_unit, grad_unit, best, problem.lower, problem.upper,
                                             problem.log_mask)
    else:
        hess = rep["hessian"]
    return hessian_uncertainties(hess, best, problem.free_params, problem.lower, problem.upper, problem.log_mask)


def _fit_joint(model, names: Mapping[str, str], overrides, cfg, free, data_dir) -> dict[str, Any]:
    timing: dict[str, float] = {}
    t0 = time.perf_counter()
    problem = _get_problem(model, names.values(), free, overrides, cfg, data_dir, cfg.get("bounds"))
    timing["setup"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    best, optimization, hess_unit, grad_unit = _optimize(problem, cfg)
    if problem.n_free:
        timing["optimize"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    want_hessian = bool(problem.n_free and cfg.get("uncertainties", True) and hess_unit is None)
    # per-block χ², predictions, derived keys, H(z) and (when needed) the Hessian: one compiled call
    rep = problem.report(best, hessian=want_hessian, redshifts=_diagnostics.H_REDSHIFTS)
    blocks = {given: {**rep["blocks"][canonical], "n_data": problem.likelihood.n_data[canonical],
                      "dataset": canonical} for given, canonical in names.items()}
    total = float(sum(b["chi2"] for b in blocks.values()))
    params, hz = _diagnostics.best_fit_params(problem, best, rep, total)
    params["optimization_metadata"] = {
        "optimized_params": list(problem.free_params),
        "optimization_source": ",".join(problem.datasets),
        "convergence_status": optimization["convergence_status"],
        "timestamp": optimization.get("timestamp") or utc_now(timespec="seconds"),
    }
    timing["evaluate"] = time.perf_counter() - t2

    t3 = time.perf_counter()
    unc = _uncertainties(problem, cfg, best, rep, hess_unit, grad_unit)
    timing["uncertainties"] = time.perf_counter() - t3

    metrics = compute_metrics(total, problem.n_free, {d: b["n_data"] for d, b in blocks.items()})

    t4 = time.perf_counter()
    diagnostics = _diagnostics.fit_diagnostics(problem, params, hz, unc, optimization, metrics,
                                               integrity=cfg.get("integrity", True))
    for w in diagnostics["warnings"]:
        logger.warning("%s", w)
    timing["diagnostics"] = time.perf_counter() - t4

    result = {
        "model": model,
        "datasets": list(problem.datasets),
        "dataset_names": dict(names),
        "free_params": list(problem.free_params),
        "params": params,
        "results": blocks,
        "metrics": metrics,
        "uncertainties": dict(unc["sigma"]),
        "covariance": unc["covariance"],
        "correlation": unc["correlation"],
        # no covariance when uncertainties=False (an empty matrix): no figure of merit either
        "figure_of_merit": (figure_of_merit(unc["covariance"], problem.free_params)
                            if problem.n_free and np.size(unc["covariance"]) else None),
        "diagnostics": diagnostics,
        "optimization": optimization,
        "timing": timing,
    }
    if logger.isEnabledFor(logging.INFO):
        from .report import log_run

        log_run(model, "joint", result, metrics)
    return result


__all__ = ["MODES", "NOT_OPTIMIZED", "OPTIMIZER_CONFIG_KEYS", "clear_cache", "run_fit"]
