"""Parameter dictionaries: defaults, bounds, validation and derived keys (the model-parameter registry).

A ``ParameterDict`` is a plain dict of floats (the API reference's structure):
``H0, Om0, Obh2, ns, Neff, Tcmb, Ok0``, the model's extra keys, the derived keys
``Omh2, z_recomb, z_drag, r_s_drag`` and the static metadata ``model_class`` and
``recomb_method``. Kernels read only the numeric input keys, so a dict whose
numeric entries are traced arrays works inside ``jax.jit``.

Models come from :data:`pbufjax.cosmology.models.MODELS`; a model added only as a
:data:`DEFAULTS` entry inherits the ΛCDM expansion law.

This module sits in the cosmology layer: it imports only :mod:`pbufjax.cosmology`,
:mod:`pbufjax.constants` and :mod:`pbufjax.runtime`. ``pbufjax.parameter`` re-exports it.

Optimization bounds (:func:`get_optimization_bounds`) are those of the model
registry: ``H0`` 20–150 km/s/Mpc, ``Om0`` 0.01–0.99, ``Obh2`` 0.005–0.1, ``ns``
0.8–1.2, ``Neff`` 0–10, ``Ok0`` −0.3–0.3, and for PBUF ``alpha`` 1e-6–1e-2,
``Rmax`` 1e6–1e12, ``eps0`` 0–2, ``n_eps`` −2–2, ``k_sat`` 0.1–2. Parameters
spanning decades (``Rmax``) are optimized in :math:`\\log_{10}` space
(:func:`log_space_params`). Each bound lies inside the parameter's valid range
(:func:`valid_range`, :mod:`pbufjax.cosmology.validity`); values outside it are refused
by :func:`build_params` with a ValueError naming the parameter, the value and the range.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..runtime import register_cache
from . import models as _models
from .cmb import derived as _derived
from .recombination import DEFAULT_METHOD, check_method
from .validity import check_point, valid_range, valid_ranges


class _DefaultsRegistry(dict):
    """model name -> default parameters. Assigning a new entry registers the model:

    ``DEFAULTS["new_model"] = {"H0": 67.4, "Om0": 0.315, "new_param1": 1.0, "model_class": "new_model"}``
    makes ``new_model`` a ΛCDM-expansion model whose extra keys are carried along
    (the API reference's extensibility example). Its optimizable parameters are
    those of ``lcdm`` (the extra keys do not enter the expansion law).
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
            OPTIMIZABLE_PARAMETERS.setdefault(name, list(OPTIMIZABLE_PARAMETERS["lcdm"]))
        super().__setitem__(name, value)


class _OptimizableRegistry(dict):
    """model name -> optimizable parameters; a model registered with
    :func:`pbufjax.cosmology.models.register_model` but not listed here gets the base
    parameters plus its own extra parameters that have bounds."""

    def __missing__(self, name):
        if name in _models.MODELS:
            m = _models.MODELS[name]
            return list(_BASE_OPTIMIZABLE) + [k for k in m.defaults if k in m.bounds]
        raise KeyError(name)

    def get(self, name, default=None):
        try:
            return self[name]
        except KeyError:
            return default


#: Keys filled by :func:`build_params` from the physics kernels.
DERIVED_PARAMS = ("Omh2", "z_recomb", "z_drag", "r_s_drag", "omnuh2", "Onu0")
#: Static (string) keys.
STATIC_PARAMS = ("model_class", "recomb_method")
#: Extra non-numeric keys a ParameterDict may carry.
METADATA_KEYS = ("optimization_metadata",)

_BASE_OPTIMIZABLE = ("H0", "Om0", "Obh2", "ns", "Neff", "Ok0", "mnu")

#: model name -> parameters that may be optimized.
OPTIMIZABLE_PARAMETERS: dict[str, list[str]] = _OptimizableRegistry(
    {
        "lcdm": list(_BASE_OPTIMIZABLE),
        "wcdm": [*_BASE_OPTIMIZABLE, "w0"],
        "w0wacdm": [*_BASE_OPTIMIZABLE, "w0", "wa"],
        "pbuf": [*_BASE_OPTIMIZABLE, "k_sat", "alpha", "Rmax", "eps0", "n_eps"],
    }
)

#: model name -> default parameter dict (numeric entries + ``model_class``).
DEFAULTS: dict[str, dict[str, Any]] = _DefaultsRegistry(
    {name: {**m.all_defaults, "model_class": name} for name, m in _models.MODELS.items()}
)


def available_models() -> list[str]:
    """Names usable in :func:`build_params` (registered models and DEFAULTS-only models)."""
    return sorted(set(DEFAULTS) | set(_models.MODELS))


def check_model_name(name: Any) -> str:
    """Return ``name`` if it names a model usable in :func:`build_params`.

    Raises:
        TypeError: ``name`` is not a string.
        ValueError: unknown model (the message lists the valid ones).

    Example:
        >>> check_model_name("pbuf")
        'pbuf'
    """
    if not isinstance(name, str):
        raise TypeError(f"model must be a string, got {type(name).__name__} ({name!r})")
    if name not in DEFAULTS and name not in _models.MODELS:
        raise ValueError(f"unknown model {name!r}; valid models: {', '.join(available_models())}")
    return name


def model_for(name: str) -> _models.Model:
    """The registered :class:`~pbufjax.cosmology.models.Model` behind a model name.

    A model defined only by a :data:`DEFAULTS` entry uses the ΛCDM expansion law.

    Raises:
        ValueError: unknown model (the message lists the valid ones).
    """
    check_model_name(name)
    if name in _models.MODELS:
        return _models.MODELS[name]
    raise ValueError(f"unknown model {name!r}; valid models: {', '.join(available_models())}")


def get_defaults(model: str) -> dict[str, Any]:
    """Default parameter dict of ``model`` (a fresh copy).

    Example:
        >>> get_defaults("pbuf")["alpha"]
        0.0005

    Raises:
        ValueError: unknown model (the message lists the valid ones).
        TypeError: ``model`` is not a string.
    """
    check_model_name(model)
    if model in DEFAULTS:
        base = dict(_models.BASE_DEFAULTS)
        base.update(DEFAULTS[model])
        base.setdefault("model_class", model)
        return base
    return {**_models.MODELS[model].all_defaults, "model_class": model}


# ---------------------------------------------------------------------------
# Optimization: which parameters, which bounds, which in log space
# ---------------------------------------------------------------------------


def numeric_parameters(model: str) -> list[str]:
    """The model's numeric, non-derived, non-static parameters: the entries a parameter vector can hold.

    Raises:
        ValueError: unknown model.
    """
    d = get_defaults(model)
    return [k for k, v in d.items() if k not in STATIC_PARAMS and k not in DERIVED_PARAMS
            and isinstance(v, numbers.Real) and not isinstance(v, bool)]


def optimizable_parameters(model: str) -> list[str]:
    """Parameters of ``model`` that may be optimized (:data:`OPTIMIZABLE_PARAMETERS`).

    Raises:
        ValueError: unknown model.
    """
    check_model_name(model)
    return list(OPTIMIZABLE_PARAMETERS[model])


def get_optimization_bounds(model: str, param: str) -> tuple[float, float]:
    """Physical optimization bounds ``(lower, upper)`` of one parameter.

    Args:
        model: model name.
        param: parameter name (must be optimizable for the model).

    Returns:
        ``(lower, upper)`` in the parameter's physical units (``Rmax`` in its own
        units even though it is optimized in log space).

    Raises:
        ValueError: unknown model, or a parameter that is not optimizable for it
            (the message lists the valid ones).

    Example:
        >>> get_optimization_bounds("pbuf", "k_sat")
        (0.1, 2.0)
    """
    valid = optimizable_parameters(model)
    if not isinstance(param, str) or param not in valid:
        raise ValueError(
            f"parameter {param!r} cannot be optimized for model {model!r}; valid parameters: {', '.join(valid)}"
        )
    bounds = model_for(model).all_bounds
    lo, hi = bounds[param]
    return float(lo), float(hi)


def get_bounds(model: str, params: Iterable[str] | None = None) -> dict[str, tuple[float, float]]:
    """Bounds of several parameters (all optimizable ones by default)."""
    names = optimizable_parameters(model) if params is None else list(params)
    return {p: get_optimization_bounds(model, p) for p in names}


def log_space_params(model: str) -> tuple[str, ...]:
    """Parameters of ``model`` optimized in :math:`\\log_{10}` space (PBUF: ``Rmax``)."""
    return tuple(model_for(model).log_params)


def validate_free_params(model: str, params: Sequence[str] | str) -> list[str]:
    """Check a list of parameters to optimize and return it as a list.

    Accepts a list of names or a comma-separated string (``"H0,Om0"``).

    Raises:
        ValueError: unknown model, an empty name, a duplicate, or a parameter that
            cannot be optimized for the model (the message lists the valid ones).
        TypeError: ``params`` is not a string or a sequence of strings.
    """
    valid = optimizable_parameters(model)
    if isinstance(params, str):
        params = [s.strip() for s in params.split(",") if s.strip()]
    if not isinstance(params, (list, tuple)):
        raise TypeError(f"parameters to optimize must be a list of names, got {type(params).__name__}")
    out = []
    for p in params:
        if not isinstance(p, str):
            raise TypeError(f"parameter names must be strings, got {type(p).__name__} ({p!r})")
        if p not in valid:
            raise ValueError(
                f"parameter {p!r} cannot be optimized for model {model!r}; valid parameters: {', '.join(valid)}"
            )
        if p in out:
            raise ValueError(f"parameter {p!r} listed twice in the parameters to optimize")
        out.append(p)
    return out


# ---------------------------------------------------------------------------
# Validation and construction
# ---------------------------------------------------------------------------


def check_number(key: str, value: Any) -> float:
    """``value`` as a finite float, refusing booleans, strings, complex and non-scalar values.

    Args:
        key: parameter name, used in the error messages.
        value: a real scalar (Python, numpy, a concrete JAX scalar, or a 0-d/1-element array).

    Raises:
        TypeError: not a real scalar.
        ValueError: not finite.

    Example:
        >>> check_number("H0", np.float32(70.0))
        70.0
    """
    if isinstance(value, jax.core.Tracer):
        raise TypeError(f"parameter {key!r} is a traced JAX value: parameter dicts are built outside jit/grad "
                        f"(trace the kernels on a dict of arrays instead, e.g. cosmology.hubble(z, {{**p, {key!r}: x}}))")
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.ndarray, np.generic, jax.Array)):
        raise TypeError(f"parameter {key!r} must be a real number, got {type(value).__name__} ({value!r})")
    arr = np.asarray(value)
    if arr.size != 1 or not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise TypeError(f"parameter {key!r} must be a real scalar, got {value!r}")
    value = float(arr.reshape(-1)[0])
    if not math.isfinite(value):
        raise ValueError(f"parameter {key!r} must be finite, got {value}")
    return value


def validate_params(params: Mapping[str, Any]) -> bool:
    """Check a parameter dict for physical consistency (:mod:`pbufjax.cosmology.validity`).

    Checks that every numeric entry is finite and inside its valid range
    (:func:`~pbufjax.cosmology.validity.valid_range`), that ``Obh2 < Om0 h^2``, that
    :math:`E^2(z) > 0` on a grid from z = 0 to 1e5 (a model whose expansion rate
    becomes imaginary is rejected here rather than producing NaN later), and that the
    expansion during recombination is inside the domain the recombination fits were
    validated on.

    Returns:
        True.

    Raises:
        ValueError: naming the offending parameter and its value.
        TypeError: a numeric parameter given as a non-number.
    """
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict, got {type(params).__name__}")
    name = params.get("model_class", "lcdm")
    model = model_for(name)
    required = set(_models.BASE_DEFAULTS) | set(model.defaults)
    missing = sorted(k for k in required if k not in params)
    if missing:
        raise ValueError(f"missing parameter(s) {missing} for model {name!r}")
    vals = {}
    for key, value in params.items():
        if key in STATIC_PARAMS or key in DERIVED_PARAMS or key in METADATA_KEYS:
            continue
        if isinstance(value, str):
            raise TypeError(f"parameter {key!r} must be a real number, got str ({value!r})")
        if isinstance(value, (numbers.Real, np.ndarray, np.generic)) or hasattr(value, "__float__"):
            vals[key] = check_number(key, value)
    check_point({k: vals[k] for k in required}, name)
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
        TypeError: a parameter of the wrong type, or ``overrides`` not a dict.

    Example:
        >>> p = build_params("lcdm", overrides={"H0": 70.0, "Om0": 0.3})
        >>> round(p["Omh2"], 4)
        0.147
    """
    params = get_defaults(model)
    if overrides is not None and not isinstance(overrides, Mapping):
        raise TypeError(f"overrides must be a dict of parameter values, got {type(overrides).__name__}")
    if optimization_metadata is not None and not isinstance(optimization_metadata, Mapping):
        raise TypeError(f"optimization_metadata must be a dict, got {type(optimization_metadata).__name__}")
    overrides = dict(overrides or {})
    if "model_class" in overrides and overrides["model_class"] != params["model_class"]:
        raise ValueError(f"override model_class={overrides['model_class']!r} conflicts with model {model!r}")
    method = overrides.pop("recomb_method", None) or recomb_method or params.get("recomb_method") or DEFAULT_METHOD
    if not isinstance(method, str):
        raise TypeError(f"recomb_method must be a string, got {type(method).__name__}")
    check_method(method)
    valid = set(params) - set(STATIC_PARAMS)
    given_derived = {}
    for key, value in overrides.items():
        if key in DERIVED_PARAMS:
            given_derived[key] = check_number(key, value)
            continue
        if key in ("model_class",) or key in METADATA_KEYS:
            continue
        if key not in valid:
            raise ValueError(
                f"unknown parameter {key!r} for model {model!r}; valid parameters: {', '.join(sorted(valid))}"
            )
        params[key] = check_number(key, value)
    params["recomb_method"] = method
    validate_params(params)
    for key in list(params):
        if key not in STATIC_PARAMS:
            params[key] = float(params[key])
    if derived or given_derived:
        computed = derived_params(params)
        _check_derived(computed, given_derived)
        if derived:
            params.update(computed)
    if optimization_metadata is not None:
        params["optimization_metadata"] = dict(optimization_metadata)
    return params


#: Relative tolerance within which a derived key passed to :func:`build_params` must agree
#: with the value computed from the other parameters.
DERIVED_RTOL = 1e-8


def _check_derived(computed: Mapping[str, float], given: Mapping[str, float]) -> None:
    """Derived values must be finite; a derived key passed as an override must agree with them."""
    bad = [k for k, v in computed.items() if not math.isfinite(v)]
    if bad:  # pragma: no cover - the validity conditions should make this unreachable
        raise ValueError(f"derived parameter(s) {bad} are not finite at this point: {dict(computed)}")
    for key, value in given.items():
        if not math.isclose(value, computed[key], rel_tol=DERIVED_RTOL, abs_tol=0.0):
            raise ValueError(
                f"{key} is a derived parameter (computed from the others: {computed[key]:.10g}); it cannot be set "
                f"(got {value:g}). Set the parameters it derives from instead and leave "
                f"{', '.join(DERIVED_PARAMS)} out of overrides")


_DERIVED_CACHE: dict = {}  # (model, method, keys, e2) -> jitted (z*, z_d, r_d)
register_cache("cosmology.parameters.derived", _DERIVED_CACHE.clear)


def derived_params(params: Mapping[str, Any]) -> dict[str, float]:
    """``Omh2, z_recomb, z_drag, r_s_drag, omnuh2, Onu0`` computed by the compiled kernels.

    :math:`\\omega_m = \\Omega_m h^2` (massive neutrinos included, as in ``Om0``);
    :math:`\\omega_\\nu` and :math:`\\Omega_\\nu` are the massive neutrinos' density today
    (relativistic part included, CAMB's ``omnuh2``; 0 when ``mnu = 0``); :math:`z_*`, :math:`z_d` and
    :math:`r_s(z_d)` from :func:`pbufjax.cosmology.cmb.derived` with the dict's
    ``recomb_method``. One cached jit per (model, method).
    """
    model_class = params.get("model_class", "lcdm")
    method = params.get("recomb_method", DEFAULT_METHOD)
    keys = tuple(sorted(model_for(model_class).all_defaults))
    key = (model_class, method, keys, _models.MODELS[model_class].e2)
    fn = _DERIVED_CACHE.get(key)
    if fn is None:

        def fn_(vec):
            q = {**dict(zip(keys, vec)), "model_class": model_class, "recomb_method": method}
            d = _derived(q)
            dens = _models.densities(q)
            return jnp.stack([d["z_star"], d["z_drag"], d["r_drag"], jnp.asarray(dens.omega_nu, jnp.float64)])

        fn = _DERIVED_CACHE[key] = jax.jit(fn_)
    out = np.asarray(fn(np.array([float(params[k]) for k in keys], dtype=np.float64)))
    h = params["H0"] / 100.0
    return {
        "Omh2": float(params["Om0"] * h * h),
        "z_recomb": float(out[0]),
        "z_drag": float(out[1]),
        "r_s_drag": float(out[2]),
        "omnuh2": float(out[3] * h * h),
        "Onu0": float(out[3]),
    }


__all__ = [
    "DERIVED_RTOL",
    "numeric_parameters",
    "valid_range",
    "valid_ranges",
    "DEFAULTS",
    "DEFAULT_METHOD",
    "DERIVED_PARAMS",
    "METADATA_KEYS",
    "OPTIMIZABLE_PARAMETERS",
    "STATIC_PARAMS",
    "available_models",
    "build_params",
    "check_method",
    "check_model_name",
    "check_number",
    "derived_params",
    "get_bounds",
    "get_defaults",
    "get_optimization_bounds",
    "log_space_params",
    "model_for",
    "optimizable_parameters",
    "validate_free_params",
    "validate_params",
]
