"""Persistent store of optimized parameters: the defaults later fits start from.

Public module; the implementation is the :mod:`pbufjax.store` package (layout of
the store folder, file formats and guarantees are documented there).
:func:`utc_now`, :func:`parse_timestamp` and :func:`to_jsonable` are the
package's one clock and JSON convention (:mod:`pbufjax.runtime`).

To simulate a crash inside a write, replace the hooks of :mod:`pbufjax.store.files`
(``write_payload``, ``before_replace``); assigning names on this module does not
reach the store.
"""

from .runtime import parse_timestamp, to_jsonable, utc_now
from .store import (
    CONSISTENCY_TOLERANCE,
    DEFAULT_STORE_DIRNAME,
    DEFAULT_SUMMARY_PATH,
    HISTORY_FILENAME,
    LOCK_FILENAME,
    MODEL_FILE_SUFFIX,
    RECORD_FIELDS,
    SCHEMA_VERSION,
    SHARED_PARAMETERS,
    STORE_DIR_ENV,
    WARM_START_MAX_AGE,
    OptimizedParameterStore,
    StoreCorruptError,
    StoreError,
    StoreInvalidValue,
    StoreLockTimeout,
    atomic_write_json,
    effective_optimize_list,
    resolve_store_dir,
)

__all__ = [
    "CONSISTENCY_TOLERANCE",
    "DEFAULT_STORE_DIRNAME",
    "DEFAULT_SUMMARY_PATH",
    "HISTORY_FILENAME",
    "LOCK_FILENAME",
    "MODEL_FILE_SUFFIX",
    "RECORD_FIELDS",
    "SCHEMA_VERSION",
    "SHARED_PARAMETERS",
    "STORE_DIR_ENV",
    "WARM_START_MAX_AGE",
    "OptimizedParameterStore",
    "StoreCorruptError",
    "StoreError",
    "StoreInvalidValue",
    "StoreLockTimeout",
    "atomic_write_json",
    "effective_optimize_list",
    "parse_timestamp",
    "resolve_store_dir",
    "to_jsonable",
    "utc_now",
]
