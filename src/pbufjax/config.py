"""Run configuration files (public module): re-exports :mod:`pbufjax.cli.config`.

See :mod:`pbufjax.cli.config` for the file's schema and the precedence of settings
(command line > configuration file > parameter store > model defaults).
"""

from .cli.config import (
    COV_SCALE_RANGE,
    MODES,
    OPTIMIZATION_DEFAULTS,
    OPTIMIZER_KEYS,
    TOLERANCE_RANGE,
    TOP_LEVEL_KEYS,
    ConfigError,
    check_model_parameters,
    check_number,
    load_config,
    merge_settings,
    validate_config,
)

__all__ = [
    "COV_SCALE_RANGE",
    "MODES",
    "OPTIMIZATION_DEFAULTS",
    "OPTIMIZER_KEYS",
    "TOLERANCE_RANGE",
    "TOP_LEVEL_KEYS",
    "ConfigError",
    "check_model_parameters",
    "check_number",
    "load_config",
    "merge_settings",
    "validate_config",
]
