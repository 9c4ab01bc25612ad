"""Building an OptimizationRecord: the checks an update passes before anything is written.

An OptimizationRecord (the API reference's structure) holds ``timestamp, model,
dataset, optimized_params, final_values, chi2_improvement, convergence_status``
plus ``record_id``, ``recorded_at`` (when it was written, UTC) and the remaining
free-form ``metadata``.
"""

from __future__ import annotations

import logging
import math
import numbers
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ..cosmology.parameters import STATIC_PARAMS, get_defaults
from ..runtime import parse_timestamp, to_jsonable, utc_now
from .files import model_filename
from .values import flag_lists, flagged_parameters

logger = logging.getLogger(__name__)


def check_finite_number(value: Any, where: str) -> float:
    """``value`` as a finite float (real scalars only; booleans refused).

    Raises:
        TypeError: not a real scalar (the message starts with ``where``).
        ValueError: not finite.

    Example:
        >>> check_finite_number(np.float64(1.5), "x")
        1.5
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, (numbers.Real, np.generic))
        and not (hasattr(value, "__array__") and np.ndim(value) == 0)
    ):
        raise TypeError(f"{where} must be a real number, got {type(value).__name__} ({value!r})")
    f = float(np.asarray(value))
    if not math.isfinite(f):
        raise ValueError(f"{where} must be finite, got {f}")
    return f


def effective_optimize_list(optimize: Iterable[str] | None, frozen: Iterable[str] | None) -> list[str]:
    """``optimize`` without the ``frozen`` parameters (frozen wins), order kept, duplicates dropped.

    Example:
        >>> effective_optimize_list(["H0", "Om0", "H0", "ns"], ["Om0"])
        ['H0', 'ns']
    """
    frozen_set = set(frozen or ())
    out: list[str] = []
    for name in optimize or ():
        if name not in frozen_set and name not in out:
            out.append(name)
    return out


def check_update(
    model: str, optimized_params: Mapping[str, Any], optimization_metadata: Mapping[str, Any] | None
) -> tuple[dict[str, float], dict[str, Any]]:
    """Check an update of ``model``'s stored values.

    Args:
        model: model name.
        optimized_params: ``{parameter: value}``.
        optimization_metadata: free-form provenance; ``frozen_parameters`` lists
            parameters whose values are not stored; ``bounds_reached`` and
            ``unconstrained`` (or ``parameter_bounds_info["bounds_reached"]``) list
            parameters that are recorded but not stored as defaults
            (:mod:`pbufjax.store.values`).

    Returns:
        ``(values, metadata)``: the values to store (frozen ones dropped) and a copy
        of the metadata.

    Raises:
        ValueError: unknown model or parameter, non-finite value, everything frozen.
        TypeError: a value or the metadata of the wrong type.
    """
    defaults = get_defaults(model)  # ValueError for unknown models
    model_filename(model)
    if not isinstance(optimized_params, Mapping) or not optimized_params:
        raise ValueError("optimized_params must be a non-empty mapping of parameter name -> value")
    if optimization_metadata is None:
        optimization_metadata = {}
    if not isinstance(optimization_metadata, Mapping):
        raise TypeError(f"optimization_metadata must be a mapping, got {type(optimization_metadata).__name__}")
    meta = dict(optimization_metadata)
    valid = sorted(set(defaults) - set(STATIC_PARAMS))
    frozen = meta.get("frozen_parameters") or []
    if isinstance(frozen, str) or not all(isinstance(f, str) for f in frozen):
        raise TypeError("optimization_metadata['frozen_parameters'] must be a list of parameter names")
    values: dict[str, float] = {}
    for name, value in optimized_params.items():
        if name not in valid:
            raise ValueError(f"unknown parameter {name!r} for model {model!r}; valid parameters: {', '.join(valid)}")
        number = check_finite_number(value, f"optimized value of {name!r}")
        if name in frozen:
            logger.info("parameter %r is frozen; its value is not stored", name)
            continue
        values[name] = number
    if not values:
        raise ValueError(f"every optimized parameter is frozen ({', '.join(sorted(frozen))}); nothing to store")
    flag_lists(meta)  # TypeError for malformed bounds_reached / unconstrained, before anything is written
    return values, meta


def make_record(model: str, values: Mapping[str, float], metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The OptimizationRecord of checked ``values`` (see :func:`check_update`).

    Keys of ``metadata`` with a meaning: ``timestamp`` (ISO 8601, default now),
    ``chi2_improvement``, ``convergence_status`` (default ``"unknown"``),
    ``dataset`` or ``datasets`` (else ``optimization_source``, else
    ``"unspecified"``), ``bounds_reached`` and ``unconstrained`` (they become the
    record's ``flagged``: ``{name: reason}`` for the values that are recorded but not
    stored as defaults); the rest is kept as ``metadata``.

    Raises:
        ValueError: a malformed timestamp or a non-finite ``chi2_improvement``.
        TypeError: a metadata value of the wrong type.
    """
    meta = dict(metadata)
    flagged = flagged_parameters(values, *flag_lists(meta))
    meta.pop("bounds_reached", None)
    meta.pop("unconstrained", None)
    timestamp = meta.pop("timestamp", None) or utc_now()
    parse_timestamp(timestamp)  # reject malformed timestamps before anything is written
    chi2_improvement = meta.pop("chi2_improvement", None)
    if chi2_improvement is not None:
        chi2_improvement = check_finite_number(chi2_improvement, "optimization_metadata['chi2_improvement']")
    status = meta.pop("convergence_status", "unknown")
    if not isinstance(status, str):
        raise TypeError(f"optimization_metadata['convergence_status'] must be a string, got {status!r}")
    dataset = meta.pop("dataset", None)
    datasets = meta.get("datasets")
    if dataset is None and datasets is not None:
        dataset = datasets if isinstance(datasets, str) else ",".join(map(str, datasets))
    if dataset is None:
        dataset = meta.get("optimization_source", "unspecified")
    if not isinstance(dataset, str):
        raise TypeError(f"optimization_metadata['dataset'] must be a string, got {type(dataset).__name__}")
    return {
        "record_id": uuid.uuid4().hex,
        "timestamp": timestamp,
        "recorded_at": utc_now(),
        "model": model,
        "dataset": dataset,
        "optimized_params": list(values),
        "final_values": dict(values),
        "chi2_improvement": chi2_improvement,
        "convergence_status": status,
        "flagged": flagged,
        "metadata": to_jsonable(meta, "optimization_metadata"),
    }


__all__ = ["check_finite_number", "check_update", "effective_optimize_list", "make_record"]
