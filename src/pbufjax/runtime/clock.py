"""The package's one timestamp format: ISO 8601 in UTC with a ``Z`` suffix."""

from __future__ import annotations

import datetime as _dt
import time as _time

#: Wall-clock time (ns since the epoch) at which this process imported pbufjax. Stored compiled
#: programs compare the package files' modification times against it (a file edited later means
#: the process no longer runs the code on disk).
IMPORTED_NS: int = _time.time_ns()


def utc_now(timespec: str = "microseconds") -> str:
    """Current UTC time as ISO 8601 with a ``Z`` suffix.

    Args:
        timespec: precision, as for :meth:`datetime.datetime.isoformat`
            (``"seconds"``, ``"milliseconds"``, ``"microseconds"``).

    Returns:
        e.g. ``"2026-12-01T20:10:00.123456Z"``.

    Example:
        >>> utc_now().endswith("Z")
        True
    """
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec=timespec).replace("+00:00", "Z")


def parse_timestamp(value: str) -> _dt.datetime:
    """Parse an ISO 8601 timestamp; a naive one is taken as UTC.

    Raises:
        TypeError: ``value`` is not a string.
        ValueError: ``value`` is not ISO 8601.

    Example:
        >>> parse_timestamp("2025-10-22T14:42:00Z").year
        2025
    """
    if not isinstance(value, str):
        raise TypeError(f"timestamp must be an ISO 8601 string, got {type(value).__name__}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        stamp = _dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"timestamp {value!r} is not ISO 8601 (e.g. 2025-10-22T14:42:00Z)") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=_dt.timezone.utc)
    return stamp


__all__ = ["IMPORTED_NS", "parse_timestamp", "utc_now"]
