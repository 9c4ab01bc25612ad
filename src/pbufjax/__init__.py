"""pbufjax: differentiable background-cosmology fits in JAX.

Importing the package switches JAX to float64 (``jax_enable_x64``) for the whole
process: the physics needs it (1e-7 distances, Cholesky solves of supernova
covariances), and JAX's precision is a global setting that has to be chosen
before arrays are created. Kernel results are float64 (tested). Importing does
nothing else: no file is read or hashed and no cache is switched on until a
function that needs it is first called.

The package is layered, lowest first (each layer imports only the ones below it):
:mod:`pbufjax.runtime` (JSON, clock, caches, compiled-program stores) and
:mod:`pbufjax.constants` → :mod:`pbufjax.cosmology` (kernels, models, parameters) →
:mod:`pbufjax.data` and :mod:`pbufjax.store` → :mod:`pbufjax.likelihood` →
:mod:`pbufjax.fit` (fit problem, solvers) → :mod:`pbufjax.inference` (sampling, batches,
sharding) → :mod:`pbufjax.analysis` (run_fit, integrity, statistics, reports, plots) →
:mod:`pbufjax.cli`. The modules named in the API reference (``engine``, ``optimizer``,
``parameter``, ``parameter_store``, ``likelihoods``, ``datasets``, ``statistics``,
``integrity``, ``logging_utils``) re-export from these layers.

Example:
    >>> import pbufjax
    >>> params = pbufjax.build_params("lcdm", {"H0": 67.4})
    >>> round(params["H0"], 1)
    67.4
"""
import os as _os

import jax as _jax

_jax.config.update("jax_enable_x64", True)
# A fit's programs are small (one χ² value and gradient: ~50 µs on one CPU core): run on one
# CPU device, they execute inline on the calling thread instead of being handed to a worker
# thread and waited for, which makes a warm fit ~1.4x faster (documents/engine.md). Programs
# sharded over several devices are not affected. PBUFJAX_CPU_ASYNC_DISPATCH=1 keeps JAX's default.
if _os.environ.get("PBUFJAX_CPU_ASYNC_DISPATCH", "").strip().lower() not in ("1", "true", "yes", "on"):
    _jax.config.update("jax_cpu_enable_async_dispatch", False)

__version__ = "0.1.0"

from .runtime import clock as _clock  # noqa: E402,F401  (records the import time; reads no file)
from .runtime.caches import clear_caches  # noqa: E402
from . import constants, cosmology  # noqa: E402,F401
from .cosmology.parameters import (  # noqa: E402
    DEFAULTS,
    OPTIMIZABLE_PARAMETERS,
    build_params,
    get_defaults,
    validate_params,
)

# Heavier entry points, imported on first use (keeps ``import pbufjax`` and ``pbufjax --help`` light).
_LAZY = {
    "run_fit": "engine",
    "OPTIMIZERS": "engine",
    "ParameterOptimizer": "optimizer",
    "optimize_cmb_parameters": "optimizer",
    "compute_metrics": "statistics",
    "delta_aic": "statistics",
    "load_dataset": "datasets",
    "build_chi2": "likelihoods",
    "build_likelihood": "likelihoods",
}

__all__ = ["DEFAULTS", "OPTIMIZABLE_PARAMETERS", "build_params", "clear_caches", "constants", "cosmology",
           "get_defaults", "validate_params", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'pbufjax' has no attribute {name!r}")
