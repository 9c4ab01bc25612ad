"""Redshifts of photon decoupling (:math:`z_*`) and of the baryon drag epoch (:math:`z_d`).

Methods, selected by the parameter dict's ``recomb_method``:

========== ====================================================================
``CAMBFIT`` default. Fits to CAMB's Recfast + BBN helium over
            :math:`(\\omega_b, \\omega_m, \\omega_r, Y_{He})`, fed with the model's own
            expansion rate at recombination (see :mod:`.recomb_fit`); ≲1e-4.
``HS96``    Hu & Sugiyama 1996 (astro-ph/9510117) :math:`z_*`; EH98 :math:`z_d`.
``EH98``    Eisenstein & Hu 1998 (astro-ph/9709112) :math:`z_d`; :math:`z_* = 1.04 z_d`.
``PLANCK18`` :math:`z_* = 1089.80(\\omega_b/0.02237)^{-0.004}(\\omega_m/0.1424)^{0.010}`;
            :math:`z_d` = EH98 shape normalised to Planck 2018's 1059.94.
``AUBOURG`` HS96/EH98 redshifts, but :math:`r_d` from Aubourg et al. 2015
            (arXiv:1411.1074, eq. 16) instead of the sound-horizon integral.
========== ====================================================================
"""

from __future__ import annotations

from typing import Mapping

import jax.numpy as jnp

from .models import densities

#: Name of the default method.
DEFAULT_METHOD = "CAMBFIT"


def _omegas(p: Mapping):
    d = densities(p)
    obh2 = jnp.asarray(p["Obh2"], jnp.float64)
    return obh2, d.omega_m * d.h**2


def z_star_hs96(obh2, omh2):
    """Hu & Sugiyama 1996 (astro-ph/9510117, eq. E1) decoupling redshift.

    .. math::

        z_* = 1048[1 + 0.00124\\,\\omega_b^{-0.738}][1 + g_1\\omega_m^{g_2}],\\;
        g_1 = \\frac{0.0783\\,\\omega_b^{-0.238}}{1+39.5\\,\\omega_b^{0.763}},\\;
        g_2 = \\frac{0.560}{1+21.1\\,\\omega_b^{1.81}}
    """
    g1 = 0.0783 * obh2**-0.238 / (1.0 + 39.5 * obh2**0.763)
    g2 = 0.560 / (1.0 + 21.1 * obh2**1.81)
    return 1048.0 * (1.0 + 0.00124 * obh2**-0.738) * (1.0 + g1 * omh2**g2)


def z_drag_eh98(obh2, omh2):
    """Eisenstein & Hu 1998 (astro-ph/9709112, eq. 4) drag redshift.

    .. math::

        z_d = \\frac{1291\\,\\omega_m^{0.251}}{1+0.659\\,\\omega_m^{0.828}}[1+b_1\\omega_b^{b_2}],\\;
        b_1 = 0.313\\,\\omega_m^{-0.419}[1+0.607\\,\\omega_m^{0.674}],\\; b_2 = 0.238\\,\\omega_m^{0.223}
    """
    b1 = 0.313 * omh2**-0.419 * (1.0 + 0.607 * omh2**0.674)
    b2 = 0.238 * omh2**0.223
    return 1291.0 * omh2**0.251 / (1.0 + 0.659 * omh2**0.828) * (1.0 + b1 * obh2**b2)


def z_star_planck18(obh2, omh2):
    """Power law around the Planck 2018 best fit: :math:`1089.80(\\omega_b/0.02237)^{-0.004}(\\omega_m/0.1424)^{0.010}`."""
    return 1089.80 * (obh2 / 0.02237) ** -0.004 * (omh2 / 0.1424) ** 0.010


def z_drag_planck18(obh2, omh2):
    """EH98 :math:`z_d` rescaled to equal Planck 2018's 1059.94 at (0.02237, 0.1424) (arXiv:1807.06209)."""
    return 1059.94 * z_drag_eh98(obh2, omh2) / z_drag_eh98(0.02237, 0.1424)


def r_drag_aubourg(obh2, omh2, omnuh2=0.0):
    """Aubourg et al. 2015 (arXiv:1411.1074, eq. 16) drag sound horizon [Mpc], calibrated at N_eff = 3.046.

    .. math::

        r_d = \\frac{55.154\\,e^{-72.3(\\omega_\\nu+0.0006)^2}}{\\omega_{cb}^{0.25351}\\,\\omega_b^{0.12807}}
    """
    return 55.154 * jnp.exp(-72.3 * (omnuh2 + 0.0006) ** 2) / (omh2**0.25351 * obh2**0.12807)


def _fit(p):
    from .recomb_fit import z_star_and_drag

    return z_star_and_drag(p)


def _hs96(p):
    ob, om = _omegas(p)
    return z_star_hs96(ob, om), z_drag_eh98(ob, om)


def _eh98(p):
    ob, om = _omegas(p)
    zd = z_drag_eh98(ob, om)
    return 1.04 * zd, zd


def _planck18(p):
    ob, om = _omegas(p)
    return z_star_planck18(ob, om), z_drag_planck18(ob, om)


#: method name -> function(params) -> (z_star, z_drag)
RECOMBINATION_METHODS = {
    "CAMBFIT": _fit,
    "HS96": _hs96,
    "EH98": _eh98,
    "PLANCK18": _planck18,
    "AUBOURG": _hs96,
}


def check_method(method: str) -> str:
    """Validate a method name.

    Raises:
        ValueError: naming the method and listing the valid ones.
    """
    if method not in RECOMBINATION_METHODS:
        raise ValueError(
            f"unknown recomb_method {method!r}; valid methods: {', '.join(RECOMBINATION_METHODS)}"
        )
    return method


def z_star_and_drag(p: Mapping):
    """:math:`(z_*, z_d)` with the method ``p['recomb_method']`` (default :data:`DEFAULT_METHOD`)."""
    method = check_method(p.get("recomb_method", DEFAULT_METHOD))
    return RECOMBINATION_METHODS[method](p)
