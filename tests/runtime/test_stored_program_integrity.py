"""Stored programs are verified before use: a damaged entry is discarded, logged and rebuilt,
and the computation goes on with the right answer (issue: "never a silent wrong answer")."""

import json
import os
import struct
import subprocess
import sys

import numpy as np
import pytest

import pbufjax  # noqa: F401
from pbufjax import compile_cache
from pbufjax import optimizer as O
from pbufjax.runtime import program_store
from pbufjax.runtime import stored_programs as sp

U3 = ["union3"]
DATA = np.array([1.0, 2.0, 7.94167639, 4.0])


def _fn(a):
    return a * DATA  # DATA is embedded in the stored program as a constant


@pytest.fixture
def store(tmp_path):
    before = compile_cache.status()
    compile_cache.enable(tmp_path / "cc")
    O.clear_cache()
    program_store._REPORTED.clear()
    yield tmp_path / "cc" / sp.SUBDIR
    O.clear_cache()
    if before["enabled"] and before["owner"] == "pbufjax":
        compile_cache.enable(before["path"])
    else:
        compile_cache.disable()


def _fresh(key="integrity"):
    return sp.StoredJit(_fn, [key], meta=lambda: {"layout": [4]})


def _payload(store):
    (path,) = store.glob("*.jaxexp")
    return path


def _manifest(store):
    (path,) = store.glob("*.json")
    return path


def _stored_once(store):
    f = _fresh()
    np.testing.assert_array_equal(f(np.ones(4)), DATA)
    assert f.source == "exported"
    g = _fresh()
    np.testing.assert_array_equal(g(np.ones(4)), DATA)
    assert g.source == "stored" and g.meta == {"layout": [4]}


def _check_rebuilt(store, caplog):
    with caplog.at_level("WARNING", logger="pbufjax.runtime.stored_programs"):
        h = _fresh()
        np.testing.assert_array_equal(h(np.ones(4)), DATA)  # the right answer
    assert h.source == "exported"  # rebuilt, not loaded
    assert "discarded" in caplog.text
    again = _fresh()
    np.testing.assert_array_equal(again(np.ones(4)), DATA)
    assert again.source == "stored"  # and the rebuilt entry is good


def test_a_changed_data_value_is_detected(store, caplog):
    _stored_once(store)
    path = _payload(store)
    raw = path.read_bytes()
    old = struct.pack("<d", 7.94167639)
    assert old in raw
    path.write_bytes(raw.replace(old, struct.pack("<d", 8.94167639)))
    _check_rebuilt(store, caplog)


@pytest.mark.parametrize("seed", range(6))
def test_a_flipped_bit_is_detected(store, caplog, seed):
    _stored_once(store)
    path = _payload(store)
    raw = bytearray(path.read_bytes())
    i = np.random.default_rng(seed).integers(len(raw) * 8)
    raw[i // 8] ^= 1 << (i % 8)
    path.write_bytes(bytes(raw))
    _check_rebuilt(store, caplog)


def test_truncation_is_detected(store, caplog):
    _stored_once(store)
    path = _payload(store)
    path.write_bytes(path.read_bytes()[:100])
    _check_rebuilt(store, caplog)


@pytest.mark.parametrize("junk", ['{"foo": 1}', "not json", "", "[]", "\x00\xff"])
def test_junk_metadata_is_detected(store, caplog, junk):
    _stored_once(store)
    _manifest(store).write_bytes(junk.encode("latin-1"))
    _check_rebuilt(store, caplog)


def test_changed_metadata_is_detected(store, caplog):
    """The manifest's own digest covers the stored meta (e.g. the layout of packed outputs)."""
    _stored_once(store)
    path = _manifest(store)
    doc = json.loads(path.read_text())
    doc["meta"] = {"layout": [3]}
    path.write_text(json.dumps(doc))
    _check_rebuilt(store, caplog)


def test_a_missing_payload_is_detected(store, caplog):
    _stored_once(store)
    _payload(store).unlink()
    _check_rebuilt(store, caplog)


def test_an_entry_that_fails_its_first_call_is_rebuilt(store, caplog, monkeypatch):
    _stored_once(store)
    import jax

    real = jax.jit
    calls = {"n": 0}

    def broken_jit(fn, *a, **k):
        jitted = real(fn, *a, **k)
        if getattr(fn, "__name__", "") == "call" and calls["n"] == 0:  # exp.call of the loaded program
            calls["n"] += 1

            def fail(*args):
                raise RuntimeError("simulated failure of a stored program")
            return fail
        return jitted

    monkeypatch.setattr(jax, "jit", broken_jit)
    with caplog.at_level("WARNING", logger="pbufjax.runtime.stored_programs"):
        h = _fresh()
        np.testing.assert_array_equal(h(np.ones(4)), DATA)
    assert calls["n"] == 1 and "first call" in caplog.text
    assert h.source == "exported"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_store_keeps_working(store, caplog):
    store.mkdir(parents=True)
    store.chmod(0o500)
    try:
        with caplog.at_level("WARNING", logger="pbufjax.runtime.stored_programs"):
            f = _fresh()
            np.testing.assert_array_equal(f(np.ones(4)), DATA)
        assert f.source == "exported" and "cannot be written" in caplog.text
    finally:
        store.chmod(0o700)


def test_a_store_that_cannot_be_written_keeps_working(store, caplog, monkeypatch):
    """A full disk (or a read-only folder) fails the write: the program is kept in memory, logged once."""
    def full(path, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(program_store, "_write_atomic", full)
    with caplog.at_level("WARNING", logger="pbufjax.runtime.stored_programs"):
        for key in ("a", "b"):
            f = _fresh(key)
            np.testing.assert_array_equal(f(np.ones(4)), DATA)
            assert f.source == "exported"
    assert caplog.text.count("cannot be written") == 1
    assert not store.exists() or not list(store.glob("*.json"))


def test_two_processes_filling_an_empty_store_at_once(store):
    code = ("import sys, numpy as np, pbufjax; from pbufjax import compile_cache; "
            "compile_cache.enable(sys.argv[1]); from pbufjax.runtime import stored_programs as sp; "
            "f = sp.StoredJit(lambda a: a * np.array([1.0, 2.0, 7.94167639, 4.0]), ['two-procs'], "
            "meta=lambda: {'layout': [4]}); print(float(f(np.ones(4)).sum()), f.source)")
    cc = str(store.parent)
    procs = [subprocess.Popen([sys.executable, "-c", code, cc], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outs = []
    for p in procs:
        try:
            out, err = p.communicate(timeout=120)
        finally:
            p.kill()
        assert p.returncode == 0, err
        outs.append(out.split())
    assert all(float(o[0]) == 14.94167639 for o in outs)
    third = subprocess.run([sys.executable, "-c", code, cc], capture_output=True, text=True, timeout=120)
    assert third.returncode == 0 and third.stdout.split() == ["14.94167639", "stored"]


def test_a_fit_from_a_tampered_store_gives_the_right_chi2(store):
    """The scenario found by the probe, on a real fit: one data value changed in the stored programs."""
    prob = O.get_problem("lcdm", U3, ["Om0"])
    good = O.solve(prob, "gauss_newton")
    target = struct.pack("<d", float(prob.likelihood.blocks[0].observations[0]))
    hits = 0
    for path in store.glob("*.jaxexp"):
        raw = path.read_bytes()
        if target in raw:
            path.write_bytes(raw.replace(target, struct.pack("<d", float(prob.likelihood.blocks[0].observations[0])
                                                             + 1.0)))
            hits += 1
    assert hits, "the data value should be embedded in a stored program"
    O.clear_cache()
    again = O.get_problem("lcdm", U3, ["Om0"])
    res = O.solve(again, "gauss_newton")
    assert res["fun"] == pytest.approx(good["fun"], rel=1e-12, abs=1e-9)
    np.testing.assert_allclose(res["x"], good["x"], rtol=1e-10)
