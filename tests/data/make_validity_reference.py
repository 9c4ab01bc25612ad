"""Make ``tests/data/validity_reference.json``: CAMB's z*, z_d and r_d over the valid ranges.

The valid ranges of ``Obh2`` (0.005–0.1), ``Neff`` (0–10) and the recombination-era
``omega_m`` (0.005–2.5, :data:`pbufjax.cosmology.validity.RECOMBINATION_OMH2_RANGE`)
reach far beyond the box CAMBFIT was calibrated on (``omega_b`` 0.016–0.03, ``omega_m``
0.085–0.215, ``Neff`` 0–7.5). This grid of flat-ΛCDM points with massless neutrinos
(CAMB defaults otherwise: Recfast, BBN helium, Tcmb 2.7255 K) records what CAMB gives
there, so ``tests/cosmology/test_validity.py`` can hold the accuracy the documentation
states for the whole valid domain and for the calibration box.

Run:  python tests/data/make_validity_reference.py   (about 10 s; needs the ``validation`` extra)
"""

from __future__ import annotations

import itertools
import json
import pathlib

import camb
import numpy as np

OUT = pathlib.Path(__file__).with_name("validity_reference.json")
OMBH2 = [0.005, 0.01, 0.016, 0.0224, 0.03, 0.05, 0.1]
OMH2 = [0.006, 0.02, 0.085, 0.143, 0.215, 0.5, 1.0, 2.2]
NEFF = [0.0, 3.044, 7.5, 10.0]


def point(obh2: float, omh2: float, neff: float) -> dict:
    h = 0.674
    if omh2 / h**2 > 0.95:
        h = float(np.sqrt(omh2 / 0.95))
    if omh2 / h**2 < 0.02:
        h = float(np.sqrt(omh2 / 0.02))
    pars = camb.set_params(H0=100 * h, ombh2=obh2, omch2=omh2 - obh2, mnu=0.0, nnu=neff,
                           num_massive_neutrinos=0, omk=0.0, TCMB=2.7255)
    d = camb.get_background(pars).get_derived_params()
    return {"H0": 100 * h, "Om0": omh2 / h**2, "Obh2": obh2, "Neff": neff,
            "zstar": d["zstar"], "zdrag": d["zdrag"], "rdrag": d["rdrag"]}


def main() -> None:
    rows = [point(b, m, n) for b, m, n in itertools.product(OMBH2, OMH2, NEFF) if m > 1.1 * b]
    OUT.write_text(json.dumps({"camb_version": camb.__version__, "points": rows}, indent=1) + "\n")
    print(f"wrote {OUT} ({len(rows)} points)")


if __name__ == "__main__":
    main()
