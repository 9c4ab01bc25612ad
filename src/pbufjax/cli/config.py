"""Run configuration files: schema, validation and the precedence of settings.

A configuration file is one JSON object. Every key is optional::

    {
      "model": "pbuf",
      "datasets": ["cmb", "bao", "sn"],
      "mode": "joint",
      "optimization": {
        "optimize_parameters": ["k_sat", "alpha"],
        "frozen_parameters": ["Tcmb", "Neff"],
        "use_precomputed": true,
        "save_results": true,
        "convergence_tolerance": 1e-6,
        "covariance_scaling": 1.0,
        "warm_start": true,
        "dry_run": false
      },
      "optimizer": {
        "method": "minimize",
        "options": {"maxiter": 1000},
        "bounds": {"H0": [50, 100]}
      },
      "parameter_overrides": {"H0": 70.0}
    }

:func:`load_config` rejects, with a :class:`ConfigError` naming the file, the key
and the allowed keys or values: unknown keys (at any level), values of the
wrong type, and out-of-range numbers. Parameter names are checked against the
model once it is known (:func:`check_model_parameters`).

Precedence of every setting, highest first (see :func:`merge_settings`)::

    command line  >  configuration file  >  parameter store  >  model defaults

The store contributes starting values only: the stored optimized defaults when
``use_precomputed`` is true (the default), then, with ``warm_start``, the values
of successful optimizations younger than 24 hours.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: Allowed top-level keys of a configuration file.
TOP_LEVEL_KEYS = ("description", "model", "datasets", "mode", "optimization", "optimizer", "parameter_overrides")
#: Allowed keys of the ``optimization`` block and their defaults.
OPTIMIZATION_DEFAULTS: dict[str, Any] = {
    "optimize_parameters": [],
    "frozen_parameters": [],
    "use_precomputed": True,
    "save_results": True,
    "convergence_tolerance": None,
    "covariance_scaling": 1.0,
    "warm_start": False,
    "dry_run": False,
}
#: Allowed keys of the ``optimizer`` block.
OPTIMIZER_KEYS = ("method", "options", "bounds")
#: Fitting modes.
MODES = ("joint", "individual")
#: Range of ``covariance_scaling`` (exclusive lower bound, inclusive upper bound).
COV_SCALE_RANGE = (0.0, 1000.0)
#: Range of ``convergence_tolerance`` (exclusive bounds).
TOLERANCE_RANGE = (0.0, 1.0)


class ConfigError(ValueError):
    """A configuration file (or a setting) is unreadable or invalid."""


def _where(source: str | None, key: str) -> str:
    return f"config {source}: {key}" if source else key


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _unknown_keys(block: Mapping, allowed, source: str | None, prefix: str) -> None:
    for key in block:
        if key not in allowed:
            where = f"{prefix}.{key}" if prefix else str(key)
            raise ConfigError(
                f"{_where(source, where)} is not a known key; allowed keys"
                f"{' in ' + prefix if prefix else ''}: {', '.join(allowed)}"
            )


def _name_list(value: Any, key: str, source: str | None) -> list[str]:
    if isinstance(value, str):
        value = [s.strip() for s in value.split(",") if s.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f'{_where(source, key)} must be a list of names (e.g. ["H0", "Om0"]), got {value!r}')
    return list(value)


def check_number(
    value: Any, key: str, lo: float | None, hi: float | None, *, lo_open=True, hi_open=False, source: str | None = None
) -> float:
    """A finite real number in ``(lo, hi]`` (or the bounds chosen by ``lo_open``/``hi_open``).

    Raises:
        ConfigError: naming ``key``, the value and the allowed range.
    """
    lo_s = "" if lo is None else f"{'>' if lo_open else '>='} {lo:g}"
    hi_s = "" if hi is None else f"{'<' if hi_open else '<='} {hi:g}"
    rng = " and ".join(s for s in (lo_s, hi_s) if s) or "finite"
    if not _is_number(value) or not math.isfinite(value):
        raise ConfigError(f"{_where(source, key)} must be a number ({rng}), got {value!r}")
    value = float(value)
    too_low = lo is not None and (value <= lo if lo_open else value < lo)
    too_high = hi is not None and (value >= hi if hi_open else value > hi)
    if too_low or too_high:
        raise ConfigError(f"{_where(source, key)} = {value:g} is out of range; allowed: {rng}")
    return value


def validate_config(doc: Any, source: str | None = None) -> dict[str, Any]:
    """Check a decoded configuration and return it normalized.

    Args:
        doc: the decoded JSON.
        source: file name used in messages.

    Returns:
        ``{"model", "datasets", "mode", "optimization", "optimizer", "parameter_overrides",
        "explicit"}`` where absent entries are ``None`` (``optimization`` keeps only the
        keys given; ``explicit`` is the set of dotted keys the file sets).

    Raises:
        ConfigError: unknown key, wrong type or out-of-range value (names the key and
            the allowed keys or range).
    """
    if not isinstance(doc, dict):
        raise ConfigError(f"config {source or ''}: the top level must be a JSON object, got {type(doc).__name__}")
    _unknown_keys(doc, TOP_LEVEL_KEYS, source, "")
    out: dict[str, Any] = {
        "model": None,
        "datasets": None,
        "mode": None,
        "optimization": {},
        "optimizer": None,
        "parameter_overrides": {},
        "explicit": set(),
    }
    if "description" in doc and not isinstance(doc["description"], str):
        raise ConfigError(f"{_where(source, 'description')} must be a string")
    if "model" in doc:
        if not isinstance(doc["model"], str) or not doc["model"]:
            raise ConfigError(f"{_where(source, 'model')} must be a model name (string), got {doc['model']!r}")
        out["model"] = doc["model"]
    if "datasets" in doc:
        out["datasets"] = _name_list(doc["datasets"], "datasets", source)
        if not out["datasets"]:
            raise ConfigError(f"{_where(source, 'datasets')} must name at least one dataset")
    if "mode" in doc:
        if doc["mode"] not in MODES:
            raise ConfigError(f"{_where(source, 'mode')} = {doc['mode']!r}; allowed values: {', '.join(MODES)}")
        out["mode"] = doc["mode"]

    opt = doc.get("optimization", {})
    if not isinstance(opt, dict):
        raise ConfigError(
            f"{_where(source, 'optimization')} must be an object with keys {', '.join(OPTIMIZATION_DEFAULTS)}"
        )
    _unknown_keys(opt, tuple(OPTIMIZATION_DEFAULTS), source, "optimization")
    for key, value in opt.items():
        dotted = f"optimization.{key}"
        if key in ("optimize_parameters", "frozen_parameters"):
            value = _name_list(value, dotted, source)
        elif key in ("use_precomputed", "save_results", "warm_start", "dry_run"):
            if not isinstance(value, bool):
                raise ConfigError(f"{_where(source, dotted)} must be true or false, got {value!r}")
        elif key == "convergence_tolerance":
            if value is not None:
                value = check_number(value, dotted, *TOLERANCE_RANGE, hi_open=True, source=source)
        elif key == "covariance_scaling":
            value = check_number(value, dotted, *COV_SCALE_RANGE, source=source)
        out["optimization"][key] = value
        out["explicit"].add(dotted)

    if "optimizer" in doc:
        block = doc["optimizer"]
        if isinstance(block, str):
            block = {"method": block}
        if not isinstance(block, dict):
            raise ConfigError(f"{_where(source, 'optimizer')} must be an object with keys {', '.join(OPTIMIZER_KEYS)}")
        _unknown_keys(block, OPTIMIZER_KEYS, source, "optimizer")
        if "method" in block and (not isinstance(block["method"], str) or not block["method"]):
            raise ConfigError(
                f"{_where(source, 'optimizer.method')} must be an optimizer name, got {block['method']!r}"
            )
        if "options" in block and not isinstance(block["options"], dict):
            raise ConfigError(f"{_where(source, 'optimizer.options')} must be an object, got {block['options']!r}")
        bounds = block.get("bounds", {})
        if not isinstance(bounds, dict):
            raise ConfigError(f"{_where(source, 'optimizer.bounds')} must map parameter names to [lower, upper]")
        clean_bounds = {}
        for name, pair in bounds.items():
            key = f"optimizer.bounds.{name}"
            if (
                not isinstance(pair, list)
                or len(pair) != 2
                or not all(_is_number(v) and math.isfinite(v) for v in pair)
            ):
                raise ConfigError(f"{_where(source, key)} must be [lower, upper] (two finite numbers), got {pair!r}")
            if not pair[0] < pair[1]:
                raise ConfigError(f"{_where(source, key)} = {pair!r}: lower bound must be below upper bound")
            clean_bounds[name] = (float(pair[0]), float(pair[1]))
        out["optimizer"] = {**block, **({"bounds": clean_bounds} if "bounds" in block else {})}

    overrides = doc.get("parameter_overrides", {})
    if not isinstance(overrides, dict):
        raise ConfigError(f"{_where(source, 'parameter_overrides')} must map parameter names to numbers")
    for name, value in overrides.items():
        key = f"parameter_overrides.{name}"
        if name == "recomb_method":
            if not isinstance(value, str):
                raise ConfigError(f"{_where(source, key)} must be a method name (string), got {value!r}")
        elif not _is_number(value) or not math.isfinite(value):
            raise ConfigError(f"{_where(source, key)} must be a finite number, got {value!r}")
        out["parameter_overrides"][name] = value
    return out


def load_config(path: str | os.PathLike) -> dict[str, Any]:
    """Read and validate a configuration file.

    Raises:
        ConfigError: unreadable file, invalid JSON (line and column), or invalid content.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a directory, not a JSON file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"config file {path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    return validate_config(doc, str(path))


def check_model_parameters(config: Mapping[str, Any], model: str, source: str | None = None) -> None:
    """Check the parameter names a configuration uses against ``model``.

    Raises:
        ConfigError: a name in ``parameter_overrides``, ``optimization.optimize_parameters``,
            ``optimization.frozen_parameters`` or ``optimizer.bounds`` that the model does
            not have (lists the valid ones).
    """
    from ..cosmology import parameters as parameter

    defaults = parameter.get_defaults(model)
    valid = sorted(k for k in defaults if k not in parameter.STATIC_PARAMS) + ["recomb_method"]
    optimizable = parameter.optimizable_parameters(model)
    for name in config.get("parameter_overrides") or {}:
        if name not in valid:
            raise ConfigError(
                f"{_where(source, 'parameter_overrides.' + name)}: not a parameter of model {model!r}; "
                f"valid parameters: {', '.join(valid)}"
            )
    opt = config.get("optimization") or {}
    for key in ("optimize_parameters", "frozen_parameters"):
        for name in opt.get(key, []):
            allowed = optimizable if key == "optimize_parameters" else valid
            if name not in allowed:
                raise ConfigError(
                    f"{_where(source, 'optimization.' + key)}: {name!r} is not "
                    f"{'an optimizable' if key == 'optimize_parameters' else 'a'} parameter of model {model!r}; "
                    f"valid parameters: {', '.join(allowed)}"
                )
    for name in (config.get("optimizer") or {}).get("bounds") or {}:
        if name not in optimizable:
            raise ConfigError(
                f"{_where(source, 'optimizer.bounds.' + name)}: not an optimizable parameter of model {model!r}; "
                f"valid parameters: {', '.join(optimizable)}"
            )


def merge_settings(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Merge setting layers, lowest precedence first; ``None`` values do not override.

    Example:
        >>> merge_settings({"a": 1, "b": 2}, {"b": None, "c": 3}, {"a": 0})
        {'a': 0, 'b': 2, 'c': 3}
    """
    out: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if value is not None:
                out[key] = value
    return out


__all__ = [
    "COV_SCALE_RANGE",
    "MODES",
    "OPTIMIZATION_DEFAULTS",
    "OPTIMIZER_KEYS",
    "TOLERANCE_RANGE",
    "TOP_LEVEL_KEYS",
    "ConfigError",
    "check_model_parameters",
    "check_number",
    "load_config",
    "merge_settings",
    "validate_config",
]
