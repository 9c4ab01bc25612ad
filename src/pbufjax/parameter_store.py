"""Persistent store of optimized parameters: the defaults later fits start from.

An optimization (for example PBUF's ``k_sat, alpha, H0, Om0`` on the CMB priors)
writes its best-fit values here; every later fit of the same model starts from
them (``use_precomputed``), and ``warm_start`` picks the most recent record if it
is younger than 24 hours.

Layout of the store folder (explicit argument, else the environment variable
``PBUFJAX_STORE_DIR``, else ``./optimization_results/``)::

    optimization_results/
        lcdm_defaults.json          current optimized values of one model
        pbuf_defaults.json
        optimization_history.json   every optimization record, oldest first
        .store.lock                 inter-process lock (filelock)

Every file is indented JSON carrying ``schema_version`` (:data:`SCHEMA_VERSION`)
and a ``kind`` string. A model file looks like::

    {
      "schema_version": 1,
      "kind": "pbufjax.optimized_parameters",
      "model": "pbuf",
      "updated": "2025-10-22T14:42:00.000000Z",
      "parameters": {"k_sat": 0.9762, "alpha": 0.0005},
      "provenance": {"k_sat": {"record_id": "...", "timestamp": "...", "dataset": "cmb"}},
      "last_record_id": "..."
    }

and the history file holds ``{"schema_version": 1, "kind":
"pbufjax.optimization_history", "records": [OptimizationRecord, ...]}``.

Guarantees:

* Writes are atomic: the new content goes to a temporary file in the same
  folder, is flushed and ``fsync``-ed, then ``os.replace``-d over the old file
  (and the folder is ``fsync``-ed). A reader sees the old or the new file, never
  a half-written one; a writer killed at any point leaves the previous store
  readable.
* Updates are serialized across processes and threads by a ``filelock`` lock,
  so concurrent updates never lose a record.
* A file that is not valid JSON or does not match the schema raises
  :class:`StoreCorruptError` naming the file; the file is left untouched (it is
  never silently reset). :meth:`OptimizedParameterStore.repair` moves bad files
  aside as ``<name>.corrupt-<UTC time>`` backups and rebuilds what it can.
* Within one update the history record is written before the model file, so a
  crash between the two leaves a record whose values are not yet defaults,
  never defaults without a record.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import math
import numbers
import os
import re
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import filelock
import numpy as np

from . import parameter as _parameter

logger = logging.getLogger(__name__)

#: Version of the on-disk format written by this module.
SCHEMA_VERSION = 1
#: Environment variable naming the store folder.
STORE_DIR_ENV = "PBUFJAX_STORE_DIR"
#: Store folder used when neither an argument nor the environment names one.
DEFAULT_STORE_DIRNAME = "optimization_results"
#: Name of the history file inside the store folder.
HISTORY_FILENAME = "optimization_history.json"
#: Suffix of the per-model files (``<model>_defaults.json``).
MODEL_FILE_SUFFIX = "_defaults.json"
#: Name of the lock file inside the store folder.
LOCK_FILENAME = ".store.lock"
#: Parameters shared by every model, compared by the cross-model consistency check.
SHARED_PARAMETERS = ("H0", "Om0", "Obh2", "ns")
#: Relative divergence above which the consistency check logs a warning.
CONSISTENCY_TOLERANCE = 0.01
#: Maximum age of a record used by ``warm_start``.
WARM_START_MAX_AGE = _dt.timedelta(hours=24)
#: Default export location of :meth:`OptimizedParameterStore.export_optimization_summary`.
DEFAULT_SUMMARY_PATH = "reports/optimization_summary.json"

_MODEL_KIND = "pbufjax.optimized_parameters"
_HISTORY_KIND = "pbufjax.optimization_history"
_SUMMARY_KIND = "pbufjax.optimization_summary"
_TMP_PREFIX = ".pbufjax-tmp-"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
#: Required keys of an OptimizationRecord and their JSON types.
RECORD_FIELDS: dict[str, tuple[type, ...]] = {
    "timestamp": (str,),
    "model": (str,),
    "dataset": (str,),
    "optimized_params": (list,),
    "final_values": (dict,),
    "chi2_improvement": (int, float, type(None)),
    "convergence_status": (str,),
}


class StoreError(Exception):
    """Base class of parameter-store errors."""


class StoreCorruptError(StoreError, ValueError):
    """A store file is not valid JSON or does not match the schema.

    Attributes:
        path: the offending file (left untouched).
    """

    def __init__(self, path: Path, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(
            f"parameter store file {self.path} is unusable: {problem}. The file was left untouched; "
            f"run `pbufjax store repair --store-dir {self.path.parent}` to move it aside as a backup "
            "and rebuild the store, or fix it by hand"
        )


class StoreLockTimeout(StoreError, TimeoutError):
    """The store's inter-process lock could not be acquired in time."""


# ---------------------------------------------------------------------------
# small helpers


def utc_now() -> str:
    """Current UTC time in ISO 8601 with a ``Z`` suffix (microsecond precision)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_timestamp(value: str) -> _dt.datetime:
    """Parse an ISO 8601 timestamp; a naive one is taken as UTC.

    Raises:
        ValueError: ``value`` is not an ISO 8601 timestamp.
    """
    if not isinstance(value, str):
        raise TypeError(f"timestamp must be an ISO 8601 string, got {type(value).__name__}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        stamp = _dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"timestamp {value!r} is not ISO 8601 (e.g. 2025-10-22T14:42:00Z)") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=_dt.timezone.utc)
    return stamp


def to_jsonable(value: Any, key: str = "value") -> Any:
    """Convert numpy/JAX scalars and arrays, tuples and mappings to plain JSON types.

    Non-finite floats become the strings ``"inf"``, ``"-inf"`` and ``"nan"`` so the
    output stays strict JSON.

    Args:
        value: object to convert.
        key: name used in the error message.

    Raises:
        TypeError: an object with no JSON representation (names ``key``).
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        f = float(value)
        if math.isfinite(f):
            return f
        return "nan" if math.isnan(f) else ("inf" if f > 0 else "-inf")
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, f"{key}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [to_jsonable(v, f"{key}[{i}]") for i, v in enumerate(items)]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if hasattr(value, "__array__") or isinstance(value, np.generic):
        arr = np.asarray(value)
        if arr.dtype.kind in "biuf":
            return to_jsonable(arr.item() if arr.ndim == 0 else arr.tolist(), key)
    raise TypeError(f"{key} has type {type(value).__name__}, which cannot be stored as JSON")


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":  # pragma: no cover - directory fsync is POSIX-only
        return
    fd = os.open(str(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_payload(fh, data: bytes) -> None:
    """Write ``data`` to the open temporary file (separate so tests can interrupt it)."""
    fh.write(data)


def _before_replace(tmp_path: Path, target: Path) -> None:
    """Called after the temporary file is synced and before it replaces the target.

    A no-op; tests replace it to kill a writer at this point.
    """


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as indented JSON to ``path`` atomically.

    The content goes to a temporary file in the same folder, which is flushed,
    ``fsync``-ed and ``os.replace``-d over ``path``; the folder is then
    ``fsync``-ed. On any error the temporary file is removed and ``path`` is
    unchanged.

    Args:
        path: destination file (its folder is created if needed).
        obj: JSON-serializable object.

    Returns:
        The destination path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (json.dumps(obj, indent=2, sort_keys=False, allow_nan=False) + "\n").encode("utf-8")
    tmp = path.parent / f"{_TMP_PREFIX}{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    try:
        with open(tmp, "xb") as fh:
            _write_payload(fh, data)
            fh.flush()
            os.fsync(fh.fileno())
        _before_replace(tmp, path)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)
    return path


def _check_finite_number(value: Any, where: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (numbers.Real, np.generic))
        and not (hasattr(value, "__array__") and np.ndim(value) == 0)
    ):
        raise TypeError(f"{where} must be a real number, got {type(value).__name__} ({value!r})")
    f = float(np.asarray(value))
    if not math.isfinite(f):
        raise ValueError(f"{where} must be finite, got {f}")
    return f


# ---------------------------------------------------------------------------
# schema validation (pure functions of the decoded JSON)


def _validate_model_doc(doc: Any, path: Path, model: str | None = None) -> dict:
    if not isinstance(doc, dict):
        raise StoreCorruptError(path, f"expected a JSON object, found {type(doc).__name__}")
    _check_header(doc, path, _MODEL_KIND)
    for key, kind in (("model", str), ("parameters", dict), ("updated", str)):
        if key not in doc:
            raise StoreCorruptError(path, f"missing key {key!r}")
        if not isinstance(doc[key], kind):
            raise StoreCorruptError(path, f"key {key!r} must be a {kind.__name__}, found {type(doc[key]).__name__}")
    if model is not None and doc["model"] != model:
        raise StoreCorruptError(path, f"holds model {doc['model']!r}, expected {model!r}")
    for name, value in doc["parameters"].items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise StoreCorruptError(path, f"parameter {name!r} has the non-numeric or non-finite value {value!r}")
    if not isinstance(doc.get("provenance", {}), dict):
        raise StoreCorruptError(path, "key 'provenance' must be an object")
    return doc


def _check_header(doc: dict, path: Path, kind: str) -> None:
    version = doc.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise StoreCorruptError(path, f"missing or non-integer 'schema_version' (found {version!r})")
    if version > SCHEMA_VERSION:
        raise StoreCorruptError(
            path, f"schema_version {version} is newer than this pbufjax supports ({SCHEMA_VERSION}); upgrade pbufjax"
        )
    if version < 1:
        raise StoreCorruptError(path, f"invalid schema_version {version}")
    if doc.get("kind", kind) != kind:
        raise StoreCorruptError(path, f"'kind' is {doc.get('kind')!r}, expected {kind!r}")


def _record_problem(rec: Any) -> str | None:
    """Why ``rec`` is not a valid OptimizationRecord (None when valid)."""
    if not isinstance(rec, dict):
        return f"is a {type(rec).__name__}, not an object"
    for key, kinds in RECORD_FIELDS.items():
        if key not in rec:
            return f"lacks {key!r}"
        if isinstance(rec[key], bool) or not isinstance(rec[key], kinds):
            return f"has {key!r} of type {type(rec[key]).__name__}"
    for name, value in rec["final_values"].items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"has a non-numeric final value for {name!r}"
    if not all(isinstance(p, str) for p in rec["optimized_params"]):
        return "has a non-string entry in 'optimized_params'"
    return None


def _validate_history_doc(doc: Any, path: Path) -> dict:
    if not isinstance(doc, dict):
        raise StoreCorruptError(path, f"expected a JSON object, found {type(doc).__name__}")
    _check_header(doc, path, _HISTORY_KIND)
    records = doc.get("records")
    if not isinstance(records, list):
        raise StoreCorruptError(path, "missing list 'records'")
    for i, rec in enumerate(records):
        problem = _record_problem(rec)
        if problem:
            raise StoreCorruptError(path, f"record {i} {problem}")
    return doc


# ---------------------------------------------------------------------------


def resolve_store_dir(store_dir: str | os.PathLike | None = None) -> Path:
    """Store folder (absolute): ``store_dir``, else ``$PBUFJAX_STORE_DIR``, else ``./optimization_results``."""
    if store_dir is not None and str(store_dir) != "":
        return Path(store_dir).expanduser().absolute()
    env = os.environ.get(STORE_DIR_ENV, "").strip()
    if env:
        return Path(env).expanduser().absolute()
    return Path.cwd() / DEFAULT_STORE_DIRNAME


def effective_optimize_list(optimize: Iterable[str] | None, frozen: Iterable[str] | None) -> list[str]:
    """``optimize`` without the ``frozen`` parameters (frozen wins), order kept, duplicates dropped."""
    frozen_set = set(frozen or ())
    out: list[str] = []
    for name in optimize or ():
        if name not in frozen_set and name not in out:
            out.append(name)
    return out


class OptimizedParameterStore:
    """Persistent, concurrency-safe store of optimized model defaults and their history.

    Args:
        store_dir: store folder; default ``$PBUFJAX_STORE_DIR`` or ``./optimization_results``.
            Created on the first write (reads of a missing store return model defaults).
        lock_timeout: seconds to wait for the inter-process lock before
            :class:`StoreLockTimeout`.

    Example:
        >>> store = OptimizedParameterStore("/tmp/pbufjax-store")     # doctest: +SKIP
        >>> store.update_model_defaults(
        ...     "pbuf", {"k_sat": 0.9762, "alpha": 5e-4},
        ...     {"timestamp": "2025-10-22T14:42:00Z", "chi2_improvement": 5.67,
        ...      "convergence_status": "success", "dataset": "cmb"})     # doctest: +SKIP
        >>> store.get_model_defaults("pbuf")["k_sat"]                  # doctest: +SKIP
        0.9762
    """

    def __init__(self, store_dir: str | os.PathLike | None = None, *, lock_timeout: float = 60.0):
        self.store_dir = resolve_store_dir(store_dir)
        self.lock_timeout = float(lock_timeout)
        self._lock = filelock.FileLock(str(self.store_dir / LOCK_FILENAME), timeout=self.lock_timeout)

    def __repr__(self) -> str:
        return f"OptimizedParameterStore({str(self.store_dir)!r})"

    # -- paths ------------------------------------------------------------
    @property
    def history_path(self) -> Path:
        """Path of the history file."""
        return self.store_dir / HISTORY_FILENAME

    def model_path(self, model: str) -> Path:
        """Path of ``model``'s file (``<store>/<model>_defaults.json``)."""
        if not isinstance(model, str) or not _SAFE_NAME.match(model):
            raise ValueError(f"model name {model!r} cannot name a store file (letters, digits, '_', '.', '+', '-')")
        return self.store_dir / f"{model}{MODEL_FILE_SUFFIX}"

    def stored_models(self) -> list[str]:
        """Models that have a file in the store (sorted)."""
        if not self.store_dir.is_dir():
            return []
        return sorted(p.name[: -len(MODEL_FILE_SUFFIX)] for p in self.store_dir.glob(f"*{MODEL_FILE_SUFFIX}"))

    # -- locking ----------------------------------------------------------
    @contextlib.contextmanager
    def locked(self):
        """Hold the store's inter-process lock (creates the store folder).

        Raises:
            StoreLockTimeout: the lock was not acquired within ``lock_timeout`` seconds.
        """
        self.store_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire()
        except filelock.Timeout:
            raise StoreLockTimeout(
                f"could not lock the parameter store {self.store_dir} within {self.lock_timeout:g} s "
                f"(lock file {self._lock.lock_file}); another pbufjax process is updating it"
            ) from None
        try:
            self._remove_stale_temporaries()
            yield
        finally:
            self._lock.release()

    def _remove_stale_temporaries(self) -> None:
        # Every store write happens under the lock, so with the lock held any
        # temporary file left in the folder belongs to a killed writer.
        for tmp in self.store_dir.glob(f"{_TMP_PREFIX}*"):
            with contextlib.suppress(OSError):
                tmp.unlink()
                logger.info("removed stale temporary file %s", tmp)

    # -- reading ----------------------------------------------------------
    @staticmethod
    def _load_json(path: Path) -> Any | None:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"cannot read parameter store file {path}: {exc.strerror or exc}") from None
        try:
            return json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise StoreCorruptError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        except json.JSONDecodeError as exc:
            raise StoreCorruptError(
                path, f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
            ) from None

    def _read_model_doc(self, model: str) -> dict | None:
        path = self.model_path(model)
        doc = self._load_json(path)
        return None if doc is None else _validate_model_doc(doc, path, model)

    def _read_history_doc(self) -> dict:
        doc = self._load_json(self.history_path)
        if doc is None:
            return {"schema_version": SCHEMA_VERSION, "kind": _HISTORY_KIND, "records": []}
        return _validate_history_doc(doc, self.history_path)

    def get_stored_parameters(self, model: str) -> dict[str, float]:
        """Only the stored (optimized) values of ``model`` (empty if none).

        Raises:
            StoreCorruptError: the model's file is corrupt (it is left untouched).
        """
        doc = self._read_model_doc(model)
        return dict(doc["parameters"]) if doc else {}

    def get_model_defaults(self, model: str) -> dict[str, Any]:
        """Current defaults of ``model``: the model's defaults overlaid with stored optimized values.

        Args:
            model: model name (``lcdm``, ``wcdm``, ``w0wacdm``, ``pbuf`` or a ``DEFAULTS`` entry).

        Returns:
            ParameterDict (numeric inputs plus ``model_class``) with an
            ``optimization_metadata`` entry: ``optimized_params`` (names taken from
            the store), ``source`` (the store file or ``"model defaults"``),
            ``updated``, ``provenance`` and ``last_optimization``. The dict can be
            passed as ``overrides`` to :func:`pbufjax.parameter.build_params`.

        Raises:
            ValueError: unknown model (lists the valid ones).
            StoreCorruptError: the model's store file is corrupt (left untouched).
        """
        params = _parameter.get_defaults(model)
        doc = self._read_model_doc(model)
        meta: dict[str, Any] = {"optimized_params": [], "source": "model defaults"}
        if doc:
            valid = set(params) - set(_parameter.STATIC_PARAMS)
            applied = []
            for name, value in doc["parameters"].items():
                if name in valid:
                    params[name] = float(value)
                    applied.append(name)
                else:
                    logger.warning(
                        "store file %s holds %r, which is not a parameter of model %r; ignored",
                        self.model_path(model),
                        name,
                        model,
                    )
            meta = {
                "optimized_params": applied,
                "source": str(self.model_path(model)),
                "updated": doc["updated"],
                "provenance": doc.get("provenance", {}),
                "last_optimization": doc.get("last_optimization", {}),
            }
        params["optimization_metadata"] = meta
        return params

    def get_optimization_history(self, model: str | None = None) -> list[dict[str, Any]]:
        """Optimization records, oldest first.

        Args:
            model: only this model's records (``None``: all models).

        Returns:
            List of OptimizationRecord dicts (``timestamp, model, dataset,
            optimized_params, final_values, chi2_improvement,
            convergence_status``, plus ``record_id``, ``recorded_at`` and
            ``metadata``).

        Raises:
            StoreCorruptError: the history file is corrupt (left untouched).
        """
        records = self._read_history_doc()["records"]
        return [dict(r) for r in records if model is None or r.get("model") == model]

    def get_warm_start(self, model: str, max_age: _dt.timedelta = WARM_START_MAX_AGE) -> dict[str, float]:
        """Values from ``model``'s successful records younger than ``max_age`` (newest wins).

        Records are replayed oldest first, so a parameter optimized twice in the
        window takes its most recent value. Records with a status other than
        ``"success"`` or an unparseable timestamp are skipped.

        Returns:
            ``{name: value}``, empty when no record is recent enough.
        """
        now = _dt.datetime.now(_dt.timezone.utc)
        values: dict[str, float] = {}
        for rec in self.get_optimization_history(model):
            if rec.get("convergence_status") != "success":
                continue
            try:
                age = now - parse_timestamp(rec["timestamp"])
            except (TypeError, ValueError):
                continue
            if -_dt.timedelta(minutes=5) <= age <= max_age:  # tolerate small clock skew
                values.update({k: float(v) for k, v in rec["final_values"].items()})
        return values

    # -- writing ----------------------------------------------------------
    def _build_record(
        self, model: str, optimized_params: Mapping[str, Any], optimization_metadata: Mapping[str, Any] | None
    ) -> tuple[dict[str, Any], dict[str, float]]:
        """Validate an update and build its OptimizationRecord (no I/O)."""
        defaults = _parameter.get_defaults(model)  # ValueError for unknown models
        self.model_path(model)
        if not isinstance(optimized_params, Mapping) or not optimized_params:
            raise ValueError("optimized_params must be a non-empty mapping of parameter name -> value")
        if optimization_metadata is None:
            optimization_metadata = {}
        if not isinstance(optimization_metadata, Mapping):
            raise TypeError(f"optimization_metadata must be a mapping, got {type(optimization_metadata).__name__}")
        meta = dict(optimization_metadata)
        valid = sorted(set(defaults) - set(_parameter.STATIC_PARAMS))
        frozen = meta.get("frozen_parameters") or []
        if isinstance(frozen, str) or not all(isinstance(f, str) for f in frozen):
            raise TypeError("optimization_metadata['frozen_parameters'] must be a list of parameter names")
        values: dict[str, float] = {}
        for name, value in optimized_params.items():
            if name not in valid:
                raise ValueError(
                    f"unknown parameter {name!r} for model {model!r}; valid parameters: {', '.join(valid)}"
                )
            number = _check_finite_number(value, f"optimized value of {name!r}")
            if name in frozen:
                logger.info("parameter %r is frozen; its value is not stored", name)
                continue
            values[name] = number
        if not values:
            raise ValueError(f"every optimized parameter is frozen ({', '.join(sorted(frozen))}); nothing to store")
        # physical consistency of the defaults that would result
        current = self.get_model_defaults(model)
        current.pop("optimization_metadata", None)
        current.update(values)
        _parameter.validate_params(current)

        timestamp = meta.pop("timestamp", None) or utc_now()
        parse_timestamp(timestamp)  # reject malformed timestamps before anything is written
        chi2_improvement = meta.pop("chi2_improvement", None)
        if chi2_improvement is not None:
            chi2_improvement = _check_finite_number(chi2_improvement, "optimization_metadata['chi2_improvement']")
        status = meta.pop("convergence_status", "unknown")
        if not isinstance(status, str):
            raise TypeError(f"optimization_metadata['convergence_status'] must be a string, got {status!r}")
        dataset = meta.pop("dataset", None)
        datasets = meta.get("datasets")
        if dataset is None and datasets is not None:
            dataset = datasets if isinstance(datasets, str) else ",".join(map(str, datasets))
        if dataset is None:
            dataset = meta.get("optimization_source", "unspecified")
        if not isinstance(dataset, str):
            raise TypeError(f"optimization_metadata['dataset'] must be a string, got {type(dataset).__name__}")
        record = {
            "record_id": uuid.uuid4().hex,
            "timestamp": timestamp,
            "recorded_at": utc_now(),
            "model": model,
            "dataset": dataset,
            "optimized_params": list(values),
            "final_values": values,
            "chi2_improvement": chi2_improvement,
            "convergence_status": status,
            "metadata": to_jsonable(meta, "optimization_metadata"),
        }
        return record, values

    def update_model_defaults(
        self,
        model: str,
        optimized_params: Mapping[str, Any],
        optimization_metadata: Mapping[str, Any] | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """Store optimized values as ``model``'s new defaults and append a history record.

        Args:
            model: model name.
            optimized_params: ``{parameter: value}`` (finite reals, parameters of ``model``).
            optimization_metadata: free-form provenance stored with the record. Keys
                with a meaning: ``timestamp`` (ISO 8601, default now),
                ``chi2_improvement``, ``convergence_status`` (default ``"unknown"``),
                ``dataset`` or ``datasets``, and ``frozen_parameters`` (those
                parameters are kept fixed: their values are not stored).
            dry_run: validate and build the record, write nothing.

        Returns:
            The OptimizationRecord (stored unless ``dry_run``).

        Raises:
            ValueError: unknown model or parameter, non-finite or non-physical value.
            TypeError: a value of the wrong type.
            StoreCorruptError: an existing store file is corrupt (nothing is written).
            StoreLockTimeout: another process holds the lock too long.
        """
        record, values = self._build_record(model, optimized_params, optimization_metadata)
        if dry_run:
            logger.info("dry run: %s defaults not updated (would store %s)", model, values)
            return record
        with self.locked():
            model_doc = self._read_model_doc(model)  # read both before writing either
            history = self._read_history_doc()
            history["schema_version"] = SCHEMA_VERSION
            history.setdefault("kind", _HISTORY_KIND)
            history["records"].append(record)
            atomic_write_json(self.history_path, history)
            if model_doc is None:
                model_doc = {
                    "schema_version": SCHEMA_VERSION,
                    "kind": _MODEL_KIND,
                    "model": model,
                    "updated": record["recorded_at"],
                    "parameters": {},
                    "provenance": {},
                }
            model_doc["schema_version"] = SCHEMA_VERSION
            model_doc["updated"] = record["recorded_at"]
            model_doc["parameters"].update(values)
            provenance = model_doc.setdefault("provenance", {})
            for name in values:
                provenance[name] = {
                    "record_id": record["record_id"],
                    "timestamp": record["timestamp"],
                    "dataset": record["dataset"],
                }
            model_doc["last_record_id"] = record["record_id"]
            model_doc["last_optimization"] = {
                k: record[k]
                for k in ("timestamp", "dataset", "optimized_params", "chi2_improvement", "convergence_status")
            }
            atomic_write_json(self.model_path(model), model_doc)
        logger.info("stored %s defaults %s in %s", model, values, self.store_dir)
        return record

    # -- consistency, export ----------------------------------------------
    def cross_model_report(self, models: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        """Values of the shared parameters per model and their relative divergence.

        Args:
            models: models to compare; default ``lcdm``, ``pbuf`` and every stored model.

        Returns:
            ``{param: {"values": {model: value}, "divergence": float, "consistent": bool}}``
            where divergence = (max − min) / mean(|value|) across models.
        """
        names = list(models) if models is not None else sorted({"lcdm", "pbuf", *self.stored_models()})
        values = {m: self.get_model_defaults(m) for m in names}
        report = {}
        for p in SHARED_PARAMETERS:
            vals = {m: float(v[p]) for m, v in values.items() if p in v}
            arr = np.array(list(vals.values()), dtype=float)
            if arr.size < 2:
                div = 0.0
            else:
                scale = float(np.mean(np.abs(arr)))
                div = float((arr.max() - arr.min()) / scale) if scale > 0 else float(arr.max() - arr.min())
            report[p] = {"values": vals, "divergence": div, "consistent": div <= CONSISTENCY_TOLERANCE}
        return report

    def validate_cross_model_consistency(self, models: Iterable[str] | None = None) -> dict[str, float]:
        """Relative divergence of the shared parameters (H0, Om0, Obh2, ns) across models.

        Each model contributes its current defaults (stored values where present).
        A divergence above :data:`CONSISTENCY_TOLERANCE` is logged as a warning.

        Args:
            models: models to compare; default ``lcdm``, ``pbuf`` and every stored model.

        Returns:
            ``{param: (max − min) / mean(|value|)}`` over the models.
        """
        report = self.cross_model_report(models)
        for p, entry in report.items():
            if not entry["consistent"]:
                logger.warning(
                    "shared parameter %s diverges by %.3g%% across models: %s",
                    p,
                    100 * entry["divergence"],
                    entry["values"],
                )
        return {p: entry["divergence"] for p, entry in report.items()}

    def summary(self) -> dict[str, Any]:
        """The export document (see :meth:`export_optimization_summary`) without writing it."""
        history = self.get_optimization_history()
        models: dict[str, Any] = {}
        for m in self.stored_models():
            doc = self._read_model_doc(m)
            recs = [r for r in history if r["model"] == m]
            models[m] = {
                "stored_parameters": doc["parameters"],
                "updated": doc["updated"],
                "provenance": doc.get("provenance", {}),
                "n_records": len(recs),
                "last_record": recs[-1] if recs else None,
            }
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": _SUMMARY_KIND,
            "generated": utc_now(),
            "store_dir": str(self.store_dir.resolve()),
            "n_records": len(history),
            "models": models,
            "cross_model_consistency": self.cross_model_report(),
        }

    def export_optimization_summary(self, output_path: str | os.PathLike = DEFAULT_SUMMARY_PATH) -> Path:
        """Write a JSON summary: stored values per model, record counts, last records, consistency.

        Args:
            output_path: destination (relative paths are relative to the working folder;
                parent folders are created). Written atomically.

        Returns:
            The path written.
        """
        if self.store_dir.is_dir():
            with self.locked():
                doc = self.summary()
        else:
            doc = self.summary()
        path = atomic_write_json(output_path, doc)
        logger.info("optimization summary written to %s", path)
        return path

    # -- recovery ---------------------------------------------------------
    def check(self) -> list[StoreCorruptError]:
        """Every problem in the store files (empty list: the store is healthy). Reads only."""
        problems: list[StoreCorruptError] = []
        try:
            self._read_history_doc()
        except StoreCorruptError as exc:
            problems.append(exc)
        for m in self.stored_models():
            try:
                self._read_model_doc(m)
            except (StoreCorruptError, ValueError) as exc:
                problems.append(
                    exc if isinstance(exc, StoreCorruptError) else StoreCorruptError(self.model_path(m), str(exc))
                )
        return problems

    def repair(self) -> dict[str, Any]:
        """Move corrupt store files aside as backups and rebuild what can be rebuilt.

        A corrupt file ``X`` is renamed to ``X.corrupt-<UTC time>`` (its bytes are
        kept). The history keeps every valid record of a parseable but partly
        invalid file; a model file is rebuilt by replaying its model's records from
        the history (oldest first). Healthy files are not touched.

        Returns:
            ``{"backups": [paths], "rebuilt": [paths], "dropped_records": int}``.
        """
        report: dict[str, Any] = {"backups": [], "rebuilt": [], "dropped_records": 0}
        if not self.store_dir.is_dir():
            return report
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")

        def backup(path: Path) -> Path:
            dest = path.with_name(f"{path.name}.corrupt-{stamp}")
            os.replace(path, dest)
            report["backups"].append(str(dest))
            logger.warning("moved corrupt store file %s to %s", path, dest)
            return dest

        with self.locked():
            # history first: model files are rebuilt from it
            try:
                history = self._read_history_doc()
            except StoreCorruptError:
                try:
                    raw = json.loads(self.history_path.read_text("utf-8"))
                except (ValueError, UnicodeDecodeError, OSError):
                    raw = None
                records = raw.get("records") if isinstance(raw, dict) else None
                kept = [r for r in records if _record_problem(r) is None] if isinstance(records, list) else []
                report["dropped_records"] = (len(records) if isinstance(records, list) else 0) - len(kept)
                backup(self.history_path)
                history = {"schema_version": SCHEMA_VERSION, "kind": _HISTORY_KIND, "records": kept}
                atomic_write_json(self.history_path, history)
                report["rebuilt"].append(str(self.history_path))
            for m in self.stored_models():
                path = self.model_path(m)
                try:
                    self._read_model_doc(m)
                    continue
                except StoreCorruptError:
                    backup(path)
                params: dict[str, float] = {}
                provenance: dict[str, Any] = {}
                last = None
                for rec in history["records"]:
                    if rec["model"] != m:
                        continue
                    last = rec
                    for name, value in rec["final_values"].items():
                        params[name] = float(value)
                        provenance[name] = {
                            "record_id": rec.get("record_id"),
                            "timestamp": rec["timestamp"],
                            "dataset": rec["dataset"],
                        }
                if not params:
                    continue
                atomic_write_json(
                    path,
                    {
                        "schema_version": SCHEMA_VERSION,
                        "kind": _MODEL_KIND,
                        "model": m,
                        "updated": utc_now(),
                        "parameters": params,
                        "provenance": provenance,
                        "last_record_id": last.get("record_id") if last else None,
                        "rebuilt_from_history": True,
                    },
                )
                report["rebuilt"].append(str(path))
        return report
