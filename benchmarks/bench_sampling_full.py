"""Sampling at full size: NUTS against emcee on w0waCDM + Σmν with DESI DR2 + CMB (PR4) + DESY5.

The posterior: flat w0waCDM with H0, Ωm, ω_b, w0, wa and Σmν free (one massive state), on
``desi_dr2`` (13 BAO values, arXiv:2503.14738) + ``planck_pr4_compressed`` (θ*, ω_b, ω_bc;
the same paper, Eqs. 35–36) + ``desy5_stat`` (1829 DES-SN5YR supernovae, statistical errors,
arXiv:2401.02929), uniform priors over the optimization bounds.

Measured in one run:

1. ``pbufjax.sample.sample_posterior`` (NUTS, dense mass matrix, 4 chains): compile time,
   warm sampling time of a second call (warm-up included), the smallest ESS of the six free
   parameters, ESS/s, r̂, divergences;
2. emcee (affine-invariant ensemble) on the same compiled log-posterior with the ensemble
   evaluated by one vmapped call per step (its best case), started from the best fit ± the
   Hessian errors; ESS = N / τ_int (largest over the parameters), burn-in included in the time.

Writes ``benchmarks/results/sampling_full.json``. Run: ``python benchmarks/bench_sampling_full.py``
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import write

MODEL = "w0wacdm"
DATASETS = ["desi_dr2", "planck_pr4_compressed", "desy5_stat"]
FREE = ["H0", "Om0", "Obh2", "w0", "wa", "mnu"]
OVERRIDES: dict = {}
TARGET_ESS_PER_S = 1000.0


def nuts(num_chains=4, num_warmup=500, num_samples=1000) -> dict:
    from pbufjax.sample import sample_posterior

    kw = {"overrides": OVERRIDES, "num_samples": num_samples, "num_warmup": num_warmup, "num_chains": num_chains,
          "use_store": False, "target_accept_prob": 0.85}
    first = sample_posterior(MODEL, DATASETS, FREE, seed=0, **kw)
    r = sample_posterior(MODEL, DATASETS, FREE, seed=1, **kw)
    s = r["summary"]
    ess = min(s[k]["ess"] for k in FREE)
    return {"num_chains": num_chains, "chain_method": r["config"].get("chain_method") if "config" in r else None,
            "num_warmup": num_warmup, "num_samples": num_samples, "compile_s": first["timing"]["compile"],
            "warm_sampling_s": r["timing"]["sampling"], "min_ess": ess, "ess_per_s": ess / r["timing"]["sampling"],
            "r_hat_max": max(s[k]["r_hat"] for k in FREE), "divergences": r["diagnostics"]["num_divergences"],
            "mean_leapfrog_steps": r["diagnostics"]["num_steps_mean"],
            "posterior": {k: {"mean": s[k]["mean"], "std": s[k]["std"]} for k in FREE}}


def emcee_run(nwalkers=32, nsteps=4000, burn=1000, seed=0) -> dict:
    import emcee
    import jax
    import jax.numpy as jnp

    from pbufjax.engine import run_fit
    from pbufjax.sample import Posterior

    fit = run_fit(MODEL, DATASETS, optimization_params=FREE, overrides=OVERRIDES)
    centre = np.array([fit["params"][k] for k in FREE])
    sig = np.array([fit["uncertainties"].get(k) or 0.01 for k in FREE], dtype=float)
    sig = np.where(np.isfinite(sig) & (sig > 0), sig, 0.01)
    post = Posterior(MODEL, DATASETS, FREE, overrides=OVERRIDES)
    f = jax.jit(jax.vmap(post.log_prob))

    def log_prob(x):
        return np.asarray(f(jnp.asarray(x)))

    rng = np.random.default_rng(seed)
    p0 = centre + 0.3 * rng.normal(size=(nwalkers, len(FREE))) * sig
    p0[:, FREE.index("mnu")] = np.abs(p0[:, FREE.index("mnu")])  # inside the prior
    log_prob(p0)  # compile
    sampler = emcee.EnsembleSampler(nwalkers, len(FREE), log_prob, vectorize=True)
    t0 = time.perf_counter()
    sampler.run_mcmc(p0, burn + nsteps, progress=False)
    elapsed = time.perf_counter() - t0
    tau = sampler.get_autocorr_time(discard=burn, quiet=True)
    chain = sampler.get_chain(discard=burn)
    n = chain.shape[0] * chain.shape[1]
    ess = float(n / np.max(tau))
    flat = chain.reshape(-1, len(FREE))
    return {"nwalkers": nwalkers, "nsteps": nsteps, "burn": burn, "time_s": elapsed, "tau": tau.tolist(),
            "min_ess": ess, "ess_per_s": ess / elapsed, "acceptance": float(np.mean(sampler.acceptance_fraction)),
            "posterior": {k: {"mean": float(flat[:, i].mean()), "std": float(flat[:, i].std())}
                          for i, k in enumerate(FREE)}}


def main():
    import pbufjax  # noqa: F401

    out: dict = {"posterior": {"model": MODEL, "datasets": DATASETS, "free": FREE, "fixed": OVERRIDES},
                 "target_ess_per_s": TARGET_ESS_PER_S, "load_average_start": list(os.getloadavg())}
    out["nuts"] = nuts()
    print("NUTS", {k: v for k, v in out["nuts"].items() if k != "posterior"}, flush=True)
    out["emcee"] = emcee_run()
    print("emcee", {k: v for k, v in out["emcee"].items() if k != "posterior"}, flush=True)
    out["ratio_nuts_vs_emcee"] = out["nuts"]["ess_per_s"] / out["emcee"]["ess_per_s"]
    out["meets_target"] = bool(out["nuts"]["ess_per_s"] >= TARGET_ESS_PER_S and out["nuts"]["r_hat_max"] < 1.01)
    out["load_average_end"] = list(os.getloadavg())
    path = write("sampling_full", out)
    print({k: out[k] for k in ("ratio_nuts_vs_emcee", "meets_target")}, f"wrote {path}")
    return out


if __name__ == "__main__":
    main()
