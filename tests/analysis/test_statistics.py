"""Fit statistics: Cholesky χ², DOF, information criteria, p-values."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from pbufjax.statistics import chi2_generic, compute_dof, compute_metrics, delta_aic, delta_bic, n_data_points


def _spd(n, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, n))
    return a @ a.T + n * np.eye(n)


def test_chi2_generic_matches_explicit_inverse():
    cov = _spd(5)
    rng = np.random.default_rng(1)
    pred, obs = rng.normal(size=5), rng.normal(size=5)
    r = pred - obs
    expected = r @ np.linalg.inv(cov) @ r
    assert float(chi2_generic(pred, obs, cov)) == pytest.approx(expected, rel=1e-12)


def test_chi2_generic_dicts_follow_observation_order():
    cov = np.array([[0.0046**2, 0.46 * 0.0046 * 0.0895], [0.46 * 0.0046 * 0.0895, 0.0895**2]])
    obs = {"R": 1.7502, "l_A": 301.471}
    pred = {"l_A": 301.6, "R": 1.755}  # other key order
    r = np.array([1.755 - 1.7502, 301.6 - 301.471])
    assert float(chi2_generic(pred, obs, cov)) == pytest.approx(r @ np.linalg.solve(cov, r), rel=1e-12)
    # diagonal variances, stated explicitly
    d = float(chi2_generic(pred, obs, np.diag(cov)))
    assert d == pytest.approx(r[0] ** 2 / cov[0, 0] + r[1] ** 2 / cov[1, 1], rel=1e-12)


def test_chi2_generic_errors():
    with pytest.raises(KeyError, match="l_A"):
        chi2_generic({"R": 1.0}, {"R": 1.0, "l_A": 300.0}, np.eye(2))
    with pytest.raises(ValueError, match="expected \\(3, 3\\)"):
        chi2_generic(np.zeros(3), np.zeros(3), np.eye(2))
    with pytest.raises(ValueError, match="3 values but observations have 2"):
        chi2_generic(np.zeros(3), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="positive definite"):
        chi2_generic(np.zeros(2), np.ones(2), np.array([[1.0, 2.0], [2.0, 1.0]]))


def test_chi2_generic_jit_grad_vmap():
    cov = _spd(4, seed=3)
    obs = np.arange(4.0)
    f = jax.jit(lambda p: chi2_generic(p, obs, cov))
    p = obs + 0.1
    g = jax.grad(f)(p)
    np.testing.assert_allclose(g, 2 * np.linalg.solve(cov, p - obs), rtol=1e-10)
    batch = jax.vmap(f)(jnp.stack([p, p + 1.0]))
    assert batch.shape == (2,) and batch.dtype == jnp.float64


def test_n_data_points_and_dof():
    n = n_data_points(["cmb", "desi_dr2", "union3"])
    assert n == {"cmb": 3, "desi_dr2": 13, "union3": 22}
    assert compute_dof(["cmb", "bao", "sn"], 3) == 38 - 3
    assert compute_dof({"a": 10}, 2) == 8
    assert compute_dof(5, 2) == 3
    with pytest.raises(KeyError):
        compute_dof(["nonexistent_dataset"], 1)
    with pytest.raises(TypeError):
        compute_dof(["cmb"], 1.5)
    with pytest.raises(ValueError):
        compute_dof(["cmb"], -1)


def test_compute_metrics_values():
    m = compute_metrics(10.3, 2, {"desi_dr2": 13})
    assert m["dof"] == 11 and m["n_data"] == 13 and m["n_params"] == 2
    assert m["total_chi2"] == 10.3
    assert m["aic"] == pytest.approx(14.3)
    assert m["bic"] == pytest.approx(10.3 + 2 * math.log(13))
    assert m["p_value"] == pytest.approx(stats.chi2.sf(10.3, 11))
    assert m["reduced_chi2"] == pytest.approx(10.3 / 11)


def test_compute_metrics_without_dof_or_finite_chi2():
    m = compute_metrics(0.5, 4, {"cmb": 3})
    assert m["dof"] == -1 and math.isnan(m["p_value"]) and math.isnan(m["reduced_chi2"])
    assert m["aic"] == pytest.approx(8.5)
    m = compute_metrics(float("inf"), 1, 10)
    assert math.isinf(m["aic"]) and math.isnan(m["p_value"])
    with pytest.raises(TypeError):
        compute_metrics("10", 1, 10)


def test_delta_aic_sign_and_types():
    assert delta_aic(100.0, 104.0) == -4.0  # negative favours the first model
    assert delta_bic(5.0, 2.0) == 3.0
    with pytest.raises(TypeError, match="aic1 must be a number"):
        delta_aic("a", 1.0)


def test_n_data_points_reads_the_dataset_registry_then_the_data(tmp_path):
    """N comes from the dataset's registry entry when it states one (no file read), else from
    the loaded data vector, read from the data folder passed (cached until clear_caches)."""
    from pbufjax import clear_caches
    from pbufjax.data import DatasetSpec, register_dataset, unregister_dataset

    calls = []

    def load_toy(data_dir=None, *, verify=True):
        calls.append(data_dir)
        return {"name": "toy_stats", "observations": np.array([1.75, 301.8]), "covariance": np.eye(2),
                "labels": ["R", "l_A"], "observables": ["R", "l_A"], "metadata": {"dataset_type": "cmb"}}

    def must_not_load(data_dir=None, *, verify=True):
        raise AssertionError("the registry's count should have been used")

    register_dataset(DatasetSpec("toy_stats", "cmb", load_toy))
    register_dataset(DatasetSpec("toy_counted", "cmb", must_not_load, metadata={"n_points": 7}))
    try:
        assert n_data_points(["toy_stats", "toy_counted"], data_dir=tmp_path) == {"toy_stats": 2, "toy_counted": 7}
        assert calls == [tmp_path]
        assert compute_dof(["toy_stats"], 1, data_dir=tmp_path) == 1 and calls == [tmp_path]  # cached
        assert compute_metrics(1.0, 1, ["toy_stats", "toy_counted"], data_dir=tmp_path)["dof"] == 8
        clear_caches()
        n_data_points(["toy_stats"], data_dir=tmp_path)
        assert calls == [tmp_path, tmp_path]
    finally:
        unregister_dataset("toy_stats")
        unregister_dataset("toy_counted")
