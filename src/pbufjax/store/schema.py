"""The store's file formats: headers, the OptimizationRecord, and their validation.

Every store file is a JSON object with ``schema_version`` (:data:`SCHEMA_VERSION`)
and a ``kind`` string. A model file (``<model>_defaults.json``) looks like::

    {
      "schema_version": 1,
      "kind": "pbufjax.optimized_parameters",
      "model": "pbuf",
      "updated": "2025-10-22T14:42:00.000000Z",
      "parameters": {"k_sat": 0.9762, "alpha": 0.0005},
      "provenance": {"k_sat": {"record_id": "...", "timestamp": "...", "dataset": "cmb"}},
      "last_record_id": "...",
      "quarantined_parameters": {}
    }

(``quarantined_parameters``, optional: values moved out of ``parameters`` because they
are not finite numbers inside their valid range, see :mod:`pbufjax.store.values`), and
the history file holds ``{"schema_version": 1, "kind": "pbufjax.optimization_history",
"records": [OptimizationRecord, ...]}``; a record may carry ``flagged`` (``{name:
reason}``: values recorded but not stored as defaults). The
functions here are pure functions of the decoded JSON; they raise
:class:`~pbufjax.store.errors.StoreCorruptError` naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import StoreCorruptError
from .values import QUARANTINE_KEY

#: Version of the on-disk format written by this package.
SCHEMA_VERSION = 1
#: ``kind`` of a model file.
MODEL_KIND = "pbufjax.optimized_parameters"
#: ``kind`` of the history file.
HISTORY_KIND = "pbufjax.optimization_history"
#: ``kind`` of an exported summary.
SUMMARY_KIND = "pbufjax.optimization_summary"
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


def check_header(doc: dict, path: Path, kind: str) -> None:
    """Check ``schema_version`` (an integer from 1 to :data:`SCHEMA_VERSION`) and ``kind``.

    Raises:
        StoreCorruptError: naming ``path`` and the bad key.
    """
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


def validate_model_doc(doc: Any, path: Path, model: str | None = None) -> dict:
    """Return ``doc`` if it is a valid model file (of ``model``, when given).

    Raises:
        StoreCorruptError: naming ``path`` and the problem.
    """
    if not isinstance(doc, dict):
        raise StoreCorruptError(path, f"expected a JSON object, found {type(doc).__name__}")
    check_header(doc, path, MODEL_KIND)
    for key, kind in (("model", str), ("parameters", dict), ("updated", str)):
        if key not in doc:
            raise StoreCorruptError(path, f"missing key {key!r}")
        if not isinstance(doc[key], kind):
            raise StoreCorruptError(path, f"key {key!r} must be a {kind.__name__}, found {type(doc[key]).__name__}")
    if model is not None and doc["model"] != model:
        raise StoreCorruptError(path, f"holds model {doc['model']!r}, expected {model!r}")
    # a parameter value that is not a number in its valid range leaves the file usable: the
    # store ignores it and ``repair`` quarantines it (pbufjax.store.values)
    for key in ("provenance", QUARANTINE_KEY):
        if not isinstance(doc.get(key, {}), dict):
            raise StoreCorruptError(path, f"key {key!r} must be an object")
    return doc


def record_problem(rec: Any) -> str | None:
    """Why ``rec`` is not a valid OptimizationRecord (``None`` when it is valid).

    Example:
        >>> record_problem({"model": "lcdm"})
        "lacks 'timestamp'"
    """
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
    flagged = rec.get("flagged", {})
    if not isinstance(flagged, dict) or not all(isinstance(v, str) for v in flagged.values()):
        return "has 'flagged' that is not an object of reasons"
    return None


def validate_history_doc(doc: Any, path: Path) -> dict:
    """Return ``doc`` if it is a valid history file (every record valid).

    Raises:
        StoreCorruptError: naming ``path`` and the first bad record.
    """
    if not isinstance(doc, dict):
        raise StoreCorruptError(path, f"expected a JSON object, found {type(doc).__name__}")
    check_header(doc, path, HISTORY_KIND)
    records = doc.get("records")
    if not isinstance(records, list):
        raise StoreCorruptError(path, "missing list 'records'")
    for i, rec in enumerate(records):
        problem = record_problem(rec)
        if problem:
            raise StoreCorruptError(path, f"record {i} {problem}")
    return doc


def history_doc(records: list | None = None) -> dict:
    """A history document holding ``records`` (empty by default)."""
    return {"schema_version": SCHEMA_VERSION, "kind": HISTORY_KIND, "records": list(records or [])}


def model_doc(model: str, updated: str) -> dict:
    """An empty model document of ``model``, last updated at ``updated``."""
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": MODEL_KIND,
        "model": model,
        "updated": updated,
        "parameters": {},
        "provenance": {},
    }


def salvage_records(raw: Any) -> tuple[list[dict], int]:
    """The valid records of a decoded (possibly invalid) history document and how many were dropped."""
    records = raw.get("records") if isinstance(raw, dict) else None
    if not isinstance(records, list):
        return [], 0
    kept = [r for r in records if record_problem(r) is None]
    return kept, len(records) - len(kept)


def rebuild_model_doc(model: str, records: list[dict], updated: str) -> dict | None:
    """Model document of ``model`` replayed from its history records (oldest first).

    Values a record flags (at a bound, unconstrained) are not replayed: they never
    became defaults.

    Returns:
        The document (marked ``rebuilt_from_history``), or ``None`` when no record
        of ``model`` stores a value.
    """
    params: dict[str, float] = {}
    provenance: dict[str, Any] = {}
    last = None
    for rec in records:
        if rec["model"] != model:
            continue
        last = rec
        flagged = rec.get("flagged") or {}
        for name, value in rec["final_values"].items():
            if name in flagged:
                continue
            params[name] = float(value)
            provenance[name] = {
                "record_id": rec.get("record_id"),
                "timestamp": rec["timestamp"],
                "dataset": rec["dataset"],
            }
    if not params:
        return None
    doc = model_doc(model, updated)
    doc.update(
        parameters=params,
        provenance=provenance,
        last_record_id=last.get("record_id") if last else None,
        rebuilt_from_history=True,
    )
    return doc


__all__ = [
    "HISTORY_KIND",
    "MODEL_KIND",
    "RECORD_FIELDS",
    "SCHEMA_VERSION",
    "SUMMARY_KIND",
    "check_header",
    "history_doc",
    "model_doc",
    "rebuild_model_doc",
    "record_problem",
    "salvage_records",
    "validate_history_doc",
    "validate_model_doc",
]
