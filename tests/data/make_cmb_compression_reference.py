"""Make ``tests/data/cmb_compression_reference.json``: CAMB's θ*, ω_b, ω_bc and the χ² of the
compressed CMB priors (``planck_pr4_compressed``, ``thetastar``) at a few cosmologies.

CAMB (the ``validation`` extra) with its default Recfast recombination and BBN helium,
Tcmb = 2.7255 K, ``mnu`` set through ``set_cosmology`` (the ``degenerate`` hierarchy; the
neutrino density today is CAMB's ``omnuh2``), ``nnu`` given explicitly. θ* is CAMB's
``thetastar`` / 100 (:math:`r_s(z_*)/D_M(z_*)`, z* where the optical depth is 1), ω_bc is
``ombh2 + omch2`` (no neutrinos, as in DESI's likelihood). The χ² are computed here with
numpy from those CAMB values and the tables in ``data/`` (independently of pbufjax); the
pbufjax overrides give ``Om0 = (ombh2 + omch2 + omnuh2) / h²``.

Cosmologies: the mean of the compression itself (ω_b, ω_bc and θ* of DESI's Planck PR4
prior, CAMB solving for H0) with Σmν = 0.06 eV (one massive state), 0 eV, 0.12 eV (three
states), N_eff = 2.8 and 3.3; the Planck 2018 TT,TE,EE+lowE+lensing best fit
(arXiv:1807.06209, Table 1: ω_b = 0.022383, ω_c = 0.12011, H0 = 67.32, Σmν = 0.06 eV,
N_eff = 3.046); a cosmology far from the prior; a w0wa (PPF) one; a closed one.

Run:  python tests/data/make_cmb_compression_reference.py   (about 2 s)
"""

from __future__ import annotations

import json
import pathlib

import camb
import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
TABLES = HERE.parents[1] / "data"
OUT = HERE / "cmb_compression_reference.json"

PR4 = json.loads((TABLES / "planck_pr4_compressed.json").read_text())
THETA = json.loads((TABLES / "thetastar.json").read_text())
OBH2, OBCH2, THETA_STAR = PR4["mean"][1], PR4["mean"][2], PR4["mean"][0]


def cosmologies() -> list[dict]:
    mean = dict(ombh2=OBH2, omch2=OBCH2 - OBH2, thetastar=THETA_STAR)
    return [
        dict(label="pr4_mean_mnu0.06", **mean, mnu=0.06, num=1, nnu=3.044),
        dict(label="pr4_mean_mnu0", **mean, mnu=0.0, num=0, nnu=3.044),
        dict(label="pr4_mean_mnu0.12_n3", **mean, mnu=0.12, num=3, nnu=3.044),
        dict(label="pr4_mean_neff2.8", **mean, mnu=0.06, num=1, nnu=2.8),
        dict(label="pr4_mean_neff3.3", **mean, mnu=0.06, num=1, nnu=3.3),
        dict(label="planck2018_bestfit", H0=67.32, ombh2=0.022383, omch2=0.12011, mnu=0.06, num=1, nnu=3.046),
        dict(label="far_H0_70", H0=70.0, ombh2=0.0225, omch2=0.115, mnu=0.06, num=1, nnu=3.044),
        dict(label="w0wa_-0.75_-0.8", H0=64.0, ombh2=0.0222, omch2=0.1195, mnu=0.06, num=1, nnu=3.044,
             w0=-0.75, wa=-0.8),
        dict(label="closed_omk-0.01", H0=63.0, ombh2=0.0224, omch2=0.1198, mnu=0.06, num=1, nnu=3.044, omk=-0.01),
    ]


def chi2(d: np.ndarray, m: np.ndarray, cov: np.ndarray) -> float:
    r = d - m
    return float(r @ np.linalg.solve(cov, r))


def camb_results(c: dict) -> dict:
    pars = camb.CAMBparams()
    if "w0" in c:
        pars.set_dark_energy(w=c["w0"], wa=c["wa"], dark_energy_model="ppf")
    kw = dict(ombh2=c["ombh2"], omch2=c["omch2"], omk=c.get("omk", 0.0), mnu=c["mnu"],
              num_massive_neutrinos=c["num"], nnu=c["nnu"], TCMB=2.7255)
    if "thetastar" in c:
        pars.set_cosmology(thetastar=c["thetastar"], **kw)
    else:
        pars.set_cosmology(H0=c["H0"], **kw)
    r = camb.get_background(pars)
    der = r.get_derived_params()
    h = pars.H0 / 100.0
    over = dict(H0=pars.H0, Om0=(pars.ombh2 + pars.omch2 + pars.omnuh2) / h**2, Obh2=pars.ombh2, Neff=c["nnu"],
                mnu=c["mnu"], num_massive_neutrinos=c["num"], Ok0=c.get("omk", 0.0), Tcmb=2.7255)
    model = "lcdm"
    if "w0" in c:
        over.update(w0=c["w0"], wa=c["wa"])
        model = "w0wacdm"
    theta = der["thetastar"] / 100.0
    vec = np.array([theta, pars.ombh2, pars.ombh2 + pars.omch2])
    return {
        "label": c["label"], "model": model, "camb_inputs": {k: v for k, v in c.items() if k != "label"},
        "pbufjax_overrides": over, "omnuh2": pars.omnuh2,
        "theta_star": theta, "z_star": der["zstar"], "r_star": der["rstar"],
        "omega_b": pars.ombh2, "omega_bc": pars.ombh2 + pars.omch2,
        "chi2_planck_pr4_compressed": chi2(np.array(PR4["mean"]), vec, np.array(PR4["covariance"])),
        "chi2_thetastar": ((theta - THETA["mean"][0]) / THETA["sigma"][0]) ** 2,
    }


def main() -> None:
    data = {
        "generator": "tests/data/make_cmb_compression_reference.py",
        "camb_version": camb.__version__,
        "notes": "theta_star = CAMB thetastar / 100; omega_bc = ombh2 + omch2 (no neutrinos); chi2 from numpy",
        "cosmologies": [camb_results(c) for c in cosmologies()],
    }
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print("wrote", OUT, len(data["cosmologies"]), "cosmologies")


if __name__ == "__main__":
    main()
