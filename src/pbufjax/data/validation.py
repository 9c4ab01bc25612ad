"""Checks of dataset dicts and covariance matrices (fail early, naming the failed check)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .kinds import BAO_QUANTITIES, BAO_QUANTITIES_WITH_RDFID, BAO_TYPES, CMB_OBSERVABLES, DATASET_TYPES
from .spec import get_dataset_spec


class DatasetValidationError(ValueError):
    """A dataset dict fails validation (the message says which check)."""


def check_covariance(cov, n: int | None = None, *, what: str = "covariance", rtol: float = 1e-8) -> np.ndarray:
    """Validate a covariance matrix and return its lower Cholesky factor.

    Checks: 2-D, square, size ``n`` (when given), finite, symmetric to ``rtol`` of its
    largest entry, positive definite.

    Raises:
        DatasetValidationError: naming the failed check.
    """
    c = np.asarray(cov, dtype=np.float64)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise DatasetValidationError(f"{what} must be a square matrix, got shape {c.shape}")
    if n is not None and c.shape[0] != n:
        raise DatasetValidationError(f"{what} is {c.shape[0]}x{c.shape[1]} but the data vector has {n} entries")
    if not np.all(np.isfinite(c)):
        raise DatasetValidationError(f"{what} has non-finite entries")
    scale = np.max(np.abs(c))
    asym = np.max(np.abs(c - c.T))
    if asym > rtol * scale:
        raise DatasetValidationError(f"{what} is not symmetric (max |C - C^T| = {asym:.3g}, max |C| = {scale:.3g})")
    try:
        return np.linalg.cholesky(0.5 * (c + c.T))
    except np.linalg.LinAlgError:
        w = np.linalg.eigvalsh(0.5 * (c + c.T))
        raise DatasetValidationError(
            f"{what} is not positive definite (smallest eigenvalue {w[0]:.3g}, largest {w[-1]:.3g})"
        ) from None


def _require(cond: bool, msg: str):
    if not cond:
        raise DatasetValidationError(msg)


def _vector(data, key, n, name):
    _require(key in data, f"dataset {name!r}: missing key {key!r}")
    v = np.asarray(data[key])
    _require(v.shape == (n,), f"dataset {name!r}: {key!r} has shape {v.shape}, expected ({n},)")
    return v


def _check_table(data, n, name) -> None:
    """A tabulated BAO likelihood: one point, ``table_alpha`` strictly increasing, ``table_chi2`` finite."""
    _require(n == 1, f"dataset {name!r}: a tabulated BAO likelihood has one data point, got {n}")
    for key in ("table_alpha", "table_chi2", "table_reference"):
        _require(key in data, f"dataset {name!r}: missing key {key!r}")
    a = np.asarray(data["table_alpha"], np.float64)
    c = np.asarray(data["table_chi2"], np.float64)
    _require(a.ndim == 1 and a.size >= 4 and c.shape == a.shape,
             f"dataset {name!r}: table_alpha and table_chi2 must be 1-D of the same length >= 4, "
             f"got shapes {a.shape}, {c.shape}")
    _require(bool(np.all(np.isfinite(a)) and np.all(np.diff(a) > 0)),
             f"dataset {name!r}: table_alpha must be finite and strictly increasing")
    _require(bool(np.all(np.isfinite(c))), f"dataset {name!r}: table_chi2 has non-finite entries")
    ref = np.asarray(data["table_reference"], np.float64)
    _require(ref.ndim == 0 and bool(np.isfinite(ref)) and float(ref) > 0,
             f"dataset {name!r}: table_reference must be a finite number > 0, got {data['table_reference']!r}")


def validate_dataset(data: Mapping[str, Any], expected_format: str) -> bool:
    """Validate a dataset dict.

    Args:
        data: dataset dict (see :mod:`pbufjax.data`).
        expected_format: a dataset type (``cmb``, ``bao``, ``bao_ani``, ``sn``) or a registered
            dataset name/alias, whose spec's kind is then expected (a kind outside
            :data:`~pbufjax.data.kinds.DATASET_TYPES`, or none, gets the generic checks only).

    Returns:
        True when every check passes.

    Raises:
        DatasetValidationError: (a ValueError) naming the failed check: missing keys,
            non-finite or non-1-D observations, length mismatches, a covariance that is
            not square, symmetric, finite and positive definite, unknown BAO quantities,
            missing ``rd_fid``, unknown CMB observables, bad redshifts, a bad χ² table (``bao_tabulated``).
        KeyError: ``expected_format`` is neither a type nor a known dataset.
        TypeError: ``data`` is not a mapping.
    """
    if not isinstance(data, Mapping):
        raise TypeError(f"dataset must be a dict, got {type(data).__name__}")
    if expected_format in DATASET_TYPES:
        dtype = expected_format
    else:
        dtype = get_dataset_spec(expected_format).kind
    name = data.get("name", "<unnamed>")
    for key in ("observations", "covariance", "metadata"):
        _require(key in data, f"dataset {name!r}: missing key {key!r}")
    obs = np.asarray(data["observations"])
    _require(obs.ndim == 1 and obs.size > 0, f"dataset {name!r}: observations must be a non-empty 1-D array, got shape {obs.shape}")
    _require(np.issubdtype(obs.dtype, np.number), f"dataset {name!r}: observations must be numeric, got {obs.dtype}")
    _require(bool(np.all(np.isfinite(obs))), f"dataset {name!r}: observations have non-finite entries")
    n = obs.size
    check_covariance(data["covariance"], n, what=f"dataset {name!r}: covariance")
    meta = data["metadata"]
    _require(isinstance(meta, Mapping), f"dataset {name!r}: metadata must be a dict")
    if "n_points" in meta:
        _require(int(meta["n_points"]) == n, f"dataset {name!r}: metadata n_points = {meta['n_points']} but {n} observations")
    if "dataset_type" in meta and dtype is not None:
        _require(
            meta["dataset_type"] == dtype,
            f"dataset {name!r}: dataset_type {meta['dataset_type']!r}, expected {dtype!r}",
        )
    if "labels" in data:
        _require(len(data["labels"]) == n, f"dataset {name!r}: {len(data['labels'])} labels for {n} observations")
    if dtype == "cmb":
        _require("observables" in data, f"dataset {name!r}: missing key 'observables'")
        names = tuple(data["observables"])
        _require(len(names) == n, f"dataset {name!r}: {len(names)} observables for {n} observations")
        bad = [o for o in names if o not in CMB_OBSERVABLES]
        _require(not bad, f"dataset {name!r}: unknown CMB observable(s) {bad}; valid: {', '.join(CMB_OBSERVABLES)}")
        _require(len(set(names)) == n, f"dataset {name!r}: repeated CMB observables {names}")
    elif dtype in BAO_TYPES:
        z = _vector(data, "redshifts", n, name)
        _require(bool(np.all(np.isfinite(z)) and np.all(z > 0)), f"dataset {name!r}: BAO redshifts must be finite and > 0")
        _require("quantities" in data, f"dataset {name!r}: missing key 'quantities'")
        qs = tuple(data["quantities"])
        _require(len(qs) == n, f"dataset {name!r}: {len(qs)} quantities for {n} observations")
        bad = sorted({q for q in qs if q not in BAO_QUANTITIES})
        _require(not bad, f"dataset {name!r}: unknown BAO quantity name(s) {bad}; valid: {', '.join(BAO_QUANTITIES)}")
        if any(q in BAO_QUANTITIES_WITH_RDFID for q in qs):
            rdfid = _vector(data, "rd_fid", n, name)
            need = np.array([q in BAO_QUANTITIES_WITH_RDFID for q in qs])
            _require(
                bool(np.all(np.isfinite(rdfid[need]) & (rdfid[need] > 0))),
                f"dataset {name!r}: rd_fid must be finite and > 0 for {', '.join(BAO_QUANTITIES_WITH_RDFID)}",
            )
        if dtype == "bao_tabulated":
            _check_table(data, n, name)
    elif dtype == "sn":
        zc = _vector(data, "z_cmb", n, name)
        zh = _vector(data, "z_hel", n, name)
        _require(bool(np.all(np.isfinite(zc)) and np.all(zc > 0)), f"dataset {name!r}: z_cmb must be finite and > 0")
        _require(bool(np.all(np.isfinite(zh)) and np.all(zh > -1)), f"dataset {name!r}: z_hel must be finite and > -1")
        if "is_calibrator" in data:
            cal = _vector(data, "is_calibrator", n, name).astype(bool)
            ceph = _vector(data, "ceph_dist", n, name)
            _require(bool(np.all(np.isfinite(ceph[cal]))), f"dataset {name!r}: ceph_dist must be finite for calibrators")
    return True


__all__ = ["DatasetValidationError", "check_covariance", "validate_dataset"]
