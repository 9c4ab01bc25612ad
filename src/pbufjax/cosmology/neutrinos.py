"""Massive neutrinos: the exact Fermi–Dirac energy density and CAMB's split of Σmν and N_eff.

Parameters (every model): ``mnu`` = :math:`\\Sigma m_\\nu` [eV] (default 0.06, the Planck 2018 /
DESI DR2 baseline; 0 gives the massless results of earlier releases) and ``num_massive_neutrinos`` = :math:`n` (an integer 0–3, default 1;
3 = three degenerate masses). ``Neff`` keeps meaning the total effective number. The
split is CAMB's (its ``degenerate`` hierarchy, ``SetNeutrinoMasses``): the massive states
carry :math:`g = n\\,N_{\\rm std}/3` of it (:data:`STANDARD_NEFF` = 3.044, or all of ``Neff`` if
that is smaller) and :math:`N_{\\rm eff} - g` stays massless. Each massive state has mass
:math:`\\Sigma m_\\nu/n` and temperature :math:`T_{\\rm eff} = T_\\nu (g/n)^{1/4}`,
:math:`T_\\nu = (4/11)^{1/3} T_{\\rm CMB}`, so that its density, relative to one massless
species, is :math:`g\\,R(y)` with :math:`y = (\\Sigma m_\\nu/n)\\,a/(k_B T_{\\rm eff})` and

.. math::

    R(y) = \\frac{\\int_0^\\infty x^2\\sqrt{x^2+y^2}\\,(e^x+1)^{-1}dx}{7\\pi^4/120}.

``mnu = 0`` is the massless limit: every species is massless (CAMB's convention, its
``omnuh2 = 0``), which reproduces the massless results to round-off.

:func:`density_ratio` evaluates :math:`R` as one Chebyshev series in :math:`w = y/(y+3)`
(``neutrino_fd.json``, fitted by ``scripts/make_neutrino_table.py`` to 30-digit quadrature;
max relative error 5e-11 for every :math:`y \\ge 0`): smooth, jit/vmap/grad-safe, and its
derivatives are derivative series (:func:`chebyshev_series`), so it costs little to compile and
to run inside the likelihood.

When the neutrino parameters are compile-time constants (not fitted, not given as traced
values) and the redshifts are fixed (the quadrature nodes, the data's redshifts, the
recombination matching points), :func:`split` and :func:`density_ratio` compute in numpy
while tracing (:func:`is_constant`), so those factors are constants of the compiled program:
the default ``pbufjax fit`` traces 525 operations instead of 1736, and compiles and loads
faster. Traced values (a fitted ``mnu``, the recombination-dependent nodes) take the JAX path.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Mapping, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .. import constants

#: N_eff of the standard model (CAMB's ``standard_neutrino_neff``): the share of the
#: massive states is ``num_massive_neutrinos * STANDARD_NEFF / 3``.
STANDARD_NEFF = 3.044
#: Boltzmann constant [eV/K] (exact SI values of k_B and e).
K_B_EV = 1.380649e-23 / 1.602176634e-19
#: Largest ``num_massive_neutrinos``.
MAX_MASSIVE = 3
#: Neutrino-to-photon temperature ratio :math:`(4/11)^{1/3}`.
T_NU_OVER_T_CMB = (4.0 / 11.0) ** (1.0 / 3.0)


@functools.lru_cache(maxsize=1)
def table() -> dict:
    """The Chebyshev fit of :math:`R` shipped with the package (``neutrino_fd.json``)."""
    text = resources.files("pbufjax.cosmology").joinpath("neutrino_fd.json").read_text()
    return json.loads(text)


@functools.lru_cache(maxsize=32)
def chebyshev_series(coefficients: tuple[float, ...]):
    """``f(x) = sum_k a_k T_k(x)`` on :math:`[-1, 1]`, differentiable to any order at little cost.

    The value is Clenshaw's recurrence (element-wise multiply-adds, which XLA fuses into one
    loop). Its derivatives are not taken through the recurrence: a custom JVP rule evaluates
    the derivative series :math:`f' = \\sum_k a'_k T_k` (``numpy.polynomial.chebyshev.chebder``)
    by the same recurrence, so a gradient costs one more sum and a Hessian two, instead of the
    unrolled recurrence's tangent and transposed graphs (which made the traced χ² of every fit
    three times larger and its Hessian several seconds slower to compile).

    Args:
        coefficients: :math:`a_0, a_1, \\ldots` (a tuple, so the function is built once).
    """
    coef = [float(v) for v in coefficients]
    derivative = tuple(float(v) for v in np.polynomial.chebyshev.chebder(np.asarray(coef))) if len(coef) > 1 \
        else (0.0,)

    @jax.custom_jvp
    def series(x):
        x = jnp.asarray(x, jnp.float64)
        b1 = jnp.zeros_like(x)
        b2 = jnp.zeros_like(x)
        for a in coef[:0:-1]:  # Clenshaw, highest degree first
            b1, b2 = 2.0 * x * b1 - b2 + a, b1
        return x * b1 - b2 + coef[0]

    @series.defjvp
    def _series_jvp(primals, tangents):
        (x,), (dx,) = primals, tangents
        return series(x), chebyshev_series(derivative)(x) * dx

    return series


def density_ratio(y):
    """:math:`R(y)`: energy density of one thermal neutrino species of :math:`y = m a/(k_B T)`
    relative to the same species if massless (module docstring); jit/vmap/grad-safe.

    .. math::

        R(y) = \\frac{y+c}{c}\\sum_k a_k T_k(2w-1),\\qquad w = \\frac{y}{y+c},

    one Chebyshev series over every :math:`0 \\le y < \\infty` (``scripts/make_neutrino_table.py``:
    degree 32, :math:`c = 3`, max relative error 5e-11 against 30-digit quadrature), summed by
    :func:`chebyshev_series`: no look-up, no branches.

    Example:
        >>> round(float(density_ratio(0.0)), 9), round(float(density_ratio(1.0)), 9)
        (1.0, 1.06396262)
    """
    tab = table()
    c = float(tab["c"])
    if is_constant(y):  # known while tracing (fixed neutrino parameters at fixed nodes): a constant
        y = np.asarray(y, np.float64)
        x = 2.0 * (y / (y + c)) - 1.0
        return np.polynomial.chebyshev.chebval(x, np.asarray(tab["coefficients"], np.float64)) * (y + c) / c
    y = jnp.asarray(y, jnp.float64)
    x = 2.0 * (y / (y + c)) - 1.0
    return chebyshev_series(tuple(float(v) for v in tab["coefficients"]))(x) * (y + c) / c


def is_constant(*values) -> bool:
    """True when every value is a Python number or a numpy array/scalar: known while tracing,
    so what is computed from it alone is a constant of the compiled program (no operations)."""
    return all(isinstance(v, (int, float, np.ndarray, np.generic)) and not isinstance(v, bool) for v in values)


class Split(NamedTuple):
    """How ``Neff`` and ``mnu`` are shared between massless and massive species (traceable)."""

    massive: bool  #: static: False when the dict holds a concrete ``mnu = 0`` or ``num_massive_neutrinos = 0``
    g: jnp.ndarray  #: N_eff carried by the massive states (0 when mnu = 0)
    n_massless: jnp.ndarray  #: N_eff of the massless species
    y0: jnp.ndarray  #: :math:`m/(k_B T_{\\rm eff})` of one massive state today


#: Parameters whose concrete value 0 is the static massless branch (CAMB's ``num_massive = 0``):
#: :func:`split` then builds no Fermi-Dirac term, and a fit keeps such an override a constant.
MASSLESS_SWITCHES = ("mnu", "num_massive_neutrinos")


def _concrete_zero(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and float(v) == 0.0


def split(p: Mapping) -> Split:
    """CAMB's split of ``Neff`` and ``mnu`` for a parameter dict (module docstring).

    A dict without ``mnu`` or ``num_massive_neutrinos`` uses the defaults (0 eV, 1).
    """
    mnu_raw = p.get("mnu", 0.0)  # the two MASSLESS_SWITCHES
    n_raw = p.get("num_massive_neutrinos", 1)
    neff_raw = p.get("Neff", constants.NEFF_DEFAULT)
    if _concrete_zero(mnu_raw) or _concrete_zero(n_raw):
        return Split(False, jnp.asarray(0.0), jnp.asarray(neff_raw, jnp.float64), jnp.asarray(0.0))
    tcmb_raw = p.get("Tcmb", constants.TCMB_DEFAULT)
    # fixed (compile-time) neutrino parameters: the split is computed in numpy, so the
    # Fermi-Dirac factors at fixed redshifts are constants of the compiled program
    xp = np if is_constant(mnu_raw, n_raw, neff_raw, tcmb_raw) else jnp
    neff = xp.asarray(neff_raw, np.float64)
    mnu = xp.asarray(mnu_raw, np.float64)
    n = xp.asarray(n_raw, np.float64)
    g = xp.where(mnu > 0.0, xp.minimum(n * (STANDARD_NEFF / 3.0), neff), 0.0)
    n_safe = xp.maximum(n, 1.0)
    tcmb = xp.asarray(tcmb_raw, np.float64)
    t_eff = T_NU_OVER_T_CMB * tcmb * xp.where(g > 0.0, g / n_safe, 1.0) ** 0.25
    y0 = (mnu / n_safe) / (K_B_EV * t_eff)
    return Split(True, g, neff - g, y0)


def massive_term(zp1, s: Split, omega_gamma):
    """:math:`\\Omega_\\nu(z)/1` in :math:`E^2`: :math:`g\\,f_\\nu\\,\\Omega_\\gamma (1+z)^4 R(y_0/(1+z))`,
    :math:`f_\\nu = \\tfrac78(4/11)^{4/3}` (0 when there are no massive states)."""
    if not s.massive:
        return 0.0
    amp = s.g * constants.NEUTRINO_FACTOR * omega_gamma
    return amp * zp1**4 * density_ratio(s.y0 / zp1)


def omega_nu_today(s: Split, omega_gamma):
    """:math:`\\Omega_\\nu` today of the massive states (relativistic part included, as CAMB's ``omnuh2``)."""
    if not s.massive:
        return 0.0
    return s.g * constants.NEUTRINO_FACTOR * omega_gamma * density_ratio(s.y0)


__all__ = ["K_B_EV", "MASSLESS_SWITCHES", "MAX_MASSIVE", "STANDARD_NEFF", "Split", "T_NU_OVER_T_CMB", "density_ratio",
           "is_constant", "massive_term", "omega_nu_today", "split", "table"]

