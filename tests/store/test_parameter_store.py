"""Tests of the optimized-parameter store: API, validation, corruption, recovery, concurrency, crashes."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pbufjax import parameter_store as ps
from pbufjax.parameter import get_defaults
from pbufjax.parameter_store import (
    OptimizedParameterStore,
    StoreCorruptError,
    StoreLockTimeout,
    effective_optimize_list,
    resolve_store_dir,
)
from pbufjax.store import files as store_files

OK = {"convergence_status": "success", "dataset": "cmb", "chi2_improvement": 1.5}


def _iso(delta_hours: float) -> str:
    t = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=delta_hours)
    return t.isoformat().replace("+00:00", "Z")


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != ps.LOCK_FILENAME}


# ---------------------------------------------------------------------------
# basic API


def test_store_dir_resolution(tmp_path, monkeypatch):
    monkeypatch.delenv(ps.STORE_DIR_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert resolve_store_dir() == tmp_path / "optimization_results"
    monkeypatch.setenv(ps.STORE_DIR_ENV, str(tmp_path / "env_store"))
    assert OptimizedParameterStore().store_dir == tmp_path / "env_store"
    assert OptimizedParameterStore(tmp_path / "explicit").store_dir == tmp_path / "explicit"


def test_defaults_without_store_are_model_defaults(tmp_path):
    store = OptimizedParameterStore(tmp_path / "s")
    got = store.get_model_defaults("pbuf")
    meta = got.pop("optimization_metadata")
    assert got == get_defaults("pbuf")
    assert meta["optimized_params"] == [] and meta["source"] == "model defaults"
    assert store.get_optimization_history("pbuf") == []
    assert not (tmp_path / "s").exists(), "reading must not create the store"


def test_update_then_defaults_and_history(tmp_path):
    store = OptimizedParameterStore(tmp_path)
    rec = store.update_model_defaults(
        "pbuf",
        {"k_sat": 0.97, "alpha": 4e-4},
        {
            "timestamp": "2025-10-22T14:42:00Z",
            "chi2_improvement": 5.67,
            "convergence_status": "success",
            "dataset": "cmb",
        },
    )
    p = store.get_model_defaults("pbuf")
    assert p["k_sat"] == 0.97 and p["alpha"] == 4e-4
    assert p["H0"] == get_defaults("pbuf")["H0"]
    assert sorted(p["optimization_metadata"]["optimized_params"]) == ["alpha", "k_sat"]
    hist = store.get_optimization_history("pbuf")
    assert len(hist) == 1 and hist[0]["record_id"] == rec["record_id"]
    for key in ps.RECORD_FIELDS:  # the OptimizationRecord fields
        assert key in hist[0]
    assert hist[0]["timestamp"] == "2025-10-22T14:42:00Z"
    assert hist[0]["final_values"] == {"k_sat": 0.97, "alpha": 4e-4}
    assert hist[0]["optimized_params"] == ["k_sat", "alpha"]
    assert hist[0]["chi2_improvement"] == 5.67 and hist[0]["dataset"] == "cmb"
    assert store.get_optimization_history("lcdm") == []
    # later update of one parameter keeps the others
    store.update_model_defaults("pbuf", {"k_sat": 0.95}, OK)
    assert store.get_stored_parameters("pbuf") == {"k_sat": 0.95, "alpha": 4e-4}
    assert len(store.get_optimization_history()) == 2
    # files are versioned, readable JSON
    doc = json.loads((tmp_path / "pbuf_defaults.json").read_text())
    assert doc["schema_version"] == ps.SCHEMA_VERSION and doc["model"] == "pbuf"
    assert json.loads((tmp_path / ps.HISTORY_FILENAME).read_text())["schema_version"] == ps.SCHEMA_VERSION
    # defaults feed build_params as overrides
    from pbufjax.parameter import build_params

    built = build_params("pbuf", overrides=store.get_model_defaults("pbuf"), derived=False)
    assert built["k_sat"] == 0.95


def test_numpy_and_jax_values_and_metadata_are_stored(tmp_path):
    import jax.numpy as jnp
    import numpy as np

    store = OptimizedParameterStore(tmp_path)
    store.update_model_defaults(
        "lcdm",
        {"H0": np.float64(68.5), "Om0": jnp.asarray(0.31)},
        {
            "convergence_status": "success",
            "datasets": ["cmb", "bao"],
            "cov": np.eye(2),
            "chi2_improvement": np.float32(2),
        },
    )
    rec = store.get_optimization_history("lcdm")[0]
    assert rec["final_values"] == {"H0": 68.5, "Om0": pytest.approx(0.31)}
    assert rec["dataset"] == "cmb,bao"
    assert rec["metadata"]["cov"] == [[1.0, 0.0], [0.0, 1.0]]


def test_dry_run_writes_nothing(tmp_path):
    store = OptimizedParameterStore(tmp_path / "s")
    rec = store.update_model_defaults("lcdm", {"H0": 70.0}, OK, dry_run=True)
    assert rec["final_values"] == {"H0": 70.0}
    assert not (tmp_path / "s").exists()
    assert store.get_model_defaults("lcdm")["H0"] == get_defaults("lcdm")["H0"]


def test_frozen_parameters_are_not_stored(tmp_path):
    store = OptimizedParameterStore(tmp_path)
    store.update_model_defaults("lcdm", {"H0": 70.0, "Om0": 0.3}, {**OK, "frozen_parameters": ["Om0"]})
    assert store.get_stored_parameters("lcdm") == {"H0": 70.0}
    with pytest.raises(ValueError, match="frozen"):
        store.update_model_defaults("lcdm", {"Om0": 0.3}, {**OK, "frozen_parameters": ["Om0"]})
    assert effective_optimize_list(["H0", "Om0", "H0", "Obh2"], ["Om0"]) == ["H0", "Obh2"]


@pytest.mark.parametrize(
    "model, values, meta, exc, match",
    [
        ("nomodel", {"H0": 70.0}, OK, ValueError, "valid models"),
        ("lcdm", {"k_sat": 1.0}, OK, ValueError, "valid parameters"),
        ("lcdm", {"H0": float("nan")}, OK, ValueError, "finite"),
        ("lcdm", {"H0": "70"}, OK, TypeError, "real number"),
        ("lcdm", {"H0": True}, OK, TypeError, "real number"),
        ("lcdm", {}, OK, ValueError, "non-empty"),
        ("lcdm", {"Obh2": 0.5}, OK, ValueError, "Obh2"),  # non-physical: above Om0 h^2
        ("lcdm", {"H0": 70.0}, {"timestamp": "yesterday"}, ValueError, "ISO 8601"),
        ("lcdm", {"H0": 70.0}, {"convergence_status": 3}, TypeError, "convergence_status"),
        ("lcdm", {"H0": 70.0}, {"extra": object()}, TypeError, "extra"),
        ("lcdm", {"H0": 70.0}, "meta", TypeError, "mapping"),
    ],
)
def test_bad_updates_are_rejected_and_write_nothing(tmp_path, model, values, meta, exc, match):
    store = OptimizedParameterStore(tmp_path)
    store.update_model_defaults("lcdm", {"H0": 68.0}, OK)
    before = _snapshot(tmp_path)
    with pytest.raises(exc, match=match):
        store.update_model_defaults(model, values, meta)
    assert _snapshot(tmp_path) == before


# ---------------------------------------------------------------------------
# corruption and repair


@pytest.mark.parametrize(
    "content, match",
    [
        (b'{"schema_version": 1, "kind": "pbufjax.optimized_parameters", "model": "lcdm", "param', "not valid JSON"),
        (b"\xff\xfe garbage", "not UTF-8"),
        (b"[1, 2, 3]", "JSON object"),
        (
            b'{"kind": "pbufjax.optimized_parameters", "model": "lcdm", "updated": "x", "parameters": {}}',
            "schema_version",
        ),
        (b'{"schema_version": 99, "model": "lcdm", "updated": "x", "parameters": {}}', "newer"),
        # a value that is not a number ({"H0": "fast"}) leaves the file usable: it is ignored and
        # quarantined (tests/store/test_reliability_store.py)
        (b'{"schema_version": 1, "model": "lcdm", "updated": "x", "parameters": {}, "provenance": []}', "provenance"),
        (b'{"schema_version": 1, "model": "pbuf", "updated": "x", "parameters": {}}', "expected 'lcdm'"),
    ],
)
def test_corrupt_model_file_raises_and_is_left_untouched(tmp_path, content, match):
    store = OptimizedParameterStore(tmp_path)
    store.update_model_defaults("lcdm", {"H0": 68.0}, OK)
    bad = tmp_path / "lcdm_defaults.json"
    bad.write_bytes(content)
    before = _snapshot(tmp_path)
    with pytest.raises(StoreCorruptError, match=match) as info:
        store.get_model_defaults("lcdm")
    assert str(bad) in str(info.value) and "store repair" in str(info.value)
    with pytest.raises(StoreCorruptError):
        store.update_model_defaults("lcdm", {"H0": 69.0}, OK)
    assert _snapshot(tmp_path) == before, "a corrupt store must never be rewritten or reset"


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b'{"schema_version": 1, "records": {}}',
        b'{"schema_version": 1, "records": [{"model": "lcdm"}]}',
    ],
)
def test_corrupt_history_raises_and_is_left_untouched(tmp_path, content):
    store = OptimizedParameterStore(tmp_path)
    store.update_model_defaults("lcdm", {"H0": 68.0}, OK)
    (tmp_path / ps.HISTORY_FILENAME).write_bytes(content)
    before = _snapshot(tmp_path)
    with pytest.raises(StoreCorruptError, match=ps.HISTORY_FILENAME):
        store.get_optimization_history()
    with pytest.raises(StoreCorruptError):
        store.update_model_defaults("pbuf", {"k_sat": 0.9}, OK)
    assert _snapshot(tmp_path) == before
    assert len(store.check()) == 1


def test_repair_keeps_backups_and_rebuilds(tmp_path):
    store = OptimizedParameterStore(tmp_path)
    store.update_model_defaults("lcdm", {"H0": 68.0, "Om0": 0.31}, OK)
    store.update_model_defaults("lcdm", {"H0": 69.0}, OK)
    store.update_model_defaults("pbuf", {"k_sat": 0.9}, OK)
    model_file = tmp_path / "lcdm_defaults.json"
    model_file.write_bytes(b"garbage")
    report = store.repair()
    backups = [Path(b) for b in report["backups"]]
    assert len(backups) == 1 and backups[0].read_bytes() == b"garbage"
    assert store.get_stored_parameters("lcdm") == {"H0": 69.0, "Om0": 0.31}  # replayed from history
    assert store.check() == []

    # history with one bad record: valid records survive, the whole old file is backed up
    hist = json.loads(store.history_path.read_text())
    raw_before = json.dumps({**hist, "records": hist["records"] + [{"model": "lcdm"}]})
    store.history_path.write_text(raw_before)
    report = store.repair()
    assert report["dropped_records"] == 1
    assert Path(report["backups"][0]).read_text() == raw_before
    assert len(store.get_optimization_history()) == 3
    assert store.repair() == {"backups": [], "rebuilt": [], "dropped_records": 0, "quarantined": []}  # healthy


# ---------------------------------------------------------------------------
# workflow helpers


def test_warm_start_uses_only_recent_successful_records(tmp_path):
    store = OptimizedParameterStore(tmp_path)
    assert store.get_warm_start("lcdm") == {}
    store.update_model_defaults("lcdm", {"H0": 60.0, "Om0": 0.33}, {**OK, "timestamp": _iso(30)})
    assert store.get_warm_start("lcdm") == {}, "a record older than 24 h is not a warm start"
    store.update_model_defaults("lcdm", {"H0": 69.0, "Om0": 0.30}, {**OK, "timestamp": _iso(2)})
    store.update_model_defaults("lcdm", {"H0": 71.0}, {**OK, "timestamp": _iso(1)})
    store.update_model_defaults("lcdm", {"H0": 99.0}, {"convergence_status": "failed", "timestamp": _iso(0.5)})
    assert store.get_warm_start("lcdm") == {"H0": 71.0, "Om0": 0.30}


def test_cross_model_consistency(tmp_path):
    store = OptimizedParameterStore(tmp_path)
    base = get_defaults("lcdm")
    div = store.validate_cross_model_consistency()
    assert set(div) == set(ps.SHARED_PARAMETERS) and all(v == 0.0 for v in div.values())
    store.update_model_defaults("lcdm", {"H0": 68.0}, OK)
    store.update_model_defaults("pbuf", {"H0": 70.0}, OK)
    div = store.validate_cross_model_consistency()
    assert div["H0"] == pytest.approx(2.0 / 69.0)
    assert div["Om0"] == 0.0
    report = store.cross_model_report()
    assert report["H0"]["values"] == {"lcdm": 68.0, "pbuf": 70.0} and not report["H0"]["consistent"]
    assert report["Om0"]["values"]["lcdm"] == base["Om0"]


def test_export_summary(tmp_path, monkeypatch):
    store = OptimizedParameterStore(tmp_path / "s")
    store.update_model_defaults("pbuf", {"k_sat": 0.9}, OK)
    store.update_model_defaults("pbuf", {"alpha": 1e-4}, OK)
    monkeypatch.chdir(tmp_path)
    out = store.export_optimization_summary()
    assert out == Path("reports/optimization_summary.json")
    doc = json.loads((tmp_path / "reports" / "optimization_summary.json").read_text())
    assert doc["schema_version"] == ps.SCHEMA_VERSION and doc["n_records"] == 2
    assert doc["models"]["pbuf"]["stored_parameters"] == {"k_sat": 0.9, "alpha": 1e-4}
    assert doc["models"]["pbuf"]["n_records"] == 2
    assert "H0" in doc["cross_model_consistency"]


def test_to_jsonable_non_finite_and_types():
    import numpy as np

    assert ps.to_jsonable({"a": float("inf"), "b": np.nan, "c": (1, np.int64(2))}) == {
        "a": "inf",
        "b": "nan",
        "c": [1, 2],
    }
    with pytest.raises(TypeError, match="x.y"):
        ps.to_jsonable({"y": object()}, "x")


def test_lock_timeout(tmp_path):
    store = OptimizedParameterStore(tmp_path, lock_timeout=0.2)
    store.update_model_defaults("lcdm", {"H0": 68.0}, OK)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import filelock, sys, time
            lock = filelock.FileLock({str(tmp_path / ps.LOCK_FILENAME)!r}); lock.acquire()
            print("locked", flush=True); time.sleep(30)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = _snapshot(tmp_path)
        with pytest.raises(StoreLockTimeout, match="could not lock"):
            store.update_model_defaults("lcdm", {"H0": 69.0}, OK)
        assert _snapshot(tmp_path) == before
    finally:
        holder.kill()
        holder.wait()
    store.update_model_defaults("lcdm", {"H0": 69.0}, OK)  # the lock is free again
    assert store.get_stored_parameters("lcdm") == {"H0": 69.0}


def test_atomic_write_failure_leaves_target(tmp_path, monkeypatch):
    target = tmp_path / "f.json"
    ps.atomic_write_json(target, {"a": 1})

    def boom(fh, data):
        fh.write(data[:5])
        raise OSError("disk full")

    monkeypatch.setattr(store_files, "write_payload", boom)  # the store's fault-injection hook
    with pytest.raises(OSError, match="disk full"):
        ps.atomic_write_json(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"], "the temporary file is removed"


# ---------------------------------------------------------------------------
# concurrency: 8 processes x 25 updates

WRITER = textwrap.dedent(
    """
    import os, sys, time
    from pbufjax.parameter_store import OptimizedParameterStore
    store_dir, wid, n, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    store = OptimizedParameterStore(store_dir)
    store.update_model_defaults("lcdm", {"H0": 67.0}, {"convergence_status": "success"}, dry_run=True)  # warm up
    open(os.path.join(os.path.dirname(go), f"ready{wid}"), "w").close()
    while not os.path.exists(go):
        time.sleep(0.005)
    model = "pbuf" if wid % 2 else "lcdm"
    for i in range(n):
        store.update_model_defaults(
            model, {"H0": 60.0 + wid + i / 100.0},
            {"convergence_status": "success", "dataset": f"worker{wid}", "worker": wid, "i": i})
    """
)

READER = textwrap.dedent(
    """
    import json, os, sys, time
    folder, stop = sys.argv[1], sys.argv[2]
    reads = bad = 0
    while not os.path.exists(stop):
        for name in os.listdir(folder):
            if name.endswith(".json") and not name.startswith("."):
                try:
                    with open(os.path.join(folder, name), "rb") as fh:
                        json.loads(fh.read())
                    reads += 1
                except FileNotFoundError:
                    pass
                except ValueError:
                    bad += 1
    print(reads, bad)
    """
)


def test_concurrent_updates_lose_nothing(tmp_path):
    n_proc, n_upd = 8, 25
    store_dir = tmp_path / "store"
    sync = tmp_path / "sync"
    sync.mkdir()
    store_dir.mkdir()
    go, stop = sync / "go", sync / "stop"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(store_dir), str(w), str(n_upd), str(go)], env=env)
        for w in range(n_proc)
    ]
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(store_dir), str(stop)], stdout=subprocess.PIPE, text=True
    )
    deadline = time.time() + 120
    while len(list(sync.glob("ready*"))) < n_proc and time.time() < deadline:
        assert all(w.poll() in (None, 0) for w in writers), "a writer failed during start-up"
        time.sleep(0.05)
    t0 = time.perf_counter()
    go.touch()
    codes = [w.wait(timeout=120) for w in writers]
    elapsed = time.perf_counter() - t0
    stop.touch()
    reads, bad = map(int, reader.communicate(timeout=30)[0].split())
    assert codes == [0] * n_proc
    print(f"\n{n_proc}x{n_upd} updates in {elapsed:.2f} s; concurrent reader parsed {reads} files, {bad} invalid")
    assert bad == 0, "a reader saw a half-written file"
    for f in store_dir.glob("*.json"):
        json.loads(f.read_text())
    store = OptimizedParameterStore(store_dir)
    hist = store.get_optimization_history()
    assert len(hist) == n_proc * n_upd
    assert len({r["record_id"] for r in hist}) == n_proc * n_upd
    assert {(r["metadata"]["worker"], r["metadata"]["i"]) for r in hist} == {
        (w, i) for w in range(n_proc) for i in range(n_upd)
    }
    for w in range(n_proc):  # each worker's records are in its own order
        assert [r["metadata"]["i"] for r in hist if r["metadata"]["worker"] == w] == list(range(n_upd))
    for model in ("lcdm", "pbuf"):  # the stored value is that of the model's last record
        last = [r for r in hist if r["model"] == model][-1]
        assert store.get_stored_parameters(model) == last["final_values"]
    assert not list(store_dir.glob(".pbufjax-tmp-*"))


# ---------------------------------------------------------------------------
# fault injection: a writer killed with SIGKILL in the middle of a write

KILLED_WRITER = textwrap.dedent(
    """
    import os, sys, time
    from pbufjax import parameter_store as ps
    from pbufjax.store import files
    store_dir, marker, stage = sys.argv[1], sys.argv[2], sys.argv[3]

    def park():
        open(marker, "w").close()
        time.sleep(600)

    if stage == "payload":          # half of the bytes are in the temporary file
        def slow(fh, data):
            fh.write(data[: len(data) // 2]); fh.flush(); os.fsync(fh.fileno()); park()
        files.write_payload = slow
    elif stage == "replace":        # the temporary file is complete but not yet in place
        files.before_replace = lambda tmp, target: park()
    elif stage == "between":        # the history is replaced, the model file is not yet
        files.before_replace = lambda tmp, target: park() if target.name.endswith("_defaults.json") else None
    store = ps.OptimizedParameterStore(store_dir)
    store.update_model_defaults("lcdm", {"H0": 99.0}, {"convergence_status": "success", "dataset": "killed"})
    """
)


@pytest.mark.parametrize("stage", ["payload", "replace", "between"])
def test_sigkill_mid_write_leaves_store_intact(tmp_path, stage):
    store_dir = tmp_path / "store"
    store = OptimizedParameterStore(store_dir)
    store.update_model_defaults("lcdm", {"H0": 68.0, "Om0": 0.31}, OK)
    store.update_model_defaults("pbuf", {"k_sat": 0.9}, OK)
    before = _snapshot(store_dir)
    marker = tmp_path / "marker"
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(store_dir), str(marker), stage])
    deadline = time.time() + 60
    while not marker.exists():
        assert proc.poll() is None, "writer exited before reaching the kill point"
        assert time.time() < deadline
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=10) == -signal.SIGKILL

    leftovers = list(store_dir.glob(".pbufjax-tmp-*"))
    assert len(leftovers) == 1, "the writer was killed while a temporary file existed"
    store = OptimizedParameterStore(store_dir)
    assert store.check() == []
    after = {k: v for k, v in _snapshot(store_dir).items() if not k.startswith(".pbufjax-tmp-")}
    if stage == "between":  # the history holds the attempt, the defaults are unchanged
        assert after["lcdm_defaults.json"] == before["lcdm_defaults.json"]
        assert [r["dataset"] for r in store.get_optimization_history()][-1] == "killed"
        assert len(store.get_optimization_history()) == 3
    else:
        assert after == before, "the previous store must be byte-for-byte intact"
    assert store.get_stored_parameters("lcdm") == {"H0": 68.0, "Om0": 0.31}
    # the killed writer released its lock; the next update proceeds and cleans up
    store.update_model_defaults("lcdm", {"H0": 70.0}, OK)
    assert store.get_stored_parameters("lcdm") == {"H0": 70.0, "Om0": 0.31}
    assert not list(store_dir.glob(".pbufjax-tmp-*"))
