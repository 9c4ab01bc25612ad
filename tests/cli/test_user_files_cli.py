"""``--sn-file``, ``--sn-cov``, ``--bao-file``, ``--bao-cov`` on the command line: the files become datasets added
to ``--datasets``; a bad file exits with code 2 and one line naming the file and the line."""

from __future__ import annotations

import csv
import json

import jax.numpy as jnp
import numpy as np
import pytest

import pbufjax.data as D
from pbufjax.data import files as F
from pbufjax.likelihood import build_likelihood

DESY5_HD = "sn/desy5/DES-SN5YR_HD.csv"
DESI_DR2 = ("bao/desi_dr2/desi_gaussian_bao_ALL_GCcomb_mean.txt", "bao/desi_dr2/desi_gaussian_bao_ALL_GCcomb_cov.txt")
POINT = ["--H0", "70", "--Om0", "0.3", "--mnu", "0.06", "--no-precomputed", "--json", "-q"]


@pytest.fixture(autouse=True)
def _forget_user_datasets():
    yield
    D.unregister_user_datasets()


@pytest.fixture
def sn_file(tmp_path):
    with open(F.resolve(DESY5_HD), newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))[:50]
    path = tmp_path / "des50.csv"
    cols = list(rows[0])
    path.write_text(",".join(cols) + "\n" + "".join(",".join(r[c] for c in cols) + "\n" for r in rows))
    return path


@pytest.fixture
def bao_files(tmp_path):
    mean, cov = (F.resolve(r) for r in DESI_DR2)
    out = tmp_path / "my_bao.txt", tmp_path / "my_bao_cov.txt"
    out[0].write_text(mean.read_text())
    out[1].write_text(cov.read_text())
    return out


def test_fit_adds_user_files_to_datasets_and_matches_the_builtin(run, sn_file, bao_files):
    code, out, err = run("fit", "--model", "lcdm", "--datasets", "desi_dr2", "--sn-file", sn_file,
                         "--bao-file", bao_files[0], "--bao-cov", bao_files[1], *POINT)
    assert code == 0, err
    result = json.loads(out)
    assert result["run"]["datasets"] == ["desi_dr2", "des50", "my_bao"]
    chi2 = {k: v["chi2"] for k, v in result["results"].items()}
    assert chi2["my_bao"] == pytest.approx(chi2["desi_dr2"], rel=1e-12)  # the same DESI DR2 numbers
    lik = build_likelihood("lcdm", ["des50"], [], {"H0": 70.0, "Om0": 0.3, "mnu": 0.06})
    assert chi2["des50"] == pytest.approx(float(lik.chi2(jnp.zeros(0))), rel=1e-9)


def test_user_files_alone_replace_the_commands_default(run, sn_file):
    code, out, err = run("fit-sn", "--sn-file", sn_file, *POINT)
    assert code == 0, err
    assert json.loads(out)["run"]["datasets"] == ["des50"]
    code, out, err = run("fit", "--model", "lcdm", "--sn-file", sn_file, *POINT)  # again: replaced, not refused
    assert code == 0, err
    assert json.loads(out)["run"]["datasets"] == ["des50"]


def test_a_file_named_like_a_builtin_dataset_gets_the_user_name(run, tmp_path, bao_files):
    clash = tmp_path / "desi_dr2.txt"
    clash.write_text(bao_files[0].read_text())
    code, out, err = run("fit", "--datasets", "desi_dr2", "--bao-file", clash, "--bao-cov", bao_files[1], *POINT)
    assert code == 0, err
    assert json.loads(out)["run"]["datasets"] == ["desi_dr2", "user_bao"]


def _bad_cases(tmp_path, sn_file, bao_files):
    mean, cov = bao_files
    c = np.loadtxt(cov)
    c[5, 3] += 0.01
    np.savetxt(tmp_path / "nonsym.txt", c)
    np.savetxt(tmp_path / "short.txt", np.loadtxt(cov)[:12, :12])
    lines = mean.read_text().splitlines()
    lines[4] = lines[4].replace("DM_over_rs", "DM_over_rd")
    (tmp_path / "badq.txt").write_text("\n".join(lines) + "\n")
    text = sn_file.read_text().splitlines()
    (tmp_path / "nan.csv").write_text("\n".join(text[:3] + [text[3].rsplit(",", 1)[0] + ",nan"] + text[4:]) + "\n")
    (tmp_path / "nocol.csv").write_text("\n".join([text[0].replace("MU,", "DIST,")] + text[1:]) + "\n")
    return {
        "non-symmetric": (["--bao-file", mean, "--bao-cov", tmp_path / "nonsym.txt"],
                          "nonsym.txt, line 6: covariance is not symmetric: row 6, column 4"),
        "wrong length": (["--bao-file", mean, "--bao-cov", tmp_path / "short.txt"],
                         "short.txt: the covariance is 12x12 but"),
        "unknown quantity": (["--bao-file", tmp_path / "badq.txt", "--bao-cov", cov],
                             "badq.txt, line 5: unknown BAO quantity 'DM_over_rd'"),
        "nan": (["--sn-file", tmp_path / "nan.csv"], "nan.csv, line 4: MUERR_FINAL is 'nan', not a finite number"),
        "missing column": (["--sn-file", tmp_path / "nocol.csv"], "nocol.csv, line 1: no distance modulus"),
        "missing file": (["--sn-file", tmp_path / "absent.csv"], "absent.csv does not exist"),
        "cov without table": (["--datasets", "bao", "--sn-cov", cov], "--sn-cov"),
    }


@pytest.mark.parametrize("case", ["non-symmetric", "wrong length", "unknown quantity", "nan", "missing column",
                                  "missing file", "cov without table"])
def test_bad_user_file_exits_2_with_one_line(run, tmp_path, sn_file, bao_files, case):
    argv, expected = _bad_cases(tmp_path, sn_file, bao_files)[case]
    code, out, err = run("fit", "--model", "lcdm", *argv, *POINT)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("pbufjax: error: ") and expected in err, err
    assert D.user_datasets() == []


def test_user_file_options_are_in_every_datasets_command_help(run):
    for command in (["fit"], ["fit-joint"], ["integrity"], ["sample"]):
        code, out, _ = run(*command, "--help")
        assert code == 0
        for flag in ("--sn-file", "--sn-cov", "--bao-file", "--bao-cov"):
            assert flag in out, (command, flag)
