"""The parameter store: optimized model defaults that later fits start from.

An optimization (for example PBUF's ``k_sat, alpha, H0, Om0`` on the CMB priors)
writes its best-fit values here; every later fit of the same model starts from
them (``use_precomputed``), and ``warm_start`` picks the most recent record if it
is younger than 24 hours. A value that ended its fit at a bound or unconstrained is
recorded in the history but never becomes a default; a stored value outside its
parameter's valid range is ignored (one warning) and quarantined by ``repair``.

Modules: :mod:`.errors` (the exceptions), :mod:`.files` (the folder, atomic
writes, checked reads), :mod:`.schema` (file formats and their validation),
:mod:`.records` (checking an update, building its OptimizationRecord),
:mod:`.values` (valid ranges, flagged parameters, the quarantine section),
:mod:`.consistency` (cross-model check of the shared parameters),
:mod:`.store` (:class:`OptimizedParameterStore`).

The store needs only :mod:`pbufjax.cosmology` and :mod:`pbufjax.runtime`, so the
fit, the sampler and the command line can all read it.
"""

from .consistency import CONSISTENCY_TOLERANCE, SHARED_PARAMETERS, cross_model_report
from .errors import StoreCorruptError, StoreError, StoreInvalidValue, StoreLockTimeout
from .files import (
    DEFAULT_STORE_DIRNAME,
    HISTORY_FILENAME,
    LOCK_FILENAME,
    MODEL_FILE_SUFFIX,
    STORE_DIR_ENV,
    atomic_write_json,
    resolve_store_dir,
)
from .records import effective_optimize_list
from .schema import RECORD_FIELDS, SCHEMA_VERSION
from .store import DEFAULT_SUMMARY_PATH, WARM_START_MAX_AGE, OptimizedParameterStore

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
    "cross_model_report",
    "effective_optimize_list",
    "resolve_store_dir",
]
