"""Figures; implementation in :mod:`pbufjax.analysis.plots` (data against a model),
:mod:`pbufjax.analysis.triangle` (triangle plots) and :mod:`pbufjax.analysis.inference_plots`
(profiles, mocks). :func:`save_formats` writes one figure as PNG and PDF."""

from .analysis.figures import save_formats
from .analysis.inference_plots import plot_corner, plot_mock_delta_chi2, plot_profile
from .analysis.plots import BAO_COLORS, BAO_MARKERS, bao_curves, plot_bao, plot_sn
from .analysis.triangle import SET_COLORS

__all__ = ["BAO_COLORS", "BAO_MARKERS", "SET_COLORS", "bao_curves", "plot_bao", "plot_corner", "plot_mock_delta_chi2",
           "plot_profile", "plot_sn", "save_formats"]
