"""Likelihoods: published best fits, an independent reference implementation, gradients, jit/vmap.

Tolerances are written next to each check. Release files come from ``PBUFJAX_DATA_DIR``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from scipy.optimize import minimize

import pbufjax
from pbufjax import likelihoods as L
from pbufjax.data import files as _shipped
from pbufjax.datasets import load_dataset

HERE = Path(__file__).resolve().parent
_GIVEN = Path(os.environ.get("PBUFJAX_DATA_DIR", HERE.parents[1] / "shared" / "data"))
# without a data folder (a fresh clone), the release files that ship inside the package, in the same layout
DATA_DIR = _GIVEN if (_GIVEN / "bao" / "desi_dr2").is_dir() else Path(_shipped.SHIPPED_DIR)
pytestmark = pytest.mark.skipif(
    not (DATA_DIR / "bao" / "desi_dr2").is_dir(), reason=f"release files not found in {DATA_DIR}"
)
REFERENCE = json.loads((HERE / "data" / "reference_chi2.json").read_text())


# ---------------------------------------------------------------------------
# A small minimizer: scipy L-BFGS-B on the compiled value and gradient
# ---------------------------------------------------------------------------


def fit(lik, x0, bounds):
    """Best fit and the covariance 2 H^-1 from a central-difference Hessian of the exact gradient."""
    vg = lik.value_and_grad

    def f(x):
        v, g = vg(jnp.asarray(x))
        return float(v), np.asarray(g, dtype=np.float64)

    res = minimize(f, np.asarray(x0, float), jac=True, method="L-BFGS-B", bounds=bounds,
                   options={"ftol": 1e-13, "gtol": 1e-7, "maxiter": 200})
    assert res.success, res.message
    x = res.x
    n = x.size
    hess = np.empty((n, n))
    for i in range(n):
        h = 1e-5 * max(abs(x[i]), 1e-3)
        e = np.zeros(n)
        e[i] = h
        hess[:, i] = (f(x + e)[1] - f(x - e)[1]) / (2 * h)
    hess = 0.5 * (hess + hess.T)
    g = f(x)[1]
    # at a minimum: a Newton step would lower chi2 by less than 1e-9 (scale-free, unlike |g|)
    assert 0.5 * g @ np.linalg.solve(hess, g) < 1e-9, f"not at a minimum (gradient {g})"
    return x, float(res.fun), 2.0 * np.linalg.inv(hess)


def h_rd(h0, om0):
    """h r_d [Mpc] from the physics core (default recombination method)."""
    return h0 / 100.0 * pbufjax.build_params("lcdm", {"H0": h0, "Om0": om0})["r_s_drag"]


def h_rd_with_error(x, cov):
    f0 = h_rd(*x)
    jac = np.empty(2)
    for i in range(2):
        e = np.zeros(2)
        e[i] = 1e-4 * x[i]
        jac[i] = (h_rd(*(x + e)) - h_rd(*(x - e))) / (2 * e[i])
    return f0, float(np.sqrt(jac @ cov @ jac))


# ---------------------------------------------------------------------------
# Published results (flat ΛCDM)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,om,om_err,hrd,hrd_err,chi2_pub,tol_sigma",
    [
        # DESI DR2 BAO alone, arXiv:2503.14738 (Table IV; chi2 of the best fit ~10.3 for 13 points)
        ("desi_dr2", 0.2975, 0.0086, 101.54, 0.73, 10.3, 0.1),
        # DESI DR1 BAO alone, arXiv:2404.03002 (Table 3); published values are posterior means,
        # which differ from the best fit by ~0.1 sigma here
        ("desi_dr1", 0.295, 0.015, 101.8, 1.3, None, 0.2),
    ],
)
def test_desi_bao_alone_reproduces_published_lcdm_fit(name, om, om_err, hrd, hrd_err, chi2_pub, tol_sigma):
    lik = L.build_likelihood("lcdm", [name], ["H0", "Om0"])
    x, chi2, cov = fit(lik, [68.0, 0.31], [(50.0, 90.0), (0.1, 0.6)])
    hrd_fit, hrd_fit_err = h_rd_with_error(x, cov)
    om_fit, om_fit_err = x[1], np.sqrt(cov[1, 1])
    assert abs(om_fit - om) < tol_sigma * om_err, (om_fit, om)
    assert abs(hrd_fit - hrd) < tol_sigma * hrd_err, (hrd_fit, hrd)
    # Gaussian (Hessian) errors against the published 68% intervals: within 5%
    assert om_fit_err == pytest.approx(om_err, rel=0.05)
    assert hrd_fit_err == pytest.approx(hrd_err, rel=0.05)
    if chi2_pub is not None:
        assert chi2 == pytest.approx(chi2_pub, abs=0.05)
    assert 0 < chi2 < 2 * lik.n_total


def test_union3_alone_reproduces_published_lcdm_fit():
    # Rubin et al. 2023 (arXiv:2311.12098): flat ΛCDM Ωm = 0.356 +0.028 -0.026, best-fit chi2 ~ 24.0 (22 nodes)
    lik = L.build_likelihood("lcdm", ["union3"], ["Om0"])
    x, chi2, cov = fit(lik, [0.3], [(0.05, 0.9)])
    assert abs(x[0] - 0.356) < 0.1 * 0.027
    assert np.sqrt(cov[0, 0]) == pytest.approx(0.027, rel=0.05)
    assert chi2 == pytest.approx(24.0, abs=0.1)


# ---------------------------------------------------------------------------
# Independent implementation (numpy + astropy + scipy; tests/data/make_reference_chi2.py)
# ---------------------------------------------------------------------------

REF_FREE = {"lcdm": ["H0", "Om0", "Obh2", "ns", "Ok0"], "w0wacdm": ["H0", "Om0", "Obh2", "ns", "w0", "wa"]}


@pytest.mark.parametrize("model", sorted(REF_FREE))
def test_chi2_matches_independent_numpy_astropy_implementation(model):
    names = list(REFERENCE["points"]["lcdm_planck"]["chi2"])
    free = REF_FREE[model]
    # the reference is massless (astropy's massive-neutrino H(z) is a 1e-3 fitting formula): mnu = 0
    lik = L.build_likelihood(model, names, free, {"recomb_method": REFERENCE["recomb_method"], "mnu": 0.0})
    blocks = jax.jit(lik.chi2_blocks)
    n_points = 0
    for key, pt in REFERENCE["points"].items():
        if pt["params"]["model"] != model:
            continue
        theta = jnp.array([pt["params"].get(k, 0.0) for k in free])
        got = blocks(theta)
        for name, ref in pt["chi2"].items():
            # tolerance: 1e-6 relative (the two quadratures agree to ~1e-9 in distances, 1e-8 in r_s)
            assert float(got[name]) == pytest.approx(ref, rel=1e-6), (key, name)
        n_points += 1
    assert n_points >= 1


def test_api_functions_match_reference():
    pt = REFERENCE["points"]["lcdm_planck"]
    overrides = {k: v for k, v in pt["params"].items() if k != "model"}
    p = pbufjax.build_params("lcdm", {**overrides, "mnu": 0.0}, recomb_method="HS96")  # a massless reference
    static = {k: v for k, v in p.items() if isinstance(v, str)}
    funcs = {"cmb": L.likelihood_cmb, "bao": L.likelihood_bao, "bao_ani": L.likelihood_bao_ani, "sn": L.likelihood_sn}
    data = {alias: load_dataset(alias) for alias in funcs}

    @jax.jit
    def all_four(numeric):
        q = {**numeric, **static}
        return {alias: fn(q, data[alias]) for alias, fn in funcs.items()}

    out = all_four({k: v for k, v in p.items() if not isinstance(v, str)})
    for alias, (chi2, pred) in out.items():
        assert float(chi2) == pytest.approx(pt["chi2"][data[alias]["name"]], rel=1e-6), alias
        assert pred["values"].shape == data[alias]["observations"].shape
    assert float(out["cmb"][1]["R"]) == pytest.approx(pt["derived"]["R"], rel=1e-7)
    assert float(out["cmb"][1]["l_A"]) == pytest.approx(pt["derived"]["l_A"], rel=1e-7)
    assert float(out["sn"][1]["offset"]) == pytest.approx(pt["derived"]["union3_offset"], rel=1e-8)
    with pytest.raises(ValueError, match="expected one of"):
        L.likelihood_sn(p, data["bao"])


# ---------------------------------------------------------------------------
# Gradients, jit, vmap
# ---------------------------------------------------------------------------


def _central_fd(f, x, rel=1e-4):
    """Five-point central difference (error O(h^4))."""
    g = np.empty_like(x)
    for i in range(x.size):
        h = rel * abs(x[i])
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (-f(x + 2 * e) + 8 * f(x + e) - 8 * f(x - e) + f(x - 2 * e)) / (12 * h)
    return g


@pytest.fixture(scope="module")
def joint_lik():
    return L.build_likelihood("lcdm", ["planck2018_priors_ns", "desi_dr2", "union3"], ["H0", "Om0", "Obh2", "ns", "Ok0"])


def test_joint_gradient_matches_finite_differences(joint_lik):
    vg = joint_lik.value_and_grad
    x = np.array([68.0, 0.31, 0.0224, 0.965, 0.01])
    value, grad = vg(jnp.asarray(x))
    assert value.dtype == jnp.float64 and grad.dtype == jnp.float64
    fd = _central_fd(lambda t: float(vg(jnp.asarray(t))[0]), x)
    # relative 1e-6 per component (the χ² is smooth here; five-point stencil error ~1e-9)
    np.testing.assert_allclose(np.asarray(grad), fd, rtol=1e-6)
    assert float(value) == pytest.approx(float(joint_lik.chi2(jnp.asarray(x))), rel=1e-13)


@pytest.mark.slow
def test_w0wa_gradient_with_boss_and_cmb_matches_finite_differences():
    lik = L.build_likelihood("w0wacdm", ["cmb", "boss_dr12", "desi_dr1", "union3"], ["H0", "Om0", "Obh2", "w0", "wa"])
    vg = lik.value_and_grad
    x = np.array([67.0, 0.32, 0.0223, -0.9, -0.3])
    _, grad = vg(jnp.asarray(x))
    fd = _central_fd(lambda t: float(vg(jnp.asarray(t))[0]), x)
    np.testing.assert_allclose(np.asarray(grad), fd, rtol=1e-6)


@pytest.fixture(scope="module")
def sn_lik():
    return L.build_likelihood("lcdm", ["sn"], ["H0", "Om0"])


def test_jit_vmap_and_float64(sn_lik):
    thetas = jnp.array([[67.0, 0.28], [70.0, 0.31], [73.0, 0.36]])
    batched = jax.jit(jax.vmap(sn_lik.chi2))(thetas)
    single = np.array([float(sn_lik.chi2(t)) for t in thetas])  # chi2 is itself jitted
    np.testing.assert_allclose(np.asarray(batched), single, rtol=1e-12)
    assert batched.dtype == jnp.float64
    grads = jax.jit(jax.vmap(jax.grad(sn_lik.chi2)))(thetas)
    assert grads.shape == (3, 2) and np.all(np.isfinite(np.asarray(grads)))
    # H0 is degenerate with the marginalized offset up to the radiation term Ω_r = ω_r/h²
    # (|dχ²/dln H0| < 0.1 against |dχ²/dln Ωm| = 4..70 at these points)
    log_grads = np.abs(np.asarray(grads * thetas))
    assert np.all(log_grads[:, 0] < 0.2) and np.all(log_grads[:, 1] > 2.0)


@pytest.mark.slow
def test_hessian_forward_and_reverse_mode(sn_lik):
    x = jnp.array([70.0, 0.32])
    hess = np.asarray(jax.jit(jax.hessian(sn_lik.chi2))(x))
    vg = sn_lik.value_and_grad
    fd = np.empty((2, 2))
    for i in range(2):
        e = np.zeros(2)
        e[i] = 1e-5 * float(x[i])
        fd[:, i] = (np.asarray(vg(x + e)[1]) - np.asarray(vg(x - e)[1])) / (2 * e[i])
    # forward-over-reverse through the custom JVP of the quadratic form, against differences of the exact gradient
    np.testing.assert_allclose(hess, fd, rtol=1e-5, atol=1e-6 * np.abs(hess).max())


def test_sn_analytic_marginalization_equals_minimum_over_offset(sn_lik):
    theta = jnp.array([70.0, 0.33])
    ev = sn_lik.evaluate(theta)["union3"]
    d = load_dataset("union3")
    mu = ev["predictions"]["mu_theory"]
    cinv = np.linalg.inv(d["covariance"])
    r = d["observations"] - mu
    offsets = np.linspace(-0.3, 0.3, 2001) + ev["predictions"]["offset"]
    brute = min((r - m) @ cinv @ (r - m) for m in offsets)
    assert ev["chi2"] == pytest.approx(brute, rel=1e-7)
    one = np.ones(r.size)
    assert ev["predictions"]["offset"] == pytest.approx((one @ cinv @ r) / (one @ cinv @ one), rel=1e-10)
    np.testing.assert_allclose(ev["residuals"], r - ev["predictions"]["offset"], atol=1e-12)


def test_chi2_data_vmaps_over_mock_data(sn_lik):
    d = load_dataset("union3")
    rng = np.random.default_rng(7)
    chol = np.linalg.cholesky(d["covariance"])
    mocks = d["observations"] + (chol @ rng.normal(size=(22, 4))).T
    thetas = jnp.tile(jnp.array([70.0, 0.33]), (4, 1))
    got = jax.jit(jax.vmap(sn_lik.chi2_data))(thetas, {"union3": jnp.asarray(mocks)})
    mu = sn_lik.evaluate(thetas[0])["union3"]["predictions"]["mu_theory"]
    cinv = np.linalg.inv(d["covariance"])
    one = np.ones(22)
    for k in range(4):
        r = mocks[k] - mu
        a, b, e = r @ cinv @ r, one @ cinv @ r, one @ cinv @ one
        assert float(got[k]) == pytest.approx(a - b * b / e, rel=1e-9)
    # the real data vector reproduces chi2()
    assert float(sn_lik.chi2_data(thetas[0], {"union3": d["observations"]})) == pytest.approx(float(sn_lik.chi2(thetas[0])), rel=1e-14)
    with pytest.raises(KeyError, match="desi_dr2"):
        sn_lik.chi2_data(thetas[0], {"desi_dr2": jnp.zeros(13)})


def test_covariance_scaling_divides_chi2(sn_lik):
    scaled = L.build_likelihood("lcdm", ["sn"], ["H0", "Om0"], covariance_scaling=2.5)
    theta = jnp.array([68.0, 0.30])
    assert float(scaled.chi2(theta)) == pytest.approx(float(sn_lik.chi2(theta)) / 2.5, rel=1e-12)
    np.testing.assert_allclose(scaled.cholesky["union3"], np.sqrt(2.5) * sn_lik.cholesky["union3"], rtol=1e-12)


def test_non_physical_points_give_inf_never_nan(joint_lik):
    vg = joint_lik.value_and_grad
    bad = {
        "negative matter": [68.0, -0.1, 0.0224, 0.965, 0.0],
        "E^2 < 0 (closed, bounce)": [68.0, 0.01, 0.0224, 0.965, -0.3],
        "NaN": [np.nan, 0.3, 0.0224, 0.965, 0.0],
        "H0 < 0": [-70.0, 0.3, 0.0224, 0.965, 0.0],
        "Obh2 < 0": [70.0, 0.3, -0.01, 0.965, 0.0],
    }
    for what, theta in bad.items():
        v, g = vg(jnp.asarray(theta))
        assert float(v) == np.inf, what
        assert np.all(np.isfinite(np.asarray(g))), what
    v = jax.vmap(joint_lik.chi2)(jnp.array([[68.0, 0.31, 0.0224, 0.965, 0.0], [68.0, 0.01, 0.0224, 0.965, -0.3]]))
    assert np.isfinite(float(v[0])) and float(v[1]) == np.inf


# ---------------------------------------------------------------------------
# The Likelihood object and configuration errors
# ---------------------------------------------------------------------------


def test_likelihood_object_interface():
    lik = L.build_likelihood("wcdm", ["cmb", "bao", "bao_ani", "sn"], "H0,Om0,w0", overrides={"Obh2": 0.0223})
    assert lik.model == "wcdm"
    assert lik.datasets == ("planck2018_priors", "desi_dr2", "boss_dr12", "union3")
    assert lik.free_params == ("H0", "Om0", "w0")
    assert lik.n_data == {"planck2018_priors": 3, "desi_dr2": 13, "boss_dr12": 6, "union3": 22}
    assert lik.n_total == 44
    assert lik.base_params["Obh2"] == 0.0223 and lik.base_params["model_class"] == "wcdm"
    assert "r_s_drag" not in lik.base_params
    np.testing.assert_array_equal(lik.theta0, [67.4, 0.315, -1.0])
    q = lik.params(jnp.array([70.0, 0.3, -0.9]))
    assert float(q["w0"]) == -0.9 and q["Obh2"] == 0.0223 and q["model_class"] == "wcdm"
    for name, n in lik.n_data.items():
        assert lik.observations[name].shape == (n,)
        c = lik.cholesky[name]
        np.testing.assert_allclose(c @ c.T, load_dataset(name)["covariance"], rtol=1e-12, atol=1e-300)
    with pytest.raises(ValueError, match="theta has shape"):
        lik.chi2(jnp.zeros(2))


def test_evaluate_report():
    lik = L.build_likelihood("lcdm", ["cmb", "bao_ani"], ["H0", "Om0"])
    theta = jnp.array([67.5, 0.31])
    ev = lik.evaluate(theta)
    assert set(ev) == {"planck2018_priors", "boss_dr12"}
    for name, rep in ev.items():
        assert isinstance(rep["residuals"], np.ndarray) and rep["residuals"].shape == (lik.n_data[name],)
        r = rep["residuals"]
        assert rep["chi2"] == pytest.approx(float(r @ np.linalg.solve(load_dataset(name)["covariance"], r)), rel=1e-10)
    assert set(ev["planck2018_priors"]["predictions"]) >= {"R", "l_A", "omega_b", "z_star", "values"}
    assert ev["boss_dr12"]["predictions"]["quantities"][:2] == ["DM_rdfid_over_rs", "H_rs_over_rdfid"]
    assert 140 < ev["boss_dr12"]["predictions"]["r_d"] < 155


def test_configuration_errors():
    with pytest.raises(KeyError, match="valid datasets"):
        L.build_likelihood("lcdm", ["cmb", "nonexistent"], ["H0"])
    with pytest.raises(ValueError, match="valid parameters: H0, Om0"):
        L.build_likelihood("lcdm", ["cmb"], ["H0", "k_sat"])
    with pytest.raises(ValueError, match="listed twice"):
        L.build_likelihood("lcdm", ["bao", "desi_dr2"], ["H0"])
    with pytest.raises(ValueError, match="listed twice"):
        L.build_likelihood("lcdm", ["cmb"], ["H0", "H0"])
    with pytest.raises(ValueError, match="empty"):
        L.build_likelihood("lcdm", [], ["H0"])
    with pytest.raises(ValueError, match="unknown model"):
        L.build_likelihood("nomodel", ["cmb"], ["H0"])
    with pytest.raises(ValueError, match="covariance_scaling"):
        L.build_likelihood("lcdm", ["cmb"], ["H0"], covariance_scaling=0.0)
    with pytest.raises(TypeError):
        L.build_likelihood("lcdm", ["cmb"], ["H0"], covariance_scaling=True)
    with pytest.raises(ValueError, match="M_B"):
        L.build_likelihood("lcdm", ["sn"], ["H0", "M_B"])
    with pytest.raises(ValueError, match="only used with"):
        L.build_likelihood("lcdm", ["sn"], ["H0"], overrides={"M_B": -19.3})
    with pytest.raises(ValueError, match="unknown parameter"):
        L.build_likelihood("lcdm", ["cmb"], ["H0"], overrides={"k_sat": 1.0})
    with pytest.raises(TypeError):
        L.build_likelihood("lcdm", ["cmb"], [3])
    # PBUF parameters are valid for the PBUF model
    lik = L.build_likelihood("pbuf", ["cmb"], ["k_sat", "alpha"])
    assert lik.free_params == ("k_sat", "alpha")
    assert np.isfinite(float(lik.chi2(jnp.asarray(lik.theta0))))


def test_build_chi2_is_build_likelihood_chi2(sn_lik):
    chi2 = L.build_chi2("lcdm", ["sn"], ["H0", "Om0"])
    theta = jnp.array([69.0, 0.32])
    assert float(chi2(theta)) == float(sn_lik.chi2(theta))


def test_registered_likelihood_function_is_used(monkeypatch):
    calls = []

    def custom(params, data):
        calls.append(data["name"])
        return L.likelihood_bao(params, data)

    monkeypatch.setitem(L.LIKELIHOOD_FUNCTIONS, ("lcdm", "boss_dr12"), custom)
    assert L.get_likelihood_function("lcdm", "bao_ani") is custom
    assert L.get_likelihood_function("pbuf", "bao_ani") is L.likelihood_bao_ani
    lik = L.build_likelihood("lcdm", ["boss_dr12"], ["H0", "Om0"])
    ref = L.build_likelihood("lcdm", ["boss_dr12"], ["H0", "Om0"], overrides={"recomb_method": "CAMBFIT"})
    monkeypatch.delitem(L.LIKELIHOOD_FUNCTIONS, ("lcdm", "boss_dr12"))
    theta = jnp.array([68.0, 0.3])
    assert float(lik.chi2(theta)) == pytest.approx(float(ref.chi2(theta)), rel=1e-12)
    assert calls and set(calls) == {"boss_dr12"}


# ---------------------------------------------------------------------------
# Pantheon+ χ² on a synthetic covariance of the published format (the real one is missing)
# ---------------------------------------------------------------------------


@pytest.mark.skipif(not (DATA_DIR / "sn/pantheonplus/Pantheon+SH0ES.dat").is_file(),
                    reason="the Pantheon+ table (not shipped) is absent")
def test_pantheon_shoes_block_on_synthetic_covariance(tmp_path, monkeypatch):
    from test_datasets import _synthetic_pantheon

    monkeypatch.setenv("PBUFJAX_CACHE_DIR", str(tmp_path / "cache"))
    root, _, _, _ = _synthetic_pantheon(tmp_path)
    shoes = load_dataset("pantheonplus_shoes", data_dir=root, verify=False)
    plain = load_dataset("pantheonplus", data_dir=root, verify=False)
    cinv = np.linalg.inv(shoes["covariance"])
    cal = shoes["is_calibrator"]

    explicit = L.build_likelihood("lcdm", [shoes], ["H0", "Om0", "M_B"], {"mnu": 0.0})
    theta = jnp.array([72.0, 0.3, -19.25])
    from astropy import units as u
    from astropy.cosmology import FlatLambdaCDM

    cosmo = FlatLambdaCDM(H0=72.0, Om0=0.3, Tcmb0=2.7255, Neff=3.046, m_nu=0.0 * u.eV)
    mu = 5 * np.log10((1 + shoes["z_hel"]) * cosmo.comoving_transverse_distance(shoes["z_cmb"]).to_value(u.Mpc)) + 25
    mu = np.where(cal, shoes["ceph_dist"], mu)
    r = shoes["observations"] - (-19.25) - mu
    assert float(explicit.chi2(theta)) == pytest.approx(r @ cinv @ r, rel=1e-8)
    # marginalized version = minimum over M_B; calibrators make H0 constrained
    marg = L.build_likelihood("lcdm", [shoes], ["H0", "Om0"], {"mnu": 0.0})
    one = np.ones(r.size)
    r0 = shoes["observations"] - mu
    b, e = one @ cinv @ r0, one @ cinv @ one
    v, g = marg.value_and_grad(theta[:2])
    assert float(v) == pytest.approx(r0 @ cinv @ r0 - b * b / e, rel=1e-8)
    assert abs(float(g[0])) > 1e-2  # the calibrators constrain H0
    # without calibrators: the marginalized χ² of the rows with zHD > 0.01
    plain_lik = L.build_likelihood("lcdm", [plain], ["H0", "Om0"], {"mnu": 0.0})
    keep = shoes["z_cmb"] > 0.01
    cinv_p = np.linalg.inv(plain["covariance"])
    rp = plain["observations"] - mu[keep]
    onep = np.ones(rp.size)
    bp, ep = onep @ cinv_p @ rp, onep @ cinv_p @ onep
    assert float(plain_lik.chi2(theta[:2])) == pytest.approx(rp @ cinv_p @ rp - bp * bp / ep, rel=1e-8)
    # whitened residuals (Gauss-Newton form) give the same χ², explicit offset or marginalized
    for lik, th in ((explicit, theta), (marg, theta[:2]), (plain_lik, theta[:2])):
        w, ok = lik.residuals_data(th)
        assert bool(ok)
        assert float(jnp.sum(w * w)) == pytest.approx(float(lik.chi2(th)), rel=1e-10)


# ---------------------------------------------------------------------------
# Whitened residuals (Gauss-Newton form of the χ²)
# ---------------------------------------------------------------------------


def test_whitened_residuals_reproduce_chi2_and_gradient():
    lik = L.build_likelihood("lcdm", ["cmb", "desi_dr2", "union3", "boss_dr12"], ["H0", "Om0", "Obh2"])
    assert lik.has_residuals
    rng = np.random.default_rng(3)
    for th in (jnp.array([67.0, 0.31, 0.0223]), jnp.array([70.5, 0.28, 0.0228])):
        w, ok = lik.residuals_data(th)
        assert bool(ok) and w.shape == (lik.n_total,)
        assert float(jnp.sum(w * w)) == pytest.approx(float(lik.chi2(th)), rel=1e-11)
        # gradient 2 J^T w equals the exact gradient of the χ²
        jac = jax.jacfwd(lambda t: lik.residuals_data(t)[0])(th)
        np.testing.assert_allclose(2 * jac.T @ w, jax.grad(lik.chi2)(th), rtol=1e-9)
    # with replaced data vectors (mocks), including the marginalized SN offset
    obs = {"union3": lik.observations["union3"] + rng.normal(size=22) * 0.1 + 3.0,
           "desi_dr2": lik.observations["desi_dr2"] * 1.01}
    th = jnp.array([68.0, 0.3, 0.0224])
    w, ok = lik.residuals_data(th, obs)
    assert float(jnp.sum(w * w)) == pytest.approx(float(lik.chi2_data(th, obs)), rel=1e-11)
    # non-physical point: flagged, as the χ² is +inf there
    for bad in ([68.0, -0.1, 0.0224], [-70.0, 0.3, 0.0224], [70.0, 0.3, -0.01]):
        _, ok = lik.residuals_data(jnp.array(bad))
        assert not bool(ok), bad
        assert float(lik.chi2(jnp.array(bad))) == np.inf
    with pytest.raises(KeyError, match="unknown dataset"):
        lik.residuals_data(th, {"nope": np.zeros(3)})


def test_user_chi2_function_has_no_residual_form(monkeypatch):
    def custom(params, data):
        return L.likelihood_bao(params, data)

    monkeypatch.setitem(L.LIKELIHOOD_FUNCTIONS, ("lcdm", "boss_dr12"), custom)
    lik = L.build_likelihood("lcdm", ["boss_dr12"], ["H0", "Om0"])
    assert not lik.has_residuals
    with pytest.raises(NotImplementedError, match="user χ² function"):
        lik.residuals_data(jnp.array([68.0, 0.3]))


def test_block_subclass_in_likelihood_functions_keeps_residuals(monkeypatch):
    calls = []

    class CountingBAO(L.BAOBlock):
        def predict(self, p, ctx):
            calls.append(self.name)
            return super().predict(p, ctx)

    monkeypatch.setitem(L.LIKELIHOOD_FUNCTIONS, ("lcdm", "boss_dr12"), CountingBAO)
    fn = L.get_likelihood_function("lcdm", "bao_ani")
    assert fn == CountingBAO.likelihood
    lik = L.build_likelihood("lcdm", ["boss_dr12"], ["H0", "Om0"])
    assert lik.has_residuals and lik.missing_residuals == ()
    theta = jnp.array([68.0, 0.3])
    w, ok = lik.residuals_data(theta)
    assert bool(ok) and set(calls) == {"boss_dr12"}  # the registered block evaluates the data
    assert float(jnp.sum(w * w)) == pytest.approx(float(lik.chi2(theta)), rel=1e-11)
    chi2_api, _ = fn(L.build_params("lcdm", {"H0": 68.0, "Om0": 0.3}), load_dataset("boss_dr12"))
    assert float(chi2_api) == pytest.approx(float(lik.chi2(theta)), rel=1e-10)


def test_public_traced_methods_match_the_compiled_ones(sn_lik):
    theta = jnp.array([69.0, 0.32])
    assert float(sn_lik.chi2_traced(theta)) == pytest.approx(float(sn_lik.chi2(theta)), rel=1e-13)
    chi2s, preds, derived = sn_lik.evaluate_traced(theta, with_derived=True)
    assert float(chi2s["union3"]) == pytest.approx(float(sn_lik.chi2(theta)), rel=1e-13)
    assert "offset" in preds["union3"] and float(derived["z_star"]) > 1000
    assert sn_lik.blocks[0].name == "union3" and isinstance(sn_lik.blocks[0], L.Block)
