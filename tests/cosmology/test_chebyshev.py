"""The Chebyshev sum behind the neutrino density: values and derivatives of every order, endpoints included."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.polynomial import chebyshev as C

from pbufjax.cosmology.neutrinos import chebyshev_series, density_ratio, table

jax.config.update("jax_enable_x64", True)

COEF = tuple(float(v) for v in table()["coefficients"])
X = np.concatenate([[-1.0, -1.0 + 1e-15, -0.999999, 0.0, 0.5, 0.999999, 1.0], np.linspace(-1, 1, 101)])


@pytest.mark.parametrize("order", [0, 1, 2, 3])
def test_derivatives_match_numpy_chebyshev(order):
    f = chebyshev_series(COEF)
    for _ in range(order):
        f = jax.grad(f)
    got = np.array([float(f(x)) for x in X])
    want = C.chebval(X, C.chebder(np.asarray(COEF), order) if order else np.asarray(COEF))
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-12 * np.max(np.abs(want)))


def test_vmap_and_jit_shapes():
    f = jax.jit(chebyshev_series(COEF))
    x = jnp.asarray(np.linspace(-1, 1, 12).reshape(3, 4))
    np.testing.assert_allclose(np.asarray(f(x)), C.chebval(np.asarray(x), np.asarray(COEF)), rtol=1e-13)
    g = jax.vmap(jax.grad(chebyshev_series(COEF)))(jnp.ravel(x))
    assert g.shape == (12,)


def test_density_ratio_has_finite_derivatives_at_zero_mass():
    """y = 0 (x = -1) is where arccos is singular: the JVP rule keeps gradient and curvature finite."""
    g = jax.grad(density_ratio)(0.0)
    h = jax.grad(jax.grad(density_ratio))(0.0)
    assert np.isfinite(float(g)) and np.isfinite(float(h))
    assert abs(float(g)) < 1e-6  # R(y) = 1 + O(y^2)


@pytest.mark.parametrize("y", [1e-2, 0.5, 30.0])
def test_density_ratio_derivatives_against_finite_differences(y):
    e = 1e-4 * max(y, 1.0)
    f = lambda v: float(density_ratio(v))  # noqa: E731
    g, h = float(jax.grad(density_ratio)(y)), float(jax.grad(jax.grad(density_ratio))(y))
    assert g == pytest.approx((f(y + e) - f(y - e)) / (2 * e), rel=1e-7)
    assert h == pytest.approx((f(y + e) - 2 * f(y) + f(y - e)) / e**2, rel=1e-4)


def test_derivative_is_the_derivative_series_not_the_unrolled_recurrence():
    """The JVP rule's tangent program is the derivative series times dx: its size does not depend on
    how the value's recurrence was traced (one custom_jvp call, then one multiply)."""
    lin = jax.make_jaxpr(lambda x, dx: jax.jvp(chebyshev_series(COEF), (x,), (dx,)))(0.3, 1.0)
    names = [e.primitive.name for e in lin.jaxpr.eqns]
    assert names.count("custom_jvp_call") == 2, names  # the value's series and the derivative's
    assert len(names) <= 4, names
