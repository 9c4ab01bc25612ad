"""``CAMBFIT``: fast, differentiable :math:`z_*` and :math:`z_d` calibrated on CAMB.

Recombination depends on the cosmology only through the baryon density
:math:`\\omega_b`, the helium fraction :math:`Y_{He}`, the CMB temperature and
the expansion rate :math:`H(z)` while it happens. In the recombination era
:math:`H^2/(100\\,{\\rm km/s/Mpc})^2 = \\omega_m(1+z)^3 + \\omega_r(1+z)^4` for
ΛCDM, so :math:`\\ln(1+z_*)` and :math:`\\ln(1+z_d)` are fitted as degree-5
polynomials in :math:`(\\ln\\omega_b, \\ln\\omega_m, \\ln\\omega_r, Y_{He})` to
3000 CAMB Recfast runs (``scripts/calibrate_recombination.py``; coefficients in
``pbufjax/cosmology/recomb_fit.json``). Accuracy on 600 held-out CAMB runs: max
relative error 7e-7 on :math:`z_*` and 4e-5 on :math:`z_d` (rms 3e-6).

Any other model enters through its own expansion rate: the effective
:math:`(\\omega_m, \\omega_r)` are those of the ΛCDM-like law that matches the
model's :math:`H(z)` at :math:`1+z = 900` and :math:`1+z = 1400`, bracketing the
visibility and drag windows. A PBUF radiation factor :math:`F(z)\\neq1`, a
different :math:`N_{\\rm eff}`, early dark energy or curvature therefore shift
:math:`z_*` and :math:`z_d` as they shift the expansion during recombination.
:math:`Y_{He}` follows big-bang nucleosynthesis (a polynomial fit, max error
2e-6, to CAMB's default PRIMAT table) for the model's :math:`\\omega_b` and true
:math:`N_{\\rm eff}`: nucleosynthesis happens at :math:`z\\sim10^9` where the
PBUF factor :math:`F\\to1`. A non-default ``Tcmb`` is handled exactly by the
temperature scaling of recombination, :math:`(1+z)T_{CMB}` = const.

The parameter ``YHe`` in a parameter dict, when present, overrides BBN.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Mapping

import jax.numpy as jnp
import numpy as np

from .. import constants
from ..runtime.caches import register_cache
from .models import densities, e2_zp1

#: The two values of 1+z where the model's H(z) is matched to a ΛCDM-like law.
MATCH_ZP1 = (900.0, 1400.0)
_T_REF = constants.TCMB_DEFAULT


@functools.lru_cache(maxsize=1)
def calibration() -> dict:
    """The calibration table (JSON) shipped with the package."""
    text = resources.files("pbufjax.cosmology").joinpath("recomb_fit.json").read_text()
    return json.loads(text)


@functools.lru_cache(maxsize=8)
def _selector(powers_key: tuple) -> np.ndarray:
    """Static one-hot matrix ``S`` with ``(S @ V.ravel())[k, i] = x_i^{p_ki}`` for the power table ``V[i, j] = x_i^j``."""
    powers = np.asarray(powers_key, dtype=np.int64)
    nterms, nvar = powers.shape
    deg = int(powers.max())
    sel = np.zeros((nterms, nvar, nvar, deg + 1))
    for k in range(nterms):
        for i in range(nvar):
            sel[k, i, i, powers[k, i]] = 1.0
    return sel.reshape(nterms * nvar, nvar * (deg + 1))


def _poly(x_cols, powers, coef):
    """Evaluate :math:`\\sum_k c_{kj} \\prod_i x_i^{p_{ki}}` for every column ``j`` of ``coef``.

    The monomials come from the power table :math:`x_i^j` by one product with a static
    one-hot matrix (no gathers, whose reverse pass is a scatter), so value and
    gradient are a handful of small fused operations.
    """
    key = tuple(map(tuple, np.asarray(powers, dtype=np.int64).tolist()))
    sel = _selector(key)
    nvar = len(x_cols)
    deg = sel.shape[1] // nvar - 1
    x = jnp.stack([jnp.asarray(xi, jnp.float64) for xi in x_cols])  # (nvar,)
    table = jnp.stack([x**j for j in range(deg + 1)], axis=1)  # (nvar, deg+1)
    factors = jnp.dot(jnp.asarray(sel), table.ravel()).reshape(len(key), nvar)
    mono = factors[:, 0]
    for i in range(1, nvar):
        mono = mono * factors[:, i]
    return jnp.dot(mono, jnp.asarray(coef, jnp.float64))


@functools.lru_cache(maxsize=4)
def _coefficients(names: tuple) -> np.ndarray:
    """Coefficient columns of the named fits, as one (terms, len(names)) array."""
    cal = calibration()
    return np.stack([np.asarray(cal[n]["coefficients"], dtype=np.float64) for n in names], axis=1)


def yhe_bbn(obh2, neff):
    """BBN helium mass fraction :math:`Y_{He}(\\omega_b, N_{\\rm eff})` (fit to CAMB's PRIMAT 2024 table).

    Valid for :math:`0.014 \\le \\omega_b \\le 0.032` and :math:`0.1 \\le N_{\\rm eff} \\le 8`.
    """
    cal = calibration()
    ref = cal["reference"]
    b = cal["yhe_bbn"]
    x = [jnp.log(obh2 / ref["obh2"]), (neff - 3.046) / 3.0]
    return _poly(x, b["powers"], b["coefficients"])


def effective_early_densities(p: Mapping):
    """:math:`(\\omega_m, \\omega_r)` of the ΛCDM-like law matching the model's :math:`H(z)` at :data:`MATCH_ZP1`.

    For ΛCDM these are :math:`\\omega_m` and :math:`\\omega_r` (to ~1e-9); for other
    models they encode the model's expansion rate during recombination.
    """
    h2 = densities(p).h ** 2
    a, b = MATCH_ZP1
    # numpy redshifts: with the neutrino parameters fixed, their Fermi-Dirac factors are constants
    ya = h2 * e2_zp1(np.float64(a), p) / a**3
    yb = h2 * e2_zp1(np.float64(b), p) / b**3
    orh2 = (yb - ya) / (b - a)
    omh2 = ya - orh2 * a
    return omh2, orh2


def z_star_and_drag(p: Mapping):
    """:math:`(z_*, z_d)` from the CAMB calibration (see module docstring)."""
    cal = calibration()
    ref = cal["reference"]
    obh2 = jnp.asarray(p["Obh2"], jnp.float64)
    tcmb = jnp.asarray(p.get("Tcmb", _T_REF), jnp.float64)
    neff = jnp.asarray(p.get("Neff", constants.NEFF_DEFAULT), jnp.float64)
    s = _T_REF / tcmb  # (1+z) T_CMB is fixed at recombination
    omh2, orh2 = effective_early_densities(p)
    obh2_s = obh2 * s**3
    if "YHe" in p:
        yhe = jnp.asarray(p["YHe"], jnp.float64)
    else:
        yhe = yhe_bbn(obh2_s, neff)
    x = [
        jnp.log(obh2_s / ref["obh2"]),
        jnp.log(omh2 * s**3 / ref["omh2"]),
        jnp.log(orh2 * s**4 / ref["orh2"]),
        (yhe - ref["yhe"]) / 0.05,
    ]
    coef = _coefficients(("z_star", "z_drag"))
    zp1 = jnp.exp(_poly(x, cal["powers"], coef)) * s
    return zp1[0] - 1.0, zp1[1] - 1.0


def _clear() -> None:
    for fn in (calibration, _selector, _coefficients):
        fn.cache_clear()


register_cache("cosmology.recomb_fit", _clear)
