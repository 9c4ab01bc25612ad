"""Which values the store may hand to a fit: valid ranges, flagged parameters, the quarantine section.

Two kinds of value never become a starting point:

* **Invalid values** — a stored value that is not a finite real number inside its
  parameter's valid range (:func:`pbufjax.cosmology.validity.valid_range`), e.g. a
  hand-edited ``"H0": -70`` or ``"H0": 1e300``. Reads ignore it (the store warns once);
  :meth:`~pbufjax.store.OptimizedParameterStore.repair` and every update move it from
  ``parameters`` to the model file's ``quarantined_parameters`` section, where it is kept::

      "quarantined_parameters": {
        "H0": [{"value": -70, "reason": "H0 = -70 is outside its valid range [10, 200] ...",
                "quarantined_at": "2025-10-22T14:42:00.000000Z", "provenance": {...}}]
      }

* **Flagged values** — a parameter that ended its fit at a bound of the optimization
  box or that the data do not constrain. The OptimizationRecord keeps it (in
  ``final_values``, with ``flagged = {name: reason}``), but it is not stored as a
  default, is not a warm start and is not replayed by a rebuild. An update learns the
  flags from its metadata: ``bounds_reached`` and ``unconstrained`` (lists of names, as
  in an OptimizationResult and a fit's ``diagnostics``), or
  ``parameter_bounds_info["bounds_reached"]`` (a CMBOptimizationResult).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from ..cosmology.validity import range_violations, valid_range

#: Key of the model file's section holding quarantined values (``{name: [entry, ...]}``).
QUARANTINE_KEY = "quarantined_parameters"
#: Reasons a parameter is flagged, in the order they are written.
AT_BOUND = "at bound"
UNCONSTRAINED = "unconstrained"


def value_problem(model: str, name: str, value: Any) -> str | None:
    """Why ``value`` cannot be ``model``'s stored ``name`` (``None`` when it can).

    The message names the parameter, the value and its valid range.

    Example:
        >>> value_problem("lcdm", "H0", -70)
        "H0 = -70 is outside its valid range [10, 200] for model 'lcdm'"
        >>> value_problem("lcdm", "H0", "fast")
        "H0 = 'fast' is not a number (valid range [10, 200] for model 'lcdm')"
        >>> value_problem("lcdm", "H0", 68.0) is None
        True
    """
    lo, hi = valid_range(model, name)
    where = f"valid range [{lo:g}, {hi:g}] for model {model!r}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return f"{name} = {value!r} is not a number ({where})"
    try:
        number = float(value)
    except OverflowError:  # an integer with hundreds of digits
        number = math.inf
    if not math.isfinite(number):
        shown = repr(value) if isinstance(value, float) or len(str(value)) <= 40 else f"{str(value)[:20]}..."
        return f"{name} = {shown} is not finite ({where})"
    return range_violations(model, {name: number}).get(name)


def value_problems(model: str, values: Mapping[str, Any]) -> dict[str, str]:
    """``{name: message}`` for each entry of ``values`` that is not a valid value of ``model``.

    Raises:
        ValueError: unknown model.
    """
    out = {}
    for name, value in values.items():
        problem = value_problem(model, name, value)
        if problem:
            out[name] = problem
    return out


def _name_list(value: Any, key: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, set, frozenset)):
        raise TypeError(f"optimization_metadata[{key!r}] must be a list of parameter names, got {value!r}")
    if not all(isinstance(v, str) for v in value):
        raise TypeError(f"optimization_metadata[{key!r}] must be a list of parameter names, got {list(value)!r}")
    return list(value)


def flag_lists(metadata: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """``(bounds_reached, unconstrained)`` named by an update's metadata (see the module docstring).

    Raises:
        TypeError: one of them is not a list of names.
    """
    reached = _name_list(metadata.get("bounds_reached"), "bounds_reached")
    info = metadata.get("parameter_bounds_info")
    if isinstance(info, Mapping):
        reached += _name_list(info.get("bounds_reached"), "parameter_bounds_info.bounds_reached")
    elif info is not None:
        raise TypeError(f"optimization_metadata['parameter_bounds_info'] must be a mapping, got {info!r}")
    return reached, _name_list(metadata.get("unconstrained"), "unconstrained")


def flagged_parameters(names, bounds_reached, unconstrained) -> dict[str, str]:
    """``{name: reason}`` for the ``names`` that reached a bound or are unconstrained.

    Example:
        >>> flagged_parameters(["H0", "Om0"], ["H0"], ["H0"])
        {'H0': 'at bound, unconstrained'}
    """
    out = {}
    for name in names:
        reasons = [r for r, group in ((AT_BOUND, bounds_reached), (UNCONSTRAINED, unconstrained)) if name in group]
        if reasons:
            out[name] = ", ".join(reasons)
    return out


def quarantine(doc: dict, problems: Mapping[str, str], when: str) -> list[dict[str, Any]]:
    """Move the values named in ``problems`` from ``doc["parameters"]`` to its quarantine section.

    Nothing is lost: each moved value is appended to ``doc["quarantined_parameters"][name]``
    with its reason, the time and its provenance. ``doc`` is changed in place.

    Returns:
        One ``{"parameter", "value", "reason"}`` entry per moved value.
    """
    moved = []
    section = doc.setdefault(QUARANTINE_KEY, {})
    for name, reason in problems.items():
        if name not in doc["parameters"]:
            continue
        value = doc["parameters"].pop(name)
        entry = {"value": value, "reason": reason, "quarantined_at": when}
        prov = doc.get("provenance", {}).pop(name, None)
        if prov is not None:
            entry["provenance"] = prov
        section.setdefault(name, []).append(entry)
        moved.append({"parameter": name, "value": value, "reason": reason})
    if not section:
        doc.pop(QUARANTINE_KEY)
    return moved


__all__ = [
    "AT_BOUND",
    "QUARANTINE_KEY",
    "UNCONSTRAINED",
    "flag_lists",
    "flagged_parameters",
    "quarantine",
    "value_problem",
    "value_problems",
]
