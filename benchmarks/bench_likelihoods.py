"""Speed of the likelihoods, against astropy + numpy computing the same χ² in the same run.

Measures (median over repeats, after compilation):

1. value + gradient of the joint χ² of ``cmb, desi_dr2, union3`` (flat ΛCDM, free H0, Om0, Obh2);
   the same χ² with astropy distances, a scipy-quadrature sound horizon and numpy linear
   algebra (value only, and value + finite-difference gradient = 2n+1 values);
2. value + gradient of a Pantheon+-sized SN block: the real ``Pantheon+SH0ES.dat`` (all 1701
   rows, calibrators at CEPH_DIST) with a *stand-in* 1701x1701 covariance (the published one
   is not in the shared data; only its size matters here), against one dense 1701x1701
   matrix-vector product by numpy (the floor of any full-covariance χ²) and against
   astropy + numpy;
3. throughput of ``jax.vmap`` over 1000 parameter vectors;
4. compile times.

Usage (from the repository root; release files from PBUFJAX_DATA_DIR or ../shared/data)::

    python benchmarks/bench_likelihoods.py [--out benchmarks/results/likelihoods.json] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PBUFJAX_DATA_DIR", str(ROOT.parent / "shared" / "data"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import astropy
import astropy.units as u
import jax
import jax.numpy as jnp
from _timing import best_time, machine
from astropy.cosmology import FlatLambdaCDM
from scipy.integrate import quad

import pbufjax
from pbufjax import likelihoods as L
from pbufjax.data_registry import resolve
from pbufjax.datasets import load_dataset, read_pantheonplus

C_KMS = 299792.458


def block(x):
    return jax.block_until_ready(x)


def timeit(fn, repeat: int = 7) -> float:
    """Best seconds per call (``_timing.best_time``: each round long enough to time, min over rounds)."""
    return best_time(fn, repeat=repeat)


# ---------------------------------------------------------------------------
# astropy + numpy χ² (value only), the same physics as recomb_method="HS96"
# ---------------------------------------------------------------------------


class AstropyJoint:
    def __init__(self):
        self.cmb = load_dataset("cmb")
        self.bao = load_dataset("desi_dr2")
        self.sn = load_dataset("union3")
        self.cmb_inv = np.linalg.inv(self.cmb["covariance"])
        self.bao_inv = np.linalg.inv(self.bao["covariance"])
        self.sn_inv = np.linalg.inv(self.sn["covariance"])
        self.sn_inv1 = self.sn_inv @ np.ones(self.sn_inv.shape[0])

    @staticmethod
    def _rs(cosmo, z, wb):
        h = cosmo.H0.value / 100.0
        wg = cosmo.Ogamma0 * h * h

        def f(a):
            return C_KMS / np.sqrt(3.0 * (1.0 + 0.75 * wb / wg * a)) / (a * a * cosmo.H(1.0 / a - 1.0).value)

        return quad(f, 0.0, 1.0 / (1.0 + z), epsrel=1e-10, limit=200)[0]

    def chi2(self, theta):
        h0, om0, wb = theta
        cosmo = FlatLambdaCDM(H0=h0, Om0=om0, Tcmb0=2.7255, Neff=3.046, m_nu=0.0 * u.eV)
        h = h0 / 100.0
        wm = om0 * h * h
        g1 = 0.0783 * wb**-0.238 / (1 + 39.5 * wb**0.763)
        g2 = 0.560 / (1 + 21.1 * wb**1.81)
        zs = 1048 * (1 + 0.00124 * wb**-0.738) * (1 + g1 * wm**g2)
        b1 = 0.313 * wm**-0.419 * (1 + 0.607 * wm**0.674)
        b2 = 0.238 * wm**0.223
        zd = 1291 * wm**0.251 / (1 + 0.659 * wm**0.828) * (1 + b1 * wb**b2)
        dm_s = cosmo.comoving_transverse_distance(zs).value
        rs, rd = self._rs(cosmo, zs, wb), self._rs(cosmo, zd, wb)
        m = np.array([np.sqrt(om0) * h0 * dm_s / C_KMS, np.pi * dm_s / rs, wb])
        r = self.cmb["observations"] - m
        chi2 = r @ self.cmb_inv @ r
        z = self.bao["redshifts"]
        dm = cosmo.comoving_transverse_distance(z).value
        dh = C_KMS / cosmo.H(z).value
        dv = np.cbrt(z * dm * dm * dh)
        cand = {"DV_over_rs": dv / rd, "DM_over_rs": dm / rd, "DH_over_rs": dh / rd}
        m = np.array([cand[q][i] for i, q in enumerate(self.bao["quantities"])])
        r = self.bao["observations"] - m
        chi2 += r @ self.bao_inv @ r
        mu = 5 * np.log10((1 + self.sn["z_hel"]) * cosmo.comoving_transverse_distance(self.sn["z_cmb"]).value) + 25
        r = self.sn["observations"] - mu
        b = self.sn_inv1 @ r
        chi2 += r @ self.sn_inv @ r - b * b / self.sn_inv1.sum()
        return float(chi2)


def standin_pantheon():
    """All 1701 rows of the real Pantheon+ table with a stand-in covariance of the real size."""
    t = read_pantheonplus(resolve("sn/pantheonplus/Pantheon+SH0ES.dat"))
    n = t["zHD"].size
    z = t["zHD"]
    # stand-in: the published diagonal errors plus a smooth, strongly correlated component
    cov = np.diag(t["m_b_corr_err_DIAG"] ** 2) + 0.01**2 * np.exp(-np.abs(np.subtract.outer(z, z)) / 0.2)
    cal = t["IS_CALIBRATOR"] > 0.5
    data = {
        "name": "pantheonplus_standin",
        "observations": t["m_b_corr"],
        "covariance": cov,
        "z_cmb": np.maximum(z, 1e-4),
        "z_hel": t["zHEL"],
        "is_calibrator": cal,
        "ceph_dist": t["CEPH_DIST"],
        "labels": list(t["CID"]),
        "metadata": {"n_points": n, "dataset_type": "sn", "redshift_range": [float(z.min()), float(z.max())]},
    }
    return data


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "likelihoods.json"))
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    args = ap.parse_args(argv)
    rep = 3 if args.quick else 15
    res: dict = {
        "machine": {
            **machine(),
            "numpy": np.__version__,
            "astropy": astropy.__version__,
            "pbufjax": pbufjax.__version__,
            "load_average_at_start": list(os.getloadavg()),
        },
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "timing": "best per-call wall time over rounds (benchmarks/_timing.best_time), after compilation",
    }

    # 1. joint χ² cmb + desi_dr2 + union3 ------------------------------------------------
    theta = np.array([67.5, 0.312, 0.02237])
    joint = {}
    for method in ("CAMBFIT", "HS96"):
        lik = L.build_likelihood("lcdm", ["cmb", "desi_dr2", "union3"], ["H0", "Om0", "Obh2"],
                                 overrides={"recomb_method": method, "mnu": 0.0})  # massless, as the peer
        vg = lik.value_and_grad
        x = jnp.asarray(theta)
        t0 = time.perf_counter()
        block(vg(x))
        compile_s = time.perf_counter() - t0
        t_vg = timeit(lambda vg=vg, x=x: vg(x), rep)
        t0 = time.perf_counter()
        block(lik.chi2(x))
        compile_v = time.perf_counter() - t0
        t_v = timeit(lambda lik=lik, x=x: lik.chi2(x), rep)
        joint[method] = {"value_and_grad_us": t_vg * 1e6, "value_us": t_v * 1e6, "compile_value_and_grad_s": compile_s,
                         "compile_value_s": compile_v, "chi2": float(lik.chi2(x))}
    ap_joint = AstropyJoint()
    chi2_ap = ap_joint.chi2(theta)
    t_ap = timeit(lambda: ap_joint.chi2(theta), 3)
    n = theta.size
    joint["astropy_numpy"] = {"value_us": t_ap * 1e6, "value_and_fd_grad_us": (2 * n + 1) * t_ap * 1e6, "chi2": chi2_ap,
                              "note": "same χ² as recomb_method=HS96; gradient by central differences = 2n+1 values"}
    joint["chi2_relative_difference_jax_hs96_vs_astropy"] = abs(joint["HS96"]["chi2"] / chi2_ap - 1)
    joint["ratio_astropy_value_over_jax_value_and_grad"] = t_ap / (joint["CAMBFIT"]["value_and_grad_us"] * 1e-6)
    joint["ratio_astropy_fd_grad_over_jax_value_and_grad"] = (2 * n + 1) * t_ap / (joint["CAMBFIT"]["value_and_grad_us"] * 1e-6)
    joint["target_value_and_grad_us"] = 100.0
    res["joint_cmb_desi_dr2_union3"] = joint

    # vmap throughput
    lik = L.build_likelihood("lcdm", ["cmb", "desi_dr2", "union3"], ["H0", "Om0", "Obh2"], {"mnu": 0.0})
    thetas = jnp.asarray(theta) * (1 + 0.01 * np.random.default_rng(0).normal(size=(1000, 3)))
    vm = jax.jit(jax.vmap(lik.chi2))
    block(vm(thetas))
    t_vm = timeit(lambda: vm(thetas), 3)
    vmg = jax.jit(jax.vmap(jax.value_and_grad(lik.chi2)))
    block(vmg(thetas))
    t_vmg = timeit(lambda: vmg(thetas), 3)
    res["vmap_1000_joint"] = {"value_us_per_point": t_vm / 1000 * 1e6, "value_and_grad_us_per_point": t_vmg / 1000 * 1e6}

    # 2. Pantheon+-sized SN block ---------------------------------------------------------
    data = standin_pantheon()
    nsn = data["observations"].size
    lik_sn = L.build_likelihood("lcdm", [data], ["H0", "Om0"], {"mnu": 0.0})
    x = jnp.array([73.0, 0.33])
    vg = lik_sn.value_and_grad
    t0 = time.perf_counter()
    block(vg(x))
    compile_sn = time.perf_counter() - t0
    t_sn = timeit(lambda: vg(x), rep)
    t_sn_v = timeit(lambda: lik_sn.chi2(x), rep)
    prec = np.ascontiguousarray(lik_sn.precision["pantheonplus_standin"])
    vec = np.random.default_rng(1).normal(size=nsn)
    t_mv = timeit(lambda: prec @ vec, rep)
    # astropy + numpy: distances and the marginalized χ² with a precomputed inverse
    cinv1 = prec @ np.ones(nsn)
    cal = data["is_calibrator"]

    def sn_astropy(th):
        cosmo = FlatLambdaCDM(H0=th[0], Om0=th[1], Tcmb0=2.7255, Neff=3.046, m_nu=0.0 * u.eV)
        mu = 5 * np.log10((1 + data["z_hel"]) * cosmo.comoving_transverse_distance(data["z_cmb"]).value) + 25
        mu = np.where(cal, data["ceph_dist"], mu)
        r = data["observations"] - mu
        b = cinv1 @ r
        return r @ (prec @ r) - b * b / cinv1.sum()

    chi2_sn_ap = sn_astropy(np.asarray(x))
    t_sn_ap = timeit(lambda: sn_astropy(np.asarray(x)), 3)
    res["sn_pantheon_sized"] = {
        "n": nsn,
        "covariance": "stand-in (published diagonal errors + smooth correlated term); the published one is not in the shared data",
        "value_and_grad_us": t_sn * 1e6,
        "value_us": t_sn_v * 1e6,
        "compile_value_and_grad_s": compile_sn,
        "numpy_dense_matvec_us": t_mv * 1e6,
        "ratio_value_and_grad_over_matvec": t_sn / t_mv,
        "target_ratio": 3.0,
        "astropy_numpy_value_us": t_sn_ap * 1e6,
        "ratio_astropy_value_over_jax_value_and_grad": t_sn_ap / t_sn,
        "chi2_relative_difference_jax_vs_astropy": abs(float(lik_sn.chi2(x)) / chi2_sn_ap - 1),
    }

    res["machine"]["load_average_at_end"] = list(os.getloadavg())
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1) + "\n")
    print(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
