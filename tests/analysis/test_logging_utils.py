"""Run logging through the logging module and the results table."""

import logging

import numpy as np
import pytest

from pbufjax.logging_utils import configure_logging, format_results_table, get_logger, log_diagnostics, log_run


def _result():
    return {
        "model": "pbuf",
        "mode": "joint",
        "datasets": ["planck2018_priors", "desi_dr2"],
        "free_params": ["H0", "Om0", "alpha"],
        "params": {"H0": 67.4123, "Om0": 0.31234, "Obh2": 0.02237, "alpha": 5e-4, "Rmax": 1e9, "model_class": "pbuf",
                   "recomb_method": "CAMBFIT", "Omh2": 0.1419, "z_recomb": 1089.9, "z_drag": 1059.9,
                   "r_s_drag": 147.1, "optimization_metadata": {"optimized_params": ["H0"]}},
        "uncertainties": {"H0": 0.4213, "Om0": 0.0061, "alpha": float("nan")},
        "results": {"planck2018_priors": {"chi2": 0.51, "n_data": 3, "predictions": {"R": 1.75, "l_A": 301.5},
                                          "residuals": np.zeros(3)},
                    "desi_dr2": {"chi2": 13.2, "n_data": 13, "predictions": {"values": np.ones(13)},
                                 "residuals": np.zeros(13)}},
        "metrics": {"total_chi2": 13.71, "dof": 13, "reduced_chi2": 13.71 / 13, "p_value": 0.39, "aic": 19.71,
                    "bic": 22.0, "n_data": 16, "n_params": 3},
        "diagnostics": {"unconstrained": ["alpha"], "bounds_reached": [], "warnings": ["alpha is not constrained"]},
        "optimization": {"method": "minimize", "convergence_status": "success", "n_function_evaluations": 17,
                         "optimization_time": 0.0042},
    }


def test_format_results_table_content():
    text = format_results_table(_result())
    assert text.startswith("pbuf fit to planck2018_priors, desi_dr2 (joint) — minimize: success")
    assert "67.41 ± 0.42" in text and "0.3123 ± 0.0061" in text  # σ to two significant digits
    assert "free, unconstrained" in text and "± nan" not in text
    assert "fixed" in text and "derived" in text
    lines = text.splitlines()
    assert any(line.split()[:3] == ["desi_dr2", "13", "13.2"] for line in lines)
    assert any(line.split()[:3] == ["total", "16", "13.71"] for line in lines)
    assert "χ² = 13.71" in text and "DOF = 13" in text and "AIC = 19.71" in text
    assert "warning: alpha is not constrained" in text
    assert "optimization_metadata" not in text


def test_format_results_table_individual_and_errors():
    sub = _result()
    r = {"model": "lcdm", "mode": "individual", "datasets": ["a", "b"], "fits": {"a": sub, "b": sub},
         "metrics": sub["metrics"], "optimization": {"convergence_status": "success", "method": "minimize"}}
    text = format_results_table(r)
    assert "[a]" in text and "[b]" in text
    with pytest.raises(TypeError, match="ResultsDict"):
        format_results_table([1, 2])
    # a bare evaluation without metrics or uncertainties still formats
    assert "H0" in format_results_table({"params": {"H0": 70.0}})


def test_log_run_and_diagnostics_use_logging(caplog, capsys):
    r = _result()
    with caplog.at_level(logging.INFO, logger="pbufjax"):
        log_run("pbuf", "joint", r, r["metrics"])
        log_diagnostics(r["params"], {k: v["predictions"] for k, v in r["results"].items()})
    text = caplog.text
    assert "pbuf joint fit" in text and "13.71" in text and "H0 = 67.41 ± 0.42" in text
    assert "z_recomb = 1089.9" in text and "predictions desi_dr2" in text and "R = 1.75" in text
    assert capsys.readouterr().out == ""  # nothing printed


def test_log_run_silent_below_info(caplog):
    with caplog.at_level(logging.WARNING, logger="pbufjax"):
        log_run("lcdm", "joint", {}, {"total_chi2": 1.0})
    assert caplog.text == ""


def test_configure_logging_is_idempotent():
    import io

    stream = io.StringIO()
    root = configure_logging("INFO", stream=stream)
    configure_logging("INFO", stream=stream)
    try:
        assert sum(getattr(h, "_pbufjax_handler", False) for h in root.handlers) == 1
        get_logger("engine").info("hello %d", 3)
        assert "hello 3" in stream.getvalue()
        with pytest.raises(ValueError, match="unknown logging level"):
            configure_logging("LOUD")
    finally:
        for h in list(root.handlers):
            if getattr(h, "_pbufjax_handler", False):
                root.removeHandler(h)
        root.setLevel(logging.NOTSET)


def test_format_numbers():
    r = _result()
    r["params"]["alpha"] = float("inf")
    r["params"]["Rmax"] = 1e9
    text = format_results_table(r)
    assert "inf" in text and "1.0000e+09" in text
