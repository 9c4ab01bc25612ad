"""Batched fits (pbufjax.batch): mocks, model comparison, profile likelihoods, multi-start.

Most checks use flat ΛCDM on Union3 with Ωm free (22 points, no recombination
physics), which compiles quickly; the statistics tests rely on known laws of
Gaussian data (documented next to each tolerance).
"""

import json

import numpy as np
import pytest

import pbufjax  # noqa: F401
from pbufjax import batch, cli_sampling
from pbufjax import optimizer as _opt

U3 = ["union3"]
FID = {"Om0": 0.3}


@pytest.fixture(scope="module")
def mocks32():
    return batch.fit_mocks("lcdm", U3, ["Om0"], 32, fiducial=FID, seed=7, return_mocks=True)


# ---------------------------------------------------------------------------
# mock fits
# ---------------------------------------------------------------------------


def test_fit_mocks_contract(mocks32):
    r = mocks32
    assert set(r["params"]) == {"Om0"}
    for key in ("chi2", "status", "converged", "n_iter", "n_eval"):
        assert r[key].shape == (32,)
    assert r["params"]["Om0"].dtype == np.float64 and r["chi2"].dtype == np.float64
    assert r["converged"].all() and (r["status"] == 0).all()
    assert r["n_mocks"] == 32 and r["n_data"] == 22 and r["dof"] == 21
    assert r["fiducial"]["source"] == "given" and r["fiducial"]["params"]["Om0"] == 0.3
    assert r["mocks"]["union3"].shape == (32, 22)
    assert len(np.unique(np.round(r["chi2"], 8))) == 32


def test_mock_fits_are_minima(mocks32):
    """Each batched best fit is the minimum of that mock's χ²: a 1-D scan around it is higher."""
    prob = _opt.get_problem("lcdm", U3, ["Om0"], None)
    lik = prob.likelihood
    for i in (0, 13, 31):
        obs = {"union3": mocks32["mocks"]["union3"][i]}
        best = mocks32["params"]["Om0"][i]
        c0 = float(lik.chi2_data(np.array([best]), obs))
        assert c0 == pytest.approx(mocks32["chi2"][i], abs=1e-9)
        for d in (-1e-3, 1e-3):
            assert float(lik.chi2_data(np.array([best + d]), obs)) > c0


def test_mocks_are_reproducible_and_chunking_invariant(mocks32):
    again = batch.fit_mocks("lcdm", U3, ["Om0"], 32, fiducial=FID, seed=7, chunk_size=32)
    np.testing.assert_array_equal(again["chi2"], mocks32["chi2"])
    chunked = batch.fit_mocks("lcdm", U3, ["Om0"], 32, fiducial=FID, seed=7, chunk_size=8)
    assert chunked["plan"]["n_chunks"] == 4
    np.testing.assert_allclose(chunked["chi2"], mocks32["chi2"], rtol=1e-10)
    # the fits stop at the optimizer's tolerance: parameters agree to ~1e-7 (σ(Ωm) ≈ 0.025)
    np.testing.assert_allclose(chunked["params"]["Om0"], mocks32["params"]["Om0"], atol=1e-6)
    other = batch.fit_mocks("lcdm", U3, ["Om0"], 32, fiducial=FID, seed=8, chunk_size=32)
    assert not np.allclose(other["chi2"], mocks32["chi2"])
    # mock i does not depend on how many mocks are drawn
    first = batch.draw_mocks(U3, 5, fiducial=FID, seed=7)
    np.testing.assert_allclose(first["union3"], mocks32["mocks"]["union3"][:5], rtol=1e-14)


def test_mock_statistics_follow_the_gaussian_laws():
    """Mocks from the fiducial: the sample covariance of the mocks is the data covariance
    (4000 mocks: ~2.2% scatter on each variance, 10% allowed); the best fits scatter around
    the truth; min χ² has mean N - 1 - k = 20 (Union3's offset is marginalized) and
    variance 2·20 (χ² law); χ² at the truth has mean 21. Tolerances are ≥ 4σ of the
    Monte-Carlo error for K = 384 (12 chunks of 32: the compiled program of the fixture)."""
    from pbufjax import datasets

    m = batch.draw_mocks(U3, 4000, fiducial=FID, seed=11)["union3"]
    cov = datasets.load_dataset("union3")["covariance"]
    ratio = np.diag(np.cov(m.T)) / np.diag(cov)
    assert np.all(np.abs(ratio - 1) < 0.1)
    fid = batch.fiducial_model(U3, fiducial=FID)
    assert np.all(np.abs(m.mean(0) - fid["data"]["union3"]) < 5 * np.sqrt(np.diag(cov) / 4000))

    K = 384
    r = batch.fit_mocks("lcdm", U3, ["Om0"], K, fiducial=FID, seed=12, chunk_size=32)
    assert r["plan"]["n_chunks"] == 12
    chi2, k = r["chi2"], 20
    assert abs(chi2.mean() - k) < 4 * np.sqrt(2 * k / K)
    assert 0.7 < chi2.var() / (2 * k) < 1.3  # variance of a sample variance: ~7% here
    assert abs(r["chi2_fiducial"].mean() - 21) < 4 * np.sqrt(2 * 21 / K)
    om = r["params"]["Om0"]
    assert abs(om.mean() - 0.3) < 4 * om.std() / np.sqrt(K) + 0.003  # small non-linearity bias allowed


def test_default_fiducial_is_lcdm_best_fit():
    r = batch.fit_mocks("lcdm", U3, ["Om0"], 4, seed=1)
    # Union3 alone: Ωm = 0.356 (arXiv:2311.12098); fitted fiducial
    assert r["fiducial"]["params"]["Om0"] == pytest.approx(0.356, abs=0.002)
    assert "best fit of lcdm" in r["fiducial"]["source"]
    assert r["fiducial"]["chi2_real"] == pytest.approx(23.96, abs=0.05)


@pytest.mark.slow
def test_lbfgs_and_newton_agree(mocks32):
    r = batch.fit_mocks("lcdm", U3, ["Om0"], 32, fiducial=FID, seed=7, method="lbfgs")
    np.testing.assert_allclose(r["chi2"], mocks32["chi2"], rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(r["params"]["Om0"], mocks32["params"]["Om0"], atol=2e-5)


def test_gauss_newton_default_reaches_the_exact_newton_minima(mocks32):
    assert batch.DEFAULT_METHOD == "gauss_newton"
    r = batch.fit_mocks("lcdm", U3, ["Om0"], 32, fiducial=FID, seed=7, method="newton")
    np.testing.assert_allclose(r["chi2"], mocks32["chi2"], rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(r["params"]["Om0"], mocks32["params"]["Om0"], atol=1e-6)
    assert np.all(r["status"] == mocks32["status"])


def test_gauss_newton_two_parameters_with_recombination():
    kw = dict(overrides={"Obh2": 0.02237}, seed=1)
    gn = batch.fit_mocks("lcdm", ["desi_dr2", "union3"], ["H0", "Om0"], 16, **kw)
    ex = batch.fit_mocks("lcdm", ["desi_dr2", "union3"], ["H0", "Om0"], 16, method="newton", **kw)
    np.testing.assert_allclose(gn["chi2"], ex["chi2"], rtol=1e-10, atol=1e-9)
    for k in ("H0", "Om0"):
        np.testing.assert_allclose(gn["params"][k], ex["params"][k], rtol=1e-6)


def test_multistart_per_mock(mocks32):
    r = batch.fit_mocks("lcdm", U3, ["Om0"], 32, fiducial=FID, seed=7, n_starts=3)
    np.testing.assert_allclose(r["chi2"], mocks32["chi2"], atol=1e-7)
    assert (r["n_at_best"] >= 1).all() and r["n_at_best"].max() == 3


def test_a_registered_batch_solver_is_a_batch_method(mocks32):
    """The batch methods are the solver registry's: a solver registered with a batch form is
    one more method (here a copy of ``newton`` under another name, so it must reach the same minima)."""
    import dataclasses

    from pbufjax.fit.solvers import get_solver, register_solver, unregister_solver

    register_solver(dataclasses.replace(get_solver("newton"), name="newton_copy"))
    try:
        assert batch.FIT_METHODS["newton_copy"] == batch.FIT_METHODS["newton"] == ("maxiter", "gtol", "ftol",
                                                                                   "damping")
        r = batch.fit_mocks("lcdm", U3, ["Om0"], 32, fiducial=FID, seed=7, method="newton_copy")
        np.testing.assert_allclose(r["chi2"], mocks32["chi2"], rtol=1e-10, atol=1e-9)
        prob = _opt.get_problem("lcdm", U3, ["Om0"], None)
        a = batch.fit_real(prob, options={"method": "newton_copy"})
        b = batch.fit_real(prob, options={"method": "newton"})
        assert a["status"] == b["status"] == "success" and a["status"] is _opt.Status.SUCCESS
        assert a["chi2"] == pytest.approx(b["chi2"], abs=1e-9)
    finally:
        unregister_solver("newton_copy")
    assert "newton_copy" not in batch.FIT_METHODS
    with pytest.raises(ValueError, match="unknown batch fit method 'newton_copy'"):
        batch.fit_mocks("lcdm", U3, ["Om0"], 4, fiducial=FID, method="newton_copy")


def test_results_are_keyed_by_the_callers_dataset_names(mocks32):
    """An alias in datasets_list keys the data vectors and mocks (the canonical name is recorded)."""
    fid = batch.fiducial_model(["sn"], fiducial=FID)
    assert set(fid["data"]) == {"sn"} and fid["dataset_names"] == {"sn": "union3"}
    m = batch.draw_mocks(["sn"], 5, fiducial=FID, seed=7)
    assert set(m) == {"sn"}
    np.testing.assert_allclose(m["sn"], mocks32["mocks"]["union3"][:5], rtol=1e-14)
    r = batch.fit_mocks("lcdm", ["sn"], ["Om0"], 32, fiducial=FID, seed=7, return_mocks=True)
    assert set(r["mocks"]) == {"sn"} and set(r["fiducial"]["data"]) == {"sn"}
    np.testing.assert_array_equal(r["chi2"], mocks32["chi2"])


def test_import_has_no_side_effects_and_caches_are_registered():
    """Importing batch/sample leaves the compile cache off; their caches clear through pbufjax.clear_caches."""
    import os
    import subprocess
    import sys

    script = ("import json, pbufjax.batch, pbufjax.sample, pbufjax.compile_cache as c\n"
              "from pbufjax.runtime import registered_caches\n"
              "print(json.dumps([c.status()['enabled'], registered_caches()]))")
    env = {k: v for k, v in os.environ.items() if k != "PBUFJAX_NO_COMPILE_CACHE"}
    proc = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    enabled, caches = json.loads(proc.stdout.strip().splitlines()[-1])
    assert enabled is False
    assert {"inference.batch", "inference.sampling"} <= set(caches)


# ---------------------------------------------------------------------------
# model comparison
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def comparison():
    # 32 mocks: the null fits reuse the compiled program of the ``mocks32`` fixture
    return batch.compare_models(U3, 32, null_model="lcdm", alt_model="wcdm", null_params=["Om0"],
                                alt_params=["Om0", "w0"], seed=3)


def test_compare_models_contract(comparison):
    c = comparison
    assert c["delta_chi2"].shape == (32,) and c["delta_aic"].shape == (32,)
    assert c["n_valid"] == 32 and c["k_null"] == 1 and c["k_alt"] == 2
    # nested models: the alternative never fits worse (up to convergence)
    assert c["delta_chi2"].min() > -1e-6
    np.testing.assert_allclose(c["delta_aic"], -c["delta_chi2"] + 2.0, atol=1e-12)
    o = c["observed"]
    assert o["delta_chi2"] == pytest.approx(o["chi2_null"] - o["chi2_alt"])
    assert o["chi2_null"] == pytest.approx(23.96, abs=0.05) and o["delta_chi2"] > 0
    # p-value: (1 + #{mock Δχ² ≥ observed}) / (1 + K)
    expect = (1 + np.sum(c["delta_chi2"] >= o["delta_chi2"])) / 33
    assert c["p_value"] == pytest.approx(expect)
    assert 0 < c["p_value"] <= 1
    # mocks drawn from the null model's best fit to the real data
    assert c["fiducial"]["params"]["Om0"] == pytest.approx(o["params_null"]["Om0"])
    assert c["null"]["chi2"].shape == (32,)


# ---------------------------------------------------------------------------
# profile likelihoods
# ---------------------------------------------------------------------------


def test_profile_1d_reproduces_union3_interval():
    p = batch.profile_likelihood("lcdm", U3, ["Om0"], {"Om0": np.linspace(0.25, 0.47, 45)})
    assert p["chi2"].shape == (45,) and p["delta_chi2"].min() == pytest.approx(0.0, abs=0.02)
    assert p["chi2_min"] == pytest.approx(23.96, abs=0.05)
    iv = p["intervals"]["68"]
    # Union3 alone: Ωm = 0.356 +0.028 −0.026 (arXiv:2311.12098); the profile with a
    # Δχ² = 1 threshold, linear interpolation on a 0.005 grid (tolerance 0.003)
    assert iv["lower"] == pytest.approx(0.356 - 0.026, abs=0.003)
    assert iv["upper"] == pytest.approx(0.356 + 0.028, abs=0.003)
    assert iv["lower_closed"] and iv["upper_closed"]
    assert p["intervals"]["95"]["lower"] < iv["lower"] < iv["upper"] < p["intervals"]["95"]["upper"]


def test_profile_2d_minimizes_over_the_rest():
    grid = {"Om0": np.linspace(0.15, 0.45, 4), "w0": np.linspace(-1.4, -0.6, 3)}
    p = batch.profile_likelihood("wcdm", U3, ["Om0", "w0"], grid)
    assert p["chi2"].shape == (4, 3) and p["params"] == {}
    assert np.all(p["delta_chi2"] >= -1e-9)
    # 1-D profile over w0 minimized in Ωm is below the 2-D grid values at the same w0
    q = batch.profile_likelihood("wcdm", U3, ["Om0", "w0"], {"w0": grid["w0"]})
    assert q["params"]["Om0"].shape == (3,)
    assert np.all(q["chi2"] <= p["chi2"].min(axis=0) + 1e-8)
    assert q["chi2_min"] == pytest.approx(p["chi2_min"], abs=2.0)


# ---------------------------------------------------------------------------
# multi-start
# ---------------------------------------------------------------------------


def test_multistart_real_data():
    m = batch.multistart("lcdm", U3, ["Om0"], 32, seed=2)
    assert m["chi2"].shape == (32,) and m["starts"].shape == (32, 1)
    assert m["n_converged"] == 32 and m["n_at_best"] == 32
    assert m["best"]["Om0"] == pytest.approx(0.356, abs=0.002)
    assert len(m["distinct_minima"]) == 1


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, -3])
def test_bad_mock_count(n):
    with pytest.raises(ValueError, match=rf"n_mocks must be >= 1, got {n}"):
        batch.fit_mocks("lcdm", U3, ["Om0"], n, fiducial=FID)
    with pytest.raises(ValueError, match=rf"n_mocks must be >= 1, got {n}"):
        batch.compare_models(U3, n, null_params=["Om0"], alt_model="wcdm", alt_params=["Om0", "w0"])
    with pytest.raises(ValueError, match=rf"n_mocks must be >= 1, got {n}"):
        batch.draw_mocks(U3, n, fiducial=FID)


def test_bad_batch_arguments():
    with pytest.raises(TypeError, match="n_mocks must be an integer"):
        batch.fit_mocks("lcdm", U3, ["Om0"], 2.5, fiducial=FID)
    with pytest.raises(ValueError, match="n_starts must be >= 1, got 0"):
        batch.fit_mocks("lcdm", U3, ["Om0"], 4, fiducial=FID, n_starts=0)
    with pytest.raises(ValueError, match="n_starts must be >= 1, got 0"):
        batch.multistart("lcdm", U3, ["Om0"], 0)
    with pytest.raises(ValueError, match=r"parameter 'w0' cannot be optimized for model 'lcdm'.*valid parameters: H0"):
        batch.fit_mocks("lcdm", U3, ["w0"], 4, fiducial=FID)
    with pytest.raises(ValueError, match=r"no free parameters"):
        batch.fit_mocks("lcdm", U3, [], 4, fiducial=FID)
    with pytest.raises(ValueError, match=r"fiducial parameter\(s\) \['k_sat'\] are not parameters of model 'lcdm'"):
        batch.fit_mocks("lcdm", U3, ["Om0"], 4, fiducial={"k_sat": 1.0})
    with pytest.raises(ValueError, match="unknown batch fit method 'bfgs'; valid methods: lbfgs, newton"):
        batch.fit_mocks("lcdm", U3, ["Om0"], 4, fiducial=FID, method="bfgs")
    with pytest.raises(ValueError, match=r"unknown fit option\(s\) \['memory_size'\] for method 'newton'"):
        batch.fit_mocks("lcdm", U3, ["Om0"], 4, fiducial=FID, method="newton", fit_options={"memory_size": 3})
    with pytest.raises(ValueError, match="devices requested but only"):
        batch.fit_mocks("lcdm", U3, ["Om0"], 4, fiducial=FID, devices=99)
    with pytest.raises(KeyError):
        batch.fit_mocks("lcdm", ["nope"], ["Om0"], 4, fiducial=FID)


def test_bad_grids():
    with pytest.raises(ValueError, match="grid of 'Om0' has no points"):
        batch.profile_likelihood("lcdm", U3, ["Om0"], {"Om0": []})
    with pytest.raises(ValueError, match=r"profiled parameter 'H0' is not among the free parameters \['Om0'\]"):
        batch.profile_likelihood("lcdm", U3, ["Om0"], {"H0": [70.0]})
    with pytest.raises(ValueError, match="one or two parameters, got 0"):
        batch.profile_likelihood("lcdm", U3, ["Om0"], {})
    with pytest.raises(ValueError, match="one or two parameters, got 3"):
        batch.profile_likelihood("wcdm", U3, ["Om0", "w0", "H0"], {"Om0": [0.3], "w0": [-1.0], "H0": [70.0]})
    with pytest.raises(ValueError, match=r"leaves its bounds \(0.01, 0.99\)"):
        batch.profile_likelihood("lcdm", U3, ["Om0"], {"Om0": [0.5, 1.5]})
    with pytest.raises(ValueError, match="non-finite"):
        batch.profile_likelihood("lcdm", U3, ["Om0"], {"Om0": [0.3, np.nan]})
    with pytest.raises(TypeError, match="grid must be a dict"):
        batch.profile_likelihood("lcdm", U3, ["Om0"], [0.3])


# ---------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------


@pytest.mark.release_files("desi_dr2", "union3")
def test_cli_profile_and_plot(tmp_path, capsys):
    out = tmp_path / "p.json"
    png = tmp_path / "p.png"
    rc = cli_sampling.main(["profile", "--datasets", "union3", "--params", "Om0", "--grid", "Om0=0.25:0.47:45",
                            "--output", str(out), "--plot", str(png), "-q"])
    assert rc == 0
    doc = json.loads(out.read_text())
    assert doc["intervals"]["68"]["lower"] == pytest.approx(0.330, abs=0.003)
    assert png.stat().st_size > 10_000
    rc = cli_sampling.main(["plot", "profile", str(out), "--output", str(tmp_path / "q.png")])
    assert rc == 0 and (tmp_path / "q.png").stat().st_size > 10_000


@pytest.mark.release_files("desi_dr2", "union3")
def test_cli_mocks(tmp_path, capsys):
    out = tmp_path / "m.json"
    rc = cli_sampling.main(["mocks", "--datasets", "union3", "--params", "Om0", "--n", "32", "--seed", "7",
                            "--fiducial", "Om0=0.3", "--output", str(out), "--json", "-q"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_mocks"] == 32 and summary["converged"] == 32
    doc = json.loads(out.read_text())
    assert len(doc["chi2"]) == 32


@pytest.mark.parametrize("argv, needle", [
    (["mocks", "--datasets", "union3", "--params", "Om0", "--n", "0"], "--n: must be >= 1, got 0"),
    (["mocks", "--datasets", "union3", "--params", "Om0,w0", "--n", "4"], "parameter 'w0' cannot be optimized"),
    (["mocks", "--datasets", "union3", "--params", "Om0", "--n", "4", "--devices", "64"], "64 devices requested"),
    (["mocks", "--datasets", "union3", "--params", "Om0", "--n", "4", "--compare", "wcdm"], "--alt-params"),
    (["profile", "--datasets", "union3", "--params", "Om0", "--grid", "Om0=0.2:0.4:0"], "the grid has no points"),
    (["profile", "--datasets", "union3", "--params", "Om0"], "give at least one --grid"),
    (["profile", "--datasets", "union3", "--params", "Om0", "--grid", "H0=60:70:3"], "not among the free parameters"),
    (["profile", "--datasets", "union3", "--params", "Om0", "--grid", "Om0=a:b:3"], "not a number"),
])
@pytest.mark.release_files("desi_dr2", "union3")
def test_cli_bad_input_exit_2(argv, needle, capsys):
    assert cli_sampling.main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err
    assert len(err.strip().splitlines()) == 1
