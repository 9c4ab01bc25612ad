"""The fit layer: the fit problem, the χ² objective, the solvers and their one result type.

Modules, lowest first: :mod:`.transforms` (the box/log coordinate map), :mod:`.criteria`
(convergence tolerances and tests), :mod:`.result` (:class:`Status`, :class:`SolverResult`),
:mod:`.hessians`, :mod:`.packing`, :mod:`.objective` (:class:`CompiledChi2`, :class:`Objective`),
:mod:`.blas`, :mod:`.solvers` (the :class:`~pbufjax.fit.solvers.SolverSpec` registry, one
module per family), :mod:`.run` (:func:`run_optimizer`, :func:`solve`), :mod:`.names`,
:mod:`.problem` (:class:`FitProblem`, :func:`get_problem`), :mod:`.api` (the API reference's
:class:`ParameterOptimizer`), :mod:`.versions`.
"""

from .hessians import physical_hessian_to_unit, unit_hessian_to_physical
from .api import CMBOptimizationResult, OptimizationResult, ParameterOptimizer, optimize_cmb_parameters
from .names import NUISANCE_BOUNDS, canonical_datasets, nuisance_for
from .objective import CompiledChi2, Objective
from .problem import FitProblem, clear_cache, get_problem
from .result import SolverResult, Status
from .run import run_optimizer, solve
from .solvers import SolverSpec, get_optimizer, get_solver, register_solver, solver_names
from .versions import library_versions

__all__ = [
           "NUISANCE_BOUNDS",
           "SolverSpec",
           "get_optimizer",
           "get_solver",
           "physical_hessian_to_unit",
           "register_solver",
           "solver_names",
           "unit_hessian_to_physical",
           "CMBOptimizationResult",
           "CompiledChi2",
           "FitProblem",
           "Objective",
           "OptimizationResult",
           "ParameterOptimizer",
           "SolverResult",
           "Status",
           "canonical_datasets",
           "clear_cache",
           "get_problem",
           "library_versions",
           "nuisance_for",
           "optimize_cmb_parameters",
           "run_optimizer",
           "solve",
]
