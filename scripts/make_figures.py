"""The figures of ``documents/figures.md``, drawn from real data by the public plotting functions.

Every figure is written as PNG and PDF to ``documents/figures/`` (or ``--out``):

* ``bao``: DESI DR2 + BOSS DR12 BAO distances with the ΛCDM best fit of DESI DR2 + Union3, residuals;
* ``sn``: the DES-SN5YR (stat. only) Hubble diagram at the same best fit, binned residuals;
* ``corner``: ΛCDM posteriors (NUTS) of DESI DR2 + Planck PR4 (compressed), with and without
  DES-SN5YR (stat. only), overlaid;
* ``profile`` / ``profile_2d``: profile likelihoods of Ωm (ΛCDM, Union3) and of (Ωm, w0) (wCDM,
  DESI DR2 + Union3, H0 profiled);
* ``mocks``: Δχ²(ΛCDM − wCDM) over 500 ΛCDM mocks of DESI DR2 + Union3, with Wilks' law.

Run: ``python scripts/make_figures.py [--out FOLDER] [--only bao,sn,...]`` (≈ 3 min on 2 CPU cores;
``bao,sn,profile`` alone take ≈ 30 s).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import pbufjax  # noqa: F401  (float64)
from pbufjax import plots
from pbufjax.analysis.figures import save_formats

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ("bao", "sn", "corner", "profile", "profile_2d", "mocks")
FIXED = {"Obh2": 0.02237}  # BBN-like baryon density for the fits without a CMB prior


def best_fit():
    from pbufjax.engine import run_fit

    return run_fit("lcdm", ["desi_dr2", "union3"], overrides=FIXED, optimization_params=["H0", "Om0"])


def posteriors():
    from pbufjax.sample import sample_posterior

    runs = {"DESI DR2 + Planck PR4 (compressed)": ["desi_dr2", "planck_pr4_compressed"],
            "+ DES-SN5YR (stat. only)": ["desi_dr2", "planck_pr4_compressed", "desy5_stat"]}
    return {label: sample_posterior("lcdm", ds, ["H0", "Om0", "Obh2"], num_samples=2000, num_warmup=500,
                                    num_chains=2, seed=1, use_store=False) for label, ds in runs.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "documents" / "figures", help="output folder")
    ap.add_argument("--only", default=",".join(FIGURES), help=f"comma-separated subset of {', '.join(FIGURES)}")
    args = ap.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    bad = [s for s in only if s not in FIGURES]
    if bad:
        ap.error(f"unknown figures {bad}; valid: {', '.join(FIGURES)}")
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    written = []
    if {"bao", "sn"} & set(only):
        fit = best_fit()
        if "bao" in only:
            written += save_formats(plots.plot_bao(fit, ["desi_dr2", "boss_dr12"]), args.out / "bao")
        if "sn" in only:
            written += save_formats(plots.plot_sn(fit, "desy5_stat"), args.out / "sn")
    if "corner" in only:
        post = posteriors()
        fig = plots.plot_corner(list(post.values()), ["H0", "Om0", "Obh2", "h_rd"], legend_labels=list(post))
        written += save_formats(fig, args.out / "corner")
    if "profile" in only or "profile_2d" in only:
        from pbufjax.batch import profile_likelihood

        if "profile" in only:
            prof = profile_likelihood("lcdm", ["union3"], ["Om0"], {"Om0": np.linspace(0.22, 0.50, 57)})
            written += save_formats(plots.plot_profile(prof), args.out / "profile")
        if "profile_2d" in only:
            prof2 = profile_likelihood("wcdm", ["desi_dr2", "union3"], ["H0", "Om0", "w0"],
                                       {"Om0": np.linspace(0.24, 0.36, 25), "w0": np.linspace(-1.25, -0.6, 27)},
                                       overrides=FIXED)
            written += save_formats(plots.plot_profile(prof2), args.out / "profile_2d")
    if "mocks" in only:
        from pbufjax.batch import compare_models

        comp = compare_models(["desi_dr2", "union3"], 500, null_model="lcdm", alt_model="wcdm",
                              null_params=["H0", "Om0"], alt_params=["H0", "Om0", "w0"], overrides=FIXED, seed=0)
        written += save_formats(plots.plot_mock_delta_chi2(comp), args.out / "mocks")
    for p in written:
        print(f"wrote {p.relative_to(ROOT) if p.is_relative_to(ROOT) else p}")
    print(f"{len(written)} files in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
