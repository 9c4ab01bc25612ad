"""pbufjax: differentiable background-cosmology fits in JAX.

Importing the package switches JAX to float64 (``jax_enable_x64``) for the whole
process: the physics needs it (1e-7 distances, Cholesky solves of supernova
covariances), and JAX's precision is a global setting that has to be chosen
before arrays are created. Kernel results are float64 (tested).
"""
import jax as _jax

_jax.config.update("jax_enable_x64", True)

__version__ = "0.1.0"

from . import aot_cache as _aot_cache  # noqa: E402

_aot_cache.code_fingerprint()  # pin the code this process runs (stored programs are keyed on it)

from . import constants, cosmology  # noqa: E402,F401
from .parameter import DEFAULTS, OPTIMIZABLE_PARAMETERS, build_params, get_defaults, validate_params  # noqa: E402,F401

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


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'pbufjax' has no attribute {name!r}")
