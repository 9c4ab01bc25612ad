"""Where a parameter point is valid: per-parameter ranges and the joint conditions of a physical point.

A point is valid when

1. every parameter lies in its **valid range** (:func:`valid_range`: the model
   registry's ``valid_ranges``, :data:`~pbufjax.cosmology.models.BASE_VALID_RANGES`
   for the base parameters), the values where the kernels are physical and their
   approximations were checked against CAMB (``tests/data/make_validity_reference.py``);
2. baryons are part of the matter, :math:`\\omega_b < \\Omega_m h^2`;
3. the expansion is real, :math:`E^2(z) > 0` and finite on :data:`ZP1_GRID`
   (:math:`0 \\le z \\le 10^5`; massive neutrinos counted as cold matter there, which is
   what they are at the low redshifts where a bounce can happen);
4. the expansion during recombination is inside the validated domain: the ΛCDM-like
   law matching the model's :math:`H(z)` at :math:`1+z = 900, 1400`
   (:func:`~pbufjax.cosmology.recomb_fit.effective_early_densities`) has
   :math:`\\omega_m^{\\rm eff}` in :data:`RECOMBINATION_OMH2_RANGE` and
   :math:`\\omega_r^{\\rm eff}` within :data:`RECOMBINATION_RADIATION_RANGE` of photons plus
   the standard :data:`~pbufjax.constants.NEFF_DEFAULT` massless neutrinos. This refuses, for example, dark energy that dominates at
   recombination (``w0 > 0``, large ``wa``) or a negative PBUF radiation factor.

One table serves two uses. Outside jit, :func:`check_point` raises a ValueError
naming the parameter, its value and the range (``build_params`` and
``validate_params`` call it). Inside jit, :func:`physical_mask` is the same test as a
traced boolean; the likelihood returns :math:`\\chi^2 = +\\infty` where it is False and
evaluates everything else at a valid point, so the gradient stays finite (zero) and an
optimizer or sampler steps back instead of stopping on NaN.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .. import constants
from ..runtime import register_cache
from . import models as _models
from .recomb_fit import effective_early_densities

#: Redshift grid (as 1+z) on which :math:`E^2 > 0` is required.
ZP1_GRID = np.concatenate([np.linspace(1.0, 10.0, 46), np.geomspace(10.0, 1.0e5, 50)[1:]])
ZP1_GRID.setflags(write=False)
#: Validated range of the effective :math:`\\omega_m` during recombination.
RECOMBINATION_OMH2_RANGE = (0.005, 2.5)
#: Validated range of the effective radiation density during recombination, relative to
#: photons plus NEFF_DEFAULT massless neutrinos at the point's ``Tcmb`` (N_eff from 0 to 10 spans 0.59–1.93;
#: the PBUF factor :math:`F` multiplies it).
RECOMBINATION_RADIATION_RANGE = (0.3, 3.0)

_UNBOUNDED = (-math.inf, math.inf)
#: Parameters that must hold whole numbers.
INTEGER_PARAMS = ("num_massive_neutrinos",)


def valid_ranges(model: str) -> dict[str, tuple[float, float]]:
    """Valid range ``(lo, hi)`` (inclusive) of every ranged parameter of ``model``.

    Raises:
        ValueError: unknown model.
    """
    return dict(_models.get_model(model).all_valid_ranges)


def valid_range(model: str, name: str) -> tuple[float, float]:
    """Valid range ``(lo, hi)`` (inclusive) of one parameter; ``(-inf, inf)`` for one without a range.

    Example:
        >>> valid_range("lcdm", "H0")
        (10.0, 200.0)

    Raises:
        ValueError: unknown model.
    """
    lo, hi = valid_ranges(model).get(name, _UNBOUNDED)
    return float(lo), float(hi)


def range_message(model: str, name: str, value: float) -> str:
    """The message refusing ``name = value`` for ``model`` (outside its valid range)."""
    lo, hi = valid_range(model, name)
    return f"{name} = {value:g} is outside its valid range [{lo:g}, {hi:g}] for model {model!r}"


def range_violations(model: str, values: Mapping[str, Any]) -> dict[str, str]:
    """Per-parameter check of ``values``: name -> message for each value that is not a finite
    real number inside its valid range (names without a range only need to be finite numbers).

    Metadata and non-parameter keys (strings, dicts) are ignored; nothing is raised for a
    bad value, so a caller can report every problem at once (e.g. ``store repair``).

    Example:
        >>> range_violations("lcdm", {"H0": -70.0, "Om0": 0.3})
        {'H0': "H0 = -70 is outside its valid range [10, 200] for model 'lcdm'"}

    Raises:
        ValueError: unknown model.
    """
    ranges = valid_ranges(model)
    out: dict[str, str] = {}
    for name, value in values.items():
        if isinstance(value, (str, Mapping)) or value is None:
            continue
        if isinstance(value, bool):
            out[name] = f"{name} = {value!r} is not a number"
            continue
        try:
            v = float(value)
        except (TypeError, ValueError):
            out[name] = f"{name} = {value!r} is not a number"
            continue
        if not math.isfinite(v):
            out[name] = f"{name} = {v} is not finite"
        elif name in ranges and not ranges[name][0] <= v <= ranges[name][1]:
            out[name] = range_message(model, name, v)
        elif name in INTEGER_PARAMS and v != round(v):
            lo, hi = valid_range(model, name)
            out[name] = f"{name} = {v:g} must be a whole number from {lo:g} to {hi:g}"
    return out


# ---------------------------------------------------------------------------
# The joint conditions, one traceable function for both uses
# ---------------------------------------------------------------------------


def _standard_radiation_h2(p: Mapping):
    tcmb = jnp.asarray(p.get("Tcmb", constants.TCMB_DEFAULT), jnp.float64)
    return constants.omega_gamma_h2(tcmb) * (1.0 + constants.NEFF_DEFAULT * constants.NEUTRINO_FACTOR)


def joint_quantities(p: Mapping) -> dict[str, jnp.ndarray]:
    """The quantities the joint conditions test (traceable): ``omega_b``, ``omega_m``,
    ``e2_min`` (:math:`\\min E^2` on :data:`ZP1_GRID`, :math:`-\\infty` if any value is not
    finite), ``omh2_recombination`` and ``radiation_recombination`` (see the module docstring)."""
    if _models.DENSITIES_KEY not in p:  # one evaluation of the densities for every kernel below
        p = _models.with_densities(p)
    d = _models.densities(p)
    # E^2 > 0 is tested with the neutrinos' density today taken as cold matter (mnu = 0: the
    # massless split, Om0 all a^-3): the same at the low redshifts where a bounce can happen,
    # and it spares a Fermi-Dirac evaluation on the whole grid
    cold = {k: v for k, v in p.items() if k != _models.DENSITIES_KEY}
    cold["mnu"] = 0.0
    e2 = _models.e2_zp1(jnp.asarray(ZP1_GRID), cold)
    e2_min = jnp.min(jnp.where(jnp.isfinite(e2), e2, -jnp.inf))
    omh2_eff, orh2_eff = effective_early_densities(p)
    return {
        "omega_b": jnp.asarray(p["Obh2"], jnp.float64),
        "omega_m": d.omega_m * d.h**2,
        "e2_min": e2_min,
        "omh2_recombination": omh2_eff,
        "radiation_recombination": orh2_eff / _standard_radiation_h2(p),
        "mnu": jnp.asarray(p.get("mnu", _models.BASE_DEFAULTS["mnu"]), jnp.float64),
        "num_massive_neutrinos": jnp.asarray(p.get("num_massive_neutrinos",
                                                   _models.BASE_DEFAULTS["num_massive_neutrinos"]), jnp.float64),
    }


def _joint_ok(q: Mapping) -> jnp.ndarray:
    lo_m, hi_m = RECOMBINATION_OMH2_RANGE
    lo_r, hi_r = RECOMBINATION_RADIATION_RANGE
    ok = (q["omega_b"] < q["omega_m"]) & (q["e2_min"] > 0.0)
    ok = ok & (q["omh2_recombination"] >= lo_m) & (q["omh2_recombination"] <= hi_m)
    ok = ok & (q["radiation_recombination"] >= lo_r) & (q["radiation_recombination"] <= hi_r)
    return ok & ~((q["mnu"] > 0.0) & (q["num_massive_neutrinos"] < 1.0))


def physical_mask(p: Mapping, model: str | None = None) -> jnp.ndarray:
    """True where ``p`` is a valid point (every condition of the module docstring); traceable.

    Args:
        p: parameter dict whose numeric entries may be traced arrays.
        model: model name (default ``p["model_class"]``, else ``lcdm``).

    Returns:
        A scalar boolean array (False also where any tested value is NaN).
    """
    name = model or p.get("model_class", "lcdm")
    p = _models.with_densities({**p, "model_class": name})
    ok = jnp.asarray(True)
    for key, (lo, hi) in valid_ranges(name).items():
        if key in p:
            v = jnp.asarray(p[key], jnp.float64)
            ok = ok & (v >= lo) & (v <= hi)
            if key in INTEGER_PARAMS:
                ok = ok & (v == jnp.round(v))
    return ok & _joint_ok(joint_quantities(p))


_JOINT_CACHE: dict = {}  # (model, e2, keys) -> jitted joint quantities
register_cache("cosmology.validity.joint", _JOINT_CACHE.clear)


def _joint_on_host(name: str, numeric: Mapping[str, float]) -> dict[str, float]:
    keys = tuple(sorted(numeric))
    model = _models.get_model(name)
    key = (name, model.e2, keys)
    fn = _JOINT_CACHE.get(key)
    if fn is None:
        def fn_(vec):
            return joint_quantities({**dict(zip(keys, vec)), "model_class": name})

        fn = _JOINT_CACHE[key] = jax.jit(fn_)
    out = fn(np.array([numeric[k] for k in keys], dtype=np.float64))
    return {k: float(v) for k, v in out.items()}


def _extras(name: str, numeric: Mapping[str, float]) -> str:
    extra = [k for k in _models.get_model(name).defaults if k in numeric]
    shown = ["H0", "Om0", "Ok0", "Neff", *extra]
    return ", ".join(f"{k} = {numeric[k]:g}" for k in shown if k in numeric)


def check_point(numeric: Mapping[str, float], model: str) -> None:
    """Raise a ValueError naming the first violated condition (module docstring) of a point.

    Args:
        numeric: the model's numeric parameters as floats (every key of the model's defaults).
        model: model name.

    Raises:
        ValueError: naming the parameter, its value and its valid range, or the joint
            condition that fails with the values it depends on.
    """
    bad = range_violations(model, numeric)
    if bad:
        raise ValueError("; ".join(bad.values()))
    q = _joint_on_host(model, numeric)
    if q["mnu"] > 0.0 and q["num_massive_neutrinos"] < 1.0:
        raise ValueError(f"mnu = {q['mnu']:g} eV needs num_massive_neutrinos >= 1 (got 0); set mnu = 0 for "
                         f"massless neutrinos, or num_massive_neutrinos to 1, 2 or 3")
    if not q["omega_b"] < q["omega_m"]:
        raise ValueError(
            f"Obh2 = {q['omega_b']:g} must be below Om0*h^2 = {q['omega_m']:.4g} (H0 = {numeric['H0']:g}, "
            f"Om0 = {numeric['Om0']:g}): baryons are part of the matter density; raise H0 or Om0, or lower Obh2")
    if not q["e2_min"] > 0.0:
        e2 = np.asarray(_models.e2_zp1(jnp.asarray(ZP1_GRID), {**numeric, "model_class": model}))
        where = ZP1_GRID[~(np.isfinite(e2) & (e2 > 0))]
        z = where[0] - 1.0 if where.size else float("nan")
        raise ValueError(f"parameters give a non-physical expansion (E^2 <= 0 or non-finite) at z = {z:.4g} "
                         f"for model {model!r} ({_extras(model, numeric)})")
    m, r = q["omh2_recombination"], q["radiation_recombination"]
    (lo_m, hi_m), (lo_r, hi_r) = RECOMBINATION_OMH2_RANGE, RECOMBINATION_RADIATION_RANGE
    if not (lo_m <= m <= hi_m and lo_r <= r <= hi_r):
        raise ValueError(
            f"the expansion during recombination is outside the validated domain for model {model!r} "
            f"({_extras(model, numeric)}): effective omega_m = {m:.4g} (valid [{lo_m:g}, {hi_m:g}]), radiation "
            f"relative to photons + {constants.NEFF_DEFAULT:g} neutrinos = {r:.4g} (valid [{lo_r:g}, {hi_r:g}])")


__all__ = [
    "INTEGER_PARAMS",
    "RECOMBINATION_OMH2_RANGE",
    "RECOMBINATION_RADIATION_RANGE",
    "ZP1_GRID",
    "check_point",
    "joint_quantities",
    "physical_mask",
    "range_message",
    "range_violations",
    "valid_range",
    "valid_ranges",
]
