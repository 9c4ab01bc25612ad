"""Make ``tests/data/times_reference.json``: ages, lookback times, conformal times and
comoving volumes from CAMB and astropy that ``tests/cosmology/test_times.py`` compares
``pbufjax.cosmology.times`` against.

Both codes get the pbufjax densities with massless neutrinos:

* CAMB 2.0.5: ``set_cosmology(H0, ombh2=Obh2, omch2=Om0 h^2 - Obh2, omk=Ok0, mnu=0,
  num_massive_neutrinos=0, nnu=Neff, TCMB=Tcmb)``, PPF dark energy for w0/wa (the same
  background w(a)); CAMB closes the budget with the radiation included, as pbufjax does.
  Stored: ``physical_time(z)`` [Julian Gyr] at CAMB's default integration tolerance (which
  leaves it 1e-5-3e-5 short: raising ``AccuracyBoost`` to 2, 3, 6 moves it to 5e-6, 1e-6,
  6e-8 of pbufjax's value) and, as ``physical_time_tol1e-10``, the same Fortran function
  (``f_DeltaPhysicalTimeGyr``, behind ``physical_time_a1_a2``) given its optional tolerance
  1e-10; ``conformal_time(z, tol=1e-11)`` [Mpc], the derived ``age``, and at CAMB's own z*:
  ``conformal_time``, ``physical_time`` (tolerance 1e-10) and
  ``comoving_radial_distance(tol=1e-11)``. CAMB's constants: Julian Gyr and
  Mpc = 3.085677581e22 m (pbufjax: IAU 3.0856775814913673e22 m, 1.6e-10 apart).
* astropy: ``LambdaCDM / wCDM / w0waCDM(H0, Om0, Ode0, ..., Tcmb0=Tcmb, Neff=Neff,
  m_nu=0)`` with ``Ode0 = 1 - Om0 - Ok0 - Omega_r`` (pbufjax's Omega_r, photons plus
  Neff massless neutrinos), so astropy's own curvature is Ok0 plus the round-off difference
  of the radiation densities, which is stored (``Ogamma0``, ``Onu0`` and ``Ok0`` from both codes).
  Flat cosmologies use the ``Flat*`` classes: with a round-off curvature (|Ok0| ~ 1e-17)
  astropy's ``comoving_volume`` (Hogg's curved branch, divided by Ok0) is wrong by orders of
  magnitude. Stored: ``age``, ``lookback_time`` [Gyr], ``comoving_distance`` [Mpc],
  ``comoving_volume`` [Gpc^3], ``differential_comoving_volume`` [Mpc^3/sr], and
  ``comoving_volume_by_quad``, 4 pi times the integral from 0 to z of astropy's
  ``differential_comoving_volume`` (scipy ``quad``, epsrel 1e-12): astropy's closed-space
  ``comoving_volume`` (Hogg's arcsin branch) is wrong beyond the equator of the 3-sphere,
  chi > pi R/2, which the Ok0 = -0.3 case reaches at z ~ 30. astropy's ``age`` integrates
  from z to infinity with ``quad``'s default tolerance: good to 2e-10 up to z = 300,
  1e-6 at z = 1000-1100 and wrong beyond (1e-2 at z = 1e4).

Run:  python tests/data/make_times_reference.py   (a few seconds; needs camb and astropy,
the ``validation`` extra)
"""

from __future__ import annotations

import json
import pathlib
import sys
from ctypes import byref, c_double

import astropy
import astropy.cosmology as ac
import astropy.units as u
import camb
import numpy as np
from scipy.integrate import quad

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
import pbufjax
import pbufjax.cosmology
from pbufjax import constants
from pbufjax.cosmology import densities

OUT = pathlib.Path(__file__).with_name("times_reference.json")
Z = [0.0, 1e-3, 0.01, 0.1, 0.3, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 1100.0, 3000.0,
     1e4, 1e5]

#: label -> (model, pbufjax overrides)
COSMOLOGIES = {
    "lcdm_flat_planck": ("lcdm", {"H0": 67.36, "Om0": 0.3153, "Obh2": 0.02237}),
    "lcdm_flat_neff2.5_tcmb2.6": ("lcdm", {"H0": 73.0, "Om0": 0.27, "Obh2": 0.0224, "Neff": 2.5, "Tcmb": 2.6}),
    "lcdm_flat_neff4": ("lcdm", {"H0": 64.0, "Om0": 0.34, "Obh2": 0.0221, "Neff": 4.0}),
    "lcdm_open_0.05": ("lcdm", {"H0": 70.0, "Om0": 0.3, "Obh2": 0.0224, "Ok0": 0.05}),
    "lcdm_open_0.3": ("lcdm", {"H0": 65.0, "Om0": 0.25, "Obh2": 0.0224, "Ok0": 0.3}),
    "lcdm_closed_0.05": ("lcdm", {"H0": 70.0, "Om0": 0.3, "Obh2": 0.0224, "Ok0": -0.05}),
    "lcdm_closed_0.3": ("lcdm", {"H0": 60.0, "Om0": 0.35, "Obh2": 0.0224, "Ok0": -0.3}),
    "wcdm_-0.85": ("wcdm", {"H0": 68.0, "Om0": 0.31, "Obh2": 0.0224, "w0": -0.85}),
    "w0wa_-0.7_-1.0": ("w0wacdm", {"H0": 67.0, "Om0": 0.32, "Obh2": 0.0224, "w0": -0.7, "wa": -1.0}),
    "w0wa_-0.9_0.3_open": ("w0wacdm", {"H0": 69.0, "Om0": 0.30, "Obh2": 0.0223, "w0": -0.9, "wa": 0.3, "Ok0": 0.02}),
    "w0wa_-1.1_-0.5_closed": ("w0wacdm", {"H0": 66.0, "Om0": 0.33, "Obh2": 0.0223, "w0": -1.1, "wa": -0.5, "Ok0": -0.02}),
}


def massless(model, over):
    """``build_params`` with massless neutrinos (``mnu = 0`` where the parameter exists)."""
    over = dict(over)
    if "mnu" in pbufjax.cosmology.get_defaults(model):
        over.setdefault("mnu", 0.0)
    return pbufjax.build_params(model, over)


def camb_values(model, p):
    h = p["H0"] / 100.0
    cp = camb.CAMBparams()
    cp.set_cosmology(H0=p["H0"], ombh2=p["Obh2"], omch2=p["Om0"] * h**2 - p["Obh2"], omk=p["Ok0"], mnu=0.0,
                     num_massive_neutrinos=0, nnu=p["Neff"], TCMB=p["Tcmb"])
    if model in ("wcdm", "w0wacdm"):
        cp.set_dark_energy(w=p["w0"], wa=p.get("wa", 0.0), dark_energy_model="ppf")
    r = camb.get_background(cp)
    der = r.get_derived_params()
    z = np.array(Z)
    zs = der["zstar"]

    def physical_time(zz, tol=1e-10):
        return r.f_DeltaPhysicalTimeGyr(byref(c_double(0.0)), byref(c_double(1.0 / (1.0 + zz))), byref(c_double(tol)))

    return {
        "physical_time": np.asarray(r.physical_time(z)).tolist(),
        "physical_time_tol1e-10": [physical_time(zz) for zz in Z],
        "conformal_time": np.asarray(r.conformal_time(z, tol=1e-11)).tolist(),
        "age": der["age"],
        "z_star": zs,
        "conformal_time_star": float(r.conformal_time(zs, tol=1e-11)),
        "physical_time_star": physical_time(zs),
        "DC_star": float(r.comoving_radial_distance(zs, tol=1e-11)),
    }


def astropy_values(model, p):
    d = densities(p)
    kw = {"H0": p["H0"], "Om0": p["Om0"], "Ode0": 1.0 - p["Om0"] - p["Ok0"] - float(d.omega_r), "Tcmb0": p["Tcmb"],
              "Neff": p["Neff"], "m_nu": 0.0}
    flat = p["Ok0"] == 0.0
    if flat:
        kw.pop("Ode0")
    extra = {k: p[k] for k in ("w0", "wa") if k in p}
    cls = {"lcdm": (ac.LambdaCDM, ac.FlatLambdaCDM), "wcdm": (ac.wCDM, ac.FlatwCDM),
           "w0wacdm": (ac.w0waCDM, ac.Flatw0waCDM)}[model][flat]
    c = cls(**kw, **extra)
    z = np.array(Z)

    def dvdz(zz):
        return c.differential_comoving_volume(zz).to_value(u.Gpc**3 / u.sr)

    by_quad = [4.0 * np.pi * quad(dvdz, 0.0, zz, epsabs=0.0, epsrel=1e-12, limit=500)[0] for zz in Z]
    return {
        "age": c.age(z).to_value(u.Gyr).tolist(),
        "lookback_time": c.lookback_time(z).to_value(u.Gyr).tolist(),
        "comoving_distance": c.comoving_distance(z).to_value(u.Mpc).tolist(),
        "comoving_volume": c.comoving_volume(z).to_value(u.Gpc**3).tolist(),
        "differential_comoving_volume": c.differential_comoving_volume(z).to_value(u.Mpc**3 / u.sr).tolist(),
        "comoving_volume_by_quad": by_quad,
        "class": type(c).__name__,
        "Ogamma0": float(c.Ogamma0),
        "Onu0": float(c.Onu0),
        "Ok0": float(c.Ok0),
    }


def main():
    out = []
    for label, (model, over) in COSMOLOGIES.items():
        p = massless(model, over)
        d = densities(p)
        pb = {"Ogamma0": float(d.omega_gamma), "Onu0": float(d.omega_r - d.omega_gamma), "Ok0": float(d.omega_k)}
        out.append({"label": label, "model": model, "pbufjax_overrides": over, "pbufjax_densities": pb,
                    "camb": camb_values(model, p), "astropy": astropy_values(model, p)})
    data = {
        "generator": "tests/data/make_times_reference.py",
        "camb_version": camb.__version__,
        "astropy_version": astropy.__version__,
        "notes": "massless neutrinos; times in Julian Gyr, distances in Mpc, comoving_volume in Gpc^3, "
                 "differential_comoving_volume in Mpc^3/sr; CAMB's z_star is its own (Recfast)",
        "omega_gamma_h2_pbufjax_2.7255": constants.omega_gamma_h2(2.7255),
        "z": Z,
        "cosmologies": out,
    }
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print("wrote", OUT, len(out), "cosmologies")


if __name__ == "__main__":
    main()
