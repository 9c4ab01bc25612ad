"""getdist chains (``save_samples(..., format="getdist")``, ``pbufjax sample --format getdist``)
and the label table they take their LaTeX from.

getdist must read the files back with the sampler's own means and 68%/95% intervals (the
same samples with unit weights, so they agree to rounding), mark the derived quantities,
and take the prior ranges from the uniform priors.
"""

import numpy as np
import pytest

import pbufjax  # noqa: F401
from pbufjax import cli_sampling, sample
from pbufjax.cosmology import labels
from pbufjax.cosmology.models import MODELS
from pbufjax.cosmology.parameters import DERIVED_PARAMS, OPTIMIZABLE_PARAMETERS

getdist = pytest.importorskip("getdist")

CFG = {"num_samples": 600, "num_warmup": 300, "num_chains": 2}


@pytest.fixture(scope="module")
def desi():
    return sample.sample_posterior("lcdm", ["desi_dr2"], ["H0", "Om0"], overrides={"Obh2": 0.02237}, seed=1,
                                   use_store=False, **CFG)


def _load(root):
    return getdist.loadMCSamples(str(root), settings={"ignore_rows": 0})


def test_getdist_reads_the_same_means_and_intervals(desi, tmp_path):
    root = sample.save_samples(desi, tmp_path / "run1", format="getdist")
    for suffix in (".txt", ".paramnames", ".ranges"):
        assert (tmp_path / f"run1{suffix}").is_file()
    gd = _load(root)
    names = desi["free_params"] + desi["derived_params"]
    assert gd.getParamNames().list() == names
    assert gd.numrows == 2 * 600
    for k in names:
        x = desi["samples"][k]
        assert gd.mean(k) == pytest.approx(desi["summary"][k]["mean"], rel=1e-12, abs=1e-12)
        assert gd.std(k) == pytest.approx(np.std(x), rel=1e-6)
        for lim, (lo, hi) in ((1, (16, 84)), (2, (2.5, 97.5))):
            d = gd.twoTailLimits(k, {1: 0.68, 2: 0.95}[lim])
            q = np.percentile(x, [lo, hi])
            width = q[1] - q[0]
            assert abs(d[0] - q[0]) < 0.02 * width and abs(d[1] - q[1]) < 0.02 * width, (k, d, q)


def test_paramnames_labels_derived_and_ranges(desi, tmp_path):
    root = sample.save_samples(desi, tmp_path / "run2.txt", format="getdist")  # a .txt ending is the root
    assert root == tmp_path / "run2"
    lines = (tmp_path / "run2.paramnames").read_text().splitlines()
    rows = dict(line.split("\t") for line in lines)
    assert rows["H0"] == r"H_0\,[\mathrm{km\,s^{-1}\,Mpc^{-1}}]"
    assert rows["Om0"] == r"\Omega_\mathrm{m}"
    assert rows["h_rd*"] == r"hr_\mathrm{d}\,[\mathrm{Mpc}]"
    assert all(f"{k}*" in rows for k in desi["derived_params"])
    gd = _load(root)
    info = gd.getParamNames()
    assert [p.isDerived for p in info.names] == [False] * 2 + [True] * len(desi["derived_params"])
    assert info.parWithName("H0").label == rows["H0"]
    for k in desi["free_params"]:
        p = desi["priors"][k]
        assert gd.ranges.getLower(k) == pytest.approx(p["lower"]) and gd.ranges.getUpper(k) == pytest.approx(p["upper"])


def test_loaded_sample_file_exports_too(desi, tmp_path):
    back = sample.load_samples(sample.save_samples(desi, tmp_path / "s.npz"))
    gd = _load(sample.save_samples(back, tmp_path / "again", format="getdist"))
    assert gd.mean("Om0") == pytest.approx(desi["summary"]["Om0"]["mean"], rel=1e-12)


def test_empty_chain_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="no chains"):
        sample.save_samples({"chains": {}}, tmp_path / "e", format="getdist")
    empty = {"chains": {"H0": np.zeros((2, 0))}, "free_params": ["H0"], "derived_params": []}
    with pytest.raises(ValueError, match="no samples"):
        sample.save_samples(empty, tmp_path / "e", format="getdist")
    assert not (tmp_path / "e.txt").exists()


def test_root_in_a_missing_folder_is_a_clear_error(desi, tmp_path):
    missing = tmp_path / "nowhere" / "run"
    with pytest.raises(FileNotFoundError, match=r"folder .*nowhere.* does not exist"):
        sample.save_samples(desi, missing, format="getdist")
    assert not missing.parent.exists()


def test_bad_format(desi, tmp_path):
    with pytest.raises(ValueError, match=r"unknown sample format 'csv'; valid: npz, netcdf, getdist"):
        sample.save_samples(desi, tmp_path / "x.npz", format="csv")
    with pytest.raises(ValueError, match="does not match"):
        sample.save_samples(desi, tmp_path / "x.npz", format="netcdf")
    assert sample.save_samples(desi, tmp_path / "x.npz", format="npz").is_file()


@pytest.mark.release_files("desi_dr2")
def test_cli_sample_format_getdist(tmp_path, capsys):
    root = tmp_path / "chains" / "cli"
    root.parent.mkdir()
    rc = cli_sampling.main(["sample", "--datasets", "desi_dr2", "--params", "H0,Om0", "--set", "Obh2=0.02237",
                            "--samples", "600", "--warmup", "300", "--chains", "2", "--seed", "1", "--no-store",
                            "--output", str(root), "--format", "getdist"])
    out = capsys.readouterr().out
    assert rc == 0 and f"saved to {root}" in out
    assert "figure of merit" not in out  # ΛCDM: no w0, wa
    gd = _load(root)
    assert gd.mean("Om0") == pytest.approx(0.2975, abs=0.003)


@pytest.mark.parametrize("argv, needle", [
    (["--format", "getdist"], "--format getdist needs --output ROOT"),
    (["--format", "getdist", "--output", "/nonexistent-folder-xyz/run"], "does not exist"),
    (["--format", "netcdf", "--output", "x.npz"], "--format netcdf needs an --output ending in .nc"),
])
def test_cli_sample_format_bad_input(argv, needle, capsys):
    base = ["sample", "--datasets", "desi_dr2", "--params", "H0", "--samples", "1", "--warmup", "0", "--chains", "1"]
    assert cli_sampling.main(base + argv) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------------------
# the label table
# ---------------------------------------------------------------------------


def test_every_parameter_and_derived_quantity_has_a_label():
    from pbufjax.data import get_dataset_info, list_datasets

    names = set(DERIVED_PARAMS) | set(sample.DERIVED_NAMES) | {"Tcmb"}
    for m in MODELS:
        names |= set(OPTIMIZABLE_PARAMETERS[m])
    for d in list_datasets():
        names |= set(get_dataset_info(d)["nuisance_parameters"])
    missing = sorted(names - set(labels.LABELS))
    assert not missing, missing
    for d in list_datasets():
        assert d in labels.DATASET_LABELS, d


def test_label_forms():
    assert labels.axis_label("H0") == r"$H_0\,[\mathrm{km\,s^{-1}\,Mpc^{-1}}]$"
    assert labels.axis_label("Om0") == r"$\Omega_\mathrm{m}$"
    assert labels.axis_label("mnu") == r"$\Sigma m_\nu\,[\mathrm{eV}]$"
    assert labels.axis_label("h_rd", unit=False) == r"$hr_\mathrm{d}$"
    assert labels.unit("hrd") == r"\mathrm{Mpc}" and labels.unit("w0") == ""
    assert labels.dataset_label("desi_dr2") == "DESI DR2"
    assert labels.dataset_label("my_data") == "my_data"
    assert labels.latex("my_par") == r"\mathrm{my\_par}"
    with pytest.raises(TypeError, match="non-empty str"):
        labels.label(3)
    with pytest.raises(TypeError, match="non-empty str"):
        labels.dataset_label("")
