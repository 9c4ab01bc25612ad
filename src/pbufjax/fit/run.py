"""Running a registered solver: :func:`run_optimizer` on an :class:`~pbufjax.fit.objective.Objective`,
:func:`solve` on a :class:`~pbufjax.fit.problem.FitProblem`.

Every registered host function sees the fit in unit-box coordinates :math:`u \\in [0,1]^k`
and returns a :class:`~pbufjax.fit.result.SolverResult` (or anything with ``x``: a
``scipy.optimize.OptimizeResult``, a dict, a bare array). Both functions return one
:class:`~pbufjax.fit.result.SolverResult` in physical coordinates with an honest
:class:`~pbufjax.fit.result.Status`.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Mapping

import numpy as np

from .blas import single_threaded_blas
from .criteria import BAD_CHI2, BOUND_TOL, GAINTOL, PGTOL, predicted_gain, projected_gradient_norm
from .objective import Objective
from .result import STATUS_FAILED, STATUS_SUCCESS, SolverResult, Status
from .solvers import get_solver

#: Solver details copied into ``result.extra`` when a solver reports them.
_EXTRA_KEYS = ("multistart", "polish", "grad_norm", "population_energies_spread", "hess_unit")


def _getter(res):
    """``get(key, default)`` over any solver's return value."""
    if isinstance(res, SolverResult):
        def get(k, default=None):
            if k in ("x", "fun", "status", "message", "library", "hess_unit") or k in ("nit", "jac", "success"):
                v = getattr(res, k)
            else:
                v = res.extra.get(k)
            return default if v is None else v
        return get
    if isinstance(res, Mapping) and "x" in res:
        return res.get
    if hasattr(res, "x"):
        return lambda k, default=None: getattr(res, k, default)
    arr = np.asarray(res, float)
    return lambda k, default=None: arr if k == "x" else default


def run_optimizer(objective: Objective, x0, method: str = "minimize", options: Mapping | None = None
                  ) -> SolverResult:
    """Run one registered optimizer from physical starting point ``x0``.

    Returns:
        :class:`~pbufjax.fit.result.SolverResult` with ``x`` (physical), ``fun``, ``status``,
        ``success``, ``message``, ``n_iterations``, ``n_function_evaluations``,
        ``n_gradient_evaluations``, ``time`` [s], ``bounds_reached``, ``method``, ``library``
        and ``extra`` (optimizer-specific details, e.g. the multi-start spread), readable by
        key as the pre-redesign dict.

    Raises:
        ValueError: unknown method, or options the method does not take.
    """
    spec = get_solver(method)
    if options is not None and not isinstance(options, Mapping):
        raise TypeError(f"optimizer options must be a dict, got {type(options).__name__}")
    u0 = np.clip(objective.to_unit(x0), 0.0, 1.0)
    n0, g0 = objective.nfev, objective.ngev
    t0 = time.perf_counter()
    # the pure-JAX optimizers make no BLAS calls from Python: no need to import scipy for them
    guard = contextlib.nullcontext() if spec.pure_jax else single_threaded_blas()
    with guard:
        raw = spec.function(objective, u0, bounds=objective.bounds, options=dict(options or {}))
    elapsed = time.perf_counter() - t0
    get = _getter(raw)
    x_raw = np.asarray(get("x"), float).reshape(-1)
    if x_raw.shape != (objective.n,):
        raise ValueError(f"optimizer returned x of shape {x_raw.shape}, expected ({objective.n},)")
    fun = get("fun")
    fun = float(fun) if fun is not None else float(objective(x_raw))
    status = Status.coerce(get("status"))
    if status is None:
        success = get("success")
        status = STATUS_SUCCESS if (success is None or bool(success)) else STATUS_FAILED
    if not math.isfinite(fun) or fun >= BAD_CHI2 or not np.all(np.isfinite(x_raw)):
        status = STATUS_FAILED
    x_unit = np.clip(x_raw, 0.0, 1.0)
    extra = {k: get(k) for k in _EXTRA_KEYS if get(k) is not None}
    jac = get("jac")
    if jac is not None and not np.array_equal(x_raw, x_unit):
        jac = None  # gradient of a point outside the box
    return SolverResult(
        x=objective.to_physical(x_unit), fun=fun, status=status, message=str(get("message", "") or ""),
        n_iter=int(get("nit", 0) or 0), n_eval=int(objective.nfev - n0),
        n_function_evaluations=int(objective.nfev - n0), n_gradient_evaluations=int(objective.ngev - g0),
        time=elapsed, bounds_reached=[n for n, ui in zip(objective.names, x_unit)
                                      if ui <= BOUND_TOL or ui >= 1.0 - BOUND_TOL],
        method=method, library=get("library") or spec.library, extra=extra,
        grad_unit=None if jac is None else np.asarray(jac, np.float64),
    )


def solve(problem, method: str = "minimize", options: Mapping | None = None) -> SolverResult:
    """Minimize a :class:`~pbufjax.fit.problem.FitProblem` with a registered optimizer.

    Returns:
        :func:`run_optimizer`'s result plus ``chi2_start``, ``x0``, ``gradient_norm`` (norm of
        the unit-box gradient at the end, components pushing against an active bound
        excluded), ``gradient_unit`` and, when the gradient test needed the Hessian,
        ``predicted_gain``.
    """
    if problem.n_free == 0:
        raise ValueError("nothing to optimize: the list of parameters to optimize is empty")
    get_solver(method)
    obj = problem.objective()
    u0 = np.clip(obj.to_unit(problem.x0), 0.0, 1.0)
    out = run_optimizer(obj, problem.x0, method, options)
    if obj.first_u is not None and np.array_equal(obj.first_u, u0):
        chi2_start = float("inf") if obj.first_value >= BAD_CHI2 else float(obj.first_value)
    else:
        chi2_start = problem.chi2()
    u = obj.to_unit(out.x)
    g = out.grad_unit
    if g is None or np.shape(g) != u.shape or not np.all(np.isfinite(g)):
        _, g = obj.value_and_grad(np.clip(u, 0.0, 1.0))
        obj.nfev -= 1
        obj.ngev -= 1
    uc = np.clip(u, 0.0, 1.0)
    pg = projected_gradient_norm(uc, g)
    changes = {"grad_norm": pg, "grad_unit": g, "chi2_start": chi2_start, "x0": problem.x0.copy()}
    if out.status == STATUS_SUCCESS and not pg <= PGTOL * (1 + 1e-9):
        h = out.extra.get("hess_unit")
        if h is None:
            h = out.extra["hess_unit"] = obj.hessian_unit(uc)
        gain = predicted_gain(uc, g, h)
        changes["predicted_gain"] = gain
        if gain > GAINTOL:
            changes["status"] = STATUS_FAILED
            changes["message"] = out.message + (
                f"; projected gradient norm {pg:.3g} > {PGTOL:g} and predicted χ² gain {gain:.2g} "
                f"> {GAINTOL:g} at the end: not a minimum")
    return out.replace(**changes)


__all__ = ["run_optimizer", "solve"]
