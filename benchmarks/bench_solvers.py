"""optimistix (GaussNewton, LevenbergMarquardt, BFGS) against pbufjax's hand-written Newton kernels.

The fits (the benchmark fits of ``bench_engine.py`` / ``bench_batch.py`` plus a PBUF fit):

* ``lcdm``: flat ΛCDM on ``desi_dr2`` + ``union3``, H0 and Ωm free (Obh2 = 0.02237 fixed);
* ``pbuf``: PBUF on ``cmb`` + ``bao`` + ``sn``, H0, Ωm, Obh2, k_sat and α free.

Solvers, side by side in one run on the same compiled χ² (``FitProblem.compiled``):

* pbufjax ``fit_newton`` — exact Newton, and Gauss-Newton on the whitened residuals
  (unit-box coordinates, projected steps, stopping at projected gradient < PGTOL);
* optimistix 0.1.0 ``GaussNewton`` and ``LevenbergMarquardt`` (``least_squares`` on the same
  whitened residuals) and ``BFGS`` (``minimise`` on χ²), all in the unconstrained sigmoid
  coordinates of :mod:`pbufjax.fit.transforms` (optimistix has no bounds), rtol = atol = 1e-8.

Measured: a single jitted fit (warm, best of several rounds) and a vmapped batch of
``--batch`` fits from random starting points in the box (warm); the χ² each solver reaches and
the ratio of its time to the hand-written kernel's (``ratio`` > 1: optimistix is slower).
Writes ``benchmarks/results/solvers.json``. Run: ``python benchmarks/bench_solvers.py [--batch 256]``
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PBUFJAX_DATA_DIR", str(ROOT.parent / "shared" / "data"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import best_time, write
from bench_engine import DATASETS, FREE, OVERRIDES

FITS = {
    "lcdm": dict(model="lcdm", datasets=DATASETS, free=FREE, overrides=OVERRIDES),
    "pbuf": dict(model="pbuf", datasets=["cmb", "bao", "sn"], free=["H0", "Om0", "Obh2", "k_sat", "alpha"],
                 overrides={}),
}
ADOPT_WITHIN = 1.3


def optimistix_fit(chi2, x0, lower, upper, log_mask, solver: str, residuals=None, rtol=1e-8, atol=1e-8,
                   max_steps=256):
    """One bounded fit with an optimistix solver in the sigmoid coordinates (jit/vmap-able)."""
    import jax.numpy as jnp
    import optimistix as optx

    from pbufjax.fit.criteria import BAD_CHI2
    from pbufjax.fit.result import SolverResult
    from pbufjax.fit.transforms import from_free, to_free

    u0 = jnp.clip((to_free(x0, lower, upper, log_mask, jnp)), -20.0, 20.0)

    def to_x(z):
        return from_free(z, lower, upper, log_mask, jnp)

    if solver == "bfgs":
        def f(z, _):
            v = chi2(to_x(z))
            return jnp.where(jnp.isfinite(v), v, BAD_CHI2)
        sol = optx.minimise(f, optx.BFGS(rtol=rtol, atol=atol), u0, max_steps=max_steps, throw=False)
    else:
        def w(z, _):
            r, ok = residuals(to_x(z))
            return jnp.where(ok & jnp.isfinite(r), r, 1e6)
        cls = optx.GaussNewton if solver == "gauss_newton" else optx.LevenbergMarquardt
        sol = optx.least_squares(w, cls(rtol=rtol, atol=atol), u0, max_steps=max_steps, throw=False)
    x = to_x(sol.value)
    v = chi2(x)
    ok = jnp.isfinite(v) & (v < BAD_CHI2)
    status = jnp.where(sol.result == optx.RESULTS.successful, 0,
                       jnp.where(sol.result == optx.RESULTS.nonlinear_max_steps_reached, 1, 2))
    status = jnp.where(ok, status, 2).astype(jnp.int32)
    return SolverResult(x=x, fun=jnp.where(ok, v, BAD_CHI2), status=status, n_iter=sol.stats["num_steps"])


def kernels(prob):
    """name -> fit(x0) for the fit problem ``prob`` (closures over its compiled χ²)."""
    import jax.numpy as jnp

    from pbufjax.fit.solvers.newton import fit_newton

    aux = jnp.asarray(prob.base_vector)
    lo, hi = jnp.asarray(prob.lower), jnp.asarray(prob.upper)
    mask = np.asarray(prob.log_mask, bool)
    c = prob.compiled

    def chi2(th):
        return c.chi2(th, aux)

    def res(th):
        return c.residuals(th, aux)

    return {
        "pbufjax_newton": lambda x0: fit_newton(chi2, x0, lo, hi, log_mask=mask),
        "pbufjax_gauss_newton": lambda x0: fit_newton(chi2, x0, lo, hi, log_mask=mask, residuals=res),
        "optimistix_gauss_newton": lambda x0: optimistix_fit(chi2, x0, lo, hi, mask, "gauss_newton", res),
        "optimistix_levenberg_marquardt": lambda x0: optimistix_fit(chi2, x0, lo, hi, mask, "lm", res),
        "optimistix_bfgs": lambda x0: optimistix_fit(chi2, x0, lo, hi, mask, "bfgs"),
    }


def measure(spec: dict, n_batch: int, seed: int = 0) -> dict:
    import jax

    from pbufjax.fit.problem import get_problem
    from pbufjax.fit.transforms import from_unit

    prob = get_problem(spec["model"], spec["datasets"], spec["free"], spec["overrides"])
    rng = np.random.default_rng(seed)
    mask = np.asarray(prob.log_mask, bool)
    starts = np.array([from_unit(u, prob.lower, prob.upper, mask) for u in rng.uniform(0.1, 0.9, (n_batch, prob.n_free))])
    out = {"model": spec["model"], "datasets": spec["datasets"], "free": spec["free"], "n_batch": n_batch}
    for name, fit in kernels(prob).items():
        single = jax.jit(fit)
        batch = jax.jit(jax.vmap(fit))
        x0 = prob.x0
        r = jax.device_get(single(x0))
        rb = jax.device_get(batch(starts))
        best = float(np.min(rb.fun))
        out[name] = {
            "single_s": best_time(single, x0, repeat=5),
            "batch_s": best_time(batch, starts, repeat=3),
            "single_chi2": float(r.fun), "single_status": int(r.status), "single_n_iter": int(r.n_iter),
            "single_x": [float(v) for v in r.x],
            "batch_status_counts": [int(np.sum(rb.status == k)) for k in range(3)],
            "batch_n_at_best": int(np.sum(np.abs(rb.fun - best) < 1e-4)),
            "batch_chi2_max_minus_min": float(np.max(rb.fun) - best),
        }
        print(name, {k: v for k, v in out[name].items() if k != "single_x"}, flush=True)
    for opt, ref in (("optimistix_gauss_newton", "pbufjax_gauss_newton"),
                     ("optimistix_levenberg_marquardt", "pbufjax_gauss_newton"),
                     ("optimistix_bfgs", "pbufjax_newton")):
        out[opt]["reference"] = ref
        out[opt]["ratio_single"] = out[opt]["single_s"] / out[ref]["single_s"]
        out[opt]["ratio_batch"] = out[opt]["batch_s"] / out[ref]["batch_s"]
        out[opt]["chi2_minus_reference"] = out[opt]["single_chi2"] - out[ref]["single_chi2"]
    return out


def decide(payload: dict) -> dict:
    """Adopt an optimistix solver only if, on every fit, it converges where the reference does
    (single fit: status success and χ² within 1e-4; batch: every start converged to the best χ²)
    and its single and batch times are within ``ADOPT_WITHIN`` of the reference's."""
    out = {}
    for opt in ("optimistix_gauss_newton", "optimistix_levenberg_marquardt", "optimistix_bfgs"):
        reasons, worst = [], 0.0
        for fit, f in payload["fits"].items():
            r = f[opt]
            worst = max(worst, r["ratio_single"], r["ratio_batch"])
            if r["single_status"] != 0 or abs(r["chi2_minus_reference"]) > 1e-4:
                reasons.append(f"{fit}: single fit status {r['single_status']}, χ² {r['chi2_minus_reference']:+.3g} "
                               f"from the reference")
            if r["batch_n_at_best"] < f["n_batch"]:
                reasons.append(f"{fit}: {f['n_batch'] - r['batch_n_at_best']}/{f['n_batch']} batch starts not at "
                               f"the best χ² (status counts {r['batch_status_counts']})")
            if max(r["ratio_single"], r["ratio_batch"]) > ADOPT_WITHIN:
                reasons.append(f"{fit}: {r['ratio_single']:.2f}x single, {r['ratio_batch']:.2f}x batch")
        out[opt] = {"worst_time_ratio": worst, "adopt": not reasons, "reasons": reasons}
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=256, help="vmapped batch size (default 256)")
    ap.add_argument("--fits", default=",".join(FITS), help="comma-separated fits to run")
    ap.add_argument("--decide-only", action="store_true",
                    help="recompute the verdict of the stored results/solvers.json without measuring")
    args = ap.parse_args(argv)
    if args.decide_only:
        import json

        from _timing import RESULTS

        path = RESULTS / "solvers.json"
        payload = json.loads(path.read_text())
        payload["verdict"] = decide(payload)
        path.write_text(json.dumps(payload, indent=1) + "\n")
        print(json.dumps(payload["verdict"], indent=1, ensure_ascii=False))
        return
    import jax

    jax.config.update("jax_enable_x64", True)
    import optimistix

    payload = {"optimistix": optimistix.__version__, "adopt_within": ADOPT_WITHIN,
               "load_average_start": list(os.getloadavg()), "fits": {}}
    for name in args.fits.split(","):
        payload["fits"][name] = measure(FITS[name], args.batch)
    payload["verdict"] = verdict = decide(payload)
    print(verdict)
    print(write("solvers", payload))


if __name__ == "__main__":
    main()
