"""Registry of public release files (re-exports :mod:`pbufjax.data.files`; ``fetch`` and
``status`` take a dataset name or alias, from :mod:`pbufjax.data.catalog`).

Example:
    >>> from pbufjax import data_registry
    >>> data_registry.fetch("desi_dr2")                      # doctest: +SKIP
    >>> data_registry.resolve("bao/desi_dr2/desi_gaussian_bao_ALL_GCcomb_mean.txt")  # doctest: +SKIP
"""

from .data.catalog import fetch, status
from .data.files import (
    ENV_CACHE_DIR,
    ENV_DATA_DIR,
    DataFileHashError,
    DataFileNotFoundError,
    cache_dir,
    dataset_files,
    describe,
    fetch_command,
    fetch_files,
    file_status,
    registry,
    release_files,
    resolve,
    search_dirs,
    sha256,
    verify,
)

__all__ = [
    "ENV_CACHE_DIR",
    "ENV_DATA_DIR",
    "DataFileHashError",
    "DataFileNotFoundError",
    "cache_dir",
    "dataset_files",
    "describe",
    "fetch",
    "fetch_command",
    "fetch_files",
    "file_status",
    "registry",
    "release_files",
    "resolve",
    "search_dirs",
    "sha256",
    "status",
    "verify",
]
