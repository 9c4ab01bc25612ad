"""A user's own supernova or BAO data, from arrays or text files, registered as a dataset.

:func:`register_user_dataset` (also reachable as ``register_dataset(name, kind, ...)``)
turns arrays or files into a dataset of the registry, so that its name works wherever a
dataset name does (``run_fit``, ``build_likelihood``, ``--datasets``); the command line's
``--sn-file/--sn-cov/--bao-file/--bao-cov`` call :func:`register_user_files`. The data are
read and checked once, when registered (register again to re-read a changed file), and
validated like the release files: finite numbers, matching lengths, redshifts > 0, a
covariance that is square, symmetric and positive definite. An error names the file and the
line (the row) at fault.

**SN table** (``kind="sn"``): one header line naming the columns (a line holding no number),
then one row per supernova; columns separated by commas (when the header has a comma) or by
whitespace; lines starting with ``#`` are comments, and the last ``#`` comment above the first
row is the header when there is no other (the style of Union3's ``lcparam_full.txt``). Column names
are matched without regard to case; the first name found of each list is used:

* redshift for the distances: ``zHD``, ``z_cmb``, ``zcmb``, ``z`` (required);
* heliocentric redshift for the :math:`(1+z)` factor: ``z_hel``, ``zhel`` (default: ``z_cmb``);
* distance modulus ``mu`` or, if absent, apparent magnitude ``m_b``, ``mb``, ``m_b_corr``
  (either: the offset is marginalized analytically, so :math:`\\mu` and :math:`m_B` give
  the same :math:`\\chi^2`);
* per-point error: ``mu_err``, ``muerr_final``, ``muerr``, ``dmu``, ``sigma_mu``, ``m_b_err``,
  ``m_b_corr_err_diag``, ``dmb``, ``sigma``, ``err``, ``error`` (required without a covariance);
* a name: ``name``, ``cid``, ``sn``, ``id`` (optional; the labels).

The likelihood is :class:`~pbufjax.likelihood.blocks.SNBlock`'s:
:math:`\\mu_{th} = 5\\log_{10}[(1+z_{hel})D_M(z_{cmb})/{\\rm Mpc}] + 25` and

.. math::

    \\chi^2 = r^TC^{-1}r - \\frac{(\\mathbf 1^TC^{-1}r)^2}{\\mathbf 1^TC^{-1}\\mathbf 1},\\qquad
    r = d - \\mu_{th}

(offset marginalized; Conley et al. 2011, arXiv:1104.1443, appendix C). The covariance is
the covariance file when given (per-point errors then unused, unless ``add_errors=True``:
:math:`C = C_{\\rm file} + {\\rm diag}(\\sigma^2)`, the convention of the DES-SN5YR and Union3
releases), else :math:`{\\rm diag}(\\sigma^2)`.

**BAO table** (``kind="bao"``): one measurement per line, ``z value quantity`` (the DESI/Cobaya
``*_mean.txt`` format) or ``z value quantity error``, separated by whitespace or commas; ``#``
comments, and an optional header line whose first field is not a number. ``quantity`` is one
of :data:`~pbufjax.data.kinds.BAO_QUANTITIES` (``DV_over_rs``, ``DM_over_rs``, ``DH_over_rs``, ...;
those needing a fiducial sound horizon also need ``rd_fid``). The likelihood is
:class:`~pbufjax.likelihood.blocks.BAOBlock`'s Gaussian :math:`\\chi^2 = r^TC^{-1}r`, with the
``hrd`` nuisance parameter of every BAO dataset (calibration-free BAO).

**Covariance file**: either a square matrix, one row per line (``#`` comments), or the size
N on the first line followed by the N*N values in row-major order, any layout (the format of
Union3's ``mag_covmat.txt`` and the DES releases; gzip-compressed files are read too).

Example:
    >>> import tempfile
    >>> import numpy as np
    >>> from pathlib import Path
    >>> from pbufjax.data import register_user_dataset, load_dataset, unregister_dataset
    >>> folder = tempfile.TemporaryDirectory()
    >>> table = Path(folder.name) / "my_sn.csv"
    >>> _ = table.write_text("name,zcmb,mu,mu_err\\nA,0.10,38.31,0.10\\nB,0.30,40.98,0.12\\nC,0.60,42.73,0.15\\n")
    >>> spec = register_user_dataset("my_sn", "sn", file=table)
    >>> d = load_dataset("my_sn")
    >>> d["metadata"]["n_points"], d["labels"], np.diag(d["covariance"]).round(4).tolist()
    (3, ['A', 'B', 'C'], [0.01, 0.0144, 0.0225])
    >>> unregister_dataset("my_sn")
    >>> folder.cleanup()
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .builtin import HRD
from .kinds import BAO_QUANTITIES, BAO_QUANTITIES_WITH_RDFID
from .spec import (
    USER_DATA_HANDLER,
    DatasetSpec,
    dataset_combinations,
    dataset_specs,
    register_dataset,
    resolve_name,
    unregister_dataset,
)
from .user_readers import (
    SN_COLUMNS,
    CovarianceSource,
    check_user_covariance,
    read_bao_table,
    read_covariance,
    read_sn_table,
)
from .validation import DatasetValidationError, validate_dataset

#: Kinds a user dataset may have.
USER_KINDS = ("sn", "bao")

_USER: set[str] = set()  # names registered through this module (they may be replaced)

PathLike = str | os.PathLike


# ---------------------------------------------------------------------------
# arrays and covariances


def _vector(x, n: int | None, name: str, what: str) -> np.ndarray:
    v = np.array(x, dtype=np.float64).reshape(-1) if np.ndim(x) else np.array([x], dtype=np.float64)
    if n is not None and v.size != n:
        raise DatasetValidationError(f"dataset {name!r}: {what} has {v.size} entries but the data have {n}")
    bad = np.flatnonzero(~np.isfinite(v))
    if bad.size:
        raise DatasetValidationError(f"dataset {name!r}: {what}[{bad[0]}] is {v[bad[0]]}, not a finite number")
    return v


def _positive(v: np.ndarray, name: str, what: str, low: float = 0.0, strict: bool = True) -> np.ndarray:
    bad = np.flatnonzero(v <= low if strict else v < low)
    if bad.size:
        raise DatasetValidationError(f"dataset {name!r}: {what}[{bad[0]}] = {v[bad[0]]:g} must be "
                                     f"{'>' if strict else '>='} {low:g}")
    return v


def _covariance(name, n, covariance, errors, add_errors, errors_from, table=None,
                lines=None) -> tuple[np.ndarray, dict, str]:
    """(covariance, files, source) from a covariance array or file and/or per-point errors.

    ``table`` and ``lines``: the table file and the line of each row (for messages)."""
    files: dict[str, str] = {}
    if covariance is None:
        if errors is None:
            raise DatasetValidationError(f"dataset {name!r}: give a covariance or per-point errors "
                                         f"(an error column in the table, or errors=)")
        zero = np.flatnonzero(errors <= 0)
        if zero.size:
            k = int(zero[0])
            where = f"{table}, line {lines[k]}" if table is not None else f"dataset {name!r}: errors[{k}]"
            raise DatasetValidationError(f"{where}: {errors_from} = {errors[k]:g} must be > 0 without a covariance")
        return np.diag(errors**2), files, f"diag({errors_from}**2)"
    if isinstance(covariance, (str, os.PathLike)):
        path = Path(covariance)
        files["covariance"] = str(path)
        cov = check_user_covariance(read_covariance(path), n, CovarianceSource(name, path, table))
        source = path.name
    else:
        cov = check_user_covariance(covariance, n, CovarianceSource(name))
        source = "covariance array"
    if add_errors:
        if errors is None:
            raise DatasetValidationError(f"dataset {name!r}: add_errors=True but no per-point errors were given")
        cov = cov + np.diag(errors**2)
        source += f" + diag({errors_from}**2)"
    return cov, files, source


# ---------------------------------------------------------------------------
# datasets


def _metadata(name, kind, n, z, files, description, **extra) -> dict:
    return {"name": name, "n_points": int(n), "redshift_range": [float(z.min()), float(z.max())],
            "survey": "user data", "citation": None, "arxiv": None, "dataset_type": kind,
            "description": description or f"user {kind.upper()} data ({n} points)", "files": files, **extra}


def _mixed(name, file, arrays: Mapping[str, Any]) -> None:
    given = [k for k, v in arrays.items() if v is not None]
    if file is not None and given:
        raise TypeError(f"dataset {name!r}: give file= or the arrays {', '.join(arrays)}, not both "
                        f"(got file= and {', '.join(given)}=)")


def sn_dataset(name: str, *, file: PathLike | None = None, z: Sequence[float] | None = None,
               values: Sequence[float] | None = None, covariance: Any = None, errors: Sequence[float] | None = None,
               z_hel: Sequence[float] | None = None, observable: str = "mu", labels: Sequence[str] | None = None,
               add_errors: bool = False, description: str | None = None) -> dict:
    """An SN dataset dict from a table file or arrays (see the module docstring for the format).

    Args:
        name: dataset name.
        file: SN table; or the arrays ``z`` (:math:`z_{cmb}`), ``values`` (:math:`\\mu` or :math:`m_B`),
            ``z_hel`` (default ``z``), ``errors`` and ``labels``.
        covariance: N x N array or covariance file; without it ``diag(errors**2)``.
        observable: ``mu`` or ``m_b`` for arrays (a file's column says it).
        add_errors: with a covariance, add ``diag(errors**2)`` to it.
        description: one line for ``metadata``.

    Raises:
        DataFormatError, DatasetValidationError: a bad file or array (naming the file and line, or the entry).
        TypeError: both a file and arrays, or neither.
    """
    _mixed(name, file, {"z": z, "values": values, "z_hel": z_hel, "errors": errors, "labels": labels})
    files: dict[str, str] = {}
    if file is not None:
        t = read_sn_table(file)
        files["table"] = str(file)
        zc, obs, zh, err, labels, observable = t["z_cmb"], t["values"], t["z_hel"], t["errors"], t["labels"], \
            t["observable"]
        err_name, lines = t["columns"].get("error", "errors"), t["lines"]
        if covariance is not None and not isinstance(covariance, (str, os.PathLike)):
            covariance = np.asarray(covariance)
    else:
        if z is None or values is None:
            raise TypeError(f"dataset {name!r}: give file= or the arrays z= and values=")
        if observable not in ("mu", "m_b"):
            raise ValueError(f"dataset {name!r}: observable must be 'mu' or 'm_b', got {observable!r}")
        zc = _positive(_vector(z, None, name, "z"), name, "z")
        obs = _vector(values, zc.size, name, "values")
        zh = None if z_hel is None else _positive(_vector(z_hel, zc.size, name, "z_hel"), name, "z_hel", -1.0)
        err = None if errors is None else _positive(_vector(errors, zc.size, name, "errors"), name, "errors",
                                                     strict=False)
        err_name, lines = "errors", None
    n = obs.size
    cov, cfiles, source = _covariance(name, n, covariance, err, add_errors, err_name, file, lines)
    zh = zc if zh is None else zh
    labels = [str(s) for s in labels] if labels is not None else [f"{name}[{i}]" for i in range(n)]
    if len(labels) != n:
        raise DatasetValidationError(f"dataset {name!r}: {len(labels)} labels for {n} points")
    data = {"name": name, "observations": obs, "covariance": cov, "z_cmb": zc, "z_hel": zh, "labels": labels,
            "metadata": _metadata(name, "sn", n, zc, {**files, **cfiles}, description, observable=observable,
                                  offset="marginalized", covariance_source=source)}
    if err is not None:
        data["mu_err"] = err
    validate_dataset(data, "sn")
    return data


def bao_dataset(name: str, *, file: PathLike | None = None, z: Sequence[float] | None = None,
                values: Sequence[float] | None = None, quantities: Sequence[str] | None = None,
                covariance: Any = None, errors: Sequence[float] | None = None, rd_fid: float | None = None,
                labels: Sequence[str] | None = None, description: str | None = None) -> dict:
    """A BAO dataset dict from a table file or arrays (see the module docstring for the format).

    Args:
        name: dataset name.
        file: BAO table; or the arrays ``z``, ``values``, ``quantities`` (names of
            :data:`~pbufjax.data.kinds.BAO_QUANTITIES`), ``errors`` and ``labels``.
        covariance: N x N array or covariance file; without it ``diag(errors**2)``.
        rd_fid: fiducial sound horizon [Mpc], needed by ``DM_rdfid_over_rs`` and ``H_rs_over_rdfid``.
        description: one line for ``metadata``.

    Raises:
        DataFormatError, DatasetValidationError: a bad file or array (naming the file and line, or the entry).
        TypeError: both a file and arrays, or neither.
    """
    _mixed(name, file, {"z": z, "values": values, "quantities": quantities, "errors": errors, "labels": labels})
    files: dict[str, str] = {}
    if file is not None:
        t = read_bao_table(file)
        files["table"] = str(file)
        zz, vals, qs, err, lines = t["z"], t["values"], t["quantities"], t["errors"], t["lines"]
    else:
        if z is None or values is None or quantities is None:
            raise TypeError(f"dataset {name!r}: give file= or the arrays z=, values= and quantities=")
        zz = _positive(_vector(z, None, name, "z"), name, "z")
        vals = _vector(values, zz.size, name, "values")
        qs = (quantities,) * zz.size if isinstance(quantities, str) else tuple(quantities)
        if len(qs) != zz.size:
            raise DatasetValidationError(f"dataset {name!r}: {len(qs)} quantities for {zz.size} values")
        for i, q in enumerate(qs):
            if q not in BAO_QUANTITIES:
                raise DatasetValidationError(f"dataset {name!r}: quantities[{i}] = {q!r} is not a BAO quantity; "
                                             f"valid: {', '.join(BAO_QUANTITIES)}")
        err = None if errors is None else _positive(_vector(errors, zz.size, name, "errors"), name, "errors")
        lines = None
    need = [q for q in qs if q in BAO_QUANTITIES_WITH_RDFID]
    if need and not (rd_fid is not None and np.isfinite(rd_fid) and rd_fid > 0):
        raise DatasetValidationError(f"dataset {name!r}: quantities {sorted(set(need))} need the fiducial sound "
                                     f"horizon rd_fid [Mpc] > 0 (register_user_dataset(..., rd_fid=...)), got "
                                     f"{rd_fid!r}")
    cov, cfiles, _ = _covariance(name, vals.size, covariance, err, False, "error", file, lines)
    labels = [str(s) for s in labels] if labels is not None else [f"{q}(z={v:g})" for q, v in zip(qs, zz)]
    rdfid = np.array([float(rd_fid) if q in BAO_QUANTITIES_WITH_RDFID else np.nan for q in qs])
    extra = {"rd_fid": float(rd_fid)} if need else {}
    data = {"name": name, "observations": vals, "covariance": cov, "redshifts": zz, "quantities": qs,
            "rd_fid": rdfid, "labels": labels,
            "metadata": _metadata(name, "bao", vals.size, zz, {**files, **cfiles}, description, **extra)}
    validate_dataset(data, "bao")
    return data


def _check_name(name: str, overwrite: bool) -> None:
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", name or ""):
        raise ValueError(f"dataset name must be a word of letters, digits, '_', '.', '-' not starting with a digit, "
                         f"got {name!r}")
    taken = name in dataset_combinations()
    try:
        canonical = resolve_name(name)
        taken = taken or canonical != name or canonical not in _USER or not overwrite
    except KeyError:
        pass
    if taken:
        what = "a user dataset (pass overwrite=True to replace it)" if name in _USER else \
            "a built-in or registered dataset, alias or combination"
        raise ValueError(f"dataset name {name!r} is already {what}; choose another name")


def register_user_dataset(name: str, kind: str, *, overwrite: bool = False, **data) -> DatasetSpec:
    """Register a user's own SN or BAO data (arrays or files) as a dataset named ``name``.

    Args:
        name: the new dataset's name (not a registered name, alias or combination; a user dataset
            of that name is replaced with ``overwrite=True``).
        kind: ``sn`` or ``bao``.
        overwrite: replace an earlier user dataset of the same name.
        **data: the keywords of :func:`sn_dataset` (``file, z, values, covariance, errors, z_hel,
            observable, labels, add_errors, description``) or :func:`bao_dataset` (``file, z, values,
            quantities, covariance, errors, rd_fid, labels, description``).

    Returns:
        the registered :class:`~pbufjax.data.DatasetSpec` (BAO datasets carry the ``hrd`` nuisance parameter).

    Raises:
        ValueError: an unknown kind or a taken name. DataFormatError, DatasetValidationError (both
            ValueError): a bad file or array, naming the file and line. TypeError: bad keywords.

    Example:
        >>> from pbufjax.data import register_user_dataset, unregister_dataset
        >>> spec = register_user_dataset("my_bao", "bao", z=[0.51, 0.51], values=[13.6, 21.9],
        ...                              quantities=["DM_over_rs", "DH_over_rs"],
        ...                              covariance=[[0.028, -0.033], [-0.033, 0.18]])
        >>> spec.kind, [p.name for p in spec.nuisance]
        ('bao', ['hrd'])
        >>> unregister_dataset("my_bao")
    """
    if kind not in USER_KINDS:
        raise ValueError(f"dataset {name!r}: unknown kind {kind!r} for user data; valid: {', '.join(USER_KINDS)}")
    _check_name(name, overwrite)
    dataset = (sn_dataset if kind == "sn" else bao_dataset)(name, **data)
    for v in dataset.values():
        if isinstance(v, np.ndarray):
            v.setflags(write=False)

    def load(data_dir=None, *, verify: bool = True) -> dict:
        """The registered user data (read when registered; ``data_dir`` and ``verify`` are unused)."""
        return {**dataset, "labels": list(dataset["labels"]), "metadata": copy.deepcopy(dataset["metadata"])}

    meta = dataset["metadata"]
    spec = DatasetSpec(name, kind, load, release_files=(), nuisance=(HRD,) if kind == "bao" else (),
                       metadata={k: meta[k] for k in ("survey", "description", "n_points", "redshift_range")})
    register_dataset(spec, overwrite=name in _USER)
    _USER.add(name)
    return spec


def user_datasets() -> list[str]:
    """Names of the registered user datasets."""
    return [n for n in dataset_specs() if n in _USER]


def unregister_user_datasets() -> list[str]:
    """Remove every registered user dataset from the registry; returns their names."""
    names = user_datasets()
    for n in names:
        unregister_dataset(n)
    _USER.clear()
    return names


def file_dataset_name(path: PathLike, kind: str) -> str:
    """The dataset name the command line gives a user file: its stem in lower case, other characters as ``_``
    (``user_sn`` / ``user_bao`` when that is empty or is a registered dataset, alias or combination)."""
    stem = re.sub(r"[^a-z0-9_]+", "_", Path(path).name.split(".")[0].lower()).strip("_")
    if not stem or stem[0].isdigit():
        return f"user_{kind}"
    try:
        taken = resolve_name(stem) not in _USER
    except KeyError:
        taken = stem in dataset_combinations()
    return f"user_{kind}" if taken else stem


def register_user_files(*, sn_file: PathLike | None = None, sn_cov: PathLike | None = None,
                        bao_file: PathLike | None = None, bao_cov: PathLike | None = None) -> list[str]:
    """Register the command line's ``--sn-file/--sn-cov/--bao-file/--bao-cov`` as datasets named after the files.

    Returns:
        the names of the registered datasets (SN first); an earlier user dataset of the same name is replaced.

    Raises:
        ValueError: a covariance file without its table; a bad file (naming the file and line).
    """
    names = []
    for kind, table, cov in (("sn", sn_file, sn_cov), ("bao", bao_file, bao_cov)):
        if table is None:
            if cov is not None:
                raise ValueError(f"--{kind}-cov {cov} needs --{kind}-file (the table the covariance belongs to)")
            continue
        name = file_dataset_name(table, kind)
        if name in names:
            name = f"{name}_{kind}"
        register_user_dataset(name, kind, file=table, covariance=cov, overwrite=True)
        names.append(name)
    return names


USER_DATA_HANDLER["register"] = register_user_dataset  # register_dataset(name, kind=..., **data)

__all__ = ["SN_COLUMNS", "USER_KINDS", "bao_dataset", "check_user_covariance", "file_dataset_name", "read_bao_table",
           "read_covariance", "read_sn_table", "register_user_dataset", "register_user_files", "sn_dataset",
           "unregister_user_datasets", "user_datasets"]
