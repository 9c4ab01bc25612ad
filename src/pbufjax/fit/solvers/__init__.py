"""The solvers of a fit: one :class:`SolverSpec` per solver in one registry, one module per family.

Families: :mod:`.lbfgs` (pure-JAX L-BFGS), :mod:`.newton` (Newton / Gauss-Newton),
:mod:`.scipy_minimize` (``scipy.optimize.minimize``), :mod:`.global_search` (differential
evolution, basinhopping), :mod:`.multistart`. A new solver is one module that calls
:func:`register_solver` with its :class:`SolverSpec`; the CLI's choices, the batch methods,
provenance and the shared solver test read the registry.
"""

# registration order: the batch methods first, in the order the batch module lists them
# isort: off
from . import lbfgs, newton  # noqa: F401
from . import global_search, multistart, scipy_minimize  # noqa: F401
# isort: on
from .spec import (
    OPTIMIZERS,
    OptimizerTable,
    SolverSpec,
    batch_solvers,
    get_optimizer,
    get_solver,
    register_optimizer,
    register_solver,
    solver_names,
    solver_table,
    unregister_solver,
)

__all__ = ["OPTIMIZERS", "OptimizerTable", "SolverSpec", "batch_solvers", "get_optimizer", "get_solver",
           "register_optimizer", "register_solver", "solver_names", "solver_table", "unregister_solver"]
