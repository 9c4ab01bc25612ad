"""Posterior sampling with NUTS on the compiled χ² (public module; the implementation is
:mod:`pbufjax.inference.sampling`: :mod:`~pbufjax.inference.sampling.posterior` the log-density
and priors, :mod:`~pbufjax.inference.sampling.run` the compiled sampler,
:mod:`~pbufjax.inference.sampling.io` summaries and sample files)."""

from .inference.sampling import (
    CHAIN_METHODS,
    DERIVED_DESCRIPTIONS,
    DERIVED_NAMES,
    PRIOR_TYPES,
    SUMMARY_KEYS,
    Posterior,
    PosteriorArgs,
    clear_cache,
    load_samples,
    sample_posterior,
    save_samples,
    summarize,
)

__all__ = ["CHAIN_METHODS", "DERIVED_DESCRIPTIONS", "DERIVED_NAMES", "PRIOR_TYPES", "SUMMARY_KEYS", "Posterior",
           "PosteriorArgs", "clear_cache", "load_samples", "sample_posterior", "save_samples", "summarize"]
