"""``run_fit`` checks its settings as strictly as the CLI, with the same messages (issue 12).

Every refusal below happens before a likelihood is built or anything is compiled.
"""

from __future__ import annotations

import json
import math

import pytest

from pbufjax import cli
from pbufjax.analysis.engine import run_fit
from pbufjax.fit import ParameterOptimizer, optimize_cmb_parameters, settings


def _run_fit(cfg, free=("H0",), datasets=("cmb",)):
    return run_fit("lcdm", list(datasets), optimizer_config=cfg, optimization_params=list(free))


@pytest.mark.parametrize("cfg, exc, match", [
    ({"frozen_parameters": ["zzz"]}, ValueError, r"frozen_parameters: 'zzz' is not a parameter of model 'lcdm'"),
    ({"frozen_parameters": 5}, TypeError, r"frozen_parameters must be a list of names"),
    ({"options": {"maxiter": -1}}, ValueError, r"option 'maxiter' must be > 0, got -1"),
    ({"options": {"maxiter": 0}}, ValueError, r"option 'maxiter' must be > 0, got 0"),
    ({"options": {"maxiter": "100"}}, TypeError, r"option 'maxiter' must be a number, got '100'"),
    ({"options": {"maxiter": 1.5}}, TypeError, r"option 'maxiter' must be an integer, got 1.5"),
    ({"options": {"maxiter": True}}, TypeError, r"option 'maxiter' must be a number, got True"),
    ({"options": {"ftol": math.inf}}, ValueError, r"option 'ftol' must be a finite number, got inf"),
    ({"method": "newton", "options": {"gtol": -1.0}}, ValueError, r"option 'gtol' must be > 0"),
    ({"method": "nope"}, ValueError, r"unknown optimizer method 'nope'; valid methods"),
    ({"covariance_scaling": 1e300}, ValueError,
     r"covariance_scaling = 1e\+300 is out of range; allowed: > 0 and <= 1000"),
    ({"covariance_scaling": 0}, ValueError, r"covariance_scaling = 0 is out of range"),
    ({"covariance_scaling": math.nan}, ValueError, r"covariance_scaling must be a finite number"),
    ({"covariance_scaling": "big"}, TypeError, r"covariance_scaling must be a number"),
    ({"bounds": {"H0": (-1e308, 1e308)}}, ValueError,
     r"bounds of 'H0' \(-1e\+308, 1e\+308\) must lie inside its valid range \[10, 200\]"),
    ({"bounds": {"H0": (50, math.inf)}}, ValueError, r"bounds of 'H0' must be finite"),
    ({"bounds": {"zzz": (0, 1)}}, ValueError, r"bounds given for 'zzz', which is not an optimizable parameter of model 'lcdm'"),
    ({"bounds": [(0, 1)]}, TypeError, r"bounds must be a dict"),
    ({"uncertainties": "no"}, TypeError, r"optimizer_config\['uncertainties'\] must be True or False"),
])
def test_run_fit_refuses_bad_settings(cfg, exc, match):
    with pytest.raises(exc, match=match):
        _run_fit(cfg)


def test_frozen_parameters_of_the_model_and_the_datasets_are_valid():
    assert settings.check_frozen_parameters("lcdm", ["Neff", "M_B"], ["pantheonplus_shoes"]) == ["Neff", "M_B"]
    with pytest.raises(ValueError, match=r"'M_B' is not a parameter of model 'lcdm' .* valid names: .*H0"):
        settings.check_frozen_parameters("lcdm", ["M_B"], ["desi_dr2"])


def test_parameter_optimizer_checks_the_same_settings():
    with pytest.raises(ValueError, match=r"option 'maxiter' must be > 0, got -5"):
        ParameterOptimizer({"options": {"maxiter": -5}})
    with pytest.raises(ValueError, match=r"covariance_scaling = 1e\+300 is out of range"):
        ParameterOptimizer().optimize_parameters("lcdm", ["cmb"], ["H0"], covariance_scaling=1e300)
    with pytest.raises(ValueError, match=r"covariance_scaling = 1e\+300 is out of range"):
        optimize_cmb_parameters("lcdm", ["H0"], covariance_scaling=1e300)
    with pytest.raises(ValueError, match=r"bounds of 'H0' \(-1e\+308, 1e\+308\) must lie inside"):
        optimize_cmb_parameters("lcdm", ["H0"], optimizer_config={"bounds": {"H0": (-1e308, 1e308)}})


# The same bad setting through run_fit and through a configuration file given to the CLI:
# (optimizer_config for run_fit, the configuration file, the fragment both messages contain)
SAME_MESSAGE = [
    ({"frozen_parameters": ["zzz"]}, {"optimization": {"frozen_parameters": ["zzz"]}},
     "frozen_parameters: 'zzz' is not a parameter of model 'lcdm'"),
    ({"options": {"maxiter": -5}}, {"optimizer": {"options": {"maxiter": -5}}}, "option 'maxiter' must be > 0, got -5"),
    ({"options": {"maxiter": "100"}}, {"optimizer": {"options": {"maxiter": "100"}}},
     "option 'maxiter' must be a number, got '100'"),
    ({"method": "lbfgs", "options": {"maxiter": 1.5}}, {"optimizer": {"method": "lbfgs", "options": {"maxiter": 1.5}}},
     "option 'maxiter' must be an integer, got 1.5"),
    ({"method": "nope"}, {"optimizer": {"method": "nope"}}, "unknown optimizer method 'nope'; valid methods: "),
    ({"covariance_scaling": 1e300}, {"optimization": {"covariance_scaling": 1e300}},
     "covariance_scaling = 1e+300 is out of range; allowed: > 0 and <= 1000"),
    ({"bounds": {"H0": [-1e308, 1e308]}}, {"optimizer": {"bounds": {"H0": [-1e308, 1e308]}}},
     "bounds of 'H0' (-1e+308, 1e+308) must lie inside its valid range [10, 200] for model 'lcdm'"),
    ({"bounds": {"Om0": [0.1, 0.5]}}, {"optimizer": {"bounds": {"Om0": [0.1, 0.5]}}},
     "bounds given for 'Om0', which is not optimized"),
]


@pytest.mark.parametrize("cfg, doc, fragment", SAME_MESSAGE, ids=[c[2][:30] for c in SAME_MESSAGE])
def test_python_and_cli_refuse_with_the_same_message(cfg, doc, fragment, tmp_path, monkeypatch, capsys):
    with pytest.raises((ValueError, TypeError)) as info:
        _run_fit(cfg)
    assert fragment in str(info.value)

    monkeypatch.chdir(tmp_path)
    conf = tmp_path / "run.json"
    conf.write_text(json.dumps({"model": "lcdm", "datasets": ["cmb"], **doc,
                                "optimization": {"optimize_parameters": ["H0"], **doc.get("optimization", {})}}))
    code = cli.main(["fit", "--config", str(conf), "--store-dir", str(tmp_path / "store")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1
    assert fragment in err, f"{fragment!r} not in {err!r}"
