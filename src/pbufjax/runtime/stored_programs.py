"""Stored traced programs: a later process skips tracing as well as compilation.

The persistent compilation cache (:mod:`pbufjax.compile_cache`) stores XLA executables,
but JAX still traces and lowers the Python function in every new process to find the
cache entry, which for the differentiated likelihoods takes seconds. This module stores
the traced program itself with :mod:`jax.export` (StableHLO, serialized with
flatbuffers) next to the compilation cache, in ``<cache>/exported``. A later process
deserializes it, and compiling it hits the compilation cache: no Python tracing at all.

A stored program is only valid for the exact code, data and configuration it was traced
from. Its file name is a SHA-256 over

* the versions of jax and jaxlib and a digest of every source and data file of the
  installed ``pbufjax`` package, taken at the first stored program a process builds
  (not at import: importing pbufjax reads no file). Any code change invalidates
  everything. A process runs the code it imported, so the files must not have changed
  since ``import pbufjax``: a file modified after that moment (its ``st_mtime_ns`` is
  later than :data:`pbufjax.runtime.clock.IMPORTED_NS`), or changed since the digest
  was taken (size or mtime), turns stored programs off for the rest of the process —
  nothing is loaded or filed under a digest of code the process is not running;
* the caller's key, which for a fit problem holds the model, its numeric defaults (they
  are compile-time constants), the recombination method, the free, traced and nuisance
  parameters, the covariance scaling and a digest of every array of every dataset block
  (:class:`pbufjax.fit.FitProblem` builds it);
* the shapes and dtypes of the arguments.

An entry is verified before use and at its first call, and discarded and rebuilt when
anything is off (its format: :mod:`pbufjax.runtime.program_store`): a stored program is
never the only, unchecked place a data value comes from.

Fit problems that involve code outside the package (a model registered by the user, a
user χ² function for a dataset) are never stored. The cache is used whenever the
compilation cache is enabled (``PBUFJAX_NO_COMPILE_CACHE=1`` turns both off); delete the
folder at any time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from . import clock, compile_cache, program_store
from .caches import register_cache

logger = logging.getLogger(__name__)

#: Sub-folder of the compilation cache holding the stored programs.
SUBDIR = "exported"


def directory() -> Path | None:
    """Folder of the stored programs, or None when the compilation cache is off."""
    st = compile_cache.status()
    if not st["enabled"] or not st["path"]:
        return None
    return Path(st["path"]) / SUBDIR


PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def _package_files(root: Path) -> list[Path]:
    return [p for p in sorted(root.rglob("*")) if p.is_file() and p.suffix in (".py", ".json")]


def package_fingerprint(root: str | os.PathLike | None = None) -> str:
    """SHA-256 of jax/jaxlib versions, the x64 flag and every ``.py``/``.json`` file under
    ``root`` (default: the installed package), read afresh at every call."""
    import jax
    import jaxlib

    h = hashlib.sha256()
    h.update(f"jax={jax.__version__};jaxlib={jaxlib.__version__};x64={jax.config.jax_enable_x64}".encode())
    root = PACKAGE_ROOT if root is None else Path(root)
    for path in _package_files(root):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _stat_snapshot(root: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for path in _package_files(root):
        st = path.stat()
        out[str(path)] = (st.st_mtime_ns, st.st_size)
    return out


_PINNED: dict[str, Any] = {}


def _clear_pin() -> None:
    _PINNED.clear()


register_cache("stored_programs.fingerprint", _clear_pin)


def code_fingerprint() -> str:
    """Fingerprint of the package code this process runs (taken at the first call, then pinned).

    See :func:`code_is_current` for when it can no longer be trusted.
    """
    if "digest" not in _PINNED:
        _PINNED["snapshot"] = _stat_snapshot(PACKAGE_ROOT)
        _PINNED["digest"] = package_fingerprint()
    return _PINNED["digest"]


def code_is_current() -> bool:
    """True while the package files on disk are the ones this process imported.

    False when any file was modified after ``import pbufjax`` or changed (mtime or size)
    since :func:`code_fingerprint` was taken: the process then runs code that no digest
    of the files describes, and stored programs are neither loaded nor written.
    Costs one ``stat`` per package file.
    """
    code_fingerprint()
    now = _stat_snapshot(PACKAGE_ROOT)
    if now != _PINNED["snapshot"]:
        return False
    return all(mtime <= clock.IMPORTED_NS for mtime, _ in now.values())


def array_digest(*arrays: Any) -> str:
    """SHA-256 of arrays' dtypes, shapes and bytes (``None`` and strings allowed)."""
    h = hashlib.sha256()
    for a in arrays:
        if a is None or isinstance(a, str):
            h.update(repr(a).encode())
            continue
        arr = np.ascontiguousarray(np.asarray(a))
        h.update(f"{arr.dtype.str}{arr.shape}".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def _specs(args) -> list:
    import jax

    return [jax.ShapeDtypeStruct(np.shape(a), a.dtype if hasattr(a, "dtype") else np.result_type(a)) for a in args]


class StoredJit:
    """``jax.jit(fn)``, except that the traced program is stored and reused across processes.

    Built lazily at the first call (the argument shapes come from it). ``key`` None, the
    cache being off, or any failure to export or load falls back to a plain ``jax.jit``.

    Args:
        fn: pure function of arrays.
        key: JSON-serializable description of everything ``fn`` closes over (see the module
            docstring), or None for no storing.
        meta: optional ``meta()`` called after a fresh trace; its JSON-serializable result is
            stored with the program and returned by :attr:`meta` after a load.
    """

    def __init__(self, fn: Callable, key: Any, meta: Callable[[], Any] | None = None):
        self.fn = fn
        self.key = key
        self._meta_fn = meta
        self.meta: Any = None
        self.source: str | None = None  # "stored", "exported" or "jit" once built
        self._call: Callable | None = None

    def __call__(self, *args):
        if self._call is None:
            self._call = self._build(args)
        return self._call(*args)

    def _build(self, args) -> Callable:
        folder = directory() if self.key is not None else None
        if folder is None:
            return self._plain()
        try:
            specs = _specs(args)
            key_text = json.dumps([code_fingerprint(), self.key, [(list(s.shape), str(s.dtype)) for s in specs]],
                                  sort_keys=True, default=str)
            name = hashlib.sha256(key_text.encode()).hexdigest()
            key_sha = hashlib.sha256(("inputs:" + key_text).encode()).hexdigest()
            if not code_is_current():
                logger.debug("package files changed since import: stored programs off")
                return self._plain()
            loaded = self._load(folder, name, key_sha)
            if loaded is not None:
                return loaded
            return self._export(folder, name, key_sha, specs)
        except Exception as exc:  # never let the cache break a fit
            logger.debug("stored program unavailable (%s: %s); tracing instead", type(exc).__name__, exc)
            return self._plain()

    def _load(self, folder: Path, name: str, key_sha: str) -> Callable | None:
        """The verified stored program, checked again at its first call; None if there is none."""
        import jax
        from jax import export

        entry = program_store.read_entry(folder, name, key_sha)
        if entry is None:
            return None
        payload, meta = entry
        if (self._meta_fn is None) != (meta is None):
            program_store.warn_once("a damaged entry was discarded and is rebuilt", f"{name}: metadata mismatch")
            program_store.discard(folder, name)
            return None
        try:
            exp = export.deserialize(bytearray(payload))
        except Exception as exc:
            program_store.warn_once("an entry that does not deserialize was discarded and is rebuilt",
                                    f"{name}: {type(exc).__name__}: {exc}")
            program_store.discard(folder, name)
            return None
        jitted = jax.jit(exp.call)
        self.meta, self.source = meta, "stored"
        state = {"checked": False}

        def call(*args):
            if state["checked"]:
                return jitted(*args)
            try:
                out = jax.block_until_ready(jitted(*args))
            except Exception as exc:  # a program that fails its first call is not used again
                program_store.warn_once("an entry that fails its first call was discarded and is rebuilt",
                                        f"{name}: {type(exc).__name__}: {exc}")
                program_store.discard(folder, name)
                self.meta = None
                self._call = self._export(folder, name, key_sha, _specs(args))
                return self._call(*args)
            state["checked"] = True
            return out

        return call

    def _export(self, folder: Path, name: str, key_sha: str, specs) -> Callable:
        """Trace ``fn`` afresh, store it (when the code and the folder allow), return it compiled."""
        import jax
        from jax import export

        exp = export.export(jax.jit(self.fn))(*specs)
        if self._meta_fn is not None:
            self.meta = self._meta_fn()
        self.source = "exported"
        if not code_is_current():
            logger.debug("package files changed since import: program not stored")
        else:
            program_store.write_entry(folder, name, key_sha, exp.serialize(), self.meta)
        return jax.jit(exp.call)

    def _plain(self) -> Callable:
        import jax

        jitted = jax.jit(self.fn)
        self.source = "jit"
        if self._meta_fn is None:
            return jitted

        def call(*args):
            out = jitted(*args)
            if self.meta is None:
                self.meta = self._meta_fn()
            return out

        return call


__all__ = ["PACKAGE_ROOT", "SUBDIR", "StoredJit", "array_digest", "code_fingerprint", "code_is_current", "directory",
           "package_fingerprint"]
