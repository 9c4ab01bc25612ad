"""Calibration-free BAO: the nuisance parameter ``hrd`` (:math:`h\\,r_d` in Mpc) of every BAO dataset.

With ``hrd`` free or set, the BAO predictions use :math:`r_d = h r_d / h` and no recombination-era
quantity is computed. The published check: DESI DR2 BAO alone, flat ΛCDM with
:math:`\\sum m_\\nu = 0.06` eV (arXiv:2503.14738, its ΛCDM parameter table, Table IV): :math:`\\Omega_m = 0.2975 \\pm 0.0086`,
:math:`h r_d = 101.54 \\pm 0.73` Mpc.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import minimize

from pbufjax import data as D
from pbufjax.cosmology import cmb
from pbufjax.cosmology.background import comoving_transverse_distance, hubble
from pbufjax.cosmology.parameters import build_params
from pbufjax.data import files as F
from pbufjax.likelihood import build_likelihood

C = 299792.458
MNU = 0.06  # eV, passed explicitly
BAO_DATASETS = ["desi_dr2", "desi_dr1", "boss_dr12", "eboss_dr16", "boss_dr12_2bins", "sdss_mgs"]


def test_every_bao_dataset_has_the_same_hrd():
    specs = D.dataset_specs()
    bao = [n for n, s in specs.items() if s.kind in D.BAO_TYPES]
    assert set(BAO_DATASETS) <= set(bao)
    assert D.nuisance_users("hrd") == bao  # every BAO dataset, and only those
    defs = {next(p for p in specs[n].nuisance if p.name == "hrd") for n in bao}
    assert len(defs) == 1  # one definition: default, bounds, description
    (hrd,) = defs
    assert hrd.bounds[0] < 101.54 < hrd.bounds[1] and hrd.default == pytest.approx(0.6736 * 147.09, abs=0.01)
    assert "hrd" not in D.nuisance_parameters(["union3", "planck2018_priors"])


@pytest.mark.parametrize("name", BAO_DATASETS)
def test_hrd_needs_no_recombination_physics(name, monkeypatch):
    def boom(*a, **k):
        raise AssertionError("recombination-era quantities computed")

    lik = build_likelihood("lcdm", [name], ["Om0", "hrd"], overrides={"mnu": MNU, "H0": 68.0})
    assert not any(b.needs_derived for b in lik.blocks)
    monkeypatch.setattr(cmb, "derived", boom)
    monkeypatch.setattr(cmb, "derived_and_distances", boom)
    theta = jnp.asarray([0.30, 100.0])
    v, g = jax.value_and_grad(lik.chi2_traced)(theta)
    assert np.isfinite(float(v)) and np.all(np.isfinite(np.asarray(g)))
    fixed = build_likelihood("lcdm", [name], ["Om0"], overrides={"mnu": MNU, "H0": 68.0, "hrd": 100.0})
    assert float(fixed.chi2_traced(theta[:1])) == pytest.approx(float(v), rel=1e-12)  # set = free at that value
    with pytest.raises(AssertionError, match="recombination"):  # the derived-r_d block does compute them
        build_likelihood("lcdm", [name], ["Om0"], overrides={"mnu": MNU}).chi2_traced(theta[:1])


@pytest.mark.parametrize("name", BAO_DATASETS)
def test_hrd_at_the_derived_value_reproduces_the_derived_chi2(name):
    p = build_params("lcdm", {"mnu": MNU, "H0": 69.0, "Om0": 0.305})
    hrd = 0.69 * float(p["r_s_drag"])
    a = build_likelihood("lcdm", [name], ["H0", "Om0"], overrides={"mnu": MNU})
    b = build_likelihood("lcdm", [name], ["H0", "Om0", "hrd"], overrides={"mnu": MNU})
    assert float(b.chi2(jnp.asarray([69.0, 0.305, hrd]))) == pytest.approx(float(a.chi2(jnp.asarray([69.0, 0.305]))),
                                                                          rel=1e-9)


def test_desi_dr2_chi2_with_hrd_matches_numpy():
    mean = [line.split() for line in F.resolve("bao/desi_dr2/desi_gaussian_bao_ALL_GCcomb_mean.txt").read_text()
            .splitlines() if line.strip() and not line.startswith("#")]
    cov = np.loadtxt(F.resolve("bao/desi_dr2/desi_gaussian_bao_ALL_GCcomb_cov.txt"))
    z = np.array([float(r[0]) for r in mean])
    v = np.array([float(r[1]) for r in mean])
    q = np.array([r[2] for r in mean])
    for h0, om, hrd in ((68.0, 0.30, 101.0), (72.0, 0.29, 102.3)):
        p = build_params("lcdm", {"mnu": MNU, "H0": h0, "Om0": om})
        rd = hrd / (h0 / 100)
        dm = np.asarray(comoving_transverse_distance(jnp.asarray(z), p))
        dh = C / np.asarray(hubble(jnp.asarray(z), p))
        dv = np.cbrt(z * dm**2 * dh)
        model = np.select([q == "DM_over_rs", q == "DH_over_rs", q == "DV_over_rs"], [dm, dh, dv]) / rd
        r = v - model
        ref = float(r @ np.linalg.solve(cov, r))
        lik = build_likelihood("lcdm", ["desi_dr2"], ["H0", "Om0", "hrd"], overrides={"mnu": MNU})
        assert float(lik.chi2(jnp.asarray([h0, om, hrd]))) == pytest.approx(ref, rel=1e-9)


def best_fit(lik, x0, bounds):
    """L-BFGS-B on the exact gradient, polished by Newton steps on the exact (jax) Hessian; covariance 2 H^-1."""
    vg = lik.value_and_grad

    def f(x):
        v, g = vg(jnp.asarray(x))
        return float(v), np.asarray(g, np.float64)

    x = minimize(f, np.asarray(x0, float), jac=True, method="L-BFGS-B", bounds=bounds,
                 options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 500}).x
    hess = jax.jit(jax.hessian(lik.chi2))
    for _ in range(3):
        x = x - np.linalg.solve(np.asarray(hess(jnp.asarray(x))), f(x)[1])
    assert np.all(np.abs(f(x)[1]) < 1e-8), "not at a minimum"
    return x, f(x)[0], 2.0 * np.linalg.inv(np.asarray(hess(jnp.asarray(x))))


@pytest.mark.parametrize("h0", [68.0, 72.0])
def test_desi_dr2_bao_alone_reproduces_published_omega_m_and_hrd(h0):
    # DESI DR2 BAO-only flat LCDM, mnu = 0.06 eV (arXiv:2503.14738, Table IV): Om = 0.2975 +- 0.0086,
    # h r_d = 101.54 +- 0.73 Mpc. With hrd free the BAO depend on H0 only through the tiny radiation and
    # neutrino terms, so any fixed H0 gives the same fit (checked at 68 and 72).
    lik = build_likelihood("lcdm", ["desi_dr2"], ["Om0", "hrd"], overrides={"mnu": MNU, "H0": h0})
    x, chi2, cov = best_fit(lik, [0.31, 100.0], [(0.1, 0.6), (60.0, 150.0)])
    err = np.sqrt(np.diag(cov))
    # Tolerances. Best fit: 0.1 sigma. The published numbers are marginal posterior means of an MCMC,
    # rounded (0.0001 in Om = 0.01 sigma, 0.01 Mpc in h r_d); for this almost Gaussian posterior the mean
    # sits within a few hundredths of a sigma of the best fit (measured: -0.037 sigma in Om, +0.011 in h r_d).
    # Errors: 3%: the published 68% intervals are rounded to 0.6% (0.0086) and 0.7% (0.73) and carry MCMC
    # noise of ~1%; the Hessian errors are those of the Gaussian approximation (measured: +0.2%, +0.8%).
    assert abs(x[0] - 0.2975) < 0.1 * 0.0086, x
    assert abs(x[1] - 101.54) < 0.1 * 0.73, x
    assert err[0] == pytest.approx(0.0086, rel=0.03)
    assert err[1] == pytest.approx(0.73, rel=0.03)
    assert cov[0, 1] / np.prod(err) == pytest.approx(-0.92, abs=0.02)  # Om and h r_d strongly anticorrelated
    assert chi2 == pytest.approx(10.3, abs=0.1)  # 13 points, 2 parameters


def test_hrd_through_run_fit_and_the_sdss_combination():
    from pbufjax.analysis.engine import run_fit

    r = run_fit("lcdm", ["sdss_legacy"], overrides={"mnu": MNU, "H0": 68.0}, optimization_params=["Om0", "hrd"])
    assert list(r["results"]) == ["sdss_mgs", "boss_dr12_2bins", "eboss_dr16"]
    assert r["optimization"]["convergence_status"] == "success"
    om, hrd = r["params"]["Om0"], r["params"]["hrd"]
    # the same minimum as a direct fit of the three datasets
    lik = build_likelihood("lcdm", ["sdss_mgs", "boss_dr12_2bins", "eboss_dr16"], ["Om0", "hrd"],
                           overrides={"mnu": MNU, "H0": 68.0})
    x, chi2, cov = best_fit(lik, [0.31, 100.0], [(0.1, 0.6), (60.0, 150.0)])
    assert om == pytest.approx(x[0], abs=0.02 * np.sqrt(cov[0, 0]))
    assert hrd == pytest.approx(x[1], abs=0.02 * np.sqrt(cov[1, 1]))
    assert r["metrics"]["total_chi2"] == pytest.approx(chi2, abs=1e-6)
    assert r["uncertainties"]["Om0"] == pytest.approx(np.sqrt(cov[0, 0]), rel=0.02)
    # SDSS BAO (without ELG and Lyman-alpha) agree with DESI DR2 within 2 sigma
    assert abs(om - 0.2975) < 2 * np.hypot(np.sqrt(cov[0, 0]), 0.0086)
