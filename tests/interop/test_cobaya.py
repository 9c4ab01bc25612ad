"""pbufjax's likelihoods inside Cobaya: the identity ln L = -χ²/2, Cobaya's minimizer reaching
run_fit's minimum, a short Cobaya MCMC run, and the errors on bad input."""
import math

import numpy as np
import pytest

pytest.importorskip("cobaya")

from cobaya import run
from cobaya.model import get_model

from pbufjax.analysis.engine import run_fit
from pbufjax.interop.cobaya import PbufjaxLikelihood, cobaya_params, supported_params

pytestmark = pytest.mark.release_files("desi_dr2", shipped=True)

FIXED = {"Obh2": 0.02237}
#: the class by its path, as a yaml input names it
PATH = "pbufjax.interop.cobaya.PbufjaxLikelihood"


def info(model="lcdm", datasets=("desi_dr2",), free=("H0", "Om0"), fixed=FIXED, **extra):
    like = {"model": model, "datasets": list(datasets), "fixed": dict(fixed)}
    return {"likelihood": {"pbufjax": {"external": PbufjaxLikelihood, **like}},
            "params": cobaya_params(model, list(free), list(datasets)), **extra}


@pytest.fixture(scope="module")
def best():
    return run_fit("lcdm", ["desi_dr2"], overrides=FIXED, optimization_params=["H0", "Om0"])


@pytest.mark.parametrize("model, free, point", [
    ("lcdm", ("H0", "Om0"), {"H0": 68.0, "Om0": 0.30}),
    ("w0wacdm", ("H0", "Om0", "w0", "wa"), {"H0": 66.0, "Om0": 0.32, "w0": -0.8, "wa": -0.6}),
])
def test_loglike_is_minus_half_run_fit_chi2(model, free, point):
    m = get_model(info(model, free=free))
    loglike = float(m.loglikes(point)[0][0])
    chi2 = run_fit(model, ["desi_dr2"], overrides={**FIXED, **point})["metrics"]["total_chi2"]
    assert loglike == pytest.approx(-0.5 * chi2, rel=1e-12)


@pytest.mark.parametrize("dataset, point", [
    ("desi_dr2", {"Om0": 0.30, "hrd": 100.5}),
    pytest.param("pantheonplus_shoes", {"H0": 72.0, "Om0": 0.33, "M_B": -19.30},
                 marks=pytest.mark.release_files("pantheonplus_shoes")),
])
def test_nuisance_parameter_is_sampled_by_its_pbufjax_name(dataset, point):
    m = get_model(info(datasets=(dataset,), free=tuple(point), fixed={}))
    loglike = float(m.loglikes(point)[0][0])
    chi2 = run_fit("lcdm", [dataset], overrides=point)["metrics"]["total_chi2"]
    assert loglike == pytest.approx(-0.5 * chi2, rel=1e-12)


def test_value_fixed_in_cobaya_params_block_equals_fixed_option():
    d = info(fixed={})
    d["params"]["Obh2"] = 0.0230  # Cobaya's own fixed parameter: handed to the likelihood at every call
    point = {"H0": 68.0, "Om0": 0.30}
    a = float(get_model(d).loglikes(point)[0][0])
    b = float(get_model(info(fixed={"Obh2": 0.0230})).loglikes(point)[0][0])
    assert a == pytest.approx(b, rel=1e-12)
    assert a != pytest.approx(float(get_model(info()).loglikes(point)[0][0]), rel=1e-6)


def test_class_path_derived_parameters_and_non_physical_points():
    d = info()
    d["likelihood"] = {PATH: d["likelihood"]["pbufjax"] | {"external": None}}
    del d["likelihood"][PATH]["external"]
    d["params"]["h_rd"] = {"derived": True}
    m = get_model(d)
    like = m.likelihood[PATH]
    assert like.problem.free_params == ("H0", "Om0")
    lp = m.logposterior({"H0": 68.0, "Om0": 0.30})
    assert math.isfinite(lp.loglike)
    assert lp.derived[0] == pytest.approx(0.68 * like.problem.report([68.0, 0.30], hessian=False)["r_drag"], rel=1e-10)
    assert like.logp(H0=68.0, Om0=-0.2) == -math.inf  # outside the physical range, inside no prior


def test_minimize_reaches_run_fit_minimum(best):
    _, sampler = run(info(sampler={"minimize": {"ignore_prior": True, "seed": 1}}), stop_at_error=True)
    mn = sampler.products()["minimum"]
    assert float(mn["chi2"]) == pytest.approx(best["metrics"]["total_chi2"], abs=1e-3)
    assert float(mn["H0"]) == pytest.approx(best["params"]["H0"], abs=0.05)
    assert float(mn["Om0"]) == pytest.approx(best["params"]["Om0"], abs=5e-4)


@pytest.mark.filterwarnings("ignore:Setting a value on a DataFrame")  # inside Cobaya, with pandas >= 3
def test_short_mcmc_runs(best):
    cov = np.asarray(best["covariance"], np.float64)
    mcmc = {"max_samples": 400, "burn_in": 0, "learn_proposal": False, "covmat": cov.tolist(),
            "covmat_params": ["H0", "Om0"], "seed": 3}
    _, sampler = run(info(sampler={"mcmc": mcmc}), stop_at_error=True)
    chain = sampler.products()["sample"]
    h0 = np.asarray(chain["H0"], np.float64)
    assert len(h0) > 20 and np.all(np.isfinite(h0))
    # a few hundred correlated steps: the mean sits within a few sigma of the best fit
    assert abs(np.average(h0, weights=chain["weight"]) - best["params"]["H0"]) < 4 * math.sqrt(cov[0, 0])
    assert np.all(np.isfinite(np.asarray(chain["chi2"], np.float64)))


def test_unknown_dataset_names_it_and_lists_valid_ones():
    with pytest.raises(KeyError) as err:
        get_model(info(datasets=("desi_dr9",)))
    msg = str(err.value)
    assert "desi_dr9" in msg and "desi_dr2" in msg and "union3" in msg


def test_other_bad_input():
    with pytest.raises(ValueError, match="both sampled"):
        get_model(info(fixed={"H0": 70.0}))
    with pytest.raises(ValueError, match="datasets"):
        get_model(info(datasets=()) | {"params": cobaya_params("lcdm", ["H0"])})
    with pytest.raises(ValueError, match="lcdmx"):
        get_model(info() | {"likelihood": {"pbufjax": {"external": PbufjaxLikelihood, "model": "lcdmx",
                                                        "datasets": ["desi_dr2"]}}})
    with pytest.raises(ValueError, match="k_sat"):
        cobaya_params("lcdm", ["k_sat"])
    with pytest.raises(TypeError, match="fixed"):
        PbufjaxLikelihood({"model": "lcdm", "datasets": ["desi_dr2"], "fixed": [1.0]})
    assert "M_B" in supported_params("lcdm", ["pantheonplus_shoes"])
