"""Calibrate the default recombination method (``CAMBFIT``) against CAMB.

Writes ``src/pbufjax/cosmology/recomb_fit.json``: polynomial fits of

* ln(1+z_*) and ln(1+z_drag) as functions of (omega_b, omega_m, omega_r, Y_He),
  from CAMB's Recfast thermal history with the helium fraction set explicitly;
* CAMB's BBN helium fraction Y_He(omega_b, N_eff) (its default PRIMAT table).

Run (needs the ``validation`` extra):  python scripts/calibrate_recombination.py
It takes about a minute on 2 cores. The fit's accuracy on points not used in
the fit is printed and stored in the JSON file.
"""

from __future__ import annotations

import itertools
import json
import pathlib
import sys
import time

import numpy as np

import camb
from camb import bbn

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "src"))
from pbufjax.constants import NEUTRINO_FACTOR, omega_gamma_h2  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[1] / "src" / "pbufjax" / "cosmology" / "recomb_fit.json"
TCMB = 2.7255
OG = omega_gamma_h2(TCMB)
# Reference point and ranges of the recombination fit (omega_r is photons + N_eff massless neutrinos).
REF = {"obh2": 0.0224, "omh2": 0.143, "orh2": OG * (1 + 3.046 * NEUTRINO_FACTOR), "yhe": 0.245}
RANGES = {"obh2": (0.016, 0.030), "omh2": (0.085, 0.215), "neff": (0.0, 7.5), "yhe": (0.17, 0.32)}
DEGREE = 5
BBN_RANGES = {"obh2": (0.014, 0.032), "neff": (0.1, 8.0)}
BBN_DEGREE = 7


def features(x: np.ndarray, degree: int) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """Monomials of total degree <= degree of the columns of x."""
    nvar = x.shape[1]
    powers = [p for p in itertools.product(range(degree + 1), repeat=nvar) if sum(p) <= degree]
    powers.sort(key=lambda p: (sum(p), p))
    cols = [np.prod([x[:, i] ** k for i, k in enumerate(p)], axis=0) for p in powers]
    return np.stack(cols, axis=1), powers


def scaled_inputs(obh2, omh2, orh2, yhe):
    return np.stack(
        [np.log(obh2 / REF["obh2"]), np.log(omh2 / REF["omh2"]), np.log(orh2 / REF["orh2"]), (yhe - REF["yhe"]) / 0.05],
        axis=1,
    )


def camb_point(obh2, omh2, neff, yhe, h0=67.5):
    p = camb.CAMBparams()
    p.set_cosmology(
        H0=h0, ombh2=obh2, omch2=omh2 - obh2, mnu=0.0, num_massive_neutrinos=0, nnu=neff, TCMB=TCMB, YHe=yhe
    )
    d = camb.get_background(p).get_derived_params()
    return d["zstar"], d["zdrag"]


def sample(n, rng):
    lo = np.array([RANGES[k][0] for k in ("obh2", "omh2", "neff", "yhe")])
    hi = np.array([RANGES[k][1] for k in ("obh2", "omh2", "neff", "yhe")])
    return lo + (hi - lo) * rng.random((n, 4))


def main(n_train=3000, n_test=600):
    rng = np.random.default_rng(20261125)
    t0 = time.time()
    rows = []
    for obh2, omh2, neff, yhe in sample(n_train + n_test, rng):
        zs, zd = camb_point(obh2, omh2, neff, yhe)
        rows.append((obh2, omh2, OG * (1 + neff * NEUTRINO_FACTOR), yhe, zs, zd))
    rows = np.array(rows)
    print(f"{len(rows)} CAMB runs in {time.time() - t0:.1f} s")
    x = scaled_inputs(*rows[:, :4].T)
    out = {
        "description": "CAMBFIT recombination fit: ln(1+z) = sum_k c_k prod_i x_i^p_ki with "
        "x = [ln(obh2/obh2_ref), ln(omh2/omh2_ref), ln(orh2/orh2_ref), (Y_He - Y_ref)/0.05]",
        "camb_version": camb.__version__,
        "tcmb": TCMB,
        "reference": REF,
        "ranges": RANGES,
        "degree": DEGREE,
        "n_train": n_train,
        "n_test": n_test,
    }
    feats, powers = features(x, DEGREE)
    out["powers"] = [list(p) for p in powers]
    for name, col in (("z_star", 4), ("z_drag", 5)):
        y = np.log1p(rows[:, col])
        coef, *_ = np.linalg.lstsq(feats[:n_train], y[:n_train], rcond=None)
        pred = np.expm1(feats @ coef)
        rel = pred / rows[:, col] - 1
        out[name] = {
            "coefficients": coef.tolist(),
            "max_rel_error_train": float(np.max(np.abs(rel[:n_train]))),
            "max_rel_error_test": float(np.max(np.abs(rel[n_train:]))),
            "rms_rel_error_test": float(np.sqrt(np.mean(rel[n_train:] ** 2))),
        }
        print(name, {k: v for k, v in out[name].items() if k != "coefficients"})
    # BBN helium fraction, as CAMB's set_cosmology computes it when YHe is None.
    pred = bbn.get_predictor()
    grid_b = np.linspace(*BBN_RANGES["obh2"], 60)
    grid_n = np.linspace(*BBN_RANGES["neff"], 50)
    bb, nn = np.meshgrid(grid_b, grid_n, indexing="ij")
    yy = np.array([[pred.Y_He(b, n - camb.constants.default_nnu) for b, n in zip(rb, rn)] for rb, rn in zip(bb, nn)])
    xb = np.stack([np.log(bb.ravel() / REF["obh2"]), (nn.ravel() - 3.046) / 3.0], axis=1)
    fb, pb = features(xb, BBN_DEGREE)
    coef, *_ = np.linalg.lstsq(fb, yy.ravel(), rcond=None)
    err = fb @ coef - yy.ravel()
    out["yhe_bbn"] = {
        "description": "Y_He = sum_k c_k prod_i x_i^p_ki, x = [ln(obh2/obh2_ref), (Neff - 3.046)/3]; "
        "fit to camb.bbn.get_predictor().Y_He(obh2, Neff - camb.constants.default_nnu)",
        "predictor": type(pred).__name__ + ":" + str(getattr(pred, "interpolation_table", "")),
        "standard_nnu": camb.constants.default_nnu,
        "ranges": BBN_RANGES,
        "powers": [list(p) for p in pb],
        "coefficients": coef.tolist(),
        "max_abs_error": float(np.max(np.abs(err))),
    }
    print("Y_He fit max abs error", out["yhe_bbn"]["max_abs_error"])
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
