"""Integrity checks (public module of the API reference); implementation in :mod:`pbufjax.analysis.integrity`."""

from .analysis.integrity import (
    DEFAULT_INTEGRITY_CONFIG,
    OVERLAPPING_DATASETS,
    check_covariance_matrices,
    check_h_ratios,
    check_pbuf_lcdm_limit,
    check_recombination,
    compiled_hubble,
    dataset_overlaps,
    h_ratios,
    reference_e2,
    run_integrity_suite,
    verify_covariance_matrices,
    verify_h_ratios,
    verify_recombination,
)

__all__ = [
    "DEFAULT_INTEGRITY_CONFIG",
    "OVERLAPPING_DATASETS",
    "check_covariance_matrices",
    "check_h_ratios",
    "check_pbuf_lcdm_limit",
    "check_recombination",
    "compiled_hubble",
    "dataset_overlaps",
    "h_ratios",
    "reference_e2",
    "run_integrity_suite",
    "verify_covariance_matrices",
    "verify_h_ratios",
    "verify_recombination",
]
