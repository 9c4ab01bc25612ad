"""Speed of the physics core, side by side with astropy and CAMB in one run.

Measures (after compilation, best of 7):

* all derived quantities (z*, r*, θ*, D_M(z*), z_d, r_d, R, l_A) for one parameter set,
  value and value+gradient, default method;
* D_M at 1701 redshifts (the Pantheon+ zHD values when PBUFJAX_DATA_DIR has them,
  else 1701 redshifts spread like them), value and value+gradient, against
  astropy's ``FlatLambdaCDM.comoving_transverse_distance`` on the same redshifts;
* CAMB's background (``get_background(no_thermo=True)``) and its background plus
  thermal history (which gives z*, z_d), when CAMB is installed.

Writes ``benchmarks/results/physics_core.json``.  Run: python benchmarks/bench_physics_core.py
"""

from __future__ import annotations

import os
import pathlib
import sys

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from _timing import best_time, write  # noqa: E402

import pbufjax  # noqa: E402
from pbufjax import cosmology  # noqa: E402
from pbufjax.cosmology.cmb import derived  # noqa: E402

H0, OM0, OBH2 = 67.36, 0.3153, 0.02237


def redshifts():
    data_dir = os.environ.get("PBUFJAX_DATA_DIR")
    if data_dir:
        path = pathlib.Path(data_dir) / "sn" / "pantheonplus" / "Pantheon+SH0ES.dat"
        if path.exists():
            with open(path) as fh:
                cols = fh.readline().split()
                rows = [line.split() for line in fh if line.strip()]
            z = np.array([float(r[cols.index("zHD")]) for r in rows])
            return z, "Pantheon+SH0ES.dat zHD"
    rng = np.random.default_rng(0)
    return np.sort(rng.lognormal(np.log(0.2), 1.0, 1701).clip(1e-3, 2.3)), "lognormal stand-in"


def main():
    p = pbufjax.build_params("lcdm", {"H0": H0, "Om0": OM0, "Obh2": OBH2})
    names = ["H0", "Om0", "Obh2"]
    x0 = jnp.array([p[k] for k in names])
    static = {k: p[k] for k in ("model_class", "recomb_method")}
    base = {k: v for k, v in p.items() if isinstance(v, float)}

    def params(x):
        return {**base, **static, **dict(zip(names, x))}

    out = {"parameters": {"H0": H0, "Om0": OM0, "Obh2": OBH2, "Neff": p["Neff"], "Tcmb": p["Tcmb"]}}

    f_der = jax.jit(lambda x: derived(params(x)))
    f_der_vg = jax.jit(jax.value_and_grad(lambda x: derived(params(x))["l_A"]))
    t_der = best_time(f_der, x0)
    t_der_vg = best_time(f_der_vg, x0)
    out["derived_default_method_us"] = t_der * 1e6
    out["derived_value_and_grad_us"] = t_der_vg * 1e6
    out["derived_grad_over_value"] = t_der_vg / t_der
    for method in ("HS96", "EH98"):
        f = jax.jit(lambda x, m=method: derived({**params(x), "recomb_method": m}))
        out[f"derived_{method}_us"] = best_time(f, x0) * 1e6

    z, source = redshifts()
    zj = jnp.asarray(z)
    out["dm_redshifts"] = {"n": int(z.size), "source": source}
    f_dm = jax.jit(lambda x, z: cosmology.comoving_transverse_distance(z, params(x)))
    f_dm_vg = jax.jit(jax.value_and_grad(lambda x, z: jnp.sum(cosmology.comoving_transverse_distance(z, params(x)))))
    t_dm = best_time(f_dm, x0, zj)
    t_dm_vg = best_time(f_dm_vg, x0, zj)
    out["dm_1701_us"] = t_dm * 1e6
    out["dm_1701_value_and_grad_us"] = t_dm_vg * 1e6
    out["dm_grad_over_value"] = t_dm_vg / t_dm

    try:
        from astropy.cosmology import FlatLambdaCDM

        h = H0 / 100
        ac = FlatLambdaCDM(H0=H0, Om0=OM0, Tcmb0=p["Tcmb"], Neff=p["Neff"], m_nu=0.0, Ob0=OBH2 / h**2)
        t_ap = best_time(lambda: ac.comoving_transverse_distance(z).value, repeat=3, min_time=0.3)
        dm_ap = ac.comoving_transverse_distance(z).value
        out["astropy_dm_1701_us"] = t_ap * 1e6
        out["speedup_vs_astropy_dm"] = t_ap / t_dm
        out["max_rel_diff_vs_astropy_dm"] = float(np.max(np.abs(np.asarray(f_dm(x0, zj)) / dm_ap - 1)))
    except ImportError:
        out["astropy"] = "not installed"

    try:
        import camb

        def camb_run(no_thermo):
            cp = camb.CAMBparams()
            cp.set_cosmology(
                H0=H0, ombh2=OBH2, omch2=OM0 * (H0 / 100) ** 2 - OBH2, mnu=0.0, num_massive_neutrinos=0,
                nnu=p["Neff"], TCMB=p["Tcmb"],
            )
            r = camb.get_background(cp, no_thermo=no_thermo)
            return r if no_thermo else r.get_derived_params()

        t_bg = best_time(lambda: camb_run(True), repeat=3, min_time=0.3)
        t_th = best_time(lambda: camb_run(False), repeat=3, min_time=0.3)
        out["camb_version"] = camb.__version__
        out["camb_background_us"] = t_bg * 1e6
        out["camb_background_thermo_us"] = t_th * 1e6
        out["speedup_derived_vs_camb_thermo"] = t_th / t_der
        out["speedup_derived_vs_camb_background"] = t_bg / t_der
    except ImportError:
        out["camb"] = "not installed"

    path = write("physics_core", out)
    for k, v in out.items():
        print(f"{k}: {v}")
    print("wrote", path)


if __name__ == "__main__":
    main()
