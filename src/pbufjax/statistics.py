"""Fit statistics (public module of the API reference); implementation in :mod:`pbufjax.analysis.statistics`."""

from .analysis.statistics import (
    chi2_generic,
    compute_dof,
    compute_metrics,
    delta_aic,
    delta_bic,
    information_criteria,
    n_data_points,
)

__all__ = [
    "chi2_generic",
    "compute_dof",
    "compute_metrics",
    "delta_aic",
    "delta_bic",
    "information_criteria",
    "n_data_points",
]
