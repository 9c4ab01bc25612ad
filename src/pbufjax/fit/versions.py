"""Versions of the numerical libraries behind a fit (provenance)."""

from __future__ import annotations

import importlib.metadata

from ..runtime import register_cache

_VERSIONS: dict[str, str] = {}

#: Libraries recorded in every fit's provenance (solver libraries are added when present).
_LIBRARIES = ("jax", "optax", "scipy", "numpy", "optimistix")


def library_versions() -> dict[str, str]:
    """``{"pbufjax": ..., "jax": ..., "optax": ..., "scipy": ..., "numpy": ..., ...}``.

    Read from the installed distributions' metadata (nothing is imported); a library that
    is not installed is left out.
    """
    if not _VERSIONS:
        from .. import __version__

        _VERSIONS["pbufjax"] = __version__
        for lib in _LIBRARIES:
            try:
                _VERSIONS[lib] = importlib.metadata.version(lib)
            except importlib.metadata.PackageNotFoundError:  # pragma: no cover - optional library
                pass
    return dict(_VERSIONS)


register_cache("fit.library_versions", _VERSIONS.clear)

__all__ = ["library_versions"]
