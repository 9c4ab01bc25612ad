"""The store folder on disk: where it is, atomic JSON writes, checked JSON reads.

Every write (:func:`pbufjax.runtime.atomic.atomic_write`) goes to a temporary file in the destination's folder (named
``.pbufjax-tmp-<name>.<pid>.<random>``), is flushed and ``fsync``-ed, then
``os.replace``-d over the destination, and the folder is ``fsync``-ed. A reader
sees the old or the new file, never a half-written one; a writer killed at any
point leaves the previous file in place (plus, at worst, a temporary file that
:func:`remove_stale_temporaries` deletes under the store's lock).

:func:`write_payload` and :func:`before_replace` are the two points at which a
write can be interrupted; tests replace them (``monkeypatch.setattr(files,
"before_replace", ...)``) to simulate a crash or a full disk there.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from pathlib import Path
from typing import Any

from ..runtime import dumps
from ..runtime.atomic import TMP_PREFIX, atomic_write, fsync_dir
from .errors import StoreCorruptError, StoreError

logger = logging.getLogger(__name__)

#: Environment variable naming the store folder (the documented user setting).
STORE_DIR_ENV = "PBUFJAX_STORE_DIR"
#: Store folder used when neither an argument nor the environment names one.
DEFAULT_STORE_DIRNAME = "optimization_results"
#: Name of the history file inside the store folder.
HISTORY_FILENAME = "optimization_history.json"
#: Suffix of the per-model files (``<model>_defaults.json``).
MODEL_FILE_SUFFIX = "_defaults.json"
#: Name of the lock file inside the store folder.
LOCK_FILENAME = ".store.lock"
#: Prefix of the temporary files of :func:`atomic_write_json`.

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")


def resolve_store_dir(store_dir: str | os.PathLike | None = None) -> Path:
    """Store folder (absolute): ``store_dir``, else ``$PBUFJAX_STORE_DIR``, else ``./optimization_results``.

    Example:
        >>> resolve_store_dir("/tmp/s").as_posix()
        '/tmp/s'
    """
    if store_dir is not None and str(store_dir) != "":
        return Path(store_dir).expanduser().absolute()
    env = os.environ.get(STORE_DIR_ENV, "").strip()
    if env:
        return Path(env).expanduser().absolute()
    return Path.cwd() / DEFAULT_STORE_DIRNAME


def model_filename(model: str) -> str:
    """Name of ``model``'s file in the store folder (``<model>_defaults.json``).

    Raises:
        ValueError: ``model`` cannot name a file (letters, digits, ``_ . + -`` only,
            not starting with a punctuation mark).

    Example:
        >>> model_filename("pbuf")
        'pbuf_defaults.json'
    """
    if not isinstance(model, str) or not _SAFE_NAME.match(model):
        raise ValueError(f"model name {model!r} cannot name a store file (letters, digits, '_', '.', '+', '-')")
    return f"{model}{MODEL_FILE_SUFFIX}"


def write_payload(fh, data: bytes) -> None:
    """Write ``data`` to the open temporary file.

    Fault-injection hook: :func:`atomic_write_json` looks it up at every write, so
    replacing this module attribute interrupts writes here (half the bytes written).
    """
    fh.write(data)


def before_replace(tmp_path: Path, target: Path) -> None:
    """Called after the temporary file is synced and before it replaces ``target``. A no-op.

    Fault-injection hook: tests replace this module attribute to kill a writer here.
    """


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as indented strict JSON to ``path`` atomically.

    ``obj`` is converted with :func:`pbufjax.runtime.to_jsonable` (non-finite
    numbers become ``"inf"``, ``"-inf"``, ``"nan"``). The content goes to a
    temporary file in the same folder, which is flushed, ``fsync``-ed and
    ``os.replace``-d over ``path``; the folder is then ``fsync``-ed. On any error
    the temporary file is removed and ``path`` is unchanged. A file that already
    exists keeps its permission bits (a store made private with ``chmod 600``
    stays private); a new file gets the usual ``0o666 & ~umask``.

    Args:
        path: destination file (its folder is created if needed).
        obj: object with a JSON form.

    Returns:
        The destination path.

    Raises:
        TypeError: ``obj`` holds a value with no JSON form (nothing is written).
        OSError: the folder cannot be written (``path`` is unchanged).
    """
    path = Path(path)
    data = (dumps(obj, indent=2) + "\n").encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    # the hooks are looked up at every write, so tests can replace them on this module
    return atomic_write(path, lambda fh: write_payload(fh, data), keep_mode=True,
                        before_replace=lambda tmp, target: before_replace(tmp, target))


def read_json(path: Path) -> Any | None:
    """Decoded JSON of a store file, ``None`` when it does not exist.

    Raises:
        StoreCorruptError: the file is not UTF-8 or not valid JSON (it is left untouched).
        StoreError: the file exists but cannot be read.
    """
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
        raise StoreCorruptError(path, f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None


def remove_stale_temporaries(folder: Path) -> None:
    """Delete temporary files left by killed writers.

    Call only with the store's lock held: every store write happens under the lock,
    so any temporary file then present belongs to a writer that died.
    """
    for tmp in folder.glob(f"{TMP_PREFIX}*"):
        with contextlib.suppress(OSError):
            tmp.unlink()
            logger.info("removed stale temporary file %s", tmp)


__all__ = [
    "DEFAULT_STORE_DIRNAME",
    "HISTORY_FILENAME",
    "LOCK_FILENAME",
    "MODEL_FILE_SUFFIX",
    "STORE_DIR_ENV",
    "TMP_PREFIX",
    "atomic_write_json",
    "before_replace",
    "fsync_dir",
    "model_filename",
    "read_json",
    "remove_stale_temporaries",
    "resolve_store_dir",
    "write_payload",
]
