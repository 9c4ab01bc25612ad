"""Massive neutrinos: the Fermi–Dirac density, CAMB's split, accuracy against CAMB
(tests/data/neutrino_reference.json, made by tests/data/make_neutrino_reference.py), the
massless limit, PBUF's reduction to ΛCDM, jit/vmap/grad and bad input."""

from __future__ import annotations

import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad

import pbufjax
import pbufjax.parameter
from pbufjax import cosmology
from pbufjax.cosmology import neutrinos as N

REF = json.loads((pathlib.Path(__file__).resolve().parents[1] / "data" / "neutrino_reference.json").read_text())
COSMOS = REF["cosmologies"]
IDS = [c["label"] for c in COSMOS]


def _exact_ratio(y: float) -> float:
    f = lambda x: x * x * np.sqrt(x * x + y * y) / (np.exp(x) + 1.0)  # noqa: E731
    pts = [0, 1, 3, 8, 20, 50, 100, 200]
    val = sum(quad(f, a, b, epsabs=0.0, epsrel=2e-14, limit=200)[0] for a, b in zip(pts[:-1], pts[1:]))
    return val / (7 * np.pi**4 / 120)


def _numeric(p):
    return {k: v for k, v in p.items() if not isinstance(v, (str, dict))}


def test_density_ratio_against_quadrature_and_its_limits():
    ys = np.concatenate([[0.0, 1e-6, 9.99e-4, 1e-3, 1.001e-3], np.geomspace(2e-3, 290, 40), [299.9, 300.0, 300.1, 1e3, 1e4]])
    got = np.asarray(N.density_ratio(ys))
    want = np.array([_exact_ratio(y) for y in ys])
    assert np.max(np.abs(got / want - 1)) < 1e-10
    assert abs(float(N.density_ratio(0.0)) - 1.0) < 1e-15
    assert N.table()["max_rel_error_test"] < 1e-10


def test_density_ratio_gradient_matches_finite_differences():
    g = jax.jit(jax.vmap(jax.grad(N.density_ratio)))
    ys = np.array([1e-2, 0.1, 0.5, 1.0, 3.0, 10.0, 50.0, 300.0, 1e3, 3e4])
    grads = np.asarray(g(jnp.asarray(ys)))
    for y, d in zip(ys, grads):
        h = 1e-3 * y  # (quadrature noise ~2e-14 rules out smaller steps)
        fd = (_exact_ratio(y + h) - _exact_ratio(y - h)) / (2 * h)
        assert d == pytest.approx(fd, rel=1e-5), y
    assert float(jax.grad(N.density_ratio)(0.0)) == pytest.approx(0.0, abs=1e-7)  # R = 1 + O(y^2)
    big = np.array([1e5, 1e7])  # the large-mass limit: R -> 3 zeta(3) y / (2 F(0))
    np.testing.assert_allclose(np.asarray(N.density_ratio(big)) / big, 1.5 * 1.2020569031595942 / (7 * np.pi**4 / 120),
                               rtol=1e-9)


def test_camb_split_of_neff_and_omnuh2():
    """CAMB's omnuh2 for mnu = 0.06 eV, Neff = 3.046 is 6.449e-4 (a naive Fermi–Dirac mass with the
    standard temperature gives 6.477e-4); the massive state carries 3.044/3 of Neff."""
    p = pbufjax.build_params("lcdm", {"Neff": 3.046, "mnu": 0.06})
    assert p["omnuh2"] == pytest.approx(6.4489937542e-4, rel=1e-9)
    s = N.split(_numeric(p))
    assert float(s.g) == pytest.approx(3.044 / 3, rel=1e-15)
    assert float(s.n_massless) == pytest.approx(3.046 - 3.044 / 3, rel=1e-15)
    assert p["Onu0"] == pytest.approx(p["omnuh2"] / (p["H0"] / 100) ** 2, rel=1e-14)
    for c in COSMOS:
        q = pbufjax.build_params(c["model"], c["pbufjax_overrides"])
        assert q["omnuh2"] == pytest.approx(c["omnuh2"], rel=3e-7), c["label"]  # CAMB's own table: 2e-7 at 0.02 eV


@pytest.mark.parametrize("c", COSMOS, ids=IDS)
def test_background_against_camb(c):
    p = pbufjax.build_params(c["model"], c["pbufjax_overrides"])
    z = np.array(c["z_dist"])
    h = np.asarray(cosmology.hubble(z, p)) / np.array(c["H"]) - 1
    dm = np.asarray(cosmology.comoving_transverse_distance(z, p)) / np.array(c["DM"]) - 1
    low = z <= 5
    assert np.max(np.abs(h[low])) < 1e-8
    # above z ~ 10 CAMB's interpolated neutrino density (next test) limits the agreement
    assert np.max(np.abs(h)) < 1.5e-6
    assert np.max(np.abs(dm)) < 1e-8


@pytest.mark.parametrize("c", COSMOS, ids=IDS)
def test_recombination_against_camb(c):
    p = pbufjax.build_params(c["model"], c["pbufjax_overrides"])
    d = cosmology.derived(p)
    for key in ("z_star", "z_drag", "r_star", "r_drag", "theta_star"):
        assert float(d[key]) == pytest.approx(c["derived"][key], rel=1e-5), key


def test_camb_density_table_is_the_less_accurate_of_the_two():
    """CAMB interpolates its neutrino density in a table: up to ~1.5e-5 off the quadrature near y ~ 1;
    pbufjax's fit is within 1e-10 of it."""
    t = REF["camb_density_table"]
    exact = np.array(t["quadrature_nu_over_photon"])
    camb_err = np.max(np.abs(np.array(t["camb_nu_over_photon"]) / exact - 1))
    f = 7 / 8 * (4 / 11) ** (4 / 3)
    ours = t["degeneracy"] * f * np.asarray(N.density_ratio(t["y0"] * np.array(t["a"])))
    assert np.max(np.abs(ours / exact - 1)) < 1e-10
    assert camb_err > 1e-5


def test_massless_limit_is_exact():
    """mnu = 0 is every species massless: the same numbers as num_massive_neutrinos = 0, and E^2
    is the massless formula to round-off, traced or not."""
    a = pbufjax.build_params("pbuf", {"mnu": 0.0})
    b = pbufjax.build_params("pbuf", {"mnu": 0.0, "num_massive_neutrinos": 0})
    z = np.array([0.0, 0.5, 2.0, 1100.0, 1e5])
    assert np.array_equal(np.asarray(cosmology.hubble(z, a)), np.asarray(cosmology.hubble(z, b)))
    assert a["omnuh2"] == 0.0 and a["z_recomb"] == b["z_recomb"]
    q = _numeric(pbufjax.build_params("lcdm", {"mnu": 0.0}))
    og = pbufjax.constants.omega_gamma_h2(q["Tcmb"]) / (q["H0"] / 100) ** 2
    orad = og * (1 + q["Neff"] * pbufjax.constants.NEUTRINO_FACTOR)
    zp1 = 1 + z
    e2 = q["Om0"] * zp1**3 + orad * zp1**4 + (1 - q["Om0"] - orad)
    np.testing.assert_allclose(np.asarray(cosmology.e2(z, q)), e2, rtol=1e-15)
    traced = jax.jit(lambda m: cosmology.hubble(z, {**q, "mnu": m}))(0.0)
    np.testing.assert_array_equal(np.asarray(traced), np.asarray(cosmology.hubble(z, q)))


def test_pbuf_reduces_to_lcdm_bit_for_bit_with_massive_neutrinos():
    over = {"mnu": 0.3, "num_massive_neutrinos": 3, "H0": 68.0, "Om0": 0.31}
    lcdm = _numeric(pbufjax.build_params("lcdm", over))
    pbuf = {**_numeric(pbufjax.build_params("pbuf", {**over, "k_sat": 1.0, "alpha": 0.0})), "model_class": "pbuf"}
    z = np.array([0.0, 0.3, 1.0, 10.0, 1100.0, 1e4])
    assert np.array_equal(np.asarray(cosmology.e2(z, {**lcdm, "model_class": "lcdm"})), np.asarray(cosmology.e2(z, pbuf)))
    dl = cosmology.derived({**lcdm, "model_class": "lcdm", "recomb_method": "CAMBFIT"})
    dp = cosmology.derived({**pbuf, "recomb_method": "CAMBFIT"})
    for k in dl:
        assert float(dl[k]) == float(dp[k]), k


def test_om0_includes_the_massive_neutrinos():
    """Ωm = Ωcb + Ων today: at late times E^2 -> Om0 (1+z)^3 + ΩΛ as the neutrinos become cold."""
    p = pbufjax.build_params("lcdm", {"mnu": 1.0})
    d = cosmology.densities(p)
    assert float(d.omega_cb) == pytest.approx(p["Om0"] - p["Onu0"], rel=1e-14)
    assert p["Omh2"] == pytest.approx(p["Om0"] * (p["H0"] / 100) ** 2)
    z = 0.5
    e2_cold = p["Om0"] * (1 + z) ** 3 + float(d.omega_r) * (1 + z) ** 4 + (1 - p["Om0"] - float(d.omega_r))
    assert float(cosmology.e2(z, p)) == pytest.approx(e2_cold, rel=1e-5)


def test_jit_vmap_grad_in_mnu():
    base = _numeric(pbufjax.build_params("w0wacdm", {"w0": -0.8, "wa": -0.5, "mnu": 0.06}))

    def f(m):
        q = {**base, "mnu": m, "model_class": "w0wacdm"}
        return cosmology.comoving_transverse_distance(1100.0, q) + cosmology.hubble(2.0, q)

    g = jax.jit(jax.grad(f))
    for m in (0.02, 0.06, 0.5, 2.0):
        h = 1e-5 * m
        fd = (f(m + h) - f(m - h)) / (2 * h)
        assert float(g(m)) == pytest.approx(float(fd), rel=1e-6)
    vals = jax.vmap(f)(jnp.array([0.02, 0.06, 0.5]))
    assert vals.shape == (3,) and np.all(np.isfinite(vals))
    # mnu = 0 exactly is the massless branch (CAMB's convention): finite value and derivative there
    assert np.isfinite(float(f(0.0))) and np.isfinite(float(jax.grad(f)(0.0)))


@pytest.mark.parametrize("over, match", [
    ({"mnu": -0.1}, r"mnu = -0.1 is outside its valid range \[0, 5\]"),
    ({"mnu": float("nan")}, "'mnu' must be finite"),
    ({"mnu": float("inf")}, "'mnu' must be finite"),
    ({"num_massive_neutrinos": 4}, r"num_massive_neutrinos = 4 is outside its valid range \[0, 3\]"),
    ({"num_massive_neutrinos": 1.5}, "num_massive_neutrinos = 1.5 must be a whole number from 0 to 3"),
    ({"num_massive_neutrinos": 0, "mnu": 0.06}, r"mnu = 0.06 eV needs num_massive_neutrinos >= 1 \(got 0\)"),
])
def test_bad_neutrino_input(over, match):
    with pytest.raises(ValueError, match=match):
        pbufjax.build_params("lcdm", over)


def test_mnu_is_optimizable_within_its_bounds():
    assert "mnu" in pbufjax.parameter.optimizable_parameters("pbuf")
    assert pbufjax.parameter.get_optimization_bounds("lcdm", "mnu") == (0.0, 5.0)
    assert "num_massive_neutrinos" not in pbufjax.parameter.optimizable_parameters("lcdm")


def test_report_lists_every_derived_key():
    from pbufjax.analysis import report
    from pbufjax.cosmology.parameters import DERIVED_PARAMS

    assert report._DERIVED == DERIVED_PARAMS  # noqa: SLF001 - the literal copy kept for a light import


@pytest.mark.parametrize("argv, needle", [
    (["--mnu", "-1"], "mnu = -1 is outside its valid range [0, 5]"),
    (["--num-massive-neutrinos", "4"], "num_massive_neutrinos = 4 is outside its valid range [0, 3]"),
    (["--num-massive-neutrinos", "1.5"], "num_massive_neutrinos = 1.5 must be a whole number from 0 to 3"),
    (["--mnu", "0.1", "--num-massive-neutrinos", "0"], "mnu = 0.1 eV needs num_massive_neutrinos >= 1"),
])
def test_cli_refuses_bad_neutrino_settings(argv, needle, monkeypatch, tmp_path, capsys):
    from pbufjax import cli

    monkeypatch.setenv("PBUFJAX_STORE_DIR", str(tmp_path / "store"))
    assert cli.main(["fit", "--datasets", "cmb", *argv]) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("pbufjax: error")]
    assert len(err) == 1 and needle in err[0]


@pytest.mark.release_files("desi_dr2")
def test_sampler_and_profile_handle_a_posterior_piling_up_at_mnu_zero():
    """DESI DR2 BAO + the compressed CMB prior put the Σmν likelihood's maximum on the bound 0
    (documents/neutrino_mass.md): NUTS samples stay in [0, 5], finite and mixing; the profile is finite
    at Σmν = 0 exactly and rises away from it."""
    import numpy as np

    from pbufjax.inference.batch.profile import profile_likelihood
    from pbufjax.sample import sample_posterior

    free = ["H0", "Om0", "Obh2", "mnu"]
    data = ["desi_dr2", "planck_pr4_compressed"]
    r = sample_posterior("lcdm", data, free, overrides={"num_massive_neutrinos": 3}, num_samples=300,
                         num_warmup=300, num_chains=2, seed=1, use_store=False, target_accept_prob=0.9)
    m = np.asarray(r["samples"]["mnu"])
    assert np.all(np.isfinite(m)) and m.min() >= 0.0 and m.max() < 5.0
    assert np.quantile(m, 0.5) < np.quantile(m, 0.95) < 0.3  # piles up near 0, a one-sided tail
    assert r["summary"]["mnu"]["r_hat"] < 1.05
    prof = profile_likelihood("lcdm", data, free, {"mnu": np.array([0.0, 0.05, 0.1, 0.2])},
                              overrides={"num_massive_neutrinos": 3})
    d = np.asarray(prof["delta_chi2"])
    assert np.all(np.isfinite(d)) and d[0] < 0.5 and np.all(np.diff(d) > 0)


def test_constant_inputs_fold_while_tracing_and_match_the_traced_path():
    """Fixed neutrino parameters at fixed redshifts: numpy while tracing (a constant of the
    program), equal to the JAX path; traced inputs keep the JAX path."""
    y = np.geomspace(1e-4, 1e4, 57)
    folded = N.density_ratio(y)
    assert isinstance(folded, np.ndarray)
    np.testing.assert_allclose(folded, np.asarray(jax.jit(N.density_ratio)(y)), rtol=2e-15, atol=0)
    s = N.split({"mnu": 0.06, "num_massive_neutrinos": 1, "Neff": 3.046, "Tcmb": 2.7255})
    assert isinstance(s.y0, np.ndarray | np.floating) and N.is_constant(s.y0, s.g)
    t = jax.jit(lambda m: N.split({"mnu": m, "num_massive_neutrinos": 1}).y0)(0.06)
    np.testing.assert_allclose(float(t), float(s.y0), rtol=1e-15)
    assert not N.is_constant(jnp.asarray(1.0)) and not N.is_constant(True)


@pytest.mark.release_files("desi_dr2")
def test_default_fit_traces_the_fermi_dirac_sum_only_where_it_moves():
    """In a fit of H0, Om0 with the neutrino parameters at their defaults, the Chebyshev sum is
    traced once (the recombination-dependent endpoint nodes), not at every fixed redshift."""
    from pbufjax.fit.problem import get_problem

    p = get_problem("lcdm", ["desi_dr2"], ["H0", "Om0"])
    calls = []
    real = N.chebyshev_series

    def spy(coefficients):
        series = real(coefficients)

        def counted(x):
            calls.append(np.shape(x))
            return series(x)
        return counted

    N.chebyshev_series = spy
    try:
        jax.make_jaxpr(p.compiled.chi2)(jnp.asarray([68.7, 0.297]), p.objective().aux)
    finally:
        N.chebyshev_series = real
    assert calls == [(2, 24)]
    # a fitted mnu keeps every factor traced (and differentiable)
    q = get_problem("lcdm", ["desi_dr2"], ["H0", "Om0", "mnu"])
    g = jax.grad(q.compiled.chi2)(jnp.asarray([68.7, 0.297, 0.06]), q.objective().aux)
    assert np.all(np.isfinite(np.asarray(g))) and float(g[2]) != 0.0
