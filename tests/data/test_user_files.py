"""A user's own SN and BAO data (pbufjax.data.user): from files and arrays, χ² against independent numpy
computations and against the built-in releases, and bad files named with their line.

The small files are written in tmp_path from real release rows (DES-SN5YR, Union3, DESI DR2); the files are
parsed here again with csv/numpy, the χ² algebra is written here in numpy, and only D_M(z) and H(z) come from
the pbufjax distance kernels.
"""

from __future__ import annotations

import csv
import gzip

import jax.numpy as jnp
import numpy as np
import pytest

import pbufjax.data as D
from pbufjax.cosmology.background import comoving_transverse_distance, hubble
from pbufjax.cosmology.parameters import build_params
from pbufjax.data import files as F
from pbufjax.data.readers import DataFormatError
from pbufjax.data.user import file_dataset_name
from pbufjax.data.validation import DatasetValidationError
from pbufjax.likelihood import build_likelihood

DESY5_HD = "sn/desy5/DES-SN5YR_HD.csv"
UNION3 = ("sn/union3/lcparam_full.txt", "sn/union3/mag_covmat.txt")
DESI_DR2 = ("bao/desi_dr2/desi_gaussian_bao_ALL_GCcomb_mean.txt", "bao/desi_dr2/desi_gaussian_bao_ALL_GCcomb_cov.txt")
MNU = 0.06  # eV, passed explicitly
C_KM_S = 299792.458

POINTS = [  # (model, free parameters, values, fixed)
    ("lcdm", ["Om0"], [0.30], {"H0": 70.0}),
    ("lcdm", ["H0", "Om0"], [67.0, 0.35], {}),
    ("w0wacdm", ["Om0", "w0", "wa"], [0.31, -0.8, -0.6], {"H0": 68.0}),
]


@pytest.fixture(autouse=True)
def _forget_user_datasets():
    yield
    D.unregister_user_datasets()


# ---------------------------------------------------------------------------
# independent parsing and χ²


def des_rows(n=50):
    with open(F.resolve(DESY5_HD), newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return rows[:n]


def write_des_rows(path, rows, sep=","):
    cols = list(rows[0])
    path.write_text(sep.join(cols) + "\n" + "".join(sep.join(r[c] for c in cols) + "\n" for r in rows))
    return path


def mu_theory(z, zhel, p):
    dm = np.asarray(comoving_transverse_distance(jnp.asarray(z), p))
    return 5.0 * np.log10((1.0 + zhel) * dm) + 25.0


def chi2_marginalized(r, cov):
    """A - B²/E, the SN χ² with the offset marginalized (Conley et al. 2011, arXiv:1104.1443, appendix C)."""
    cinv = np.linalg.inv(cov)
    one = np.ones_like(r)
    return float(r @ cinv @ r - (one @ cinv @ r) ** 2 / (one @ cinv @ one))


def pbufjax_chi2(name, model, free, values, fixed, **kw):
    lik = build_likelihood(model, [name], free, {"mnu": MNU, **fixed, **kw})
    return float(lik.chi2(jnp.asarray(values, dtype=float)))


def params(model, free, values, fixed):
    return build_params(model, {"mnu": MNU, **fixed, **dict(zip(free, values))})


# ---------------------------------------------------------------------------
# SN


@pytest.mark.parametrize("point", POINTS, ids=lambda p: f"{p[0]}-{'-'.join(p[1])}")
def test_sn_csv_from_des_rows_matches_numpy(tmp_path, point):
    rows = des_rows(50)
    path = write_des_rows(tmp_path / "des50.csv", rows)
    spec = D.register_user_dataset("des50", "sn", file=path)
    assert spec.kind == "sn" and spec.metadata["n_points"] == 50
    z = np.array([float(r["zHD"]) for r in rows])  # zHD (CMB frame, peculiar-velocity corrected) for D_M
    zhel = np.array([float(r["zHEL"]) for r in rows])
    mu = np.array([float(r["MU"]) for r in rows])
    err = np.array([float(r["MUERR_FINAL"]) for r in rows])
    model, free, values, fixed = point
    ref = chi2_marginalized(mu - mu_theory(z, zhel, params(*point)), np.diag(err**2))
    assert pbufjax_chi2("des50", model, free, values, fixed) == pytest.approx(ref, rel=1e-9, abs=1e-9)


def test_sn_file_content_and_metadata(tmp_path):
    rows = des_rows(50)
    d = D.load_dataset(D.register_user_dataset("des50", "sn", file=write_des_rows(tmp_path / "des50.csv", rows)).name)
    assert d["labels"] == [r["CID"] for r in rows]
    np.testing.assert_array_equal(d["z_cmb"], [float(r["zHD"]) for r in rows])
    np.testing.assert_array_equal(d["z_hel"], [float(r["zHEL"]) for r in rows])
    np.testing.assert_array_equal(np.diag(d["covariance"]), [float(r["MUERR_FINAL"]) ** 2 for r in rows])
    meta = d["metadata"]
    assert meta["dataset_type"] == "sn" and meta["observable"] == "mu" and meta["offset"] == "marginalized"
    assert meta["covariance_source"] == "diag(MUERR_FINAL**2)" and meta["files"]["table"].endswith("des50.csv")
    info = D.get_dataset_info("des50")
    assert info["n_points"] == 50 and info["available"] and info["dataset_type"] == "sn"


def test_sn_whole_des_file_equals_builtin_desy5_stat(tmp_path):
    """All 1829 rows, diagonal MUERR_FINAL: the same data and χ² as desy5_stat (whose STATONLY part is zero)."""
    path = write_des_rows(tmp_path / "all.csv", des_rows(None))
    D.register_user_dataset("des_all", "sn", file=path)
    for model, free, values, fixed in POINTS[:2]:
        assert pbufjax_chi2("des_all", model, free, values, fixed) == pytest.approx(
            pbufjax_chi2("desy5_stat", model, free, values, fixed), rel=1e-10)


def test_sn_whitespace_comment_header_m_b_and_flat_covariance_equal_union3(tmp_path):
    """Union3's 22 nodes rewritten as 'name zcmb zhel mb dmb' under a '#' header, with the release's own
    mag_covmat.txt (N, then N*N values): the same χ² as the built-in union3."""
    lc, cov = (F.resolve(r) for r in UNION3)
    rows = [ln.split() for ln in lc.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    table = tmp_path / "union3_nodes.txt"
    table.write_text("# nodes of Union3\n#name zcmb zhel mb dmb\n" + "".join(" ".join(r[:3] + r[4:6]) + "\n"
                                                                         for r in rows))
    D.register_user_dataset("u3", "sn", file=table, covariance=cov)
    d = D.load_dataset("u3")
    assert d["metadata"]["observable"] == "m_b" and d["metadata"]["n_points"] == 22
    tokens = cov.read_text().split()
    np.testing.assert_array_equal(d["covariance"], np.array(tokens[1:], float).reshape(22, 22))
    for model, free, values, fixed in POINTS:
        assert pbufjax_chi2("u3", model, free, values, fixed) == pytest.approx(
            pbufjax_chi2("union3", model, free, values, fixed), rel=1e-10)


def test_sn_arrays_with_covariance_and_add_errors(tmp_path):
    rows = des_rows(30)
    z = [float(r["zHD"]) for r in rows]
    mu = [float(r["MU"]) for r in rows]
    err = np.array([float(r["MUERR_FINAL"]) for r in rows])
    extra = 0.01 * np.exp(-np.abs(np.subtract.outer(z, z)) / 0.1)  # a correlated part on top of the errors
    D.register_dataset("arr", kind="sn", z=z, values=mu, errors=err, covariance=extra, add_errors=True)
    d = D.load_dataset("arr")
    np.testing.assert_allclose(d["covariance"], extra + np.diag(err**2))
    np.testing.assert_array_equal(d["z_hel"], z)  # z_hel defaults to z_cmb
    point = POINTS[1]
    ref = chi2_marginalized(np.array(mu) - mu_theory(np.array(z), np.array(z), params(*point)),
                            extra + np.diag(err**2))
    assert pbufjax_chi2("arr", *point) == pytest.approx(ref, rel=1e-9)
    np.savetxt(tmp_path / "extra.txt", extra)  # the same from a square-matrix file, positional kind
    D.register_dataset("arr_file", "sn", z=z, values=mu, errors=err, covariance=tmp_path / "extra.txt",
                       add_errors=True)
    assert pbufjax_chi2("arr_file", *point) == pytest.approx(ref, rel=1e-9)


# ---------------------------------------------------------------------------
# BAO


def desi_files():
    return tuple(F.resolve(r) for r in DESI_DR2)


def bao_chi2_numpy(z, vals, qs, cov, p, rd):
    """Gaussian BAO χ² from D_M and D_H = c/H (DESI DR2, arXiv:2503.14738)."""
    dm = np.asarray(comoving_transverse_distance(jnp.asarray(z), p))
    dh = C_KM_S / np.asarray(hubble(jnp.asarray(z), p))
    dv = np.cbrt(z * dm**2 * dh)
    model = np.select([qs == "DM_over_rs", qs == "DH_over_rs", qs == "DV_over_rs"], [dm, dh, dv]) / rd
    r = vals - model
    return float(r @ np.linalg.solve(cov, r))


@pytest.mark.parametrize("point", POINTS, ids=lambda p: f"{p[0]}-{'-'.join(p[1])}")
def test_bao_desi_files_give_the_builtin_desi_dr2_chi2(point):
    mean, cov = desi_files()
    spec = D.register_user_dataset("my_desi", "bao", file=mean, covariance=cov)
    assert spec.kind == "bao" and [p.name for p in spec.nuisance] == ["hrd"]
    assert pbufjax_chi2("my_desi", *point) == pytest.approx(pbufjax_chi2("desi_dr2", *point), rel=1e-12)


def test_bao_with_hrd_fixed_matches_numpy_and_builtin():
    mean, cov = desi_files()
    D.register_user_dataset("my_desi", "bao", file=mean, covariance=cov)
    raw = [ln.split() for ln in mean.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    z = np.array([float(r[0]) for r in raw])
    vals = np.array([float(r[1]) for r in raw])
    qs = np.array([r[2] for r in raw])
    c = np.loadtxt(cov)
    for model, free, values, fixed in POINTS:
        p = params(model, free, values, fixed)
        ref = bao_chi2_numpy(z, vals, qs, c, p, 101.54 * 100.0 / float(p["H0"]))
        got = pbufjax_chi2("my_desi", model, free, values, fixed, hrd=101.54)
        assert got == pytest.approx(ref, rel=1e-9)
        assert got == pytest.approx(pbufjax_chi2("desi_dr2", model, free, values, fixed, hrd=101.54), rel=1e-12)


def test_bao_csv_header_and_flat_gzip_covariance_equal_the_release_format(tmp_path):
    mean, cov = desi_files()
    raw = [ln.split() for ln in mean.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    csv_path = tmp_path / "desi.csv"
    csv_path.write_text("z,value,quantity\n" + "".join(",".join(r) + "\n" for r in raw))
    c = np.loadtxt(cov)
    flat = tmp_path / "desi_cov.txt.gz"
    with gzip.open(flat, "wt") as f:
        f.write(f"{c.shape[0]}\n" + "\n".join(" ".join(f"{v:.17g}" for v in row) for row in c) + "\n")
    D.register_user_dataset("csv_desi", "bao", file=csv_path, covariance=flat)
    d, ref = D.load_dataset("csv_desi"), D.load_dataset("desi_dr2")
    for k in ("observations", "covariance", "redshifts"):
        np.testing.assert_array_equal(d[k], ref[k])
    assert d["quantities"] == ref["quantities"] and d["labels"] == ref["labels"]
    assert pbufjax_chi2("csv_desi", *POINTS[1]) == pytest.approx(pbufjax_chi2("desi_dr2", *POINTS[1]), rel=1e-12)


def test_bao_errors_column_and_arrays():
    z, vals, qs, errs = [0.295, 0.51, 0.51], [7.94167639, 13.58758434, 21.86294686], \
        ["DV_over_rs", "DM_over_rs", "DH_over_rs"], [0.0761, 0.1684, 0.4289]
    D.register_dataset("arr_bao", kind="bao", z=z, values=vals, quantities=qs, errors=errs)
    d = D.load_dataset("arr_bao")
    np.testing.assert_allclose(d["covariance"], np.diag(np.square(errs)))
    p = params(*POINTS[0])
    ref = bao_chi2_numpy(np.array(z), np.array(vals), np.array(qs), np.diag(np.square(errs)), p,
                         99.0 * 100.0 / float(p["H0"]))
    assert pbufjax_chi2("arr_bao", *POINTS[0], hrd=99.0) == pytest.approx(ref, rel=1e-9)


def test_bao_rd_fid_quantities_need_rd_fid():
    kw = {"z": [0.38], "values": [1512.39], "quantities": ["DM_rdfid_over_rs"], "errors": [25.0]}
    with pytest.raises(DatasetValidationError, match="rd_fid"):
        D.register_user_dataset("boss_like", "bao", **kw)
    d = D.load_dataset(D.register_user_dataset("boss_like", "bao", rd_fid=147.78, **kw).name)
    assert d["rd_fid"].tolist() == [147.78]


# ---------------------------------------------------------------------------
# bad input: errors naming the file and the line


@pytest.fixture
def desi_copy(tmp_path):
    mean, cov = desi_files()
    m = tmp_path / "mean.txt"
    m.write_text(mean.read_text())
    return m, np.loadtxt(cov)


def _save(path, c):
    np.savetxt(path, c)
    return path


def test_bad_covariance_non_symmetric_names_file_line_row(desi_copy, tmp_path):
    mean, c = desi_copy
    c[5, 3] += 0.01
    bad = _save(tmp_path / "nonsym.txt", c)
    with pytest.raises(DatasetValidationError, match=r"nonsym\.txt, line 6: covariance is not symmetric: row 6, "
                                                     r"column 4"):
        D.register_user_dataset("x", "bao", file=mean, covariance=bad)


def test_bad_covariance_not_positive_definite_names_the_row(desi_copy, tmp_path):
    mean, c = desi_copy
    c[3, 4] = c[4, 3] = 2.0 * np.sqrt(c[3, 3] * c[4, 4])  # |correlation| 2 between rows 4 and 5
    bad = _save(tmp_path / "notpd.txt", c)
    with pytest.raises(DatasetValidationError, match=r"notpd\.txt, line 5: covariance is not positive definite: "
                                                     r"row 5"):
        D.register_user_dataset("x", "bao", file=mean, covariance=bad)
    c = np.loadtxt(desi_files()[1])
    c[2, 2] = -1.0
    with pytest.raises(DatasetValidationError, match=r"line 3: .*variance in row 3, column 3 is -1"):
        D.register_user_dataset("x", "bao", file=mean, covariance=_save(tmp_path / "neg.txt", c))


def test_bad_covariance_nan_flat_format_names_the_line(desi_copy, tmp_path):
    mean, c = desi_copy
    c[7, 2] = np.nan
    bad = _save(tmp_path / "nan.txt", c)
    with pytest.raises(DatasetValidationError, match=r"nan\.txt, line 8: covariance row 8, column 3 is nan"):
        D.register_user_dataset("x", "bao", file=mean, covariance=bad)
    c[7, 2] = c[2, 7] + 1.0
    flat = tmp_path / "flat.txt"  # N, then one row per line: entry (8, 3) is on line 9
    flat.write_text("13\n" + "\n".join(" ".join(f"{v:.17g}" for v in row) for row in c) + "\n")
    with pytest.raises(DatasetValidationError, match=r"flat\.txt, line 9: covariance is not symmetric: row 8, "
                                                     r"column 3"):
        D.register_user_dataset("x", "bao", file=mean, covariance=flat)


def test_bad_covariance_wrong_length_names_both_files(desi_copy, tmp_path):
    mean, c = desi_copy
    short = _save(tmp_path / "short.txt", c[:12, :12])
    with pytest.raises(DatasetValidationError, match=r"short\.txt: the covariance is 12x12 but .*mean\.txt has 13 "
                                                     r"data rows"):
        D.register_user_dataset("x", "bao", file=mean, covariance=short)
    ragged = tmp_path / "ragged.txt"
    ragged.write_text("1 0\n0\n")
    with pytest.raises(DataFormatError, match=r"ragged\.txt, line 2"):
        D.register_user_dataset("x", "bao", file=mean, covariance=ragged)


def test_bad_bao_table_unknown_quantity_and_fields(desi_copy, tmp_path):
    mean, _ = desi_copy
    lines = mean.read_text().splitlines()
    lines[4] = lines[4].replace("DM_over_rs", "DM_over_rd")
    bad = tmp_path / "badq.txt"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFormatError, match=r"badq\.txt, line 5: unknown BAO quantity 'DM_over_rd'; valid: "
                                              r"DV_over_rs"):
        D.register_user_dataset("x", "bao", file=bad, covariance=desi_files()[1])
    lines = mean.read_text().splitlines()
    lines[3] = "0.51 13.5"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFormatError, match=r"badq\.txt, line 4: expected 3 fields"):
        D.register_user_dataset("x", "bao", file=bad)
    bad.write_text("0.3 7.9 DV_over_rs\n-0.5 13.6 DM_over_rs\n")
    with pytest.raises(DataFormatError, match=r"badq\.txt, line 2: redshift -0.5 must be > 0"):
        D.register_user_dataset("x", "bao", file=bad, covariance=np.eye(2))
    bad.write_text("0.3 7.9 DV_over_rs 0.1\n0.5 nan DM_over_rs 0.2\n")
    with pytest.raises(DataFormatError, match=r"badq\.txt, line 2: the value is 'nan', not a finite number"):
        D.register_user_dataset("x", "bao", file=bad)
    bad.write_text("0.3 7.9 DV_over_rs\n")
    with pytest.raises(DatasetValidationError, match="give a covariance or per-point errors"):
        D.register_user_dataset("x", "bao", file=bad)


def test_bad_sn_tables_name_file_and_line(tmp_path):
    rows = des_rows(5)
    good = write_des_rows(tmp_path / "good.csv", rows)
    text = good.read_text().splitlines()
    cases = {
        "nocol.csv": (text[0].replace("zHD", "zX").replace("zCMB", "zY") + "\n" + "\n".join(text[1:]),
                      r"nocol\.csv, line 1: no redshift column; the header names .* expected one of zhd, z_cmb"),
        "nomu.csv": (text[0].replace("MU,", "DIST,") + "\n" + "\n".join(text[1:]),
                     r"nomu\.csv, line 1: no distance modulus or magnitude column"),
        "nan.csv": ("\n".join(text[:3] + [text[3].replace(rows[2]["MU"], "nan")] + text[4:]),
                    r"nan\.csv, line 4: MU is 'nan', not a finite number"),
        "short.csv": ("\n".join(text[:2] + [text[2].rsplit(",", 1)[0]] + text[3:]),
                      r"short\.csv, line 3: expected 7 fields"),
        "text.csv": ("\n".join(text[:5] + [",".join("abc" if k == "zHD" else v for k, v in rows[4].items())]),
                     r"text\.csv, line 6: cannot read zHD from 'abc'"),
        "zneg.csv": ("\n".join(text[:2] + [text[2].replace(rows[1]["zHD"], "-0.1")] + text[3:]),
                     r"zneg\.csv, line 3: zHD = -0.1 must be > 0"),
        "noheader.csv": ("\n".join(text[1:]), r"noheader\.csv, line 1: no header line"),
        "zeroerr.csv": ("\n".join(text[:4] + [text[4].replace(rows[3]["MUERR_FINAL"], "0")] + text[5:]),
                        r"zeroerr\.csv, line 5: MUERR_FINAL = 0 must be > 0 without a covariance"),
    }
    for name, (content, pattern) in cases.items():
        path = tmp_path / name
        path.write_text(content + "\n")
        with pytest.raises((DataFormatError, DatasetValidationError), match=pattern):
            D.register_user_dataset("x", "sn", file=path)
        assert "x" not in D.list_datasets()
    cov = _save(tmp_path / "cov4.txt", np.eye(4) * 0.01)
    with pytest.raises(DatasetValidationError, match=r"cov4\.txt: the covariance is 4x4 but .*good\.csv has 5 data"):
        D.register_user_dataset("x", "sn", file=good, covariance=cov)


def test_bad_arrays_and_arguments(tmp_path):
    with pytest.raises(DatasetValidationError, match=r"'a': values has 2 entries but the data have 3"):
        D.register_user_dataset("a", "sn", z=[0.1, 0.2, 0.3], values=[38.0, 39.0], errors=[0.1] * 3)
    with pytest.raises(DatasetValidationError, match=r"'a': covariance row 1, column 2 is nan"):
        D.register_user_dataset("a", "sn", z=[0.1, 0.2], values=[38.0, 39.0], covariance=[[1.0, np.nan],
                                                                                          [np.nan, 1.0]])
    with pytest.raises(DatasetValidationError, match=r"quantities\[1\] = 'DX_over_rs' is not a BAO quantity"):
        D.register_user_dataset("a", "bao", z=[0.3, 0.5], values=[8.0, 13.0], quantities=["DV_over_rs", "DX_over_rs"],
                                errors=[0.1, 0.2])
    with pytest.raises(TypeError, match="not both"):
        D.register_user_dataset("a", "sn", file=tmp_path / "f.csv", z=[0.1])
    with pytest.raises(TypeError, match="give file= or the arrays"):
        D.register_user_dataset("a", "sn", values=[1.0])
    with pytest.raises(ValueError, match="unknown kind 'cmb' for user data; valid: sn, bao"):
        D.register_user_dataset("a", "cmb", z=[0.1], values=[1.0], errors=[0.1])
    for taken in ("desi_dr2", "bao", "sdss_legacy"):
        with pytest.raises(ValueError, match=f"dataset name '{taken}' is already a built-in"):
            D.register_user_dataset(taken, "sn", z=[0.1], values=[38.0], errors=[0.1])
    with pytest.raises(FileNotFoundError, match="nothere.csv does not exist"):
        D.register_user_dataset("a", "sn", file=tmp_path / "nothere.csv")
    assert D.user_datasets() == []


def test_replacing_a_user_dataset_needs_overwrite():
    D.register_user_dataset("mine", "sn", z=[0.1, 0.2], values=[38.0, 39.5], errors=[0.1, 0.1])
    with pytest.raises(ValueError, match="already a user dataset .*overwrite=True"):
        D.register_user_dataset("mine", "sn", z=[0.1], values=[38.0], errors=[0.1])
    D.register_dataset("mine", kind="sn", z=[0.1, 0.2, 0.3], values=[38.0, 39.5, 41.0], errors=[0.1] * 3,
                       overwrite=True)
    assert D.load_dataset("mine")["metadata"]["n_points"] == 3 and D.user_datasets() == ["mine"]
    assert D.unregister_user_datasets() == ["mine"] and "mine" not in D.list_datasets()


def test_register_dataset_still_refuses_non_specs():
    with pytest.raises(TypeError, match="needs a DatasetSpec"):
        D.register_dataset("no_data")
    with pytest.raises(TypeError, match="go with a dataset name"):
        D.register_dataset(D.get_dataset_spec("desi_dr2"), kind="bao")


def test_file_dataset_names(tmp_path):
    assert file_dataset_name("path/DES-SN5YR_HD.csv", "sn") == "des_sn5yr_hd"
    assert file_dataset_name("desi_dr2.txt", "bao") == "user_bao"  # a built-in name
    assert file_dataset_name("sn.csv", "sn") == "user_sn"  # an alias
    assert file_dataset_name("2024.csv", "sn") == "user_sn"
    names = D.register_user_files(sn_file=write_des_rows(tmp_path / "mine.csv", des_rows(10)),
                                  bao_file=desi_files()[0], bao_cov=desi_files()[1])
    assert names == ["mine", "desi_gaussian_bao_all_gccomb_mean"]
    with pytest.raises(ValueError, match="--sn-cov c.txt needs --sn-file"):
        D.register_user_files(sn_cov="c.txt")
