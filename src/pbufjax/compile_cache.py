"""Persistent JAX compilation cache (public module; the implementation is :mod:`pbufjax.runtime.compile_cache`)."""

from .runtime.compile_cache import (
    ENV_DIR as ENV_DIR,
    ENV_DISABLE as ENV_DISABLE,
    clear as clear,
    default_cache_dir as default_cache_dir,
    disable as disable,
    enable as enable,
    enable_from_environment as enable_from_environment,
    status as status,
)

__all__ = ["ENV_DIR", "ENV_DISABLE", "clear", "default_cache_dir", "disable", "enable", "enable_from_environment",
           "status"]
