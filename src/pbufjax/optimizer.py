"""Optimizers for χ² minimization with exact JAX gradients (public module over :mod:`pbufjax.fit`).

The implementation lives in :mod:`pbufjax.fit`: the pure-JAX kernels
(:func:`fit_lbfgs`, :func:`fit_newton`), the solver registry (:data:`OPTIMIZERS`, one
:class:`~pbufjax.fit.solvers.SolverSpec` per solver), :class:`FitProblem` and the API
reference's :class:`ParameterOptimizer` / :func:`optimize_cmb_parameters`. Every solver
returns one :class:`SolverResult` with a :class:`Status` (``"success"``, ``"max_iter"``,
``"failed"``).
"""

from __future__ import annotations

from .fit.api import CMBOptimizationResult, OptimizationResult, ParameterOptimizer, optimize_cmb_parameters
from .fit.blas import single_threaded_blas
from .fit.criteria import (
    BAD_CHI2,
    BOUND_TOL,
    FLAT_CURVATURE,
    GAINTOL,
    PGTOL,
    bounds_reached,
    predicted_gain,
    projected_gradient_norm,
)
from .fit.hessians import physical_hessian_to_unit, unit_hessian_to_physical
from .fit.names import NUISANCE_BOUNDS, canonical_datasets, nuisance_for
from .fit.objective import CompiledChi2, Objective
from .fit.problem import FitProblem, clear_cache, get_problem
from .fit.result import (
    STATUS_FAILED,
    STATUS_MAX_ITER,
    STATUS_SUCCESS,
    AttrDict,
    LBFGSResult,
    NewtonResult,
    OptimizerResult,
    SolverResult,
    Status,
    lbfgs_status_name,
)
from .fit.run import run_optimizer, solve
from .fit.solvers import OPTIMIZERS, get_optimizer, register_optimizer
from .fit.solvers.global_search import optimize_basinhopping, optimize_differential_evolution
from .fit.solvers.lbfgs import fit_lbfgs, optimize_lbfgs
from .fit.solvers.multistart import optimize_multistart
from .fit.solvers.newton import fit_newton, optimize_gauss_newton, optimize_newton
from .fit.solvers.scipy_minimize import optimize_minimize
from .fit.transforms import from_unit, to_unit
from .fit.versions import library_versions

__all__ = [
    "BAD_CHI2",
    "BOUND_TOL",
    "FLAT_CURVATURE",
    "GAINTOL",
    "NUISANCE_BOUNDS",
    "OPTIMIZERS",
    "PGTOL",
    "STATUS_FAILED",
    "STATUS_MAX_ITER",
    "STATUS_SUCCESS",
    "AttrDict",
    "CMBOptimizationResult",
    "CompiledChi2",
    "FitProblem",
    "LBFGSResult",
    "NewtonResult",
    "Objective",
    "OptimizationResult",
    "OptimizerResult",
    "ParameterOptimizer",
    "SolverResult",
    "Status",
    "bounds_reached",
    "canonical_datasets",
    "clear_cache",
    "fit_lbfgs",
    "fit_newton",
    "from_unit",
    "get_optimizer",
    "get_problem",
    "lbfgs_status_name",
    "library_versions",
    "nuisance_for",
    "optimize_basinhopping",
    "optimize_cmb_parameters",
    "optimize_differential_evolution",
    "optimize_gauss_newton",
    "optimize_lbfgs",
    "optimize_minimize",
    "optimize_multistart",
    "optimize_newton",
    "physical_hessian_to_unit",
    "predicted_gain",
    "projected_gradient_norm",
    "register_optimizer",
    "run_optimizer",
    "single_threaded_blas",
    "solve",
    "to_unit",
    "unit_hessian_to_physical",
]
