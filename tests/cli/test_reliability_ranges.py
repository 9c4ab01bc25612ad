"""The command line refuses parameter values outside their valid ranges (exit 2, one line
naming the parameter, the value and the range) before any work is done."""

from __future__ import annotations

import json

import pytest



@pytest.mark.parametrize("argv, expected", [
    (["--H0", "1e10"], "H0 = 1e+10 is outside its valid range [10, 200] for model 'lcdm'"),
    (["--H0", "1e308"], "H0 = 1e+308 is outside its valid range [10, 200]"),
    (["--model", "wcdm", "--w0", "5"], "w0 = 5 is outside its valid range [-5, 0.333333] for model 'wcdm'"),
    (["--H0", "20"], "Obh2 = 0.02237 must be below Om0*h^2 = 0.0126 (H0 = 20, Om0 = 0.315)"),
])
def test_fit_refuses_values_outside_the_valid_range(run, argv, expected):
    """Before: exit 0 with NaN derived values and chi2 = inf."""
    code, out, err = run("fit", "--datasets", "cmb", *argv)
    assert code == 2
    lines = [ln for ln in err.strip().splitlines() if ln.startswith("pbufjax: error")]
    assert len(lines) == 1 and expected in lines[0], err


def test_a_config_value_outside_the_valid_range_is_refused(run, tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"model": "lcdm", "datasets": ["cmb"], "parameter_overrides": {"H0": 1e308}}))
    code, out, err = run("fit", "--config", path)
    assert code == 2
    assert "H0 = 1e+308 is outside its valid range [10, 200]" in err


def test_freeze_uses_the_shared_check_of_frozen_parameters(run):
    """The CLI's --freeze check is fit.settings.check_frozen_parameters (the one run_fit uses)."""
    code, out, err = run("fit", "--datasets", "cmb", "--optimize", "H0,Om0", "--freeze", "zzz")
    assert code == 2
    assert "--freeze: frozen_parameters: 'zzz' is not a parameter of model 'lcdm' or a nuisance parameter" in err
