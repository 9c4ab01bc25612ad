"""Fit problems: the data folder is an explicit input and the cache key never reads the environment."""

from pathlib import Path

import pytest

from pbufjax import clear_caches
from pbufjax.fit import get_problem, nuisance_for
from pbufjax.fit.names import nuisance_bounds, nuisance_default
from pbufjax.fit.problem import data_folders


def test_get_problem_takes_the_data_folder_and_keys_on_it(monkeypatch):
    folder = __import__("os").environ.get("PBUFJAX_DATA_DIR")
    if not folder:
        pytest.skip("PBUFJAX_DATA_DIR is not set (the README's test command sets it)")
    data = Path(folder)
    a = get_problem("lcdm", ["sn"], ["Om0"], data_dir=data)
    assert get_problem("lcdm", ["sn"], ["Om0"], data_dir=str(data)) is a  # same resolved folder
    assert str(data.resolve()) == data_folders(data)[0]
    # the cache key is the resolved folders, not the variable's text: a relative spelling
    # of the same folder reuses the problem, another folder does not
    monkeypatch.chdir(data.parent)
    assert get_problem("lcdm", ["sn"], ["Om0"], data_dir=data.name) is a
    assert get_problem("lcdm", ["sn"], ["Om0"], data_dir=data.parent) is not a


def test_clear_caches_forgets_problems():
    a = get_problem("lcdm", ["sn"], ["Om0"])
    assert get_problem("lcdm", ["sn"], ["Om0"]) is a
    clear_caches()
    assert get_problem("lcdm", ["sn"], ["Om0"]) is not a


def test_nuisance_for_lists_the_datasets_offsets():
    assert nuisance_for(["pantheonplus_shoes"]) == ["M_B"]  # the SH0ES-calibrated SN offset is fitted
    assert nuisance_for(["desi_dr2", "union3"]) == ["hrd"]
    assert nuisance_bounds("M_B", ["pantheonplus_shoes"]) == (-21.0, -17.5)
    assert nuisance_default("M_B", ["pantheonplus_shoes"]) == pytest.approx(-19.253)  # arXiv:2112.04510
    with pytest.raises(KeyError):
        nuisance_default("M_B", ["union3"])


@pytest.mark.release_files("desi_dr2", "union3")
def test_fit_in_one_program_matches_the_lean_programs_and_compiles_one():
    """Inside fit_in_one_program a fit's evaluations and its report come from one compiled
    program (value, gradient and Hessian from one forward-over-forward pass): same fit, same
    uncertainties, and no separate value-and-gradient or report program is built."""
    import numpy as np

    from pbufjax.analysis import diagnostics
    from pbufjax.analysis.engine import run_fit
    from pbufjax.fit import problem as P

    kw = {"overrides": {"Obh2": 0.02237}, "optimization_params": ["H0", "Om0"]}
    P.clear_cache()
    with P.fit_in_one_program(diagnostics.H_REDSHIFTS):
        one = run_fit("lcdm", ["desi_dr2", "union3"], **kw)
    prob = P.get_problem("lcdm", ["desi_dr2", "union3"], ["H0", "Om0"], {"Obh2": 0.02237})
    built = set(prob.compiled.programs)
    assert [k[0] for k in built] == ["single"]
    assert prob.compiled.unit_value_and_grad.source is None  # never called: never traced
    calls = []
    program = prob.compiled.programs[("single", tuple(diagnostics.H_REDSHIFTS))]
    prob.compiled.programs[("single", tuple(diagnostics.H_REDSHIFTS))] = lambda *a: calls.append(1) or program(*a)
    with P.fit_in_one_program(diagnostics.H_REDSHIFTS):
        run_fit("lcdm", ["desi_dr2", "union3"], **kw)
    lean = run_fit("lcdm", ["desi_dr2", "union3"], **kw)
    assert len(calls) >= 2
    assert one["optimization"]["convergence_status"] == lean["optimization"]["convergence_status"] == "success"
    assert abs(one["metrics"]["total_chi2"] - lean["metrics"]["total_chi2"]) < 1e-8
    for k in ("H0", "Om0"):
        assert abs(one["params"][k] - lean["params"][k]) < 1e-4 * lean["uncertainties"][k]
        np.testing.assert_allclose(one["uncertainties"][k], lean["uncertainties"][k], rtol=1e-6)
    np.testing.assert_allclose(one["results"]["desi_dr2"]["chi2"], lean["results"]["desi_dr2"]["chi2"], atol=1e-8)
