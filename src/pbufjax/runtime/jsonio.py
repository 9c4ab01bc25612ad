"""The package's one JSON convention.

Every file and every ``--json`` output pbufjax writes is strict JSON (RFC 8259:
no ``NaN``/``Infinity`` literals). Numbers that are not finite are written as the
strings ``"inf"``, ``"-inf"`` and ``"nan"``; :func:`from_jsonable` turns them back
into floats. Arrays (numpy, JAX) become nested lists, tuples and sets lists (sets
sorted), mappings objects with string keys, paths and dates strings, enums their
value, NamedTuples and dataclasses objects.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import json
import math
import numbers
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

#: Spellings of the non-finite numbers in JSON.
NONFINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def _number(f: float) -> float | str:
    if math.isfinite(f):
        return f
    return "nan" if math.isnan(f) else ("inf" if f > 0 else "-inf")


def to_jsonable(value: Any, key: str = "value", *, strict: bool = True) -> Any:
    """Convert a result structure to plain JSON types (the package's one convention).

    Args:
        value: object to convert.
        key: its name, used in the error message.
        strict: raise for an object with no JSON form; ``False`` writes ``str(value)``.

    Returns:
        An object made of dict, list, str, int, float, bool and None only.

    Raises:
        TypeError: ``value`` (named by ``key``) has no JSON form and ``strict`` is true.

    Example:
        >>> to_jsonable({"chi2": float("inf"), "x": np.array([1.0, 2.0])})
        {'chi2': 'inf', 'x': [1.0, 2.0]}
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value, key, strict=strict)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return _number(float(value))
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, f"{key}.{k}", strict=strict) for k, v in value.items()}
    if hasattr(value, "_asdict"):
        return to_jsonable(value._asdict(), key, strict=strict)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable({f.name: getattr(value, f.name) for f in dataclasses.fields(value)}, key, strict=strict)
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [to_jsonable(v, f"{key}[{i}]", strict=strict) for i, v in enumerate(items)]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if hasattr(value, "__array__") or isinstance(value, np.generic):
        arr = np.asarray(value)
        if arr.dtype.kind in "biuf":
            return to_jsonable(arr.item() if arr.ndim == 0 else arr.tolist(), key, strict=strict)
        if arr.dtype.kind in "US":
            return arr.tolist()
    if not strict:
        return str(value)
    raise TypeError(f"{key} has type {type(value).__name__}, which cannot be written as JSON")


def from_jsonable(value: Any) -> Any:
    """Inverse of :func:`to_jsonable` for numbers: ``"inf"``, ``"-inf"``, ``"nan"`` become floats.

    Example:
        >>> from_jsonable({"chi2": "inf", "names": ["H0"]})
        {'chi2': inf, 'names': ['H0']}
    """
    if isinstance(value, str):
        return NONFINITE.get(value, value)
    if isinstance(value, Mapping):
        return {k: from_jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_jsonable(v) for v in value]
    return value


def dumps(value: Any, *, indent: int | None = 2, strict: bool = True) -> str:
    """Strict JSON text of ``value`` (see :func:`to_jsonable`).

    Example:
        >>> dumps({"a": float("nan")}, indent=None)
        '{"a": "nan"}'
    """
    return json.dumps(to_jsonable(value, strict=strict), indent=indent, allow_nan=False)


__all__ = ["NONFINITE", "dumps", "from_jsonable", "to_jsonable"]
