"""The API reference's optimization entry points on the real likelihoods:
:class:`ParameterOptimizer` and :func:`optimize_cmb_parameters`, returning
:class:`OptimizationResult` / :class:`CMBOptimizationResult` dicts with provenance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..runtime import utc_now
from . import settings
from .names import NUISANCE_BOUNDS, canonical_datasets, nuisance_bounds
from .problem import FitProblem, get_problem
from .result import STATUS_SUCCESS, AttrDict
from .run import solve
from .versions import library_versions


class OptimizationResult(AttrDict):
    """The API reference's OptimizationResult (a dict with attribute access).

    Keys: ``model, optimized_params, starting_params, final_chi2,
    chi2_improvement, convergence_status, n_function_evaluations,
    optimization_time, bounds_reached, optimizer_info, covariance_scaling,
    metadata``.
    """


class CMBOptimizationResult(AttrDict):
    """The API reference's CMBOptimizationResult (a dict with attribute access).

    Keys: ``model, optimized_params, cmb_chi2, chi2_improvement,
    convergence_diagnostics, parameter_bounds_info, provenance``.
    """


def _split_config(optimizer_config: Mapping | None) -> tuple[str, dict, dict | None]:
    """``(method, options, bounds)`` of an optimizer configuration, method and options checked by
    :mod:`pbufjax.fit.settings` (the checks of ``run_fit`` and the CLI's configuration files)."""
    if optimizer_config is not None and not isinstance(optimizer_config, Mapping):
        raise TypeError(f"optimizer_config must be a dict, got {type(optimizer_config).__name__}")
    cfg = dict(optimizer_config or {})
    method = settings.check_method(cfg.get("method", settings.DEFAULT_METHOD))
    return method, settings.check_options(method, cfg.get("options")), cfg.get("bounds")


def _checked_problem(model, datasets, optimize_params, starting_values, covariance_scaling, bounds) -> FitProblem:
    """The fit problem, its covariance scaling and bounds checked by :mod:`pbufjax.fit.settings` first."""
    covariance_scaling = settings.check_covariance_scaling(covariance_scaling)
    if bounds is not None:
        names = canonical_datasets(datasets)
        free = settings.check_name_list(optimize_params, "optimize_params")
        bounds = settings.check_bounds(model, bounds, names, free)
    problem = get_problem(model, datasets, optimize_params, starting_values, covariance_scaling, bounds)
    if problem.n_free == 0:
        raise ValueError("the list of parameters to optimize is empty")
    return problem


class ParameterOptimizer:
    """The API reference's optimizer front end (exact-gradient fits of the real likelihoods).

    Example:
        >>> opt = ParameterOptimizer()
        >>> r = opt.optimize_parameters("pbuf", ["cmb"], ["k_sat", "alpha"])   # doctest: +SKIP
        >>> r.chi2_improvement, r.optimized_params["k_sat"]                      # doctest: +SKIP
    """

    def __init__(self, optimizer_config: Mapping[str, Any] | None = None):
        _split_config(optimizer_config)
        self.optimizer_config = dict(optimizer_config or {})

    def get_optimization_bounds(self, model: str, param: str) -> tuple[float, float]:
        """Physical bounds of ``param`` for ``model`` (see :func:`pbufjax.parameter.get_optimization_bounds`).

        Raises:
            ValueError: unknown model or a parameter that cannot be optimized for it.
        """
        from ..cosmology.parameters import get_optimization_bounds

        if param in NUISANCE_BOUNDS:
            return nuisance_bounds(param)
        return get_optimization_bounds(model, param)

    def validate_optimization_request(self, model: str, optimize_params: Sequence[str] | str) -> bool:
        """True if every parameter can be optimized for ``model``.

        Raises:
            ValueError: unknown model, an empty list, or an invalid parameter (lists the valid ones).
            TypeError: names that are not strings.
        """
        from ..cosmology.parameters import validate_free_params

        names = validate_free_params(model, optimize_params)
        if not names:
            raise ValueError("the list of parameters to optimize is empty")
        return True

    def optimize_parameters(self, model: str, datasets: Sequence[str] | str, optimize_params: Sequence[str] | str,
                            starting_values: Mapping[str, Any] | None = None, covariance_scaling: float = 1.0,
                            optimizer_config: Mapping[str, Any] | None = None) -> OptimizationResult:
        """Optimize ``optimize_params`` of ``model`` on ``datasets``.

        Args:
            model: model name.
            datasets: dataset names or aliases.
            optimize_params: parameters to optimize.
            starting_values: starting values (and values of fixed parameters);
                default the model defaults.
            covariance_scaling: :math:`s` in :math:`C \\to sC`, in ``(0, 1000]``
                (:data:`~pbufjax.fit.settings.COV_SCALE_RANGE`).
            optimizer_config: ``{"method", "options", "bounds"}`` (default the one given
                to the constructor; ``minimize`` = L-BFGS-B with exact gradients).

        Returns:
            :class:`OptimizationResult`.

        Raises:
            ValueError, KeyError, TypeError: bad input (see :class:`FitProblem`; the
                method, options, bounds and covariance scaling are checked first by
                :mod:`pbufjax.fit.settings`, as in ``run_fit``).
        """
        cfg = dict(self.optimizer_config)
        cfg.update(optimizer_config or {})
        method, options, bounds = _split_config(cfg)
        problem = _checked_problem(model, datasets, optimize_params, starting_values, covariance_scaling, bounds)
        out = solve(problem, method, options)
        return _optimization_result(problem, out, method)


def _optimization_result(problem: FitProblem, out: Mapping, method: str) -> OptimizationResult:
    versions = library_versions()
    lib = out["library"]
    return OptimizationResult(
        model=problem.model,
        optimized_params={k: float(v) for k, v in zip(problem.free_params, out["x"])},
        starting_params={k: float(v) for k, v in zip(problem.free_params, out["x0"])},
        final_chi2=float(out["fun"]),
        chi2_improvement=float(out["chi2_start"] - out["fun"]),
        convergence_status=out["status"],
        n_function_evaluations=int(out["n_function_evaluations"]),
        optimization_time=float(out["time"]),
        bounds_reached=list(out["bounds_reached"]),
        optimizer_info={"method": method, "library": lib, "version": versions.get(lib, "unknown")},
        covariance_scaling=problem.covariance_scaling,
        metadata={
            "datasets": list(problem.datasets),
            "starting_chi2": float(out["chi2_start"]),
            "message": out["message"],
            "n_iterations": int(out["n_iterations"]),
            "n_gradient_evaluations": int(out["n_gradient_evaluations"]),
            "gradient_norm": float(out["gradient_norm"]),
            "bounds_used": {k: list(v) for k, v in problem.bounds.items()},
            "fixed_params": {k: v for k, v in problem.values().items() if k not in problem.free_params},
            "recomb_method": problem.recomb_method,
            "timestamp": utc_now(timespec="seconds"),
            "library_versions": versions,
            **({"extra": out["extra"]} if out.get("extra") else {}),
        },
    )


def optimize_cmb_parameters(model: str, optimize_params: Sequence[str] | str,
                            starting_params: Mapping[str, Any] | None = None, covariance_scaling: float = 1.0,
                            *, dataset: str = "cmb", optimizer_config: Mapping[str, Any] | None = None
                            ) -> CMBOptimizationResult:
    """Optimize parameters on the CMB distance priors alone.

    Args:
        model: model name.
        optimize_params: parameters to optimize (e.g. ``["H0", "Om0", "Obh2", "ns"]``;
            ``ns`` is constrained only by ``planck2018_priors_ns``).
        starting_params: starting values / fixed values.
        covariance_scaling: :math:`s` in :math:`C \\to sC`, in ``(0, 1000]``
            (:data:`~pbufjax.fit.settings.COV_SCALE_RANGE`).
        dataset: the CMB dataset (``cmb`` = ``planck2018_priors``, or ``planck2018_priors_ns``).
        optimizer_config: ``{"method", "options", "bounds"}``.

    Returns:
        :class:`CMBOptimizationResult` (``cmb_chi2``, ``chi2_improvement``,
        ``convergence_diagnostics``, ``parameter_bounds_info``, ``provenance``).

    Raises:
        ValueError: the dataset is not a CMB dataset, or bad input (see :class:`FitProblem`
            and :mod:`pbufjax.fit.settings`).
    """
    from .. import data as _ds

    name = _ds.resolve_name(dataset)
    dtype = _ds.load_dataset(name).get("metadata", {}).get("dataset_type")
    if dtype != "cmb":
        raise ValueError(f"dataset {dataset!r} is not a CMB dataset (type {dtype!r}); use 'cmb' or "
                         f"'planck2018_priors_ns'")
    method, options, bounds = _split_config(optimizer_config)
    problem = _checked_problem(model, [name], optimize_params, starting_params, covariance_scaling, bounds)
    out = solve(problem, method, options)
    res = _optimization_result(problem, out, method)
    return CMBOptimizationResult(
        model=model,
        optimized_params=res["optimized_params"],
        cmb_chi2=res["final_chi2"],
        chi2_improvement=res["chi2_improvement"],
        convergence_diagnostics={
            "n_iterations": int(out["n_iterations"]),
            "final_gradient_norm": float(out["gradient_norm"]),
            "function_tolerance_reached": out["status"] == STATUS_SUCCESS,
            "convergence_status": out["status"],
            "message": out["message"],
            "n_function_evaluations": int(out["n_function_evaluations"]),
        },
        parameter_bounds_info={
            "bounds_used": {k: tuple(v) for k, v in problem.bounds.items()},
            "bounds_reached": list(out["bounds_reached"]),
        },
        provenance={
            "timestamp": res["metadata"]["timestamp"],
            "optimizer_method": method,
            "library_version": f"{res['optimizer_info']['library']} {res['optimizer_info']['version']}",
            "library_versions": res["metadata"]["library_versions"],
            "covariance_scaling": problem.covariance_scaling,
            "starting_values": res["starting_params"],
            "dataset": name,
        },
    )


__all__ = ["CMBOptimizationResult", "OptimizationResult", "ParameterOptimizer", "optimize_cmb_parameters"]
