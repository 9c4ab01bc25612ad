"""pbufjax: differentiable background-cosmology fits in JAX.

Importing the package switches JAX to float64 (``jax_enable_x64``): the physics
needs it (1e-7 distances, Cholesky solves of supernova covariances). Set the
environment variable ``PBUFJAX_NO_X64=1`` to leave JAX's setting untouched; the
kernels then refuse to run in float32 rather than return inaccurate numbers.
"""
import os as _os

import jax as _jax

if _os.environ.get("PBUFJAX_NO_X64", "") not in ("1", "true", "yes"):
    _jax.config.update("jax_enable_x64", True)

__version__ = "0.1.0"

from . import constants, cosmology  # noqa: E402,F401
from .parameter import DEFAULTS, OPTIMIZABLE_PARAMETERS, build_params, get_defaults, validate_params  # noqa: E402,F401
