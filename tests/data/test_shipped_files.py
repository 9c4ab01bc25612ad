"""The small release files that ship inside the package (``pbufjax/data/release``).

They must be byte-identical to the published files (sha256 and git blob id recomputed here
with hashlib, independently of :mod:`pbufjax.data.files`), be found after the user's folders,
be checked on every use, and let a machine with no data folder and no network fit
``cmb,bao,sn``. No test here touches the network: downloads and sockets are refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from pbufjax import cli
from pbufjax.data import files
from pbufjax.data.catalog import clear_dataset_cache, load_dataset
from pbufjax.data.spec import dataset_specs

#: The size limit of a shipped file (the release files of at most ~200 KB ship).
LIMIT = 200 * 1024
#: Registered files that do not ship, and why (everything else small enough does).
NOT_SHIPPED = {
    "sn/pantheonplus/Pantheon+SH0ES.dat": "579 KB, and useless without its 33 MB covariance, fetched with it",
    "sn/pantheonplus/Pantheon+SH0ES_STAT+SYS.cov": "large, fetched",
    "sn/desy5/covsys_000.txt": "large, fetched",
    "sn/des_dovekie/covtot_inv_000.npz": "large, fetched",
}
SHARED = Path(os.environ.get("PBUFJAX_DATA_DIR") or "/nonexistent")
MEAN = "bao/desi_dr2/desi_gaussian_bao_ALL_GCcomb_mean.txt"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _git_blob(path: Path) -> str:
    data = path.read_bytes()
    return hashlib.sha1(b"blob " + str(len(data)).encode() + b"\0" + data).hexdigest()


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any download or socket connection fails the test."""
    import pooch

    def refuse(*args, **kwargs):
        raise AssertionError(f"network use in a test: {args} {kwargs}")

    monkeypatch.setattr(pooch, "retrieve", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    clear_dataset_cache()
    yield
    clear_dataset_cache()


@pytest.fixture
def damaged_package(monkeypatch, tmp_path):
    """A copy of the package's release folder, used in place of the real one (tests modify it)."""
    folder = tmp_path / "release"
    shutil.copytree(files.SHIPPED_DIR, folder)
    monkeypatch.setattr(files, "SHIPPED_DIR", folder)
    files.clear_file_caches()
    yield folder
    files.clear_file_caches()


def _all_shipped(name: str) -> bool:
    return all(files.release_files()[r].get("shipped") for r in files.dataset_files(name))


SHIPPED_DATASETS = sorted(n for n in files.registry()["datasets"] if _all_shipped(n))


# ---------------------------------------------------------------------------
# the shipped copies are the published files


def test_every_shipped_copy_is_the_published_file():
    shipped = files.shipped_files()
    assert len(shipped) == 17
    for rel in shipped:
        entry = files.release_files()[rel]
        path = files.SHIPPED_DIR / rel
        assert path.is_file() and not path.is_symlink(), rel
        assert path.stat().st_size <= LIMIT, rel
        assert _sha256(path) == entry["sha256"], rel
        assert _git_blob(path) == entry["git_blob"], rel
        assert files.verify(rel, path) is True


def test_the_release_folder_holds_exactly_the_shipped_files():
    found = {p.relative_to(files.SHIPPED_DIR).as_posix() for p in files.SHIPPED_DIR.rglob("*") if p.is_file()}
    assert found == set(files.shipped_files())
    # every registered file ships unless listed (with its reason); nothing large ships
    assert set(files.release_files()) - found == set(NOT_SHIPPED)
    for rel in NOT_SHIPPED:
        assert not files.release_files()[rel].get("shipped"), rel


def test_the_datasets_of_the_fresh_install_command_ship():
    assert {"desi_dr2", "desi_dr1", "boss_dr12", "union3", "desy5_stat", "des_dovekie_stat", "eboss_dr16",
            "sdss_mgs"} <= set(SHIPPED_DATASETS)
    assert not {"pantheonplus", "desy5", "des_dovekie"} & set(SHIPPED_DATASETS)


def test_shipped_copies_are_byte_identical_to_the_data_folder():
    if not (SHARED / MEAN).is_file():
        pytest.skip("no data folder (PBUFJAX_DATA_DIR) to compare with")
    for rel in files.shipped_files():
        assert (files.SHIPPED_DIR / rel).read_bytes() == (SHARED / rel).read_bytes(), rel


def test_the_wheel_configuration_includes_the_release_folder():
    import tomllib

    cfg = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "release/**/*" in cfg["package-data"]["pbufjax.data"]


@pytest.mark.slow
def test_the_built_wheel_holds_every_shipped_file_unchanged(tmp_path):
    """``pip wheel`` (offline, no build isolation) on a copy of the project: each shipped file is in the wheel."""
    pytest.importorskip("wheel", reason="building the wheel offline needs the 'wheel' package")
    import zipfile

    repo = Path(__file__).resolve().parents[2]
    src = tmp_path / "project"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    src.mkdir()
    for item in ("pyproject.toml", "README.md"):
        shutil.copy2(repo / item, src / item)
    for folder in ("src", "data"):
        shutil.copytree(repo / folder, src / folder, ignore=ignore)
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                          "--quiet", "-w", str(tmp_path / "wheel"), str(src)],
                         capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    (wheel,) = (tmp_path / "wheel").glob("pbufjax-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for rel in files.shipped_files():
            data = zf.read(f"pbufjax/data/release/{rel}")
            assert hashlib.sha256(data).hexdigest() == files.release_files()[rel]["sha256"], rel
        assert "pbufjax/tables/release_files.json" in names
    assert not [n for n in names if "Pantheon+SH0ES" in n]


# ---------------------------------------------------------------------------
# where they come in the search, and the switch


def test_fresh_install_finds_every_shipped_file_in_the_package(fresh_install):
    for rel in files.shipped_files():
        assert files.resolve(rel) == files.SHIPPED_DIR / rel
        assert files.is_shipped_copy(files.resolve(rel))
    assert not fresh_install.exists()  # resolving writes nothing into the cache


def test_the_users_folders_come_before_the_package(fresh_install, tmp_path, monkeypatch):
    """Order: data_dir, $PBUFJAX_DATA_DIR, the user cache, then the package's copy."""
    def place(folder: Path) -> Path:
        dest = folder / MEAN
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(files.SHIPPED_DIR / MEAN, dest)
        return dest

    assert files.resolve(MEAN) == files.SHIPPED_DIR / MEAN
    in_cache = place(fresh_install)
    assert files.resolve(MEAN) == in_cache
    monkeypatch.setenv("PBUFJAX_DATA_DIR", str(tmp_path / "env"))
    in_env = place(tmp_path / "env")
    assert files.resolve(MEAN) == in_env
    in_arg = place(tmp_path / "arg")
    assert files.resolve(MEAN, tmp_path / "arg") == in_arg
    assert files.search_dirs(tmp_path / "arg") == [tmp_path / "arg", tmp_path / "env", fresh_install]


def test_switching_the_package_copies_off_names_the_switch_and_the_fetch_command(fresh_install, no_shipped_data):
    assert files.shipped_dir() is None and files.shipped_path(MEAN) is None
    with pytest.raises(files.DataFileNotFoundError) as e:
        files.resolve(MEAN, dataset="desi_dr2")
    msg = str(e.value)
    assert MEAN in msg and "PBUFJAX_SHIPPED_DATA=0" in msg and "pbufjax data fetch desi_dr2" in msg
    assert str(fresh_install / MEAN) in msg


@pytest.mark.parametrize("value", ["1", "yes", "on", "true", ""])
def test_switch_values_that_keep_the_copies(value, monkeypatch):
    monkeypatch.setenv("PBUFJAX_SHIPPED_DATA", value)
    assert files.shipped_dir() == files.SHIPPED_DIR


def test_a_bad_switch_value_is_refused_with_the_valid_ones(monkeypatch):
    monkeypatch.setenv("PBUFJAX_SHIPPED_DATA", "maybe")
    with pytest.raises(ValueError, match=r"PBUFJAX_SHIPPED_DATA='maybe'.*0, false, no, off, 1, true, yes, on"):
        files.shipped_dir()


def test_the_marker_counts_only_data_folders_unless_told(fresh_install):
    import conftest

    rels = files.dataset_files("desi_dr2")
    assert conftest._missing_release_files(["desi_dr2"]) == rels
    assert conftest._missing_release_files(["desi_dr2"], shipped=True) == []
    assert conftest._missing_release_files(["desy5"], shipped=True) == ["sn/desy5/covsys_000.txt"]


# ---------------------------------------------------------------------------
# a damaged or incomplete installation


def test_a_damaged_package_copy_is_refused_even_with_verify_false(fresh_install, damaged_package):
    rel = "bao/desi_dr2/desi_gaussian_bao_ALL_GCcomb_cov.txt"
    with open(damaged_package / rel, "a") as fh:
        fh.write("0\n")
    for call in (lambda: files.resolve(rel), lambda: load_dataset("desi_dr2"),
                 lambda: load_dataset("desi_dr2", verify=False)):
        with pytest.raises(files.DataFileHashError) as e:
            call()
        msg = str(e.value)
        assert str(damaged_package / rel) in msg and "package's own copy" in msg
        assert "pip install --force-reinstall pbufjax" in msg and "pbufjax data fetch desi_dr2 --force" in msg
    assert files.file_status([rel])[rel] is None


def test_a_good_copy_in_the_cache_stands_in_for_a_damaged_package_copy(fresh_install, damaged_package):
    rel = MEAN
    (damaged_package / rel).write_text("garbage\n")
    with pytest.raises(files.DataFileHashError):
        files.resolve(rel)
    dest = fresh_install / rel
    dest.parent.mkdir(parents=True)
    shutil.copyfile(Path(files.__file__).resolve().parent / "release" / rel, dest)  # the real package copy
    assert files.resolve(rel) == dest and files.verify(rel, dest)


def test_data_verify_reports_a_damaged_package_copy_with_exit_2(fresh_install, damaged_package, capsys,
                                                                 monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    rel = "sn/union3/mag_covmat.txt"
    with open(damaged_package / rel, "ab") as fh:
        fh.write(b" ")
    capsys.readouterr()
    code = cli.main(["data", "verify", "union3", "--json"])
    out, err = capsys.readouterr()
    rows = {r["file"]: r for r in json.loads(out)}
    assert code == 2 and rows[rel]["status"] == "HASH MISMATCH" and rows[rel]["shipped"] is True
    assert rel in err and "reinstall" in err
    assert rows["sn/union3/lcparam_full.txt"]["status"] == "ok"


def test_a_missing_package_copy_says_the_installation_is_incomplete(fresh_install, damaged_package):
    (damaged_package / MEAN).unlink()
    with pytest.raises(files.DataFileNotFoundError) as e:
        files.resolve(MEAN)
    assert "installation is incomplete" in str(e.value) and "pbufjax data fetch desi_dr2" in str(e.value)


# ---------------------------------------------------------------------------
# loading and fitting with no data folder and no network


@pytest.mark.parametrize("name", SHIPPED_DATASETS)
def test_every_shipped_dataset_loads_from_the_package(name, fresh_install):
    if name not in dataset_specs():
        pytest.skip(f"{name} has release files but no registered dataset spec")
    data = load_dataset(name)
    paths = data["metadata"]["files"]
    assert paths and all(files.is_shipped_copy(p) for p in paths.values()), paths
    assert data["metadata"]["n_points"] == len(data["observations"]) > 0


def test_data_list_and_fetch_need_nothing_for_shipped_datasets(fresh_install, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert cli.main(["data", "list"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert "ok (2 files, shipped)" in rows["desi_dr2"] and "ok (2 files, shipped)" in rows["union3"]
    assert "MISSING 1 of 2: pbufjax data fetch desy5" in rows["desy5"]
    assert cli.main(["data", "fetch", "union3", "--json"]) == 0  # nothing to download (pooch would refuse)
    assert json.loads(capsys.readouterr().out) == [str(files.SHIPPED_DIR / r) for r in files.dataset_files("union3")]
    assert not fresh_install.exists()


def test_fit_cmb_bao_sn_with_no_data_folder_and_no_network(fresh_install, capsys, monkeypatch, tmp_path):
    """The README's first command on a fresh machine (``--fetch`` too: nothing is missing, nothing downloads)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PBUFJAX_STORE_DIR", str(tmp_path / "store"))
    capsys.readouterr()
    code = cli.main(["fit", "--model", "lcdm", "--datasets", "cmb,bao,sn", "--optimize", "H0,Om0,Obh2",
                     "--fetch", "--json", "--no-save"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    assert doc["run"]["convergence_status"] == "success"
    assert 66 < doc["params"]["H0"] < 71 and 0.28 < doc["params"]["Om0"] < 0.33
    assert not fresh_install.exists()


@pytest.mark.slow
def test_fresh_clone_command_line_in_a_clean_process(tmp_path):
    """``pbufjax fit --model lcdm --datasets cmb,bao,sn`` in a new interpreter: no PBUFJAX_* setting, an empty
    home and cache, sockets refused."""
    script = ("import socket, sys\n"
              "def refuse(*a, **k):\n    raise OSError('network refused in this test')\n"
              "socket.socket.connect = refuse\n"
              "from pbufjax.cli import main\n"
              "sys.exit(main(['fit', '--model', 'lcdm', '--datasets', 'cmb,bao,sn', '--json', '--no-save']))\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PBUFJAX_")}
    env.update(HOME=str(tmp_path / "home"), XDG_CACHE_HOME=str(tmp_path / "xdg"))
    res = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=600, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    doc = json.loads(res.stdout)
    assert doc["datasets"] == ["planck2018_priors", "desi_dr2", "union3"]
    assert 0 < doc["metrics"]["total_chi2"] < 1e3
    cache = tmp_path / "xdg" / "pbufjax"  # the user cache folder here: nothing was fetched into it
    assert not (cache / "bao").exists() and not (cache / "sn").exists()
