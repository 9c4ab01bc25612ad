"""The fitting engine: :func:`run_fit`.

One call configures a fit (model, datasets, free parameters, fixed values,
optimizer), minimizes the joint χ² with exact JAX gradients, and returns the API
reference's ResultsDict:

.. code-block:: python

    {
        "model", "mode", "datasets", "free_params",
        "params": ParameterDict,            # best fit (fixed values included, derived keys filled)
        "results": {name: {"chi2", "predictions", "residuals", "n_data"}},
        "metrics": {"total_chi2", "aic", "bic", "dof", "p_value", "reduced_chi2", "n_data", "n_params"},
        "uncertainties": {name: sigma},     # 1σ from the Hessian; NaN where unconstrained
        "covariance": ndarray (k, k),       # ordered as free_params
        "correlation": ndarray (k, k),
        "diagnostics": {"unconstrained", "h_ratios", "recomb_check", "covariance_status", ...},
        "optimization": {"convergence_status", "chi2_improvement", "method", ...},
        "timing": {...},
    }

Uncertainties
-------------
With :math:`H_{ij} = \\partial^2\\chi^2/\\partial\\theta_i\\partial\\theta_j` at the
minimum (exact, by forward-mode automatic differentiation in the physical
parameters), the Fisher matrix of the Gaussian likelihood
:math:`L \\propto e^{-\\chi^2/2}` is :math:`F = H/2` and the covariance is
:math:`C = F^{-1}` (Laplace approximation; e.g. Tegmark, Taylor & Heavens 1997,
astro-ph/9603021). Parameters the data do not constrain are detected on the
Fisher matrix in unit-box coordinates (each parameter scaled by its bound range,
log-space parameters in :math:`\\log_{10}`): while its smallest eigenvalue
corresponds to a 1σ width larger than ``UNCONSTRAINED_FRACTION`` of the range,
the parameter dominating that eigenvector is flagged and removed. Flagged
parameters are listed in ``diagnostics["unconstrained"]``, get NaN σ, and the
covariance of the others is conditional on them (held at their best-fit values).

Caching
-------
Likelihoods and their compiled χ², gradient and Hessian are cached per (model,
datasets, free parameters, names of the overridden parameters, recombination
method, covariance scaling); override values, starting points and bounds flow as
arrays, so a second fit of the same configuration runs in milliseconds.
:func:`clear_cache` forgets them.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from . import compile_cache as _compile_cache
from . import integrity as _integrity
from . import optimizer as _opt
from .optimizer import OPTIMIZERS, FitProblem, register_optimizer  # noqa: F401  (re-exported)
from .statistics import compute_metrics

logger = logging.getLogger(__name__)

_compile_cache.enable_from_environment()

#: A parameter whose 1σ (Fisher) width exceeds this fraction of its bound range
#: is reported as unconstrained.
UNCONSTRAINED_FRACTION = 0.5

#: Valid keys of ``optimizer_config``.
OPTIMIZER_CONFIG_KEYS = ("method", "options", "bounds", "covariance_scaling", "uncertainties", "integrity",
                         "frozen_parameters")

MODES = ("joint", "individual")

_STATUS_RANK = {_opt.STATUS_SUCCESS: 0, _opt.STATUS_MAX_ITER: 1, _opt.STATUS_FAILED: 2}


def clear_cache() -> None:
    """Forget the cached likelihoods and compiled functions."""
    _opt.clear_cache()


#: Redshifts of the H(z) integrity diagnostic (the API reference's defaults).
_H_REDSHIFTS = tuple(_integrity.DEFAULT_INTEGRITY_CONFIG["h_ratios"]["redshifts"])


def _report_params(problem: FitProblem, best, rep: Mapping[str, Any]) -> dict[str, Any]:
    """Best-fit ParameterDict with the derived keys from :meth:`FitProblem.report`'s output."""
    vals = problem.values(best)
    params = {k: v for k, v in vals.items() if k not in problem.nuisance}
    params["model_class"] = problem.model
    params["recomb_method"] = problem.recomb_method
    h = params["H0"] / 100.0
    params.update(Omh2=float(params["Om0"] * h * h), z_recomb=rep["z_star"], z_drag=rep["z_drag"],
                  r_s_drag=rep["r_drag"])
    for k in problem.nuisance:
        params[k] = vals[k]
    return params


# ---------------------------------------------------------------------------
# Uncertainties from the Hessian
# ---------------------------------------------------------------------------


def hessian_uncertainties(hessian: np.ndarray, x: np.ndarray, names: Sequence[str], lower: np.ndarray,
                          upper: np.ndarray, log_mask: Sequence[bool],
                          fraction: float = UNCONSTRAINED_FRACTION) -> dict[str, Any]:
    """Covariance, σ, correlation and unconstrained parameters from the χ² Hessian.

    Args:
        hessian: :math:`\\partial^2\\chi^2/\\partial\\theta^2` at the best fit (physical units).
        x: best-fit parameters.
        names: parameter names.
        lower, upper: bounds (physical).
        log_mask: True for parameters whose range is measured in :math:`\\log_{10}`.
        fraction: a parameter is unconstrained when its 1σ width exceeds this
            fraction of its range.

    Returns:
        dict with ``covariance`` and ``correlation`` (k×k, NaN rows/columns for
        unconstrained parameters), ``sigma`` (name → σ or NaN), ``unconstrained``
        (names), ``status`` (str), ``fisher_eigenvalues_unit`` (eigenvalues of the
        unit-box Fisher matrix) and ``sigma_fraction`` (name → conditional 1σ as a
        fraction of the range).
    """
    k = len(names)
    h = np.asarray(hessian, np.float64).reshape(k, k)
    x = np.asarray(x, np.float64)
    nan = np.full((k, k), np.nan)
    out: dict[str, Any] = {"covariance": nan.copy(), "correlation": nan.copy(),
                           "sigma": {n: float("nan") for n in names}, "unconstrained": [],
                           "fisher_eigenvalues_unit": [], "sigma_fraction": {}}
    if k == 0:
        out["status"] = "no free parameters"
        return out
    if not np.all(np.isfinite(h)):
        out["unconstrained"] = list(names)
        out["status"] = "non-finite Hessian: no uncertainties"
        return out
    fisher = 0.5 * (h + h.T) / 2.0  # F = H/2, symmetrized
    log_mask = np.asarray(log_mask, bool)
    tl = np.where(log_mask, np.log10(np.where(log_mask, lower, 1.0)), lower)
    th = np.where(log_mask, np.log10(np.where(log_mask, upper, 1.0)), upper)
    dxdt = np.where(log_mask, x * math.log(10.0), 1.0)
    scale = dxdt * (th - tl)  # d x / d u
    fu = fisher * np.outer(scale, scale)
    diag = np.diag(fu)
    out["sigma_fraction"] = {n: (float(1.0 / math.sqrt(d)) if d > 0 else float("inf")) for n, d in zip(names, diag)}
    w, v = np.linalg.eigh(fu)
    out["fisher_eigenvalues_unit"] = w.tolist()
    threshold = 1.0 / fraction**2
    keep = list(range(k))
    flagged = []
    while keep and w[0] < threshold:
        j = keep[int(np.argmax(np.abs(v[:, 0])))]
        flagged.append(j)
        keep.remove(j)
        if keep:
            w, v = np.linalg.eigh(fu[np.ix_(keep, keep)])
    out["unconstrained"] = [names[j] for j in sorted(flagged)]
    if keep:
        sub = fisher[np.ix_(keep, keep)]
        try:
            chol = np.linalg.cholesky(sub)
            inv_l = np.linalg.solve(chol, np.eye(len(keep)))
            cov_sub = inv_l.T @ inv_l
        except np.linalg.LinAlgError:
            out["unconstrained"] = list(names)
            out["status"] = "Fisher matrix not positive definite: no uncertainties"
            return out
        cov = nan.copy()
        cov[np.ix_(keep, keep)] = cov_sub
        sig = np.sqrt(np.diag(cov_sub))
        corr = nan.copy()
        corr[np.ix_(keep, keep)] = cov_sub / np.outer(sig, sig)
        out["covariance"] = cov
        out["correlation"] = corr
        for j, s in zip(keep, sig):
            out["sigma"][names[j]] = float(s)
    if not flagged:
        out["status"] = "positive definite"
    elif keep:
        out["status"] = f"unconstrained parameters ({', '.join(out['unconstrained'])}) held fixed in the covariance"
    else:
        out["status"] = "no parameter is constrained"
    return out


def propagate_uncertainty(result: Mapping[str, Any], fn: Callable[[Mapping[str, Any]], Any]) -> tuple[float, float]:
    """Value and 1σ of a derived quantity by linear error propagation.

    :math:`\\sigma_f^2 = \\nabla f^T C\\, \\nabla f` with the exact gradient of ``fn``
    with respect to the constrained free parameters at the best fit.

    Args:
        result: a joint :func:`run_fit` result with free parameters.
        fn: function of a parameter dict (numeric entries may be traced JAX
            arrays) returning a scalar, e.g.
            ``lambda p: p["H0"] / 100 * cosmology.cmb.derived(p)["r_drag"]``.

    Returns:
        ``(value, sigma)``.

    Raises:
        ValueError: the result has no free parameters or no covariance.
    """
    import jax
    import jax.numpy as jnp

    free = list(result.get("free_params") or [])
    if not free:
        raise ValueError("the result has no free parameters to propagate")
    params = result["params"]
    static = {k: v for k, v in params.items() if isinstance(v, str)}
    numeric = {k: float(v) for k, v in params.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
               and k not in ("Omh2", "z_recomb", "z_drag", "r_s_drag")}
    x = np.array([numeric[k] for k in free])

    def f(theta):
        q = {**numeric, **static}
        for i, k in enumerate(free):
            q[k] = theta[i]
        return jnp.asarray(fn(q), jnp.float64)

    val, grad = jax.jit(jax.value_and_grad(f))(x)
    grad = np.asarray(grad)
    cov = np.asarray(result["covariance"], float)
    ok = np.isfinite(np.diag(cov))
    if not ok.any():
        raise ValueError("the result has no finite covariance")
    g = grad[ok]
    var = float(g @ cov[np.ix_(ok, ok)] @ g)
    return float(val), math.sqrt(max(var, 0.0))


# ---------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------


def _check_config(optimizer_config: Mapping | None) -> dict:
    if optimizer_config is None:
        return {}
    if not isinstance(optimizer_config, Mapping):
        raise TypeError(f"optimizer_config must be a dict, got {type(optimizer_config).__name__}")
    cfg = dict(optimizer_config)
    unknown = sorted(set(cfg) - set(OPTIMIZER_CONFIG_KEYS))
    if unknown:
        raise ValueError(f"unknown optimizer_config key(s) {unknown}; valid keys: {', '.join(OPTIMIZER_CONFIG_KEYS)}")
    method = cfg.get("method", "minimize")
    _opt.get_optimizer(method)
    if cfg.get("options") is not None and not isinstance(cfg["options"], Mapping):
        raise TypeError(f"optimizer_config['options'] must be a dict, got {type(cfg['options']).__name__}")
    if cfg.get("bounds") is not None and not isinstance(cfg["bounds"], Mapping):
        raise TypeError(f"optimizer_config['bounds'] must be a dict name -> (lower, upper), "
                        f"got {type(cfg['bounds']).__name__}")
    return cfg


def _free_list(optimization_params, frozen) -> list[str]:
    if optimization_params is None:
        return []
    if isinstance(optimization_params, str):
        optimization_params = [s.strip() for s in optimization_params.split(",") if s.strip()]
    if not isinstance(optimization_params, (list, tuple)):
        raise TypeError(f"optimization_params must be a list of parameter names, "
                        f"got {type(optimization_params).__name__}")
    frozen = list(frozen or [])
    return [p for p in optimization_params if p not in frozen]


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

    Returns:
        ResultsDict (module docstring). ``result["optimization"]["convergence_status"]``
        is ``"success"``, ``"max_iter"`` or ``"failed"`` (``"not optimized"``
        without free parameters).

    Raises:
        ValueError: unknown model, empty ``datasets_list``, unknown mode, a
            parameter that cannot be optimized for the model, bounds reversed or
            for a fixed parameter, a starting value outside its bounds, an unknown
            optimizer method or option, non-physical parameter values.
        KeyError: unknown dataset.
        TypeError: wrong argument types (e.g. an override given as a string).

    Example:
        >>> r = run_fit("lcdm", ["bao"], optimization_params=["H0", "Om0"],
        ...             overrides={"Obh2": 0.02237})                       # doctest: +SKIP
        >>> r["params"]["Om0"], r["uncertainties"]["Om0"]                  # doctest: +SKIP
        (0.2971..., 0.0086...)
    """
    t_start = time.perf_counter()
    if not isinstance(mode, str) or mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; valid modes: {', '.join(MODES)}")
    cfg = _check_config(optimizer_config)
    free = _free_list(optimization_params, cfg.get("frozen_parameters"))
    datasets = _opt.canonical_datasets(datasets_list)
    if mode == "joint" or len(datasets) == 1:
        result = _fit_joint(model, datasets, overrides, cfg, free)
        result["mode"] = mode
        result["timing"]["total"] = time.perf_counter() - t_start
        return result
    return _fit_individual(model, datasets, overrides, cfg, free, t_start)


def _fit_individual(model, datasets, overrides, cfg, free, t_start) -> dict[str, Any]:
    fits = {}
    for d in datasets:
        bounds = cfg.get("bounds")
        sub_cfg = dict(cfg)
        if bounds:
            sub_cfg["bounds"] = {k: v for k, v in bounds.items() if k in free}
        fits[d] = _fit_joint(model, (d,), overrides, sub_cfg, free)
    results = {}
    for d, r in fits.items():
        block = dict(r["results"][d])
        block.update(params={k: r["params"][k] for k in free}, uncertainties=r["uncertainties"],
                     metrics=r["metrics"], convergence_status=r["optimization"]["convergence_status"])
        results[d] = block
    total = float(sum(r["metrics"]["total_chi2"] for r in fits.values()))
    n_params = sum(r["metrics"]["n_params"] for r in fits.values())
    n_data = {d: r["metrics"]["n_data"] for d, r in fits.items()}
    metrics = compute_metrics(total, n_params, n_data)
    statuses = [r["optimization"]["convergence_status"] for r in fits.values()]
    worst = max(statuses, key=lambda s: _STATUS_RANK.get(s, -1))
    start_params = _opt.get_problem(model, datasets[:1], [], overrides, cfg.get("covariance_scaling", 1.0)).params()
    out = {
        "model": model,
        "mode": "individual",
        "datasets": list(datasets),
        "free_params": list(free),
        "params": dict(start_params),
        "results": results,
        "fits": fits,
        "metrics": metrics,
        "uncertainties": {},
        "covariance": np.zeros((0, 0)),
        "correlation": np.zeros((0, 0)),
        "diagnostics": {
            "unconstrained": sorted({p for r in fits.values() for p in r["diagnostics"]["unconstrained"]}),
            "per_dataset": {d: r["diagnostics"] for d, r in fits.items()},
            "warnings": [w for r in fits.values() for w in r["diagnostics"].get("warnings", [])],
        },
        "optimization": {
            "convergence_status": worst if free else "not optimized",
            "per_dataset": {d: r["optimization"] for d, r in fits.items()},
            "chi2_improvement": float(sum(r["optimization"].get("chi2_improvement", 0.0) for r in fits.values())),
            "method": cfg.get("method", "minimize") if free else None,
        },
        "timing": {"total": time.perf_counter() - t_start},
    }
    return out


def _fit_joint(model, datasets, overrides, cfg, free) -> dict[str, Any]:
    timing: dict[str, float] = {}
    t0 = time.perf_counter()
    method = cfg.get("method", "minimize")
    problem = _opt.get_problem(model, datasets, free, overrides, cfg.get("covariance_scaling", 1.0), cfg.get("bounds"))
    timing["setup"] = time.perf_counter() - t0

    versions = None
    if problem.n_free:
        t1 = time.perf_counter()
        out = _opt.solve(problem, method, cfg.get("options"))
        timing["optimize"] = time.perf_counter() - t1
        best = out["x"]
        extra_hess_unit = out.get("extra", {}).pop("hess_unit", None)
        grad_unit = out.pop("gradient_unit", None)
        versions = _opt.library_versions()
        optimization = {
            "convergence_status": out["status"],
            "success": out["success"],
            "message": out["message"],
            "method": method,
            "library": out["library"],
            "version": versions.get(out["library"], "unknown"),
            "optimizer_info": {"method": method, "library": out["library"],
                               "version": versions.get(out["library"], "unknown")},
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
            "timestamp": _opt._timestamp(),
            "library_versions": versions,
        }
        if out.get("extra"):
            optimization["extra"] = out["extra"]
    else:
        best = problem.x0
        extra_hess_unit = grad_unit = None
        optimization = {"convergence_status": "not optimized", "success": None, "method": None,
                        "covariance_scaling": problem.covariance_scaling, "recomb_method": problem.recomb_method,
                        "chi2_improvement": 0.0}

    t2 = time.perf_counter()
    extra_hess_unit_ok = extra_hess_unit is not None
    want_hessian = bool(problem.n_free and cfg.get("uncertainties", True) and not extra_hess_unit_ok)
    # per-block χ², predictions, derived keys, H(z) and (when needed) the Hessian: one compiled call
    rep = problem.report(best, hessian=want_hessian, redshifts=_H_REDSHIFTS)
    blocks = rep["blocks"]
    for name, b in blocks.items():
        b["n_data"] = problem.likelihood.n_data[name]
    total = float(sum(b["chi2"] for b in blocks.values()))
    hz = None
    try:
        if math.isfinite(total):
            # the likelihood's physical checks passed here
            params = _report_params(problem, best, rep)
            hz = rep["H"]
        else:
            params = problem.params(best, derived=True, validate=True)
    except ValueError as exc:  # a failed fit may stop at a point build_params rejects
        logger.warning("best-fit parameters fail validation (%s); derived keys omitted", exc)
        params = {**problem.values(best), "model_class": model, "recomb_method": problem.recomb_method}
    params["optimization_metadata"] = {
        "optimized_params": list(problem.free_params),
        "optimization_source": ",".join(problem.datasets),
        "convergence_status": optimization["convergence_status"],
        "timestamp": optimization.get("timestamp") or _opt._timestamp(),
    }
    timing["evaluate"] = time.perf_counter() - t2

    t3 = time.perf_counter()
    unc = {"covariance": np.zeros((0, 0)), "correlation": np.zeros((0, 0)), "sigma": {}, "unconstrained": [],
           "status": "no free parameters", "fisher_eigenvalues_unit": [], "sigma_fraction": {}}
    if problem.n_free and cfg.get("uncertainties", True):
        hess_unit = extra_hess_unit
        if hess_unit is not None:  # the optimizer already has the exact Hessian at the optimum
            hess = _opt.unit_hessian_to_physical(hess_unit, grad_unit, best, problem.lower, problem.upper,
                                                 problem.log_mask)
        else:
            hess = rep["hessian"]
        unc = hessian_uncertainties(hess, best, problem.free_params, problem.lower, problem.upper, problem.log_mask)
    elif problem.n_free:
        unc["status"] = "not computed (uncertainties=False)"
    timing["uncertainties"] = time.perf_counter() - t3

    metrics = compute_metrics(total, problem.n_free, problem.likelihood.n_data)

    t4 = time.perf_counter()
    warnings: list[str] = []
    diagnostics: dict[str, Any] = {
        "unconstrained": list(unc["unconstrained"]),
        "covariance_status": unc["status"],
        "sigma_fraction_of_range": unc["sigma_fraction"],
        "fisher_eigenvalues_unit": unc["fisher_eigenvalues_unit"],
        "convergence_status": optimization["convergence_status"],
        "bounds_reached": list(optimization.get("bounds_reached", [])),
        "gradient_norm": optimization.get("gradient_norm"),
    }
    if cfg.get("integrity", True):
        try:
            diagnostics["h_ratios"] = _integrity.h_ratios(params, _H_REDSHIFTS, compiled=hz)
            diagnostics["recomb_check"] = _integrity.check_recombination(params)["passed"] if "z_recomb" in params \
                else None
        except Exception as exc:  # diagnostics must never hide a fit result
            logger.warning("integrity diagnostics failed: %s", exc)
            diagnostics["h_ratios"], diagnostics["recomb_check"] = None, None
        overlaps = _integrity.dataset_overlaps(problem.datasets)
        diagnostics["overlaps"] = overlaps
        warnings += overlaps
    if optimization["convergence_status"] in (_opt.STATUS_MAX_ITER, _opt.STATUS_FAILED):
        warnings.append(f"optimizer did not converge ({optimization['convergence_status']}): "
                        f"{optimization.get('message', '')}")
    if diagnostics["bounds_reached"]:
        warnings.append(f"parameters at a bound (their σ is not a two-sided error): "
                        f"{', '.join(diagnostics['bounds_reached'])}")
    if unc["unconstrained"]:
        warnings.append(f"parameters not constrained by {', '.join(problem.datasets)}: "
                        f"{', '.join(unc['unconstrained'])} (no σ reported)")
    if metrics["dof"] <= 0:
        warnings.append(f"{metrics['n_params']} free parameters for {metrics['n_data']} data points "
                        f"(DOF = {metrics['dof']}): p-value and reduced χ² undefined")
    diagnostics["warnings"] = warnings
    for w in warnings:
        logger.warning("%s", w)
    timing["diagnostics"] = time.perf_counter() - t4

    result = {
        "model": model,
        "datasets": list(problem.datasets),
        "free_params": list(problem.free_params),
        "params": params,
        "results": blocks,
        "metrics": metrics,
        "uncertainties": dict(unc["sigma"]),
        "covariance": unc["covariance"],
        "correlation": unc["correlation"],
        "diagnostics": diagnostics,
        "optimization": optimization,
        "timing": timing,
    }
    if logger.isEnabledFor(logging.INFO):
        from .logging_utils import log_run

        log_run(model, "joint", result, metrics)
    return result


__all__ = [
    "OPTIMIZERS",
    "UNCONSTRAINED_FRACTION",
    "clear_cache",
    "hessian_uncertainties",
    "propagate_uncertainty",
    "register_optimizer",
    "run_fit",
]
