"""Names a fit is configured with: canonical dataset names, nuisance parameters, bounds checks."""

from __future__ import annotations

import math
import numbers

from ..cosmology.parameters import numeric_parameters as model_numeric_params  # noqa: F401  (re-exported)
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .. import data as _ds


#: Optimization bounds of the nuisance parameters of every registered dataset (a live view of the
#: dataset registry, :func:`pbufjax.data.nuisance_parameters`; the registry is the one place they are defined).
NUISANCE_BOUNDS: Mapping[str, tuple[float, float]] = _ds.LiveMapping(
    lambda: {k: tuple(p.bounds) for k, p in _ds.nuisance_parameters().items()})
#: Default values of the same nuisance parameters (live view of the registry).
NUISANCE_DEFAULTS: Mapping[str, float] = _ds.LiveMapping(
    lambda: {k: float(p.default) for k, p in _ds.nuisance_parameters().items()})


def canonical_datasets(datasets_list: Sequence[str] | str) -> tuple[str, ...]:
    """Dataset names (or aliases, or ``"cmb,bao"``) → canonical names; a combination
    (:func:`pbufjax.data.register_combination`, e.g. ``sdss_legacy``) → its members.

    Raises:
        TypeError: not a list of strings. ValueError: empty or duplicated.
        KeyError: unknown dataset (the message lists the valid names).
    """
    if isinstance(datasets_list, str):
        datasets_list = [s.strip() for s in datasets_list.split(",") if s.strip()]
    if not isinstance(datasets_list, (list, tuple)):
        raise TypeError(f"datasets_list must be a list of dataset names, got {type(datasets_list).__name__}")
    if not datasets_list:
        raise ValueError(f"datasets_list is empty; valid datasets: {', '.join(_ds.list_datasets())} "
                         f"(aliases: {', '.join(_ds.ALIASES)})")
    names = []
    for d in datasets_list:
        if not isinstance(d, str):
            raise TypeError(f"dataset names must be strings, got {type(d).__name__} ({d!r})")
        for c in _ds.expand_datasets([d]):
            if c in names:
                via = f"the combination {d!r} includes {c!r}" if _ds.is_combination(d) else f"{c!r}"
                raise ValueError(f"dataset {d!r} listed twice in datasets_list (after resolving aliases: {via})")
            names.append(c)
    return tuple(names)


def _nuisance_table(datasets: Sequence[str]) -> dict[str, tuple[float, tuple[float, float]]]:
    """``{name: (default, (lower, upper))}`` of the nuisance parameters of ``datasets``."""
    return {k: (float(p.default), tuple(p.bounds)) for k, p in _ds.nuisance_parameters(list(datasets)).items()}


def nuisance_for(datasets: Sequence[str]) -> list[str]:
    """Names of the nuisance parameters (e.g. the SN offset ``M_B``) that ``datasets`` use."""
    return list(_nuisance_table(datasets))


def nuisance_default(name: str, datasets: Sequence[str]) -> float:
    """Default value of nuisance parameter ``name`` for ``datasets``."""
    return _nuisance_table(datasets)[name][0]


def nuisance_bounds(name: str, datasets: Sequence[str] = ()) -> tuple[float, float]:
    """Optimization bounds of nuisance parameter ``name`` (KeyError if it is not one)."""
    table = _nuisance_table(datasets)
    return tuple(table[name][1]) if name in table else NUISANCE_BOUNDS[name]


def check_bound_pair(name: str, b: Any) -> tuple[float, float]:
    """``(lower, upper)`` of parameter ``name``, checked.

    Raises:
        TypeError: not a pair of numbers. ValueError: not finite, reversed or empty.
    """
    if not isinstance(b, (list, tuple, np.ndarray)) or len(b) != 2:
        raise TypeError(f"bounds of {name!r} must be a (lower, upper) pair, got {b!r}")
    lo, hi = b
    for v in (lo, hi):
        if isinstance(v, bool) or not isinstance(v, (numbers.Real, np.generic)):
            raise TypeError(f"bounds of {name!r} must be numbers, got {b!r}")
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"bounds of {name!r} must be finite, got ({lo}, {hi})")
    if not lo < hi:
        raise ValueError(f"bounds of {name!r} are reversed or empty: lower {lo} must be < upper {hi}")
    return lo, hi


__all__ = ["NUISANCE_BOUNDS", "NUISANCE_DEFAULTS", "canonical_datasets", "check_bound_pair", "model_numeric_params",
           "nuisance_bounds", "nuisance_default", "nuisance_for"]
