"""Dataset loaders, validation, metadata and the release-file registry.

Release files come from ``PBUFJAX_DATA_DIR`` (CI: ``../shared/data``; see conftest.py).
Tests that modify files work on copies in a temporary folder.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from pbufjax.data import files as _shipped

from pbufjax import data_registry, datasets
from pbufjax.data_registry import DataFileHashError, DataFileNotFoundError
from pbufjax.datasets import (
    DataFormatError,
    DatasetValidationError,
    load_dataset,
    validate_dataset,
)

_GIVEN = Path(os.environ.get("PBUFJAX_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data"))
# without a data folder (a fresh clone), the release files that ship inside the package, in the same layout
DATA_DIR = _GIVEN if (_GIVEN / "bao" / "desi_dr2").is_dir() else Path(_shipped.SHIPPED_DIR)
needs_data = pytest.mark.skipif(
    not (DATA_DIR / "bao" / "desi_dr2").is_dir(), reason=f"release files not found in {DATA_DIR}"
)
PANTHEON_DAT = DATA_DIR / "sn/pantheonplus/Pantheon+SH0ES.dat"
PANTHEON_COV = DATA_DIR / "sn/pantheonplus/Pantheon+SH0ES_STAT+SYS.cov"
# the Pantheon+ table does not ship (579 KB): tests built on its real rows need a data folder or a fetch
needs_pantheon_table = pytest.mark.skipif(not PANTHEON_DAT.is_file(), reason=f"release file absent: {PANTHEON_DAT}")

EXPECTED_POINTS = {
    "planck2018_priors": 3,
    "planck2018_priors_ns": 4,
    "desi_dr2": 13,
    "desi_dr1": 12,
    "boss_dr12": 6,
    "union3": 22,
}


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch):
    """Point the user cache at an empty folder so only the intended folders are searched."""
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("PBUFJAX_CACHE_DIR", str(cache))
    return cache


def _copy_release(tmp_path: Path, rels) -> Path:
    root = tmp_path / "data"
    for rel in rels:
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DATA_DIR / rel, dest)
    return root


# ---------------------------------------------------------------------------
# Loading the real datasets
# ---------------------------------------------------------------------------


@needs_data
@pytest.mark.parametrize("name,n", sorted(EXPECTED_POINTS.items()))
def test_load_shape_and_metadata(name, n):
    d = load_dataset(name)
    assert d["name"] == name
    assert d["observations"].shape == (n,) and d["observations"].dtype == np.float64
    assert d["covariance"].shape == (n, n)
    meta = d["metadata"]
    for key in ("n_points", "redshift_range", "survey", "citation", "dataset_type", "arxiv"):
        assert meta[key] is not None, key
    assert meta["n_points"] == n
    assert len(d["labels"]) == n
    assert validate_dataset(d, meta["dataset_type"]) is True
    assert validate_dataset(d, name) is True
    np.linalg.cholesky(d["covariance"])


def test_aliases_resolve_to_the_documented_names():
    assert datasets.ALIASES == {"cmb": "planck2018_priors", "bao": "desi_dr2", "bao_ani": "boss_dr12", "sn": "union3"}
    for alias, name in datasets.ALIASES.items():
        assert datasets.resolve_name(alias) == name
    assert load_dataset("cmb")["name"] == "planck2018_priors"


def test_unknown_dataset_is_a_keyerror_listing_the_valid_names():
    with pytest.raises(KeyError) as e:
        load_dataset("nonexistent_dataset")
    msg = str(e.value)
    assert "nonexistent_dataset" in msg and "desi_dr2" in msg and "union3" in msg and "cmb -> planck2018_priors" in msg
    with pytest.raises(KeyError):
        datasets.get_dataset_info("nope")
    with pytest.raises(TypeError):
        load_dataset(3)


def test_planck_priors_are_the_published_table():
    # Chen, Huang & Wang 2019 (arXiv:1808.05724) Table I, Planck TT,TE,EE+lowE
    d = load_dataset("planck2018_priors_ns")
    assert d["observables"] == ("R", "l_A", "omega_b", "n_s")
    np.testing.assert_array_equal(d["observations"], [1.7502, 301.471, 0.02236, 0.9649])
    sig = np.sqrt(np.diag(d["covariance"]))
    np.testing.assert_allclose(sig, [0.0046, 0.0895, 0.00015, 0.0043], rtol=1e-14)
    corr = d["covariance"] / np.outer(sig, sig)
    expected = [[1, 0.46, -0.66, -0.74], [0.46, 1, -0.33, -0.35], [-0.66, -0.33, 1, 0.46], [-0.74, -0.35, 0.46, 1]]
    np.testing.assert_allclose(corr, expected, atol=1e-14)
    # the three-parameter priors are the Gaussian marginal over n_s
    d3 = load_dataset("planck2018_priors")
    np.testing.assert_array_equal(d3["observations"], d["observations"][:3])
    np.testing.assert_allclose(d3["covariance"], d["covariance"][:3, :3], rtol=1e-15)
    # the paper's own inverse covariance of (R, l_A, omega_b) (its distance.ini) agrees to the
    # rounding of the table's sigmas and correlations (<= 2.5% per entry)
    inv_paper = np.array(
        [[94392.3971, -1360.4913, 1664517.2916], [-1360.4913, 161.4349, 3671.6180], [1664517.2916, 3671.6180, 79719182.5162]]
    )
    np.testing.assert_allclose(np.linalg.inv(d3["covariance"]), inv_paper, rtol=0.25)
    np.testing.assert_allclose(np.diag(np.linalg.inv(d3["covariance"])), np.diag(inv_paper), rtol=0.025)


@needs_data
def test_desi_dr2_content():
    d = load_dataset("desi_dr2")
    assert d["quantities"][0] == "DV_over_rs" and d["redshifts"][0] == pytest.approx(0.295)
    assert d["observations"][0] == pytest.approx(7.94167639, abs=0)
    # the Lyman-alpha bin lists DH before DM
    assert d["quantities"][-2:] == ("DH_over_rs", "DM_over_rs")
    np.testing.assert_array_equal(d["redshifts"][-2:], [2.33, 2.33])
    # covariance: block-diagonal per redshift bin
    z = d["redshifts"]
    off = d["covariance"][~np.equal.outer(z, z)]
    assert np.all(off == 0.0)
    assert d["metadata"]["redshift_range"] == [0.295, 2.33]
    assert "2503.14738" in d["metadata"]["arxiv"]


@needs_data
def test_desi_dr1_content():
    d = load_dataset("desi_dr1")
    assert d["quantities"].count("DV_over_rs") == 2  # BGS and QSO
    assert d["redshifts"][9] == pytest.approx(1.491) and d["quantities"][9] == "DV_over_rs"


@needs_data
def test_boss_dr12_quantities_and_fiducial_sound_horizon():
    d = load_dataset("bao_ani")
    assert d["name"] == "boss_dr12" and d["metadata"]["dataset_type"] == "bao_ani"
    assert d["quantities"] == ("DM_rdfid_over_rs", "H_rs_over_rdfid") * 3
    np.testing.assert_array_equal(d["redshifts"], [0.38, 0.38, 0.51, 0.51, 0.61, 0.61])
    np.testing.assert_array_equal(d["rd_fid"], [147.78] * 6)
    assert d["observations"][0] == 1512.39 and d["observations"][1] == 81.2087
    assert d["covariance"][0, 0] == 624.707


@needs_data
def test_union3_content():
    d = load_dataset("sn")
    assert d["name"] == "union3"
    assert d["z_cmb"][0] == 0.05 and d["z_cmb"][-1] == pytest.approx(2.26226)
    np.testing.assert_array_equal(d["z_cmb"], d["z_hel"])
    assert d["observations"][0] == pytest.approx(36.630361, abs=0)
    assert d["covariance"][0, 0] == pytest.approx(0.0086044441289678, abs=0)
    # the published matrix is symmetric to the last printed digit (1e-14 relative)
    np.testing.assert_allclose(d["covariance"], d["covariance"].T, rtol=1e-13, atol=0)


@needs_data
def test_loaded_arrays_are_read_only_and_cached_copies_are_independent():
    a = load_dataset("desi_dr2")
    with pytest.raises(ValueError):
        a["observations"][0] = 1.0
    a["metadata"]["survey"] = "changed"
    b = load_dataset("desi_dr2")
    assert b["metadata"]["survey"] == "DESI DR2"


# ---------------------------------------------------------------------------
# Pantheon+: the covariance is missing from the shared data
# ---------------------------------------------------------------------------


@needs_data
@needs_pantheon_table
def test_pantheonplus_missing_covariance_error_names_file_folders_and_fetch_command(tmp_path, monkeypatch, isolated_cache):
    root = tmp_path / "data"
    (root / "sn/pantheonplus").mkdir(parents=True)
    os.symlink(PANTHEON_DAT, root / "sn/pantheonplus/Pantheon+SH0ES.dat")
    monkeypatch.setenv("PBUFJAX_DATA_DIR", str(root))
    for name in ("pantheonplus", "pantheonplus_shoes"):
        with pytest.raises(DataFileNotFoundError) as e:
            load_dataset(name)
        msg = str(e.value)
        assert "Pantheon+SH0ES_STAT+SYS.cov" in msg
        assert str(root / "sn/pantheonplus/Pantheon+SH0ES_STAT+SYS.cov") in msg
        assert str(isolated_cache / "sn/pantheonplus/Pantheon+SH0ES_STAT+SYS.cov") in msg
        assert f"pbufjax data fetch {name}" in msg
        assert isinstance(e.value, FileNotFoundError)


@needs_data
@needs_pantheon_table
def test_pantheonplus_info_without_covariance(isolated_cache):
    info = datasets.get_dataset_info("pantheonplus")
    assert info["n_points"] == 1590 and info["dataset_type"] == "sn"
    shoes = datasets.get_dataset_info("pantheonplus_shoes")
    assert shoes["n_points"] == 1657 and shoes["n_calibrators"] == 77
    if not PANTHEON_COV.exists():
        assert info["available"] is False
        assert info["missing"] == ["sn/pantheonplus/Pantheon+SH0ES_STAT+SYS.cov"]
        assert info["fetch_command"] == "pbufjax data fetch pantheonplus"


@needs_data
@pytest.mark.skipif(not PANTHEON_COV.exists(), reason=f"Pantheon+ covariance missing: {PANTHEON_COV}")
def test_pantheonplus_real_covariance():  # runs only where the published covariance is present
    d = load_dataset("pantheonplus", verify=False)
    assert d["covariance"].shape == (1590, 1590)
    s = load_dataset("pantheonplus_shoes", verify=False)
    assert s["covariance"].shape == (1657, 1657) and s["is_calibrator"].sum() == 77


def _synthetic_pantheon(tmp_path: Path):
    """A small file pair in the Pantheon+ formats: real rows of the .dat, a synthetic SPD covariance."""
    lines = PANTHEON_DAT.read_text().splitlines()
    header, rows = lines[0], lines[1:]
    cols = header.split()
    iz, ical = cols.index("zHD"), cols.index("IS_CALIBRATOR")
    cal = [r for r in rows if r.split()[ical] == "1"][:3]
    low = [r for r in rows if r.split()[ical] == "0" and float(r.split()[iz]) <= 0.01][:2]
    flow = [r for r in rows if float(r.split()[iz]) > 0.01][:5]
    chosen = cal + low + flow
    root = tmp_path / "synthetic"
    (root / "sn/pantheonplus").mkdir(parents=True)
    (root / "sn/pantheonplus/Pantheon+SH0ES.dat").write_text("\n".join([header] + chosen) + "\n")
    n = len(chosen)
    rng = np.random.default_rng(1)
    a = rng.normal(size=(n, n)) * 0.02
    cov = a @ a.T + np.diag(np.full(n, 0.01))
    (root / "sn/pantheonplus/Pantheon+SH0ES_STAT+SYS.cov").write_text(
        f"{n}\n" + "\n".join(f"{v:.17g}" for v in cov.ravel()) + "\n"
    )
    return root, cov, np.array([float(r.split()[iz]) for r in chosen]), np.array([r.split()[ical] == "1" for r in chosen])


@needs_data
@needs_pantheon_table
def test_pantheonplus_loader_on_a_synthetic_file_of_the_same_format(tmp_path, isolated_cache):
    root, cov, z, cal = _synthetic_pantheon(tmp_path)
    d = load_dataset("pantheonplus", data_dir=root, verify=False)
    keep = z > 0.01
    assert d["metadata"]["n_points"] == keep.sum() == 5
    np.testing.assert_array_equal(d["covariance"], cov[np.ix_(keep, keep)])
    assert "is_calibrator" not in d
    s = load_dataset("pantheonplus_shoes", data_dir=root, verify=False)
    keep = (z > 0.01) | cal
    assert s["metadata"]["n_points"] == keep.sum() == 8
    np.testing.assert_array_equal(s["covariance"], cov[np.ix_(keep, keep)])
    np.testing.assert_array_equal(s["is_calibrator"], cal[keep])
    assert np.all(np.isfinite(s["ceph_dist"][s["is_calibrator"]]))
    # the synthetic .dat is not the published file: the hash check refuses it
    with pytest.raises(DataFileHashError) as e:
        load_dataset("pantheonplus", data_dir=root)
    assert "Pantheon+SH0ES.dat" in str(e.value)


# ---------------------------------------------------------------------------
# Malformed files and invalid covariances
# ---------------------------------------------------------------------------

DR2 = ["bao/desi_dr2/desi_gaussian_bao_ALL_GCcomb_mean.txt", "bao/desi_dr2/desi_gaussian_bao_ALL_GCcomb_cov.txt"]


@needs_data
def test_modified_release_file_fails_the_hash_check(tmp_path, isolated_cache):
    root = _copy_release(tmp_path, DR2)
    p = root / DR2[0]
    p.write_text(p.read_text().replace("7.94167639", "7.94167640"))
    with pytest.raises(DataFileHashError) as e:
        load_dataset("desi_dr2", data_dir=root)
    assert str(p) in str(e.value) and "pbufjax data fetch desi_dr2" in str(e.value)
    assert load_dataset("desi_dr2", data_dir=root, verify=False)["observations"][0] == 7.9416764


@needs_data
@pytest.mark.parametrize(
    "old,new,line,what",
    [
        ("13.58758434 DM_over_rs", "13.58x58434 DM_over_rs", 3, "value"),
        ("0.70600000 17.35069094 DM_over_rs", "0.70600000 17.35069094", 5, "3 fields"),
        ("30.51190063 DM_over_rs", "30.51190063 DX_over_rs", 11, "DX_over_rs"),
    ],
)
def test_malformed_bao_mean_file_names_file_and_line(tmp_path, isolated_cache, old, new, line, what):
    root = _copy_release(tmp_path, DR2)
    p = root / DR2[0]
    text = p.read_text()
    assert old in text
    p.write_text(text.replace(old, new))
    with pytest.raises(DataFormatError) as e:
        load_dataset("desi_dr2", data_dir=root, verify=False)
    msg = str(e.value)
    assert str(p) in msg and f"line {line}" in msg and what in msg
    if what == "DX_over_rs":
        assert "DV_over_rs" in msg  # lists the valid names


@needs_data
def test_malformed_covariance_files(tmp_path, isolated_cache):
    root = _copy_release(tmp_path, DR2 + ["sn/union3/lcparam_full.txt", "sn/union3/mag_covmat.txt"])
    cov = root / DR2[1]
    lines = cov.read_text().splitlines()
    lines[4] = " ".join(lines[4].split()[:-1])  # ragged row
    cov.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFormatError, match=r"line 5: row has 12 entries"):
        load_dataset("desi_dr2", data_dir=root, verify=False)

    u3 = root / "sn/union3/mag_covmat.txt"
    vals = u3.read_text().splitlines()
    vals[7] = "0.00812x"
    u3.write_text("\n".join(vals) + "\n")
    with pytest.raises(DataFormatError) as e:
        load_dataset("union3", data_dir=root, verify=False)
    assert str(u3) in str(e.value) and "line 8" in str(e.value)
    u3.write_text("22\n" + "\n".join(["0.1"] * 483) + "\n")
    with pytest.raises(DataFormatError, match="expected N\\*N = 484 values"):
        load_dataset("union3", data_dir=root, verify=False)
    u3.write_text("twenty-two\n")
    with pytest.raises(DataFormatError, match="line 1"):
        load_dataset("union3", data_dir=root, verify=False)

    lc = root / "sn/union3/lcparam_full.txt"
    rows = lc.read_text().splitlines()
    rows[3] = "bin02 0.150000 0.150000 0.0"
    lc.write_text("\n".join(rows) + "\n")
    with pytest.raises(DataFormatError, match="line 4: expected at least 6 fields"):
        datasets.read_union3(lc)


@needs_data
@needs_pantheon_table
def test_malformed_pantheon_row(tmp_path):
    lines = PANTHEON_DAT.read_text().splitlines()[:6]
    lines[3] = " ".join(lines[3].split()[:-2])
    p = tmp_path / "Pantheon+SH0ES.dat"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFormatError) as e:
        datasets.read_pantheonplus(p)
    assert str(p) in str(e.value) and "line 4" in str(e.value)


@needs_data
def test_non_positive_definite_covariance_file_is_rejected(tmp_path, isolated_cache):
    root = _copy_release(tmp_path, DR2)
    c = np.loadtxt(root / DR2[1])
    c[1, 2] = c[2, 1] = 2.0 * np.sqrt(c[1, 1] * c[2, 2])  # |correlation| > 1
    np.savetxt(root / DR2[1], c)
    with pytest.raises(DatasetValidationError, match="not positive definite"):
        load_dataset("desi_dr2", data_dir=root, verify=False)


def _mutate(d, **kw):
    out = dict(d)
    out.update(kw)
    return out


@needs_data
def test_validate_dataset_rejections():
    d = load_dataset("desi_dr2")
    c = np.array(d["covariance"])
    obs = np.array(d["observations"])
    bad_sym = c.copy()
    bad_sym[0, 1] = 1e-3
    bad_pd = c.copy()
    bad_pd[0, 0] = -1.0
    bad_fin = c.copy()
    bad_fin[3, 3] = np.nan
    nan_obs = obs.copy()
    nan_obs[2] = np.nan
    cases = {
        "not symmetric": _mutate(d, covariance=bad_sym),
        "not positive definite": _mutate(d, covariance=bad_pd),
        "non-finite": _mutate(d, covariance=bad_fin),
        "square": _mutate(d, covariance=c[:, :12]),
        "12x12 but the data vector has 13": _mutate(d, covariance=c[:12, :12]),
        "observations have non-finite": _mutate(d, observations=nan_obs),
        "unknown BAO quantity": _mutate(d, quantities=("DZ_over_rs",) + tuple(d["quantities"][1:])),
        "12 quantities for 13": _mutate(d, quantities=tuple(d["quantities"][:12])),
        "'redshifts' has shape": _mutate(d, redshifts=d["redshifts"][:5]),
    }
    for msg, bad in cases.items():
        with pytest.raises(DatasetValidationError, match=msg):
            validate_dataset(bad, "bao")
    with pytest.raises(DatasetValidationError, match="dataset_type 'bao', expected 'sn'"):
        validate_dataset(d, "sn")
    with pytest.raises(KeyError):
        validate_dataset(d, "no_such_format")
    with pytest.raises(TypeError):
        validate_dataset([1, 2], "bao")
    boss = load_dataset("boss_dr12")
    with pytest.raises(DatasetValidationError, match="rd_fid"):
        validate_dataset(_mutate(boss, rd_fid=np.full(6, np.nan)), "bao_ani")
    cmb = load_dataset("cmb")
    with pytest.raises(DatasetValidationError, match="unknown CMB observable"):
        validate_dataset(_mutate(cmb, observables=("R", "l_A", "theta")), "cmb")
    sn = load_dataset("union3")
    with pytest.raises(DatasetValidationError, match="z_cmb"):
        validate_dataset(_mutate(sn, z_cmb=-np.array(sn["z_cmb"])), "sn")


@needs_data
def test_registered_new_loader_without_arguments(monkeypatch):
    base = load_dataset("desi_dr1")

    def load_new_dataset():
        return {"observations": base["observations"], "covariance": base["covariance"],
                "metadata": {"n_points": 12, "redshift_range": [0.295, 2.33], "survey": "copy"}}

    monkeypatch.setitem(datasets.DATASET_LOADERS, "new_dataset", load_new_dataset)
    d = load_dataset("new_dataset")
    assert d["name"] == "new_dataset" and d["metadata"]["n_points"] == 12


@needs_data
def test_get_dataset_info():
    for name, n in EXPECTED_POINTS.items():
        info = datasets.get_dataset_info(name)
        assert info["n_points"] == n and info["available"] is True
        assert info["citation"] and info["survey"] and info["dataset_type"] in datasets.DATASET_TYPES
    assert datasets.get_dataset_info("bao")["name"] == "desi_dr2"
    assert datasets.get_dataset_info("bao")["aliases"] == ["bao"]
    assert datasets.get_dataset_info("boss_dr12")["rd_fid"] == 147.78


# ---------------------------------------------------------------------------
# Release-file registry
# ---------------------------------------------------------------------------


@needs_data
def test_every_present_release_file_matches_its_registered_sha256():
    checked = 0
    for rel, entry in data_registry.release_files().items():
        assert entry["url"].startswith("https://")
        p = DATA_DIR / rel
        if entry["sha256"] is None:  # a large file fetched on demand: pinned by its git blob id instead
            assert len(entry["git_blob"]) == 40 and not p.exists(), rel
            continue
        if DATA_DIR == _shipped.SHIPPED_DIR and not entry.get("shipped"):
            continue  # no data folder: only the package's copies are here (not the Pantheon+ table)
        assert p.exists(), rel
        assert data_registry.sha256(p) == entry["sha256"]
        assert data_registry.verify(rel, p) is True
        checked += 1
    # DESI DR2, DR1, BOSS DR12, Union3 (2 each), the Pantheon+ table, eBOSS DR16 (4), SDSS MGS,
    # DES-SN5YR and DES-Dovekie (2 each); the package ships all but the Pantheon+ table
    assert checked == (17 if DATA_DIR == _shipped.SHIPPED_DIR else 18)


def test_every_dataset_with_release_files_is_registered():
    table = data_registry.registry()["datasets"]
    files = data_registry.release_files()
    for name, rels in table.items():
        assert name in datasets.DATASET_LOADERS
        assert all(r in files for r in rels)
    with pytest.raises(KeyError, match="desi_dr2"):
        data_registry.dataset_files("planck2018_priors")


def test_search_dirs_order(tmp_path, monkeypatch):
    monkeypatch.setenv("PBUFJAX_DATA_DIR", str(tmp_path / "env"))
    monkeypatch.setenv("PBUFJAX_CACHE_DIR", str(tmp_path / "cache"))
    assert data_registry.search_dirs(tmp_path / "arg") == [tmp_path / "arg", tmp_path / "env", tmp_path / "cache"]
    monkeypatch.delenv("PBUFJAX_DATA_DIR")
    assert data_registry.search_dirs() == [tmp_path / "cache"]


@needs_data
def test_explicit_data_dir_is_searched_first(tmp_path, isolated_cache):
    root = _copy_release(tmp_path, DR2)
    paths = data_registry.status("desi_dr2", root)
    assert all(p.startswith(str(root)) for p in paths.values())


@needs_data
def test_fetch_downloads_with_the_registered_hash(tmp_path, monkeypatch, isolated_cache, no_shipped_data):
    import pooch

    calls = []

    def fake_retrieve(url, known_hash, fname, path, progressbar):
        calls.append((url, known_hash, Path(path) / fname))
        dest = Path(path) / fname
        shutil.copyfile(DATA_DIR / "sn/union3" / fname, dest)
        return str(dest)

    monkeypatch.setattr(pooch, "retrieve", fake_retrieve)
    monkeypatch.setenv("PBUFJAX_DATA_DIR", str(tmp_path / "empty"))
    out = data_registry.fetch("sn")  # alias of union3
    files = data_registry.release_files()
    assert [c[0] for c in calls] == [files[r]["url"] for r in data_registry.dataset_files("union3")]
    assert [c[1] for c in calls] == [f"sha256:{files[r]['sha256']}" for r in data_registry.dataset_files("union3")]
    assert out == [isolated_cache / r for r in data_registry.dataset_files("union3")]
    # present and verified: no second download
    calls.clear()
    assert data_registry.fetch("union3") == out and calls == []
    with pytest.raises(KeyError, match="valid names"):
        data_registry.fetch("no_such_data")
