"""Batched fits: mock-data calibration, model comparison, profile likelihoods, many starts
(public module; the implementation is :mod:`pbufjax.inference.batch`)."""

from .inference.batch import (
    DEFAULT_METHOD,
    DELTA_CHI2_LEVELS,
    FIT_METHODS,
    clear_cache,
    compare_models,
    draw_mocks,
    fiducial_model,
    fit_mocks,
    fit_real,
    multistart,
    profile_likelihood,
)
from .inference.sharding import BatchRunner

__all__ = ["DEFAULT_METHOD", "DELTA_CHI2_LEVELS", "FIT_METHODS", "BatchRunner", "clear_cache", "compare_models",
           "draw_mocks", "fiducial_model", "fit_mocks", "fit_real", "multistart", "profile_likelihood"]
