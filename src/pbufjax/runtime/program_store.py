"""The on-disk format of stored programs: verified entries that are discarded, never trusted, when anything is off.

An entry named ``<name>`` (a SHA-256 of everything the program was built from, see
:mod:`pbufjax.runtime.stored_programs`) is two files in the store folder:

* ``<name>.<sha12>.jaxexp`` — the serialized program, content-addressed: ``<sha12>`` is the
  start of the SHA-256 of its own bytes, so two processes writing the same entry at once
  never write into the same payload file;
* ``<name>.json`` — the manifest, written last and atomically (it is the commit marker):
  ``{"format", "name", "key_sha256", "payload", "payload_sha256", "payload_size", "meta",
  "created", "entry_sha256"}``, where ``entry_sha256`` covers every other field (so the
  stored ``meta``, e.g. the layout of a packed output, cannot change unnoticed either).

:func:`read_entry` accepts an entry only when the manifest has exactly this schema, names
this entry and the SHA-256 of the caller's key, and the payload file has the recorded size and
SHA-256. Anything else — tampering, truncation, a flipped bit, a manifest of junk, a missing
payload — makes it return ``None`` after removing the entry's files (so the caller rebuilds
and rewrites it) and logging the reason once per process. A store folder that is read-only or
full makes :func:`write_entry` return ``False`` (logged once); the caller then simply keeps
the program it built in memory.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from .atomic import atomic_write
from .clock import utc_now

logger = logging.getLogger("pbufjax.runtime.stored_programs")

#: Version of the entry format (an entry of another version is discarded).
FORMAT = 2

_MANIFEST_KEYS = {"format", "name", "key_sha256", "payload", "payload_sha256", "payload_size", "meta", "created",
                  "entry_sha256"}


def _entry_digest(doc: dict) -> str:
    body = {k: v for k, v in doc.items() if k != "entry_sha256"}
    return sha256_bytes(json.dumps(body, sort_keys=True, allow_nan=False).encode())
_REPORTED: set[str] = set()


def warn_once(reason: str, detail: str = "") -> None:
    """Log ``reason`` (with ``detail`` the first time) once per process."""
    if reason in _REPORTED:
        logger.debug("%s %s", reason, detail)
        return
    _REPORTED.add(reason)
    logger.warning("stored programs: %s%s", reason, f" ({detail})" if detail else "")


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    atomic_write(path, data, sync_dir=False)  # a lost entry is rebuilt: no folder sync


def discard(folder: Path, name: str) -> None:
    """Remove every file of entry ``name`` (manifest and payloads); errors are ignored."""
    for path in list(folder.glob(f"{name}.*")):
        try:
            path.unlink()
        except OSError:
            pass


def write_entry(folder: Path, name: str, key_sha256: str, payload: bytes, meta: Any = None) -> bool:
    """Store ``payload`` as entry ``name``; True on success, False when the folder cannot be written."""
    digest = sha256_bytes(payload)
    payload_name = f"{name}.{digest[:12]}.jaxexp"
    manifest = {"format": FORMAT, "name": name, "key_sha256": key_sha256, "payload": payload_name,
                "payload_sha256": digest, "payload_size": len(payload), "meta": meta, "created": utc_now()}
    try:
        manifest["entry_sha256"] = _entry_digest(manifest)
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomic(folder / payload_name, payload)
        _write_atomic(folder / f"{name}.json", json.dumps(manifest, sort_keys=True, allow_nan=False).encode())
    except (OSError, TypeError, ValueError) as exc:
        warn_once("the store folder cannot be written; programs are kept in memory only",
                  f"{folder}: {type(exc).__name__}: {exc}")
        return False
    return True


def read_entry(folder: Path, name: str, key_sha256: str) -> tuple[bytes, Any] | None:
    """``(payload, meta)`` of a verified entry, or None (no entry, or a bad one, which is removed)."""
    manifest_path = folder / f"{name}.json"
    try:
        text = manifest_path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        warn_once("an entry could not be read and is ignored", f"{manifest_path}: {exc}")
        return None
    problem = None
    try:
        doc = json.loads(text)
    except (UnicodeDecodeError, ValueError):
        doc, problem = None, "manifest is not JSON"
    if problem is None:
        if not isinstance(doc, dict) or set(doc) != _MANIFEST_KEYS:
            problem = "manifest has not the expected fields"
        elif doc["entry_sha256"] != _entry_digest(doc):
            problem = "manifest does not match its own SHA-256"
        elif doc["format"] != FORMAT or doc["name"] != name:
            problem = "manifest of another format or entry"
        elif doc["key_sha256"] != key_sha256:
            problem = "manifest was built from other inputs"
        elif (not isinstance(doc["payload"], str) or not isinstance(doc["payload_sha256"], str)
              or not isinstance(doc["payload_size"], int) or isinstance(doc["payload_size"], bool)
              or Path(doc["payload"]).name != doc["payload"] or not doc["payload"].startswith(f"{name}.")):
            problem = "manifest fields have the wrong types"
    payload = b""
    if problem is None:
        try:
            payload = (folder / doc["payload"]).read_bytes()
        except OSError:
            problem = "payload file is missing or unreadable"
    if problem is None and len(payload) != doc["payload_size"]:
        problem = f"payload has {len(payload)} bytes, the manifest says {doc['payload_size']}"
    if problem is None and sha256_bytes(payload) != doc["payload_sha256"]:
        problem = "payload bytes do not match their SHA-256"
    if problem is not None:
        warn_once("a damaged entry was discarded and is rebuilt", f"{manifest_path.name}: {problem}")
        discard(folder, name)
        return None
    return payload, doc["meta"]


__all__ = ["FORMAT", "discard", "read_entry", "sha256_bytes", "warn_once", "write_entry"]
