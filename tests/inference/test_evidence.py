"""Bayesian evidence (pbufjax.evidence): nested sampling and Laplace against known answers.

Gaussian likelihoods :math:`L = e^{-(x-\\mu)^T C^{-1}(x-\\mu)/2}` (no normalization, as in
pbufjax) under a uniform prior on the box :math:`[-5, 5]^k` that holds all their mass have

.. math::  \\ln Z = \\tfrac k2\\ln 2\\pi + \\tfrac12\\ln\\det C - k\\ln 10

exactly (the mass outside the box is < 1e-12 here). Tolerances: the issue's 3σ (the sampler's
own error) and 0.1; doubling a uniform prior's width lowers ln Z by ln 2 (Occam factor) when
the posterior sits well inside both ranges.
"""

import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pbufjax import evidence
from pbufjax.inference.evidence.nested import run_nested

pytest.importorskip("nautilus")

DESI = ["desi_dr2"]
OVER = {"Obh2": 0.02237}
LO, HI = -5.0, 5.0


def _gaussian(nd: int):
    rng = np.random.default_rng(1)
    mu = rng.uniform(-1, 1, nd)
    if nd == 2:
        cov = np.array([[1.0, 0.5], [0.5, 2.0]]) * 0.25
    else:
        a = rng.normal(size=(nd, nd))
        cov = (a @ a.T / nd + np.eye(nd)) * 0.1
    prec = jnp.asarray(np.linalg.inv(cov))
    log_l = jax.jit(jax.vmap(lambda x: -0.5 * (x - mu) @ prec @ (x - mu)))
    exact = 0.5 * nd * math.log(2 * math.pi) + 0.5 * np.linalg.slogdet(cov)[1] - nd * math.log(HI - LO)
    return log_l, exact


@pytest.mark.parametrize("nd", [2, 6])
def test_gaussian_evidence_is_exact_within_errors(nd):
    log_l, exact = _gaussian(nd)
    r = run_nested(log_l, lambda u: LO + (HI - LO) * u, nd, seed=0)
    err = abs(r["log_z"] - exact)
    assert r["library"] == "nautilus" and r["n_likelihood_evaluations"] > 1000
    assert 0 < r["log_z_err"] < 0.05
    assert err < 3 * r["log_z_err"] and err < 0.1, (r, exact)


def test_occam_factor_of_a_doubled_prior_width():
    log_l, _ = _gaussian(2)
    narrow = run_nested(log_l, lambda u: LO + (HI - LO) * u, 2, seed=1)
    wide = run_nested(log_l, lambda u: np.stack([2 * LO + 2 * (HI - LO) * u[:, 0], LO + (HI - LO) * u[:, 1]], 1),
                      2, seed=2)
    d = narrow["log_z"] - wide["log_z"]
    sigma = math.hypot(narrow["log_z_err"], wide["log_z_err"])
    assert abs(d - math.log(2)) < 3 * sigma and abs(d - math.log(2)) < 0.1


def test_dynesty_is_available_too():
    pytest.importorskip("dynesty")
    log_l, exact = _gaussian(2)
    r = run_nested(log_l, lambda u: LO + (HI - LO) * u, 2, library="dynesty", seed=0)
    assert r["library"] == "dynesty" and abs(r["log_z"] - exact) < 3 * r["log_z_err"]


# ---------------------------------------------------------------------------
# DESI DR2 ΛCDM (H0, Om0 free)

@pytest.fixture(scope="module")
def laplace_desi():
    return evidence.log_evidence("lcdm", DESI, ["H0", "Om0"], overrides=OVER, method="laplace")


def test_laplace_equals_nested_on_desi_dr2(laplace_desi):
    nested = evidence.log_evidence("lcdm", DESI, ["H0", "Om0"], overrides=OVER, seed=0)
    assert set(nested) >= {"log_z", "log_z_err", "method", "library", "n_likelihood_evaluations", "time_s", "priors"}
    assert nested["method"] == "nested" and nested["library"] == "nautilus"
    assert nested["priors"]["H0"][0] == "uniform"  # default: the optimization bounds
    assert abs(laplace_desi["log_z"] - nested["log_z"]) < 0.15
    assert laplace_desi["method"] == "laplace" and math.isnan(laplace_desi["log_z_err"])
    assert laplace_desi["map"]["Om0"] == pytest.approx(0.2975, abs=0.002)  # DESI 2025, arXiv:2503.14738
    assert not laplace_desi["prior_edge"]


def test_laplace_occam_factor_and_normal_prior(laplace_desi):
    narrow = evidence.log_evidence("lcdm", DESI, ["H0", "Om0"], overrides=OVER, method="laplace",
                                   priors={"H0": ("uniform", 50.0, 90.0)})
    wide = evidence.log_evidence("lcdm", DESI, ["H0", "Om0"], overrides=OVER, method="laplace",
                                 priors={"H0": ("uniform", 30.0, 110.0)})
    assert narrow["log_z"] - wide["log_z"] == pytest.approx(math.log(2), abs=1e-6)
    # a normal prior: Laplace is exact for a Gaussian posterior times a Gaussian prior
    lap = evidence.log_evidence("lcdm", DESI, ["H0", "Om0"], overrides=OVER, method="laplace",
                                priors={"H0": ("normal", 70.0, 2.0)})
    nest = evidence.log_evidence("lcdm", DESI, ["H0", "Om0"], overrides=OVER, seed=3,
                                 priors={"H0": ("normal", 70.0, 2.0)})
    assert lap["priors"]["H0"] == ("normal", 70.0, 2.0)
    assert abs(lap["log_z"] - nest["log_z"]) < 0.15


def test_laplace_warns_at_a_prior_edge():
    with pytest.warns(UserWarning, match="prior edge of Om0"):
        r = evidence.log_evidence("lcdm", DESI, ["H0", "Om0"], overrides=OVER, method="laplace",
                                  priors={"Om0": ("uniform", 0.29, 0.5)})
    assert r["prior_edge"] == ["Om0"]


# ---------------------------------------------------------------------------
# bad input: named in the message, before any sampling

@pytest.mark.parametrize("priors, words", [
    ({"Om0": ("cauchy", 0.0, 1.0)}, ["'cauchy'", "uniform, normal"]),
    ({"Om0": ("uniform", -0.5, 0.5)}, ["Om0", "-0.5", "valid range"]),
    ({"H0": ("uniform", 5.0, 300.0)}, ["H0", "300", "valid range"]),
    ({"H0": ("normal", 500.0, 1.0)}, ["H0", "500", "valid range"]),
    ({"Om0": ("uniform", 0.3, 0.3)}, ["Om0", "0.3"]),
    ({"Om0": ("normal", 0.3, 0.0)}, ["Om0", "sigma"]),
    ({"w0": ("uniform", -2.0, 0.0)}, ["'w0'", "not a free parameter"]),
])
def test_bad_priors_are_refused_naming_the_value(priors, words):
    with pytest.raises(ValueError) as exc:
        evidence.log_evidence("lcdm", DESI, ["H0", "Om0"], overrides=OVER, priors=priors)
    for w in words:
        assert w in str(exc.value), str(exc.value)


def test_bad_method_library_and_types():
    with pytest.raises(ValueError, match="unknown evidence method 'mcmc'.*nested, laplace"):
        evidence.log_evidence("lcdm", DESI, ["H0"], overrides=OVER, method="mcmc")
    with pytest.raises(ValueError, match="unknown nested-sampling library 'multinest'"):
        evidence.log_evidence("lcdm", DESI, ["H0"], overrides=OVER, library="multinest")
    with pytest.raises(TypeError, match="seed"):
        evidence.log_evidence("lcdm", DESI, ["H0"], overrides=OVER, seed=1.5)
    with pytest.raises(TypeError, match="prior of 'H0'"):
        evidence.log_evidence("lcdm", DESI, ["H0"], overrides=OVER, priors={"H0": 70.0})
    with pytest.raises(ValueError, match="no free parameters"):
        evidence.log_evidence("lcdm", DESI, [], overrides=OVER)


def test_prior_transform_and_density_are_normalized():
    from pbufjax.inference.evidence.priors import resolve_priors

    pri = resolve_priors("lcdm", ["H0", "Om0"], [20, 0.01], [150, 0.99], [False, False],
                         {"H0": ("normal", 70.0, 2.0), "Om0": {"type": "gaussian", "mean": 0.3, "sigma": 0.01}})
    u = np.random.default_rng(0).uniform(size=(20000, 2))
    x = pri.transform(u)
    assert np.mean(x[:, 0]) == pytest.approx(70.0, abs=0.1) and np.std(x[:, 0]) == pytest.approx(2.0, rel=0.03)
    assert pri.log_density([70.0, 0.3]) == pytest.approx(-math.log(2 * math.pi * 2.0 * 0.01))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        uni = resolve_priors("lcdm", ["H0"], [20], [150], [False])
    assert uni.as_dict() == {"H0": ("uniform", 20.0, 150.0)}
    assert uni.log_density([10.0]) == -math.inf
