"""Atomic file writes: the one way every layer replaces a file (the parameter store, campaign
chunks and manifests, stored programs).

The content goes to a new temporary file in the destination's folder (so the rename cannot
cross file systems), which is flushed and ``fsync``-ed and then ``os.replace``-d over the
destination (atomic on POSIX: a reader sees the old file or the new one, never a part); the
folder is then ``fsync``-ed so that the rename itself survives a power cut. On any error,
an interrupt included, the temporary file is removed and the destination is unchanged.
"""

from __future__ import annotations

import contextlib
import os
import stat
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

#: Prefix of the temporary files (hidden; a folder's leftovers can be found by it).
TMP_PREFIX = ".pbufjax-tmp-"


def fsync_dir(path: str | os.PathLike) -> None:
    """``fsync`` a folder so that a rename inside it is durable (POSIX; a no-op elsewhere)."""
    if os.name != "posix":  # pragma: no cover - directory fsync is POSIX-only
        return
    fd = os.open(str(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike, content: bytes | Callable[[BinaryIO], object], *,
                 keep_mode: bool = False, sync_dir: bool = True,
                 before_replace: Callable[[Path, Path], object] | None = None) -> Path:
    """Replace ``path`` atomically by ``content``.

    Args:
        path: destination file (its folder must exist).
        content: the bytes, or ``write(file)`` writing them to the open temporary file.
        keep_mode: a destination that exists keeps its permission bits (a file made private
            with ``chmod 600`` stays private); otherwise, and for a new file, the usual
            ``0o666 & ~umask``.
        sync_dir: ``fsync`` the folder after the rename.
        before_replace: called with ``(temporary file, destination)`` after the temporary
            file is synced and before the rename (fault injection in tests).

    Returns:
        The destination path.

    Raises:
        OSError: the folder cannot be written (the destination is unchanged).
    """
    path = Path(path)
    tmp = path.parent / f"{TMP_PREFIX}{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    mode = None
    if keep_mode:
        with contextlib.suppress(OSError):
            mode = stat.S_IMODE(path.stat().st_mode)
    try:
        with open(tmp, "xb") as fh:
            if mode is not None:
                os.chmod(tmp, mode)
            if callable(content):
                content(fh)
            else:
                fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        if before_replace is not None:
            before_replace(tmp, path)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if sync_dir:
        fsync_dir(path.parent)
    return path


__all__ = ["TMP_PREFIX", "atomic_write", "fsync_dir"]
