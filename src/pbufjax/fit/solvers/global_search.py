"""Global search: scipy's differential evolution (population in one vmapped call) and basinhopping."""

from __future__ import annotations

import math

import numpy as np

from ..criteria import BAD_CHI2
from ..objective import Objective
from ..result import STATUS_FAILED, STATUS_MAX_ITER, STATUS_SUCCESS, host_result
from .scipy_minimize import optimize_minimize
from .spec import SolverSpec, register_solver


def optimize_differential_evolution(objective: Objective, initial_params, bounds=None, options=None):
    """``scipy.optimize.differential_evolution`` with the population evaluated in one
    vmapped call per generation (``vectorized=True``), then a gradient polish
    (L-BFGS-B with the exact gradient). Storn & Price 1997 (doi:10.1023/A:1008202821328).

    Options: ``maxiter`` (1000 generations), ``popsize`` (15), ``tol`` (0.01),
    ``atol`` (0), ``seed``, ``mutation``, ``recombination``, ``strategy``, ``init``,
    ``polish`` (True), ``x0_in_population`` (True: seed the population with the
    starting point).
    """
    from scipy.optimize import differential_evolution

    opts = DE_SPEC.check_options(options)
    polish = bool(opts.pop("polish", True))
    use_x0 = bool(opts.pop("x0_in_population", True))
    seed = opts.pop("seed", opts.pop("rng", None))
    bounds = bounds if bounds is not None else objective.bounds

    def f(xs):  # scipy passes (k, S)
        return objective.batch(np.asarray(xs).T)

    kw = dict(maxiter=int(opts.pop("maxiter", 1000)), popsize=int(opts.pop("popsize", 15)),
              tol=float(opts.pop("tol", 0.01)), atol=float(opts.pop("atol", 0.0)), **opts)
    if use_x0:
        kw["x0"] = np.clip(np.asarray(initial_params, float), [b[0] for b in bounds], [b[1] for b in bounds])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "updating='deferred'" notice
        res = differential_evolution(f, bounds, vectorized=True, updating="deferred", polish=False, rng=seed, **kw)
    de_status = STATUS_SUCCESS if res.success else (STATUS_MAX_ITER if "maximum" in str(res.message).lower()
                                                    else STATUS_FAILED)
    x, fun, msg, status = res.x, float(res.fun), f"scipy differential_evolution: {res.message}", de_status
    polish_info = None
    if polish:
        pol = optimize_minimize(objective, res.x, bounds=bounds, options={"method": "L-BFGS-B"})
        polish_info = {"status": pol.status, "fun": float(pol.fun), "nit": int(pol.nit)}
        if pol.fun <= fun:
            x, fun = pol.x, float(pol.fun)
        msg += f"; gradient polish: {pol.message}"
        # the polished point is a local minimum whatever the population's spread
        if pol.status == STATUS_SUCCESS and de_status == STATUS_MAX_ITER:
            msg += " (population not converged: reported as max_iter)"
    if not math.isfinite(fun) or fun >= BAD_CHI2:
        status = STATUS_FAILED
    return host_result(x, fun, status, msg, int(res.nit), library="scipy", method="differential_evolution",
                       polish=polish_info, population_energies_spread=float(np.ptp(res.population_energies))
                       if hasattr(res, "population_energies") else None)


class _BoxStep:
    """basinhopping step: uniform random displacement, reflected into the unit box."""

    def __init__(self, stepsize, rng):
        self.stepsize = stepsize
        self.rng = rng

    def __call__(self, x):
        x = x + self.rng.uniform(-self.stepsize, self.stepsize, np.shape(x))
        x = np.abs(x)  # reflect at 0
        return 1.0 - np.abs(1.0 - x)  # reflect at 1


def optimize_basinhopping(objective: Objective, initial_params, bounds=None, options=None):
    """``scipy.optimize.basinhopping`` (Wales & Doye 1997, arXiv:cond-mat/9803344),
    local minimizations by L-BFGS-B with the exact gradient; steps stay inside the
    box. The API reference's custom-method example, registered as
    ``basinhopping`` and ``custom_basinhopping``.

    Options: ``niter`` (20), ``T`` (1.0, in χ² units), ``stepsize`` (0.5, unit-box
    units), ``seed``, ``niter_success``.
    """
    from scipy.optimize import basinhopping

    opts = BASINHOPPING_SPEC.check_options(options)
    bounds = bounds if bounds is not None else objective.bounds
    rng = np.random.default_rng(opts.get("seed"))
    step = _BoxStep(float(opts.get("stepsize", 0.5)), rng)
    minimizer_kwargs = {"method": "L-BFGS-B", "jac": True, "bounds": bounds,
                        "options": {"ftol": 1e-13, "gtol": 1e-8, "maxiter": 1000}}
    res = basinhopping(objective.value_and_grad, np.asarray(initial_params, float), niter=int(opts.get("niter", 20)),
                       T=float(opts.get("T", 1.0)), take_step=step, minimizer_kwargs=minimizer_kwargs,
                       niter_success=opts.get("niter_success"), rng=rng)
    low = res.lowest_optimization_result
    fun = float(res.fun)
    if not math.isfinite(fun) or fun >= BAD_CHI2:
        status = STATUS_FAILED
    elif low.success:
        status = STATUS_SUCCESS
    elif getattr(low, "status", None) == 1:
        status = STATUS_MAX_ITER
    else:
        status = STATUS_FAILED
    msg = res.message[0] if isinstance(res.message, (list, tuple)) else res.message
    return host_result(res.x, fun, status, f"scipy basinhopping: {msg}; best local fit: {low.message}",
                       int(res.nit), library="scipy", method="basinhopping")


DE_SPEC = register_solver(SolverSpec(
    name="differential_evolution", function=optimize_differential_evolution, library="scipy",
    options={"maxiter": int, "popsize": int, "tol": float, "atol": float, "seed": object, "mutation": object,
             "recombination": float, "strategy": str, "init": object, "polish": bool, "x0_in_population": bool,
             "rng": object},
    tolerance_option="tol", positive=frozenset({"maxiter", "popsize"}), nonnegative=frozenset({"tol", "atol"}),
    description="scipy differential evolution, whole population per vmapped call, gradient polish",
), overwrite=True)
_BH_OPTIONS = dict(library="scipy", options={"niter": int, "T": float, "stepsize": float, "seed": object,
                                              "niter_success": (int, None)},
                   nonnegative=frozenset({"niter", "T", "stepsize"}))
BASINHOPPING_SPEC = register_solver(SolverSpec(
    name="basinhopping", function=optimize_basinhopping,
    description="scipy basinhopping with exact-gradient L-BFGS-B local fits, steps kept in the box", **_BH_OPTIONS,
), overwrite=True)
#: the API reference's custom-method example name
CUSTOM_BASINHOPPING_SPEC = register_solver(SolverSpec(
    name="custom_basinhopping", function=optimize_basinhopping,
    description="alias of basinhopping (the API reference's configuration name)", **_BH_OPTIONS,
), overwrite=True)

__all__ = ["BASINHOPPING_SPEC", "CUSTOM_BASINHOPPING_SPEC", "DE_SPEC", "optimize_basinhopping",
           "optimize_differential_evolution"]
