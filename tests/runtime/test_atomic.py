"""The one atomic writer (pbufjax.runtime.atomic) that the store, the campaigns and the stored programs use."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from pbufjax.runtime import atomic, campaign, program_store
from pbufjax.store import files as store_files


def test_bytes_and_writer_forms_replace_the_file(tmp_path):
    path = tmp_path / "a.bin"
    assert atomic.atomic_write(path, b"one") == path and path.read_bytes() == b"one"
    atomic.atomic_write(path, lambda fh: fh.write(b"two"))
    assert path.read_bytes() == b"two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin"]


@pytest.mark.parametrize("where", ["write", "before_replace"])
def test_a_failure_leaves_the_old_file_and_no_temporary(tmp_path, where):
    path = tmp_path / "a.json"
    path.write_bytes(b"old")

    def boom(*_):
        raise KeyboardInterrupt  # an interrupt too, not only errors

    kw = {"before_replace": boom} if where == "before_replace" else {}
    content = boom if where == "write" else b"new"
    with pytest.raises(KeyboardInterrupt):
        atomic.atomic_write(path, content, **kw)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


@pytest.mark.skipif(os.name != "posix", reason="permission bits")
def test_keep_mode_keeps_a_private_file_private(tmp_path):
    path = tmp_path / "s.json"
    path.write_bytes(b"{}")
    path.chmod(0o600)
    atomic.atomic_write(path, b"[]", keep_mode=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o640)
    atomic.atomic_write(path, b"[1]")  # without keep_mode: a new file's usual mode
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~_umask()


def _umask() -> int:
    old = os.umask(0)
    os.umask(old)
    return old


def test_every_writer_is_the_shared_one(tmp_path, monkeypatch):
    calls = []
    real = atomic.atomic_write

    def spy(path, content, **kw):
        calls.append(os.path.basename(path))
        return real(path, content, **kw)

    for module in (store_files, campaign, program_store):
        monkeypatch.setattr(module, "atomic_write", spy)
    store_files.atomic_write_json(tmp_path / "x.json", {"a": 1})
    program_store._write_atomic(tmp_path / "p.bin", b"1")
    c = campaign.Campaign(tmp_path / "c", {"kind": "demo", "n": 2})
    c.begin(n=2, chunk_size=2, n_devices=1)
    c.write(0, [np.arange(2)])
    c.finish()
    assert calls[:2] == ["x.json", "p.bin"]
    assert {"manifest.json", "chunk-000000.npz"} <= set(calls[2:])
