"""Persistent JAX compilation cache: a second process does not recompile.

XLA compilation of the likelihoods, gradients and Hessians dominates the time of
a first fit. JAX can store compiled executables on disk and reload them in a new
process; the fit, batch and sampling entry points switch this on at their first call
(:func:`enable_from_environment`; importing pbufjax changes no JAX setting but float64 and
inline CPU dispatch,
see :mod:`pbufjax`).

Location (first that applies):

1. ``$PBUFJAX_COMPILE_CACHE_DIR``;
2. ``$XDG_CACHE_HOME/pbufjax/jax_compilation_cache``;
3. ``~/.cache/pbufjax/jax_compilation_cache``.

The traced programs themselves are stored next to it (``<cache>/exported``, see
:mod:`pbufjax.runtime.stored_programs`), so that a later process skips tracing as well.

Opt out of both with ``PBUFJAX_NO_COMPILE_CACHE=1``. A cache directory already chosen
by the user (``jax.config.update("jax_compilation_cache_dir", ...)`` or
``JAX_COMPILATION_CACHE_DIR``) is respected and left alone. The cache is safe to
delete at any time (:func:`clear`).

A folder that cannot be created or written (read-only, on a full or read-only disk) turns
the cache off for the process with one warning, logged once: JAX would otherwise warn at
every compilation that it could not write an entry.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)

#: Environment variable that disables the cache when set to 1/true/yes.
ENV_DISABLE = "PBUFJAX_NO_COMPILE_CACHE"
#: Environment variable that sets the cache directory.
ENV_DIR = "PBUFJAX_COMPILE_CACHE_DIR"

_state: dict = {"enabled": False, "path": None, "owner": None, "unusable": set()}


def default_cache_dir() -> Path:
    """The cache directory pbufjax uses (see the module docstring)."""
    env = os.environ.get(ENV_DIR)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "pbufjax" / "jax_compilation_cache"


def _disabled_by_env() -> bool:
    return os.environ.get(ENV_DISABLE, "").strip().lower() in ("1", "true", "yes", "on")


def enable(path: str | os.PathLike | None = None, *, min_compile_time_secs: float = 0.0) -> Path | None:
    """Turn the persistent compilation cache on.

    Args:
        path: cache directory (default :func:`default_cache_dir`).
        min_compile_time_secs: only cache executables that took at least this long
            to compile (JAX's default is 1 s; 0 caches everything, which is what
            makes a second process fast).

    Returns:
        The directory in use, or None when it cannot be created or written (one warning
        per folder and process).
    """
    import jax

    target = Path(path).expanduser() if path is not None else default_cache_dir()
    problem = _unwritable(target)
    if problem is not None:
        if str(target) not in _state["unusable"]:
            _state["unusable"].add(str(target))
            logger.warning("compilation cache off: %s (set %s to a writable folder, or %s=1)",
                           problem, ENV_DIR, ENV_DISABLE)
        return None
    jax.config.update("jax_compilation_cache_dir", str(target))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", float(min_compile_time_secs))
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    _reset_jax_cache()
    _state.update(enabled=True, path=target, owner="pbufjax")
    logger.debug("persistent compilation cache at %s", target)
    return target


def _unwritable(target: Path) -> str | None:
    """Why ``target`` cannot hold the cache (created if needed; a probe file is written and removed)."""
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"cannot create {target} ({exc.strerror or exc})"
    try:
        with tempfile.NamedTemporaryFile(dir=target, prefix=".probe-"):
            pass
    except OSError as exc:
        return f"cannot write to {target} ({exc.strerror or exc})"
    return None


def _reset_jax_cache() -> None:
    """Make JAX re-read the cache settings (it fixes them at the first compilation)."""
    try:
        from jax.experimental.compilation_cache import compilation_cache as _cc

        _cc.reset_cache()
    except Exception:  # pragma: no cover - older/newer JAX without it
        pass


def disable() -> None:
    """Stop writing to / reading from the persistent cache (for this process)."""
    import jax

    if _state["owner"] == "pbufjax":
        jax.config.update("jax_compilation_cache_dir", None)
        _reset_jax_cache()
    _state.update(enabled=False, path=None, owner=None)


def enable_from_environment() -> Path | None:
    """Enable the cache unless ``PBUFJAX_NO_COMPILE_CACHE`` is set or the user already
    configured a JAX cache directory (then that one is used as is)."""
    import jax

    if _state["enabled"]:
        return _state["path"]
    if _disabled_by_env():
        return None
    existing = jax.config.jax_compilation_cache_dir
    if existing:
        _state.update(enabled=True, path=Path(existing), owner="user")
        return Path(existing)
    return enable()


def status() -> dict:
    """``{"enabled": bool, "path": str | None, "owner": "pbufjax" | "user" | None, "disabled_by_env": bool}``."""
    return {"enabled": _state["enabled"], "path": str(_state["path"]) if _state["path"] else None,
            "owner": _state["owner"], "disabled_by_env": _disabled_by_env()}


def clear(path: str | os.PathLike | None = None) -> None:
    """Delete the cache directory (default :func:`default_cache_dir`)."""
    target = Path(path).expanduser() if path is not None else default_cache_dir()
    if target.exists():
        shutil.rmtree(target)


__all__ = ["ENV_DIR", "ENV_DISABLE", "clear", "default_cache_dir", "disable", "enable", "enable_from_environment",
           "status"]
