"""Throughput of batched mock fits against one-at-a-time fits, measured in one run.

The job: 1000 mock data sets of ``desi_dr2`` + ``union3`` drawn around the flat-ΛCDM best
fit (Obh2 = 0.02237 fixed), each fitted for H0 and Ωm.

Measured (all on the same mocks, same machine, same process unless stated):

1. ``pbufjax.batch.fit_mocks`` — one vmapped, jit-compiled program — with the
   ``gauss_newton`` (default), ``newton`` and ``lbfgs`` batch optimizers: the first call
   (compilation + run) and a second call of the same batch size (warm: the number that
   matters for repeated use);
2. a sequential Python loop of warm single fits with the same pure-JAX optimizer
   (``fit_newton`` with or without the whitened residuals, ``fit_lbfgs``, on
   ``Likelihood.chi2_data``, jit-compiled once, one call per mock) — the fastest
   one-at-a-time alternative;
3. the warm per-fit time of the user-facing ``run_fit`` on the real data (full result:
   Hessian uncertainties, diagnostics), with the default optimizer (scipy L-BFGS-B with exact
   gradients) and with the fastest one (``gauss_newton``), as the cost of a loop of engine fits;
4. the hand-written scipy + astropy + numpy fit of ``benchmarks/bench_engine.py`` on the
   first mocks (per-fit time; the loop over all 1000 would take minutes);
5. in a subprocess with ``XLA_FLAGS=--xla_force_host_platform_device_count=2``: the batch
   sharded over two CPU devices (the host's two cores) against one device.

Writes ``benchmarks/results/batch.json``.  Run: ``python benchmarks/bench_batch.py [--n 1000]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PBUFJAX_DATA_DIR", str(ROOT.parent / "shared" / "data"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import write
from bench_engine import DATASETS, FREE, OVERRIDES  # the same fit as the engine benchmark

SHARDED_SNIPPET = r"""
import json, time, numpy as np
import pbufjax
from pbufjax import batch
out = {{}}
for nd in (1, 2):
    kw = dict(overrides={overrides!r}, fiducial={fiducial!r}, seed=1, method="gauss_newton", devices=nd)
    t0 = time.perf_counter(); r = batch.fit_mocks("lcdm", {datasets!r}, {free!r}, {n}, **kw); t1 = time.perf_counter()
    r2 = batch.fit_mocks("lcdm", {datasets!r}, {free!r}, {n}, **kw); t2 = time.perf_counter()
    out[nd] = {{"first_s": t1 - t0, "warm_s": t2 - t1, "chi2": r2["chi2"].tolist()}}
d = float(np.max(np.abs(np.array(out[1]["chi2"]) - np.array(out[2]["chi2"]))))
print("RESULT" + json.dumps({{"devices_1": {{k: v for k, v in out[1].items() if k != "chi2"}},
                             "devices_2": {{k: v for k, v in out[2].items() if k != "chi2"}},
                             "max_abs_chi2_difference": d}}))
"""


def sequential(single, mocks, x0, n):
    import jax

    names = list(mocks)
    first = {k: mocks[k][0] for k in names}
    jax.block_until_ready(single(x0, first))
    chi2 = np.empty(n)
    t0 = time.perf_counter()
    for i in range(n):
        r = single(x0, {k: mocks[k][i] for k in names})
        chi2[i] = float(r.fun)
    return time.perf_counter() - t0, chi2


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="number of mocks (default 1000)")
    ap.add_argument("--n-scipy", type=int, default=10, help="mocks fitted by the scipy + astropy loop")
    ap.add_argument("--no-sharded", action="store_true", help="skip the two-device subprocess")
    args = ap.parse_args(argv)

    import jax

    import pbufjax  # noqa: F401
    from pbufjax import batch
    from pbufjax import optimizer as O
    from pbufjax.engine import run_fit

    n = args.n
    out: dict = {"job": {"model": "lcdm", "datasets": DATASETS, "free": FREE, "fixed": OVERRIDES, "n_mocks": n},
                 "load_average_start": list(os.getloadavg())}
    prob = O.get_problem("lcdm", DATASETS, FREE, OVERRIDES)
    fid = batch.fiducial_model(DATASETS, FREE, overrides=OVERRIDES)
    fiducial = {k: fid["params"][k] for k in FREE}
    out["fiducial"] = fiducial
    mocks = batch.draw_mocks(DATASETS, n, fiducial={**fiducial, **OVERRIDES}, seed=1)

    # 1. batched
    res = {}
    for method in ("gauss_newton", "newton", "lbfgs"):
        kw = {"overrides": OVERRIDES, "fiducial": {**fiducial, **OVERRIDES}, "seed": 1, "method": method}
        t0 = time.perf_counter()
        batch.fit_mocks("lcdm", DATASETS, FREE, n, **kw)
        first = time.perf_counter() - t0
        warm = []
        for _ in range(5):  # a single warm call is at the mercy of a shared machine: median of five
            t1 = time.perf_counter()
            r = batch.fit_mocks("lcdm", DATASETS, FREE, n, **kw)
            warm.append(time.perf_counter() - t1)
        w = float(np.median(warm))
        res[method] = r
        out[f"batch_{method}"] = {"first_call_s": first, "warm_s": w, "warm_s_all": warm, "fits_per_s": n / w,
                                  "per_fit_ms": 1e3 * w / n, "iterations_mean": float(r["n_iter"].mean()),
                                  "iterations_max": int(r["n_iter"].max()),
                                  "status_counts": np.bincount(r["status"], minlength=3).tolist(),
                                  "plan": r["plan"]}
        print(method, out[f"batch_{method}"], flush=True)
    for m in ("newton", "lbfgs"):
        out[f"batch_gauss_newton_vs_{m}_max_abs_chi2"] = float(np.max(np.abs(res["gauss_newton"]["chi2"]
                                                                              - res[m]["chi2"])))

    # 2. sequential warm single fits, same optimizer, same mocks
    lik = prob.likelihood
    idx = np.asarray(prob.free_index)
    aux = np.asarray(prob.base_vector)
    x0 = np.array([fiducial[k] for k in FREE])
    import jax.numpy as jnp

    aux_j = jnp.asarray(aux)
    for method, fn in (("gauss_newton", O.fit_newton), ("newton", O.fit_newton), ("lbfgs", O.fit_lbfgs)):
        def one(x, obs, fn=fn, method=method):
            kw = {}
            if method == "gauss_newton":
                kw["residuals"] = lambda th: lik.residuals_data(aux_j.at[idx].set(th), obs)
            return fn(lambda th: lik.chi2_data(aux_j.at[idx].set(th), obs), x, prob.lower, prob.upper, **kw)

        single = jax.jit(one)
        elapsed, chi2 = sequential(single, mocks, x0, n)
        b = out[f"batch_{method}"]
        out[f"sequential_{method}"] = {"total_s": elapsed, "per_fit_ms": 1e3 * elapsed / n,
                                       "fits_per_s": n / elapsed,
                                       "max_abs_chi2_vs_batch": float(np.max(np.abs(chi2 - res[method]["chi2"])))}
        out[f"ratio_batch_vs_sequential_{method}"] = elapsed / b["warm_s"]
        print(method, "sequential", out[f"sequential_{method}"], flush=True)
    for m in ("newton", "lbfgs"):
        out[f"ratio_batch_gauss_newton_vs_sequential_{m}"] = (out[f"sequential_{m}"]["total_s"]
                                                              / out["batch_gauss_newton"]["warm_s"])

    # 3. run_fit per fit (real data; warm): the default optimizer and the fastest one
    for label, cfg in (("run_fit_warm", None), ("run_fit_warm_gauss_newton", {"method": "gauss_newton"})):
        run_fit("lcdm", DATASETS, overrides=OVERRIDES, optimization_params=FREE, optimizer_config=cfg)
        ts = []
        for _ in range(20):
            t0 = time.perf_counter()
            run_fit("lcdm", DATASETS, overrides=OVERRIDES, optimization_params=FREE, optimizer_config=cfg)
            ts.append(time.perf_counter() - t0)
        per = float(np.median(ts))
        method = (cfg or {}).get("method", "minimize")
        out[label] = {"per_fit_ms": 1e3 * per, "method": method,
                      "note": "real data (run_fit cannot take mock vectors); full result with exact-Hessian "
                              "uncertainties and diagnostics"}
    for label, key in (("run_fit_loop", "run_fit_warm"), ("run_fit_gauss_newton_loop", "run_fit_warm_gauss_newton")):
        per = out[key]["per_fit_ms"] * 1e-3
        out[f"ratio_batch_gauss_newton_vs_{label}"] = per * n / out["batch_gauss_newton"]["warm_s"]
        out[f"ratio_batch_newton_vs_{label}"] = per * n / out["batch_newton"]["warm_s"]

    # 4. scipy + astropy on the first mocks
    try:
        from bench_engine import HandWrittenFit

        hw = HandWrittenFit()
        hw.fit()  # warm imports
        ts, chi2s = [], []
        for i in range(args.n_scipy):
            hw.bao_d = mocks["desi_dr2"][i]
            hw.sn_mu = mocks["union3"][i]
            t0 = time.perf_counter()
            r = hw.fit()
            ts.append(time.perf_counter() - t0)
            chi2s.append(float(r.fun))
        per = float(np.mean(ts))
        out["scipy_astropy"] = {"per_fit_ms": 1e3 * per, "n_fits_timed": args.n_scipy,
                                "chi2_minus_batch": (np.array(chi2s) - res["gauss_newton"]["chi2"][: args.n_scipy]).tolist(),
                                "note": "Aubourg et al. 2015 r_d fit, so its χ² differs slightly from pbufjax's"}
        out["ratio_batch_gauss_newton_vs_scipy_astropy_loop"] = per * n / out["batch_gauss_newton"]["warm_s"]
    except ImportError as exc:  # astropy missing
        out["scipy_astropy"] = {"skipped": str(exc)}

    # 5. two host devices
    if not args.no_sharded:
        env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", JAX_PLATFORMS="cpu")
        code = SHARDED_SNIPPET.format(overrides=OVERRIDES, fiducial={**fiducial, **OVERRIDES}, datasets=DATASETS,
                                      free=FREE, n=n)
        proc = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, env=env,
                              timeout=1800)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")]
        out["sharded_two_cpu_devices"] = json.loads(lines[-1][6:]) if lines else {"error": proc.stderr[-2000:]}
    out["load_average_end"] = list(os.getloadavg())
    out["gpu"] = "not measured: no accelerator was available to this run"
    path = write("batch", out)
    print(json.dumps({k: v for k, v in out.items() if k.startswith("ratio")}, indent=1))
    print(f"wrote {path}")
    return out


if __name__ == "__main__":
    main()
