"""Figures (pbufjax.plots): each is rendered to PNG and checked to be a non-trivial image.

"Non-trivial": a PNG of plausible size whose pixels are not all one colour — at least
2% of the pixels differ from the background and there are more than 20 distinct
colours (axes, text, markers, curves). A blank or failed figure fails these checks.
"""

import json

import matplotlib.image as mpimg
import numpy as np
import pytest

import pbufjax  # noqa: F401
from pbufjax import cli_sampling, plots

BEST = {"H0": 68.9, "Om0": 0.303, "Obh2": 0.02237}


def assert_nontrivial_png(path, min_kb=15):
    assert path.exists(), path
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > min_kb * 1024
    img = mpimg.imread(str(path))
    assert img.ndim == 3 and img.shape[0] > 300 and img.shape[1] > 300
    rgb = img[..., :3].reshape(-1, 3)
    background = np.median(rgb, axis=0)
    drawn = np.any(np.abs(rgb - background) > 0.05, axis=1)
    assert drawn.mean() > 0.02
    assert len(np.unique(np.round(rgb, 2), axis=0)) > 20


def gaussian_samples(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    cov = np.array([[0.4**2, -0.7 * 0.4 * 0.0086], [-0.7 * 0.4 * 0.0086, 0.0086**2]])
    x = rng.multivariate_normal([68.9, 0.2975], cov, size=n)
    return {"H0": x[:, 0], "Om0": x[:, 1], "h_rd": 101.54 + 0.73 * rng.standard_normal(n)}


def test_plot_bao_with_residuals(tmp_path):
    fig = plots.plot_bao(BEST, ["desi_dr2", "boss_dr12"], model="lcdm", path=tmp_path / "bao.png")
    assert_nontrivial_png(tmp_path / "bao.png")
    top, bottom = fig.axes[:2]
    assert len(top.lines) >= 3  # the three model curves
    assert len(bottom.collections) + len(bottom.lines) > 10  # residual points


def test_bao_curves_match_the_likelihood_predictions():
    from pbufjax.optimizer import get_problem

    ev = get_problem("lcdm", ["desi_dr2"], [], BEST).evaluate()["desi_dr2"]
    z = ev["predictions"]["z"]
    curves = plots.bao_curves("lcdm", BEST, z)
    for i, q in enumerate(ev["predictions"]["quantities"]):
        kind = q.split("_")[0]
        assert curves[kind][i] == pytest.approx(ev["predictions"]["values"][i], rel=1e-9)


def test_plot_sn_hubble_diagram(tmp_path):
    plots.plot_sn({"model": "lcdm", "params": {"Om0": 0.356}}, "union3", path=tmp_path / "sn.png")
    assert_nontrivial_png(tmp_path / "sn.png")


def test_plot_corner_from_samples_and_from_a_result(tmp_path):
    s = gaussian_samples()
    fig = plots.plot_corner(s, ["H0", "Om0", "h_rd"], truths={"Om0": 0.2975, "h_rd": 101.54},
                            path=tmp_path / "corner.png")
    assert_nontrivial_png(tmp_path / "corner.png")
    assert sum(ax.get_visible() for ax in fig.axes) == 6  # lower triangle of 3x3
    result = {"samples": s, "free_params": ["H0", "Om0"],
              "summary": {k: {"mean": float(v.mean()), "std": float(v.std())} for k, v in s.items()}}
    fig = plots.plot_corner(result, path=tmp_path / "corner2.png")
    assert_nontrivial_png(tmp_path / "corner2.png")
    assert r"\pm" in fig.axes[0].get_title()  # mean and 68% interval, LaTeX


def test_plot_profile_1d_and_2d(tmp_path):
    x = np.linspace(0.25, 0.45, 41)
    prof1 = {"names": ["Om0"], "grid": {"Om0": x}, "delta_chi2": ((x - 0.356) / 0.027) ** 2,
             "levels": {"68": 1.0, "95": 3.84},
             "intervals": {"68": {"lower": 0.329, "upper": 0.383}, "95": {"lower": 0.303, "upper": 0.409}},
             "model": "lcdm", "datasets": ["union3"]}
    plots.plot_profile(prof1, path=tmp_path / "p1.png")
    assert_nontrivial_png(tmp_path / "p1.png")
    y = np.linspace(-1.5, -0.5, 21)
    X, Y = np.meshgrid(x, y, indexing="ij")
    prof2 = {"names": ["Om0", "w0"], "grid": {"Om0": x, "w0": y},
             "delta_chi2": ((X - 0.3) / 0.03) ** 2 + ((Y + 1) / 0.1) ** 2 + 1.5 * (X - 0.3) / 0.03 * (Y + 1) / 0.1,
             "levels": {"68": 2.30, "95": 6.18}}
    plots.plot_profile(prof2, path=tmp_path / "p2.png")
    assert_nontrivial_png(tmp_path / "p2.png")


def test_plot_mock_delta_chi2(tmp_path):
    rng = np.random.default_rng(3)
    d = rng.chisquare(1, 500)
    comp = {"delta_chi2": d, "valid": np.ones(500, bool), "observed": {"delta_chi2": 2.1}, "p_value": 0.15,
            "k_null": 2, "k_alt": 3, "null_model": "lcdm", "alt_model": "pbuf", "datasets": ["cmb", "desi_dr2"]}
    fig = plots.plot_mock_delta_chi2(comp, path=tmp_path / "mock.png")
    assert_nontrivial_png(tmp_path / "mock.png")
    ax = fig.axes[0]
    assert any(abs(line.get_xdata()[0] - 2.1) < 1e-12 for line in ax.lines if len(line.get_xdata()) == 2)


def test_plots_label_datasets_by_the_names_given_and_take_the_data_folder(monkeypatch):
    import os

    folder = os.environ.get("PBUFJAX_DATA_DIR")
    if not folder:
        pytest.skip("PBUFJAX_DATA_DIR (the release data files) is not set")
    monkeypatch.delenv("PBUFJAX_DATA_DIR")  # the folder is passed explicitly, not through the environment
    fig = plots.plot_bao(BEST, ["bao", "boss_dr12"], model="lcdm", data_dir=folder)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["DESI DR2", "BOSS DR12"]  # an alias is shown by its dataset's display name
    fig = plots.plot_sn({"model": "lcdm", "params": {"Om0": 0.356}}, "sn", data_dir=folder)
    assert "Union3 (22 SNe)" in fig.axes[0].get_legend_handles_labels()[1]
    assert fig.axes[0].get_title().startswith("Hubble diagram: Union3")


def test_figures_are_returned_without_a_path():
    fig = plots.plot_corner(gaussian_samples(500), ["H0", "Om0"])
    assert len(fig.axes) == 4


def test_plot_bad_input():
    with pytest.raises(ValueError, match="not BAO; valid types: bao, bao_ani"):
        plots.plot_bao(BEST, ["union3"])
    with pytest.raises(ValueError, match="not an SN dataset"):
        plots.plot_sn(BEST, "desi_dr2")
    with pytest.raises(ValueError, match=r"unknown quantities \['w0'\]; available: H0, Om0, h_rd"):
        plots.plot_corner(gaussian_samples(100), ["H0", "w0"])
    with pytest.raises(ValueError, match="at least two samples"):
        plots.plot_corner({"a": np.ones(1)})
    with pytest.raises(ValueError, match="profile_likelihood"):
        plots.plot_profile({"chi2": [1.0]})
    with pytest.raises(ValueError, match="no valid mock"):
        plots.plot_mock_delta_chi2({"delta_chi2": np.array([np.nan]), "observed": {"delta_chi2": 1.0}})
    with pytest.raises(ValueError, match="compare_models"):
        plots.plot_mock_delta_chi2({"chi2": [1.0]})
    with pytest.raises(TypeError):
        plots.plot_bao(3.0, ["desi_dr2"])


# ---------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------


@pytest.mark.release_files("desi_dr2", "union3")
def test_cli_plot_bao_sn_and_corner(tmp_path, capsys):
    rc = cli_sampling.main(["plot", "bao", "--datasets", "desi_dr2", "--set", "H0=68.9", "--set", "Om0=0.303",
                            "--output", str(tmp_path / "bao.png")])
    assert rc == 0
    assert_nontrivial_png(tmp_path / "bao.png")
    rc = cli_sampling.main(["plot", "sn", "--datasets", "union3", "--set", "Om0=0.356",
                            "--output", str(tmp_path / "sn.png")])
    assert rc == 0
    assert_nontrivial_png(tmp_path / "sn.png")
    from pbufjax.sample import save_samples

    s = gaussian_samples(2000)
    chains = {k: v.reshape(4, 500) for k, v in s.items()}
    save_samples({"chains": chains, "free_params": ["H0", "Om0"], "summary": {}}, tmp_path / "s.npz")
    rc = cli_sampling.main(["plot", "corner", str(tmp_path / "s.npz"), "--params", "H0,Om0,h_rd",
                            "--output", str(tmp_path / "c.png")])
    assert rc == 0
    assert_nontrivial_png(tmp_path / "c.png")


def test_cli_plot_mocks_from_json(tmp_path):
    rng = np.random.default_rng(4)
    doc = {"delta_chi2": rng.chisquare(1, 200).tolist(), "valid": [True] * 200, "observed": {"delta_chi2": 0.5},
           "p_value": 0.4, "k_null": 1, "k_alt": 2, "null_model": "lcdm", "alt_model": "wcdm", "datasets": ["union3"]}
    (tmp_path / "c.json").write_text(json.dumps(doc))
    rc = cli_sampling.main(["plot", "mocks", str(tmp_path / "c.json"), "--output", str(tmp_path / "m.png")])
    assert rc == 0
    assert_nontrivial_png(tmp_path / "m.png")


@pytest.mark.parametrize("argv, needle", [
    (["plot", "bao", "--datasets", "union3", "--output", "x.png"], "not BAO"),
    (["plot", "corner", "missing.npz", "--output", "x.png"], "does not exist"),
    (["plot", "sn", "--datasets", "union3,desi_dr2", "--output", "x.png"], "one SN dataset"),
    (["plot", "bao", "--datasets", "desi_dr2", "--set", "Om0=abc", "--output", "x.png"], "not a number"),
    (["plot", "bao", "--datasets", "desi_dr2", "--model", "nope", "--output", "x.png"], "unknown model 'nope'"),
    (["plot", "histogram", "--output", "x.png"], "invalid choice"),
])
@pytest.mark.release_files("desi_dr2", "union3")
def test_cli_plot_bad_input(argv, needle, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli_sampling.main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1
