"""One owner for every in-process cache.

Each module that keeps a cache registers the function that empties it;
:func:`clear_caches` (also ``pbufjax.clear_caches``) empties them all, e.g. after
data files were replaced on disk or to release memory in a long session.
"""

from __future__ import annotations

from collections.abc import Callable

_CLEARERS: dict[str, Callable[[], None]] = {}


def register_cache(name: str, clear: Callable[[], None]) -> Callable[[], None]:
    """Register ``clear`` (no arguments) as the function that empties cache ``name``.

    Registering the same name again replaces the earlier function (module reloads).

    Returns:
        ``clear``, so that this can decorate the clearing function.
    """
    if not callable(clear):
        raise TypeError(f"cache {name!r}: clear must be callable, got {type(clear).__name__}")
    _CLEARERS[str(name)] = clear
    return clear


def registered_caches() -> list[str]:
    """Names of the registered caches, sorted."""
    return sorted(_CLEARERS)


def clear_caches() -> list[str]:
    """Empty every registered in-process cache (loaded data, built likelihoods, compiled fits).

    Stored programs on disk are not touched (see ``pbufjax.compile_cache.clear``).

    Returns:
        The names of the caches that were cleared.
    """
    for clear in list(_CLEARERS.values()):
        clear()
    return registered_caches()


__all__ = ["clear_caches", "register_cache", "registered_caches"]
