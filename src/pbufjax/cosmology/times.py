"""Cosmic and conformal time, comoving volumes, and the distance to last scattering.

The time integrals use the variable of :mod:`.background`, :math:`u = a^{1/2} = (1+z)^{-1/2}`.
With :math:`1+z = u^{-2}`, :math:`dz = -2u^{-3}du` and :math:`E = \\sqrt{u^8E^2}/u^4`,

.. math::

    t(z) = \\int_z^\\infty \\frac{dz'}{(1+z')H(z')}
         = \\frac{1}{H_0}\\int_0^{u(z)} \\frac{2u^3\\,du}{\\sqrt{u^8E^2}},\\qquad
    \\eta(z) = \\int_z^\\infty \\frac{c\\,dz'}{H(z')}
         = \\frac{c}{H_0}\\int_0^{u(z)} \\frac{2u\\,du}{\\sqrt{u^8E^2}}

(Hogg 1999, astro-ph/9905116, eqs. 30 and 14): bounded, smooth integrands on
:math:`[0, 1]`, since :math:`u^8E^2 \\to \\Omega_r` as :math:`u\\to0`. The integrals from
:math:`u` to 1 (lookback time, comoving distance) use the 128-node panel rule of
:mod:`.background` (:func:`~pbufjax.cosmology.background.static_rule` for concrete
redshifts, :func:`~pbufjax.cosmology.background.integrate_from` for traced ones). The
integrals from 0 to :math:`u` (age, conformal time) are the full :math:`\\int_0^1` minus
that for :math:`u \\ge` :data:`DIRECT_BELOW`; below it (:math:`z \\gtrsim 1100`, where the
difference would lose digits as :math:`t \\to 0`) they are taken directly on a
:data:`DIRECT_ORDER`-node Gauss-Legendre rule scaled to :math:`[0, u]`, the rule that
:func:`~pbufjax.cosmology.background.recombination_integrals` uses up to :math:`z_*`.

Units: time in Gyr (Julian, :data:`GYR_S`), conformal time and distances in Mpc,
volumes in Gpc³ (full sky) and Mpc³ sr⁻¹ per unit redshift.

Accuracy (``tests/cosmology/test_times.py``, references by ``tests/data/make_times_reference.py``;
flat, open, closed ΛCDM, wCDM, w0wa, massless neutrinos): age within 1.6e-10 of CAMB 2.0.5's
``physical_time`` at a tight tolerance (the two codes' Mpc; at CAMB's default tolerance CAMB
itself is 3.7e-5 off) and 1.5e-10 of astropy for z ≤ 100 (astropy's quadrature); conformal time
within 1.7e-10 of CAMB; lookback time 9e-13, comoving volume 2.6e-13 (against :math:`4\\pi\\int`
of astropy's :math:`dV_C/dz\\,d\\Omega`) and differential comoving volume 1.3e-12 of astropy.
"""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from .. import constants
from .background import (
    ENDPOINT_NODES,
    ENDPOINT_ORDER,
    ENDPOINT_WEIGHTS,
    FULL_WEIGHTS,
    NODES,
    check_redshift,
    comoving_distance,
    comoving_transverse_distance,
    hubble_distance,
    hubble_distance_z,
    integrals_to_one,
    los_integrand,
    u8e2,
    u_flat,
)
from .models import densities
from .recombination import z_star_and_drag

#: Seconds in a gigayear of Julian years (IAU: 1 yr = 365.25 d of 86 400 s, exact), the
#: unit of astropy's ``u.Gyr`` and of CAMB's ``physical_time``.
GYR_S = 1e9 * 365.25 * 86400.0
#: Megaparsec [km] (IAU 2015 parsec, :data:`pbufjax.constants.MPC_M`).
MPC_KM = constants.MPC_M / 1e3
#: Below this :math:`u = (1+z)^{-1/2}` (:math:`z > 1110`), :math:`\\int_0^u` is taken directly on
#: the scaled Gauss-Legendre rule instead of as :math:`\\int_0^1 - \\int_u^1`.
DIRECT_BELOW = 0.03
#: Gauss-Legendre nodes of the scaled rule on :math:`[0, u]` (background's end-point rule).
DIRECT_ORDER = ENDPOINT_ORDER
#: Coefficients of :math:`K(y) = \\sum_n 2^{2n+3} y^n/(2n+3)!`, n = 0..6 (:func:`_volume_factor`).
_K_SERIES = np.array([2.0 ** (2 * n + 3) / float(np.prod(np.arange(1, 2 * n + 4))) for n in range(7)])
_K_SERIES.setflags(write=False)


def hubble_time(p: Mapping):
    """Hubble time :math:`t_H = 1/H_0` [Gyr].

    Example:
        >>> round(float(hubble_time({"H0": 70.0})), 5)
        13.96846
    """
    return MPC_KM / jnp.asarray(p["H0"], jnp.float64) / GYR_S


def time_integrand(u, p: Mapping):
    """Integrand of :math:`H_0 t` in u: :math:`2u^3/\\sqrt{u^8E^2}` (finite at :math:`u = 0`)."""
    return 2.0 * u**3 / jnp.sqrt(u8e2(u, p))


#: Integrand of :math:`H_0\\eta/c` (and of :math:`H_0 D_C/c`) in u: :math:`2u/\\sqrt{u^8E^2}`,
#: the line-of-sight integrand of :mod:`.background`.
conformal_integrand = los_integrand


def _u_flat(z):
    """:math:`u = (1+z)^{-1/2}` as a 1-D array and the shape of ``z``, the redshift checked."""
    return u_flat(check_redshift(z))


def _head(u, integrand, p: Mapping):
    """:math:`\\int_0^{u_i} f` for 1-D ``u``: :math:`\\int_0^1 f - \\int_{u_i}^1 f` on the panel rule where
    :math:`u_i \\ge` :data:`DIRECT_BELOW`, and :math:`u_i\\sum_j w_j f(u_i s_j)` (Gauss-Legendre on
    :math:`[0, u_i]`) below, where the difference would lose digits."""
    fvals = integrand(jnp.asarray(NODES), p)
    by_difference = jnp.dot(jnp.asarray(FULL_WEIGHTS), fvals) - integrals_to_one(u, fvals)
    un = np.asarray(u) if not isinstance(u, jax.core.Tracer) else None
    if un is not None and not np.any(un < DIRECT_BELOW):
        return by_difference  # no point needs the direct rule: skip its evaluations
    uj = jnp.asarray(u, jnp.float64)
    direct = _direct(jnp.minimum(uj, DIRECT_BELOW), integrand, p)  # kept on its accurate range
    return jnp.where(uj < DIRECT_BELOW, direct, by_difference)


def _direct(u, integrand, p: Mapping):
    """:math:`\\int_0^{u_i} f = u_i\\sum_j w_j f(u_i s_j)` for 1-D ``u`` (nodes that move with :math:`u_i`)."""
    return u * (integrand(u[:, None] * jnp.asarray(ENDPOINT_NODES)[None, :], p) @ jnp.asarray(ENDPOINT_WEIGHTS))


def age(z, p: Mapping):
    """Age of the universe at redshift ``z`` [Gyr] (Hogg 1999, astro-ph/9905116, eq. 30).

    .. math::

        t(z) = \\int_z^\\infty \\frac{dz'}{(1+z')H(z')}
             = \\frac{1}{H_0}\\int_0^{(1+z)^{-1/2}} \\frac{2u^3\\,du}{\\sqrt{u^8E^2}}

    using the model's own :math:`E^2` (so every species it contains). Within 3e-11 of scipy
    quadrature from z = 0 to 1e8 at the corners of the parameter bounds, worst near
    z ≈ 1100 where the two rules meet (:data:`DIRECT_BELOW`), ~1e-15 at z ≲ 100.

    Args:
        z: redshift(s) >= 0, scalar or array, concrete or traced.
        p: parameter dict (``build_params`` output or any dict with ``H0, Om0``).

    Returns:
        :math:`t(z)` in Gyr, the shape of ``z``.

    Raises:
        TypeError: ``z`` is not a real number or array (outside jit).
        ValueError: ``z`` is negative or NaN (outside jit).

    Example:
        >>> round(float(age(0.0, {"H0": 70.0, "Om0": 0.3})), 2)
        13.46
    """
    u, shape = _u_flat(z)
    return hubble_time(p) * jnp.reshape(_head(u, time_integrand, p), shape)


def lookback_time(z, p: Mapping):
    """Lookback time :math:`t(0) - t(z)` [Gyr] (Hogg 1999, astro-ph/9905116, eq. 30).

    .. math::

        t_L(z) = \\int_0^z \\frac{dz'}{(1+z')H(z')}
               = \\frac{1}{H_0}\\int_{(1+z)^{-1/2}}^1 \\frac{2u^3\\,du}{\\sqrt{u^8E^2}},

    one integral (not a difference of ages), accurate relative to itself as z → 0.

    Args:
        z: redshift(s) >= 0, scalar or array, concrete or traced.
        p: parameter dict.

    Returns:
        :math:`t_L(z)` in Gyr, the shape of ``z``; exactly 0 at z = 0.

    Raises:
        TypeError: ``z`` is not a real number or array (outside jit).
        ValueError: ``z`` is negative or NaN (outside jit).
    """
    u, shape = _u_flat(z)
    tail = integrals_to_one(u, time_integrand(jnp.asarray(NODES), p))
    return hubble_time(p) * jnp.reshape(tail, shape)


def conformal_time(z, p: Mapping):
    """Conformal time :math:`\\eta(z)` times c, the comoving particle horizon at ``z`` [Mpc].

    .. math::

        c\\,\\eta(z) = \\int_z^\\infty \\frac{c\\,dz'}{H(z')}
                    = \\frac{c}{H_0}\\int_0^{(1+z)^{-1/2}} \\frac{2u\\,du}{\\sqrt{u^8E^2}},

    so that :math:`c\\eta(0) - c\\eta(z) = D_C(z)` (Dodelson & Schmidt, *Modern Cosmology*,
    eq. 2.41; CAMB's ``conformal_time``).

    Args:
        z: redshift(s) >= 0, scalar or array, concrete or traced.
        p: parameter dict.

    Returns:
        :math:`c\\eta(z)` in Mpc, the shape of ``z``.

    Raises:
        TypeError: ``z`` is not a real number or array (outside jit).
        ValueError: ``z`` is negative or NaN (outside jit).
    """
    u, shape = _u_flat(z)
    return hubble_distance(p) * jnp.reshape(_head(u, conformal_integrand, p), shape)


def _volume_factor(y):
    """:math:`K(y)` with :math:`V_C = \\pi D_C^3 K(\\Omega_k D_C^2/D_H^2)`: for y > 0
    :math:`(\\sinh 2\\sqrt y - 2\\sqrt y)/y^{3/2}`, for y < 0 :math:`(2\\sqrt{-y} - \\sin 2\\sqrt{-y})/(-y)^{3/2}`,
    and the series :math:`\\sum_n 2^{2n+3}y^n/(2n+3)!` (4/3 at y = 0) for :math:`|y| < 0.1`, so
    values and gradients are smooth through flat space."""
    small = jnp.abs(y) < 0.1
    ys = jnp.where(small, 1.0, y)
    r = jnp.sqrt(jnp.abs(ys))
    big = jnp.where(ys > 0, jnp.sinh(2.0 * r) - 2.0 * r, 2.0 * r - jnp.sin(2.0 * r)) / r**3
    series = jnp.polyval(jnp.asarray(_K_SERIES[::-1]), y)
    return jnp.where(small, series, big)


def comoving_volume(z, p: Mapping):
    """Full-sky comoving volume within redshift ``z`` [Gpc³] (Hogg 1999, astro-ph/9905116, eq. 29).

    Hogg's three branches,

    .. math::

        V_C = \\frac{4\\pi D_H^3}{2\\Omega_k}\\left[\\frac{D_M}{D_H}\\sqrt{1+\\Omega_k\\frac{D_M^2}{D_H^2}}
              - \\frac{1}{\\sqrt{|\\Omega_k|}}\\,{\\rm arcsinh}\\Big(\\sqrt{|\\Omega_k|}\\frac{D_M}{D_H}\\Big)\\right]
              \\quad(\\Omega_k > 0;\\ \\arcsin\\ {\\rm for}\\ \\Omega_k < 0;\\ \\tfrac{4\\pi}{3}D_M^3\\ {\\rm flat}),

    with :math:`D_H = c/H_0`, are one function of the line-of-sight distance :math:`D_C`
    (:math:`\\sqrt{\\Omega_k}D_M/D_H = \\sinh s`, :math:`s = \\sqrt{\\Omega_k}D_C/D_H`):

    .. math::

        V_C = \\pi D_C^3\\,\\frac{\\sinh 2s - 2s}{s^3},

    which is evaluated with a series for :math:`|s^2| < 0.1` (smooth through
    :math:`\\Omega_k = 0`) and, for closed space, stays right beyond the equator
    (:math:`s` imaginary: :math:`(2\\sigma - \\sin 2\\sigma)/\\sigma^3`).

    Args:
        z: redshift(s) >= 0, scalar or array, concrete or traced.
        p: parameter dict (``Ok0`` optional, default 0).

    Returns:
        :math:`V_C(z)` in Gpc³, the shape of ``z``.

    Raises:
        TypeError: ``z`` is not a real number or array (outside jit).
        ValueError: ``z`` is negative or NaN (outside jit).
    """
    dc = comoving_distance(z, p)
    y = densities(p).omega_k * (dc / hubble_distance(p)) ** 2
    return 1e-9 * jnp.pi * dc**3 * _volume_factor(y)


def differential_comoving_volume(z, p: Mapping):
    """Comoving volume per unit redshift and solid angle [Mpc³ sr⁻¹] (Hogg 1999, astro-ph/9905116, eq. 28).

    .. math::

        \\frac{dV_C}{dz\\,d\\Omega} = \\frac{c}{H_0}\\frac{(1+z)^2 D_A^2}{E(z)} = D_M^2(z)\\,\\frac{c}{H(z)},

    so that :math:`V_C(z) = 4\\pi\\int_0^z (dV_C/dz\\,d\\Omega)\\,dz'`.

    Args:
        z: redshift(s) >= 0, scalar or array, concrete or traced.
        p: parameter dict.

    Returns:
        :math:`dV_C/dz/d\\Omega` in Mpc³ sr⁻¹, the shape of ``z``.

    Raises:
        TypeError: ``z`` is not a real number or array (outside jit).
        ValueError: ``z`` is negative or NaN (outside jit).
    """
    z = check_redshift(z)
    return comoving_transverse_distance(z, p) ** 2 * hubble_distance_z(z, p)


def last_scattering(p: Mapping) -> dict:
    """Distances and times at photon decoupling :math:`z_*` (``p['recomb_method']``, default CAMBFIT).

    .. math::

        D_C(z_*) = c\\eta_0 - c\\eta_* = \\frac{c}{H_0}\\Big[\\int_0^1 - \\int_0^{u_*}\\Big]\\frac{2u\\,du}{\\sqrt{u^8E^2}},

    the same rule as :func:`~pbufjax.cosmology.cmb.derived` (whose ``DM_star`` is
    :math:`D_M` of this :math:`D_C`), and :math:`c\\eta_*`, :math:`t_*` up to the moving end
    point :math:`u_* = (1+z_*)^{-1/2}` on the scaled Gauss-Legendre rule.

    Args:
        p: parameter dict (needs ``Obh2``); numeric entries may be traced.

    Returns:
        dict with ``z_star``; ``DC_star`` (comoving distance to :math:`z_*`), ``eta_star``
        (:math:`c\\eta(z_*)`, the comoving horizon at decoupling) and ``eta_0`` (:math:`c\\eta(0)`)
        in Mpc; ``t_star`` (age at :math:`z_*`) and ``t_0`` (age today) in Gyr.
    """
    zs = jnp.asarray(z_star_and_drag(p)[0], jnp.float64)
    u = jnp.reshape(1.0 / jnp.sqrt(1.0 + zs), (1,))
    d_h = hubble_distance(p)
    eta_star = _direct(u, conformal_integrand, p)  # u* moves with the parameters: the direct rule
    t_star = _direct(u, time_integrand, p)
    eta_0 = jnp.dot(jnp.asarray(FULL_WEIGHTS), conformal_integrand(jnp.asarray(NODES), p))
    t_0 = jnp.dot(jnp.asarray(FULL_WEIGHTS), time_integrand(jnp.asarray(NODES), p))
    return {
        "z_star": zs,
        "DC_star": d_h * (eta_0 - eta_star[0]),
        "eta_star": d_h * eta_star[0],
        "eta_0": d_h * eta_0,
        "t_star": hubble_time(p) * t_star[0],
        "t_0": hubble_time(p) * t_0,
    }


def comoving_distance_to_last_scattering(p: Mapping):
    """Line-of-sight comoving distance to photon decoupling :math:`D_C(z_*)` [Mpc].

    .. math::

        D_C(z_*) = \\int_0^{z_*} \\frac{c\\,dz}{H(z)},

    :math:`z_*` from ``p['recomb_method']`` (default CAMBFIT). ``DC_star`` of :func:`last_scattering`;
    :math:`D_M(z_*)` of this distance is ``derived(p)['DM_star']`` (equal to it when :math:`\\Omega_k = 0`).

    Args:
        p: parameter dict (needs ``Obh2``); numeric entries may be traced.

    Returns:
        :math:`D_C(z_*)` in Mpc (a scalar).
    """
    return last_scattering(p)["DC_star"]
