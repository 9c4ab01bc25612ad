"""Massive neutrinos: the cost of the Fermi–Dirac term, and accuracy next to astropy's fitting formula.

1. Speed: the joint χ² of ``cmb`` + ``desi_dr2`` + ``union3`` (flat ΛCDM), value and gradient
   in one jitted call, with (H0, Om0, Obh2) free at ``mnu = 0`` (massless: the neutrino term
   is skipped at trace time) against (H0, Om0, Obh2, mnu) free at ``mnu = 0.06`` (the
   Fermi–Dirac density at every quadrature node), and against ``mnu = 0.06`` fixed.
   Reported: the ratios (target ≤ 1.3).
2. Accuracy: H(z) against CAMB (``SetNeutrinoMasses``, degenerate, 1 and 3 massive states)
   for pbufjax's exact Fermi–Dirac density and for astropy's ``FlatLambdaCDM(m_nu=...)``, which
   uses the Komatsu et al. 2011 fitting formula (arXiv:1001.4538, eq. 26) for the neutrino
   density. Both are given the same densities: pbufjax CAMB's ``omegam`` (massive neutrinos
   included, the pbufjax convention), astropy ω_b + ω_c (its ``Om0`` excludes them).

Writes ``benchmarks/results/neutrinos.json``. Run: ``python benchmarks/bench_neutrinos.py``
(needs the ``validation`` extra for CAMB and astropy).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PBUFJAX_DATA_DIR", str(ROOT.parent / "shared" / "data"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import best_time, write  # noqa: E402

DATASETS = ["cmb", "desi_dr2", "union3"]
Z = np.array([0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 100.0, 1000.0])


def speed() -> dict:
    import jax
    import jax.numpy as jnp

    from pbufjax.likelihood import build_likelihood

    out = {}
    for label, free, over in (("mnu=0, 3 free", ["H0", "Om0", "Obh2"], {"mnu": 0.0}),
                              ("mnu=0.06, 4 free (mnu free)", ["H0", "Om0", "Obh2", "mnu"], {"mnu": 0.06}),
                              ("mnu=0.06 fixed, 3 free", ["H0", "Om0", "Obh2"], {"mnu": 0.06})):
        lik = build_likelihood("lcdm", DATASETS, free, over)
        vg = jax.jit(jax.value_and_grad(lik.chi2_traced))
        x = jnp.asarray(lik.theta0)
        out[label] = {"seconds": best_time(vg, x), "chi2": float(vg(x)[0])}
    a, b, c = out.values()
    return {"cases": out, "ratio_massive_over_massless": b["seconds"] / a["seconds"],
            "ratio_fixed_mnu_over_massless": c["seconds"] / a["seconds"], "target": 1.3}


def accuracy() -> dict:
    import camb
    from astropy.cosmology import FlatLambdaCDM

    import pbufjax
    from pbufjax import cosmology

    rows = []
    for mnu in (0.06, 0.1, 0.3, 1.0):
        for n in (1, 3):
            pars = camb.set_params(H0=67.4, ombh2=0.0224, omch2=0.12, mnu=mnu, num_massive_neutrinos=n, nnu=3.046)
            res = camb.get_background(pars)
            h = 0.674
            om = (0.0224 + 0.12 + pars.omnuh2) / h**2
            ref = res.hubble_parameter(Z)
            p = pbufjax.build_params("lcdm", {"H0": 67.4, "Om0": om, "Obh2": 0.0224, "Neff": 3.046, "mnu": mnu,
                                              "num_massive_neutrinos": n})
            ours = np.asarray(cosmology.hubble(Z, p))
            masses = [mnu] + [0.0, 0.0] if n == 1 else [mnu / 3] * 3
            # astropy's Om0 is baryons + CDM only (its massive neutrinos are added on top)
            ast = FlatLambdaCDM(H0=67.4, Om0=(0.0224 + 0.12) / h**2, Tcmb0=2.7255, Neff=3.046, m_nu=masses, Ob0=0.0224 / h**2)
            rows.append({"mnu": mnu, "num_massive_neutrinos": n,
                         "pbufjax_max_rel_error": float(np.max(np.abs(ours / ref - 1))),
                         "astropy_max_rel_error": float(np.max(np.abs(ast.H(Z).value / ref - 1)))})
    return {"z": Z.tolist(), "against": f"CAMB {camb.__version__}", "rows": rows,
            "note": "astropy splits Neff equally over its three species and uses the Komatsu et al. (2011) "
                    "fitting formula for their density; pbufjax and CAMB use CAMB's split (massive states carry "
                    "3.044/3 each) and the Fermi-Dirac integral"}


def main() -> None:
    payload = {"speed": speed(), "accuracy": accuracy()}
    path = write("neutrinos", payload)
    print(f"wrote {path}")
    print(f"ratio massive/massless value+grad: {payload['speed']['ratio_massive_over_massless']:.3f}")
    for r in payload["accuracy"]["rows"]:
        print(r)


if __name__ == "__main__":
    main()
