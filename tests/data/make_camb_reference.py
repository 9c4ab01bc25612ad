"""Make ``tests/data/camb_reference.json``: CAMB background and recombination values
that the physics-core tests compare against.

CAMB (``pip install camb``, the ``validation`` extra) with massless neutrinos
(``mnu=0, num_massive_neutrinos=0``, ``nnu`` set explicitly), Tcmb = 2.7255 K,
its default Recfast recombination and BBN helium. Distances use
``comoving_radial_distance(z, tol=1e-10)`` (CAMB's default tolerance, 1e-4, and
its ``angular_diameter_distance`` table are only good to ~3e-7 at high z) and
D_M = r_K S(chi/r_K) with CAMB's curvature radius. ``sound_horizon`` starts its
integral at a = 1e-9.

Cosmologies: flat ΛCDM (H0 60-76, ω_b 0.020-0.025, ω_c 0.10-0.14), curved ΛCDM
(|Ωk| <= 0.05), wCDM, w0waCDM (w0 -1.2..-0.6, wa -1.5..0.5, PPF dark energy),
Neff 2-4, and PBUF with k_sat > 1, whose extra terms are given to CAMB as a
dark-energy fluid with a tabulated w(a) (the PBUF terms beyond matter, radiation
and curvature, ρ_x ∝ Ω_Λ + Ω_r a^-4 (F-1) + σ, are positive only for k_sat >= 1).

Run:  python tests/data/make_camb_reference.py   (about 2 s)
"""

from __future__ import annotations

import json
import pathlib
import sys

import numpy as np

import camb
from camb.dark_energy import DarkEnergyPPF

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
import jax.numpy as jnp  # noqa: E402

import pbufjax  # noqa: E402
from pbufjax.cosmology import models  # noqa: E402

OUT = pathlib.Path(__file__).with_name("camb_reference.json")
Z_DIST = [0.01, 0.1, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 2.33, 3.0, 5.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 1100.0]
Z_RS = [0.0, 100.0, 500.0, 800.0, 1000.0, 1060.0, 1090.0, 1200.0, 2000.0]


def cosmologies():
    rng = np.random.default_rng(42)
    out = []
    for i in range(10):
        out.append(
            dict(
                label=f"lcdm_flat_{i}",
                model="lcdm",
                H0=rng.uniform(60, 76),
                ombh2=rng.uniform(0.020, 0.025),
                omch2=rng.uniform(0.10, 0.14),
            )
        )
    for omk in (-0.05, -0.02, 0.02, 0.05):
        out.append(dict(label=f"lcdm_omk_{omk:+.2f}", model="lcdm", H0=67.5, ombh2=0.0224, omch2=0.12, omk=omk))
    for nnu in (2.0, 2.5, 3.5, 4.0):
        out.append(
            dict(
                label=f"lcdm_neff_{nnu}",
                model="lcdm",
                H0=rng.uniform(62, 74),
                ombh2=rng.uniform(0.021, 0.024),
                omch2=rng.uniform(0.11, 0.13),
                nnu=nnu,
            )
        )
    out.append(dict(label="wcdm_-0.8", model="wcdm", H0=66.0, ombh2=0.0223, omch2=0.119, w0=-0.8))
    for w0, wa in ((-1.2, -1.5), (-1.2, 0.5), (-0.6, -1.5), (-0.6, 0.5), (-0.75, -0.9), (-1.0, 0.3)):
        out.append(
            dict(label=f"w0wa_{w0}_{wa}", model="w0wacdm", H0=67.0, ombh2=0.0224, omch2=0.12, w0=w0, wa=wa)
        )
    for k_sat in (1.05, 1.3, 1.8):
        out.append(dict(label=f"pbuf_ksat_{k_sat}", model="pbuf", H0=67.4, ombh2=0.02237, omch2=0.12, k_sat=k_sat))
    out.append(
        dict(
            label="pbuf_max_sigma",
            model="pbuf",
            H0=68.0,
            ombh2=0.0222,
            omch2=0.118,
            k_sat=1.5,
            alpha=1e-2,
            Rmax=1e6,
            eps0=2.0,
            n_eps=2.0,
        )
    )
    return out


def pbufjax_params(c):
    h = c["H0"] / 100.0
    over = dict(H0=c["H0"], Om0=(c["ombh2"] + c["omch2"]) / h**2, Obh2=c["ombh2"], Neff=c.get("nnu", 3.046))
    over["Ok0"] = c.get("omk", 0.0)
    for k in ("w0", "wa", "k_sat", "alpha", "Rmax", "eps0", "n_eps"):
        if k in c:
            over[k] = c[k]
    if c["model"] == "pbuf":
        over.setdefault("alpha", 0.0)
    return over


def camb_results(c):
    p = camb.CAMBparams()
    p.set_cosmology(
        H0=c["H0"],
        ombh2=c["ombh2"],
        omch2=c["omch2"],
        omk=c.get("omk", 0.0),
        mnu=0.0,
        num_massive_neutrinos=0,
        nnu=c.get("nnu", 3.046),
        TCMB=2.7255,
    )
    if c["model"] in ("wcdm", "w0wacdm"):
        p.set_dark_energy(w=c["w0"], wa=c.get("wa", 0.0), dark_energy_model="ppf")
    elif c["model"] == "pbuf":
        # Everything in the PBUF E^2 beyond matter, radiation and curvature, as a fluid.
        q = pbufjax.build_params("pbuf", pbufjax_params(c), derived=False)
        d = models.densities(q)
        a = np.geomspace(1e-8, 1.0, 40000)
        e2 = np.asarray(models.e2_pbuf(jnp.asarray(1.0 / a), q))
        rho = e2 - float(d.omega_m) * a**-3 - float(d.omega_r) * a**-4 - float(d.omega_k) * a**-2
        if np.any(rho <= 0):
            raise ValueError(f"{c['label']}: PBUF extra density not positive; CAMB fluid mapping impossible")
        w = -1.0 - np.gradient(np.log(rho), np.log(a)) / 3.0
        de = DarkEnergyPPF()
        de.set_w_a_table(a, w)
        p.DarkEnergy = de
    r = camb.get_background(p)
    der = r.get_derived_params()
    z = np.array(Z_DIST)
    chi = r.comoving_radial_distance(z, tol=1e-10)
    omk = c.get("omk", 0.0)
    if omk == 0.0:
        dm = chi
    else:
        rk = r.curvature_radius
        dm = rk * np.sinh(chi / rk) if omk > 0 else rk * np.sin(chi / rk)
    zs = der["zstar"]
    chis = r.comoving_radial_distance(zs, tol=1e-10)
    if omk == 0.0:
        dms = chis
    else:
        rk = r.curvature_radius
        dms = rk * np.sinh(chis / rk) if omk > 0 else rk * np.sin(chis / rk)
    return {
        "label": c["label"],
        "model": c["model"],
        "camb_inputs": {k: v for k, v in c.items() if k not in ("label", "model")},
        "pbufjax_overrides": pbufjax_params(c),
        "YHe": p.YHe,
        "z_dist": Z_DIST,
        "H": r.hubble_parameter(z).tolist(),
        "DM": np.asarray(dm).tolist(),
        "z_rs": Z_RS,
        "rs_from_a_1e-9": r.sound_horizon(np.array(Z_RS)).tolist(),
        "derived": {
            "z_star": der["zstar"],
            "z_drag": der["zdrag"],
            "r_star": der["rstar"],
            "r_drag": der["rdrag"],
            "theta_star": der["thetastar"] / 100.0,
            "DM_star": float(dms),
        },
    }


def main():
    data = {
        "generator": "tests/data/make_camb_reference.py",
        "camb_version": camb.__version__,
        "notes": "CAMB sound horizons start at a=1e-9; DM_star = D_M(zstar) from comoving_radial_distance(tol=1e-10)",
        "cosmologies": [camb_results(c) for c in cosmologies()],
    }
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print("wrote", OUT, len(data["cosmologies"]), "cosmologies")


if __name__ == "__main__":
    main()
