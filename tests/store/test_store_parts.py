"""The store's parts on their own: file names, atomic writes, schema, records, consistency."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from pbufjax import parameter_store as ps
from pbufjax.store import consistency, files, records, schema
from pbufjax.store.errors import StoreCorruptError


def test_facade_has_no_dead_hooks():
    # Assigning these on the facade would not reach the store's writes: they must not exist there.
    assert not hasattr(ps, "_write_payload") and not hasattr(ps, "_before_replace")
    assert callable(files.write_payload) and callable(files.before_replace)


def test_model_filename_refuses_paths():
    assert files.model_filename("w0wacdm") == "w0wacdm_defaults.json"
    for bad in ("../x", "a/b", ".hidden", "", 3):
        with pytest.raises(ValueError, match="cannot name a store file"):
            files.model_filename(bad)


def test_atomic_write_uses_the_package_json_convention(tmp_path):
    import numpy as np

    path = files.atomic_write_json(tmp_path / "sub" / "x.json", {"a": np.float64(1.5), "b": math.inf, "c": {2, 1}})
    text = path.read_text()
    assert text.endswith("\n") and json.loads(text) == {"a": 1.5, "b": "inf", "c": [1, 2]}
    with pytest.raises(TypeError, match="value.d"):
        files.atomic_write_json(tmp_path / "y.json", {"d": object()})
    assert not (tmp_path / "y.json").exists() and not list(tmp_path.glob(".pbufjax-tmp-*"))


def test_before_replace_hook_interrupts_the_write(tmp_path, monkeypatch):
    target = files.atomic_write_json(tmp_path / "f.json", {"a": 1})

    def boom(tmp, dest):
        assert json.loads(tmp.read_text()) == {"a": 2} and dest == target
        raise KeyboardInterrupt

    monkeypatch.setattr(files, "before_replace", boom)
    with pytest.raises(KeyboardInterrupt):
        files.atomic_write_json(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_read_json_names_the_file(tmp_path):
    assert files.read_json(tmp_path / "missing.json") is None
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(StoreCorruptError, match="bad.json.*not valid JSON"):
        files.read_json(tmp_path / "bad.json")


def _rec(model, values, ts="2025-10-22T14:42:00Z", rid="r"):
    return {
        "record_id": rid,
        "timestamp": ts,
        "model": model,
        "dataset": "cmb",
        "optimized_params": list(values),
        "final_values": values,
        "chi2_improvement": None,
        "convergence_status": "success",
    }


def test_salvage_and_rebuild():
    good1, good2 = _rec("lcdm", {"H0": 68.0}, rid="1"), _rec("lcdm", {"H0": 69.0, "Om0": 0.3}, rid="2")
    kept, dropped = schema.salvage_records({"records": [good1, {"model": "lcdm"}, 5, good2]})
    assert kept == [good1, good2] and dropped == 2
    assert schema.salvage_records("junk") == ([], 0)
    doc = schema.rebuild_model_doc("lcdm", kept, "2026-01-01T00:00:00Z")
    assert doc["parameters"] == {"H0": 69.0, "Om0": 0.3} and doc["last_record_id"] == "2"
    assert doc["provenance"]["H0"]["record_id"] == "2" and doc["provenance"]["Om0"]["record_id"] == "2"
    assert doc["rebuilt_from_history"] is True
    assert schema.validate_model_doc(doc, Path("lcdm_defaults.json"), "lcdm") is doc
    assert schema.rebuild_model_doc("pbuf", kept, "2026-01-01T00:00:00Z") is None


def test_schema_rejects_newer_version(tmp_path):
    doc = schema.history_doc()
    doc["schema_version"] = schema.SCHEMA_VERSION + 1
    with pytest.raises(StoreCorruptError, match="newer than this pbufjax supports"):
        schema.validate_history_doc(doc, tmp_path / "h.json")


def test_check_update_and_make_record():
    values, meta = records.check_update(
        "pbuf", {"k_sat": 1.0, "H0": 68.0}, {"frozen_parameters": ["H0"], "datasets": ["cmb", "bao"]}
    )
    assert values == {"k_sat": 1.0}
    rec = records.make_record("pbuf", values, meta)
    assert schema.record_problem(rec) is None
    assert rec["dataset"] == "cmb,bao" and rec["convergence_status"] == "unknown"
    assert rec["metadata"] == {"frozen_parameters": ["H0"], "datasets": ["cmb", "bao"]}
    with pytest.raises(ValueError, match="every optimized parameter is frozen"):
        records.check_update("lcdm", {"H0": 68.0}, {"frozen_parameters": ["H0"]})
    with pytest.raises(ValueError, match="not ISO 8601"):
        records.make_record("lcdm", {"H0": 68.0}, {"timestamp": "yesterday"})


def test_divergence():
    assert consistency.divergence({"lcdm": 67.0}) == 0.0
    assert consistency.divergence({"a": 66.0, "b": 68.0}) == pytest.approx(2.0 / 67.0)
    report = consistency.cross_model_report({"a": {"H0": 66.0, "Om0": 0.3}, "b": {"H0": 68.0, "Om0": 0.3}})
    assert set(report) == set(consistency.SHARED_PARAMETERS)
    assert report["H0"]["consistent"] is False and report["Om0"]["consistent"] is True
    assert report["Obh2"]["values"] == {}


def test_an_update_keeps_the_files_mode(tmp_path):
    """A store file made private (chmod 600) stays private when the store rewrites it."""
    import os
    import stat

    from pbufjax.store import OptimizedParameterStore

    store = OptimizedParameterStore(tmp_path)
    store.update_model_defaults("lcdm", {"H0": 68.0}, {"source": "test"})
    files = [p for p in tmp_path.iterdir() if p.suffix == ".json"]
    assert files
    for p in files:
        os.chmod(p, 0o600)
    store.update_model_defaults("lcdm", {"H0": 68.5}, {"source": "test"})
    for p in files:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p.name
    assert store.get_model_defaults("lcdm")["H0"] == 68.5
