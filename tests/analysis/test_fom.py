r"""The DETF figure of merit :math:`1/\sqrt{\det \mathrm{Cov}(w_0, w_a)}` (Albrecht et al. 2006,
astro-ph/0609591): from the Hessian covariance in ``run_fit``, from the chain in
``sample_posterior``, and printed by the CLI for w0waCDM.

The reference fit is w0waCDM on DESI DR2 BAO + Planck PR4 compressed CMB + DES-SN5YR
(statistical): DESI 2025 (arXiv:2503.14738, Table V) finds σ(w0) ≈ 0.057 and
σ(wa) ≈ 0.2 for that combination, a figure of merit of order 10²; the chain and the
Laplace approximation of the same posterior agree to the chain's Monte-Carlo error and
the posterior's mild non-Gaussianity.
"""

import math

import numpy as np
import pytest

import pbufjax  # noqa: F401
from pbufjax import sample
from pbufjax.engine import run_fit
from pbufjax.fit.merit import FOM_PARAMS, figure_of_merit, figure_of_merit_from_samples

DATA = ["desi_dr2", "planck_pr4_compressed", "desy5_stat"]
FREE = ["H0", "Om0", "Obh2", "w0", "wa"]


def test_figure_of_merit_of_a_known_covariance():
    sw0, swa, rho = 0.05, 0.2, -0.8
    cov = np.diag([1.0, sw0**2, swa**2])
    cov[1, 2] = cov[2, 1] = rho * sw0 * swa
    expect = 1.0 / (sw0 * swa * math.sqrt(1 - rho**2))
    assert figure_of_merit(cov, ["H0", "w0", "wa"]) == pytest.approx(expect, rel=1e-12)
    # the order of the rows does not matter
    perm = [2, 0, 1]
    assert figure_of_merit(cov[np.ix_(perm, perm)], ["wa", "H0", "w0"]) == pytest.approx(expect, rel=1e-12)
    assert figure_of_merit(np.eye(2), ["H0", "w0"]) is None
    assert math.isnan(figure_of_merit(np.full((2, 2), np.nan), FOM_PARAMS))
    assert math.isnan(figure_of_merit(np.array([[1.0, 2.0], [2.0, 1.0]]), FOM_PARAMS))  # not positive definite
    with pytest.raises(ValueError, match="does not match"):
        figure_of_merit(np.eye(3), FOM_PARAMS)


def test_figure_of_merit_from_samples():
    rng = np.random.default_rng(0)
    cov = np.array([[0.05**2, -0.8 * 0.05 * 0.2], [-0.8 * 0.05 * 0.2, 0.2**2]])
    x = rng.multivariate_normal([-0.75, -0.8], cov, size=200_000)
    fom = figure_of_merit_from_samples({"w0": x[:, 0].reshape(4, -1), "wa": x[:, 1].reshape(4, -1)})
    assert fom == pytest.approx(figure_of_merit(cov, FOM_PARAMS), rel=0.01)
    assert figure_of_merit_from_samples({"w0": x[:, 0]}) is None
    assert math.isnan(figure_of_merit_from_samples({"w0": [1.0, 2.0], "wa": [0.0, 1.0]}))
    with pytest.raises(ValueError, match="different numbers of samples"):
        figure_of_merit_from_samples({"w0": [1.0, 2.0, 3.0], "wa": [0.0, 1.0]})


def test_lcdm_fit_has_no_figure_of_merit():
    r = run_fit("lcdm", ["desi_dr2"], optimization_params=["H0", "Om0"], overrides={"Obh2": 0.02237})
    assert r["figure_of_merit"] is None


@pytest.fixture(scope="module")
def w0wa_fit():
    return run_fit("w0wacdm", DATA, optimization_params=FREE)


@pytest.mark.release_files("desi_dr2", "desy5_stat")
def test_run_fit_reports_the_hessian_figure_of_merit(w0wa_fit):
    r = w0wa_fit
    assert r["optimization"]["convergence_status"] == "success"
    i, j = FREE.index("w0"), FREE.index("wa")
    block = np.asarray(r["covariance"])[np.ix_([i, j], [i, j])]
    assert r["figure_of_merit"] == pytest.approx(1.0 / math.sqrt(np.linalg.det(block)), rel=1e-12)
    # DESI 2025 (arXiv:2503.14738): σ(w0) ≈ 0.057, σ(wa) ≈ 0.21, strongly anticorrelated → FoM of order 10²
    assert 100 < r["figure_of_merit"] < 600


@pytest.mark.slow
@pytest.mark.release_files("desi_dr2", "desy5_stat")
def test_sample_figure_of_merit_from_the_chain_matches_the_hessian(w0wa_fit, tmp_path, capsys):
    """``pbufjax sample`` runs sample_posterior and reports its chain's figure of merit."""
    import json

    from pbufjax import cli_sampling

    out = tmp_path / "w0wa.npz"
    rc = cli_sampling.main(["sample", "--model", "w0wacdm", "--datasets", ",".join(DATA), "--params", ",".join(FREE),
                            "--samples", "500", "--warmup", "300", "--chains", "2", "--seed", "0", "--no-store",
                            "--json", "--output", str(out)])
    assert rc == 0
    fom = json.loads(capsys.readouterr().out)["figure_of_merit"]
    back = sample.load_samples(out)
    assert fom == pytest.approx(figure_of_merit_from_samples(back["samples"]), rel=1e-12)
    assert back["figure_of_merit"] == pytest.approx(fom, rel=1e-12)
    assert fom == pytest.approx(w0wa_fit["figure_of_merit"], rel=0.2)


@pytest.mark.release_files("desi_dr2", "desy5_stat")
def test_cli_fit_prints_the_figure_of_merit(capsys, tmp_path):
    from pbufjax.cli import main

    rc = main(["fit", "--model", "w0wacdm", "--datasets", ",".join(DATA), "--optimize", ",".join(FREE),
               "--no-store", "--no-save", "--store-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "DETF figure of merit 1/√det Cov(w0, wa) = " in out


def test_run_fit_without_uncertainties_has_no_figure_of_merit():
    """uncertainties=False leaves an empty covariance: the fit still succeeds, with no FoM (not an error)."""
    from pbufjax.engine import run_fit

    r = run_fit("w0wacdm", ["desi_dr2", "union3"], optimization_params=["Om0", "w0", "wa"],
                optimizer_config={"uncertainties": False})
    assert r["figure_of_merit"] is None
    assert np.isfinite(r["metrics"]["total_chi2"])
