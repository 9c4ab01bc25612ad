"""Observational datasets: loaders, validation and metadata.

Every dataset is a plain dict with the API reference's shape::

    {
        "name": "desi_dr2",                 # canonical name
        "observations": np.ndarray (n,),     # data vector
        "covariance": np.ndarray (n, n),     # full covariance of the data vector
        "labels": list[str],                 # one label per data point
        "metadata": {"n_points", "redshift_range", "survey", "citation", "arxiv",
                     "dataset_type", "description", "files", ...},
        # plus type-specific keys (see below)
    }

``dataset_type`` is one of :data:`DATASET_TYPES`:

* ``cmb``: distance priors; extra key ``observables`` (names of the entries, from
  ``R, l_A, omega_b, n_s``).
* ``bao`` and ``bao_ani``: extra keys ``redshifts``, ``quantities`` (one name of
  :data:`BAO_QUANTITIES` per point) and ``rd_fid`` (fiducial sound horizon per point
  [Mpc], NaN where unused).
* ``sn``: extra keys ``z_cmb``, ``z_hel``; for SH0ES-calibrated data also
  ``is_calibrator`` (bool) and ``ceph_dist`` (Cepheid distance moduli of the calibrator
  hosts). ``observations`` are distance moduli up to an unknown offset (Union3) or
  corrected apparent magnitudes :math:`m_B` (Pantheon+).

Registered datasets (:data:`DATASET_LOADERS`) and the aliases of the API reference
(:data:`ALIASES`):

=========================  ======  =====================================================
name                       type    content
=========================  ======  =====================================================
``planck2018_priors``      cmb     :math:`R, \\ell_A, \\omega_b` (arXiv:1808.05724), embedded
``planck2018_priors_ns``   cmb     the same plus :math:`n_s`, embedded
``desi_dr2``               bao     DESI DR2, 13 values (arXiv:2503.14738)
``desi_dr1``               bao     DESI DR1, 12 values (arXiv:2404.03002)
``boss_dr12``              bao_ani BOSS DR12 consensus, 6 values (arXiv:1607.03155)
``union3``                 sn      Union3/UNITY1.5, 22 nodes (arXiv:2311.12098)
``pantheonplus``           sn      Pantheon+ with zHD > 0.01, 1590 SNe (arXiv:2202.04077)
``pantheonplus_shoes``     sn      Pantheon+ with the 77 SH0ES calibrators, 1657 (arXiv:2112.03863)
=========================  ======  =====================================================

Aliases: ``cmb`` -> ``planck2018_priors``, ``bao`` -> ``desi_dr2``,
``bao_ani`` -> ``boss_dr12``, ``sn`` -> ``union3``.

Release files are found by :mod:`pbufjax.data_registry` (argument ``data_dir``, then
``PBUFJAX_DATA_DIR``, then the user cache) and, by default, checked against their
published sha256.

Example:
    >>> from pbufjax.datasets import load_dataset
    >>> bao = load_dataset("bao")                    # DESI DR2   # doctest: +SKIP
    >>> bao["metadata"]["n_points"], bao["quantities"][:2]        # doctest: +SKIP
    (13, ('DV_over_rs', 'DM_over_rs'))
"""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from . import data_registry
from .data_registry import DataFileNotFoundError

#: Dataset types understood by the likelihoods.
DATASET_TYPES = ("cmb", "bao", "bao_ani", "sn")

#: API-reference names -> canonical dataset names.
ALIASES: dict[str, str] = {
    "cmb": "planck2018_priors",
    "bao": "desi_dr2",
    "bao_ani": "boss_dr12",
    "sn": "union3",
}

#: BAO observables understood by the generic BAO likelihood (name -> definition).
BAO_QUANTITIES: dict[str, str] = {
    "DV_over_rs": "D_V(z)/r_d",
    "DM_over_rs": "D_M(z)/r_d",
    "DH_over_rs": "D_H(z)/r_d = c/(H(z) r_d)",
    "DA_over_rs": "D_A(z)/r_d",
    "rs_over_DV": "r_d/D_V(z)",
    "DM_rdfid_over_rs": "D_M(z) r_d,fid/r_d [Mpc] (BOSS DR12 convention)",
    "H_rs_over_rdfid": "H(z) r_d/r_d,fid [km/s/Mpc] (BOSS DR12 convention)",
}
#: BAO quantities that need a fiducial sound horizon ``rd_fid``.
BAO_QUANTITIES_WITH_RDFID = ("DM_rdfid_over_rs", "H_rs_over_rdfid")

#: Fiducial sound horizon of the BOSS DR12 consensus measurements [Mpc] (arXiv:1607.03155, Sec. 2).
BOSS_DR12_RD_FID = 147.78

#: Names of the CMB distance-prior observables.
CMB_OBSERVABLES = ("R", "l_A", "omega_b", "n_s")

#: z_* of Planck 2018 TT,TE,EE+lowE (arXiv:1807.06209, Table 2): the redshift of the CMB priors.
PLANCK2018_Z_STAR = 1089.92


class DataFormatError(ValueError):
    """A release file does not have the expected format (the message names file and line)."""


class DatasetValidationError(ValueError):
    """A dataset dict fails validation (the message says which check)."""


# ---------------------------------------------------------------------------
# Readers
# ---------------------------------------------------------------------------


def _float(token: str, path, lineno: int, what: str) -> float:
    try:
        return float(token)
    except ValueError:
        raise DataFormatError(f"{path}, line {lineno}: cannot read {what} from {token!r}") from None


def _content_lines(path):
    """(line number, stripped text) of non-empty lines that are not ``#`` comments."""
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, start=1):
            s = line.strip()
            if s and not s.startswith("#"):
                yield i, s


def read_bao_mean(path, quantity_map: Mapping[str, str] | None = None):
    """Read a BAO mean file: one ``z value quantity`` per line, ``#`` comments.

    Args:
        path: file path.
        quantity_map: renames applied to the file's quantity names (e.g. BOSS DR12's
            ``DM_over_rs`` -> ``DM_rdfid_over_rs``).

    Returns:
        ``(z, values, quantities)``: two float arrays and a tuple of names.

    Raises:
        DataFormatError: a line without three fields, a non-numeric z or value, or an
            unknown quantity (the message names the file and line, and lists the valid names).
    """
    quantity_map = dict(quantity_map or {})
    zs, vals, qs = [], [], []
    for lineno, s in _content_lines(path):
        parts = s.split()
        if len(parts) != 3:
            raise DataFormatError(f"{path}, line {lineno}: expected 3 fields 'z value quantity', got {len(parts)}: {s!r}")
        z = _float(parts[0], path, lineno, "the redshift")
        v = _float(parts[1], path, lineno, "the value")
        q = quantity_map.get(parts[2], parts[2])
        if q not in BAO_QUANTITIES:
            raise DataFormatError(
                f"{path}, line {lineno}: unknown BAO quantity {parts[2]!r}; valid: {', '.join(BAO_QUANTITIES)}"
            )
        zs.append(z)
        vals.append(v)
        qs.append(q)
    if not zs:
        raise DataFormatError(f"{path}: no data lines")
    return np.array(zs), np.array(vals), tuple(qs)


def read_matrix(path) -> np.ndarray:
    """Read a whitespace-separated square matrix (one row per line, ``#`` comments).

    Raises:
        DataFormatError: a non-numeric entry, rows of different lengths or a non-square
            matrix (naming the file and line).
    """
    rows = []
    first_len = None
    for lineno, s in _content_lines(path):
        parts = s.split()
        row = [_float(t, path, lineno, "a matrix entry") for t in parts]
        if first_len is None:
            first_len = len(row)
        elif len(row) != first_len:
            raise DataFormatError(f"{path}, line {lineno}: row has {len(row)} entries, previous rows have {first_len}")
        rows.append(row)
    if not rows:
        raise DataFormatError(f"{path}: no data lines")
    m = np.array(rows, dtype=np.float64)
    if m.shape[0] != m.shape[1]:
        raise DataFormatError(f"{path}: matrix is {m.shape[0]}x{m.shape[1]}, expected square")
    return m


def read_flat_covariance(path) -> np.ndarray:
    """Read a covariance stored as its size N on the first line, then N*N values.

    This is the format of Union3's ``mag_covmat.txt`` and of Pantheon+'s
    ``Pantheon+SH0ES_STAT+SYS.cov`` (row-major, any whitespace layout).

    Raises:
        DataFormatError: a bad size line, a non-numeric value or a wrong number of values
            (naming the file and, for a bad value, its line).
    """
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = text.split("\n", 1)
    head = lines[0].strip()
    try:
        n = int(head)
        if n <= 0:
            raise ValueError
    except ValueError:
        raise DataFormatError(f"{path}, line 1: expected the matrix size N (a positive integer), got {head!r}") from None
    body = lines[1] if len(lines) > 1 else ""
    try:
        values = np.array(body.split(), dtype=np.float64)
    except ValueError:
        # slow path: find the offending line
        for lineno, line in enumerate(body.split("\n"), start=2):
            for tok in line.split():
                _float(tok, path, lineno, "a covariance value")
        raise  # pragma: no cover
    if values.size != n * n:
        raise DataFormatError(f"{path}: expected N*N = {n * n} values after the size line (N = {n}), got {values.size}")
    return values.reshape(n, n)


def read_union3(path) -> dict[str, np.ndarray]:
    """Read Union3's ``lcparam_full.txt`` by column position.

    The header names 19 columns but rows hold 18 values; the columns used are read by
    position: ``name zcmb zhel dz mb dmb``.

    Returns:
        dict with ``name`` (array of str), ``zcmb``, ``zhel``, ``dz``, ``mb``, ``dmb``.

    Raises:
        DataFormatError: a row with fewer than 6 fields or a non-numeric field (file and line).
    """
    cols = {k: [] for k in ("name", "zcmb", "zhel", "dz", "mb", "dmb")}
    for lineno, s in _content_lines(path):
        parts = s.split()
        if len(parts) < 6:
            raise DataFormatError(f"{path}, line {lineno}: expected at least 6 fields (name zcmb zhel dz mb dmb), got {len(parts)}")
        cols["name"].append(parts[0])
        for j, key in enumerate(("zcmb", "zhel", "dz", "mb", "dmb"), start=1):
            cols[key].append(_float(parts[j], path, lineno, key))
    if not cols["name"]:
        raise DataFormatError(f"{path}: no data lines")
    return {k: (np.array(v) if k == "name" else np.array(v, dtype=np.float64)) for k, v in cols.items()}


#: Pantheon+ columns read by :func:`read_pantheonplus`.
PANTHEON_COLUMNS = ("zHD", "zHEL", "m_b_corr", "m_b_corr_err_DIAG", "MU_SH0ES", "CEPH_DIST", "IS_CALIBRATOR")


def read_pantheonplus(path) -> dict[str, np.ndarray]:
    """Read ``Pantheon+SH0ES.dat``: a header line of column names, then one row per light curve.

    Returns:
        dict with ``CID`` (str) and the float columns of :data:`PANTHEON_COLUMNS`.

    Raises:
        DataFormatError: missing columns, a row with the wrong number of fields or a
            non-numeric value (file and line).
    """
    header = None
    rows = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            s = line.strip()
            if not s:
                continue
            if header is None:
                header = s.lstrip("#").split()
                missing = [c for c in ("CID",) + PANTHEON_COLUMNS if c not in header]
                if missing:
                    raise DataFormatError(f"{path}, line {lineno}: header lacks column(s) {missing}")
                idx = {c: header.index(c) for c in ("CID",) + PANTHEON_COLUMNS}
                continue
            parts = s.split()
            if len(parts) != len(header):
                raise DataFormatError(f"{path}, line {lineno}: expected {len(header)} fields, got {len(parts)}")
            rows.append((lineno, parts))
    if header is None or not rows:
        raise DataFormatError(f"{path}: no header or no data lines")
    out: dict[str, Any] = {"CID": np.array([p[idx["CID"]] for _, p in rows])}
    for c in PANTHEON_COLUMNS:
        out[c] = np.array([_float(p[idx[c]], path, ln, c) for ln, p in rows], dtype=np.float64)
    return out


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------


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


def validate_dataset(data: Mapping[str, Any], expected_format: str) -> bool:
    """Validate a dataset dict.

    Args:
        data: dataset dict (see the module docstring).
        expected_format: a dataset type (``cmb``, ``bao``, ``bao_ani``, ``sn``) or a dataset
            name/alias, whose type is then expected.

    Returns:
        True when every check passes.

    Raises:
        DatasetValidationError: (a ValueError) naming the failed check: missing keys,
            non-finite or non-1-D observations, length mismatches, a covariance that is
            not square, symmetric, finite and positive definite, unknown BAO quantities,
            missing ``rd_fid``, unknown CMB observables, bad redshifts.
        KeyError: ``expected_format`` is neither a type nor a known dataset.
        TypeError: ``data`` is not a mapping.
    """
    if not isinstance(data, Mapping):
        raise TypeError(f"dataset must be a dict, got {type(data).__name__}")
    if expected_format in DATASET_TYPES:
        dtype = expected_format
    else:
        dtype = _INFO[resolve_name(expected_format)]["dataset_type"]
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
    if "dataset_type" in meta:
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
    elif dtype in ("bao", "bao_ani"):
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


# ---------------------------------------------------------------------------
# Dataset registry
# ---------------------------------------------------------------------------

#: Static description of every registered dataset.
_INFO: dict[str, dict[str, Any]] = {
    "planck2018_priors": {
        "dataset_type": "cmb",
        "survey": "Planck 2018 (TT,TE,EE+lowE) distance priors",
        "citation": "Chen, Huang & Wang 2019, JCAP 02 (2019) 028, Table I",
        "arxiv": "1808.05724",
        "description": "CMB distance priors R, l_A, omega_b (flat LCDM), Gaussian with published correlations",
    },
    "planck2018_priors_ns": {
        "dataset_type": "cmb",
        "survey": "Planck 2018 (TT,TE,EE+lowE) distance priors",
        "citation": "Chen, Huang & Wang 2019, JCAP 02 (2019) 028, Table I",
        "arxiv": "1808.05724",
        "description": "CMB distance priors R, l_A, omega_b, n_s (flat LCDM), Gaussian with published correlations",
    },
    "desi_dr2": {
        "dataset_type": "bao",
        "survey": "DESI DR2",
        "citation": "DESI Collaboration 2025, DESI DR2 Results II: BAO and cosmological constraints",
        "arxiv": "2503.14738",
        "description": "13 BAO values: BGS D_V/r_d at z=0.295; D_M/r_d and D_H/r_d at z=0.51..2.33; full covariance",
    },
    "desi_dr1": {
        "dataset_type": "bao",
        "survey": "DESI DR1",
        "citation": "DESI Collaboration 2024, DESI 2024 III and VI: BAO from galaxies, quasars and Lyman-alpha",
        "arxiv": "2404.03000, 2404.03002",
        "description": "12 BAO values: D_V/r_d at z=0.295 and 1.491; D_M/r_d and D_H/r_d at z=0.51..2.33",
    },
    "boss_dr12": {
        "dataset_type": "bao_ani",
        "survey": "SDSS-III BOSS DR12 consensus",
        "citation": "Alam et al. 2017, MNRAS 470, 2617",
        "arxiv": "1607.03155",
        "description": "D_M r_d,fid/r_d [Mpc] and H r_d/r_d,fid [km/s/Mpc] at z=0.38, 0.51, 0.61 (r_d,fid = 147.78 Mpc)",
    },
    "union3": {
        "dataset_type": "sn",
        "survey": "Union3/UNITY1.5",
        "citation": "Rubin et al. 2023, Union Through UNITY",
        "arxiv": "2311.12098",
        "description": "22 spline nodes of the distance modulus (arbitrary offset), z=0.05..2.26, 22x22 covariance",
    },
    "pantheonplus": {
        "dataset_type": "sn",
        "survey": "Pantheon+",
        "citation": "Scolnic et al. 2022, ApJ 938, 113; Brout et al. 2022, ApJ 938, 110",
        "arxiv": "2112.03863, 2202.04077",
        "description": "Pantheon+ light curves with zHD > 0.01 (1590), m_b_corr with the full STAT+SYS covariance",
    },
    "pantheonplus_shoes": {
        "dataset_type": "sn",
        "survey": "Pantheon+ & SH0ES",
        "citation": "Brout et al. 2022, ApJ 938, 110; Riess et al. 2022, ApJL 934, L7",
        "arxiv": "2202.04077, 2112.04510",
        "description": "Pantheon+ (zHD > 0.01) plus the 77 SH0ES Cepheid-host calibrators (theory = CEPH_DIST); constrains H0",
    },
}


def _priors_table() -> dict:
    return json.loads(resources.files("pbufjax.tables").joinpath("planck2018_priors.json").read_text(encoding="utf-8"))


def list_datasets() -> list[str]:
    """Canonical names of the registered datasets."""
    return list(DATASET_LOADERS)


def resolve_name(name: str) -> str:
    """Canonical dataset name of a name or alias.

    Raises:
        TypeError: ``name`` is not a string.
        KeyError: unknown name (the message lists the datasets and aliases).
    """
    if not isinstance(name, str):
        raise TypeError(f"dataset name must be a string, got {type(name).__name__}")
    canonical = ALIASES.get(name, name)
    if canonical not in DATASET_LOADERS:
        aliases = ", ".join(f"{a} -> {c}" for a, c in ALIASES.items())
        raise KeyError(f"unknown dataset {name!r}; valid datasets: {', '.join(DATASET_LOADERS)} (aliases: {aliases})")
    return canonical


def _metadata(name: str, n: int, zrange, files: Mapping[str, str] | None = None, **extra) -> dict:
    info = _INFO.get(name, {})
    meta = {
        "name": name,
        "n_points": int(n),
        "redshift_range": [float(zrange[0]), float(zrange[1])],
        "survey": info.get("survey"),
        "citation": info.get("citation"),
        "arxiv": info.get("arxiv"),
        "dataset_type": info.get("dataset_type"),
        "description": info.get("description"),
        "files": dict(files or {}),
    }
    meta.update(extra)
    return meta


def _paths(name: str, data_dir, verify: bool) -> dict[str, Path]:
    out = {}
    for rel in data_registry.dataset_files(name):
        p = data_registry.resolve(rel, data_dir, dataset=name)
        if verify:
            data_registry.verify(rel, p)
        out[rel] = p
    return out


def _freeze(d: dict) -> dict:
    for v in d.values():
        if isinstance(v, np.ndarray):
            v.setflags(write=False)
    return d


# --- CMB ------------------------------------------------------------------


def _load_planck(name: str, observables: Sequence[str]) -> dict:
    table = _priors_table()
    order = table["observables"]
    idx = [order.index(o) for o in observables]
    mean = np.array(table["mean"], dtype=np.float64)[idx]
    sig = np.array(table["sigma"], dtype=np.float64)[idx]
    corr = np.array(table["correlation"], dtype=np.float64)[np.ix_(idx, idx)]
    cov = corr * np.outer(sig, sig)
    meta = _metadata(
        name,
        len(idx),
        (PLANCK2018_Z_STAR, PLANCK2018_Z_STAR),
        files={"planck2018_priors.json": "pbufjax.tables/planck2018_priors.json"},
        sigma=sig.tolist(),
        correlation=corr.tolist(),
        notes=table["sigma_note"],
    )
    return _freeze(
        {
            "name": name,
            "observations": mean,
            "covariance": cov,
            "labels": list(observables),
            "observables": tuple(observables),
            "metadata": meta,
        }
    )


def load_planck2018_priors(data_dir=None, *, verify: bool = True) -> dict:
    """Planck 2018 distance priors :math:`(R, \\ell_A, \\omega_b)` (embedded, arXiv:1808.05724 Table I).

    .. math::

        R = \\sqrt{\\Omega_m H_0^2}\\,D_M(z_*)/c = 1.7502 \\pm 0.0046,\\quad
        \\ell_A = \\pi D_M(z_*)/r_s(z_*) = 301.471 \\pm 0.0895,\\quad
        \\omega_b = 0.02236 \\pm 0.00015,

    correlations :math:`\\rho_{R\\ell_A}=0.46`, :math:`\\rho_{R\\omega_b}=-0.66`,
    :math:`\\rho_{\\ell_A\\omega_b}=-0.33`. ``data_dir`` and ``verify`` are unused (no release files).
    """
    return _load_planck("planck2018_priors", CMB_OBSERVABLES[:3])


def load_planck2018_priors_ns(data_dir=None, *, verify: bool = True) -> dict:
    """Planck 2018 distance priors with :math:`n_s = 0.9649 \\pm 0.0043` (arXiv:1808.05724 Table I).

    Correlations of :math:`n_s` with :math:`R, \\ell_A, \\omega_b`: -0.74, -0.35, 0.46.
    """
    return _load_planck("planck2018_priors_ns", CMB_OBSERVABLES)


# --- BAO ------------------------------------------------------------------


def _load_bao(name: str, data_dir, verify: bool, quantity_map=None, rd_fid: float | None = None) -> dict:
    paths = _paths(name, data_dir, verify)
    mean_path, cov_path = list(paths.values())
    z, vals, qs = read_bao_mean(mean_path, quantity_map)
    cov = read_matrix(cov_path)
    rdfid = np.array([rd_fid if (q in BAO_QUANTITIES_WITH_RDFID and rd_fid) else np.nan for q in qs])
    extra = {"rd_fid": rd_fid} if rd_fid else {}
    data = {
        "name": name,
        "observations": vals,
        "covariance": cov,
        "redshifts": z,
        "quantities": qs,
        "rd_fid": rdfid,
        "labels": [f"{q}(z={zz:g})" for q, zz in zip(qs, z)],
        "metadata": _metadata(name, len(vals), (z.min(), z.max()), {k: str(v) for k, v in paths.items()}, **extra),
    }
    return _freeze(data)


def load_desi_dr2(data_dir=None, *, verify: bool = True) -> dict:
    """DESI DR2 BAO (arXiv:2503.14738): 13 values of :math:`D_V/r_d, D_M/r_d, D_H/r_d` and their covariance.

    Files: ``bao/desi_dr2/desi_gaussian_bao_ALL_GCcomb_{mean,cov}.txt`` (CobayaSampler bao_data v2.6).
    """
    return _load_bao("desi_dr2", data_dir, verify)


def load_desi_dr1(data_dir=None, *, verify: bool = True) -> dict:
    """DESI DR1 BAO (arXiv:2404.03000, 2404.03002): 12 values and their covariance.

    Files: ``bao/desi_dr1/desi_2024_gaussian_bao_ALL_GCcomb_{mean,cov}.txt`` (bao_data v2.6).
    """
    return _load_bao("desi_dr1", data_dir, verify)


def load_boss_dr12(data_dir=None, *, verify: bool = True) -> dict:
    """BOSS DR12 consensus BAO (Alam et al. 2017, arXiv:1607.03155).

    Six values at :math:`z = 0.38, 0.51, 0.61`: :math:`D_M(z)\\,r_{d,fid}/r_d` [Mpc] and
    :math:`H(z)\\,r_d/r_{d,fid}` [km/s/Mpc] with :math:`r_{d,fid} = 147.78` Mpc, and the 6x6
    covariance. The file's names ``DM_over_rs`` and ``bao_Hz_rs`` are read as
    ``DM_rdfid_over_rs`` and ``H_rs_over_rdfid``.

    Files: ``bao/sdss/sdss_DR12Consensus_bao.dat``, ``bao/sdss/BAO_consensus_covtot_dM_Hz.txt``.
    """
    qmap = {"DM_over_rs": "DM_rdfid_over_rs", "bao_Hz_rs": "H_rs_over_rdfid"}
    return _load_bao("boss_dr12", data_dir, verify, qmap, BOSS_DR12_RD_FID)


# --- SN -------------------------------------------------------------------


def load_union3(data_dir=None, *, verify: bool = True) -> dict:
    """Union3/UNITY1.5 compressed supernova distances (Rubin et al. 2023, arXiv:2311.12098).

    22 spline nodes, ``mb`` = distance modulus up to an arbitrary offset (marginalized by
    the likelihood), and their 22x22 covariance (the file's per-node ``dmb`` are zero:
    the covariance holds all uncertainties).

    Files: ``sn/union3/lcparam_full.txt``, ``sn/union3/mag_covmat.txt`` (CobayaSampler sn_data v1.8).
    """
    name = "union3"
    paths = _paths(name, data_dir, verify)
    lc_path, cov_path = list(paths.values())
    t = read_union3(lc_path)
    cov = read_flat_covariance(cov_path)
    cov = cov + np.diag(t["dmb"] ** 2)
    data = {
        "name": name,
        "observations": t["mb"],
        "covariance": cov,
        "z_cmb": t["zcmb"],
        "z_hel": t["zhel"],
        "labels": [str(s) for s in t["name"]],
        "metadata": _metadata(
            name, len(t["mb"]), (t["zcmb"].min(), t["zcmb"].max()), {k: str(v) for k, v in paths.items()},
            offset="marginalized",
        ),
    }
    return _freeze(data)


def _load_pantheon(name: str, data_dir, verify: bool, shoes: bool, covariance: bool = True) -> dict:
    dat_rel, cov_rel = data_registry.dataset_files(name)
    dat_path = data_registry.resolve(dat_rel, data_dir, dataset=name)
    if verify:
        data_registry.verify(dat_rel, dat_path)
    t = read_pantheonplus(dat_path)
    ntot = t["zHD"].size
    is_cal = t["IS_CALIBRATOR"] > 0.5
    mask = (t["zHD"] > 0.01) | is_cal if shoes else t["zHD"] > 0.01
    files = {dat_rel: str(dat_path)}
    if covariance:
        cov_path = data_registry.resolve(cov_rel, data_dir, dataset=name)
        if verify:
            data_registry.verify(cov_rel, cov_path)
        full = read_flat_covariance(cov_path)
        if full.shape[0] != ntot:
            raise DataFormatError(f"{cov_path}: covariance is {full.shape[0]}x{full.shape[0]} but {dat_path} has {ntot} rows")
        cov = full[np.ix_(mask, mask)]
        files[cov_rel] = str(cov_path)
    else:
        cov = None
    z = t["zHD"][mask]
    data = {
        "name": name,
        "observations": t["m_b_corr"][mask],
        "covariance": cov,
        "z_cmb": z,
        "z_hel": t["zHEL"][mask],
        "labels": [str(s) for s in t["CID"][mask]],
        "metadata": _metadata(
            name, int(mask.sum()), (z.min(), z.max()), files,
            selection="zHD > 0.01 or IS_CALIBRATOR" if shoes else "zHD > 0.01",
            n_rows_in_file=int(ntot),
            offset="free absolute magnitude M_B (or marginalized)" if shoes else "marginalized",
        ),
    }
    if shoes:
        data["is_calibrator"] = is_cal[mask]
        data["ceph_dist"] = t["CEPH_DIST"][mask]
        data["metadata"]["n_calibrators"] = int(is_cal[mask].sum())
    return _freeze(data)


def load_pantheonplus(data_dir=None, *, verify: bool = True, covariance: bool = True) -> dict:
    """Pantheon+ supernovae (Scolnic et al. 2022, arXiv:2112.03863; Brout et al. 2022, arXiv:2202.04077).

    Rows of ``Pantheon+SH0ES.dat`` with ``zHD > 0.01`` (1590 of 1701): data vector
    ``m_b_corr``, redshifts ``zHD`` (as :math:`z_{cmb}`, peculiar-velocity corrected) and
    ``zHEL``; covariance = the same rows and columns of ``Pantheon+SH0ES_STAT+SYS.cov``.

    Args:
        data_dir: data directory searched first.
        verify: check the registered sha256.
        covariance: read the covariance (``False``: ``covariance`` is None; for metadata only).
    """
    return _load_pantheon("pantheonplus", data_dir, verify, shoes=False, covariance=covariance)


def load_pantheonplus_shoes(data_dir=None, *, verify: bool = True, covariance: bool = True) -> dict:
    """Pantheon+ with the SH0ES Cepheid-host calibrators (Riess et al. 2022, arXiv:2112.04510; Brout et al. 2022).

    Rows with ``zHD > 0.01`` or ``IS_CALIBRATOR`` (1657). For calibrators the theory distance
    modulus is the Cepheid distance ``CEPH_DIST``, which breaks the :math:`M_B`-:math:`H_0`
    degeneracy.
    """
    return _load_pantheon("pantheonplus_shoes", data_dir, verify, shoes=True, covariance=covariance)


#: canonical name -> loader ``f(data_dir=None, *, verify=True) -> dataset dict``. Extend freely
#: (``DATASET_LOADERS["new"] = load_new``, a loader taking no arguments works too).
DATASET_LOADERS: dict[str, Callable[..., dict]] = {
    "planck2018_priors": load_planck2018_priors,
    "planck2018_priors_ns": load_planck2018_priors_ns,
    "desi_dr2": load_desi_dr2,
    "desi_dr1": load_desi_dr1,
    "boss_dr12": load_boss_dr12,
    "union3": load_union3,
    "pantheonplus": load_pantheonplus,
    "pantheonplus_shoes": load_pantheonplus_shoes,
}

_BUILTIN_LOADERS = dict(DATASET_LOADERS)
_CACHE: dict[tuple, dict] = {}


def _file_key(name: str, data_dir) -> tuple | None:
    try:
        rels = data_registry.dataset_files(name)
    except KeyError:
        return ()
    key = []
    for rel in rels:
        try:
            p = data_registry.resolve(rel, data_dir, dataset=name)
        except DataFileNotFoundError:
            return None
        st = p.stat()
        key.append((str(p), st.st_size, st.st_mtime_ns))
    return tuple(key)


def _copy(data: dict) -> dict:
    out = dict(data)
    out["metadata"] = json.loads(json.dumps(data["metadata"]))
    if "labels" in out:
        out["labels"] = list(out["labels"])
    return out


def load_dataset(name: str, data_dir: str | os.PathLike | None = None, *, verify: bool = True) -> dict:
    """Load and validate an observational dataset.

    Args:
        name: dataset name or alias (``cmb``, ``bao``, ``bao_ani``, ``sn``, ``desi_dr2``, ...).
        data_dir: data directory searched first for release files (then ``PBUFJAX_DATA_DIR``,
            then the user cache).
        verify: check release files against their published sha256.

    Returns:
        dataset dict with ``observations``, ``covariance``, ``metadata`` and the
        type-specific keys (read-only arrays; parsed files are cached).

    Raises:
        KeyError: unknown dataset (the message lists the valid names and aliases).
        DataFileNotFoundError: a release file is missing (the message names the file,
            the folders searched and ``pbufjax data fetch NAME``).
        DataFormatError: a malformed file (names file and line).
        DatasetValidationError: e.g. a non-positive-definite covariance.
    """
    canonical = resolve_name(name)
    loader = DATASET_LOADERS[canonical]
    builtin = _BUILTIN_LOADERS.get(canonical) is loader
    key = None
    if builtin:
        fk = _file_key(canonical, data_dir)
        if fk is not None:
            key = (canonical, fk, bool(verify))
            if key in _CACHE:
                return _copy(_CACHE[key])
    if builtin:
        data = loader(data_dir, verify=verify)
    else:
        params = inspect.signature(loader).parameters
        data = loader(data_dir) if params else loader()
        data = dict(data)
        data.setdefault("name", canonical)
    meta = data.get("metadata", {})
    dtype = meta.get("dataset_type") if isinstance(meta, Mapping) else None
    if dtype is not None:
        validate_dataset(data, dtype)
    else:
        for k in ("observations", "covariance", "metadata"):
            _require(k in data, f"dataset {canonical!r}: loader returned no {k!r}")
        check_covariance(data["covariance"], np.asarray(data["observations"]).size, what=f"dataset {canonical!r}: covariance")
    if key is not None:
        _CACHE[key] = data
        return _copy(data)
    return data


def get_dataset_info(name: str, data_dir: str | os.PathLike | None = None) -> dict:
    """Metadata of a dataset: type, survey, citation, number of points, redshift range, files.

    Works without the large covariance files: for Pantheon+ only the ``.dat`` table is
    read. When release files are missing, ``available`` is False, ``missing`` lists them
    and ``fetch_command`` says how to get them; counts then come from the published
    numbers where known (else None).

    Args:
        name: dataset name or alias.
        data_dir: data directory searched first.

    Raises:
        KeyError: unknown dataset.
    """
    canonical = resolve_name(name)
    info = dict(_INFO.get(canonical, {}))
    info["name"] = canonical
    info["aliases"] = [a for a, c in ALIASES.items() if c == canonical]
    try:
        rels = data_registry.dataset_files(canonical)
    except KeyError:
        rels = []
    status = {}
    for rel in rels:
        try:
            status[rel] = str(data_registry.resolve(rel, data_dir, dataset=canonical))
        except DataFileNotFoundError:
            status[rel] = None
    info["files"] = status
    info["missing"] = [r for r, p in status.items() if p is None]
    info["available"] = not info["missing"]
    if rels:
        info["fetch_command"] = data_registry.fetch_command(canonical)
    meta = None
    loader = DATASET_LOADERS[canonical]
    try:
        if canonical in ("pantheonplus", "pantheonplus_shoes") and loader is _BUILTIN_LOADERS[canonical]:
            meta = loader(data_dir, verify=False, covariance=False)["metadata"]
        elif info["available"]:
            meta = load_dataset(canonical, data_dir)["metadata"]
    except DataFileNotFoundError:
        meta = None
    if meta is not None:
        for k in ("n_points", "redshift_range", "n_calibrators", "selection", "rd_fid", "offset"):
            if k in meta:
                info[k] = meta[k]
    else:
        info.setdefault("n_points", None)
        info.setdefault("redshift_range", None)
    return info
