"""Reference χ² values of every dataset at fixed parameter points, from an independent implementation.

This script shares no code with pbufjax: it reads the release files with
``numpy.loadtxt``, computes distances with astropy (``FlatLambdaCDM``, ``LambdaCDM``,
``Flatw0waCDM`` with massless neutrinos), the sound horizon with ``scipy.integrate.quad``
over astropy's :math:`E(z)`, the decoupling and drag redshifts with the Hu & Sugiyama
1996 (astro-ph/9510117, eq. E1) and Eisenstein & Hu 1998 (astro-ph/9709112, eq. 4)
fitting formulae (pbufjax's ``recomb_method="HS96"``), and solves with
``numpy.linalg.solve``. The Planck 2018 priors are transcribed here directly from
Chen, Huang & Wang 2019 (arXiv:1808.05724, Table I), which also cross-checks the
package's own transcription.

Run from the repository root (needs the release files; PBUFJAX_DATA_DIR or ../shared/data)::

    python tests/data/make_reference_chi2.py

Writes ``tests/data/reference_chi2.json``. The Pantheon+ blocks are absent: their
covariance file was not available when the values were produced.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path

import astropy
import astropy.units as u
import numpy as np
import scipy
from astropy.cosmology import FlatLambdaCDM, Flatw0waCDM, LambdaCDM
from scipy.integrate import quad

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("PBUFJAX_DATA_DIR", HERE.parents[2] / "shared" / "data"))
C_KMS = 299792.458
TCMB = 2.7255
NEFF = 3.046

#: Reference points (the parameter names are pbufjax's).
POINTS = {
    "lcdm_planck": {"model": "lcdm", "H0": 67.36, "Om0": 0.3153, "Obh2": 0.02237, "ns": 0.9649},
    "lcdm_curved": {"model": "lcdm", "H0": 70.0, "Om0": 0.30, "Obh2": 0.0224, "ns": 0.97, "Ok0": 0.02},
    "w0wacdm": {"model": "w0wacdm", "H0": 68.0, "Om0": 0.31, "Obh2": 0.0223, "ns": 0.965, "w0": -0.8, "wa": -0.6},
}


def astropy_cosmology(pt):
    kw = {"H0": pt["H0"] * u.km / u.s / u.Mpc, "Om0": pt["Om0"], "Tcmb0": TCMB * u.K, "Neff": NEFF, "m_nu": 0.0 * u.eV}
    if pt["model"] == "w0wacdm":
        return Flatw0waCDM(w0=pt["w0"], wa=pt["wa"], **kw)
    if pt.get("Ok0", 0.0) != 0.0:
        flat = FlatLambdaCDM(**kw)
        ode0 = 1.0 - pt["Om0"] - pt["Ok0"] - flat.Ogamma0 - flat.Onu0
        return LambdaCDM(Ode0=ode0, **kw)
    return FlatLambdaCDM(**kw)


def z_star_hs96(wb, wm):
    g1 = 0.0783 * wb ** (-0.238) / (1.0 + 39.5 * wb**0.763)
    g2 = 0.560 / (1.0 + 21.1 * wb**1.81)
    return 1048.0 * (1.0 + 0.00124 * wb ** (-0.738)) * (1.0 + g1 * wm**g2)


def z_drag_eh98(wb, wm):
    b1 = 0.313 * wm ** (-0.419) * (1.0 + 0.607 * wm**0.674)
    b2 = 0.238 * wm**0.223
    return 1291.0 * wm**0.251 / (1.0 + 0.659 * wm**0.828) * (1.0 + b1 * wb**b2)


def sound_horizon(cosmo, z, wb):
    """r_s(z) = ∫_z^∞ c_s dz'/H(z') with c_s = c/sqrt(3(1+R)), R = 3 ω_b/(4 ω_γ (1+z)); in a = 1/(1+z)."""
    h = cosmo.H0.value / 100.0
    wg = cosmo.Ogamma0 * h * h

    def integrand(a):
        zz = 1.0 / a - 1.0
        r = 0.75 * wb / wg * a
        return C_KMS / np.sqrt(3.0 * (1.0 + r)) / (a * a * cosmo.H(zz).value)

    a_end = 1.0 / (1.0 + z)
    val, _ = quad(integrand, 0.0, a_end, epsabs=0.0, epsrel=1e-12, limit=500, points=[a_end * 1e-3, a_end * 1e-2])
    return val


def cmb_priors(pt, cosmo):
    h = pt["H0"] / 100.0
    wb = pt["Obh2"]
    wm = pt["Om0"] * h * h
    zs = z_star_hs96(wb, wm)
    dm = cosmo.comoving_transverse_distance(zs).to_value(u.Mpc)
    rs = sound_horizon(cosmo, zs, wb)
    return {
        "z_star": zs,
        "r_star": rs,
        "DM_star": dm,
        "R": np.sqrt(pt["Om0"]) * pt["H0"] * dm / C_KMS,
        "l_A": np.pi * dm / rs,
        "omega_b": wb,
        "n_s": pt["ns"],
    }


# Chen, Huang & Wang 2019 (arXiv:1808.05724), Table I, Planck TT,TE,EE+lowE:
PLANCK_MEAN = {"R": 1.7502, "l_A": 301.471, "omega_b": 0.02236, "n_s": 0.9649}
PLANCK_SIG = {"R": 0.0046, "l_A": 0.0895, "omega_b": 0.00015, "n_s": 0.0043}
PLANCK_CORR = {
    ("R", "l_A"): 0.46, ("R", "omega_b"): -0.66, ("R", "n_s"): -0.74,
    ("l_A", "omega_b"): -0.33, ("l_A", "n_s"): -0.35, ("omega_b", "n_s"): 0.46,
}


def chi2_gauss(d, m, cov):
    r = np.asarray(d) - np.asarray(m)
    return float(r @ np.linalg.solve(cov, r))


def chi2_cmb(pred, names):
    d = [PLANCK_MEAN[k] for k in names]
    cov = np.empty((len(names), len(names)))
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            rho = 1.0 if a == b else PLANCK_CORR.get((a, b), PLANCK_CORR.get((b, a)))
            cov[i, j] = rho * PLANCK_SIG[a] * PLANCK_SIG[b]
    return chi2_gauss(d, [pred[k] for k in names], cov)


def bao_theory(cosmo, z, quantity, rd, rd_fid=None):
    dm = cosmo.comoving_transverse_distance(z).to_value(u.Mpc)
    hz = cosmo.H(z).to_value(u.km / u.s / u.Mpc)
    dh = C_KMS / hz
    dv = (z * dm * dm * dh) ** (1.0 / 3.0)
    if rd_fid is not None:
        return {"DM_over_rs": dm * rd_fid / rd, "bao_Hz_rs": hz * rd / rd_fid}[quantity]
    return {"DV_over_rs": dv / rd, "DM_over_rs": dm / rd, "DH_over_rs": dh / rd}[quantity]


def chi2_bao(cosmo, rd, mean_file, cov_file, rd_fid=None):
    rows = np.loadtxt(DATA / mean_file, dtype=str, comments="#")
    z = rows[:, 0].astype(float)
    d = rows[:, 1].astype(float)
    m = [bao_theory(cosmo, zi, q, rd, rd_fid) for zi, q in zip(z, rows[:, 2])]
    return chi2_gauss(d, m, np.loadtxt(DATA / cov_file))


def chi2_union3(cosmo):
    tab = np.loadtxt(DATA / "sn/union3/lcparam_full.txt", usecols=(1, 2, 4), comments="#")
    zc, zh, mb = tab.T
    flat = np.loadtxt(DATA / "sn/union3/mag_covmat.txt")
    n = int(flat[0])
    cov = flat[1:].reshape(n, n)
    mu = 5.0 * np.log10((1.0 + zh) * cosmo.comoving_transverse_distance(zc).to_value(u.Mpc)) + 25.0
    r = mb - mu
    one = np.ones(n)
    cinv_r = np.linalg.solve(cov, r)
    cinv_1 = np.linalg.solve(cov, one)
    a, b, e = r @ cinv_r, one @ cinv_r, one @ cinv_1
    return float(a - b * b / e), float(b / e)


def main():
    out = {
        "description": "χ² of each dataset at fixed points from an independent numpy+astropy+scipy implementation "
        "(tests/data/make_reference_chi2.py); compare with pbufjax at recomb_method='HS96'.",
        "recomb_method": "HS96",
        "versions": {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
                     "astropy": astropy.__version__},
        "missing": {"pantheonplus": "covariance file Pantheon+SH0ES_STAT+SYS.cov not available",
                    "pantheonplus_shoes": "covariance file Pantheon+SH0ES_STAT+SYS.cov not available"},
        "points": {},
    }
    for key, pt in POINTS.items():
        cosmo = astropy_cosmology(pt)
        h = pt["H0"] / 100.0
        wb, wm = pt["Obh2"], pt["Om0"] * h * h
        pred = cmb_priors(pt, cosmo)
        zd = z_drag_eh98(wb, wm)
        rd = sound_horizon(cosmo, zd, wb)
        chi2_u3, offset_u3 = chi2_union3(cosmo)
        chi2 = {
            "planck2018_priors": chi2_cmb(pred, ["R", "l_A", "omega_b"]),
            "planck2018_priors_ns": chi2_cmb(pred, ["R", "l_A", "omega_b", "n_s"]),
            "desi_dr2": chi2_bao(cosmo, rd, "bao/desi_dr2/desi_gaussian_bao_ALL_GCcomb_mean.txt",
                                 "bao/desi_dr2/desi_gaussian_bao_ALL_GCcomb_cov.txt"),
            "desi_dr1": chi2_bao(cosmo, rd, "bao/desi_dr1/desi_2024_gaussian_bao_ALL_GCcomb_mean.txt",
                                 "bao/desi_dr1/desi_2024_gaussian_bao_ALL_GCcomb_cov.txt"),
            "boss_dr12": chi2_bao(cosmo, rd, "bao/sdss/sdss_DR12Consensus_bao.dat",
                                  "bao/sdss/BAO_consensus_covtot_dM_Hz.txt", rd_fid=147.78),
            "union3": chi2_u3,
        }
        out["points"][key] = {
            "params": pt,
            "chi2": chi2,
            "derived": {"z_star": pred["z_star"], "r_star": pred["r_star"], "R": pred["R"], "l_A": pred["l_A"],
                        "z_drag": zd, "r_drag": rd, "union3_offset": offset_u3},
        }
        print(key, json.dumps(chi2))
    (HERE / "reference_chi2.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
