"""Configuration files that a careless or hostile editor produces are refused with a message (issue 12).

Each case: the message names the file and the key, the CLI exits 2 with one line.
"""

from __future__ import annotations

import json

import pytest

from pbufjax import cli
from pbufjax.cli import config as cfgmod
from pbufjax.fit import settings


def _write(tmp_path, text: str | bytes, name: str = "run.json"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_deeply_nested_config_is_a_config_error(tmp_path):
    path = _write(tmp_path, '{"description": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(cfgmod.ConfigError, match=rf"config file {path} is nested too deeply"):
        cfgmod.load_config(path)


def test_moderately_nested_config_is_refused_by_depth(tmp_path):
    """Below the interpreter's recursion limit, still refused with the key where it happens."""
    path = _write(tmp_path, '{"optimizer": {"options": {"seed": ' + "[" * 500 + "]" * 500 + "}}}")
    with pytest.raises(cfgmod.ConfigError, match=r"run.json: optimizer.options.seed.* nested too deeply"):
        cfgmod.load_config(path)


def test_deeply_nested_config_exits_2_from_the_cli(tmp_path, capsys):
    path = _write(tmp_path, "[" * 100_000 + "]" * 100_000)
    code = cli.main(["fit-cmb", "--config", str(path), "--store-dir", str(tmp_path / "store")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "nested too deeply" in err and str(path) in err


def test_five_thousand_digit_integer_names_file_and_key(tmp_path):
    path = _write(tmp_path, '{"optimizer": {"method": "minimize", "options": {"maxiter": 1' + "0" * 5000 + "}}}")
    with pytest.raises(cfgmod.ConfigError, match=rf"config {path}: optimizer.options.maxiter is an integer of "
                                                 r"5001 digits"):
        cfgmod.load_config(path)


def test_integer_beyond_float_range_names_the_key(tmp_path):
    path = _write(tmp_path, '{"parameter_overrides": {"H0": 1' + "0" * 400 + "}}")
    with pytest.raises(cfgmod.ConfigError, match=r"parameter_overrides.H0 is an integer of 401 digits"):
        cfgmod.load_config(path)


@pytest.mark.parametrize("literal", ["1e400", "-1e400", "Infinity", "NaN"])
@pytest.mark.parametrize("where, key", [
    ('{"optimizer": {"options": {"seed": %s}}}', "optimizer.options.seed"),
    ('{"optimizer": {"bounds": {"H0": [50, %s]}}}', r"optimizer.bounds.H0\[1\]"),
    ('{"optimization": {"covariance_scaling": %s}}', "optimization.covariance_scaling"),
    ('{"parameter_overrides": {"H0": %s}}', "parameter_overrides.H0"),
])
def test_non_finite_numbers_anywhere_name_the_key(tmp_path, literal, where, key):
    path = _write(tmp_path, where % literal)
    with pytest.raises(cfgmod.ConfigError, match=rf"config {path}: {key} = .* is not a finite number"):
        cfgmod.load_config(path)


@pytest.mark.parametrize("value, match", [
    ('"100"', r"option 'maxiter' must be a number, got '100'"),
    ("-5", r"option 'maxiter' must be > 0, got -5"),
    ("0", r"option 'maxiter' must be > 0, got 0"),
    ("1.5", r"option 'maxiter' must be an integer, got 1.5"),
    ("true", r"option 'maxiter' must be a number, got True"),
    ("null", r"option 'maxiter' must be a number, got None"),
])
@pytest.mark.parametrize("method", ['"method": "minimize", ', '"method": "lbfgs", ', ""])
def test_bad_maxiter_is_refused_at_load(tmp_path, value, match, method):
    path = _write(tmp_path, '{"optimizer": {' + method + '"options": {"maxiter": ' + value + "}}}")
    with pytest.raises(cfgmod.ConfigError, match=rf"config {path}: optimizer.options: {match}"):
        cfgmod.load_config(path)


def test_integral_float_maxiter_is_accepted(tmp_path):
    cfg = cfgmod.load_config(_write(tmp_path, '{"optimizer": {"options": {"maxiter": 100.0}}}'))
    assert cfg["optimizer"]["options"] == {"maxiter": 100}


def test_options_of_another_method_are_left_to_the_fit(tmp_path):
    """Without a method in the file, an option the default solver does not know may be for the
    command line's --optimizer: it is checked by the fit, which knows the final method."""
    cfg = cfgmod.load_config(_write(tmp_path, '{"optimizer": {"options": {"memory_size": 5}}}'))
    assert cfg["optimizer"]["options"] == {"memory_size": 5}
    with pytest.raises(cfgmod.ConfigError, match=r"optimizer.options: unknown option\(s\) \['memory_size'\]"):
        cfgmod.load_config(_write(tmp_path, '{"optimizer": {"method": "minimize", "options": {"memory_size": 5}}}'))


def test_unknown_method_is_refused_at_load(tmp_path):
    path = _write(tmp_path, '{"optimizer": {"method": "no_such_solver"}}')
    with pytest.raises(cfgmod.ConfigError, match=r"optimizer.method: unknown optimizer method 'no_such_solver'; "
                                                 r"valid methods: .*minimize"):
        cfgmod.load_config(path)


def test_byte_order_mark_is_accepted(tmp_path):
    doc = {"model": "lcdm", "datasets": ["cmb"], "optimization": {"covariance_scaling": 1.5}}
    path = _write(tmp_path, b"\xef\xbb\xbf" + json.dumps(doc).encode())
    cfg = cfgmod.load_config(path)
    assert cfg["model"] == "lcdm" and cfg["optimization"]["covariance_scaling"] == 1.5


@pytest.mark.parametrize("pair, match", [
    ([-1e308, 1e308], r"bounds of 'H0' \(-1e\+308, 1e\+308\) must lie inside its valid range \[10, 200\]"),
    ([5, 100], r"bounds of 'H0' \(5, 100\) must lie inside its valid range \[10, 200\]"),
    ([50, 50], r"bounds of 'H0' are reversed or empty"),
])
def test_bounds_outside_the_valid_range_name_the_key(tmp_path, pair, match):
    path = _write(tmp_path, json.dumps({"optimizer": {"bounds": {"H0": pair}}}))
    cfg = cfgmod.load_config(path) if pair[0] != pair[1] else None
    if cfg is None:
        with pytest.raises(cfgmod.ConfigError, match=rf"config {path}: optimizer.bounds.H0"):
            cfgmod.load_config(path)
        return
    with pytest.raises(cfgmod.ConfigError, match=rf"config {path}: optimizer.bounds.H0: {match}"):
        cfgmod.check_model_parameters(cfg, "lcdm", str(path))


def test_bounds_whose_width_overflows_are_refused(tmp_path):
    """A parameter without a valid range (the SN offset M_B): the unit-box map needs upper - lower finite."""
    path = _write(tmp_path, json.dumps({"optimizer": {"bounds": {"M_B": [-1e308, 1e308]}}}))
    cfg = cfgmod.load_config(path)
    with pytest.raises(cfgmod.ConfigError, match=r"optimizer.bounds.M_B: bounds of 'M_B' are too wide"):
        cfgmod.check_model_parameters(cfg, "lcdm", str(path))


def test_bounds_of_a_nuisance_parameter_are_accepted(tmp_path):
    cfg = cfgmod.load_config(_write(tmp_path, json.dumps(
        {"datasets": ["pantheonplus_shoes"], "optimizer": {"bounds": {"M_B": [-20, -18]}}})))
    cfgmod.check_model_parameters(cfg, "lcdm", "run.json")


def test_frozen_nuisance_parameter_is_accepted_and_unknown_refused(tmp_path):
    cfg = cfgmod.load_config(_write(tmp_path, json.dumps(
        {"datasets": ["pantheonplus_shoes"], "optimization": {"frozen_parameters": ["M_B", "Neff"]}})))
    cfgmod.check_model_parameters(cfg, "lcdm", "run.json")
    cfg = cfgmod.load_config(_write(tmp_path, json.dumps({"optimization": {"frozen_parameters": ["zzz"]}})))
    with pytest.raises(cfgmod.ConfigError, match=r"optimization.frozen_parameters: 'zzz' is not a parameter of "
                                                 r"model 'lcdm'.*valid names: .*H0"):
        cfgmod.check_model_parameters(cfg, "lcdm", "run.json")


def test_the_range_constants_live_in_the_fit_settings():
    assert cfgmod.COV_SCALE_RANGE is settings.COV_SCALE_RANGE == (0.0, 1000.0)
    assert cfgmod.TOLERANCE_RANGE is settings.TOLERANCE_RANGE
