"""Physical constants and unit conventions used throughout pbufjax.

One unit convention, stated once:

* distances in Mpc,
* the Hubble rate :math:`H(z)` in km/s/Mpc,
* the speed of light :math:`c = 299\\,792.458` km/s,
* temperatures in K.

Constants are the exact SI defining constants (2019 SI) and CODATA 2018
recommended values. The photon density parameter is computed from the
Stefan-Boltzmann :math:`T^4` law at full precision, not from a rounded constant:

.. math::

    \\omega_\\gamma = \\Omega_\\gamma h^2
        = \\frac{4 \\sigma_{SB} T_{\\rm CMB}^4 / c^3}{3 (100\\,{\\rm km\\,s^{-1}Mpc^{-1}})^2 / (8\\pi G)}
        \\approx 2.472975\\times10^{-5}\\,(T_{\\rm CMB}/2.7255\\,{\\rm K})^4 .
"""

from __future__ import annotations

import math

#: Speed of light [km/s] (exact).
C_KM_S = 299792.458
#: Speed of light [m/s] (exact).
C_M_S = 299792458.0
#: Boltzmann constant [J/K] (exact, 2019 SI).
K_BOLTZMANN = 1.380649e-23
#: Planck constant [J s] (exact, 2019 SI).
H_PLANCK = 6.62607015e-34
#: Newtonian constant of gravitation [m^3 kg^-1 s^-2] (CODATA 2018).
G_NEWTON = 6.67430e-11
#: Stefan-Boltzmann constant [W m^-2 K^-4], 2 pi^5 k^4 / (15 h^3 c^2) (exact).
SIGMA_SB = 2.0 * math.pi**5 * K_BOLTZMANN**4 / (15.0 * H_PLANCK**3 * C_M_S**2)
#: Thomson cross-section [m^2] (CODATA 2018).
SIGMA_THOMSON = 6.6524587321e-29
#: Megaparsec [m] (IAU 2015 parsec definition).
MPC_M = 3.0856775814913673e22
#: Hydrogen atom mass [kg] (CODATA 2018 1.00782503223 u).
M_HYDROGEN = 1.00782503223 * 1.66053906660e-27
#: Default CMB temperature [K] (Fixsen 2009, arXiv:0911.1955).
TCMB_DEFAULT = 2.7255
#: Default effective number of neutrino species (massless, standard model).
NEFF_DEFAULT = 3.046

#: Critical density divided by h^2 [kg/m^3]: 3 (100 km/s/Mpc)^2 / (8 pi G).
RHO_CRIT_OVER_H2 = 3.0 * (1.0e5 / MPC_M) ** 2 / (8.0 * math.pi * G_NEWTON)
#: Photon mass density per T^4 [kg m^-3 K^-4]: 4 sigma_SB / c^3.
RHO_GAMMA_PER_T4 = 4.0 * SIGMA_SB / C_M_S**3
#: Exact neutrino-to-photon energy density ratio per species, (7/8)(4/11)^(4/3).
NEUTRINO_FACTOR = 7.0 / 8.0 * (4.0 / 11.0) ** (4.0 / 3.0)


def omega_gamma_h2(tcmb=TCMB_DEFAULT):
    """Photon physical density :math:`\\omega_\\gamma = \\Omega_\\gamma h^2`.

    Args:
        tcmb: CMB temperature today [K] (float or array; jnp-traceable).

    Returns:
        :math:`\\omega_\\gamma = \\rho_\\gamma / (\\rho_{crit}/h^2)` with
        :math:`\\rho_\\gamma = 4\\sigma_{SB}T^4/c^3`; 2.472975e-5 at 2.7255 K.
    """
    return RHO_GAMMA_PER_T4 / RHO_CRIT_OVER_H2 * tcmb**4


def omega_radiation_h2(tcmb=TCMB_DEFAULT, neff=NEFF_DEFAULT):
    """Radiation physical density: photons plus ``neff`` massless neutrinos.

    .. math::

        \\omega_r = \\omega_\\gamma\\left[1 + N_{\\rm eff}\\,\\tfrac78\\left(\\tfrac4{11}\\right)^{4/3}\\right]

    Args:
        tcmb: CMB temperature today [K].
        neff: effective number of massless neutrino species.
    """
    return omega_gamma_h2(tcmb) * (1.0 + neff * NEUTRINO_FACTOR)
