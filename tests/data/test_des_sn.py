"""DES-SN5YR and DES-Dovekie supernovae: loading, χ² against an independent numpy computation, bad files,
and the published flat-ΛCDM Ωm where the large (fetched) covariances are present.

The files are parsed here again with the csv, gzip and numpy modules; the χ² algebra (offset marginalized,
:math:`A - B^2/E`) is written here in numpy; only :math:`D_M(z)` comes from the pbufjax distance kernel.
"""

from __future__ import annotations

import csv
import gzip
import io

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import minimize

from pbufjax.cosmology.background import comoving_transverse_distance
from pbufjax.cosmology.parameters import build_params
from pbufjax.data import files as F
from pbufjax.data import load_dataset
from pbufjax.data.files import DataFileHashError, DataFileNotFoundError
from pbufjax.data.readers import DataFormatError, read_csv_table, read_des_covariance, read_triu_npz
from pbufjax.data.validation import DatasetValidationError
from pbufjax.likelihood import build_likelihood

DESY5_HD = "sn/desy5/DES-SN5YR_HD.csv"
DESY5_STAT = "sn/desy5/STATONLY.txt.gz"
DESY5_SYS = "sn/desy5/covsys_000.txt"
DOVEKIE_HD = "sn/des_dovekie/DES-Dovekie_HD.csv"
DOVEKIE_STAT = "sn/des_dovekie/STATONLY.npz"
DOVEKIE_TOT = "sn/des_dovekie/covtot_inv_000.npz"
MNU = 0.06  # eV: passed explicitly everywhere (DESI's and DES-Dovekie's baseline)


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("PBUFJAX_CACHE_DIR", str(cache))
    return cache


# ---------------------------------------------------------------------------
# Independent parsing and χ² (csv, gzip, numpy)
# ---------------------------------------------------------------------------


def csv_columns(path) -> dict[str, list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return {k: [r[k] for r in rows] for k in rows[0]}


def floats(cols, key) -> np.ndarray:
    return np.array([float(v) for v in cols[key]])


def triu_npz(path) -> np.ndarray:
    """The symmetric matrix of a DES-Dovekie .npz (N in 'nsn', upper triangle in 'cov')."""
    with np.load(path) as d:
        n = int(d["nsn"][0])
        tri = d["cov"].astype(np.float64)
    m = np.zeros((n, n))
    m[np.triu_indices(n)] = tri
    return np.triu(m) + np.triu(m, 1).T


def mu_theory(zhd, zhel, p) -> np.ndarray:
    """μ = 5 log10[(1+z_hel) D_M(z_HD)/Mpc] + 25 (D_M from the pbufjax kernel)."""
    dm = np.asarray(comoving_transverse_distance(jnp.asarray(zhd), p))
    return 5.0 * np.log10((1.0 + zhel) * dm) + 25.0


def chi2_marginalized(r, cinv) -> float:
    """χ² with the offset marginalized: A - B²/E (Conley et al. 2011, arXiv:1104.1443, appendix C)."""
    one = np.ones_like(r)
    a, b, e = r @ cinv @ r, one @ cinv @ r, one @ cinv @ one
    return float(a - b * b / e)


def desy5_reference(hd_path, extra_cov=None):
    """(zHD, zHEL, MU, C^-1) of a DES-SN5YR Hubble diagram, C = extra_cov + diag(MUERR_FINAL²)."""
    c = csv_columns(hd_path)
    err = floats(c, "MUERR_FINAL")
    cov = np.diag(err**2) if extra_cov is None else extra_cov + np.diag(err**2)
    return floats(c, "zHD"), floats(c, "zHEL"), floats(c, "MU"), np.linalg.inv(cov)


def dovekie_reference(hd_path, npz_path):
    c = csv_columns(hd_path)
    return floats(c, "zHD"), floats(c, "zHEL"), floats(c, "MU"), triu_npz(npz_path)


POINTS = [  # (model, free parameters, values, fixed)
    ("lcdm", ["Om0"], [0.30], {"H0": 70.0}),
    ("lcdm", ["H0", "Om0"], [67.0, 0.35], {}),
    ("lcdm", ["Om0"], [0.25], {"H0": 73.0, "Obh2": 0.0224}),
    ("w0wacdm", ["Om0", "w0", "wa"], [0.31, -0.8, -0.6], {"H0": 68.0}),
]


def pbufjax_chi2(name_or_data, model, free, values, fixed):
    lik = build_likelihood(model, [name_or_data], free, {"mnu": MNU, **fixed})
    return float(lik.chi2(jnp.asarray(values)))


def reference_chi2(ref, model, free, values, fixed):
    zhd, zhel, mu, cinv = ref
    p = build_params(model, {"mnu": MNU, **fixed, **dict(zip(free, values))})
    return chi2_marginalized(mu - mu_theory(zhd, zhel, p), cinv)


# ---------------------------------------------------------------------------
# The released files (statistical covariances ship; the large ones are fetched)
# ---------------------------------------------------------------------------


def test_desy5_stat_content_matches_an_independent_parse():
    d = load_dataset("desy5_stat")
    c = csv_columns(F.resolve(DESY5_HD))
    assert d["observations"].shape == (1829,) and d["metadata"]["n_points"] == 1829
    np.testing.assert_array_equal(d["observations"], floats(c, "MU"))
    np.testing.assert_array_equal(d["z_cmb"], floats(c, "zHD"))  # zHD, not zCMB, for the distances
    np.testing.assert_array_equal(d["z_hel"], floats(c, "zHEL"))
    assert d["labels"] == c["CID"]
    # STATONLY.txt.gz: N = 1829, then N*N zeros; the statistical errors are MUERR_FINAL
    with gzip.open(F.resolve(DESY5_STAT), "rt") as f:
        tokens = f.read().split()
    assert int(tokens[0]) == 1829 and len(tokens) == 1 + 1829**2
    assert not np.any(np.array(tokens[1:], dtype=float))
    np.testing.assert_array_equal(d["covariance"], np.diag(floats(c, "MUERR_FINAL") ** 2))
    assert d["metadata"]["n_des"] == 1635 and d["metadata"]["n_low_z"] == 194  # arXiv:2401.02929 abstract
    assert d["metadata"]["redshift_range"] == [0.02509, 1.12132]
    assert np.all(d["z_cmb"] > 0.01)  # no row is cut: Cobaya's sn.desy5 keeps all 1829


def test_des_dovekie_stat_content_matches_an_independent_parse():
    d = load_dataset("des_dovekie_stat")
    c = csv_columns(F.resolve(DOVEKIE_HD))
    p = triu_npz(F.resolve(DOVEKIE_STAT))
    assert d["observations"].shape == (1820,) and p.shape == (1820, 1820)
    np.testing.assert_array_equal(d["observations"], floats(c, "MU"))
    np.testing.assert_array_equal(d["z_cmb"], floats(c, "zHD"))
    np.testing.assert_array_equal(d["z_hel"], floats(c, "zHEL"))
    # STATONLY.npz is the inverse of the diagonal statistical covariance 1/MUERR² (float32)
    assert np.count_nonzero(p - np.diag(np.diag(p))) == 0
    np.testing.assert_allclose(np.diag(p), 1.0 / floats(c, "MUERR") ** 2, rtol=1e-6)
    np.testing.assert_allclose(d["covariance"], np.diag(1.0 / np.diag(p)), rtol=1e-13, atol=0)
    assert d["metadata"]["n_des"] == 1623 and d["metadata"]["n_low_z"] == 197
    assert d["metadata"]["redshift_range"] == [0.02509, 1.14418]
    # PROBIA_BEAMS is returned, not cut on (as Cobaya's sn.desdovekie and the release's likelihood)
    np.testing.assert_array_equal(d["probia_beams"], floats(c, "PROBIA_BEAMS"))
    assert (d["probia_beams"] < 0.5).sum() == 101


@pytest.mark.parametrize("model,free,values,fixed", POINTS)
def test_desy5_stat_chi2_matches_numpy(model, free, values, fixed):
    ref = desy5_reference(F.resolve(DESY5_HD))
    # tolerance 1e-10 relative: the same D_M, two orderings of the same sums
    assert pbufjax_chi2("desy5_stat", model, free, values, fixed) == pytest.approx(
        reference_chi2(ref, model, free, values, fixed), rel=1e-10)


@pytest.mark.parametrize("model,free,values,fixed", POINTS)
def test_des_dovekie_stat_chi2_matches_numpy_with_the_released_inverse_covariance(model, free, values, fixed):
    ref = dovekie_reference(F.resolve(DOVEKIE_HD), F.resolve(DOVEKIE_STAT))
    assert pbufjax_chi2("des_dovekie_stat", model, free, values, fixed) == pytest.approx(
        reference_chi2(ref, model, free, values, fixed), rel=1e-10)


@pytest.mark.parametrize("name", ["desy5_stat", "des_dovekie_stat"])
def test_offset_marginalization_ignores_a_constant_and_equals_the_minimum_over_the_offset(name):
    lik = build_likelihood("lcdm", [name], ["H0", "Om0"], {"mnu": MNU})
    theta = jnp.array([70.0, 0.32])
    d = load_dataset(name)
    shifted = float(lik.chi2_data(theta, {name: jnp.asarray(d["observations"]) + 0.7}))
    assert shifted == pytest.approx(float(lik.chi2(theta)), rel=1e-10)  # MU's H0 = 70 convention is irrelevant
    ev = lik.evaluate(theta)[name]
    r = d["observations"] - np.asarray(ev["predictions"]["mu_theory"])
    w = 1.0 / np.diag(d["covariance"])  # both statistical covariances are diagonal
    offsets = float(ev["predictions"]["offset"]) + np.linspace(-0.05, 0.05, 2001)
    brute = min(float(np.sum(w * (r - m) ** 2)) for m in offsets)
    assert ev["chi2"] == pytest.approx(brute, rel=1e-8)


def fit_om(lik):
    """Best-fit Ωm (flat ΛCDM, Om0 the one free parameter) and its Gaussian error from the curvature."""
    vg = lik.value_and_grad

    def f(x):
        v, g = vg(jnp.asarray(x))
        return float(v), np.asarray(g, dtype=np.float64)

    res = minimize(f, [0.3], jac=True, method="L-BFGS-B", bounds=[(0.05, 0.9)],
                   options={"ftol": 1e-14, "gtol": 1e-9})
    assert res.success, res.message
    x, h = float(res.x[0]), 1e-4
    curv = (f([x + h])[1][0] - f([x - h])[1][0]) / (2 * h)
    return x, float(np.sqrt(2.0 / curv)), float(res.fun)


@pytest.mark.parametrize("name,om,sig,published,published_sig", [
    # measured here (flat ΛCDM, mnu = 0.06 eV, SN alone, statistical covariance only)
    ("desy5_stat", 0.3627, 0.0115, 0.352, 0.017),  # published stat+sys: arXiv:2401.02929
    ("des_dovekie_stat", 0.3486, 0.0111, 0.330, 0.015),  # published stat+sys: arXiv:2511.07517
])
def test_statistical_only_fit(name, om, sig, published, published_sig):
    x, err, chi2 = fit_om(build_likelihood("lcdm", [name], ["Om0"], {"mnu": MNU, "H0": 70.0}))
    assert x == pytest.approx(om, abs=5e-4) and err == pytest.approx(sig, rel=0.02)
    # statistics alone: within about one published (stat+sys) σ, and tighter than it
    assert abs(x - published) < 1.3 * published_sig and err < published_sig
    assert 0.85 < chi2 / build_likelihood("lcdm", [name], ["Om0"], {"mnu": MNU}).n_total < 1.0


@pytest.mark.release_files("desy5")
def test_desy5_reproduces_the_published_omega_m():
    # DES Collaboration 2024 (arXiv:2401.02929): flat ΛCDM, SN alone, stat+sys: Ωm = 0.352 ± 0.017
    # (the release's chain 5_COSMOLOGY/chains/flcdm/flcdm_SN.txt: mean 0.3520, σ 0.0171)
    d = load_dataset("desy5")
    assert d["covariance"].shape == (1829, 1829)
    x, err, _ = fit_om(build_likelihood("lcdm", ["desy5"], ["Om0"], {"mnu": MNU, "H0": 70.0}))
    assert abs(x - 0.352) < 0.3 * 0.017
    assert err == pytest.approx(0.017, rel=0.15)


@pytest.mark.release_files("des_dovekie")
def test_des_dovekie_reproduces_the_published_omega_m():
    # Popovic et al. 2025 (arXiv:2511.07517): flat ΛCDM, SN alone: Ωm = 0.330 ± 0.015 (mnu = 0.06 eV;
    # the release's chain 5_COSMOLOGY/chains/flcdm/dovekie_lcdm_nautilus.txt: mean 0.3306, σ 0.0154)
    d = load_dataset("des_dovekie")
    assert d["covariance"].shape == (1820, 1820)
    ref = dovekie_reference(F.resolve(DOVEKIE_HD), F.resolve(DOVEKIE_TOT))
    model, free, values, fixed = POINTS[0]
    assert pbufjax_chi2("des_dovekie", model, free, values, fixed) == pytest.approx(
        reference_chi2(ref, model, free, values, fixed), rel=1e-8)
    x, err, _ = fit_om(build_likelihood("lcdm", ["des_dovekie"], ["Om0"], {"mnu": MNU, "H0": 70.0}))
    assert abs(x - 0.330) < 0.3 * 0.015
    assert err == pytest.approx(0.015, rel=0.15)


@pytest.mark.parametrize("name,rel", [("desy5", DESY5_SYS), ("des_dovekie", DOVEKIE_TOT)])
def test_missing_large_covariance_names_the_file_and_the_fetch_command(name, rel, tmp_path, isolated_cache):
    try:
        F.resolve(rel)
        pytest.skip(f"{rel} is present here")
    except DataFileNotFoundError:
        pass
    with pytest.raises(DataFileNotFoundError) as e:
        load_dataset(name)
    msg = str(e.value)
    assert rel in msg and f"pbufjax data fetch {name}" in msg and str(isolated_cache / rel) in msg
    info = load_info(name)
    assert info["available"] is False and info["missing"] == [rel]
    assert info["n_points"] == {"desy5": 1829, "des_dovekie": 1820}[name]  # read from the Hubble diagram


def load_info(name):
    from pbufjax.data import get_dataset_info

    return get_dataset_info(name)


# ---------------------------------------------------------------------------
# Full-covariance loaders on small files of the release formats (synthetic covariances)
# ---------------------------------------------------------------------------

N_SMALL = 12


def small_hd(root, rel, n=N_SMALL, edit=None) -> list[str]:
    """The header and the first ``n`` rows of a released Hubble diagram, written under ``root``."""
    lines = F.resolve(rel).read_text().splitlines()[: n + 1]
    if edit is not None:
        lines = edit(lines)
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return lines


def spd(n, seed=3) -> np.ndarray:
    a = np.random.default_rng(seed).normal(size=(n, n)) * 0.03
    return a @ a.T + np.diag(np.full(n, 1e-3))


def write_flat(path, m, n=None):
    n = m.shape[0] if n is None else n
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{n}\n" + "\n".join(f"{v:.17g}" for v in np.ravel(m)) + "\n")


def write_triu(path, m, dtype=np.float32, **members):
    path.parent.mkdir(parents=True, exist_ok=True)
    n = m.shape[0]
    content = {"nsn": np.array([n]), "cov": m[np.triu_indices(n)].astype(dtype)}
    content.update(members)
    np.savez(path, **{k: v for k, v in content.items() if v is not None})


def test_desy5_loader_adds_muerr_final_squared_to_the_systematic_covariance(tmp_path, isolated_cache):
    small_hd(tmp_path, DESY5_HD)
    sys = spd(N_SMALL)
    write_flat(tmp_path / DESY5_SYS, sys)
    d = load_dataset("desy5", data_dir=tmp_path, verify=False)
    ref = desy5_reference(tmp_path / DESY5_HD, sys)
    err = floats(csv_columns(tmp_path / DESY5_HD), "MUERR_FINAL")
    np.testing.assert_array_equal(d["covariance"], sys + np.diag(err**2))
    for model, free, values, fixed in POINTS:
        assert pbufjax_chi2(d, model, free, values, fixed) == pytest.approx(
            reference_chi2(ref, model, free, values, fixed), rel=1e-10)
    # the modified Hubble diagram is not the published one: the sha256 check refuses it
    with pytest.raises(DataFileHashError, match="DES-SN5YR_HD.csv"):
        load_dataset("desy5", data_dir=tmp_path)


def test_des_dovekie_loader_inverts_the_released_inverse_covariance(tmp_path, isolated_cache):
    small_hd(tmp_path, DOVEKIE_HD)
    prec = np.linalg.inv(spd(N_SMALL, seed=5))
    write_triu(tmp_path / DOVEKIE_TOT, prec)
    d = load_dataset("des_dovekie", data_dir=tmp_path, verify=False)
    p32 = triu_npz(tmp_path / DOVEKIE_TOT)  # what the file holds (float32-rounded)
    np.testing.assert_allclose(d["covariance"] @ p32, np.eye(N_SMALL), atol=1e-9)
    ref = dovekie_reference(tmp_path / DOVEKIE_HD, tmp_path / DOVEKIE_TOT)
    for model, free, values, fixed in POINTS:
        assert pbufjax_chi2(d, model, free, values, fixed) == pytest.approx(
            reference_chi2(ref, model, free, values, fixed), rel=1e-9)


# ---------------------------------------------------------------------------
# Bad files: a clear error naming the file
# ---------------------------------------------------------------------------


def _cut_last_row(lines):  # a file truncated in the middle of its last row
    last = lines[-1].split(",")
    return lines[:-1] + [",".join(last[:3])]


def _set_value(lines, column="MU", row=4, value="nan"):
    header = lines[0].split(",")
    parts = lines[row].split(",")
    parts[header.index(column)] = value
    return lines[:row] + [",".join(parts)] + lines[row + 1:]


@pytest.mark.parametrize("rel", [DESY5_HD, DOVEKIE_HD])
@pytest.mark.parametrize("edit,match", [
    (_cut_last_row, "line 13: expected .* comma-separated fields"),
    (_set_value, "line 5: MU is 'nan', not a finite number"),
    (lambda ls: [ls[0].replace("zHEL", "zhelio")] + ls[1:], r"line 1: header lacks column\(s\) \['zHEL'\]"),
    (lambda ls: ls[:1], "no header or no data lines"),
    (lambda ls: _set_value(ls, "zHEL", 3, "0.1x"), "line 4: cannot read zHEL from '0.1x'"),
])
def test_bad_hubble_diagram(tmp_path, rel, edit, match):
    small_hd(tmp_path, rel, edit=edit)
    with pytest.raises(DataFormatError, match=match) as e:
        cols = ("zHD", "zHEL", "MU")
        read_csv_table(tmp_path / rel, cols)
    assert str(tmp_path / rel) in str(e.value)


def _desy5_files(root, sys=None, n_cov=None, hd_edit=None):
    small_hd(root, DESY5_HD, edit=hd_edit)
    write_flat(root / DESY5_SYS, spd(N_SMALL) if sys is None else sys, n_cov)


@pytest.mark.parametrize("make,error,match", [
    (lambda r: _desy5_files(r, spd(N_SMALL - 1)), DataFormatError, r"matrix is 11x11 but .* has 12 supernovae"),
    (lambda r: _desy5_files(r, spd(N_SMALL)[:-1], N_SMALL), DataFormatError, "expected N\\*N = 144 values .* got 132"),
    (lambda r: _desy5_files(r, np.where(np.eye(N_SMALL) > 0, np.nan, spd(N_SMALL))), DataFormatError,
     r"entry \(0, 0\) is nan"),
    (lambda r: _desy5_files(r, spd(N_SMALL) + np.triu(np.full((N_SMALL, N_SMALL), 1e-3), 1)),
     DatasetValidationError, "not symmetric"),
    (lambda r: _desy5_files(r, -np.eye(N_SMALL)), DatasetValidationError, "not positive definite"),
    (lambda r: _desy5_files(r, hd_edit=lambda ls: ls[:-1]), DataFormatError, "has 11 supernovae"),
])
def test_bad_desy5_covariance(tmp_path, isolated_cache, make, error, match):
    make(tmp_path)
    with pytest.raises(error, match=match) as e:
        load_dataset("desy5", data_dir=tmp_path, verify=False)
    assert str(tmp_path / DESY5_SYS) in str(e.value)


def test_gzip_covariance_reads_like_the_text_and_a_truncated_stream_is_refused(tmp_path):
    m = spd(4)
    write_flat(tmp_path / "c.txt", m)
    (tmp_path / "c.txt.gz").write_bytes(gzip.compress((tmp_path / "c.txt").read_bytes()))
    np.testing.assert_array_equal(read_des_covariance(tmp_path / "c.txt.gz"), m)
    np.testing.assert_array_equal(read_des_covariance(tmp_path / "c.txt"), m)
    blob = (tmp_path / "c.txt.gz").read_bytes()
    (tmp_path / "cut.txt.gz").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataFormatError, match="cut.txt.gz: cannot decompress the gzip stream"):
        read_des_covariance(tmp_path / "cut.txt.gz")
    (tmp_path / "bin.txt.gz").write_bytes(gzip.compress(b"\xff\xfe\x00"))
    with pytest.raises(DataFormatError, match="not UTF-8 text"):
        read_des_covariance(tmp_path / "bin.txt.gz")


def _npz_bytes(**members) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **members)
    return buf.getvalue()


@pytest.mark.parametrize("content,match", [
    (lambda m: _npz_bytes(nsn=np.array([N_SMALL]), cov=m[np.triu_indices(N_SMALL)].astype(np.float32))[:300],
     "not a readable .npz archive"),
    (lambda m: b"12\n0.1 0.2\n", "not a readable .npz archive"),
    (lambda m: _npz_bytes(n=np.array([N_SMALL]), cov=m[np.triu_indices(N_SMALL)]), r"lacks member\(s\) \['nsn'\]"),
    (lambda m: _npz_bytes(nsn=np.array([N_SMALL]), cov=m[np.triu_indices(N_SMALL)][:-1]),
     r"N\(N\+1\)/2 = 78 upper-triangle values of an N = 12 matrix, got 77"),
    (lambda m: _npz_bytes(nsn=np.array([0]), cov=np.zeros(0)), "one positive integer N"),
    (lambda m: _npz_bytes(nsn=np.array([N_SMALL]),
                          cov=np.where(np.arange(78) == 5, np.nan, m[np.triu_indices(N_SMALL)])),
     r"entry \(0, 5\) is nan"),
    (lambda m: _npz_bytes(nsn=np.array([N_SMALL]), cov=np.array([{"a": 1}], dtype=object)),
     "not a readable .npz archive"),  # pickled object arrays are never loaded
])
def test_bad_npz(tmp_path, content, match):
    path = tmp_path / "bad.npz"
    path.write_bytes(content(spd(N_SMALL)))
    with pytest.raises(DataFormatError, match=match) as e:
        read_triu_npz(path)
    assert str(path) in str(e.value)


def test_bad_dovekie_files(tmp_path, isolated_cache):
    small_hd(tmp_path, DOVEKIE_HD)
    write_triu(tmp_path / DOVEKIE_TOT, -np.eye(N_SMALL))  # an inverse covariance that is not positive definite
    with pytest.raises(DatasetValidationError, match="covtot_inv_000.npz: inverse covariance is not positive definite"):
        load_dataset("des_dovekie", data_dir=tmp_path, verify=False)
    write_triu(tmp_path / DOVEKIE_TOT, np.linalg.inv(spd(N_SMALL - 2)))
    with pytest.raises(DataFormatError, match=r"matrix is 10x10 but .*DES-Dovekie_HD.csv has 12 supernovae"):
        load_dataset("des_dovekie", data_dir=tmp_path, verify=False)
    # rows out of the covariance's order
    small_hd(tmp_path, DOVEKIE_HD, edit=lambda ls: [ls[0], ls[2], ls[1]] + ls[3:])
    write_triu(tmp_path / DOVEKIE_TOT, np.linalg.inv(spd(N_SMALL)))
    with pytest.raises(DataFormatError, match="column Index must number the rows 0..11 in order"):
        load_dataset("des_dovekie", data_dir=tmp_path, verify=False)


def test_triu_npz_round_trip(tmp_path):
    m = spd(5)
    write_triu(tmp_path / "m.npz", m, dtype=np.float64)
    np.testing.assert_array_equal(read_triu_npz(tmp_path / "m.npz"), m)
    got = read_triu_npz(F.resolve(DOVEKIE_STAT))
    assert got.dtype == np.float64 and got.shape == (1820, 1820)
    np.testing.assert_array_equal(got, triu_npz(F.resolve(DOVEKIE_STAT)))


@pytest.mark.release_files("pantheonplus")
def test_pantheonplus_reproduces_the_published_omega_m():
    # Brout et al. 2022 (arXiv:2202.04077), flat ΛCDM, Pantheon+ alone (zHD > 0.01, stat+sys, M_B
    # marginalized): Ωm = 0.334 ± 0.018; runs once `pbufjax data fetch pantheonplus` has fetched the covariance
    x, err, _ = fit_om(build_likelihood("lcdm", ["pantheonplus"], ["Om0"], {"mnu": MNU, "H0": 70.0}))
    assert abs(x - 0.334) < 0.3 * 0.018
    assert err == pytest.approx(0.018, rel=0.15)
