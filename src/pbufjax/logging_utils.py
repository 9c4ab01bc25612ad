"""Logging and result tables (public module of the API reference); implementation in
:mod:`pbufjax.analysis.report`."""

from .analysis.report import configure_logging, format_results_table, get_logger, log_diagnostics, log_run

__all__ = ["configure_logging", "format_results_table", "get_logger", "log_diagnostics", "log_run"]
