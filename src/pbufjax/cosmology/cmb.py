"""Derived quantities at recombination and the CMB distance priors.

.. math::

    r_* = r_s(z_*),\\quad r_d = r_s(z_d),\\quad \\theta_* = r_*/D_M(z_*),\\quad
    R = \\sqrt{\\Omega_m}\\,H_0 D_M(z_*)/c,\\quad \\ell_A = \\pi D_M(z_*)/r_*

(Wang & Mukherjee 2007, astro-ph/0703780; Chen, Huang & Wang 2019, arXiv:1808.05724).
"""

from __future__ import annotations

from typing import Mapping

import jax.numpy as jnp
import numpy as np

from .. import constants
from ..runtime.caches import register_cache
from .background import STATIC_MAX, recombination_integrals, transverse_from_radial
from .models import densities
from .recombination import r_drag_aubourg, z_star_and_drag

#: Keys returned by :func:`derived`.
DERIVED_KEYS = ("z_star", "r_star", "theta_star", "DM_star", "z_drag", "r_drag", "R", "l_A")


def derived(p: Mapping) -> dict:
    """All recombination-era derived quantities at once.

    Args:
        p: parameter dict (``build_params`` output, or any dict with ``H0, Om0, Obh2``
            and optional ``Neff, Tcmb, Ok0``, model extras, ``model_class``,
            ``recomb_method``). Numeric entries may be traced arrays.

    Returns:
        dict with ``z_star``, ``r_star`` [Mpc], ``theta_star`` (θ*, radians, not ×100),
        ``DM_star`` [Mpc], ``z_drag``, ``r_drag`` [Mpc], ``R`` and ``l_A``.
    """
    return derived_and_distances(p, None)[0]


def derived_and_distances(p: Mapping, z=None):
    """:func:`derived` and :math:`D_M` at fixed redshifts from one set of integrand evaluations.

    Args:
        p: parameter dict, as for :func:`derived`.
        z: concrete redshifts (numpy; at most
            :data:`~pbufjax.cosmology.background.STATIC_MAX` of them, all >= 0),
            or None.

    Returns:
        ``(derived_dict, D_M(z))``; the second entry is None when ``z`` is None.
    """
    if z is not None:
        zn = np.asarray(z, dtype=np.float64)
        if zn.size > STATIC_MAX or not np.all(np.isfinite(zn)) or np.any(zn < 0.0):
            raise ValueError(f"z must be at most {STATIC_MAX} finite redshifts >= 0 (concrete values); "
                             f"got {zn.size} values in [{np.min(zn) if zn.size else 0}, "
                             f"{np.max(zn) if zn.size else 0}]")
    zs, zd = z_star_and_drag(p)
    out = recombination_integrals(p, zs, zd, z)
    r_star, r_drag, dc = out[:3]
    dm_z = None if z is None else transverse_from_radial(out[3], p)
    d = densities(p)
    if p.get("recomb_method") == "AUBOURG":
        r_drag = r_drag_aubourg(jnp.asarray(p["Obh2"], jnp.float64), d.omega_m * d.h**2)
    dm = transverse_from_radial(dc, p)
    h0 = jnp.asarray(p["H0"], jnp.float64)
    return {
        "z_star": zs,
        "r_star": r_star,
        "theta_star": r_star / dm,
        "DM_star": dm,
        "z_drag": zd,
        "r_drag": r_drag,
        "R": jnp.sqrt(d.omega_m) * h0 * dm / constants.C_KM_S,
        "l_A": jnp.pi * dm / r_star,
    }, dm_z


def cmb_distance_priors(p: Mapping):
    """:math:`(R, \\ell_A)` shortcut."""
    d = derived(p)
    return d["R"], d["l_A"]


_NUMERIC_CACHE: dict = {}
register_cache("cosmology.cmb.derived_jit", _NUMERIC_CACHE.clear)


def derived_jit(p: Mapping) -> dict:
    """:func:`derived` through a cached ``jax.jit`` per (model, method): fast repeated calls
    with concrete parameter values (used by ``build_params``)."""
    import jax

    from .models import get_model
    from .recombination import DEFAULT_METHOD

    model_class = p.get("model_class", "lcdm")
    method = p.get("recomb_method", DEFAULT_METHOD)
    keys = tuple(sorted(get_model(model_class).all_defaults))
    fn = _NUMERIC_CACHE.get((model_class, method, keys))
    if fn is None:

        def fn_(numeric):
            return derived({**numeric, "model_class": model_class, "recomb_method": method})

        fn = _NUMERIC_CACHE[(model_class, method, keys)] = jax.jit(fn_)
    numeric = {k: jnp.asarray(p[k], jnp.float64) for k in keys if k in p}
    return fn(numeric)
