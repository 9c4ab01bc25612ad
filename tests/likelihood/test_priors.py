"""The compressed CMB priors and the parameter priors as likelihoods.

* θ* = r_s(z*)/D_M(z*) and ω_bc against CAMB (tests/data/cmb_compression_reference.json, made by
  tests/data/make_cmb_compression_reference.py), and the χ² of ``planck_pr4_compressed`` and
  ``thetastar`` against the χ² computed there with numpy from CAMB's values;
* every prior's χ² against an independent numpy computation from the JSON tables in ``data/``;
* jit, vmap and grad; the neutrino convention of ω_bc; bad observables;
* fits: the compression alone recovers its own mean; ``desi_dr2 + bbn + thetastar`` converges
  to DESI's BAO Ωm; ``bbn_neff`` alone returns its mean.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pbufjax
from pbufjax import cosmology
from pbufjax import data as D
from pbufjax.fit.api import ParameterOptimizer, optimize_cmb_parameters
from pbufjax.likelihood import CMBBlock, PriorBlock, build_likelihood, get_likelihood_function, likelihood_cmb

ROOT = Path(__file__).resolve().parents[2]
REF = json.loads((ROOT / "tests" / "data" / "cmb_compression_reference.json").read_text())
COSMOS = REF["cosmologies"]
IDS = [c["label"] for c in COSMOS]
PRIORS = ("planck_pr4_compressed", "thetastar", "bbn", "bbn_neff", "sh0es")


def table(name: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Mean, covariance and observables of ``data/<name>.json``, read here without pbufjax."""
    t = json.loads((ROOT / "data" / f"{name}.json").read_text())
    mean = np.array(t["mean"], dtype=float)
    if "covariance" in t:
        cov = np.array(t["covariance"], dtype=float)
    else:
        s = np.array(t["sigma"], dtype=float)
        cov = np.array(t.get("correlation", np.eye(s.size)), dtype=float) * s[:, None] * s[None, :]
    return mean, cov, t["observables"]


def numpy_chi2(name: str, model: np.ndarray) -> float:
    mean, cov, _ = table(name)
    r = mean - np.asarray(model, dtype=float)
    return float(r @ np.linalg.solve(cov, r))


# Free parameters through which each reference cosmology is set (one compiled likelihood per model
# and number of massive states, a setting).
FREE = {"lcdm": ["H0", "Om0", "Obh2", "Neff", "mnu", "Ok0"], "w0wacdm": ["H0", "Om0", "Obh2", "Neff", "mnu", "Ok0",
                                                                        "w0", "wa"]}


@functools.cache
def _lik(model: str, num: int, datasets: tuple[str, ...]):
    over = {"num_massive_neutrinos": num, "mnu": 0.06 if num else 0.0, "Tcmb": 2.7255}
    return build_likelihood(model, list(datasets), FREE[model], overrides=over)


def blocks_at(c: dict, datasets=("planck_pr4_compressed", "thetastar")) -> dict:
    over = c["pbufjax_overrides"]
    lik = _lik(c["model"], int(over["num_massive_neutrinos"]), tuple(datasets))
    theta = jnp.array([over[k] for k in lik.free_params])
    return {k: float(v) for k, v in lik.chi2_blocks(theta).items()}


# ---------------------------------------------------------------------------
# Against CAMB
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("c", COSMOS, ids=IDS)
def test_theta_star_and_omega_bc_agree_with_camb(c):
    p = pbufjax.build_params(c["model"], c["pbufjax_overrides"], derived=False)
    d = cosmology.derived(p)
    # measured: 1.7e-6 to 2.1e-6 (0.008 sigma of the compression's theta_*)
    assert float(d["theta_star"]) == pytest.approx(c["theta_star"], rel=1e-5)
    h = p["H0"] / 100.0
    omega_bc = float(cosmology.models.densities(p).omega_cb) * h**2
    assert omega_bc == pytest.approx(c["omega_bc"], abs=1e-10)  # CAMB's ombh2 + omch2


@pytest.mark.parametrize("c", COSMOS, ids=IDS)
def test_chi2_agrees_with_camb(c):
    got = blocks_at(c)
    for name in ("planck_pr4_compressed", "thetastar"):
        want = c[f"chi2_{name}"]
        # theta_* is off by 2e-6 relative (0.008 sigma): Δχ² ≈ 2 x 0.008 sqrt(χ²) (measured 0.5 at χ² = 797)
        assert abs(got[name] - want) < 1e-3 + 0.03 * np.sqrt(want), (name, got[name], want)


def test_chi2_at_the_compression_mean_and_at_the_planck_best_fit():
    by = {c["label"]: c for c in COSMOS}
    at_mean = blocks_at(by["pr4_mean_mnu0.06"])
    assert at_mean["planck_pr4_compressed"] < 1e-3 and at_mean["thetastar"] < 0.05
    best = blocks_at(by["planck2018_bestfit"])
    assert best["planck_pr4_compressed"] == pytest.approx(by["planck2018_bestfit"]["chi2_planck_pr4_compressed"],
                                                          abs=0.01)  # 2.18


# ---------------------------------------------------------------------------
# Independent numpy χ²
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("point", [dict(H0=67.0, Obh2=0.0222, Neff=3.044), dict(H0=73.04, Obh2=0.02218, Neff=2.904),
                                   dict(H0=70.5, Obh2=0.0230, Neff=3.5), dict(H0=60.0, Obh2=0.0205, Neff=2.5)])
def test_parameter_priors_match_numpy(point):
    lik = build_likelihood("lcdm", ["bbn", "bbn_neff", "sh0es"], ["H0", "Obh2", "Neff"], overrides={"mnu": 0.06})
    got = lik.chi2_blocks(jnp.array([point["H0"], point["Obh2"], point["Neff"]]))
    assert float(got["bbn"]) == pytest.approx(numpy_chi2("bbn", [point["Obh2"]]), rel=1e-12, abs=1e-14)
    assert float(got["bbn_neff"]) == pytest.approx(numpy_chi2("bbn_neff", [point["Obh2"], point["Neff"]]),
                                                   rel=1e-12, abs=1e-14)
    assert float(got["sh0es"]) == pytest.approx(numpy_chi2("sh0es", [point["H0"]]), rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("point", [dict(H0=67.4, Om0=0.315, Obh2=0.02237), dict(H0=70.0, Om0=0.29, Obh2=0.0225),
                                   dict(H0=64.0, Om0=0.34, Obh2=0.0219)])
def test_cmb_compression_matches_numpy(point):
    """Massless neutrinos: ω_bc = Ω_m h² exactly; θ* from pbufjax's kernels, the χ² algebra here."""
    over = {**point, "mnu": 0.0, "Neff": 3.044}
    p = pbufjax.build_params("lcdm", over, derived=False)
    theta = float(cosmology.derived(p)["theta_star"])
    omega_m = point["Om0"] * (point["H0"] / 100.0) ** 2
    lik = build_likelihood("lcdm", ["planck_pr4_compressed", "thetastar"], ["H0"], overrides=over)
    got = lik.chi2_blocks(jnp.array([point["H0"]]))
    assert float(got["planck_pr4_compressed"]) == pytest.approx(
        numpy_chi2("planck_pr4_compressed", [theta, point["Obh2"], omega_m]), rel=1e-9)
    assert float(got["thetastar"]) == pytest.approx(numpy_chi2("thetastar", [theta]), rel=1e-9)


def test_omega_bc_excludes_massive_neutrinos():
    c = {x["label"]: x for x in COSMOS}["pr4_mean_mnu0.06"]
    p = pbufjax.build_params("lcdm", c["pbufjax_overrides"], derived=False)
    _, pred = likelihood_cmb(p, D.load_dataset("planck_pr4_compressed"))
    h = c["pbufjax_overrides"]["H0"] / 100.0
    omega_m = c["pbufjax_overrides"]["Om0"] * h**2
    assert float(pred["omega_bc"]) == pytest.approx(omega_m - c["omnuh2"], abs=1e-10)
    # counting the neutrinos in omega_bc would shift the model by about half a standard deviation
    sigma = np.sqrt(table("planck_pr4_compressed")[1][2, 2])
    assert c["omnuh2"] / sigma == pytest.approx(0.53, abs=0.01)


# ---------------------------------------------------------------------------
# jit / vmap / grad, residuals
# ---------------------------------------------------------------------------


def test_jit_vmap_grad():
    lik = build_likelihood("lcdm", list(PRIORS), ["H0", "Om0", "Obh2", "Neff"], overrides={"mnu": 0.06})
    theta = jnp.array([68.0, 0.305, 0.0222, 3.0])
    value, grad = jax.jit(jax.value_and_grad(lik.chi2))(theta)
    assert np.isfinite(float(value)) and np.all(np.isfinite(np.asarray(grad)))
    steps = np.array([1e-3, 1e-6, 1e-7, 1e-4])
    fd = [(float(lik.chi2(theta + s * e)) - float(lik.chi2(theta - s * e))) / (2 * s)
          for s, e in zip(steps, np.eye(4))]
    np.testing.assert_allclose(np.asarray(grad), fd, rtol=1e-5)
    batch = theta + jnp.array([[0.0, 0.0, 0.0, 0.0], [1.0, -0.01, 1e-4, 0.2], [-2.0, 0.02, -3e-4, -0.3]])
    np.testing.assert_allclose(np.asarray(jax.vmap(lik.chi2)(batch)), [float(lik.chi2(t)) for t in batch], rtol=1e-12)
    w, ok = lik.residuals_data(theta)
    assert bool(ok) and float(jnp.sum(w * w)) == pytest.approx(float(value), rel=1e-10)


def test_sh0es_gradient_is_analytic():
    lik = build_likelihood("lcdm", ["sh0es"], ["H0"])
    g = float(jax.grad(lik.chi2)(jnp.array([70.0]))[0])
    assert g == pytest.approx(2 * (70.0 - 73.04) / 1.04**2, rel=1e-12)


def test_prior_blocks_need_no_distances():
    lik = build_likelihood("lcdm", ["bbn", "sh0es"], ["H0", "Obh2"])
    assert all(isinstance(b, PriorBlock) and not b.needs_derived and b.z_dm().size == 0 for b in lik.blocks)
    assert lik.fingerprint() is not None and lik.dataset_types == {"bbn": "prior", "sh0es": "prior"}
    assert get_likelihood_function("lcdm", "bbn").__self__ is PriorBlock


# ---------------------------------------------------------------------------
# Bad observables
# ---------------------------------------------------------------------------


def _dataset(name, kind, observables, n=None):
    n = len(observables) if n is None else n
    return {"name": name, "observations": np.ones(n), "covariance": np.eye(n), "observables": tuple(observables),
            "metadata": {"dataset_type": kind}}


def test_bad_observables_are_refused():
    with pytest.raises(ValueError, match=r"theta_star, omega_bc \(unknown: \['theta'\]\)"):
        CMBBlock(_dataset("x", "cmb", ["theta", "omega_b"]))
    with pytest.raises(ValueError, match=r"omega_b, .*\(unknown: \['Omega_b'\]\)"):
        PriorBlock(_dataset("x", "prior", ["Omega_b"]))
    with pytest.raises(ValueError, match="once"):
        PriorBlock(_dataset("x", "prior", ["H0", "H0"]))
    with pytest.raises(ValueError, match="each of its 2 values"):
        PriorBlock(_dataset("x", "prior", ["H0"], n=2))
    with pytest.raises(ValueError, match="needs 'observables'"):
        PriorBlock({k: v for k, v in _dataset("x", "prior", ["H0"]).items() if k != "observables"})


# ---------------------------------------------------------------------------
# Fits
# ---------------------------------------------------------------------------


def test_compression_alone_recovers_its_mean():
    """ω_b and ω_bc fixed at the mean, θ* fitted by H0: the H0 CAMB finds for θ* = mean (67.238)."""
    c = {x["label"]: x for x in COSMOS}["pr4_mean_mnu0.06"]
    r = optimize_cmb_parameters("lcdm", ["H0", "Om0", "Obh2"], dataset="planck_pr4_compressed",
                                starting_params={"H0": 68.0, "Om0": 0.31, "Obh2": 0.0224, "mnu": 0.06, "Neff": 3.044})
    assert r.convergence_diagnostics["convergence_status"] == "success" and r.cmb_chi2 < 1e-4
    assert r.optimized_params["H0"] == pytest.approx(c["pbufjax_overrides"]["H0"], abs=0.01)
    assert r.optimized_params["Obh2"] == pytest.approx(0.02223208, abs=2e-6)


@pytest.mark.release_files("desi_dr2")
def test_fit_desi_dr2_bbn_thetastar():
    """DESI DR2 BAO + BBN + θ* (ΛCDM, Σmν = 0.06 eV, N_eff = 3.044): converges, the priors are met, and
    Ωm is DESI DR2's BAO-only Ωm = 0.2975 ± 0.0086 within its error (θ* and BBN fix r_d and H0, not Ωm)."""
    r = ParameterOptimizer().optimize_parameters(
        "lcdm", ["desi_dr2", "bbn", "thetastar"], ["H0", "Om0", "Obh2"],
        starting_values={"H0": 67.0, "Om0": 0.31, "Obh2": 0.0222, "mnu": 0.06, "Neff": 3.044})
    assert r.convergence_status == "success"
    best = r.optimized_params
    assert abs(best["Om0"] - 0.2975) < 0.0086
    assert 67.5 < best["H0"] < 69.5  # measured 68.49
    lik = build_likelihood("lcdm", ["desi_dr2", "bbn", "thetastar"], ["H0", "Om0", "Obh2"],
                           overrides={"mnu": 0.06, "Neff": 3.044})
    blocks = lik.chi2_blocks(jnp.array([best["H0"], best["Om0"], best["Obh2"]]))
    assert float(blocks["bbn"]) < 0.05 and float(blocks["thetastar"]) < 0.05
    assert float(blocks["desi_dr2"]) == pytest.approx(r.final_chi2, abs=0.1)  # 10.29


def test_bbn_neff_alone_returns_its_mean():
    r = ParameterOptimizer().optimize_parameters("lcdm", ["bbn_neff"], ["Obh2", "Neff"],
                                                 starting_values={"Obh2": 0.0225, "Neff": 3.2})
    assert r.convergence_status == "success" and r.final_chi2 < 1e-8
    assert r.optimized_params["Obh2"] == pytest.approx(0.02196, abs=1e-7)
    assert r.optimized_params["Neff"] == pytest.approx(2.904, abs=1e-4)


def test_overlaps_are_declared():
    assert D.dataset_overlaps(["sh0es", "pantheonplus_shoes"])
    assert D.dataset_overlaps(["planck_pr4_compressed", "thetastar"])
    assert D.dataset_overlaps(["thetastar", "cmb"]) and D.dataset_overlaps(["bbn", "bbn_neff"])
    assert D.dataset_overlaps(["desi_dr2", "bbn", "thetastar"]) == []
