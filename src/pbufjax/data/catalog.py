"""Datasets by name: loading (validated, cached on the resolved files), info records, fetch.

Every function takes a dataset name or alias and the data folder explicitly
(``data_dir``, searched first; then the fallbacks of :func:`pbufjax.data.files.search_dirs`,
then the package's own copies of the small release files, :func:`pbufjax.data.files.shipped_dir`).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..runtime import register_cache
from . import files as _files
from .files import DataFileNotFoundError, DataFileTypeError
from .kinds import DATASET_TYPES
from .spec import METADATA_KEYS, DatasetSpec, call_loader, get_dataset_spec, register_dataset, resolve_name
from .validation import DatasetValidationError, check_covariance, validate_dataset

_CACHE: dict[tuple, dict] = {}


@functools.partial(register_cache, "data.datasets")
def clear_dataset_cache() -> None:
    """Forget every parsed dataset (the next :func:`load_dataset` reads the files again)."""
    _CACHE.clear()


def _file_key(spec: DatasetSpec, data_dir) -> tuple | None:
    """Identity of the resolved release files ``(path, size, mtime)``; None when one is missing."""
    key = []
    for rel in spec.files():
        try:
            p = _files.resolve(rel, data_dir, dataset=spec.name)
        except DataFileNotFoundError:
            return None
        st = p.stat()
        key.append((str(p.resolve()), st.st_size, st.st_mtime_ns))
    return tuple(key)


def _copy(data: dict) -> dict:
    out = dict(data)
    out["metadata"] = json.loads(json.dumps(data["metadata"]))
    if "labels" in out:
        out["labels"] = list(out["labels"])
    return out


def _check(spec: DatasetSpec, data) -> dict:
    if not isinstance(data, Mapping):
        raise TypeError(f"dataset {spec.name!r}: the loader returned {type(data).__name__}, expected a dataset dict")
    data = dict(data)
    data.setdefault("name", spec.name)
    meta = data.get("metadata")
    dtype = meta.get("dataset_type") if isinstance(meta, Mapping) else None
    kind = spec.kind or dtype
    if kind is not None:
        validate_dataset(data, kind if kind in DATASET_TYPES else spec.name)  # other kinds: generic checks
    else:
        for k in ("observations", "covariance", "metadata"):
            if k not in data:
                raise DatasetValidationError(f"dataset {spec.name!r}: loader returned no {k!r}")
        check_covariance(data["covariance"], np.asarray(data["observations"]).size,
                         what=f"dataset {spec.name!r}: covariance")
    return data


def _complete(spec: DatasetSpec, data: Mapping) -> None:
    """Give a bare-loader spec the kind and metadata its loaded data states."""
    meta = data.get("metadata") or {}
    kind = meta.get("dataset_type")
    if spec.kind is None and isinstance(kind, str) and kind:
        facts = {k: meta[k] for k in METADATA_KEYS if meta.get(k) is not None}
        register_dataset(dataclasses.replace(spec, kind=kind, metadata={**facts, **spec.metadata}), overwrite=True)


def load_dataset(name: str, data_dir: str | os.PathLike | None = None, *, verify: bool = True) -> dict:
    """Load and validate an observational dataset.

    Args:
        name: dataset name or alias (``cmb``, ``bao``, ``bao_ani``, ``sn``, ``desi_dr2``, ...).
        data_dir: data directory searched first for release files (then ``PBUFJAX_DATA_DIR``,
            then the user cache, then the copies shipped inside the package).
        verify: check release files against their published sha256 (git blob id for a large
            file whose sha256 is not pinned). The package's own copies are checked either way.

    Returns:
        dataset dict with ``observations``, ``covariance``, ``metadata`` and the
        type-specific keys (read-only arrays; parsed files are cached, keyed on the
        resolved files' path, size and modification time).

    Raises:
        KeyError: unknown dataset (the message lists the valid names and aliases).
        DataFileNotFoundError: a release file is missing (the message names the file,
            the folders searched and ``pbufjax data fetch NAME``).
        DataFileTypeError: a release file's path holds a folder, FIFO or dangling link.
        DataFormatError: a malformed file (names file and line), or one that is not UTF-8 text.
        DatasetValidationError: e.g. a non-positive-definite covariance.
    """
    spec = get_dataset_spec(name)
    key = None
    if spec.cacheable:
        fk = _file_key(spec, data_dir)
        if fk is not None:
            key = (spec.name, spec.loader, fk, bool(verify))
            if key in _CACHE:
                return _copy(_CACHE[key])
    data = _check(spec, spec.load(data_dir, verify=verify))
    _complete(spec, data)
    if key is not None:
        _CACHE[key] = data
        return _copy(data)
    return data


def get_dataset_info(name: str, data_dir: str | os.PathLike | None = None) -> dict:
    """Metadata of a dataset: type, survey, citation, number of points, redshift range, files.

    Works without large covariance files where the spec has an ``info_loader`` (for
    Pantheon+ only the ``.dat`` table is read). When release files are missing,
    ``available`` is False, ``missing`` lists them and ``fetch_command`` says how to get
    them; counts then come from the spec's published numbers (else None).

    Args:
        name: dataset name or alias.
        data_dir: data directory searched first.

    Raises:
        KeyError: unknown dataset.
    """
    spec = get_dataset_spec(name)
    rels = spec.files()
    status = _files.file_status(rels, data_dir)
    missing = [r for r, p in status.items() if p is None]
    meta = None
    try:
        if spec.info_loader is not None:
            meta = call_loader(spec.info_loader, data_dir, False)["metadata"]
        elif not missing:
            meta = load_dataset(spec.name, data_dir)["metadata"]
            spec = get_dataset_spec(spec.name)  # a bare-loader spec is completed by the load
    except (DataFileNotFoundError, DataFileTypeError):  # listed in ``missing``; data verify names the problem
        meta = None
    info = spec.info()
    info.update(files=status, missing=missing, available=not missing,
                shipped=[r for r in rels if _files.release_files().get(r, {}).get("shipped")])
    if rels:
        info["fetch_command"] = _files.fetch_command(spec.name)
    for k in ("n_points", "redshift_range", "n_calibrators", "selection", "rd_fid", "offset"):
        if meta is not None and k in meta:
            info[k] = meta[k]
    return info


def status(name: str, data_dir: str | os.PathLike | None = None) -> dict[str, str | None]:
    """Relative path -> resolved absolute path (or None when missing) for a dataset's files.

    Raises:
        KeyError: unknown dataset.
    """
    return _files.file_status(get_dataset_spec(name).files(), data_dir)


def fetch(
    name: str,
    data_dir: str | os.PathLike | None = None,
    *,
    force: bool = False,
    progressbar: bool = False,
) -> list[Path]:
    """Download a dataset's release files (or one registered file) and verify them.

    Files already present and verified are not downloaded again, so for a dataset whose
    files all ship with the package nothing is downloaded (no network needed). Downloads
    are checked against the registry's sha256, else its git blob id, before they are kept
    (see :func:`pbufjax.data.files.fetch_files`).

    Args:
        name: dataset name or alias (``desi_dr2``, ``sn``, ...) or a registered relative path.
        data_dir: folder to download into (default: the user cache folder).
        force: download even when a verified copy exists.
        progressbar: show pooch's progress bar.

    Returns:
        Paths of the files, in registry order (see :func:`pbufjax.data.files.fetch_files`).

    Raises:
        KeyError: unknown name, or a dataset without release files (lists the valid names).
        DataFileHashError: a downloaded file has the wrong sha256 or git blob id (nothing is kept).
        DataFetchError: a file could be downloaded from none of its URLs.
    """
    if name in _files.release_files():
        rels = [name]
    else:
        try:
            rels = get_dataset_spec(name).files()
        except KeyError:
            rels = []
        if not rels:
            valid = sorted(_files.registry()["datasets"])
            raise KeyError(f"unknown dataset {name!r} for fetch; valid names: {', '.join(valid)}") from None
    return _files.fetch_files(rels, data_dir, force=force, progressbar=progressbar)


__all__ = ["clear_dataset_cache", "fetch", "get_dataset_info", "load_dataset", "resolve_name", "status"]
