"""``scipy.optimize.minimize`` with the exact JAX gradient (registry name ``minimize``)."""

from __future__ import annotations

import math

import numpy as np

from ..criteria import BAD_CHI2, GAINTOL, PGTOL, predicted_gain, projected_gradient_norm
from ..objective import Objective
from ..result import STATUS_FAILED, STATUS_MAX_ITER, STATUS_SUCCESS, host_result
from . import newton
from .spec import SolverSpec, register_solver

_SCIPY_GRADIENT_METHODS = ("L-BFGS-B", "TNC", "SLSQP", "trust-constr")
_SCIPY_BOUNDED_METHODS = _SCIPY_GRADIENT_METHODS + ("Powell", "Nelder-Mead")


def optimize_minimize(objective: Objective, initial_params, bounds=None, options=None):
    """``scipy.optimize.minimize`` (default L-BFGS-B) with the exact JAX gradient.

    L-BFGS-B (Byrd, Lu, Nocedal & Zhu 1995, doi:10.1137/0916069) can stop on its
    relative-χ²-change test in a narrow curved valley while the gradient is still
    large; it is then restarted from where it stopped (fresh curvature memory),
    up to ``restarts`` times, until the projected gradient is below ``pgtol``; if
    it still is not, the fit is finished by Newton steps on the exact Hessian
    (:func:`fit_newton`, compiled on first use; ``polish=None`` disables it). A run
    that cannot get there is reported as ``failed``, never as converged.

    Options: ``method`` (L-BFGS-B, TNC, SLSQP, trust-constr, Powell, Nelder-Mead),
    ``maxiter`` (1000), ``ftol`` (1e-11, relative χ² change), ``gtol`` (1e-8,
    projected-gradient tolerance of scipy), ``pgtol`` (:data:`PGTOL`), ``restarts``
    (5), ``polish`` ("newton"), ``xtol`` (used by the methods that take it),
    ``maxfun``, ``maxcor``.
    All in unit-box coordinates.
    """
    from scipy.optimize import minimize

    opts = SPEC.check_options(options)
    method = opts.pop("method", "L-BFGS-B")
    if method not in _SCIPY_BOUNDED_METHODS:
        raise ValueError(f"unknown scipy method {method!r}; valid methods: {', '.join(_SCIPY_BOUNDED_METHODS)}")
    maxiter = int(opts.pop("maxiter", 1000))
    ftol = float(opts.pop("ftol", 1e-11))
    gtol = float(opts.pop("gtol", 1e-8))
    pgtol = float(opts.pop("pgtol", PGTOL))
    restarts = int(opts.pop("restarts", 5))
    polish = opts.pop("polish", "newton")
    if polish not in ("newton", None, False):
        raise ValueError(f"unknown polish {polish!r}; valid: 'newton', None")
    xtol = opts.pop("xtol", None)
    bounds = bounds if bounds is not None else objective.bounds
    if method == "L-BFGS-B":
        sopts = {"maxiter": maxiter, "ftol": ftol, "gtol": gtol, "maxcor": int(opts.pop("maxcor", 20))}
        if "maxfun" in opts:
            sopts["maxfun"] = int(opts.pop("maxfun"))
    elif method == "TNC":
        sopts = {"maxfun": int(opts.pop("maxfun", maxiter * 10)), "ftol": ftol, "gtol": gtol}
        if xtol is not None:
            sopts["xtol"] = float(xtol)
    elif method == "SLSQP":
        sopts = {"maxiter": maxiter, "ftol": ftol}
    elif method == "trust-constr":
        sopts = {"maxiter": maxiter, "gtol": gtol}
        if xtol is not None:
            sopts["xtol"] = float(xtol)
    elif method == "Powell":
        sopts = {"maxiter": maxiter, "ftol": ftol, "xtol": float(xtol or 1e-8)}
    else:  # Nelder-Mead
        sopts = {"maxiter": maxiter, "fatol": max(ftol, 1e-10), "xatol": float(xtol or 1e-8)}
    gradient_based = method in _SCIPY_GRADIENT_METHODS
    x = np.asarray(initial_params, float)
    nit = 0
    n_runs = 0
    pg = float("nan")
    fprev = float("inf")
    while True:
        if gradient_based:
            res = minimize(objective.value_and_grad, x, jac=True, method=method, bounds=bounds, options=sopts)
        else:
            res = minimize(objective, x, method=method, bounds=bounds, options=sopts)
        n_runs += 1
        nit += int(getattr(res, "nit", 0) or 0)
        fun = float(res.fun)
        if not gradient_based:
            break
        pg = projected_gradient_norm(res.x, res.jac, bounds)
        if pg <= pgtol or n_runs > restarts or not math.isfinite(fun) or not fun < fprev or _is_max_iter(res, method):
            break
        fprev = fun
        x = np.asarray(res.x, float)
    msg = res.message if isinstance(res.message, str) else str(res.message)
    x_best = np.asarray(res.x, float)
    jac = getattr(res, "jac", None) if gradient_based else None
    hess_unit = None
    gain = None
    if gradient_based and math.isfinite(fun) and fun < BAD_CHI2 and pg > pgtol and not _is_max_iter(res, method):
        # a gradient above pgtol may be at the χ²'s rounding level along a very steep
        # direction: ask the exact Hessian how much χ² is really left
        hess_unit = objective.hessian_unit(x_best)
        gain = predicted_gain(x_best, jac, hess_unit, bounds)
        if gain <= GAINTOL:
            pg_ok = True
            msg += f"; gradient norm {pg:.3g} at the χ² rounding level (predicted gain {gain:.2g})"
        else:
            pg_ok = False
    else:
        pg_ok = pg <= pgtol
    if (gradient_based and polish == "newton" and math.isfinite(fun) and fun < BAD_CHI2 and not pg_ok
            and not _is_max_iter(res, method)):
        # L-BFGS-B cannot follow a narrow curved valley (e.g. a near-degeneracy between two
        # parameters): finish with Newton steps on the exact Hessian.
        pol = newton.optimize_newton(objective, x_best, bounds=bounds, options={})
        if pol.fun <= fun:
            x_best, fun, jac, hess_unit = pol.x, float(pol.fun), pol.jac, pol.hess_unit
            pg = projected_gradient_norm(x_best, jac, bounds)
            gain = predicted_gain(x_best, jac, hess_unit, bounds)
            pg_ok = pg <= pgtol or gain <= GAINTOL
            nit += int(pol.nit)
            msg += f"; polished by Newton steps ({pol.message})"
    if gradient_based and pg_ok:
        res.success = True
    if not math.isfinite(fun) or fun >= BAD_CHI2:
        status = STATUS_FAILED
    elif gradient_based and not pg_ok:
        status = STATUS_MAX_ITER if _is_max_iter(res, method) else STATUS_FAILED
        msg += (f"; projected gradient norm {pg:.3g} > pgtol {pgtol:g}"
                + (f" and predicted χ² gain {gain:.2g} > {GAINTOL:g}" if gain is not None else "")
                + f" after {n_runs} run(s): not a minimum")
    elif res.success or (gradient_based and pg <= pgtol and "ABNORMAL" in msg.upper()):
        status = STATUS_SUCCESS  # (a line search that stalls at a zero-gradient point is a minimum)
    elif _is_max_iter(res, method):
        status = STATUS_MAX_ITER
    else:
        status = STATUS_FAILED
    if n_runs > 1:
        msg += f" (after {n_runs - 1} restart(s))"
    extra = {"hess_unit": hess_unit} if hess_unit is not None else {}
    return host_result(x_best, fun, status, f"scipy {method}: {msg}", nit,
                       library="scipy", method=f"minimize/{method}", jac=jac, **extra)


def _is_max_iter(res, method) -> bool:
    msg = str(res.message).lower()
    if method == "L-BFGS-B" and res.status == 1:
        return True
    return "maximum number" in msg or "max" in msg and "iter" in msg or "exceeded" in msg


SPEC = register_solver(SolverSpec(
    name="minimize", function=optimize_minimize, library="scipy", pure_jax=False,
    options={"method": str, "maxiter": int, "ftol": float, "gtol": float, "xtol": (float, None), "maxfun": int,
             "maxcor": int, "disp": object, "pgtol": float, "restarts": int, "polish": (str, bool, None)},
    tolerance_option="ftol", positive=frozenset({"maxiter", "ftol", "gtol", "maxfun", "maxcor", "pgtol"}),
    nonnegative=frozenset({"restarts"}),
    description="scipy.optimize.minimize (L-BFGS-B by default) with the exact JAX gradient, Newton polish",
), overwrite=True)

__all__ = ["SPEC", "optimize_minimize"]
