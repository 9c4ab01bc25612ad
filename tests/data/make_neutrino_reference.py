"""Make ``tests/data/neutrino_reference.json``: CAMB with massive neutrinos, for the accuracy tests.

CAMB (the ``validation`` extra) with ``mnu`` set (its ``SetNeutrinoMasses``: the physical
mass sum, with the thermal density today in ``omnuh2``), the ``degenerate`` hierarchy with
``num_massive_neutrinos`` = 1 or 3, ``nnu`` given explicitly, Tcmb = 2.7255 K, Recfast
and BBN helium. Cosmologies: flat ΛCDM over Σmν = 0.02–1 eV with 1 and 3 massive states,
N_eff 2.5 and 3.5, open and closed curvature, and w0wa (PPF). For each: omnuh2, H(z),
D_M(z) (``comoving_radial_distance(tol=1e-10)`` and CAMB's curvature radius), z*, r*, z_d,
r_d, θ*, D_M(z*) and the age at z = 0, 1, 1100 (``physical_time``).

It also records CAMB's own massive-neutrino density (``get_background_densities``, 'nu')
on a grid of scale factors, next to the same density from 30-digit quadrature of the
Fermi–Dirac integral, so the tests can report which of the two is the more accurate.

Run:  python tests/data/make_neutrino_reference.py   (about 20 s)
"""

from __future__ import annotations

import json
import pathlib

import camb
import numpy as np
from mpmath import exp, inf, mp, mpf, pi, quad, sqrt

OUT = pathlib.Path(__file__).with_name("neutrino_reference.json")
Z_DIST = [0.01, 0.1, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 2.33, 3.0, 5.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 1100.0]
Z_AGE = [0.0, 1.0, 1100.0]
A_NU = [1e-6, 1e-5, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0]
mp.dps = 30


def cosmologies() -> list[dict]:
    out = []
    for mnu in (0.02, 0.06, 0.1, 0.3, 0.6, 1.0):
        for n in (1, 3):
            out.append(dict(label=f"lcdm_mnu{mnu}_n{n}", H0=67.4, ombh2=0.0224, omch2=0.12, mnu=mnu, num=n))
    out.append(dict(label="lcdm_mnu0.06_neff2.5", H0=66.0, ombh2=0.0222, omch2=0.118, mnu=0.06, num=1, nnu=2.5))
    out.append(dict(label="lcdm_mnu0.15_neff3.5_n3", H0=70.0, ombh2=0.0226, omch2=0.125, mnu=0.15, num=3, nnu=3.5))
    out.append(dict(label="lcdm_mnu0.1_omk+0.03", H0=68.0, ombh2=0.0224, omch2=0.12, mnu=0.1, num=1, omk=0.03))
    out.append(dict(label="lcdm_mnu0.3_omk-0.03_n3", H0=65.0, ombh2=0.0224, omch2=0.12, mnu=0.3, num=3, omk=-0.03))
    out.append(dict(label="w0wa_mnu0.2", H0=66.5, ombh2=0.0223, omch2=0.119, mnu=0.2, num=1, w0=-0.75, wa=-0.9))
    out.append(dict(label="w0wa_mnu0.06_n3", H0=68.0, ombh2=0.0224, omch2=0.12, mnu=0.06, num=3, w0=-1.1, wa=0.3))
    return out


def camb_results(c: dict) -> dict:
    pars = camb.CAMBparams()
    nnu = c.get("nnu", 3.046)
    pars.set_cosmology(H0=c["H0"], ombh2=c["ombh2"], omch2=c["omch2"], omk=c.get("omk", 0.0), mnu=c["mnu"],
                       num_massive_neutrinos=c["num"], nnu=nnu, TCMB=2.7255)
    model = "lcdm"
    if "w0" in c:
        pars.set_dark_energy(w=c["w0"], wa=c["wa"], dark_energy_model="ppf")
        model = "w0wacdm"
    r = camb.get_background(pars)
    der = r.get_derived_params()
    z = np.array(Z_DIST)
    omk = c.get("omk", 0.0)

    def dm(chi):
        if omk == 0.0:
            return chi
        rk = r.curvature_radius
        return rk * np.sinh(chi / rk) if omk > 0 else rk * np.sin(chi / rk)

    h = c["H0"] / 100.0
    over = dict(H0=c["H0"], Om0=(c["ombh2"] + c["omch2"] + pars.omnuh2) / h**2, Obh2=c["ombh2"], Neff=nnu,
                Ok0=omk, mnu=c["mnu"], num_massive_neutrinos=c["num"])
    for k in ("w0", "wa"):
        if k in c:
            over[k] = c[k]
    return {
        "label": c["label"], "model": model, "camb_inputs": {k: v for k, v in c.items() if k != "label"},
        "pbufjax_overrides": over, "omnuh2": pars.omnuh2, "num_nu_massless": pars.num_nu_massless,
        "nu_mass_degeneracies": list(pars.nu_mass_degeneracies[: pars.nu_mass_eigenstates]),
        "z_dist": Z_DIST, "H": r.hubble_parameter(z).tolist(),
        "DM": np.asarray(dm(r.comoving_radial_distance(z, tol=1e-10))).tolist(),
        "derived": {"z_star": der["zstar"], "z_drag": der["zdrag"], "r_star": der["rstar"], "r_drag": der["rdrag"],
                    "theta_star": der["thetastar"] / 100.0,
                    "DM_star": float(dm(r.comoving_radial_distance(der["zstar"], tol=1e-10)))},
        "z_age": Z_AGE, "age_gyr": [float(r.physical_time(zz)) for zz in Z_AGE],
    }


def fd_ratio(y: float) -> float:
    y = mpf(y)
    val = quad(lambda x: x * x * sqrt(x * x + y * y) / (exp(x) + 1), [0, 1, 3, 8, 20, 50, inf])
    return float(val / (7 * pi**4 / 120))


def camb_density_table() -> dict:
    """CAMB's massive-neutrino density against quadrature (one massive state, 0.06 eV)."""
    pars = camb.set_params(H0=67.4, ombh2=0.0224, omch2=0.12, mnu=0.06, num_massive_neutrinos=1, nnu=3.046)
    r = camb.get_background(pars)
    a = np.array(A_NU)
    dens = r.get_background_densities(a, vars=["nu", "photon"])
    # rho_nu / rho_gamma = g * f * R(y), y = m a / (k_B T_eff): the mass parameter from CAMB's own omnuh2
    g = pars.nu_mass_degeneracies[0]
    f = 7.0 / 8.0 * (4.0 / 11.0) ** (4.0 / 3.0)
    kb = 1.380649e-23 / 1.602176634e-19
    t_eff = (4.0 / 11.0) ** (1.0 / 3.0) * 2.7255 * (g / 1.0) ** 0.25
    y0 = 0.06 / (kb * t_eff)
    exact = [g * f * fd_ratio(y0 * ai) for ai in a]
    return {"a": A_NU, "camb_nu_over_photon": (dens["nu"] / dens["photon"]).tolist(), "quadrature_nu_over_photon": exact,
            "y0": y0, "degeneracy": g}


def main() -> None:
    data = {"generator": "tests/data/make_neutrino_reference.py", "camb_version": camb.__version__,
            "cosmologies": [camb_results(c) for c in cosmologies()], "camb_density_table": camb_density_table()}
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print("wrote", OUT, len(data["cosmologies"]), "cosmologies")
    t = data["camb_density_table"]
    err = np.array(t["camb_nu_over_photon"]) / np.array(t["quadrature_nu_over_photon"]) - 1
    print("CAMB density table vs quadrature, relative:", np.array2string(err, precision=2))


if __name__ == "__main__":
    main()
