"""Posterior sampling: the log-density (:mod:`.posterior`), NUTS on it (:mod:`.run`), chain
summaries and sample files (:mod:`.io`)."""

from .io import SUMMARY_KEYS, load_samples, save_samples, summarize
from .posterior import DERIVED_DESCRIPTIONS, DERIVED_NAMES, PRIOR_TYPES, Posterior, PosteriorArgs
from .run import CHAIN_METHODS, clear_cache, sample_posterior

__all__ = ["CHAIN_METHODS", "DERIVED_DESCRIPTIONS", "DERIVED_NAMES", "PRIOR_TYPES", "SUMMARY_KEYS", "Posterior",
           "PosteriorArgs", "clear_cache", "load_samples", "sample_posterior", "save_samples", "summarize"]
