"""The transcribed prior tables (data/*.json, shipped as ``pbufjax.tables``) and their datasets.

The published numbers are written out here once more, so a transcription error in a table
fails a test; the table checks refuse bad tables naming the table and the key.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pbufjax import data as D
from pbufjax.data import prior_tables as P

TABLES = Path(__file__).resolve().parents[2] / "data"
PRIORS = {"planck_pr4_compressed": ("cmb", 3), "thetastar": ("cmb", 1), "bbn": ("prior", 1),
          "bbn_neff": ("prior", 2), "sh0es": ("prior", 1)}


def raw(name: str) -> dict:
    return json.loads((TABLES / f"{name}.json").read_text())


def test_planck_pr4_compressed_holds_desi_dr2_eqs_35_36():
    t = raw("planck_pr4_compressed")
    assert t["observables"] == ["theta_star", "omega_b", "omega_bc"] and "2503.14738" in t["citation"]
    assert t["mean"] == [0.01041027, 0.02223208, 0.14207901]
    assert t["covariance"] == [[6.62099420e-12, 1.24442058e-10, -1.19287532e-09],
                               [1.24442058e-10, 2.13441666e-08, -9.40008323e-08],
                               [-1.19287532e-09, -9.40008323e-08, 1.48841714e-06]]
    # the full-precision values round to the ones printed in Eqs. (35) and (36) (covariance x 1e9)
    np.testing.assert_array_equal(np.round(t["mean"], 5), [0.01041, 0.02223, 0.14208])
    printed = [[0.006621, 0.12444, -1.1929], [0.12444, 21.344, -94.001], [-1.1929, -94.001, 1488.4]]
    c9 = np.array(t["covariance"]) * 1e9
    for i in range(3):
        for j in range(3):
            assert float(f"{c9[i, j]:.5g}") == pytest.approx(printed[i][j], rel=1e-12), (i, j)


def test_parameter_priors_hold_the_published_numbers():
    t = raw("bbn")
    assert (t["observables"], t["mean"], t["sigma"]) == (["omega_b"], [0.02218], [0.00055])
    t = raw("sh0es")
    assert (t["observables"], t["mean"], t["sigma"]) == (["H0"], [73.04], [1.04])
    t = raw("thetastar")  # 100 theta_* = 1.04110 +/- 0.00053, stored as theta_*
    assert t["observables"] == ["theta_star"]
    assert t["mean"][0] * 100 == pytest.approx(1.04110, abs=1e-12) and t["sigma"][0] * 100 == pytest.approx(0.00053)
    t = raw("bbn_neff")  # marginals of arXiv:2401.15054: 0.02196 +/- 0.00063, Delta N_eff = -0.14 +/- 0.21
    cov = np.array(t["covariance"])
    sig = np.sqrt(np.diag(cov))
    assert t["observables"] == ["omega_b", "Neff"] and t["mean"][0] == 0.02196
    assert t["mean"][1] == pytest.approx(3.044 - 0.14, abs=1e-12)
    assert round(sig[0], 5) == 0.00063 and round(sig[1], 2) == 0.21
    assert cov[0, 1] / (sig[0] * sig[1]) == pytest.approx(0.54, abs=0.005)
    for name in PRIORS:
        t = raw(name)
        assert t["citation"] and t["arxiv"] and set(t["definitions"]) == set(t["observables"])


@pytest.mark.parametrize("name", sorted(PRIORS))
def test_loaded_datasets(name):
    kind, n = PRIORS[name]
    d = D.load_dataset(name)
    t = raw(name)
    meta = d["metadata"]
    assert meta["dataset_type"] == kind == D.get_dataset_spec(name).kind and meta["n_points"] == n
    assert list(d["observables"]) == t["observables"] == d["labels"]
    np.testing.assert_array_equal(d["observations"], t["mean"])
    want = np.array(t["covariance"]) if "covariance" in t else np.diag(np.square(t["sigma"]))
    np.testing.assert_allclose(d["covariance"], want, rtol=1e-15, atol=0)
    assert meta["files"] == {f"{name}.json": f"pbufjax.tables/{name}.json"} and meta["arxiv"] == t["arxiv"]
    assert (meta["redshift_range"] is None) == (kind == "prior")
    assert D.validate_dataset(d, kind) and D.validate_dataset(d, name)
    assert not d["observations"].flags.writeable
    info = D.get_dataset_info(name)
    assert info["available"] and info["missing"] == [] and "fetch_command" not in info
    assert D.get_dataset_spec(name).files() == []


@pytest.mark.parametrize("bad,match", [
    ({"observables": ["H0"], "mean": [1.0], "sigma": [1.0]}, "needs the keys"),
    ({"observables": ["H0"], "mean": [1.0], "definitions": {}}, "either covariance or sigma"),
    ({"observables": ["H0"], "mean": [1.0], "sigma": [1.0], "covariance": [[1.0]], "definitions": {}},
     "either covariance or sigma"),
    ({"observables": ["H0", "Neff"], "mean": [1.0], "sigma": [1.0, 2.0], "definitions": {}}, r"mean has shape \(1,\)"),
    ({"observables": ["H0", "Neff"], "mean": [1.0, 2.0], "covariance": [[1.0, 0.0]], "definitions": {}},
     r"covariance has shape \(1, 2\), expected \(2, 2\)"),
    ({"observables": ["H0", "Neff"], "mean": [1.0, 2.0], "sigma": [1.0, 2.0], "correlation": [[1.0]],
      "definitions": {}}, "correlation has shape"),
    (["not", "a", "dict"], "needs the keys"),
])
def test_bad_tables_are_refused(bad, match):
    with pytest.raises(D.DataFormatError, match=f"mytable.json: .*{match}"):
        P.check_prior_table(bad, "mytable.json")


def test_non_positive_definite_and_nan_tables_fail_validation(monkeypatch):
    good = P.prior_table("bbn_neff.json")
    D.clear_dataset_cache()
    try:
        monkeypatch.setattr(P, "prior_table", lambda f: {**good, "covariance": [[1.0, 2.0], [2.0, 1.0]]})
        with pytest.raises(D.DatasetValidationError, match="'bbn_neff'.*not positive definite"):
            D.load_dataset("bbn_neff")
        monkeypatch.setattr(P, "prior_table", lambda f: {**good, "mean": [float("nan"), 2.9]})
        with pytest.raises(D.DatasetValidationError, match="'bbn_neff'.*non-finite"):
            D.load_dataset("bbn_neff")
    finally:
        monkeypatch.undo()
        D.clear_dataset_cache()
    assert D.load_dataset("bbn_neff")["observations"][1] == 2.904


def test_cmb_observable_names_are_validated():
    d = dict(D.load_dataset("planck_pr4_compressed"))
    d["observables"] = ("theta", "omega_b", "omega_bc")
    with pytest.raises(D.DatasetValidationError, match=r"unknown CMB observable\(s\) \['theta'\].*theta_star"):
        D.validate_dataset(d, "cmb")
    assert D.CMB_OBSERVABLES[:4] == ("R", "l_A", "omega_b", "n_s")  # the Planck 2018 priors keep their order
    assert D.load_dataset("planck2018_priors_ns")["observables"] == ("R", "l_A", "omega_b", "n_s")
    assert "prior" in D.DATASET_TYPES
