"""What a referee checks in each figure (issue 15): labels and units from the one label table,
legends whose entries match the drawn artists, residual panels, 68%/95% profile bands that stay
distinct, a mock histogram not flattened by its χ² curve, getdist triangle plots with the
matplotlib fallback, and PNG + PDF output.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from matplotlib.colors import to_rgba

import pbufjax  # noqa: F401
from pbufjax import plots
from pbufjax.analysis import densities
from pbufjax.analysis import plots as analysis_plots
from pbufjax.analysis.figures import save_formats
from pbufjax.analysis.inference_plots import PROFILE_COLORS
from pbufjax.cosmology.labels import axis_label, latex

BEST = {"H0": 68.9, "Om0": 0.303, "Obh2": 0.02237}


def gaussian_samples(n=3000, seed=0, shift=0.0):
    rng = np.random.default_rng(seed)
    cov = np.array([[0.4**2, -0.7 * 0.4 * 0.0086], [-0.7 * 0.4 * 0.0086, 0.0086**2]])
    x = rng.multivariate_normal([68.9 + shift, 0.2975], cov, size=n)
    return {"H0": x[:, 0], "Om0": x[:, 1], "h_rd": 101.54 + 0.73 * rng.standard_normal(n)}


def same_color(a, b):
    return np.allclose(to_rgba(a)[:3], to_rgba(b)[:3], atol=1e-3)


# ---------------------------------------------------------------------------
# BAO and SN


@pytest.fixture(scope="module")
def bao_figure():
    return plots.plot_bao(BEST, ["desi_dr2", "boss_dr12"], model="lcdm")


def test_bao_has_a_residual_panel_and_labelled_axes(bao_figure):
    assert len(bao_figure.axes) == 2
    top, bottom = bao_figure.axes
    assert r"r_\mathrm{d}" in top.get_ylabel()
    assert bottom.get_xlabel() == f"redshift {axis_label('z')}"
    assert "sigma" in bottom.get_ylabel()
    assert "DESI DR2" in top.get_title() and "ΛCDM" in top.get_title() and "Mpc" in top.get_title()
    assert top.get_shared_x_axes().joined(top, bottom)


def test_bao_legends_match_the_points(bao_figure):
    top = bao_figure.axes[0]
    legends = [a for a in top.get_children() if type(a).__name__ == "Legend"]
    assert len(legends) == 2
    quantity, datasets = legends
    # quantity legend: each entry has its quantity's colour, the colour of its curve and of its points
    texts = [t.get_text() for t in quantity.get_texts()]
    assert texts == [f"${latex(k + '_over_rd')}$" for k in ("DM", "DH", "DV")]
    curve_colors = [line.get_color() for line in top.lines if len(line.get_xdata()) > 10]
    point_colors = {to_rgba(line.get_color()) for line in top.lines if len(line.get_xdata()) == 1}
    for handle, kind, curve in zip(quantity.legend_handles, ("DM", "DH", "DV"), curve_colors):
        assert same_color(handle.get_color(), plots.BAO_COLORS[kind])
        assert same_color(curve, plots.BAO_COLORS[kind])
        assert to_rgba(plots.BAO_COLORS[kind]) in point_colors
    # dataset legend: the marker shapes of that dataset's points, in a neutral colour (no quantity colour)
    assert [t.get_text() for t in datasets.get_texts()] == ["DESI DR2", "BOSS DR12"]
    markers = {line.get_marker() for line in top.lines if len(line.get_xdata()) == 1}
    for handle, mk in zip(datasets.legend_handles, analysis_plots.BAO_MARKERS):
        assert handle.get_marker() == mk and mk in markers
        assert not any(same_color(handle.get_color(), c) for c in plots.BAO_COLORS.values())


def test_bao_residuals_are_one_per_point(bao_figure):
    top, bottom = bao_figure.axes
    n_top = sum(1 for line in top.lines if len(line.get_xdata()) == 1)
    n_bottom = sum(1 for line in bottom.lines if len(line.get_xdata()) == 1)
    assert n_top == n_bottom > 15  # DESI DR2 (13) + BOSS DR12 (6)
    y = np.concatenate([line.get_ydata() for line in bottom.lines if len(line.get_xdata()) == 1])
    assert np.all(np.abs(y) < 5)  # in units of σ


@pytest.mark.release_files("union3", shipped=True)
def test_sn_axes_have_units_and_a_residual_panel():
    fig = plots.plot_sn({"model": "lcdm", "params": {"Om0": 0.356}}, "union3")
    assert len(fig.axes) == 2
    top, bottom = fig.axes
    assert r"\mathrm{mag}" in top.get_ylabel() and r"\mu" in top.get_ylabel()
    assert bottom.get_ylabel() == axis_label("delta_mu")
    handles, labels = top.get_legend_handles_labels()
    assert labels[0].startswith("ΛCDM (offset") and labels[1] == "Union3 (22 SNe)"
    # the legend's data entry has the points' colour
    assert same_color(handles[1].lines[0].get_color(), "tab:blue")
    assert top.get_xscale() == "log"


@pytest.mark.release_files("desy5_stat", shipped=True)
def test_sn_large_release_gets_binned_residuals_and_limits_from_the_moduli():
    fig = plots.plot_sn(BEST | {"model": "lcdm"}, "desy5_stat")
    top, bottom = fig.axes
    assert "binned (inverse-variance mean)" in bottom.get_legend_handles_labels()[1]
    lo, hi = top.get_ylim()
    assert 30 < lo < hi < 50  # not stretched by the de-weighted SNe's huge diagonal errors


# ---------------------------------------------------------------------------
# corner


def test_corner_through_getdist_uses_the_label_table():
    pytest.importorskip("getdist")
    fig = plots.plot_corner(gaussian_samples(), ["H0", "Om0", "h_rd"])
    assert fig.corner_backend == "getdist"
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 6
    assert axes[-1].get_xlabel() == axis_label("h_rd") == r"$hr_\mathrm{d}\,[\mathrm{Mpc}]$"
    assert axes[3].get_xlabel() == axis_label("H0")
    assert axes[0].get_title().startswith(r"$H_0 = 68.9") and r"\pm" in axes[0].get_title()
    # smoothed: a 1-D density is a continuous curve, not 40 histogram steps
    x = axes[0].lines[0].get_xdata()
    assert len(x) > 100


def test_corner_overlays_several_posteriors_with_a_matching_legend():
    sets = [gaussian_samples(seed=1), gaussian_samples(seed=2, shift=0.8)]
    fig = plots.plot_corner(sets, ["H0", "Om0"], legend_labels=["BAO", "BAO + SN"], colors=["#0072B2", "#D55E00"])
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["BAO", "BAO + SN"]
    for handle, color in zip(legend.legend_handles, ["#0072B2", "#D55E00"]):
        assert same_color(handle.get_edgecolor(), color)
    diag = fig.axes[0]
    assert [same_color(line.get_color(), c) for line, c in zip(diag.lines, ["#0072B2", "#D55E00"])] == [True, True]
    lower = fig.axes[2]
    line_sets = [c for c in lower.collections if type(c).__name__ == "QuadContourSet" and not c.filled]
    assert len(line_sets) == 2  # one 68/95% contour set per posterior
    assert same_color(line_sets[1].get_edgecolor()[0], "#D55E00")


def test_corner_falls_back_to_matplotlib_when_getdist_is_blocked(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "getdist", None)
    monkeypatch.setitem(sys.modules, "getdist.mcsamples", None)
    assert not densities.getdist_available()
    fig = plots.plot_corner(gaussian_samples(), ["H0", "Om0"], path=tmp_path / "c.png")
    assert fig.corner_backend == "matplotlib"
    assert (tmp_path / "c.png").stat().st_size > 10_000
    assert fig.axes[2].get_xlabel() == axis_label("H0")
    with pytest.raises(ImportError, match=r"pip install \"pbufjax\[getdist\]\""):
        plots.plot_corner(gaussian_samples(), ["H0", "Om0"], backend="getdist")


def test_corner_backends_agree_on_the_contours():
    """The same 68% region from getdist's kernel densities and from the smoothed histograms."""
    pytest.importorskip("getdist")
    s = gaussian_samples(8000)
    areas = {}
    for backend in ("getdist", "matplotlib"):
        d = densities.make_densities({k: s[k] for k in ("H0", "Om0")}, (0.68, 0.95), backend=backend,
                                     ranges={"H0": (67.0, 71.0), "Om0": (0.26, 0.34)})
        x, y, p, th = d.density_2d("H0", "Om0")
        cell = (x[1] - x[0]) * (y[1] - y[0])
        areas[backend] = np.sum(p >= th[-1]) * cell  # the 68% region
    exact = np.pi * 2.279 * 0.4 * 0.0086 * np.sqrt(1 - 0.7**2)  # π·(-2 ln 0.32)·σx·σy·√(1-ρ²)
    assert areas["getdist"] == pytest.approx(exact, rel=0.1)
    assert areas["matplotlib"] == pytest.approx(exact, rel=0.2)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"legend_labels": ["one"]}, ValueError, "1 legend_labels for 2 sample sets"),
    ({"backend": "seaborn"}, ValueError, "unknown corner-plot backend 'seaborn'; valid: auto, getdist, matplotlib"),
    ({"levels": (0.68, 1.5)}, ValueError, "levels must be 1 to 3 probability masses"),
    ({"colors": ["k"]}, ValueError, "2 sample sets but only 1 colours"),
])
def test_corner_bad_options(kwargs, error, match):
    with pytest.raises(error, match=match):
        plots.plot_corner([gaussian_samples(200), gaussian_samples(200, seed=3)], ["H0", "Om0"], **kwargs)


def test_corner_bad_samples():
    with pytest.raises(ValueError, match=r"quantity 'Om0' is constant \(0.3\)"):
        plots.plot_corner({"H0": np.arange(10.0), "Om0": np.full(10, 0.3)})
    with pytest.raises(ValueError, match=r"unknown quantities \['Om0'\] in sample set 2; available: H0"):
        plots.plot_corner([gaussian_samples(100), {"H0": np.arange(5.0)}], ["H0", "Om0"])
    with pytest.raises(TypeError, match="got float"):
        plots.plot_corner(3.0)


def test_format_interval_rounds_to_the_error():
    assert densities.format_interval(0.30041, 0.2966, 0.3042) == r"0.3004\pm 0.0038"
    assert densities.format_interval(68.372, 68.07, 68.68) == "68.37^{+0.31}_{-0.30}"


# ---------------------------------------------------------------------------
# profile and mocks


def profile_1d():
    x = np.linspace(0.25, 0.45, 41)
    return {"names": ["Om0"], "grid": {"Om0": x}, "delta_chi2": ((x - 0.356) / 0.027) ** 2,
            "levels": {"68": 1.0, "95": 3.84}, "best": {"Om0": 0.356},
            "intervals": {"68": {"lower": 0.329, "upper": 0.383}, "95": {"lower": 0.303, "upper": 0.409}},
            "model": "lcdm", "datasets": ["union3"]}


def test_profile_bands_stay_distinct():
    fig = plots.plot_profile(profile_1d())
    ax = fig.axes[0]
    bands = [p for p in ax.patches if type(p).__name__ == "Rectangle"]
    assert len(bands) == 2
    wide, narrow = bands  # the 95% band first, the 68% band drawn over it
    assert wide.get_width() > narrow.get_width()
    assert same_color(wide.get_facecolor(), PROFILE_COLORS["95"])
    assert same_color(narrow.get_facecolor(), PROFILE_COLORS["68"])
    assert not same_color(wide.get_facecolor(), narrow.get_facecolor())
    assert wide.get_facecolor()[3] == narrow.get_facecolor()[3] == 1.0  # opaque: never blended
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[0] == r"68%: $0.329 < \Omega_\mathrm{m} < 0.383$"
    assert texts[1] == r"95%: $0.303 < \Omega_\mathrm{m} < 0.409$"
    assert texts[2].startswith(r"best fit: $\Omega_\mathrm{m} = 0.356")
    for handle, band in zip(ax.get_legend().legend_handles, (narrow, wide)):
        assert same_color(handle.get_facecolor(), band.get_facecolor())
    assert ax.get_xlabel() == axis_label("Om0") and r"\Delta\chi^2" in ax.get_ylabel()
    assert ax.get_title() == "Profile likelihood: ΛCDM on Union3"


def test_profile_2d_contours_differ_in_style():
    x = np.linspace(0.25, 0.35, 21)
    y = np.linspace(-1.3, -0.7, 25)
    X, Y = np.meshgrid(x, y, indexing="ij")
    prof = {"names": ["Om0", "w0"], "grid": {"Om0": x, "w0": y},
            "delta_chi2": ((X - 0.3) / 0.02) ** 2 + ((Y + 1) / 0.1) ** 2, "levels": {"68": 2.30, "95": 6.18},
            "best": {"Om0": 0.3, "w0": -1.0}}
    fig = plots.plot_profile(prof)
    ax = fig.axes[0]
    assert len(fig.axes) == 2  # the map and its colour bar
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[0].startswith("68%") and texts[1].startswith("95%") and texts[2] == "best fit"
    styles = [h.get_linestyle() for h in ax.get_legend().legend_handles[:2]]
    assert styles[0] != styles[1]
    assert ax.get_ylabel() == axis_label("w0")


def test_profile_bad_grid():
    bad = profile_1d() | {"delta_chi2": np.zeros(3)}
    with pytest.raises(ValueError, match="has 41 points but delta_chi2 has shape"):
        plots.plot_profile(bad)
    with pytest.raises(ValueError, match=r"grid for each name; got names \['Om0', 'w0', 'wa'\]"):
        plots.plot_profile(profile_1d() | {"names": ["Om0", "w0", "wa"]})


def comparison(dk=1, n=1000, seed=3):
    rng = np.random.default_rng(seed)
    return {"delta_chi2": rng.chisquare(dk, n), "valid": np.ones(n, bool), "observed": {"delta_chi2": 6.7},
            "p_value": 0.01, "k_null": 2, "k_alt": 2 + dk, "null_model": "lcdm", "alt_model": "wcdm",
            "datasets": ["desi_dr2", "union3"]}


def test_mock_histogram_is_not_flattened_by_the_chi2_law():
    """χ²₁'s density diverges at 0: drawn as counts per bin it stays on the histogram's scale."""
    fig = plots.plot_mock_delta_chi2(comparison(dk=1), bins=40)
    ax = fig.axes[0]
    heights = np.array([p.get_height() for p in ax.patches if type(p).__name__ == "Rectangle"])
    (law,) = [p for p in ax.patches if type(p).__name__ == "StepPatch"]
    expected = law.get_data().values
    top = ax.get_ylim()[1]
    assert heights.max() <= top <= 1.2 * max(heights.max(), expected.max())
    assert expected.max() == pytest.approx(heights.max(), rel=0.15)  # same scale as the counts
    assert expected.sum() == pytest.approx(heights.sum(), rel=0.02)
    assert ax.get_ylabel() == "mocks per bin"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "1000 mocks of ΛCDM" and labels[1].startswith("Wilks")
    assert "p = 0.01 (mocks" in labels[2] and "(Wilks)" in labels[2]
    assert "ΛCDM" in ax.get_xlabel() and "wCDM" in ax.get_xlabel()


def test_mock_histogram_bad_bins():
    with pytest.raises(ValueError, match="bins must be a positive integer, got 0"):
        plots.plot_mock_delta_chi2(comparison(), bins=0)


# ---------------------------------------------------------------------------
# PNG and PDF


def test_every_figure_writes_png_and_pdf(tmp_path, bao_figure):
    figs = {"bao": bao_figure, "corner": plots.plot_corner(gaussian_samples(500), ["H0", "Om0"]),
            "profile": plots.plot_profile(profile_1d()), "mocks": plots.plot_mock_delta_chi2(comparison())}
    for name, fig in figs.items():
        png, pdf = save_formats(fig, tmp_path / name)
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
        assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 5_000
    with pytest.raises(ValueError, match=r"figure formats \['.jpg'\]: valid are .png, .pdf, .svg"):
        save_formats(figs["bao"], tmp_path / "x", (".jpg",))


def test_corner_with_few_samples_uses_the_histograms_or_says_why_not():
    few = {"H0": np.linspace(67.0, 69.0, 10), "Om0": np.linspace(0.29, 0.31, 10)[::-1] ** 1.5}
    assert plots.plot_corner(few).corner_backend == "matplotlib"
    with pytest.raises(ValueError, match="backend='getdist' needs at least 50 samples, got 10"):
        plots.plot_corner(few, backend="getdist")


def test_corner_ranges_stop_at_the_prior_bounds():
    rng = np.random.default_rng(5)
    result = {"samples": {"H0": 67 + rng.standard_normal(3000), "mnu": np.abs(rng.normal(0, 0.05, 3000))},
              "free_params": ["H0", "mnu"], "priors": {"mnu": {"type": "uniform", "lower": 0.0, "upper": 5.0}}}
    fig = plots.plot_corner(result, backend="matplotlib")
    assert fig.axes[3].get_xlim()[0] == 0.0 and fig.axes[2].get_ylim()[0] == 0.0
    assert fig.axes[3].get_xlabel() == r"$\Sigma m_\nu\,[\mathrm{eV}]$"
