"""`OptimizedParameterStore`: optimized model defaults and their history, safe across processes.

Layout of the store folder (explicit ``store_dir``, else ``$PBUFJAX_STORE_DIR``,
else ``./optimization_results/``)::

    optimization_results/
        lcdm_defaults.json          current optimized values of one model
        pbuf_defaults.json
        optimization_history.json   every optimization record, oldest first
        .store.lock                 inter-process lock (filelock)

Guarantees:

* Writes are atomic (:func:`pbufjax.store.files.atomic_write_json`): a reader
  sees the old or the new file, never a half-written one; a writer killed at any
  point leaves the previous store readable.
* Updates are serialized across processes and threads by a ``filelock`` lock,
  so concurrent updates never lose a record.
* A file that is not valid JSON or does not match the schema
  (:mod:`pbufjax.store.schema`) raises :class:`StoreCorruptError` naming the
  file; the file is left untouched (never silently reset).
  :meth:`OptimizedParameterStore.repair` moves bad files aside as
  ``<name>.corrupt-<UTC time>`` backups and rebuilds what it can.
* Within one update the history record is written before the model file, so a
  crash between the two leaves a record whose values are not yet defaults,
  never defaults without a record.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import filelock

from ..cosmology.parameters import STATIC_PARAMS, get_defaults, validate_params
from ..runtime import parse_timestamp, utc_now
from . import files, schema
from .consistency import CONSISTENCY_TOLERANCE, cross_model_report
from .errors import StoreCorruptError, StoreError, StoreInvalidValue, StoreLockTimeout
from .files import HISTORY_FILENAME, LOCK_FILENAME, MODEL_FILE_SUFFIX, atomic_write_json, read_json
from .records import check_update, make_record
from .values import QUARANTINE_KEY, quarantine, value_problems

logger = logging.getLogger(__name__)

#: Maximum age of a record used by ``warm_start``.
WARM_START_MAX_AGE = _dt.timedelta(hours=24)
#: Default export location of :meth:`OptimizedParameterStore.export_optimization_summary`.
DEFAULT_SUMMARY_PATH = "reports/optimization_summary.json"


class OptimizedParameterStore:
    """Persistent, concurrency-safe store of optimized model defaults and their history.

    Args:
        store_dir: store folder; default ``$PBUFJAX_STORE_DIR`` or ``./optimization_results``.
            Created on the first write (reads of a missing store return model defaults).
        lock_timeout: seconds to wait for the inter-process lock before
            :class:`StoreLockTimeout`.

    Example:
        >>> import tempfile
        >>> store = OptimizedParameterStore(tempfile.mkdtemp())
        >>> record = store.update_model_defaults(
        ...     "pbuf", {"k_sat": 0.9762, "alpha": 5e-4},
        ...     {"timestamp": "2025-10-22T14:42:00Z", "chi2_improvement": 5.67,
        ...      "convergence_status": "success", "dataset": "cmb"})
        >>> store.get_model_defaults("pbuf")["k_sat"]
        0.9762
        >>> import shutil; shutil.rmtree(store.store_dir)
    """

    def __init__(self, store_dir: str | os.PathLike | None = None, *, lock_timeout: float = 60.0):
        self.store_dir = files.resolve_store_dir(store_dir)
        self.lock_timeout = float(lock_timeout)
        self._lock = filelock.FileLock(str(self.store_dir / LOCK_FILENAME), timeout=self.lock_timeout)
        self._warned: set[tuple[str, str, str]] = set()  # (file, parameter, value) already warned about

    def __repr__(self) -> str:
        return f"OptimizedParameterStore({str(self.store_dir)!r})"

    # -- paths ------------------------------------------------------------
    @property
    def history_path(self) -> Path:
        """Path of the history file."""
        return self.store_dir / HISTORY_FILENAME

    def model_path(self, model: str) -> Path:
        """Path of ``model``'s file (``<store>/<model>_defaults.json``).

        Raises:
            ValueError: ``model`` cannot name a file.
        """
        return self.store_dir / files.model_filename(model)

    def stored_models(self) -> list[str]:
        """Models that have a file in the store (sorted)."""
        if not self.store_dir.is_dir():
            return []
        return sorted(p.name[: -len(MODEL_FILE_SUFFIX)] for p in self.store_dir.glob(f"*{MODEL_FILE_SUFFIX}"))

    # -- locking ----------------------------------------------------------
    @contextlib.contextmanager
    def locked(self):
        """Hold the store's inter-process lock (creates the store folder).

        Temporary files left by killed writers are removed once the lock is held.

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
            files.remove_stale_temporaries(self.store_dir)
            yield
        finally:
            self._lock.release()

    # -- reading ----------------------------------------------------------
    def _read_model_doc(self, model: str) -> dict | None:
        path = self.model_path(model)
        doc = read_json(path)
        return None if doc is None else schema.validate_model_doc(doc, path, model)

    def _read_history_doc(self) -> dict:
        doc = read_json(self.history_path)
        return schema.history_doc() if doc is None else schema.validate_history_doc(doc, self.history_path)

    def _warn_once(self, path: Path, name: str, value: Any, text: str) -> None:
        key = (str(path), name, repr(value))
        if key not in self._warned:
            self._warned.add(key)
            logger.warning("%s", text)

    def _usable(self, model: str, path: Path, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` without those outside their valid range (each warned about once per store object)."""
        try:
            problems = value_problems(model, values)
        except ValueError:  # a file of a model this pbufjax does not know: nothing to check against
            return dict(values)
        for name, problem in problems.items():
            text = (str(StoreInvalidValue(path, name, values[name], problem)) if path != self.history_path else
                    f"parameter store file {path}: a record holds {problem}; the value is ignored")
            self._warn_once(path, name, values[name], text)
        return {k: v for k, v in values.items() if k not in problems}

    def get_stored_parameters(self, model: str) -> dict[str, float]:
        """Only the stored (optimized) values of ``model`` (empty if none).

        A stored value that is not a finite number inside its parameter's valid range
        is left out, with one warning naming the file, the parameter, the value and the
        range (``pbufjax store repair`` quarantines it).

        Raises:
            StoreCorruptError: the model's file is corrupt (it is left untouched).
        """
        doc = self._read_model_doc(model)
        return self._usable(model, self.model_path(model), doc["parameters"]) if doc else {}

    def get_model_defaults(self, model: str) -> dict[str, Any]:
        """Current defaults of ``model``: the model's defaults overlaid with stored optimized values.

        Args:
            model: model name (``lcdm``, ``wcdm``, ``w0wacdm``, ``pbuf`` or a ``DEFAULTS`` entry).

        Returns:
            ParameterDict (numeric inputs plus ``model_class``) with an
            ``optimization_metadata`` entry: ``optimized_params`` (names taken from
            the store; a stored value outside its valid range is ignored with a
            warning), ``source`` (the store file or ``"model defaults"``),
            ``updated``, ``provenance`` and ``last_optimization``. The dict can be
            passed as ``overrides`` to :func:`pbufjax.parameter.build_params`.

        Raises:
            ValueError: unknown model (lists the valid ones).
            StoreCorruptError: the model's store file is corrupt (left untouched).
        """
        params = get_defaults(model)
        doc = self._read_model_doc(model)
        meta: dict[str, Any] = {"optimized_params": [], "source": "model defaults"}
        if doc:
            valid = set(params) - set(STATIC_PARAMS)
            applied = []
            for name, value in self._usable(model, self.model_path(model), doc["parameters"]).items():
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
        ``"success"`` or an unparseable timestamp are skipped, and so are the values a
        record flags (at a bound, unconstrained) and values outside their valid range
        (warned about once).

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
                flagged = rec.get("flagged") or {}
                kept = {k: v for k, v in rec["final_values"].items() if k not in flagged}
                values.update({k: float(v) for k, v in self._usable(model, self.history_path, kept).items()})
        return values

    # -- writing ----------------------------------------------------------
    def _build_record(
        self, model: str, optimized_params: Mapping[str, Any], optimization_metadata: Mapping[str, Any] | None
    ) -> tuple[dict[str, Any], dict[str, float]]:
        """Validate an update and build its OptimizationRecord (reads the store, writes nothing).

        Returns:
            ``(record, values to store)``: the record holds every value; the flagged ones
            (at a bound, unconstrained) are not stored.
        """
        values, meta = check_update(model, optimized_params, optimization_metadata)
        record = make_record(model, values, meta)
        stored = {k: v for k, v in values.items() if k not in record["flagged"]}
        current = self.get_model_defaults(model)  # physical consistency of the resulting defaults
        current.pop("optimization_metadata", None)
        current.update(stored)
        validate_params(current)
        return record, stored

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
                ``dataset`` or ``datasets``, ``frozen_parameters`` (those
                parameters are kept fixed: their values are not stored), and
                ``bounds_reached`` / ``unconstrained`` (or
                ``parameter_bounds_info["bounds_reached"]``): those values are recorded
                in the history, flagged with the reason, but do not become defaults.
            dry_run: validate and build the record, write nothing.

        Returns:
            The OptimizationRecord (stored unless ``dry_run``); its ``flagged`` entry
            (``{name: reason}``) names the values that were not stored as defaults.
            When every value is flagged only the history is written.

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
            history["schema_version"] = schema.SCHEMA_VERSION
            history.setdefault("kind", schema.HISTORY_KIND)
            history["records"].append(record)
            atomic_write_json(self.history_path, history)
            if not values:
                logger.info("%s: %s not stored as defaults (%s); recorded in the history", model,
                            ", ".join(record["flagged"]), record["flagged"])
                return record
            if model_doc is None:
                model_doc = schema.model_doc(model, record["recorded_at"])
            self._quarantine(model, model_doc, record["recorded_at"])  # an overwritten bad value is kept
            model_doc["schema_version"] = schema.SCHEMA_VERSION
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
    def _report_models(self, models: Iterable[str] | None) -> list[str]:
        return list(models) if models is not None else sorted({"lcdm", "pbuf", *self.stored_models()})

    def cross_model_report(self, models: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        """Values of the shared parameters per model and their relative divergence.

        Args:
            models: models to compare; default ``lcdm``, ``pbuf`` and every stored model.

        Returns:
            ``{param: {"values": {model: value}, "divergence": float, "consistent": bool}}``
            where divergence = (max − min) / mean(|value|) across models
            (:func:`pbufjax.store.consistency.cross_model_report`).
        """
        return cross_model_report({m: self.get_model_defaults(m) for m in self._report_models(models)})

    def validate_cross_model_consistency(self, models: Iterable[str] | None = None) -> dict[str, float]:
        """Relative divergence of the shared parameters (H0, Om0, Obh2, ns) across models.

        Each model contributes its current defaults (stored values where present).
        A divergence above :data:`~pbufjax.store.consistency.CONSISTENCY_TOLERANCE`
        is logged as a warning.

        Args:
            models: models to compare; default ``lcdm``, ``pbuf`` and every stored model.

        Returns:
            ``{param: (max − min) / mean(|value|)}`` over the models.
        """
        report = self.cross_model_report(models)
        for p, entry in report.items():
            if not entry["consistent"]:
                logger.warning(
                    "shared parameter %s diverges by %.3g%% across models (tolerance %g%%): %s",
                    p,
                    100 * entry["divergence"],
                    100 * CONSISTENCY_TOLERANCE,
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
            usable = self._usable(m, self.model_path(m), doc["parameters"])
            models[m] = {
                "stored_parameters": usable,
                "ignored_parameters": {k: v for k, v in doc["parameters"].items() if k not in usable},
                "quarantined_parameters": doc.get(QUARANTINE_KEY, {}),
                "updated": doc["updated"],
                "provenance": doc.get("provenance", {}),
                "n_records": len(recs),
                "last_record": recs[-1] if recs else None,
            }
        return {
            "schema_version": schema.SCHEMA_VERSION,
            "kind": schema.SUMMARY_KIND,
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
    def _quarantine(self, model: str, doc: dict, when: str, *, report: bool = False) -> list[dict[str, Any]]:
        """Move ``doc``'s values outside their valid range to its quarantine section (in place).

        Each move is logged: as a warning unless the value was already warned about, or
        ``report`` (the caller reports the moves itself, as :meth:`repair` does).
        """
        try:
            problems = value_problems(model, doc["parameters"])
        except ValueError:  # unknown model
            return []
        path = self.model_path(model)
        moved = quarantine(doc, problems, when)
        for entry in moved:
            key = (str(path), entry["parameter"], repr(entry["value"]))
            level = logging.INFO if report or key in self._warned else logging.WARNING  # one warning per value
            self._warned.add(key)
            logger.log(level, "%s: moved %s to the quarantine section (%s)", path, entry["parameter"], entry["reason"])
        return [{"file": str(self.model_path(model)), "model": model, **e} for e in moved]

    def check(self) -> list[StoreError]:
        """Every problem in the store files (empty list: the store is healthy). Reads only.

        Returns:
            :class:`StoreCorruptError` for each unusable file and :class:`StoreInvalidValue`
            for each stored value outside its parameter's valid range.
        """
        problems: list[StoreError] = []
        try:
            self._read_history_doc()
        except StoreCorruptError as exc:
            problems.append(exc)
        for m in self.stored_models():
            try:
                doc = self._read_model_doc(m)
            except (StoreCorruptError, ValueError) as exc:
                problems.append(
                    exc if isinstance(exc, StoreCorruptError) else StoreCorruptError(self.model_path(m), str(exc))
                )
                continue
            try:
                bad = value_problems(m, doc["parameters"])
            except ValueError:  # unknown model
                bad = {}
            path = self.model_path(m)
            problems += [StoreInvalidValue(path, k, doc["parameters"][k], text) for k, text in bad.items()]
        return problems

    def repair(self) -> dict[str, Any]:
        """Move corrupt store files aside as backups, rebuild what can be rebuilt, quarantine bad values.

        A corrupt file ``X`` is renamed to ``X.corrupt-<UTC time>`` (its bytes are
        kept). The history keeps every valid record of a parseable but partly
        invalid file; a model file is rebuilt by replaying its model's records from
        the history (oldest first, flagged values skipped). A stored value outside
        its parameter's valid range is moved to the model file's
        ``quarantined_parameters`` section (kept, with the reason). Healthy files are
        not touched; every rewrite is atomic.

        Returns:
            ``{"backups": [paths], "rebuilt": [paths], "dropped_records": int,
            "quarantined": [{"file", "model", "parameter", "value", "reason"}]}``.
        """
        report: dict[str, Any] = {"backups": [], "rebuilt": [], "dropped_records": 0, "quarantined": []}
        if not self.store_dir.is_dir():
            return report
        stamp = re.sub(r"[-:.]", "", utc_now())  # 20251022T144200123456Z: safe in a file name

        def backup(path: Path) -> None:
            dest = path.with_name(f"{path.name}.corrupt-{stamp}")
            os.replace(path, dest)
            report["backups"].append(str(dest))
            logger.warning("moved corrupt store file %s to %s", path, dest)

        with self.locked():
            try:  # history first: model files are rebuilt from it
                history = self._read_history_doc()
            except StoreCorruptError:
                try:
                    raw = read_json(self.history_path)
                except StoreError:
                    raw = None
                kept, report["dropped_records"] = schema.salvage_records(raw)
                backup(self.history_path)
                history = schema.history_doc(kept)
                atomic_write_json(self.history_path, history)
                report["rebuilt"].append(str(self.history_path))
            for m in self.stored_models():
                path = self.model_path(m)
                try:
                    doc = self._read_model_doc(m)
                except StoreCorruptError:
                    backup(path)
                    doc = schema.rebuild_model_doc(m, history["records"], utc_now())
                    if doc is not None:
                        report["quarantined"] += self._quarantine(m, doc, doc["updated"], report=True)
                        atomic_write_json(path, doc)
                        report["rebuilt"].append(str(path))
                    continue
                moved = self._quarantine(m, doc, utc_now(), report=True)
                if moved:
                    atomic_write_json(path, doc)
                    report["quarantined"] += moved
        return report


__all__ = ["DEFAULT_SUMMARY_PATH", "WARM_START_MAX_AGE", "OptimizedParameterStore"]
