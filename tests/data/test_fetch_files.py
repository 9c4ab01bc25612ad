"""Large release files: fetched with pooch into the user cache, pinned by git blob id (no network here).

``pooch.retrieve`` is replaced by a stand-in that writes chosen bytes where pooch would, and
sockets are refused, so every path of :func:`pbufjax.data.files.fetch_files` is exercised
offline: a good download is kept, a bad one (wrong git blob id or sha256, a network error)
leaves nothing in the cache and raises an error naming the file.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import logging
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from pbufjax import cli
from pbufjax.data import files
from pbufjax.data.catalog import fetch

COVSYS = "sn/desy5/covsys_000.txt"
DOVEKIE = "sn/des_dovekie/covtot_inv_000.npz"
PANTHEON_COV = "sn/pantheonplus/Pantheon+SH0ES_STAT+SYS.cov"
UNION3_COV = "sn/union3/mag_covmat.txt"


def _git_blob_bytes(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class FakeServer:
    """Stands in for ``pooch.retrieve``: ``content[url]`` is what each URL serves (an exception is raised)."""

    def __init__(self):
        self.content: dict[str, bytes | BaseException] = {}
        self.calls: list[dict] = []

    def __call__(self, url, known_hash=None, fname=None, path=None, progressbar=False, **kw):
        self.calls.append({"url": url, "known_hash": known_hash, "fname": fname, "path": Path(path)})
        served = self.content.get(url, ConnectionError(f"no route to {url}"))
        if isinstance(served, BaseException):
            raise served
        dest = Path(path) / fname
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(served)
        return str(dest)


@pytest.fixture
def server(monkeypatch, fresh_install):
    import pooch

    fake = FakeServer()
    monkeypatch.setattr(pooch, "retrieve", fake)

    def refuse(*args, **kwargs):
        raise AssertionError("network use in a test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    files.clear_file_caches()
    yield fake
    files.clear_file_caches()


@pytest.fixture
def pinned(monkeypatch):
    """Re-pin registry entries by git blob id to chosen bytes: ``pinned(rel, data)``."""
    table = copy.deepcopy(files.registry())
    monkeypatch.setattr(files, "registry", functools.lru_cache(maxsize=1)(lambda: table))

    def pin(rel: str, data: bytes) -> None:
        table["files"][rel]["git_blob"] = _git_blob_bytes(data)
        table["files"][rel]["sha256"] = None

    return pin


def _files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if not p.is_dir()) if folder.exists() else []


# ---------------------------------------------------------------------------
# git blob ids


def test_git_blob_of_known_contents(tmp_path):
    empty, hello = tmp_path / "empty", tmp_path / "hello"
    empty.write_bytes(b"")
    hello.write_bytes(b"hello\n")
    assert files.git_blob(empty) == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"  # git's empty blob
    assert files.git_blob(hello) == "ce013625030ba8dba906f756967f9e9ca394464a"


def test_git_blob_agrees_with_git_hash_object(tmp_path):
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    f = tmp_path / "bytes.bin"
    f.write_bytes(bytes(range(256)) * 4099 + b"\0\r\n")  # just over one 1 MiB read chunk, binary, CR LF
    out = subprocess.run([git, "hash-object", "--no-filters", str(f)], capture_output=True, text=True, check=True)
    assert files.git_blob(f) == out.stdout.strip() == _git_blob_bytes(f.read_bytes())
    assert files.git_blob(f, chunk=1000) == out.stdout.strip()  # chunked reading changes nothing


def test_every_large_file_is_pinned_by_git_blob_only():
    large = [r for r, e in files.release_files().items() if not e.get("sha256")]
    assert sorted(large) == sorted([COVSYS, DOVEKIE, PANTHEON_COV])
    for rel in large:
        kind, value = files.pin(rel)
        assert kind == "git_blob" and len(value) == 40 and int(value, 16) >= 0
        assert not files.release_files()[rel].get("shipped")
    assert files.pin(UNION3_COV)[0] == "sha256"


def test_verify_checks_the_git_blob_when_no_sha256_is_pinned(tmp_path, pinned):
    good, bad = b"1829\n0.5\n", b"1829\n0.6\n"
    pinned(COVSYS, good)
    f = tmp_path / COVSYS
    f.parent.mkdir(parents=True)
    f.write_bytes(good)
    assert files.verify(COVSYS, f) is True
    f.write_bytes(bad)
    with pytest.raises(files.DataFileHashError) as e:
        files.verify(COVSYS, f)
    msg = str(e.value)
    assert str(f) in msg and "git blob id" in msg and _git_blob_bytes(bad) in msg and _git_blob_bytes(good) in msg
    assert "pbufjax data fetch desy5 --force" in msg


# ---------------------------------------------------------------------------
# downloads


def test_a_good_download_is_kept_in_the_cache_and_its_sha256_logged(server, pinned, fresh_install, caplog):
    data = b"1829\n" + b"0.001\n" * 50
    pinned(COVSYS, data)
    url = files.release_files()[COVSYS]["url"]
    server.content[url] = data
    with caplog.at_level(logging.INFO, logger="pbufjax.data.files"):
        (path,) = files.fetch_files([COVSYS])
    assert path == fresh_install / COVSYS and path.read_bytes() == data
    assert _files_under(fresh_install) == [path]  # the temporary download folder is gone
    assert server.calls[0]["known_hash"] is None  # no sha256 to give pooch: checked by git blob afterwards
    assert server.calls[0]["path"] != path.parent  # downloaded beside the target, then moved
    assert hashlib.sha256(data).hexdigest() in caplog.text
    # present and verified: not downloaded again
    server.calls.clear()
    assert files.fetch_files([COVSYS]) == [path] and server.calls == []


def test_a_download_with_the_wrong_git_blob_leaves_nothing(server, fresh_install):
    url = files.release_files()[COVSYS]["url"]
    server.content[url] = b"1829\nnot the release\n"
    with pytest.raises(files.DataFileHashError) as e:
        files.fetch_files([COVSYS])
    msg = str(e.value)
    assert COVSYS in msg and url in msg and "git blob id" in msg
    assert files.release_files()[COVSYS]["git_blob"] in msg and "nothing was written" in msg
    assert _files_under(fresh_install) == [] and not (fresh_install / "sn").exists()


def test_a_bad_mirror_is_followed_by_the_next_and_a_good_one_kept(server, pinned, fresh_install):
    data = b"inverse covariance bytes"
    pinned(DOVEKIE, data)
    entry = files.release_files()[DOVEKIE]
    (mirror,) = entry["mirrors"]
    server.content[entry["url"]] = b"corrupted"
    server.content[mirror] = data
    (path,) = files.fetch_files([DOVEKIE])
    assert [c["url"] for c in server.calls] == [entry["url"], mirror]
    assert path.read_bytes() == data and _files_under(fresh_install) == [path]


def test_every_url_wrong_names_each_and_leaves_nothing(server, fresh_install):
    entry = files.release_files()[PANTHEON_COV]
    server.content[entry["url"]] = b"1\n1.0\n"
    server.content[entry["mirrors"][0]] = b"2\n1 0 0 1\n"
    with pytest.raises(files.DataFileHashError) as e:
        files.fetch_files([PANTHEON_COV])
    assert [c["url"] for c in server.calls] == [entry["url"], entry["mirrors"][0]]
    assert str(e.value).count("git blob id") == 2 and "nothing was written" in str(e.value)
    assert _files_under(fresh_install) == []


def test_a_sha256_pinned_download_is_checked_even_if_pooch_is_not(server, fresh_install, no_shipped_data):
    url = files.release_files()[UNION3_COV]["url"]
    server.content[url] = b"22\n1.0\n"
    with pytest.raises(files.DataFileHashError, match="sha256"):
        files.fetch_files([UNION3_COV])
    assert server.calls[0]["known_hash"] == "sha256:" + files.release_files()[UNION3_COV]["sha256"]
    assert _files_under(fresh_install) == []


def test_poochs_own_hash_error_becomes_a_data_file_hash_error(server, fresh_install, no_shipped_data):
    url = files.release_files()[UNION3_COV]["url"]
    server.content[url] = ValueError("SHA256 hash of downloaded file (abc) does not match the known hash: expected x")
    with pytest.raises(files.DataFileHashError, match="does not match the known hash"):
        files.fetch_files([UNION3_COV])
    assert _files_under(fresh_install) == []


def test_no_network_is_a_fetch_error_naming_the_file(server, fresh_install, capsys, monkeypatch, tmp_path):
    with pytest.raises(files.DataFetchError) as e:
        files.fetch_files([COVSYS])
    assert isinstance(e.value, OSError)
    assert COVSYS in str(e.value) and "no route to" in str(e.value) and "nothing was written" in str(e.value)
    assert _files_under(fresh_install) == []
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert cli.main(["data", "fetch", "desy5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and COVSYS in err[0]


def test_fetching_a_dataset_downloads_only_what_does_not_ship(server, pinned, fresh_install):
    data = b"1829\n" + b"0\n" * 10
    pinned(COVSYS, data)
    server.content[files.release_files()[COVSYS]["url"]] = data
    hd, cov = fetch("desy5")
    assert files.is_shipped_copy(hd) and cov == fresh_install / COVSYS
    assert [c["url"] for c in server.calls] == [files.release_files()[COVSYS]["url"]]


def test_force_replaces_a_bad_cached_copy_only_once_the_new_one_is_verified(server, pinned, fresh_install):
    good = b"good bytes"
    pinned(COVSYS, good)
    dest = fresh_install / COVSYS
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"stale")
    url = files.release_files()[COVSYS]["url"]
    server.content[url] = b"also bad"
    with pytest.raises(files.DataFileHashError):
        files.fetch_files([COVSYS], force=True)
    assert dest.read_bytes() == b"stale" and _files_under(fresh_install) == [dest]  # left as it was
    server.content[url] = good
    assert files.fetch_files([COVSYS], force=True) == [dest] and dest.read_bytes() == good
    # without force, a stale copy is not accepted either: it is downloaded again
    dest.write_bytes(b"stale")
    assert files.fetch_files([COVSYS]) == [dest] and dest.read_bytes() == good


def test_into_an_explicit_data_dir(server, pinned, tmp_path):
    data = b"x" * 100
    pinned(COVSYS, data)
    server.content[files.release_files()[COVSYS]["url"]] = data
    (path,) = files.fetch_files([COVSYS], tmp_path / "mine")
    assert path == tmp_path / "mine" / COVSYS and path.read_bytes() == data


# ---------------------------------------------------------------------------
# an absent or damaged large file when loading


def test_an_absent_large_file_names_the_file_and_the_fetch_command(fresh_install):
    with pytest.raises(files.DataFileNotFoundError) as e:
        files.resolve(COVSYS, dataset="desy5")
    msg = str(e.value)
    assert COVSYS in msg and "pbufjax data fetch desy5" in msg and str(fresh_install / COVSYS) in msg
    assert files.release_files()[COVSYS]["url"] in msg


def test_data_verify_checks_a_large_file_by_its_git_blob(pinned, fresh_install, capsys, monkeypatch, tmp_path):
    data = b"1829\n1.0\n"
    pinned(COVSYS, data)
    dest = fresh_install / COVSYS
    dest.parent.mkdir(parents=True)
    dest.write_bytes(data)
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert cli.main(["data", "verify", "desy5", "--json"]) == 0
    rows = {r["file"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows[COVSYS]["status"] == "ok" and rows[COVSYS]["shipped"] is False
    assert rows["sn/desy5/DES-SN5YR_HD.csv"]["shipped"] is True
    dest.write_bytes(data + b" ")
    files.clear_file_caches()
    assert cli.main(["data", "verify", "desy5"]) == 2
    assert "git blob id" in capsys.readouterr().err
