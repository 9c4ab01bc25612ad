"""Output files of plot / profile / mocks / sample, and the profile grid cap (issue 12).

The path ``plot`` reports is the path written (a folder gets a default name inside it, no
extension gets ``.png``); every output extension is checked before any work (exit 2, one
line listing the valid ones); a profile grid over :data:`MAX_PROFILE_POINTS` points is
refused before anything is built, on the command line (exit 2) and in Python (ValueError).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from pbufjax.analysis import figures
from pbufjax.analysis.inference_plots import plot_profile
from pbufjax.inference.batch import profile as profile_mod

PROFILE = {"names": ["Om0"], "grid": {"Om0": [0.2, 0.3, 0.4]}, "delta_chi2": [4.0, 0.0, 4.0],
           "levels": {"68": 1.0, "95": 3.84}, "model": "lcdm", "datasets": ["cmb"]}


@pytest.fixture
def profile_json(tmp_path):
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(PROFILE))
    return path


def _never(name):
    def fail(*a, **k):
        raise AssertionError(f"{name} ran although an output path was invalid")

    return fail


# ---------------------------------------------------------------------------
# plot --output


def test_plot_output_folder_writes_a_named_file_inside_and_reports_it(run, tmp_path, profile_json):
    folder = tmp_path / "figs"
    folder.mkdir()
    code, out, err = run("plot", "profile", profile_json, "--output", folder)
    written = folder / "profile.png"
    assert code == 0, err
    assert out.strip() == f"wrote {written}"
    assert written.is_file() and written.stat().st_size > 0
    assert not (tmp_path / "figs.png").exists()


def test_plot_output_without_extension_gets_png_and_reports_it(run, tmp_path, profile_json):
    code, out, err = run("plot", "profile", profile_json, "--output", tmp_path / "sub" / "fig")
    assert code == 0, err
    assert out.strip() == f"wrote {tmp_path / 'sub' / 'fig.png'}"
    assert (tmp_path / "sub" / "fig.png").is_file()


@pytest.mark.parametrize("ext", [".pdf", ".svg", ".png"])
def test_plot_output_with_a_figure_extension_is_written_as_given(run, tmp_path, profile_json, ext):
    code, out, _ = run("plot", "profile", profile_json, "--output", tmp_path / f"p{ext}")
    assert code == 0 and out.strip() == f"wrote {tmp_path / f'p{ext}'}" and (tmp_path / f"p{ext}").is_file()


def test_plot_bad_extension_is_refused_before_reading_or_fitting(run, tmp_path, monkeypatch):
    from pbufjax.analysis import engine

    monkeypatch.setattr(engine, "run_fit", _never("run_fit"))
    code, _, err = run("plot", "profile", tmp_path / "does_not_exist.json", "--output", tmp_path / "p.txt")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert ".png, .pdf, .svg" in err and "p.txt" in err
    code, _, err = run("plot", "bao", "--datasets", "bao", "--fit", "H0", "--output", "p.jpeg")
    assert code == 2 and ".png, .pdf, .svg" in err and len(err.strip().splitlines()) == 1


def test_python_plot_to_a_folder_and_bad_extension(tmp_path):
    fig = plot_profile(PROFILE, path=tmp_path)
    assert fig is not None and (tmp_path / "profile.png").is_file()
    with pytest.raises(ValueError, match=r"\.png, \.pdf, \.svg"):
        plot_profile(PROFILE, path=tmp_path / "p.txt")
    assert figures.figure_path(tmp_path / "a.PDF") == tmp_path / "a.PDF"
    assert figures.figure_path(f"{tmp_path / 'new'}/", "x.svg") == tmp_path / "new" / "x.svg"


# ---------------------------------------------------------------------------
# profile / mocks / sample: extensions checked before any work


PROFILE_ARGS = ("profile", "--datasets", "cmb", "--optimize", "H0,Om0", "--grid", "Om0=0.25:0.35:3")
MOCK_ARGS = ("mocks", "--datasets", "cmb", "--optimize", "H0,Om0", "--n", "2")
SAMPLE_ARGS = ("sample", "--datasets", "cmb", "--optimize", "H0,Om0", "--samples", "10", "--warmup", "10")


@pytest.mark.parametrize("argv, valid", [
    (PROFILE_ARGS + ("--output", "prof.txt"), ".json"),
    (PROFILE_ARGS + ("--output", "prof"), ".json"),
    (PROFILE_ARGS + ("--plot", "prof.json"), ".png, .pdf, .svg"),
    (MOCK_ARGS + ("--output", "mocks.npz"), ".json"),
    (MOCK_ARGS + ("--compare", "wcdm", "--alt-params", "H0,Om0,w0", "--plot", "m.csv"), ".png, .pdf, .svg"),
    (SAMPLE_ARGS + ("--output", "samples.json"), ".npz, .nc"),
    (SAMPLE_ARGS + ("--corner", "corner.npz"), ".png, .pdf, .svg"),
])
def test_output_extensions_are_checked_before_any_work(run, monkeypatch, argv, valid):
    from pbufjax.inference import batch, sampling

    for mod, name in ((batch, "profile_likelihood"), (batch, "fit_mocks"), (batch, "compare_models"),
                      (sampling, "sample_posterior")):
        monkeypatch.setattr(mod, name, _never(name))
    code, _, err = run(*argv)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and valid in lines[0]


# ---------------------------------------------------------------------------
# the profile grid cap


@pytest.mark.parametrize("grids, total", [
    (["Om0=0.2:0.4:100000000"], 100_000_000),
    (["Om0=0.2:0.4:1000", "H0=60:80:1000"], 1_000_000),
])
def test_cli_profile_grid_is_capped_before_any_work(run, monkeypatch, grids, total):
    from pbufjax.inference import batch

    monkeypatch.setattr(batch, "profile_likelihood", _never("profile_likelihood"))
    argv = ["profile", "--datasets", "cmb", "--optimize", "H0,Om0"]
    for g in grids:
        argv += ["--grid", g]
    code, _, err = run(*argv)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert str(total) in lines[0] and str(profile_mod.MAX_PROFILE_POINTS) in lines[0]
    assert "MAX_PROFILE_POINTS" in lines[0]


def test_cli_profile_grid_at_the_cap_is_accepted(monkeypatch):
    from pbufjax.cli.sampling import grid

    monkeypatch.setattr(profile_mod, "MAX_PROFILE_POINTS", 12)
    out = grid(["Om0=0.2:0.4:3", "H0=60:80:4"])
    assert out["Om0"].size == 3 and out["H0"].size == 4


def test_python_profile_grid_is_capped_before_the_problem_is_built(monkeypatch):
    monkeypatch.setattr(profile_mod, "problem", _never("problem"))
    n = profile_mod.MAX_PROFILE_POINTS + 1
    with pytest.raises(ValueError, match=rf"{n} points.*MAX_PROFILE_POINTS = {profile_mod.MAX_PROFILE_POINTS}"):
        profile_mod.profile_likelihood("lcdm", ["cmb"], ["H0", "Om0"], {"Om0": np.linspace(0.2, 0.4, n)})
    side = int(np.sqrt(profile_mod.MAX_PROFILE_POINTS)) + 1
    with pytest.raises(ValueError, match="MAX_PROFILE_POINTS"):
        profile_mod.profile_likelihood("lcdm", ["cmb"], ["H0", "Om0"],
                                       {"Om0": np.linspace(0.2, 0.4, side), "H0": np.linspace(60, 80, side)})
    assert profile_mod.check_grid_size({"Om0": [0.3, 0.31]}) == 2


# ---------------------------------------------------------------------------
# plot corner: several sample files overlaid, the density backend


@pytest.fixture
def two_sample_files(tmp_path):
    from pbufjax.sample import save_samples

    rng = np.random.default_rng(0)
    paths = []
    for k, shift in enumerate((0.0, 0.5)):
        chains = {"H0": 68.0 + shift + 0.4 * rng.standard_normal((2, 400)), "Om0": 0.30 + 0.01 * rng.standard_normal((2, 400))}
        paths.append(save_samples({"chains": chains, "free_params": ["H0", "Om0"], "summary": {}}, tmp_path / f"s{k}.npz"))
    return paths


def test_plot_corner_overlays_sample_files_with_labels(run, tmp_path, two_sample_files, monkeypatch):
    from pbufjax.analysis import inference_plots

    seen = {}
    original = inference_plots.plot_corner

    def spy(samples, params=None, **kw):
        fig = original(samples, params, **kw)
        seen.update(legend=[t.get_text() for t in fig.legends[0].get_texts()], backend=fig.corner_backend)
        return fig

    monkeypatch.setattr(inference_plots, "plot_corner", spy)
    out = tmp_path / "c.pdf"
    code, stdout, err = run("plot", "corner", *two_sample_files, "--labels", "BAO,BAO + SN", "--backend", "matplotlib",
                            "--output", out)
    assert code == 0, err
    assert stdout.strip() == f"wrote {out}" and out.read_bytes()[:5] == b"%PDF-"
    assert seen == {"legend": ["BAO", "BAO + SN"], "backend": "matplotlib"}


@pytest.mark.parametrize("extra, needle", [
    (("--labels", "only-one"), "--labels only-one: 1 names for 2 sample files"),
    (("--backend", "seaborn"), "invalid choice: 'seaborn'"),
    (("--params", "H0,w0"), "unknown quantities ['w0']"),
])
def test_plot_corner_bad_input_is_one_line(run, tmp_path, two_sample_files, extra, needle):
    code, _, err = run("plot", "corner", *two_sample_files, *extra, "--output", tmp_path / "c.png")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], err
