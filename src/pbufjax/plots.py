"""Figures; implementation in :mod:`pbufjax.analysis.plots` (data against a model) and
:mod:`pbufjax.analysis.inference_plots` (samples, profiles, mocks)."""

from .analysis.inference_plots import plot_corner, plot_mock_delta_chi2, plot_profile
from .analysis.plots import BAO_COLORS, bao_curves, plot_bao, plot_sn

__all__ = ["BAO_COLORS", "bao_curves", "plot_bao", "plot_corner", "plot_mock_delta_chi2", "plot_profile", "plot_sn"]
