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
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from . import clock, compile_cache
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


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


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
        import jax

        folder = directory() if self.key is not None else None
        if folder is None:
            return self._plain()
        try:
            specs = _specs(args)
            name = hashlib.sha256(json.dumps([code_fingerprint(), self.key, [(list(s.shape), str(s.dtype))
                                                                              for s in specs]],
                                             sort_keys=True, default=str).encode()).hexdigest()
            if not code_is_current():
                logger.debug("package files changed since import: stored programs off")
                return self._plain()
            path = folder / f"{name}.jaxexp"
            meta_path = folder / f"{name}.json"
            from jax import export

            if path.exists() and (self._meta_fn is None or meta_path.exists()):
                exp = export.deserialize(bytearray(path.read_bytes()))
                if self._meta_fn is not None:
                    self.meta = json.loads(meta_path.read_text())
                self.source = "stored"
            else:
                exp = export.export(jax.jit(self.fn))(*specs)
                if self._meta_fn is not None:
                    self.meta = self._meta_fn()
                self.source = "exported"
                if not code_is_current():
                    logger.debug("package files changed since import: program not stored")
                else:
                    if self._meta_fn is not None:
                        _write_atomic(meta_path, json.dumps(self.meta).encode())
                    _write_atomic(path, exp.serialize())
            return jax.jit(exp.call)
        except Exception as exc:  # never let the cache break a fit
            logger.debug("stored program unavailable (%s: %s); tracing instead", type(exc).__name__, exc)
            return self._plain()

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
