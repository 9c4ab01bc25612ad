"""SDSS BAO: eBOSS DR16, BOSS DR12 at z = 0.38, 0.51, SDSS DR7 MGS and the combination ``sdss_legacy``.

Independent checks: the release files are parsed here again with ``numpy.loadtxt``, the covariances
assembled and the χ² algebra written in numpy; the MGS table is interpolated with scipy's
``UnivariateSpline(s=0)``, the interpolant of Cobaya's ``sdss_dr7_mgs``, on the α grid and with the
fiducial :math:`D_V/r_d` transcribed from that likelihood's settings (``prob_dist_bounds`` =
[0.8005, 1.1985], ``rs_rescale`` = 638.9518/148.69). Only :math:`D_M(z)`, :math:`H(z)` and
:math:`r_d` come from pbufjax (its distance kernels and ``build_params``).
"""

from __future__ import annotations

import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.interpolate import UnivariateSpline
from scipy.optimize import minimize_scalar

from pbufjax import data as D
from pbufjax.cosmology.background import comoving_transverse_distance, hubble
from pbufjax.cosmology.parameters import build_params
from pbufjax.data import files as F
from pbufjax.data.readers import DataFormatError
from pbufjax.data.validation import DatasetValidationError
from pbufjax.likelihood import build_likelihood
from pbufjax.likelihood.tabulated import signed_root, spline_table, spline_value

C = 299792.458  # km/s
MNU = 0.06  # eV, passed explicitly
LRG = ("bao/sdss/sdss_DR16_LRG_BAO_DMDH.dat", "bao/sdss/sdss_DR16_LRG_BAO_DMDH_covtot.txt")
QSO = ("bao/sdss/sdss_DR16_QSO_BAO_DMDH.txt", "bao/sdss/sdss_DR16_QSO_BAO_DMDH_covtot.txt")
BOSS = ("bao/sdss/sdss_DR12Consensus_bao.dat", "bao/sdss/BAO_consensus_covtot_dM_Hz.txt")
MGS = "bao/sdss/sdss_MGS_prob.txt"
ALPHA = np.linspace(0.8005, 1.1985, 399)  # Cobaya's prob_dist_bounds, len(file) points
DV_RD_FID = 638.9518 / 148.69  # Cobaya's rs_rescale
POINTS = [{"H0": 67.4, "Om0": 0.315}, {"H0": 70.0, "Om0": 0.28}, {"H0": 64.0, "Om0": 0.34, "Obh2": 0.0215}]


def params(point):
    return build_params("lcdm", {"mnu": MNU, **point})


def distances(p, z):
    """(D_M, D_H, r_d) from the pbufjax kernels at redshifts ``z``."""
    z = jnp.asarray(np.atleast_1d(z), jnp.float64)
    dm = np.asarray(comoving_transverse_distance(z, p))
    dh = C / np.asarray(hubble(z, p))
    return dm, dh, float(p["r_s_drag"])


def read_pair(mean_rel, cov_rel):
    rows = [line.split() for line in F.resolve(mean_rel).read_text().splitlines() if line.strip()]
    z = np.array([float(r[0]) for r in rows])
    v = np.array([float(r[1]) for r in rows])
    return z, v, [r[2] for r in rows], np.loadtxt(F.resolve(cov_rel))


def chi2_numpy(resid, cov):
    return float(resid @ np.linalg.solve(cov, resid))


# ---------------------------------------------------------------------------
# eBOSS DR16 and the BOSS DR12 bins kept with it
# ---------------------------------------------------------------------------


def eboss_chi2(p):
    (z1, v1, q1, c1), (z2, v2, q2, c2) = read_pair(*LRG), read_pair(*QSO)
    z, v, q = np.r_[z1, z2], np.r_[v1, v2], q1 + q2
    cov = np.block([[c1, np.zeros((2, 2))], [np.zeros((2, 2)), c2]])
    dm, dh, rd = distances(p, z)
    model = np.where(np.array(q) == "DM_over_rs", dm / rd, dh / rd)
    return chi2_numpy(v - model, cov)


def boss_2bins_chi2(p):
    z, v, q, cov = read_pair(*BOSS)
    keep = z < 0.6  # z = 0.38, 0.51; the 0.61 bin is dropped
    z, v, q, cov = z[keep], v[keep], np.array(q)[keep], cov[np.ix_(keep, keep)]
    dm, dh, rd = distances(p, z)
    model = np.where(q == "DM_over_rs", dm * 147.78 / rd, C / dh * rd / 147.78)
    return chi2_numpy(v - model, cov)


def test_eboss_dr16_content():
    d = D.load_dataset("eboss_dr16")
    assert d["metadata"]["dataset_type"] == "bao" and d["quantities"] == ("DM_over_rs", "DH_over_rs") * 2
    np.testing.assert_array_equal(d["redshifts"], [0.698, 0.698, 1.48, 1.48])
    np.testing.assert_allclose(d["observations"], [17.85823691865007, 19.32575373059217, 30.6876, 13.2609], rtol=0)
    cov = np.asarray(d["covariance"])
    assert np.all(cov[:2, 2:] == 0) and np.all(cov[2:, :2] == 0)  # LRG and QSO independent
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), [0.3281, 0.5327, 0.7983, 0.5520], atol=1e-4)


def test_boss_dr12_2bins_is_the_consensus_without_z061():
    full, sub = D.load_dataset("boss_dr12"), D.load_dataset("boss_dr12_2bins")
    np.testing.assert_array_equal(sub["redshifts"], [0.38, 0.38, 0.51, 0.51])
    np.testing.assert_array_equal(sub["observations"], np.asarray(full["observations"])[:4])
    np.testing.assert_array_equal(sub["covariance"], np.asarray(full["covariance"])[:4, :4])
    assert sub["quantities"] == full["quantities"][:4] and sub["metadata"]["n_points"] == 4
    # the same numbers as the D_M/r_d, D_H/r_d file of Cobaya's sdss_dr12_lrg_bao_dmdh (1e-6 rounding there)
    v = np.asarray(sub["observations"])
    np.testing.assert_allclose([v[0] / 147.78, C / (v[1] * 147.78), v[2] / 147.78, C / (v[3] * 147.78)],
                               [10.23406, 24.98058, 13.36595, 22.31656], rtol=2e-6)


@pytest.mark.parametrize("point", POINTS)
def test_eboss_and_boss_chi2_match_numpy(point):
    p = params(point)
    theta = [point["H0"], point["Om0"]]
    over = {"mnu": MNU, **{k: v for k, v in point.items() if k not in ("H0", "Om0")}}
    for name, ref in (("eboss_dr16", eboss_chi2), ("boss_dr12_2bins", boss_2bins_chi2)):
        lik = build_likelihood("lcdm", [name], ["H0", "Om0"], overrides=over)
        assert float(lik.chi2(jnp.asarray(theta))) == pytest.approx(ref(p), rel=1e-9)


# ---------------------------------------------------------------------------
# SDSS DR7 MGS: the tabulated chi2(alpha)
# ---------------------------------------------------------------------------


def mgs_reference():
    """Cobaya's interpolant of the MGS table and its minimum (scipy, independent of pbufjax)."""
    chi2 = np.loadtxt(F.resolve(MGS))
    spline = UnivariateSpline(ALPHA, chi2, s=0)  # Cobaya: UnivariateSpline(alpha, -chi2/2, s=0)
    i = int(np.argmin(chi2))
    res = minimize_scalar(lambda a: float(spline(a)), bounds=(ALPHA[i - 2], ALPHA[i + 2]), method="bounded",
                          options={"xatol": 1e-12})
    return chi2, spline, res.x, float(res.fun)


def test_mgs_content_and_alpha_convention():
    d = D.load_dataset("sdss_mgs")
    chi2, _, a_min, s_min = mgs_reference()
    assert d["metadata"]["dataset_type"] == "bao_tabulated" and d["quantities"] == ("DV_over_rs",)
    np.testing.assert_array_equal(d["table_chi2"], chi2)
    np.testing.assert_allclose(d["table_alpha"], ALPHA, rtol=0, atol=1e-15)
    assert d["table_reference"] == pytest.approx(DV_RD_FID, rel=1e-15)
    # the published summary D_V/r_d = 664/148.69 +- 25/148.69 (Ross et al. 2015) sits at the table minimum
    assert float(d["observations"][0]) / DV_RD_FID == pytest.approx(a_min, abs=5e-4)
    assert np.sqrt(float(d["covariance"][0][0])) == pytest.approx(25 / 148.69, rel=1e-12)
    # the fiducial D_V(0.15) = 638.95 Mpc is that of the paper's fiducial cosmology (h = 0.67, Om = 0.31)
    fid = build_params("lcdm", {"H0": 67.0, "Om0": 0.31, "Obh2": 0.022, "mnu": 0.0})
    dm, dh, _ = distances(fid, 0.15)
    assert float(np.cbrt(0.15 * dm[0] ** 2 * dh[0])) == pytest.approx(638.9518, rel=2e-3)
    assert s_min < 0 and abs(s_min) < 1e-4  # the spline dips 6.9e-5 below the table's 0


def mgs_alpha(p, hrd=None):
    dm, dh, rd = distances(p, 0.15)
    if hrd is not None:
        rd = hrd / (float(p["H0"]) / 100.0)
    return float(np.cbrt(0.15 * dm[0] ** 2 * dh[0])) / rd / DV_RD_FID


@pytest.mark.parametrize("point", POINTS)
def test_mgs_chi2_matches_cobaya_interpolant(point):
    _, spline, _, s_min = mgs_reference()
    p = params(point)
    over = {"mnu": MNU, **{k: v for k, v in point.items() if k not in ("H0", "Om0")}}
    lik = build_likelihood("lcdm", ["sdss_mgs"], ["H0", "Om0"], overrides=over)
    theta = jnp.asarray([point["H0"], point["Om0"]])
    a = mgs_alpha(p)
    # pbufjax's chi2 = Cobaya's chi2 minus the (constant) minimum of the spline
    assert float(lik.chi2(theta)) == pytest.approx(float(spline(a)) - s_min, rel=1e-9, abs=1e-10)
    assert lik.evaluate(theta)["sdss_mgs"]["predictions"]["alpha"] == pytest.approx(a, rel=1e-12)
    # with h r_d set, r_d = hrd/h
    lik = build_likelihood("lcdm", ["sdss_mgs"], ["H0", "Om0"], overrides={**over, "hrd": 100.0})
    assert float(lik.chi2(theta)) == pytest.approx(float(spline(mgs_alpha(p, 100.0))) - s_min, rel=1e-9, abs=1e-10)


def test_spline_kernel_matches_scipy_and_is_smooth():
    chi2, spline, a_min, s_min = mgs_reference()
    table = spline_table(ALPHA, chi2)
    assert table.x_min == pytest.approx(a_min, abs=1e-8) and table.f_min == pytest.approx(s_min, abs=1e-12)
    x = np.concatenate([np.linspace(ALPHA[0], ALPHA[-1], 2001), ALPHA, [a_min, a_min + 1e-9, a_min - 1e-9]])
    f = jax.jit(jax.vmap(lambda t: spline_value(table, t)))(jnp.asarray(x))
    np.testing.assert_allclose(np.asarray(f), spline(x), rtol=1e-11, atol=1e-11)
    # first and second derivatives against scipy's (the spline is C2: continuous at the knots too)
    d1 = jax.vmap(jax.grad(lambda t: spline_value(table, t)))(jnp.asarray(x))
    d2 = jax.vmap(jax.grad(jax.grad(lambda t: spline_value(table, t))))(jnp.asarray(x))
    np.testing.assert_allclose(np.asarray(d1), spline.derivative(1)(x), rtol=1e-9, atol=1e-7)
    np.testing.assert_allclose(np.asarray(d2), spline.derivative(2)(x), rtol=1e-8, atol=1e-4)
    # the residual form: w^2 = chi2 everywhere, w changes sign at the minimum, dw/dalpha finite there
    w = np.asarray(jax.vmap(lambda t: signed_root(table, t))(jnp.asarray(x)))
    np.testing.assert_allclose(w**2, spline(x) - s_min, rtol=1e-9, atol=1e-13)
    assert np.all(np.sign(w[np.abs(x - a_min) > 1e-12]) == np.sign(x - a_min)[np.abs(x - a_min) > 1e-12])
    dw = np.asarray(jax.vmap(jax.grad(lambda t: signed_root(table, t)))(jnp.asarray(x)))
    assert np.all(np.isfinite(dw))
    near = np.abs(x - a_min) < 1e-6
    np.testing.assert_allclose(dw[near], np.sqrt(spline.derivative(2)(a_min) / 2), rtol=1e-5)
    far = np.abs(x - a_min) > 1e-3
    np.testing.assert_allclose(dw[far], spline.derivative(1)(x[far]) / (2 * w[far]), rtol=1e-8, atol=1e-8)
    # outside the table: +inf with a finite (zero) gradient, as Cobaya's -inf log-likelihood
    for t in (0.8, 1.2, 0.5):
        assert float(spline_value(table, t)) == np.inf and float(signed_root(table, t)) == np.inf
        assert float(jax.grad(lambda u: spline_value(table, u))(t)) == 0.0


def test_mgs_block_jit_vmap_grad_against_finite_differences():
    lik = build_likelihood("lcdm", ["sdss_mgs"], ["H0", "Om0", "hrd"], overrides={"mnu": MNU})
    f = lik.chi2
    thetas = jnp.asarray([[67.4, 0.315, 99.0], [70.0, 0.30, 101.5], [66.0, 0.33, 98.0]])
    np.testing.assert_allclose(np.asarray(jax.jit(jax.vmap(f))(thetas)), [float(f(t)) for t in thetas], rtol=1e-13)
    for theta in np.asarray(thetas):
        g = np.asarray(jax.grad(f)(jnp.asarray(theta)))
        fd = np.empty(3)
        for i in range(3):
            h = 1e-6 * theta[i]
            e = np.zeros(3)
            e[i] = h
            fd[i] = (float(f(jnp.asarray(theta + e))) - float(f(jnp.asarray(theta - e)))) / (2 * h)
        np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)
        # Gauss-Newton form: |w|^2 = chi2, 2 J^T w = grad
        w, ok = lik.residuals_data(jnp.asarray(theta))
        assert bool(ok) and float(jnp.sum(w * w)) == pytest.approx(float(f(jnp.asarray(theta))), rel=1e-10)
        jac = jax.jacfwd(lambda t: lik.residuals_data(t)[0])(jnp.asarray(theta))
        np.testing.assert_allclose(np.asarray(2 * jac.T @ w), g, rtol=1e-9, atol=1e-10)
    # an alpha outside the table (r_d far too large): chi2 = +inf, gradient finite
    bad = jnp.asarray([67.4, 0.315, 140.0])
    assert float(f(bad)) == np.inf and np.all(np.isfinite(np.asarray(jax.grad(f)(bad))))
    assert not bool(lik.residuals_data(bad)[1])


def test_mgs_covariance_scaling_and_mock_data():
    theta = jnp.asarray([68.0, 0.31])
    lik = build_likelihood("lcdm", ["sdss_mgs"], ["H0", "Om0"], overrides={"mnu": MNU})
    lik2 = build_likelihood("lcdm", ["sdss_mgs"], ["H0", "Om0"], overrides={"mnu": MNU}, covariance_scaling=2.0)
    assert float(lik2.chi2(theta)) == pytest.approx(float(lik.chi2(theta)) / 2, rel=1e-13)
    w, _ = lik2.residuals_data(theta)
    assert float(jnp.sum(w * w)) == pytest.approx(float(lik2.chi2(theta)), rel=1e-12)
    # a mock D_V/r_d equal to the model gives the table's minimum shape centred on it: chi2 at alpha_* is 0
    _, _, a_min, _ = mgs_reference()
    model = lik.evaluate(theta)["sdss_mgs"]["predictions"]["values"]
    mock = jnp.asarray(model) * lik.observations["sdss_mgs"] / (a_min * DV_RD_FID)
    assert float(lik.chi2_data(theta, {"sdss_mgs": mock})) == pytest.approx(0.0, abs=1e-12)
    assert float(lik.chi2_data(theta, {"sdss_mgs": lik.observations["sdss_mgs"]})) == float(lik.chi2(theta))


# ---------------------------------------------------------------------------
# Bad files
# ---------------------------------------------------------------------------


@pytest.fixture
def copies(tmp_path, monkeypatch):
    """Copies of the SDSS release files in a folder searched first (the user cache emptied)."""
    monkeypatch.setenv("PBUFJAX_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "data"
    for rel in (*LRG, *QSO, *BOSS, MGS):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(F.resolve(rel), root / rel)
    D.clear_dataset_cache()
    yield root
    D.clear_dataset_cache()


def test_mgs_bad_files(copies):
    path = copies / MGS
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n")  # truncated: 398 values
    with pytest.raises(DataFormatError, match=r"expected 399 chi2 values .* got 398") as e:
        D.load_dataset("sdss_mgs", copies, verify=False)
    assert str(path) in str(e.value)
    with pytest.raises(F.DataFileHashError, match="pbufjax data fetch sdss_mgs"):
        D.load_dataset("sdss_mgs", copies)  # the sha256 check comes first
    for bad, what in (("nan", "not finite"), ("7.8x", "cannot read"), ("7.8 7.9", "one value per line")):
        path.write_text("\n".join(lines[:5] + [bad] + lines[6:]) + "\n")
        with pytest.raises(DataFormatError, match=what) as e:
            D.load_dataset("sdss_mgs", copies, verify=False)
        assert f"{path}, line 6" in str(e.value)
    path.write_text("# only a comment\n")
    with pytest.raises(DataFormatError, match="no data lines"):
        D.load_dataset("sdss_mgs", copies, verify=False)
    path.write_bytes(b"\x89PNG\x00\xff")
    with pytest.raises(DataFormatError, match="not UTF-8"):
        D.load_dataset("sdss_mgs", copies, verify=False)


def test_eboss_bad_files(copies):
    cov = copies / QSO[1]
    cov.write_text("0.63731604 0.1706891 0.0\n0.1706891 0.30468415 0.0\n0.0 0.0 1.0\n")  # 3x3 for 2 values
    with pytest.raises(DataFormatError, match="covariance is 3x3 but .* has 2 values") as e:
        D.load_dataset("eboss_dr16", copies, verify=False)
    assert str(cov) in str(e.value)
    cov.write_text("0.63731604 0.1706891\n0.2 0.30468415\n")  # not symmetric
    with pytest.raises(DatasetValidationError, match="not symmetric") as e:
        D.load_dataset("eboss_dr16", copies, verify=False)
    assert str(cov) in str(e.value)
    cov.write_text("0.63731604 0.9\n0.9 0.30468415\n")  # |correlation| > 1
    with pytest.raises(DatasetValidationError, match="not positive definite"):
        D.load_dataset("eboss_dr16", copies, verify=False)
    cov.write_text("0.63731604 nan\nnan 0.30468415\n")
    with pytest.raises(DatasetValidationError, match="non-finite"):
        D.load_dataset("eboss_dr16", copies, verify=False)
    cov.write_text("0.63731604 0.1706891\n0.30468415\n")  # ragged
    with pytest.raises(DataFormatError, match="line 2: row has 1 entries"):
        D.load_dataset("eboss_dr16", copies, verify=False)
    mean = copies / LRG[0]
    mean.write_text(mean.read_text().replace("DH_over_rs", "DX_over_rs"))
    with pytest.raises(DataFormatError, match="line 2: unknown BAO quantity 'DX_over_rs'"):
        D.load_dataset("eboss_dr16", copies, verify=False)


def test_boss_2bins_needs_the_kept_redshifts(copies):
    mean = copies / BOSS[0]
    mean.write_text(mean.read_text().replace("0.38 ", "0.39 "))
    with pytest.raises(DataFormatError, match="no BOSS DR12 values at z = 0.38"):
        D.load_dataset("boss_dr12_2bins", copies, verify=False)


def test_bad_tabulated_dataset_dicts_are_refused():
    good = dict(D.load_dataset("sdss_mgs"))
    for key, value, match in (("table_alpha", good["table_alpha"][::-1], "strictly increasing"),
                              ("table_chi2", np.r_[good["table_chi2"][:-1], np.nan], "non-finite"),
                              ("table_chi2", good["table_chi2"][:10], "same length"),
                              ("table_reference", -1.0, "finite number > 0")):
        with pytest.raises(DatasetValidationError, match=match):
            D.validate_dataset({**good, key: value}, "bao_tabulated")
    edge = {**good, "table_chi2": np.linspace(0.0, 5.0, 399)}  # lowest at the table's edge: no residual form
    with pytest.raises(ValueError, match="edge"):
        build_likelihood("lcdm", [edge], ["H0", "Om0"])


# ---------------------------------------------------------------------------
# The combination sdss_legacy: usable wherever a list of dataset names is
# ---------------------------------------------------------------------------

LEGACY = ["sdss_mgs", "boss_dr12_2bins", "eboss_dr16"]


def test_sdss_legacy_expands_everywhere_names_are_read():
    from pbufjax.fit import canonical_datasets, get_problem
    from pbufjax.inference.batch.common import dataset_keys

    assert D.dataset_combinations()["sdss_legacy"].members == tuple(LEGACY)
    assert D.expand_datasets("cmb,sdss_legacy") == ["planck2018_priors", *LEGACY]
    assert D.dataset_name_pairs(["bao", "sdss_legacy"]) == [("bao", "desi_dr2")] + [(n, n) for n in LEGACY]
    assert canonical_datasets(["cmb", "sdss_legacy"]) == ("planck2018_priors", *LEGACY)
    assert dataset_keys("sdss_legacy,sn") == {**{n: n for n in LEGACY}, "sn": "union3"}
    assert list(D.nuisance_parameters(["sdss_legacy"])) == ["hrd"]
    lik = build_likelihood("lcdm", ["sdss_legacy"], ["H0", "Om0"], overrides={"mnu": MNU})
    assert lik.datasets == tuple(LEGACY) and lik.n_total == 9
    theta = jnp.asarray([68.0, 0.31])
    p = params({"H0": 68.0, "Om0": 0.31})
    _, spline, _, s_min = mgs_reference()
    ref = float(spline(mgs_alpha(p))) - s_min + boss_2bins_chi2(p) + eboss_chi2(p)
    assert float(lik.chi2(theta)) == pytest.approx(ref, rel=1e-9)
    assert get_problem("lcdm", ["sdss_legacy"], ["Om0", "hrd"], {"mnu": MNU}).datasets == tuple(LEGACY)
    # overlaps: the combination's members against BOSS DR12 in full
    warn = D.dataset_overlaps(["sdss_legacy", "boss_dr12"])
    assert any("boss_dr12_2bins + boss_dr12" in w for w in warn) and any("eboss_dr16 + boss_dr12" in w for w in warn)
    from pbufjax.analysis.integrity import check_covariance_matrices

    assert set(check_covariance_matrices("sdss_legacy")) == set(LEGACY)


def test_sdss_legacy_errors():
    from pbufjax.fit import canonical_datasets

    with pytest.raises(ValueError, match="listed twice .*the combination 'sdss_legacy' includes 'eboss_dr16'"):
        canonical_datasets(["eboss_dr16", "sdss_legacy"])
    with pytest.raises(ValueError, match="listed twice"):
        build_likelihood("lcdm", ["sdss_legacy", "sdss_mgs"], ["H0"])
    with pytest.raises(KeyError, match="combination of datasets .*sdss_mgs \\+ boss_dr12_2bins \\+ eboss_dr16"):
        D.load_dataset("sdss_legacy")  # one dataset expected: the message says what it stands for
    with pytest.raises(KeyError, match="combinations: sdss_legacy"):
        D.resolve_name("sdss_legacyy")
    with pytest.raises(KeyError, match="unknown dataset 'no_such'"):
        D.register_combination("mine", ["desi_dr2", "no_such"])
    with pytest.raises(ValueError, match="already a dataset name or alias"):
        D.register_combination("bao", ["desi_dr2"])
    with pytest.raises(ValueError, match="already registered"):
        D.register_combination("sdss_legacy", ["desi_dr2"])
    with pytest.raises(ValueError, match="twice"):
        D.register_combination("mine", ["desi_dr2", "bao"])
    with pytest.raises(ValueError, match="combinations themselves"):
        D.register_combination("mine", ["sdss_legacy", "cmb"])
    with pytest.raises(ValueError, match="already used"):
        D.register_dataset(D.DatasetSpec("sdss_legacy", "bao", D.get_dataset_spec("desi_dr2").loader))
    assert "mine" not in D.dataset_combinations()
    D.register_combination("mine", ["cmb", "bao"], "test")
    try:
        assert D.expand_datasets(["mine"]) == ["planck2018_priors", "desi_dr2"]
    finally:
        D.unregister_combination("mine")
    with pytest.raises(KeyError, match="unknown combination"):
        D.unregister_combination("mine")


def test_sdss_legacy_on_the_command_line(tmp_path, monkeypatch, capsys):
    import json

    from pbufjax import cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PBUFJAX_STORE_DIR", str(tmp_path / "store"))

    def run(*argv):
        capsys.readouterr()
        code = cli.main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _ = run("data", "list", "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert code == 0 and rows["sdss_legacy"]["members"] == LEGACY and rows["sdss_mgs"]["dataset_type"] == "bao_tabulated"
    code, out, _ = run("data", "list")
    assert "sdss_legacy" in out and "= sdss_mgs + boss_dr12_2bins + eboss_dr16" in out
    code, out, _ = run("data", "info", "sdss_legacy", "--json")
    assert code == 0 and json.loads(out)["members"] == LEGACY
    code, out, _ = run("data", "verify", "sdss_legacy", "--json")
    assert code == 0 and len(json.loads(out)) == 7 and {r["status"] for r in json.loads(out)} == {"ok"}
    code, out, err = run("fit", "--model", "lcdm", "--datasets", "sdss_legacy", "--optimize", "Om0,hrd", "--H0", "68",
                         "--mnu", "0.06", "--dry-run", "-q", "--output", tmp_path / "fit.json")
    assert code == 0, err
    result = json.loads((tmp_path / "fit.json").read_text())
    assert list(result["results"]) == LEGACY and 0.25 < result["params"]["Om0"] < 0.35
    code, _, err = run("fit", "--datasets", "sdss_legacy,eboss_dr16", "--optimize", "Om0")
    assert code == 2 and "listed twice" in err
    code, out, _ = run("fit", "--help")
    assert "sdss_legacy = sdss_mgs + boss_dr12_2bins + eboss_dr16" in out


def test_plot_bao_draws_the_sdss_combination(tmp_path):
    from pbufjax.analysis.plots import plot_bao

    fig = plot_bao({"H0": 68.0, "Om0": 0.31, "mnu": MNU}, "sdss_legacy", model="lcdm", path=tmp_path / "bao.png")
    from matplotlib.legend import Legend

    from pbufjax.cosmology.labels import dataset_label

    labels = [t.get_text() for leg in fig.axes[0].findobj(Legend) for t in leg.get_texts()]
    assert all(any(dataset_label(n) in lab for lab in labels) for n in LEGACY), labels
    assert (tmp_path / "bao.png").stat().st_size > 0
