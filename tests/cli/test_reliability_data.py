"""Release files that are missing, not regular files, modified or not text (issue 12).

``pbufjax data verify NAME`` fails with the exit code ``pbufjax fit`` gives for the same bad
file (2), one stderr line per file naming it and what is wrong; nothing opens a FIFO; a hash
mismatch says what to do from the command line and from Python; a binary file read with
``verify=False`` is a ``DataFormatError`` naming it.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from pbufjax import cli
from pbufjax.data import files as datafiles
from pbufjax.data import readers
from pbufjax.data.catalog import load_dataset
from pbufjax.data.files import DataFileHashError, DataFileTypeError
from pbufjax.data.readers import DataFormatError

MEAN = "bao/desi_dr2/desi_gaussian_bao_ALL_GCcomb_mean.txt"
COV = "bao/desi_dr2/desi_gaussian_bao_ALL_GCcomb_cov.txt"
#: The shared data folder (conftest sets it before collection; the ``env`` fixture empties it).
SHARED = Path(os.environ.get("PBUFJAX_DATA_DIR") or ".")


@pytest.fixture
def env(monkeypatch, tmp_path):
    """An empty cache and data folder and no shipped copies, so only ``--data-dir`` / ``data_dir`` holds files."""
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PBUFJAX_CACHE_DIR", str(empty))
    monkeypatch.setenv("PBUFJAX_DATA_DIR", str(empty))
    monkeypatch.setenv("PBUFJAX_STORE_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("PBUFJAX_SHIPPED_DATA", "0")  # the package's copies would stand in for missing files
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def copy(env):
    """A data folder holding a copy of DESI DR2's two files (read from the shared data folder)."""
    folder = env / "data"
    for rel in (MEAN, COV):
        dest = folder / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SHARED / rel, dest)
    return folder


def run(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _make(kind: str, path: Path) -> None:
    """Replace ``path`` by a broken entry of the given kind."""
    if path.exists() or path.is_symlink():
        path.unlink()
    if kind == "dangling link":
        path.symlink_to(path.parent / "gone.txt")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "missing":
        pass


WHAT = {"dangling link": "dangling symbolic link", "fifo": "FIFO", "folder": "directory", "missing": "missing"}


def _finishes(fn, timeout: float = 30.0):
    """Run ``fn`` in a thread; fail if it is still running after ``timeout`` s (a FIFO opened
    for reading blocks forever). Returns the exception it raised, or None."""
    box: dict = {}

    def target():
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            box["exc"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), "blocked (a FIFO was opened for reading)"
    return box.get("exc")


# ---------------------------------------------------------------------------
# pbufjax data verify


@pytest.mark.release_files("desi_dr2")
@pytest.mark.parametrize("kind", ["missing", "dangling link", "fifo", "folder"])
def test_data_verify_fails_on_a_bad_entry_with_fits_exit_code(kind, copy, capsys):
    _make(kind, copy / COV)
    code, out, err = run(capsys, "data", "verify", "desi_dr2", "--data-dir", copy)
    fit_code, _, fit_err = run(capsys, "fit", "--datasets", "bao", "--data-dir", copy)
    assert code == 2 and code == fit_code
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert COV in lines[0] and WHAT[kind] in lines[0]
    assert MEAN not in err  # the good file is not reported
    if kind != "missing":
        assert str(copy / COV) in out  # the table shows where the bad entry is
        assert WHAT[kind] in fit_err and len(fit_err.strip().splitlines()) == 1


@pytest.mark.release_files("desi_dr2")
def test_data_verify_hash_mismatch_exits_like_fit(copy, capsys):
    with open(copy / MEAN, "a") as fh:
        fh.write("# modified\n")
    code, out, err = run(capsys, "data", "verify", "bao", "--data-dir", copy)
    fit_code, _, fit_err = run(capsys, "fit", "--datasets", "bao", "--data-dir", copy)
    assert "HASH MISMATCH" in out
    assert code == fit_code == 2
    assert MEAN in err and len(err.strip().splitlines()) == 1
    # the hint says what to do from the command line (no verify=False there)
    assert f"pbufjax data fetch desi_dr2 --force --data-dir {copy}" in fit_err
    assert "verify=False" in fit_err and "command line has no such switch" in fit_err


def test_data_verify_without_names_does_not_fail_on_files_never_fetched(env, capsys):
    code, out, err = run(capsys, "data", "verify")
    assert code == 0 and "missing" in out and not err.strip()


def test_data_verify_names_the_missing_files_fetch_command(env, capsys):
    code, _, err = run(capsys, "data", "verify", "bao")
    assert code == 2
    assert "missing" in err and "pbufjax data fetch desi_dr2" in err and MEAN in err and COV in err


def test_data_verify_help_documents_the_exit_code():
    from pbufjax.cli import data as cli_data

    assert "exit 1" not in (cli_data.cmd_data_verify.__doc__ or "")
    assert "Exit 2" in cli_data.cmd_data_verify.__doc__


# ---------------------------------------------------------------------------
# the library: never open a FIFO, name what is wrong


@pytest.mark.release_files("desi_dr2")
@pytest.mark.parametrize("kind", ["dangling link", "fifo", "folder"])
def test_resolve_and_load_name_an_entry_that_is_not_a_regular_file(kind, copy):
    _make(kind, copy / COV)
    with pytest.raises(DataFileTypeError, match=WHAT[kind]) as info:
        datafiles.resolve(COV, copy)
    assert str(copy / COV) in str(info.value) and "--force" in str(info.value)
    exc = _finishes(lambda: load_dataset("desi_dr2", copy, verify=False))
    assert isinstance(exc, DataFileTypeError) and WHAT[kind] in str(exc)


@pytest.mark.parametrize("kind", ["fifo", "folder", "dangling link"])
def test_hashing_and_readers_never_open_a_fifo(kind, tmp_path):
    path = tmp_path / "table.txt"
    _make(kind, path)
    for fn in (lambda: datafiles.sha256(path), lambda: datafiles.verify(MEAN, path),
               lambda: readers.read_matrix(path), lambda: readers.read_flat_covariance(path),
               lambda: readers.read_pantheonplus(path)):
        exc = _finishes(fn)
        assert isinstance(exc, DataFileTypeError), exc
        assert str(path) in str(exc) and WHAT[kind] in str(exc)


def test_file_problem_phrases(tmp_path):
    f = tmp_path / "f.txt"
    f.write_text("1\n")
    assert datafiles.file_problem(f) is None
    assert datafiles.file_problem(tmp_path / "nope") == "does not exist"
    assert datafiles.file_problem(tmp_path) == "is a directory"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        datafiles.check_regular_file(tmp_path / "nope")


@pytest.mark.release_files("desi_dr2")
def test_fetch_force_replaces_a_fifo_but_not_a_folder(copy, monkeypatch):
    import pooch

    def retrieve(url, known_hash, fname, path, progressbar):
        dest = Path(path) / fname
        shutil.copyfile(_shared_copy[0], dest)
        return str(dest)

    _shared_copy = [copy.parent / "saved_cov.txt"]
    shutil.copyfile(copy / COV, _shared_copy[0])
    monkeypatch.setattr(pooch, "retrieve", retrieve)
    _make("fifo", copy / COV)
    with pytest.raises(DataFileTypeError, match="FIFO"):
        datafiles.fetch_files([COV], copy)  # without force: names it
    (path,) = _finishes_value(lambda: datafiles.fetch_files([COV], copy, force=True))
    assert path == copy / COV and datafiles.verify(COV, path)
    _make("folder", copy / COV)
    with pytest.raises(DataFileTypeError, match="directory"):
        datafiles.fetch_files([COV], copy, force=True)


def _finishes_value(fn):
    box = {}
    exc = _finishes(lambda: box.setdefault("v", fn()))
    assert exc is None, exc
    return box["v"]


# ---------------------------------------------------------------------------
# the hash-mismatch hint and binary files


@pytest.mark.release_files("desi_dr2")
def test_hash_mismatch_hint_names_each_entry_point(copy):
    with open(copy / COV, "a") as fh:
        fh.write("# modified\n")
    with pytest.raises(DataFileHashError) as info:
        load_dataset("desi_dr2", copy)
    text = str(info.value)
    assert str(copy / COV) in text
    assert f"pbufjax data fetch desi_dr2 --force --data-dir {copy}" in text
    assert f"pbufjax.data.fetch('desi_dr2', {str(copy)!r}, force=True)" in text
    assert "verify=False" in text and "from Python" in text


@pytest.mark.release_files("desi_dr2")
def test_a_binary_file_with_verify_false_names_the_file(copy):
    (copy / MEAN).write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    with pytest.raises(DataFormatError, match="not a text table") as info:
        load_dataset("desi_dr2", copy, verify=False)
    assert str(copy / MEAN) in str(info.value)
    (copy / COV).write_bytes(b"\xff\xfe\x00\x01" * 100)
    with pytest.raises(DataFormatError, match="not a text table"):
        readers.read_flat_covariance(copy / COV)
    with pytest.raises(DataFormatError, match="not a text table"):
        readers.read_pantheonplus(copy / COV)
