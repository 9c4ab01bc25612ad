"""Pure, jit/vmap/grad-able background cosmology kernels."""
from .background import *  # noqa: F401,F403
from .models import MODELS, Model, densities, e2, get_model, register_model  # noqa: F401
