"""The Gaussian χ² algebra: dense and diagonal precision matrices give the same forms and derivatives."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pbufjax.likelihood.gaussian import factor_covariance, is_diagonal, matrix_product, quadratic_forms

jax.config.update("jax_enable_x64", True)


def test_is_diagonal():
    assert is_diagonal(np.diag([1.0, 2.0, 3.0]))
    m = np.diag([1.0, 2.0, 3.0])
    m[0, 2] = 1e-300
    assert not is_diagonal(m)
    assert not is_diagonal(np.ones(3))


@pytest.mark.parametrize("diagonal", [True, False])
def test_forms_value_grad_hessian_match_numpy(diagonal):
    rng = np.random.default_rng(3)
    n = 7
    if diagonal:
        cov = np.diag(rng.uniform(0.5, 2.0, n))
    else:
        a = rng.normal(size=(n, n))
        cov = a @ a.T + n * np.eye(n)
    _, prec, linv = factor_covariance(cov)
    vec = rng.normal(size=n)
    forms = quadratic_forms(prec, vec)
    r = rng.normal(size=n)
    a_val, b_val = forms(jnp.asarray(r))
    want = r @ np.linalg.solve(cov, r)
    assert float(a_val) == pytest.approx(want, rel=1e-13)
    assert float(b_val) == pytest.approx(vec @ r, rel=1e-13)
    g = jax.grad(lambda x: forms(x)[0])(jnp.asarray(r))
    np.testing.assert_allclose(np.asarray(g), 2 * np.linalg.solve(cov, r), rtol=1e-12)
    h = jax.hessian(lambda x: forms(x)[0])(jnp.asarray(r))
    np.testing.assert_allclose(np.asarray(h), 2 * np.linalg.inv(cov), rtol=1e-10, atol=1e-14)
    w = matrix_product(linv)(jnp.asarray(r))
    assert float(jnp.sum(w * w)) == pytest.approx(want, rel=1e-12)


def test_diagonal_path_equals_dense_path_on_the_same_matrix():
    """The elementwise branch is the same arithmetic as the matrix product (a diagonal SN covariance)."""
    rng = np.random.default_rng(0)
    d = rng.uniform(0.01, 0.2, 50) ** 2
    prec = np.diag(1.0 / d)
    r = jnp.asarray(rng.normal(size=50))
    fast = quadratic_forms(prec)(r)[0]
    dense = jnp.dot(r, jnp.asarray(prec) @ r)
    assert float(fast) == pytest.approx(float(dense), rel=1e-14)
