"""The API reference's examples (shared/spec/api_reference.md), run as written.

Per-dataset results are keyed by the names the caller passed ("cmb", "bao"), as the
reference's ResultsDict shows, with the canonical dataset name recorded in each block.
"""

import logging
import math

import numpy as np
import pytest

from pbufjax import build_params
from pbufjax.engine import run_fit
from pbufjax.integrity import run_integrity_suite, verify_h_ratios
from pbufjax.logging_utils import format_results_table, log_diagnostics, log_run
from pbufjax.parameter import DEFAULTS, OPTIMIZABLE_PARAMETERS
from pbufjax.statistics import chi2_generic, compute_metrics, delta_aic


@pytest.fixture(scope="module")
def standard_fit():
    # "Standard fitting with fixed parameters"
    result = run_fit(
        model="pbuf",
        datasets_list=["cmb", "bao"],
        mode="joint",
        overrides={"H0": 70.0}
    )
    return result


def test_results_dict_is_keyed_by_the_names_passed(standard_fit):
    result = standard_fit
    assert list(result["results"]) == ["cmb", "bao"]
    cmb = result["results"]["cmb"]
    assert set(cmb) >= {"chi2", "predictions", "residuals"}
    assert isinstance(cmb["residuals"], np.ndarray) and cmb["residuals"].shape == (3,)
    assert cmb["dataset"] == "planck2018_priors" and result["results"]["bao"]["dataset"] == "desi_dr2"
    assert result["datasets"] == ["planck2018_priors", "desi_dr2"]
    assert result["dataset_names"] == {"cmb": "planck2018_priors", "bao": "desi_dr2"}
    assert result["params"]["H0"] == 70.0 and result["params"]["model_class"] == "pbuf"
    total = result["results"]["cmb"]["chi2"] + result["results"]["bao"]["chi2"]
    assert result["metrics"]["total_chi2"] == pytest.approx(total)
    for key in ("total_chi2", "aic", "bic", "dof", "p_value", "reduced_chi2"):  # MetricsDict
        assert key in result["metrics"]
    d = result["diagnostics"]
    assert len(d["h_ratios"]) == 4 and d["recomb_check"] in (True, False) and isinstance(d["covariance_status"], str)


def test_report_functions_on_a_result_keyed_by_aliases(standard_fit, caplog):
    result = standard_fit
    table = format_results_table(result)
    lines = table.splitlines()
    assert any(line.split()[:2] == ["cmb", "(planck2018_priors)"] for line in lines)
    assert any(line.split()[:3] == ["bao", "(desi_dr2)", "13"] for line in lines)
    with caplog.at_level(logging.INFO, logger="pbufjax"):
        log_run("pbuf", "joint", result, result["metrics"])
        log_diagnostics(result["params"], result["results"]["cmb"]["predictions"])
        log_diagnostics(result["params"], {k: v["predictions"] for k, v in result["results"].items()})
    assert "pbuf joint fit" in caplog.text and "cmb: " in caplog.text and "bao: " in caplog.text
    assert "predictions bao" in caplog.text and "prediction R = " in caplog.text


def test_individual_mode_is_keyed_by_the_names_passed():
    r = run_fit("lcdm", ["cmb", "bao"], mode="individual", overrides={"H0": 68.0})
    assert list(r["results"]) == list(r["fits"]) == ["cmb", "bao"]
    assert r["results"]["bao"]["dataset"] == "desi_dr2" and r["fits"]["cmb"]["results"]["cmb"]["chi2"] >= 0
    text = format_results_table(r)
    assert "[cmb]" in text and "[bao]" in text and "bao (desi_dr2)" in text


def test_parameter_optimization_for_cmb_fitting():
    # "Parameter optimization for CMB fitting"
    result = run_fit(
        model="pbuf",
        datasets_list=["cmb"],
        optimization_params=["k_sat", "alpha", "H0", "Om0"]
    )
    assert result["optimization"]["convergence_status"] == "success"
    assert result["results"]["cmb"]["chi2"] == pytest.approx(result["metrics"]["total_chi2"])
    assert result["results"]["cmb"]["chi2"] < 0.05  # 4 parameters for 3 numbers: the priors are matched


def test_lcdm_parameter_optimization():
    # "ΛCDM parameter optimization"
    result = run_fit(
        model="lcdm",
        datasets_list=["cmb"],
        optimization_params=["H0", "Om0", "Obh2", "ns"]
    )
    assert result["optimization"]["convergence_status"] == "success"
    assert result["results"]["cmb"]["chi2"] < 1e-6
    # Planck 2018 distance priors: Obh2 = 0.02237 ± 0.00015 (arXiv:1807.06209); ns is not constrained by them
    assert result["params"]["Obh2"] == pytest.approx(0.02237, abs=0.00015)
    assert result["uncertainties"]["Obh2"] == pytest.approx(0.00015, rel=0.05)
    assert "ns" in result["diagnostics"]["unconstrained"] and math.isnan(result["uncertainties"]["ns"])


def test_adding_new_models_example():
    try:
        # 1. Add model parameters to DEFAULTS in parameter.py
        DEFAULTS["new_model"] = {
            "H0": 67.4,
            "Om0": 0.315,
            "new_param1": 1.0,
            "new_param2": 0.5,
            "model_class": "new_model"
        }

        # 2. Model is automatically available through unified interface
        params = build_params("new_model")
        result = run_fit("new_model", ["cmb", "bao"])
        ref = run_fit("lcdm", ["cmb", "bao"], overrides={"H0": 67.4, "Om0": 0.315})
        assert params["new_param1"] == 1.0
        for name in ("cmb", "bao"):
            assert result["results"][name]["chi2"] == pytest.approx(ref["results"][name]["chi2"], rel=1e-12)
    finally:
        from pbufjax.cosmology import models

        DEFAULTS.pop("new_model", None)
        models.MODELS.pop("new_model", None)
        OPTIMIZABLE_PARAMETERS.pop("new_model", None)


def test_statistics_and_integrity_examples(standard_fit):
    cov_matrix = np.diag([0.0046**2, 0.09**2])
    chi2 = chi2_generic(
        predictions={"R": 1.75, "l_A": 301.8},
        observations={"R": 1.74, "l_A": 301.9},
        covariance=cov_matrix
    )
    assert float(chi2) == pytest.approx((0.01 / 0.0046) ** 2 + (0.1 / 0.09) ** 2, rel=1e-12)
    m = compute_metrics(standard_fit["metrics"]["total_chi2"], 0, ["cmb", "bao"])
    assert m["dof"] == 16 and m["aic"] == pytest.approx(standard_fit["metrics"]["aic"])
    assert delta_aic(m["aic"], m["aic"] + 2.0) == -2.0
    params = build_params("lcdm")
    assert verify_h_ratios(params) is True
    assert run_integrity_suite(params, ["cmb", "bao"])["passed"] is True
