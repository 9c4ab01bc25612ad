"""Speed of a complete fit: pbufjax's ``run_fit`` against a hand-written scipy + astropy + numpy pipeline.

The fit: flat ΛCDM, ``desi_dr2`` + ``union3``, H0 and Om0 free (Obh2 fixed at 0.02237).

Measured in the same run (so the ratios compare like with like on this machine):

1. warm ``run_fit`` (already compiled): the full result (best fit, Hessian uncertainties,
   per-dataset χ², metrics, diagnostics), with the default optimizer (``minimize``: scipy
   L-BFGS-B fed the exact JAX gradient), with ``newton`` (damped Newton with the exact
   Hessian, one compiled call) and with ``gauss_newton`` (the same on the Gauss-Newton
   matrix of the whitened residuals, then the exact Hessian at the optimum); also the bare
   fit (uncertainties and diagnostics off);
2. the hand-written pipeline a user would write without pbufjax: astropy ``FlatLambdaCDM``
   distances, the Aubourg et al. 2015 (arXiv:1411.1074, eq. 16) sound-horizon fit, numpy χ²
   with precomputed inverse covariances, analytic marginalization of the SN offset, and
   ``scipy.optimize.minimize`` (L-BFGS-B, finite-difference gradient), warm (imports and data
   loading outside the timing);
3. cold start in fresh processes (``subprocess``, wall time including interpreter start,
   imports, data loading and compilation): with the persistent compilation cache disabled,
   with an empty cache (first process) and with that cache filled (second process).

Cobaya + CAMB is not installed here; its time for this fit on this machine (≈ 0.15 s warm,
≈ 3 ms per likelihood evaluation) is recorded as a reference value, not measured.

Usage (from the repository root)::

    python benchmarks/bench_engine.py [--out benchmarks/results/engine.json] [--repeat 30] [--no-cold]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PBUFJAX_DATA_DIR", str(ROOT.parent / "shared" / "data"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import machine  # noqa: E402

DATASETS = ["desi_dr2", "union3"]
FREE = ["H0", "Om0"]
OVERRIDES = {"Obh2": 0.02237, "mnu": 0.0}  # massless, as the astropy + scipy peer (m_nu = 0)
C_KMS = 299792.458
#: Reference (not measured here): Cobaya + CAMB, same fit, warm, on this machine.
COBAYA_REFERENCE_S = 0.15


def _median_time(fn, repeat: int) -> dict:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times = np.array(times)
    return {"median_s": float(np.median(times)), "min_s": float(times.min()), "repeat": repeat}


# ---------------------------------------------------------------------------
# the hand-written pipeline (no pbufjax code on the hot path)
# ---------------------------------------------------------------------------


class HandWrittenFit:
    """scipy + astropy + numpy: what a user would write to fit DESI DR2 + Union3."""

    def __init__(self):
        from pbufjax.datasets import load_dataset  # data loading only

        bao = load_dataset("desi_dr2")
        self.bao_z = np.asarray(bao["redshifts"], float)
        self.bao_q = list(bao["quantities"])
        self.bao_d = np.asarray(bao["observations"], float)
        self.bao_icov = np.linalg.inv(np.asarray(bao["covariance"], float))
        sn = load_dataset("union3")
        self.sn_zcmb = np.asarray(sn["z_cmb"], float)
        self.sn_zhel = np.asarray(sn["z_hel"], float)
        self.sn_mu = np.asarray(sn["observations"], float)
        self.sn_icov = np.linalg.inv(np.asarray(sn["covariance"], float))
        self.obh2 = OVERRIDES["Obh2"]

    def chi2(self, theta) -> float:
        import astropy.units as u
        from astropy.cosmology import FlatLambdaCDM

        h0, om = float(theta[0]), float(theta[1])
        if not (0.01 < om < 0.99 and 20 < h0 < 150):
            return 1e30
        cosmo = FlatLambdaCDM(H0=h0, Om0=om, Tcmb0=2.7255, Neff=3.046, m_nu=0.0 * u.eV)
        h = h0 / 100.0
        omh2 = om * h * h
        # Aubourg et al. 2015 (arXiv:1411.1074) eq. 16, massless neutrinos
        rd = 55.154 * math.exp(-72.3 * (0.0 + 0.0006) ** 2) / (omh2**0.25351 * self.obh2**0.12807)
        dm = cosmo.comoving_transverse_distance(self.bao_z).value
        dh = C_KMS / cosmo.H(self.bao_z).value
        dv = (self.bao_z * dm**2 * dh) ** (1.0 / 3.0)
        table = {"DM_over_rs": dm, "DH_over_rs": dh, "DV_over_rs": dv}
        model = np.array([table[q][i] for i, q in enumerate(self.bao_q)]) / rd
        r = self.bao_d - model
        chi2 = r @ self.bao_icov @ r
        dl = (1 + self.sn_zhel) * cosmo.comoving_transverse_distance(self.sn_zcmb).value
        d = self.sn_mu - (5 * np.log10(dl) + 25)
        a = d @ self.sn_icov @ d
        b = np.sum(self.sn_icov @ d)
        e = np.sum(self.sn_icov)
        return float(chi2 + a - b * b / e)

    def fit(self):
        from scipy.optimize import minimize

        return minimize(self.chi2, np.array([67.4, 0.315]), method="L-BFGS-B",
                        bounds=[(20.0, 150.0), (0.01, 0.99)])


# ---------------------------------------------------------------------------
# cold start in fresh processes
# ---------------------------------------------------------------------------

COLD_SNIPPET = r"""
import time, json
t0 = time.perf_counter()
from pbufjax.engine import run_fit
t1 = time.perf_counter()
r = run_fit("lcdm", {datasets!r}, overrides={overrides!r}, optimization_params={free!r},
            optimizer_config={{"method": {method!r}}})
t2 = time.perf_counter()
print(json.dumps({{"import_s": t1 - t0, "fit_s": t2 - t1, "chi2": r["metrics"]["total_chi2"],
                  "status": r["optimization"]["convergence_status"]}}))
"""


def cold_run(env_extra: dict, method: str = "minimize") -> dict:
    code = COLD_SNIPPET.format(datasets=DATASETS, overrides=OVERRIDES, free=FREE, method=method)
    env = dict(os.environ, **env_extra)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["wall_s"] = wall
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "engine.json"))
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--baseline-repeat", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds for the ratio")
    ap.add_argument("--no-cold", action="store_true", help="skip the fresh-process measurements")
    args = ap.parse_args(argv)

    import astropy
    import scipy

    import pbufjax
    from pbufjax.engine import run_fit

    info = machine()
    info.update(numpy=np.__version__, scipy=scipy.__version__, astropy=astropy.__version__,
                pbufjax=pbufjax.__version__, load_average_at_start=list(os.getloadavg()))
    out: dict = {"machine": info, "fit": {"model": "lcdm", "datasets": DATASETS, "free": FREE,
                                          "fixed": OVERRIDES}}

    # -- pbufjax warm -------------------------------------------------------
    warm = {}
    results = {}
    for method in ("minimize", "newton", "gauss_newton"):
        cfg = {"method": method}
        t0 = time.perf_counter()
        r = run_fit("lcdm", DATASETS, overrides=OVERRIDES, optimization_params=FREE, optimizer_config=cfg)
        compile_s = time.perf_counter() - t0
        full = _median_time(lambda: run_fit("lcdm", DATASETS, overrides=OVERRIDES, optimization_params=FREE,
                                            optimizer_config=cfg), args.repeat)
        bare_cfg = dict(cfg, uncertainties=False, integrity=False)
        run_fit("lcdm", DATASETS, overrides=OVERRIDES, optimization_params=FREE, optimizer_config=bare_cfg)
        bare = _median_time(lambda: run_fit("lcdm", DATASETS, overrides=OVERRIDES, optimization_params=FREE,
                                            optimizer_config=bare_cfg), args.repeat)
        r = run_fit("lcdm", DATASETS, overrides=OVERRIDES, optimization_params=FREE, optimizer_config=cfg)
        results[method] = r
        warm[method] = {
            "first_call_in_this_process_s": compile_s,
            "full_result": full,
            "fit_only": bare,
            "breakdown_ms": {k: 1e3 * v for k, v in r["timing"].items()},
            "n_function_evaluations": r["optimization"]["n_function_evaluations"],
            "chi2": r["metrics"]["total_chi2"],
            "H0": r["params"]["H0"], "Om0": r["params"]["Om0"],
            "sigma_H0": r["uncertainties"]["H0"], "sigma_Om0": r["uncertainties"]["Om0"],
            "status": r["optimization"]["convergence_status"],
        }
    out["pbufjax_warm"] = warm

    # per-evaluation cost of the compiled χ² for reference
    from pbufjax.optimizer import get_problem

    prob = get_problem("lcdm", DATASETS, FREE, OVERRIDES)
    obj = prob.objective()
    u = obj.to_unit(prob.x0)
    t = _median_time(lambda: obj.value_and_grad(u), 200)
    out["pbufjax_value_and_grad_us"] = 1e6 * t["median_s"]

    # -- hand-written pipeline ---------------------------------------------
    hw = HandWrittenFit()
    res = hw.fit()
    base = _median_time(hw.fit, args.baseline_repeat)
    one = _median_time(lambda: hw.chi2(res.x), 20)
    out["handwritten_scipy_astropy_numpy"] = {
        "fit": base, "nfev": int(res.nfev), "chi2": float(res.fun), "H0": float(res.x[0]), "Om0": float(res.x[1]),
        "chi2_evaluation_ms": 1e3 * one["median_s"],
        "note": "r_d from the Aubourg et al. 2015 fit, so H0 differs slightly from pbufjax's CAMB-calibrated r_d",
    }
    out["cobaya_camb_reference"] = {"fit_s": COBAYA_REFERENCE_S, "measured": False,
                                    "note": "quoted reference for this machine; Cobaya is not installed here"}

    ratios = {}
    for method in ("minimize", "newton", "gauss_newton"):
        t_full = warm[method]["full_result"]["median_s"]
        ratios[method] = {
            "handwritten_over_pbufjax_full": base["median_s"] / t_full,
            "cobaya_reference_over_pbufjax_full": COBAYA_REFERENCE_S / t_full,
            "handwritten_over_pbufjax_fit_only": base["median_s"] / warm[method]["fit_only"]["median_s"],
        }
    out["ratios"] = ratios

    # Interleaved rounds: the other processes on a shared machine change its speed from one
    # minute to the next, so each round times both pipelines back to back and the ratio is
    # taken per round (median over rounds reported).
    rounds = []
    for _ in range(args.rounds):
        rnd = {"handwritten_s": _median_time(hw.fit, 1)["median_s"]}
        for method in ("minimize", "newton", "gauss_newton"):
            cfg = {"method": method}
            rnd[f"pbufjax_{method}_s"] = _median_time(
                lambda: run_fit("lcdm", DATASETS, overrides=OVERRIDES, optimization_params=FREE, optimizer_config=cfg),
                15)["median_s"]
            rnd[f"ratio_{method}"] = rnd["handwritten_s"] / rnd[f"pbufjax_{method}_s"]
        rnd["load_average"] = list(os.getloadavg())
        rounds.append(rnd)
    out["interleaved_rounds"] = rounds
    for method in ("minimize", "newton", "gauss_newton"):
        r = [x[f"ratio_{method}"] for x in rounds]
        out["ratios"][method]["interleaved_median"] = float(np.median(r))
        out["ratios"][method]["interleaved_max"] = float(np.max(r))
        out["ratios"][method]["interleaved_min"] = float(np.min(r))
    out["targets"] = {"handwritten_over_pbufjax": 200.0, "cobaya_over_pbufjax": 40.0, "cold_first_s": 5.0,
                      "cold_second_s": 2.0}

    # -- cold start ---------------------------------------------------------
    if not args.no_cold:
        cold = {}
        with tempfile.TemporaryDirectory() as tmp:
            for method in ("minimize", "newton", "gauss_newton"):
                cache = str(Path(tmp) / f"cache_{method}")
                cold[method] = {
                    "no_cache": cold_run({"PBUFJAX_NO_COMPILE_CACHE": "1"}, method),
                    "first_process_empty_cache": cold_run({"PBUFJAX_COMPILE_CACHE_DIR": cache}, method),
                    "second_process_filled_cache": cold_run({"PBUFJAX_COMPILE_CACHE_DIR": cache}, method),
                }
        out["cold_start"] = cold
    out["machine"]["load_average_at_end"] = list(os.getloadavg())
    out["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n")
    _summary(out)
    return out


def _summary(out: dict) -> None:
    lines = []
    for m, w in out["pbufjax_warm"].items():
        lines.append(f"pbufjax warm run_fit ({m}): {1e3 * w['full_result']['median_s']:.2f} ms full, "
                     f"{1e3 * w['fit_only']['median_s']:.2f} ms fit only, χ² = {w['chi2']:.4f}")
    hw = out["handwritten_scipy_astropy_numpy"]
    lines.append(f"hand-written scipy+astropy+numpy: {hw['fit']['median_s']:.3f} s, χ² = {hw['chi2']:.4f}")
    for m, r in out["ratios"].items():
        lines.append(f"ratio ({m}): hand-written/pbufjax = {r['handwritten_over_pbufjax_full']:.0f}x, "
                     f"Cobaya reference/pbufjax = {r['cobaya_reference_over_pbufjax_full']:.0f}x; interleaved rounds: "
                     f"median {r['interleaved_median']:.0f}x (range {r['interleaved_min']:.0f}-"
                     f"{r['interleaved_max']:.0f}x)")
    for m, c in out.get("cold_start", {}).items():
        lines.append(f"cold ({m}): no cache {c['no_cache']['wall_s']:.1f} s, empty cache "
                     f"{c['first_process_empty_cache']['wall_s']:.1f} s, filled cache "
                     f"{c['second_process_filled_cache']['wall_s']:.1f} s")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
