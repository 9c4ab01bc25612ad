"""Integrity checks: compiled H(z) against an independent closed form, recombination,
covariance matrices, overlapping surveys, the configurable suite."""

import numpy as np
import pytest

from pbufjax import build_params, integrity
from pbufjax.integrity import (
    check_h_ratios,
    dataset_overlaps,
    run_integrity_suite,
    verify_covariance_matrices,
    verify_h_ratios,
    verify_recombination,
)


@pytest.mark.parametrize("model,over", [
    ("lcdm", {"H0": 70.0, "Om0": 0.3, "Ok0": 0.05}),
    ("wcdm", {"w0": -0.8}),
    ("w0wacdm", {"w0": -0.7, "wa": -1.0, "Neff": 2.5}),
    ("pbuf", {"k_sat": 1.4, "alpha": 1e-2, "Rmax": 1e6, "eps0": 2.0, "n_eps": 1.5}),
    ("lcdm", {"mnu": 0.06}),
    ("w0wacdm", {"w0": -0.8, "wa": -0.6, "mnu": 0.3, "num_massive_neutrinos": 3}),
    ("pbuf", {"k_sat": 1.2, "mnu": 1.0}),
])
def test_h_ratios_against_closed_form(model, over):
    p = build_params(model, over)
    d = check_h_ratios(p, redshifts=[0.1, 0.5, 1.0, 2.0, 1100.0])
    assert d["passed"] and d["max_deviation"] < 1e-10  # the kernels agree with numpy to rounding
    assert verify_h_ratios(p) is True
    assert len(d["ratios"]) == 5


def test_pbuf_lcdm_limit_is_checked():
    p = build_params("pbuf", {"k_sat": 0.8})
    d = check_h_ratios(p)
    assert d["pbuf_lcdm_limit"]["passed"] and d["pbuf_lcdm_limit"]["max_deviation"] < 1e-14


def test_h_ratios_detects_a_wrong_kernel(monkeypatch):
    from pbufjax.analysis import integrity as implementation

    p = build_params("lcdm")
    real = implementation.compiled_hubble
    monkeypatch.setattr(implementation, "compiled_hubble", lambda z, q: real(z, q) * (1 + 2e-4))
    assert verify_h_ratios(p) is False
    assert verify_h_ratios(p, tolerance=1e-3) is True  # the tolerance is configurable


def test_h_ratios_bad_redshifts():
    with pytest.raises(ValueError, match="redshifts"):
        verify_h_ratios(build_params("lcdm"), redshifts=[-1.0])


def test_recombination_check():
    p = build_params("lcdm")
    d = integrity.check_recombination(p)
    assert d["passed"] and abs(d["difference"]) < 1.0 and d["method"] == "CAMBFIT"
    assert verify_recombination(p) is True
    assert verify_recombination(p, reference=1095.0) is False
    assert verify_recombination(p, reference=1095.0, tolerance=10.0) is True
    # HS96 is ~0.2% (2 in z) high: outside the default tolerance
    assert verify_recombination(build_params("lcdm", recomb_method="HS96")) is False


def test_covariance_checks(monkeypatch):
    assert verify_covariance_matrices(["cmb", "bao", "bao_ani", "sn"]) is True
    info = integrity.check_covariance_matrices("desi_dr2")["desi_dr2"]
    assert info["n"] == 13 and info["symmetric"] and info["positive_definite"] and info["condition_number"] > 1
    # a threshold above the smallest eigenvalue fails
    assert verify_covariance_matrices(["desi_dr2"], min_eigenvalue=1.0) is False
    from pbufjax import data

    def bad_loader(name, data_dir=None, verify=True):
        return {"observations": np.zeros(2), "covariance": np.array([[1.0, 2.0], [2.0, 1.0]]), "metadata": {}}

    monkeypatch.setattr(data, "load_dataset", bad_loader)
    monkeypatch.setattr(data, "resolve_name", lambda n: n)
    d = integrity.check_covariance_matrices(["fake"])["fake"]
    assert d["positive_definite"] is False and d["passed"] is False
    with pytest.raises(KeyError):
        monkeypatch.undo()
        verify_covariance_matrices(["no_such_dataset"])


def test_overlapping_surveys_warned():
    w = dataset_overlaps(["desi_dr2", "boss_dr12"])
    assert len(w) == 1 and "desi_dr2 + boss_dr12" in w[0]
    assert dataset_overlaps(["bao", "bao_ani"]) == w  # aliases resolve
    assert any("union3 + pantheonplus" in x for x in dataset_overlaps(["sn", "pantheonplus"]))
    assert dataset_overlaps(["cmb", "desi_dr2", "union3"]) == []


def test_run_integrity_suite(caplog):
    p = build_params("pbuf")
    with caplog.at_level("WARNING", logger="pbufjax.integrity"):
        r = run_integrity_suite(p, ["cmb", "desi_dr2", "boss_dr12"])
    assert r["passed"] is True
    assert r["h_ratios"]["passed"] and r["recombination"]["passed"]
    assert set(r["covariance"]) == {"cmb", "desi_dr2", "boss_dr12"}  # keyed by the names passed
    assert r["covariance"]["cmb"]["dataset"] == "planck2018_priors"
    assert r["overlaps"] and r["warnings"] == r["overlaps"]
    assert "overlap" in caplog.text
    assert r["config"]["h_ratios"]["tolerance"] == 1e-4


def test_integrity_config_is_configurable_and_validated():
    p = build_params("lcdm", recomb_method="HS96")
    assert run_integrity_suite(p, ["cmb"])["recombination"]["passed"] is False
    r = run_integrity_suite(p, ["cmb"], {"recombination": {"tolerance": 5.0}, "h_ratios": {"redshifts": [3.0]}})
    assert r["recombination"]["passed"] is True and r["h_ratios"]["redshifts"] == [3.0]
    with pytest.raises(ValueError, match="unknown integrity config section 'hubble'; valid sections"):
        run_integrity_suite(p, ["cmb"], {"hubble": {}})
    with pytest.raises(ValueError, match="unknown key 'tol'"):
        run_integrity_suite(p, ["cmb"], {"h_ratios": {"tol": 1.0}})
    with pytest.raises(TypeError):
        run_integrity_suite(p, ["cmb"], [1, 2])
