"""Parameter dictionaries: defaults, bounds, validation and derived keys.

Public module; the implementation is :mod:`pbufjax.cosmology.parameters` (the
model-parameter registry: :data:`DEFAULTS`, :data:`OPTIMIZABLE_PARAMETERS`,
bounds, :func:`validate_params`, :func:`build_params`, :func:`derived_params`).
"""

from .cosmology.parameters import (
    DEFAULT_METHOD,
    DEFAULTS,
    DERIVED_PARAMS,
    METADATA_KEYS,
    OPTIMIZABLE_PARAMETERS,
    STATIC_PARAMS,
    available_models,
    build_params,
    check_method,
    check_model_name,
    check_number,
    derived_params,
    get_bounds,
    get_defaults,
    get_optimization_bounds,
    log_space_params,
    model_for,
    optimizable_parameters,
    validate_free_params,
    validate_params,
)

__all__ = [
    "DEFAULTS",
    "DEFAULT_METHOD",
    "DERIVED_PARAMS",
    "METADATA_KEYS",
    "OPTIMIZABLE_PARAMETERS",
    "STATIC_PARAMS",
    "available_models",
    "build_params",
    "check_method",
    "check_model_name",
    "check_number",
    "derived_params",
    "get_bounds",
    "get_defaults",
    "get_optimization_bounds",
    "log_space_params",
    "model_for",
    "optimizable_parameters",
    "validate_free_params",
    "validate_params",
]
