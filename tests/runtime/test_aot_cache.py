"""Stored traced programs (pbufjax.aot_cache): reuse across FitProblem instances, keys that
follow the code, data and configuration, and the fallbacks."""

import json

import numpy as np
import pytest

import pbufjax  # noqa: F401
from pbufjax import aot_cache, compile_cache
from pbufjax import optimizer as O
from pbufjax.cosmology import models as M

U3 = ["union3"]


@pytest.fixture
def cache_dir(tmp_path):
    before = compile_cache.status()
    compile_cache.enable(tmp_path / "cc")
    O.clear_cache()
    yield tmp_path / "cc" / aot_cache.SUBDIR
    O.clear_cache()
    if before["enabled"] and before["owner"] == "pbufjax":
        compile_cache.enable(before["path"])
    else:
        compile_cache.disable()


def test_programs_are_stored_and_reused(cache_dir):
    prob = O.get_problem("lcdm", U3, ["Om0"])
    assert prob.compiled.aot_key is not None
    x = np.array([0.33])
    first = prob.report(x, hessian=True, redshifts=(0.5,))
    v1 = np.asarray(prob.compiled.unit_value_and_grad(np.array([0.4]), prob.lower, prob.upper, prob.base_vector)[0])
    stored = sorted(p.name for p in cache_dir.iterdir())
    assert any(n.endswith(".jaxexp") for n in stored) and any(n.endswith(".json") for n in stored)
    assert prob.compiled.unit_value_and_grad.source == "exported"

    O.clear_cache()  # a new process in all but name: new FitProblem, new compiled objects
    again = O.get_problem("lcdm", U3, ["Om0"])
    assert again.compiled is not prob.compiled
    second = again.report(x, hessian=True, redshifts=(0.5,))
    v2 = np.asarray(again.compiled.unit_value_and_grad(np.array([0.4]), again.lower, again.upper,
                                                       again.base_vector)[0])
    assert again.compiled.unit_value_and_grad.source == "stored"
    assert float(v2) == float(v1)
    assert second["blocks"]["union3"]["chi2"] == first["blocks"]["union3"]["chi2"]
    np.testing.assert_array_equal(second["hessian"], first["hessian"])
    np.testing.assert_array_equal(second["H"], first["H"])
    np.testing.assert_array_equal(second["blocks"]["union3"]["predictions"]["mu_theory"],
                                  first["blocks"]["union3"]["predictions"]["mu_theory"])
    # a fit through the stored solver reaches the same minimum
    r1 = O.solve(again, "gauss_newton")
    assert r1["status"] == "success"


def test_keys_follow_data_and_configuration(cache_dir):
    base = O.get_problem("lcdm", U3, ["Om0"]).compiled.aot_key
    scaled = O.get_problem("lcdm", U3, ["Om0"], covariance_scaling=2.0).compiled.aot_key
    other_free = O.get_problem("lcdm", U3, ["Om0", "H0"]).compiled.aot_key
    fixed = O.get_problem("lcdm", U3, ["Om0"], overrides={"Ok0": 0.01}).compiled.aot_key
    keys = [json.dumps(k, sort_keys=True, default=str) for k in (base, scaled, other_free, fixed)]
    assert len(set(keys)) == 4
    # the data enter through the likelihood's fingerprint
    lik = O.get_problem("lcdm", U3, ["Om0"]).likelihood
    fp = lik.fingerprint()
    lik.blocks[0].observations = lik.blocks[0].observations + 1e-12
    try:
        assert lik.fingerprint() != fp
    finally:
        lik.blocks[0].observations = lik.blocks[0].observations - 1e-12


def test_user_code_is_never_stored(cache_dir):
    def e2_mine(zp1, p):
        return M.e2_lcdm(zp1, p)

    M.register_model(M.Model("aot_test_model", e2_mine))
    try:
        prob = O.get_problem("aot_test_model", U3, ["Om0"])
        assert prob.compiled.aot_key is None
        prob.report(np.array([0.3]), hessian=False)
    finally:
        M.MODELS.pop("aot_test_model", None)


def test_disabled_cache_falls_back_to_jit(tmp_path):
    before = compile_cache.status()
    compile_cache.disable()
    try:
        assert aot_cache.directory() is None
        f = aot_cache.StoredJit(lambda a: a * 2.0, ["anything"])
        assert float(f(np.float64(3.0))) == 6.0
        assert f.source == "jit"
    finally:
        if before["enabled"] and before["owner"] == "pbufjax":
            compile_cache.enable(before["path"])


def test_corrupt_stored_file_is_ignored(cache_dir):
    f = aot_cache.StoredJit(lambda a: a + 1.0, ["corrupt-test"])
    assert float(f(np.float64(1.0))) == 2.0 and f.source == "exported"
    for p in cache_dir.iterdir():
        p.write_bytes(b"not a program")
    g = aot_cache.StoredJit(lambda a: a + 1.0, ["corrupt-test"])
    assert float(g(np.float64(1.0))) == 2.0
    assert g.source == "exported"  # the damaged entry was discarded and rebuilt
    h = aot_cache.StoredJit(lambda a: a + 1.0, ["corrupt-test"])
    assert float(h(np.float64(1.0))) == 2.0 and h.source == "stored"


def test_nothing_is_stored_when_the_package_files_changed_after_import(cache_dir, monkeypatch):
    """A process runs the code it imported: if the files on disk have changed since, a program
    it traces must not be filed under the new files' fingerprint (a later process would load
    old code as new), nor may a stored one be loaded."""
    from pbufjax.runtime import clock

    monkeypatch.setattr(clock, "IMPORTED_NS", 0)  # as if imported before every file's last edit
    assert not aot_cache.code_is_current()
    prob = O.get_problem("lcdm", U3, ["Om0"])
    v = prob.compiled.unit_value_and_grad(np.array([0.4]), prob.lower, prob.upper, prob.base_vector)
    assert np.isfinite(float(v[0]))
    assert prob.compiled.unit_value_and_grad.source == "jit"
    assert not cache_dir.exists() or not any(cache_dir.iterdir())
    monkeypatch.undo()
    assert aot_cache.code_is_current()


def test_an_edit_after_the_fingerprint_turns_storing_off(tmp_path, monkeypatch):
    """A file whose size or mtime changed after the digest was taken is noticed at the next check."""
    from pbufjax.runtime import clock
    from pbufjax.runtime import stored_programs as sp

    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text("x = 1\n")
    monkeypatch.setattr(sp, "PACKAGE_ROOT", pkg)
    monkeypatch.setattr(sp, "_PINNED", {})
    monkeypatch.setattr(clock, "IMPORTED_NS", 2**62)  # the files below predate "import"
    sp.code_fingerprint()
    assert sp.code_is_current()
    (pkg / "a.py").write_text("x = 22\n")
    assert not sp.code_is_current()


def test_import_reads_no_package_file():
    """Importing pbufjax takes no fingerprint (the digest is taken at the first stored program)."""
    import subprocess
    import sys

    code = ("import pbufjax; from pbufjax.runtime import stored_programs as sp; "
            "print('digest' in sp._PINNED)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_disk_fingerprint_follows_the_files(tmp_path):
    """The digest reads the files afresh at every call."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "b.json").write_text("{}")
    first = aot_cache.package_fingerprint(pkg)
    assert aot_cache.package_fingerprint(pkg) == first
    (pkg / "a.py").write_text("x = 2\n")
    edited = aot_cache.package_fingerprint(pkg)
    assert edited != first
    (pkg / "notes.txt").write_text("not code")  # only .py and .json files count
    assert aot_cache.package_fingerprint(pkg) == edited
