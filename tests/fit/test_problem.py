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
