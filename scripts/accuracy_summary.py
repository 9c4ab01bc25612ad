"""Print the physics core's accuracy against CAMB (tests/data/camb_reference.json) per method.

Run: python scripts/accuracy_summary.py   (used for documents/physics_core.md)
"""

import json
import pathlib

import jax
import numpy as np

import pbufjax
from pbufjax import cosmology
from pbufjax.cosmology.cmb import derived

REF = json.loads((pathlib.Path(__file__).parents[1] / "tests" / "data" / "camb_reference.json").read_text())


def main():
    keys = ("z_star", "z_drag", "r_star", "r_drag", "theta_star", "l_A")
    rows = {}
    h_err = dm_err = rs_err = 0.0
    for method in ("CAMBFIT", "HS96", "EH98", "PLANCK18", "AUBOURG"):
        errs = {k: [] for k in keys}
        for c in REF["cosmologies"]:
            p = pbufjax.build_params(c["model"], {**c["pbufjax_overrides"], "recomb_method": method})
            d = {k: float(v) for k, v in jax.jit(lambda q, s=p: derived({**s, **q}))(
                {k: v for k, v in p.items() if isinstance(v, float)}).items()}
            ref = dict(c["derived"], l_A=np.pi * c["derived"]["DM_star"] / c["derived"]["r_star"])
            for k in keys:
                errs[k].append(d[k] / ref[k] - 1)
            if method == "CAMBFIT":
                z = np.array(c["z_dist"])
                h_err = max(h_err, np.max(np.abs(np.asarray(cosmology.hubble(z, p)) / c["H"] - 1)))
                dm = np.asarray(cosmology.comoving_transverse_distance(z, p))
                dm_err = max(dm_err, np.max(np.abs(dm / c["DM"] - 1)))
                rs = np.asarray(cosmology.sound_horizon(np.array(c["z_rs"]), p, a_min=1e-9))
                rs_err = max(rs_err, np.max(np.abs(rs / c["rs_from_a_1e-9"] - 1)))
        rows[method] = {k: (np.min(v), np.max(v)) for k, v in errs.items()}
    print(f"{len(REF['cosmologies'])} CAMB cosmologies; max |rel err|: H {h_err:.1e}, D_M {dm_err:.1e}, r_s {rs_err:.1e}")
    print("| method | " + " | ".join(keys) + " |")
    print("|---|" + "---|" * len(keys))
    for m, r in rows.items():
        print(f"| {m} | " + " | ".join(f"{lo:+.1e} .. {hi:+.1e}" for lo, hi in r.values()) + " |")


if __name__ == "__main__":
    main()
