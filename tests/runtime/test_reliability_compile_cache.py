"""A compilation-cache folder that cannot be written costs one warning line, not one per
compilation (issue 12).

Tests run as root, where ``chmod`` does not make a folder read-only: an existing folder no
process can write into (``/proc/self``) and a path under a regular file stand in for it; the
``chmod`` variant runs for other users.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import pytest

from pbufjax.runtime import compile_cache


def _writable(folder: str) -> bool:
    try:
        with tempfile.NamedTemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _fit_stderr(cache: str, tmp_path) -> list[str]:
    env = {**os.environ, compile_cache.ENV_DIR: cache, "PBUFJAX_STORE_DIR": str(tmp_path / "store")}
    env.pop(compile_cache.ENV_DISABLE, None)
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    proc = subprocess.run([sys.executable, "-m", "pbufjax", "fit", "--datasets", "cmb", "--optimize", "H0,Om0"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    # warnings and cache notices only (other notices, e.g. where the store is, are not counted)
    return [ln for ln in proc.stderr.splitlines() if "warn" in ln.lower() or "compilation cache" in ln.lower()]


@pytest.mark.skipif(not os.path.isdir("/proc/self") or _writable("/proc/self"),
                    reason="needs an existing folder that cannot be written (Linux /proc/self)")
def test_an_existing_unwritable_cache_folder_prints_one_line(tmp_path):
    lines = _fit_stderr("/proc/self", tmp_path)
    assert len(lines) == 1, "\n".join(lines)
    assert "compilation cache off" in lines[0] and "/proc/self" in lines[0]


def test_a_cache_folder_that_cannot_be_created_prints_one_line(tmp_path):
    """(Already one line before issue 12; kept as a guard next to the unwritable cases.)"""
    (tmp_path / "file").write_text("not a folder")
    lines = _fit_stderr(str(tmp_path / "file" / "cache"), tmp_path)
    assert len(lines) == 1, "\n".join(lines)
    assert "compilation cache off" in lines[0]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_cache_folder_prints_one_line(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        lines = _fit_stderr(str(folder), tmp_path)
    finally:
        folder.chmod(0o700)
    assert len(lines) == 1, "\n".join(lines)
    assert "compilation cache off" in lines[0]


def test_enable_on_an_unwritable_folder_returns_none_and_warns_once(tmp_path, caplog):
    before = compile_cache.status()
    (tmp_path / "file").write_text("x")
    bad = tmp_path / "file" / "cache"
    with caplog.at_level("WARNING", logger=compile_cache.logger.name):
        assert compile_cache.enable(bad) is None
        assert compile_cache.enable(bad) is None
    warnings = [r for r in caplog.records if r.name == compile_cache.logger.name and r.levelname == "WARNING"]
    assert len(warnings) == 1 and str(bad) in warnings[0].getMessage()  # logged once, not at every call
    assert compile_cache.status() == before  # nothing changed
