"""``pbufjax evidence``: ln Z on the command line; bad input exits 2 with one line."""

import json
import math

import pytest

pytest.importorskip("nautilus")

BASE = ["evidence", "--model", "lcdm", "--datasets", "desi_dr2", "--optimize", "H0,Om0", "--Obh2", "0.02237"]


def test_laplace_evidence_as_json(run):
    code, out, err = run(*BASE, "--evidence-method", "laplace", "--prior", "H0=uniform:50:90", "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["method"] == "laplace" and math.isfinite(res["log_z"])
    assert res["priors"]["H0"] == ["uniform", 50.0, 90.0]


def test_nested_evidence_table(run):
    code, out, err = run(*BASE, "--prior", "H0=normal:70:2", "--seed", "1")
    assert code == 0, err
    assert out.startswith("ln Z = ") and "nautilus" in out and "normal(70, 2)" in out


@pytest.mark.parametrize("extra, words", [
    (["--prior", "Om0=cauchy:0:1"], ["'cauchy'", "uniform, normal"]),
    (["--prior", "Om0=uniform:0.3:0.3"], ["Om0", "0.3"]),
    (["--prior", "Om0=uniform:-1:0.5"], ["Om0", "valid range"]),
    (["--prior", "Om0=uniform"], ["--prior"]),
    (["--evidence-method", "mcmc"], ["mcmc"]),
])
def test_bad_input_exits_2_with_one_line(run, extra, words):
    code, _, err = run(*BASE, *extra)
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    for w in words:
        assert w in err, err
