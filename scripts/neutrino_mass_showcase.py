"""The Σmν showcase of ``documents/neutrino_mass.md``: posterior (NUTS) and profile likelihood.

Data: DESI DR2 BAO (``desi_dr2``, arXiv:2503.14738) and DESI DR2's compressed Planck PR4 CMB
prior on (θ*, ω_b, ω_bc) (``planck_pr4_compressed``, the same paper, Eqs. 35–36), optionally
with DESY5 (stat) supernovae. Model: flat ΛCDM with three degenerate massive neutrinos (DESI's
choice for its Σmν bound), H0, Om0, Obh2 and mnu free; a uniform prior 0 ≤ Σmν ≤ 5 eV
(the parameter's optimization bounds), uniform priors over the bounds for the others.

Writes ``documents/results/neutrino_mass.json`` (every number the page quotes) and
``documents/figures/neutrino_mass.png`` / ``.pdf``.

Run: ``python scripts/neutrino_mass_showcase.py`` (≈ 2–4 min on 2 CPU cores).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

import pbufjax  # noqa: F401  (float64)
from pbufjax.engine import run_fit
from pbufjax.inference.batch.profile import profile_likelihood
from pbufjax.sample import sample_posterior

ROOT = Path(__file__).resolve().parents[1]
FREE = ["H0", "Om0", "Obh2", "mnu"]
FIXED = {"num_massive_neutrinos": 3}
#: DESI DR2 BAO + CMB (Planck PR4 + ACT lensing), ΛCDM, 3 degenerate states: Σmν < 0.0642 eV (95%),
#: and the Feldman-Cousins 95% bound 0.053 eV (arXiv:2503.14738, Sec. VII; arXiv:2503.14744).
DESI_LIMIT_95 = 0.0642
DESI_FC_95 = 0.053
COMBINATIONS = {"DESI DR2 BAO + CMB (PR4 compressed)": ["desi_dr2", "planck_pr4_compressed"],
                "+ DESY5 (stat)": ["desi_dr2", "planck_pr4_compressed", "desy5_stat"]}


def posterior(datasets, seed=0):
    r = sample_posterior("lcdm", datasets, FREE, overrides=FIXED, num_samples=4000, num_warmup=1000,
                         num_chains=4, seed=seed, use_store=False, target_accept_prob=0.9)
    m = np.asarray(r["samples"]["mnu"])
    return r, {
        "mnu_95_upper": float(np.quantile(m, 0.95)),
        "mnu_68_upper": float(np.quantile(m, 0.68)),
        "mnu_mean": float(np.mean(m)),
        "r_hat_max": float(max(r["summary"][k]["r_hat"] for k in FREE)),
        "ess_min": float(min(r["summary"][k]["ess"] for k in FREE)),
        "num_divergences": int(r["diagnostics"]["num_divergences"]),
        "summary": {k: {s: float(r["summary"][k][s]) for s in ("mean", "std", "q025", "q975")} for k in FREE},
    }


def profile(datasets, grid):
    prof = profile_likelihood("lcdm", datasets, FREE, {"mnu": grid}, overrides=FIXED)
    d = np.asarray(prof["delta_chi2"], dtype=float)
    x = grid

    def crossing(level):
        above = np.nonzero(d > level)[0]
        if above.size == 0:
            return None
        j = int(above[0])
        if j == 0:
            return float(x[0])
        return float(x[j - 1] + (level - d[j - 1]) * (x[j] - x[j - 1]) / (d[j] - d[j - 1]))

    # the profile's minimum over Σmν ≥ 0 is at the boundary: a one-sided 95% bound is Δχ² = 2.71
    return prof, {"delta_chi2": d.tolist(), "grid": x.tolist(), "chi2_min": float(prof["chi2_min"]),
                  "mnu_best": float(prof["best"]["mnu"]),
                  "mnu_95_upper_one_sided": crossing(2.71), "mnu_95_upper_two_sided": crossing(3.84)}


def main():
    t0 = time.perf_counter()
    out = {"model": "lcdm", "free": FREE, "fixed": FIXED, "desi_limit_95": DESI_LIMIT_95, "desi_fc_95": DESI_FC_95,
           "combinations": {}}
    grid = np.linspace(0.0, 0.6, 61)
    chains = {}
    for label, ds in COMBINATIONS.items():
        fit = run_fit("lcdm", ds, optimization_params=FREE, overrides=FIXED)
        r, post = posterior(ds)
        _, prof = profile(ds, grid)
        chains[label] = np.asarray(r["samples"]["mnu"])
        out["combinations"][label] = {"datasets": ds, "posterior": post, "profile": prof,
                                      "best_fit": {k: float(fit["params"][k]) for k in FREE},
                                      "best_fit_chi2": float(fit["metrics"]["total_chi2"]),
                                      "n_data": int(fit["metrics"]["n_data"]) if "n_data" in fit["metrics"] else None}
        print(label, json.dumps({k: post[k] for k in ("mnu_95_upper", "r_hat_max", "ess_min")}),
              "profile 95%:", prof["mnu_95_upper_one_sided"], "best", prof["mnu_best"])
    out["time_s"] = time.perf_counter() - t0
    ex = ROOT / "documents" / "results" / "neutrino_mass.json"
    ex.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    figure(out, chains)
    print(f"wrote {ex} in {out['time_s']:.0f} s")


def figure(out, chains):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = ["#1f77b4", "#d62728"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for (label, res), c in zip(out["combinations"].items(), colors):
        m = chains[label]
        # density with a reflection at the physical bound Σmν = 0 (no artificial drop at the edge)
        xs = np.linspace(0.0, 0.4, 400)
        bw = 1.06 * np.std(m) * m.size ** (-0.2)
        k = lambda x: np.exp(-0.5 * ((xs[:, None] - x[None, :]) / bw) ** 2).sum(axis=1)  # noqa: E731
        dens = k(m) + k(-m)
        dens /= np.trapezoid(dens, xs)
        a.plot(xs, dens, color=c, lw=2, label=label)
        a.axvline(res["posterior"]["mnu_95_upper"], color=c, ls=":", lw=1.5)
        b.plot(res["profile"]["grid"], res["profile"]["delta_chi2"], color=c, lw=2, label=label)
    for ax in (a, b):
        ax.axvline(DESI_LIMIT_95, color="k", ls="--", lw=1.2, label="DESI DR2 + CMB 95% (0.064 eV)")
        ax.axvspan(0.0, 0.059, color="0.85", zorder=0, label="excluded by oscillations (NO)")
        ax.set_xlabel(r"$\Sigma m_\nu$ [eV]")
        ax.set_xlim(0.0, 0.4)
    a.set_ylabel("posterior density [1/eV]")
    a.set_title(r"NUTS posterior (dotted: 95% upper limit)")
    b.axhline(2.71, color="0.4", lw=1, ls="-.")
    b.text(0.395, 2.71, r"$\Delta\chi^2 = 2.71$ (one-sided 95%)", ha="right", va="bottom", fontsize=8, color="0.3")
    b.set_ylim(0.0, 8.0)
    b.set_ylabel(r"$\Delta\chi^2$ (profiled over $H_0$, $\Omega_\mathrm{m}$, $\omega_\mathrm{b}$)")
    b.set_title("profile likelihood")
    a.legend(fontsize=8, loc="upper right")
    figs = ROOT / "documents" / "figures"
    figs.mkdir(exist_ok=True)
    for ext in ("png", "pdf"):
        fig.savefig(figs / f"neutrino_mass.{ext}", dpi=150)


if __name__ == "__main__":
    main()
