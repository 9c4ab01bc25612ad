"""Stored traced programs (public module; the implementation is :mod:`pbufjax.runtime.stored_programs`)."""

from .runtime.stored_programs import (
    PACKAGE_ROOT as PACKAGE_ROOT,
    SUBDIR as SUBDIR,
    StoredJit as StoredJit,
    array_digest as array_digest,
    code_fingerprint as code_fingerprint,
    code_is_current as code_is_current,
    directory as directory,
    package_fingerprint as package_fingerprint,
)

__all__ = ["PACKAGE_ROOT", "SUBDIR", "StoredJit", "array_digest", "code_fingerprint", "code_is_current", "directory",
           "package_fingerprint"]
