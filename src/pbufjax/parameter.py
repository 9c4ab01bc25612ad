"""Parameter dictionaries: defaults, validation and derived keys.

A ``ParameterDict`` is a plain dict of floats (the API reference's structure):
``H0, Om0, Obh2, ns, Neff, Tcmb, Ok0``, the model's extra keys, the derived keys
``Omh2, z_recomb, z_drag, r_s_drag`` and the static metadata ``model_class`` and
``recomb_method``. Kernels read only the numeric input keys, so a dict whose
numeric entries are traced arrays works inside ``jax.jit``.

Models come from :data:`pbufjax.cosmology.models.MODELS`; a model added only as a
:data:`DEFAULTS` entry inherits the ΛCDM expansion law.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Mapping

import numpy as np

from .cosmology import models as _models
from .cosmology.recombination import DEFAULT_METHOD, check_method

class _DefaultsRegistry(dict):
    """model name -> default parameters. Assigning a new entry registers the model:

    ``DEFAULTS["new_model"] = {"H0": 67.4, "Om0": 0.315, "new_param1": 1.0, "model_class": "new_model"}``
    makes ``new_model`` a ΛCDM-expansion model whose extra keys are carried along
    (the API reference's extensibility example).
    """

    def __setitem__(self, name, value):
        if not isinstance(name, str):
            raise TypeError(f"model name must be a string, got {type(name).__name__}")
        value = dict(value)
        if name not in _models.MODELS:
            extra = {
                k: float(v)
                for k, v in value.items()
                if k not in _models.BASE_DEFAULTS and k not in STATIC_PARAMS and k not in DERIVED_PARAMS
            }
            _models.register_model(
                _models.Model(name, _models.e2_lcdm, defaults=extra, description="ΛCDM expansion (DEFAULTS entry)")
            )
        super().__setitem__(name, value)


#: Keys filled by :func:`build_params` from the physics kernels.
DERIVED_PARAMS = ("Omh2", "z_recomb", "z_drag", "r_s_drag")
#: Static (string) keys.
STATIC_PARAMS = ("model_class", "recomb_method")

#: model name -> default parameter dict (numeric entries + ``model_class``).
DEFAULTS: dict[str, dict[str, Any]] = _DefaultsRegistry(
    {name: {**m.all_defaults, "model_class": name} for name, m in _models.MODELS.items()}
)

#: model name -> parameters that may be optimized.
OPTIMIZABLE_PARAMETERS: dict[str, list[str]] = {
    "lcdm": ["H0", "Om0", "Obh2", "ns", "Neff", "Ok0"],
    "wcdm": ["H0", "Om0", "Obh2", "ns", "Neff", "Ok0", "w0"],
    "w0wacdm": ["H0", "Om0", "Obh2", "ns", "Neff", "Ok0", "w0", "wa"],
    "pbuf": ["H0", "Om0", "Obh2", "ns", "Neff", "Ok0", "k_sat", "alpha", "Rmax", "eps0", "n_eps"],
}


def available_models() -> list[str]:
    """Names usable in :func:`build_params` (registered models and DEFAULTS-only models)."""
    return sorted(set(DEFAULTS) | set(_models.MODELS))


def model_for(name: str) -> _models.Model:
    """The registered :class:`~pbufjax.cosmology.models.Model` behind a model name.

    A model defined only by a :data:`DEFAULTS` entry uses the ΛCDM expansion law.
    """
    if name in _models.MODELS:
        return _models.MODELS[name]
    raise ValueError(f"unknown model {name!r}; valid models: {', '.join(available_models())}")


def get_defaults(model: str) -> dict[str, Any]:
    """Default parameter dict of ``model`` (a fresh copy).

    Raises:
        ValueError: unknown model (the message lists the valid ones).
    """
    if not isinstance(model, str):
        raise TypeError(f"model must be a string, got {type(model).__name__}")
    if model in DEFAULTS:
        base = dict(_models.BASE_DEFAULTS)
        base.update(DEFAULTS[model])
        base.setdefault("model_class", model)
        return base
    if model in _models.MODELS:
        return {**_models.MODELS[model].all_defaults, "model_class": model}
    raise ValueError(f"unknown model {model!r}; valid models: {', '.join(available_models())}")


def _check_number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.ndarray, np.generic)):
        raise TypeError(f"parameter {key!r} must be a real number, got {type(value).__name__} ({value!r})")
    value = float(np.asarray(value))
    if not math.isfinite(value):
        raise ValueError(f"parameter {key!r} must be finite, got {value}")
    return value


def validate_params(params: Mapping[str, Any]) -> bool:
    """Check a parameter dict for physical consistency.

    Checks that every numeric entry is finite; ``H0 > 0``, ``Om0 > 0``,
    ``0 < Obh2 < Om0 h^2``, ``Neff >= 0``, ``Tcmb > 0``, ``Rmax > 0``; and that
    :math:`E^2(z) > 0` on a grid from z = 0 to 1e5 (a model whose expansion rate
    becomes imaginary is rejected here rather than producing NaN later).

    Returns:
        True.

    Raises:
        ValueError: naming the offending parameter and its value.
        TypeError: a numeric parameter given as a non-number.
    """
    name = params.get("model_class", "lcdm")
    model = model_for(name)
    required = set(_models.BASE_DEFAULTS) | set(model.defaults)
    missing = sorted(k for k in required if k not in params)
    if missing:
        raise ValueError(f"missing parameter(s) {missing} for model {name!r}")
    vals = {}
    for key, value in params.items():
        if key in STATIC_PARAMS or key in DERIVED_PARAMS:
            continue
        if isinstance(value, str):
            raise TypeError(f"parameter {key!r} must be a real number, got str ({value!r})")
        if isinstance(value, (numbers.Real, np.ndarray, np.generic)) or hasattr(value, "__float__"):
            vals[key] = _check_number(key, value)
    h = vals["H0"] / 100.0
    if vals["H0"] <= 0:
        raise ValueError(f"H0 must be > 0, got {vals['H0']}")
    if vals["Om0"] <= 0:
        raise ValueError(f"Om0 must be > 0, got {vals['Om0']}")
    if vals["Obh2"] <= 0:
        raise ValueError(f"Obh2 must be > 0, got {vals['Obh2']}")
    if vals["Obh2"] >= vals["Om0"] * h * h:
        raise ValueError(
            f"Obh2 = {vals['Obh2']} must be below Om0*h^2 = {vals['Om0'] * h * h:.6g} (baryons are part of Om0)"
        )
    if vals["Neff"] < 0:
        raise ValueError(f"Neff must be >= 0, got {vals['Neff']}")
    if vals["Tcmb"] <= 0:
        raise ValueError(f"Tcmb must be > 0, got {vals['Tcmb']}")
    if "Rmax" in vals and vals["Rmax"] <= 0:
        raise ValueError(f"Rmax must be > 0, got {vals['Rmax']}")
    zp1 = np.concatenate([np.linspace(1.0, 10.0, 200), np.geomspace(10.0, 1e5, 200)])
    e2 = np.asarray(model.e2(zp1, {**params, **vals}))
    if not np.all(np.isfinite(e2)) or np.any(e2 <= 0):
        bad = zp1[~(np.isfinite(e2) & (e2 > 0))][0] - 1.0
        raise ValueError(
            f"parameters give a non-physical expansion (E^2 <= 0 or non-finite) at z = {bad:.4g} for model {name!r}"
        )
    return True


def build_params(
    model: str,
    overrides: Mapping[str, Any] | None = None,
    optimization_metadata: Mapping[str, Any] | None = None,
    *,
    recomb_method: str | None = None,
    derived: bool = True,
) -> dict[str, Any]:
    """Complete parameter dict for ``model``: defaults, then ``overrides``, then derived keys.

    Args:
        model: model name (``lcdm``, ``wcdm``, ``w0wacdm``, ``pbuf`` or a DEFAULTS entry).
        overrides: parameter values replacing the defaults (``recomb_method`` allowed too).
        optimization_metadata: stored under the key ``optimization_metadata``.
        recomb_method: recombination method (default ``CAMBFIT``).
        derived: fill ``Omh2, z_recomb, z_drag, r_s_drag`` (set False to skip the kernels).

    Returns:
        ParameterDict.

    Raises:
        ValueError: unknown model, unknown parameter, non-physical or non-finite value.
        TypeError: a parameter of the wrong type.
    """
    params = get_defaults(model)
    overrides = dict(overrides or {})
    if "model_class" in overrides and overrides["model_class"] != params["model_class"]:
        raise ValueError(f"override model_class={overrides['model_class']!r} conflicts with model {model!r}")
    method = overrides.pop("recomb_method", None) or recomb_method or params.get("recomb_method") or DEFAULT_METHOD
    if not isinstance(method, str):
        raise TypeError(f"recomb_method must be a string, got {type(method).__name__}")
    check_method(method)
    valid = set(params) - set(STATIC_PARAMS)
    for key, value in overrides.items():
        if key in DERIVED_PARAMS or key in ("model_class", "optimization_metadata"):
            continue
        if key not in valid:
            raise ValueError(
                f"unknown parameter {key!r} for model {model!r}; valid parameters: {', '.join(sorted(valid))}"
            )
        params[key] = _check_number(key, value)
    params["recomb_method"] = method
    validate_params(params)
    for key in list(params):
        if key not in STATIC_PARAMS:
            params[key] = float(params[key])
    if derived:
        params.update(derived_params(params))
    if optimization_metadata is not None:
        params["optimization_metadata"] = dict(optimization_metadata)
    return params


def derived_params(params: Mapping[str, Any]) -> dict[str, float]:
    """``Omh2, z_recomb, z_drag, r_s_drag`` computed by the compiled kernels."""
    from .cosmology.cmb import derived_jit

    d = derived_jit(params)
    h = params["H0"] / 100.0
    return {
        "Omh2": float(params["Om0"] * h * h),
        "z_recomb": float(d["z_star"]),
        "z_drag": float(d["z_drag"]),
        "r_s_drag": float(d["r_drag"]),
    }
