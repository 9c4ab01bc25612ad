"""What :func:`pbufjax.engine.run_fit` attaches to a fit besides the numbers: the best-fit
ParameterDict with its derived keys, and the ``diagnostics`` block (integrity checks,
covariance status, convergence, bounds, overlapping datasets, warnings).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

from .. import fit as _opt
from . import integrity as _integrity

logger = logging.getLogger("pbufjax.engine")

#: Redshifts of the H(z) integrity diagnostic (the API reference's defaults).
H_REDSHIFTS = tuple(_integrity.DEFAULT_INTEGRITY_CONFIG["h_ratios"]["redshifts"])


def _report_params(problem, best, rep: Mapping[str, Any]) -> dict[str, Any]:
    """Best-fit ParameterDict with the derived keys from :meth:`FitProblem.report`'s output."""
    vals = problem.values(best)
    params = {k: v for k, v in vals.items() if k not in problem.nuisance}
    params["model_class"] = problem.model
    params["recomb_method"] = problem.recomb_method
    h = params["H0"] / 100.0
    params.update(Omh2=float(params["Om0"] * h * h), z_recomb=rep["z_star"], z_drag=rep["z_drag"],
                  r_s_drag=rep["r_drag"], omnuh2=float(rep["Onu0"] * h * h), Onu0=float(rep["Onu0"]))
    for k in problem.nuisance:
        params[k] = vals[k]
    return params


def best_fit_params(problem, best, rep: Mapping[str, Any], total_chi2: float) -> tuple[dict[str, Any], Any]:
    """(ParameterDict at ``best``, compiled H(z) at :data:`H_REDSHIFTS` or None).

    Derived keys come from the fit's own evaluation when χ² is finite (the likelihood's
    physical checks passed); a failed fit may stop at a point the parameter checks reject,
    and then the plain values are returned with a warning.
    """
    try:
        if math.isfinite(total_chi2):
            return _report_params(problem, best, rep), rep["H"]
        return problem.params(best, derived=True, validate=True), None
    except ValueError as exc:
        logger.warning("best-fit parameters fail validation (%s); derived keys omitted", exc)
        return {**problem.values(best), "model_class": problem.model, "recomb_method": problem.recomb_method}, None


def _integrity_checks(problem, params, hz) -> dict[str, Any]:
    out: dict[str, Any] = {}
    try:
        out["h_ratios"] = _integrity.h_ratios(params, H_REDSHIFTS, compiled=hz)
        out["recomb_check"] = _integrity.check_recombination(params)["passed"] if "z_recomb" in params else None
    except Exception as exc:  # diagnostics must never hide a fit result
        logger.warning("integrity diagnostics failed: %s", exc)
        out["h_ratios"], out["recomb_check"] = None, None
    out["overlaps"] = _integrity.dataset_overlaps(problem.datasets)
    return out


def _warnings(problem, unc, optimization, metrics, overlaps) -> list[str]:
    warnings = list(overlaps)
    status = optimization["convergence_status"]
    if status in (_opt.Status.MAX_ITER, _opt.Status.FAILED):
        warnings.append(f"optimizer did not converge ({status}): {optimization.get('message', '')}")
    reached = optimization.get("bounds_reached", [])
    if reached:
        warnings.append(f"parameters at a bound (their σ is not a two-sided error): {', '.join(reached)}")
    if unc["unconstrained"]:
        warnings.append(f"parameters not constrained by {', '.join(problem.datasets)}: "
                        f"{', '.join(unc['unconstrained'])} (no σ reported)")
    if metrics["dof"] <= 0:
        warnings.append(f"{metrics['n_params']} free parameters for {metrics['n_data']} data points "
                        f"(DOF = {metrics['dof']}): p-value and reduced χ² undefined")
    return warnings


def fit_diagnostics(problem, params: Mapping[str, Any], hz, unc: Mapping[str, Any],
                    optimization: Mapping[str, Any], metrics: Mapping[str, Any], *,
                    integrity: bool = True) -> dict[str, Any]:
    """The ResultsDict's ``diagnostics`` block.

    Args:
        problem: the fit problem.
        params: best-fit ParameterDict.
        hz: compiled H(z) at :data:`H_REDSHIFTS` (None: computed here).
        unc: :func:`pbufjax.analysis.uncertainties.hessian_uncertainties` result.
        optimization: the ``optimization`` block.
        metrics: MetricsDict.
        integrity: run the H(z), recombination and overlap checks.

    Returns:
        ``{"unconstrained", "covariance_status", "sigma_fraction_of_range",
        "fisher_eigenvalues_unit", "convergence_status", "bounds_reached",
        "gradient_norm", ["h_ratios", "recomb_check", "overlaps"], "warnings"}``.
    """
    diagnostics: dict[str, Any] = {
        "unconstrained": list(unc["unconstrained"]),
        "covariance_status": unc["status"],
        "sigma_fraction_of_range": unc["sigma_fraction"],
        "fisher_eigenvalues_unit": unc["fisher_eigenvalues_unit"],
        "convergence_status": optimization["convergence_status"],
        "bounds_reached": list(optimization.get("bounds_reached", [])),
        "gradient_norm": optimization.get("gradient_norm"),
    }
    overlaps: list[str] = []
    if integrity:
        checks = _integrity_checks(problem, params, hz)
        diagnostics.update(checks)
        overlaps = checks["overlaps"]
    diagnostics["warnings"] = _warnings(problem, unc, optimization, metrics, overlaps)
    return diagnostics


__all__ = ["H_REDSHIFTS", "best_fit_params", "fit_diagnostics"]
