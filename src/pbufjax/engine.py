"""The fitting engine (public module of the API reference): :func:`run_fit`.

Implementation: :mod:`pbufjax.analysis.engine` (run_fit), :mod:`pbufjax.analysis.uncertainties`
(Hessian uncertainties), :mod:`pbufjax.analysis.statistics` (metrics). The optimizer registry
(``OPTIMIZERS``, ``register_optimizer``) and ``FitProblem`` are re-exported from the fit layer.
"""

from .analysis.engine import MODES, NOT_OPTIMIZED, OPTIMIZER_CONFIG_KEYS, clear_cache, run_fit
from .analysis.statistics import compute_metrics
from .analysis.uncertainties import UNCONSTRAINED_FRACTION, hessian_uncertainties, propagate_uncertainty
from .optimizer import OPTIMIZERS, FitProblem, register_optimizer

__all__ = [
    "MODES",
    "NOT_OPTIMIZED",
    "OPTIMIZERS",
    "OPTIMIZER_CONFIG_KEYS",
    "UNCONSTRAINED_FRACTION",
    "FitProblem",
    "clear_cache",
    "compute_metrics",
    "hessian_uncertainties",
    "propagate_uncertainty",
    "register_optimizer",
    "run_fit",
]
