"""Batched fits: mock-data calibration (:mod:`.mocks`), model comparison (:mod:`.compare`),
profile likelihoods (:mod:`.profile`), many starts (:mod:`.multistart`); the fit methods,
problem and compiled-function cache they share are in :mod:`.common`."""

from .common import DEFAULT_METHOD, FIT_METHODS, clear_cache, fit_real
from .compare import compare_models
from .mocks import draw_mocks, fiducial_model, fit_mocks
from .multistart import multistart
from .profile import DELTA_CHI2_LEVELS, profile_likelihood

__all__ = ["DEFAULT_METHOD", "DELTA_CHI2_LEVELS", "FIT_METHODS", "clear_cache", "compare_models", "draw_mocks",
           "fiducial_model", "fit_mocks", "fit_real", "multistart", "profile_likelihood"]
