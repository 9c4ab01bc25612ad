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
wrong type, and out-of-range numbers; numbers that are not finite (``1e400``,
``NaN``) or integers beyond the float range anywhere in the file; nesting deeper
than :data:`MAX_DEPTH`. A UTF-8 byte-order mark is accepted. The settings a fit
shares with :func:`pbufjax.analysis.engine.run_fit` (optimizer method and options,
``covariance_scaling``, ``convergence_tolerance``, ``frozen_parameters``, bounds) are
checked by :mod:`pbufjax.fit.settings`, so the messages are those of the Python API.
Parameter names and bounds are checked against the model once it is known
(:func:`check_model_parameters`).

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
import sys
from collections.abc import Callable, Mapping, Sequence
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
#: Deepest nesting of objects and lists a configuration file may have (its schema needs 4).
MAX_DEPTH = 32
#: ``COV_SCALE_RANGE`` and ``TOLERANCE_RANGE`` are those of :mod:`pbufjax.fit.settings`, read
#: on first use (importing the fit layer here would make ``pbufjax --help`` slow).
_SETTINGS_CONSTANTS = ("COV_SCALE_RANGE", "TOLERANCE_RANGE")


def __getattr__(name: str):
    if name in _SETTINGS_CONSTANTS:
        return getattr(_settings(), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _settings():
    from ..fit import settings

    return settings


class ConfigError(ValueError):
    """A configuration file (or a setting) is unreadable or invalid."""


def _where(source: str | None, key: str) -> str:
    return f"config {source}: {key}" if source else key


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _checked(check: Callable, *args, where: str | None = None, source: str | None = None, **kwargs):
    """``check(*args, **kwargs)`` with its TypeError/ValueError as a :class:`ConfigError`
    (prefixed with ``config FILE: where:`` when ``where`` is given)."""
    try:
        return check(*args, **kwargs)
    except (TypeError, ValueError) as exc:
        text = str(exc)
        if where is not None:
            text = f"{_where(source, where)}: {text}"
        elif source:
            text = f"config {source}: {text}"
        raise ConfigError(text) from None


class _BigInt:
    """An integer literal beyond the float range (or Python's int-string limit), kept by its size."""

    def __init__(self, text: str):
        self.digits = len(text.lstrip("-"))


def _parse_int(text: str):
    if len(text) > 400:  # beyond 1.8e308 anyway; int() raises ValueError past 4300 digits
        return _BigInt(text)
    value = int(text)
    return _BigInt(text) if abs(value) > sys.float_info.max else value


def _check_values(doc: Any, source: str | None) -> None:
    """Refuse, by their dotted key, numbers that are not finite or too large, and deep nesting."""
    stack = [(doc, "", 0)]
    while stack:
        value, key, depth = stack.pop()
        if depth > MAX_DEPTH:
            shown = key if len(key) <= 60 else key[:60] + "…"
            raise ConfigError(f"{_where(source, shown)} is nested too deeply (more than {MAX_DEPTH} levels)")
        if isinstance(value, dict):
            stack.extend((v, f"{key}.{k}" if key else str(k), depth + 1) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((v, f"{key}[{i}]", depth + 1) for i, v in reversed(list(enumerate(value))))
        elif isinstance(value, _BigInt):
            raise ConfigError(f"{_where(source, key or 'the top level')} is an integer of {value.digits} digits, "
                              f"beyond the range of numbers (about ±1.8e308)")
        elif isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{_where(source, key or 'the top level')} = {value} is not a finite number "
                              f"(JSON numbers beyond ±1.8e308 overflow to infinity)")


def _unknown_keys(block: Mapping, allowed, source: str | None, prefix: str) -> None:
    for key in block:
        if key not in allowed:
            where = f"{prefix}.{key}" if prefix else str(key)
            raise ConfigError(
                f"{_where(source, where)} is not a known key; allowed keys"
                f"{' in ' + prefix if prefix else ''}: {', '.join(allowed)}"
            )


def _name_list(value: Any, key: str, source: str | None) -> list[str]:
    return _checked(_settings().check_name_list, value, key, source=source)


def check_number(
    value: Any, key: str, lo: float | None, hi: float | None, *, lo_open=True, hi_open=False, source: str | None = None
) -> float:
    """A finite real number in ``(lo, hi]`` (or the bounds chosen by ``lo_open``/``hi_open``):
    :func:`pbufjax.fit.settings.check_number` with a :class:`ConfigError`.

    Raises:
        ConfigError: naming ``key``, the value and the allowed range.
    """
    return _checked(_settings().check_number, value, _where(source, key), lo, hi, lo_open=lo_open, hi_open=hi_open)


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
    _check_values(doc, source)
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
            value = _checked(_settings().check_tolerance, value, _where(source, dotted))
        elif key == "covariance_scaling":
            value = _checked(_settings().check_covariance_scaling, value, _where(source, dotted))
        out["optimization"][key] = value
        out["explicit"].add(dotted)

    if "optimizer" in doc:
        block = doc["optimizer"]
        if isinstance(block, str):
            block = {"method": block}
        if not isinstance(block, dict):
            raise ConfigError(f"{_where(source, 'optimizer')} must be an object with keys {', '.join(OPTIMIZER_KEYS)}")
        _unknown_keys(block, OPTIMIZER_KEYS, source, "optimizer")
        out["optimizer"] = _optimizer_block(block, source)


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


def _optimizer_block(block: Mapping, source: str | None) -> dict[str, Any]:
    """The ``optimizer`` block checked by :mod:`pbufjax.fit.settings`. Without a ``method`` the
    options are checked against the default solver's declarations, and options it does not
    know are left to the fit (the command line's ``--optimizer`` may choose another solver)."""
    settings = _settings()
    out = dict(block)
    if "method" in block:
        _checked(settings.check_method, block["method"], where="optimizer.method", source=source)
    method = block.get("method", settings.DEFAULT_METHOD)
    if "options" in block:
        if not isinstance(block["options"], dict):
            raise ConfigError(f"{_where(source, 'optimizer.options')} must be an object, got {block['options']!r}")
        out["options"] = _checked(settings.check_options, method, block["options"], partial="method" not in block,
                                  where="optimizer.options", source=source)
    if "bounds" in block:
        if not isinstance(block["bounds"], dict):
            raise ConfigError(f"{_where(source, 'optimizer.bounds')} must map parameter names to [lower, upper]")
        out["bounds"] = {name: _checked(settings.check_bound_values, name, pair, where=f"optimizer.bounds.{name}",
                                        source=source)
                         for name, pair in block["bounds"].items()}
    return out


def load_config(path: str | os.PathLike) -> dict[str, Any]:
    """Read and validate a configuration file.

    Raises:
        ConfigError: unreadable file, invalid JSON (line and column), or invalid content.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark is not an error
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a directory, not a JSON file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    try:
        doc = json.loads(text, parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"config file {path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise ConfigError(f"config file {path} is nested too deeply (more than {MAX_DEPTH} levels)") from None
    return validate_config(doc, str(path))


def check_model_parameters(config: Mapping[str, Any], model: str, source: str | None = None, *,
                           datasets: Sequence[str] | None = None) -> None:
    """Check the parameter names and bounds a configuration uses against ``model``.

    Args:
        config: the output of :func:`validate_config`.
        model: model name.
        source: file name used in messages.
        datasets: dataset names whose nuisance parameters (e.g. ``M_B``) may be frozen or
            bounded (default: the configuration's ``datasets``; if it names none, every
            registered dataset).

    Raises:
        ConfigError: a name in ``parameter_overrides``, ``optimization.optimize_parameters``,
            ``optimization.frozen_parameters`` or ``optimizer.bounds`` that the model (or the
            datasets' nuisance parameters) does not have (lists the valid ones), or bounds
            outside the parameter's valid range (:func:`pbufjax.fit.settings.check_bounds`).
    """
    from ..cosmology import parameters as parameter

    settings = _settings()
    canonical = _canonical(datasets if datasets is not None else config.get("datasets"))
    valid = settings.parameter_names(model, canonical) + ["recomb_method"]
    optimizable = parameter.optimizable_parameters(model)
    for name in config.get("parameter_overrides") or {}:
        if name not in valid:
            raise ConfigError(
                f"{_where(source, 'parameter_overrides.' + name)}: not a parameter of model {model!r}; "
                f"valid parameters: {', '.join(valid)}"
            )
    opt = config.get("optimization") or {}
    for name in opt.get("optimize_parameters", []):
        if name not in optimizable:
            raise ConfigError(
                f"{_where(source, 'optimization.optimize_parameters')}: {name!r} is not an optimizable parameter "
                f"of model {model!r}; valid parameters: {', '.join(optimizable)}"
            )
    key = _where(source, "optimization.frozen_parameters")
    _checked(settings.check_frozen_parameters, model, opt.get("frozen_parameters", []), canonical, key)
    for name, pair in ((config.get("optimizer") or {}).get("bounds") or {}).items():
        _checked(settings.check_bounds, model, {name: pair}, canonical, where=f"optimizer.bounds.{name}",
                 source=source)


def _canonical(datasets: Sequence[str] | None) -> list[str] | None:
    """Canonical dataset names, or None (every dataset) when they cannot be resolved here (an
    unknown name is reported where the datasets are loaded)."""
    if not datasets:
        return None
    from .. import data as dsmod

    try:
        return dsmod.expand_datasets(datasets)
    except (KeyError, TypeError, ValueError):
        return None


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
    "COV_SCALE_RANGE",  # noqa: F822  (module __getattr__: pbufjax.fit.settings.COV_SCALE_RANGE)
    "MODES",
    "OPTIMIZATION_DEFAULTS",
    "OPTIMIZER_KEYS",
    "TOLERANCE_RANGE",  # noqa: F822  (module __getattr__: pbufjax.fit.settings.TOLERANCE_RANGE)
    "TOP_LEVEL_KEYS",
    "ConfigError",
    "check_model_parameters",
    "check_number",
    "load_config",
    "merge_settings",
    "validate_config",
]
