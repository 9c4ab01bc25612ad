"""Issue 12: a store that cannot be poisoned.

* A parameter that ended a fit at a bound or unconstrained is recorded in the history (flagged,
  with the reason) but never becomes a stored default, a warm start or a rebuilt default.
* A stored value that is valid JSON but outside its parameter's valid range (or not a finite
  number) is ignored by every read with one warning naming the file, the parameter, the value
  and the range; ``repair`` reports it and moves it to the file's quarantine section (kept).
"""

from __future__ import annotations

import json
import logging
import os
import stat

import pytest

from pbufjax.parameter import get_defaults
from pbufjax.store import OptimizedParameterStore, files, schema
from pbufjax.store.errors import StoreError

OK = {"convergence_status": "success", "dataset": "sn", "chi2_improvement": 2.4}
STORE_LOGGER = "pbufjax.store"


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith(STORE_LOGGER)]


# ---------------------------------------------------------------------------
# flagged parameters: in the history, never a default


def test_parameter_at_a_bound_is_recorded_but_not_stored(tmp_path):
    """fit-sn drives H0 to its bound 150: the record keeps it, the defaults do not."""
    store = OptimizedParameterStore(tmp_path)
    rec = store.update_model_defaults(
        "lcdm", {"H0": 150.0, "Om0": 0.356}, {**OK, "bounds_reached": ["H0"], "unconstrained": ["H0"]})
    assert rec["final_values"] == {"H0": 150.0, "Om0": 0.356}
    assert rec["optimized_params"] == ["H0", "Om0"]
    assert rec["flagged"] == {"H0": "at bound, unconstrained"}
    assert store.get_stored_parameters("lcdm") == {"Om0": 0.356}
    assert store.get_model_defaults("lcdm")["H0"] == get_defaults("lcdm")["H0"]
    hist = store.get_optimization_history("lcdm")
    assert hist[-1]["flagged"] == {"H0": "at bound, unconstrained"} and hist[-1]["final_values"]["H0"] == 150.0
    assert store.get_warm_start("lcdm") == {"Om0": 0.356}, "a flagged value is not a warm start"
    doc = json.loads(store.model_path("lcdm").read_text())
    assert "H0" not in doc["provenance"]


@pytest.mark.parametrize("meta, reason", [
    ({"unconstrained": ["k_sat", "alpha"]}, "unconstrained"),
    ({"bounds_reached": ["k_sat", "alpha"]}, "at bound"),
    ({"parameter_bounds_info": {"bounds_reached": ["k_sat", "alpha"]}}, "at bound"),  # a CMBOptimizationResult
])
def test_flags_from_every_result_shape(tmp_path, meta, reason):
    store = OptimizedParameterStore(tmp_path)
    rec = store.update_model_defaults("pbuf", {"k_sat": 4.9, "alpha": 0.01, "H0": 68.0}, {**OK, **meta})
    assert rec["flagged"] == {"k_sat": reason, "alpha": reason}
    assert store.get_stored_parameters("pbuf") == {"H0": 68.0}


def test_every_parameter_flagged_writes_only_the_history(tmp_path):
    store = OptimizedParameterStore(tmp_path)
    store.update_model_defaults("pbuf", {"k_sat": 0.95}, OK)
    before = store.model_path("pbuf").read_bytes()
    rec = store.update_model_defaults("pbuf", {"k_sat": 2.0, "alpha": 0.01}, {**OK, "unconstrained": ["k_sat", "alpha"]})
    assert rec["flagged"] == {"k_sat": "unconstrained", "alpha": "unconstrained"}
    assert store.model_path("pbuf").read_bytes() == before, "an earlier good value is kept"
    assert store.get_stored_parameters("pbuf") == {"k_sat": 0.95}
    assert len(store.get_optimization_history("pbuf")) == 2
    # a model with no file yet: the record is kept, no defaults file is created
    store.update_model_defaults("wcdm", {"w0": -0.5}, {**OK, "bounds_reached": ["w0"]})
    assert not store.model_path("wcdm").exists()
    assert store.get_optimization_history("wcdm")[-1]["final_values"] == {"w0": -0.5}


def test_repair_does_not_rebuild_flagged_values(tmp_path):
    store = OptimizedParameterStore(tmp_path)
    store.update_model_defaults("lcdm", {"H0": 68.0}, OK)
    store.update_model_defaults("lcdm", {"H0": 150.0, "Om0": 0.35}, {**OK, "bounds_reached": ["H0"]})
    store.model_path("lcdm").write_bytes(b"garbage")
    store.repair()
    assert store.get_stored_parameters("lcdm") == {"H0": 68.0, "Om0": 0.35}


@pytest.mark.parametrize("meta, exc", [
    ({"bounds_reached": "H0"}, TypeError),
    ({"unconstrained": [1]}, TypeError),
    ({"parameter_bounds_info": {"bounds_reached": 5}}, TypeError),
])
def test_malformed_flags_are_refused(tmp_path, meta, exc):
    store = OptimizedParameterStore(tmp_path)
    with pytest.raises(exc, match="bounds_reached|unconstrained"):
        store.update_model_defaults("lcdm", {"H0": 68.0}, {**OK, **meta})
    assert not tmp_path.joinpath("optimization_history.json").exists()


def test_a_record_with_malformed_flags_is_invalid():
    rec = {"timestamp": "2025-01-01T00:00:00Z", "model": "lcdm", "dataset": "sn", "optimized_params": ["H0"],
           "final_values": {"H0": 150.0}, "chi2_improvement": None, "convergence_status": "success"}
    assert schema.record_problem(rec) is None
    assert schema.record_problem({**rec, "flagged": ["H0"]}) is not None
    assert schema.record_problem({**rec, "flagged": {"H0": 1}}) is not None


# ---------------------------------------------------------------------------
# values outside their valid range


def _write_model_file(store: OptimizedParameterStore, model: str, parameters: dict) -> None:
    store.store_dir.mkdir(parents=True, exist_ok=True)
    doc = schema.model_doc(model, "2025-01-01T00:00:00Z")
    doc["parameters"] = parameters
    doc["provenance"] = {k: {"record_id": "r0", "timestamp": "2025-01-01T00:00:00Z", "dataset": "cmb"}
                         for k in parameters}
    store.model_path(model).write_text(json.dumps(doc))


BAD_VALUES = [(-70, "-70"), (1e300, "1e+300"), ("fast", "'fast'"), (None, "None"), (True, "True"), ([70], "[70]")]


@pytest.mark.parametrize("value, shown", BAD_VALUES)
def test_out_of_range_value_is_ignored_with_one_warning(tmp_path, caplog, value, shown):
    store = OptimizedParameterStore(tmp_path)
    _write_model_file(store, "lcdm", {"H0": value, "Om0": 0.31})
    caplog.set_level(logging.WARNING)
    assert store.get_stored_parameters("lcdm") == {"Om0": 0.31}
    params = store.get_model_defaults("lcdm")
    assert params["H0"] == get_defaults("lcdm")["H0"] and params["Om0"] == 0.31
    assert params["optimization_metadata"]["optimized_params"] == ["Om0"]
    store.get_stored_parameters("lcdm")
    warned = _warnings(caplog)
    assert len(warned) == 1, warned
    text = warned[0]
    assert str(store.model_path("lcdm")) in text and "H0" in text and shown in text and "[10, 200]" in text
    assert "store repair" in text


def test_out_of_range_value_does_not_block_an_update(tmp_path):
    """Before: every update failed with 'H0 must be > 0' without naming the store."""
    store = OptimizedParameterStore(tmp_path)
    _write_model_file(store, "lcdm", {"H0": -70})
    store.update_model_defaults("lcdm", {"Om0": 0.3}, OK)
    assert store.get_stored_parameters("lcdm") == {"Om0": 0.3}
    doc = json.loads(store.model_path("lcdm").read_text())
    assert doc["quarantined_parameters"]["H0"][0]["value"] == -70, "the bad value is kept, not lost"


def test_overwriting_an_invalid_value_keeps_it_in_quarantine(tmp_path):
    store = OptimizedParameterStore(tmp_path)
    _write_model_file(store, "lcdm", {"H0": 1e300})
    store.update_model_defaults("lcdm", {"H0": 68.0}, OK)
    doc = json.loads(store.model_path("lcdm").read_text())
    assert doc["parameters"] == {"H0": 68.0}
    assert [e["value"] for e in doc["quarantined_parameters"]["H0"]] == [1e300]


def test_check_and_repair_quarantine_invalid_values(tmp_path):
    """Before: ``repair`` said 'healthy' and the value stayed in the defaults."""
    store = OptimizedParameterStore(tmp_path)
    _write_model_file(store, "lcdm", {"H0": -70, "Om0": 0.31})
    _write_model_file(store, "pbuf", {"k_sat": "fast", "alpha": 1e300, "H0": 68.0})
    problems = store.check()
    assert len(problems) == 3 and all(isinstance(p, StoreError) for p in problems)
    assert any("H0" in str(p) and "lcdm_defaults.json" in str(p) for p in problems)
    report = store.repair()
    moved = {(q["model"], q["parameter"]): q for q in report["quarantined"]}
    assert set(moved) == {("lcdm", "H0"), ("pbuf", "k_sat"), ("pbuf", "alpha")}
    assert moved[("lcdm", "H0")]["value"] == -70 and "[10, 200]" in moved[("lcdm", "H0")]["reason"]
    assert report["backups"] == [], "the files themselves are fine: nothing is moved aside"
    lcdm = json.loads(store.model_path("lcdm").read_text())
    assert lcdm["parameters"] == {"Om0": 0.31}
    entry = lcdm["quarantined_parameters"]["H0"][0]
    assert entry["value"] == -70 and "valid range" in entry["reason"] and entry["quarantined_at"]
    assert entry["provenance"]["record_id"] == "r0"
    pbuf = json.loads(store.model_path("pbuf").read_text())
    assert pbuf["parameters"] == {"H0": 68.0}
    assert pbuf["quarantined_parameters"]["k_sat"][0]["value"] == "fast"
    assert store.check() == []
    assert store.repair() == {"backups": [], "rebuilt": [], "dropped_records": 0, "quarantined": []}


def test_repair_writes_atomically_and_keeps_the_mode(tmp_path, monkeypatch):
    store = OptimizedParameterStore(tmp_path)
    _write_model_file(store, "lcdm", {"H0": -70})
    path = store.model_path("lcdm")
    os.chmod(path, 0o600)
    before = path.read_bytes()

    def crash(tmp, target):
        raise OSError("disk full")

    monkeypatch.setattr(files, "before_replace", crash)
    with pytest.raises(OSError):
        store.repair()
    assert path.read_bytes() == before, "an interrupted repair leaves the file as it was"
    monkeypatch.undo()
    store.repair()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_warm_start_skips_invalid_history_values(tmp_path, caplog):
    store = OptimizedParameterStore(tmp_path)
    store.update_model_defaults("lcdm", {"H0": 69.0, "Om0": 0.3}, OK)
    hist = json.loads(store.history_path.read_text())
    hist["records"][0]["final_values"]["H0"] = -70
    store.history_path.write_text(json.dumps(hist))
    caplog.set_level(logging.WARNING)
    assert store.get_warm_start("lcdm") == {"Om0": 0.3}
    store.get_warm_start("lcdm")
    warned = _warnings(caplog)
    assert len(warned) == 1 and str(store.history_path) in warned[0] and "-70" in warned[0]


def test_rebuild_skips_invalid_history_values(tmp_path):
    store = OptimizedParameterStore(tmp_path)
    store.update_model_defaults("lcdm", {"H0": 69.0, "Om0": 0.3}, OK)
    hist = json.loads(store.history_path.read_text())
    hist["records"][0]["final_values"]["H0"] = 1e300
    store.history_path.write_text(json.dumps(hist))
    store.model_path("lcdm").write_bytes(b"{")
    store.repair()
    assert store.get_stored_parameters("lcdm") == {"Om0": 0.3}


def test_export_summary_separates_ignored_values(tmp_path):
    store = OptimizedParameterStore(tmp_path / "s")
    _write_model_file(store, "lcdm", {"H0": 1e300, "Om0": 0.31})
    models = store.summary()["models"]
    assert models["lcdm"]["stored_parameters"] == {"Om0": 0.31}
    assert models["lcdm"]["ignored_parameters"] == {"H0": 1e300}
    assert store.cross_model_report(["lcdm", "pbuf"])["H0"]["values"]["lcdm"] == get_defaults("lcdm")["H0"]
