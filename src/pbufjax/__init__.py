"""pbufjax: differentiable background-cosmology fits in JAX.

Importing the package switches JAX to float64 (``jax_enable_x64``) for the whole
process: the physics needs it (1e-7 distances, Cholesky solves of supernova
covariances), and JAX's precision is a global setting that has to be chosen
before arrays are created. Kernel results are float64 (tested).
"""
import jax as _jax

_jax.config.update("jax_enable_x64", True)

__version__ = "0.1.0"

from . import constants, cosmology  # noqa: E402,F401
from .parameter import DEFAULTS, OPTIMIZABLE_PARAMETERS, build_params, get_defaults, validate_params  # noqa: E402,F401
