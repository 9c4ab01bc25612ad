"""Background kernels: quadrature accuracy, distance relations, curvature, astropy cross-check,
and jit / vmap / grad (gradients against central finite differences)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad

import pbufjax
from pbufjax import constants, cosmology
from pbufjax.cosmology import background as bg
from pbufjax.cosmology.models import e2_zp1

from ._util import call, numeric

CASES = {
    "lcdm": ("lcdm", {"H0": 67.36, "Om0": 0.3153}),
    "lcdm_curved": ("lcdm", {"H0": 70.0, "Om0": 0.3, "Ok0": -0.04}),
    "lcdm_open": ("lcdm", {"H0": 70.0, "Om0": 0.3, "Ok0": 0.05}),
    "wcdm": ("wcdm", {"w0": -0.85}),
    "w0wacdm": ("w0wacdm", {"w0": -0.7, "wa": -1.0}),
    "pbuf": ("pbuf", {"k_sat": 0.8, "alpha": 1e-2, "Rmax": 1e6, "eps0": 2.0, "n_eps": 2.0}),
    "pbuf_ksat2": ("pbuf", {"k_sat": 2.0}),
}


@pytest.fixture(params=sorted(CASES), scope="module")
def p(request):
    model, over = CASES[request.param]
    return pbufjax.build_params(model, over)


def _quad_dc(z, p):
    h0 = p["H0"]
    f = lambda zz: constants.C_KM_S / (h0 * np.sqrt(float(e2_zp1(1.0 + zz, p))))  # noqa: E731
    return quad(f, 0.0, z, epsabs=0.0, epsrel=1e-13, limit=500)[0]


def test_quadrature_against_scipy(p):
    zs = np.array([1e-4, 0.01, 0.3, 1.0, 2.5, 10.0, 150.0, 1090.0])
    ref = np.array([_quad_dc(z, p) for z in zs])
    exact = np.asarray(jax.vmap(lambda z: call(bg.comoving_distance, p, z))(zs))
    np.testing.assert_allclose(exact, ref, rtol=1e-11)
    # a large traced array: the same rule, the same accuracy
    dense = np.concatenate([zs, np.linspace(0.01, 5.0, 300)])
    np.testing.assert_allclose(np.asarray(call(bg.comoving_distance, p, dense))[: zs.size], ref, rtol=1e-11)
    # the sound horizon: the same rule for the integral from u = 0
    g = lambda zz: constants.C_KM_S / (p["H0"] * np.sqrt(float(e2_zp1(1.0 + zz, p))))  # noqa: E731
    r0 = 0.75 * p["Obh2"] / constants.omega_gamma_h2(p["Tcmb"])
    cs = lambda zz: g(zz) / np.sqrt(3.0 * (1.0 + r0 / (1.0 + zz)))  # noqa: E731
    rs_ref = quad(cs, 1090.0, np.inf, epsabs=0.0, epsrel=1e-13, limit=500)[0]
    assert float(call(bg.sound_horizon, p, 1090.0)) == pytest.approx(rs_ref, rel=1e-10)


def test_static_rule_for_fixed_redshifts_against_scipy(p):
    """Concrete redshift arrays (every dataset's) use the cached weight matrix: one row per redshift."""
    zs = np.array([0.0, 1e-4, 0.01, 0.3, 1.0, 2.33, 10.0, 150.0, 1090.0])
    ref = np.array([_quad_dc(z, p) for z in zs])
    static = np.asarray(jax.jit(lambda q: bg.comoving_distance(zs, {**p, **q}))(numeric(p)))
    np.testing.assert_allclose(static, ref, rtol=1e-11, atol=1e-12)
    # scalar and 2-D concrete inputs keep their shapes
    assert np.shape(bg.comoving_distance(1.0, p)) == ()
    assert np.shape(bg.comoving_distance(zs[1:].reshape(2, 4), p)) == (2, 4)
    # the same redshifts traced (jit argument): weights built in JAX by the same formula
    traced = np.asarray(call(bg.comoving_distance, p, zs))
    np.testing.assert_allclose(static, traced, rtol=1e-13, atol=1e-12)


@pytest.mark.parametrize("model,over", [
    ("lcdm", {"Om0": 0.99}), ("lcdm", {"Om0": 0.03, "Obh2": 0.006}), ("lcdm", {"Neff": 10.0}),
    ("w0wacdm", {"w0": 0.0, "wa": -3.0}), ("w0wacdm", {"w0": -3.0, "wa": 2.0}), ("wcdm", {"w0": 0.0}),
])
def test_static_rule_at_the_corners_of_the_bounds(model, over):
    """The documented worst case of the static rule: < 1e-10 relative at the parameter-bound corners."""
    p = pbufjax.build_params(model, over)
    zs = np.concatenate([np.geomspace(1e-3, 10.0, 25), [1100.0]])
    ref = np.array([_quad_dc(z, p) for z in zs])
    np.testing.assert_allclose(np.asarray(bg.comoving_distance(zs, p)), ref, rtol=1e-10)


@pytest.mark.parametrize("model,over", [
    ("lcdm", {}), ("lcdm", {"Om0": 0.99, "H0": 150.0, "Obh2": 0.1}), ("lcdm", {"Om0": 0.03, "Obh2": 0.006}),
    ("lcdm", {"Neff": 10.0}), ("w0wacdm", {"w0": -3.0, "wa": 2.0}), ("pbuf", {}),
])
def test_moving_endpoint_rule_matches_the_panel_rule(model, over):
    """r_s and D_C up to the parameter-dependent z*, z_d (scaled rule on [0, u]) agree with
    sound_horizon / comoving_distance at the same redshifts (panel rule) to 1e-12 over the
    bounds, and their derivatives with respect to the end point agree too."""
    p = pbufjax.build_params(model, over)
    zs, zd = 1089.7, 1059.4
    rs_s, rs_d, dc = (float(v) for v in bg.recombination_integrals(p, zs, zd))
    assert rs_s == pytest.approx(float(bg.sound_horizon(zs, p)), rel=1e-12)
    assert rs_d == pytest.approx(float(bg.sound_horizon(zd, p)), rel=1e-12)
    assert dc == pytest.approx(float(bg.comoving_distance(zs, p)), rel=1e-12)
    d_moving = jax.grad(lambda z: bg.recombination_integrals(p, z, zd)[0])(zs)
    d_panel = jax.grad(lambda z: bg.sound_horizon(z, p))(zs)
    assert float(d_moving) == pytest.approx(float(d_panel), rel=1e-9)


def test_static_rule_matrix_properties():
    """Full panels get the Gauss-Legendre weights, u = 1 gives an empty integral, and each row
    integrates polynomials of degree < 16 exactly."""
    u = np.array([1.0, 0.999, 0.6, 0.45, 0.2, 0.0301, 0.0])
    nodes, m = bg.static_rule(u)
    assert nodes.size == (bg.STATIC_EDGES.size - 1) * bg.STATIC_ORDER
    assert np.all(m[0] == 0.0)
    np.testing.assert_allclose(m[-1], m[-2], rtol=0, atol=0)  # u = 0 row equals the [0, 1] row
    for k in (0, 3, 15):
        np.testing.assert_allclose(m[:-1] @ nodes**k, (1.0 - u**(k + 1)) / (k + 1), rtol=1e-13, atol=1e-15)


def test_e_of_zero_is_one(p):
    assert float(call(bg.expansion_rate, p, 0.0)) == pytest.approx(1.0, abs=1e-15)
    assert float(call(cosmology.hubble, p, 0.0)) == pytest.approx(p["H0"], rel=1e-15)


def test_distance_relations(p):
    z = jnp.linspace(0.05, 3.0, 20)
    dm = call(cosmology.comoving_transverse_distance, p, z)
    np.testing.assert_allclose(call(cosmology.angular_diameter_distance, p, z), dm / (1 + z), rtol=1e-14)
    np.testing.assert_allclose(call(cosmology.luminosity_distance, p, z), dm * (1 + z), rtol=1e-14)
    dh = constants.C_KM_S / call(cosmology.hubble, p, z)
    np.testing.assert_allclose(call(cosmology.hubble_distance_z, p, z), dh, rtol=1e-14)
    np.testing.assert_allclose(call(cosmology.volume_averaged_distance, p, z), (z * dm**2 * dh) ** (1 / 3), rtol=1e-13)
    mu = call(cosmology.distance_modulus, p, z)
    np.testing.assert_allclose(mu, 5 * np.log10(dm * (1 + z)) + 25, rtol=1e-14)


def test_curvature_sign():
    flat = pbufjax.build_params("lcdm", {"H0": 70.0, "Om0": 0.3})
    z = jnp.array([0.5, 1.0, 1100.0])
    for ok in (-0.05, 0.05):
        p = pbufjax.build_params("lcdm", {"H0": 70.0, "Om0": 0.3, "Ok0": ok})
        dc = call(bg.comoving_distance, p, z)
        dm = call(cosmology.comoving_transverse_distance, p, z)
        r = constants.C_KM_S / 70.0 / np.sqrt(abs(ok))
        expect = r * (np.sinh(dc / r) if ok > 0 else np.sin(dc / r))
        np.testing.assert_allclose(dm, expect, rtol=1e-12)
        assert (dm > dc).all() if ok > 0 else (dm < dc).all()
    # the curvature function is smooth through Ok0 = 0 (series branch)
    f = lambda ok: call(cosmology.comoving_transverse_distance, {**flat, "Ok0": ok}, 1100.0)  # noqa: E731
    vals = np.array([float(f(ok)) for ok in (-1e-7, 0.0, 1e-7)])
    assert np.all(np.diff(vals) > 0) or np.all(np.diff(vals) < 0)


@pytest.mark.parametrize("name", ["lcdm", "lcdm_curved", "w0wacdm"])
def test_against_astropy(name):
    astropy_cosmo = pytest.importorskip("astropy.cosmology")
    model, over = CASES[name]
    p = pbufjax.build_params(model, {**over, "mnu": 0.0})
    kw = dict(H0=p["H0"], Om0=p["Om0"], Tcmb0=p["Tcmb"], Neff=p["Neff"], m_nu=0.0)
    if model == "lcdm":
        c = astropy_cosmo.LambdaCDM(Ode0=1 - p["Om0"] - p["Ok0"] - float(cosmology.densities(p).omega_r), **kw)
    else:
        c = astropy_cosmo.Flatw0waCDM(w0=p["w0"], wa=p["wa"], **kw)
    z = np.array([0.01, 0.1, 0.5, 1.0, 2.0, 5.0, 100.0])
    np.testing.assert_allclose(call(cosmology.hubble, p, z), c.H(z).value, rtol=1e-9)
    np.testing.assert_allclose(
        call(cosmology.comoving_transverse_distance, p, z), c.comoving_transverse_distance(z).value, rtol=1e-7
    )
    np.testing.assert_allclose(call(cosmology.distance_modulus, p, z), c.distmod(z).value, atol=1e-7)


KERNELS = {
    "hubble": cosmology.hubble,
    "comoving_distance": cosmology.comoving_distance,
    "comoving_transverse_distance": cosmology.comoving_transverse_distance,
    "angular_diameter_distance": cosmology.angular_diameter_distance,
    "luminosity_distance": cosmology.luminosity_distance,
    "hubble_distance_z": cosmology.hubble_distance_z,
    "volume_averaged_distance": cosmology.volume_averaged_distance,
    "distance_modulus": cosmology.distance_modulus,
    "sound_horizon": cosmology.sound_horizon,
}


@pytest.mark.parametrize("kernel", sorted(KERNELS))
@pytest.mark.parametrize("case", ["lcdm_curved", "w0wacdm", "pbuf"])
def test_kernel_jit_vmap_grad(kernel, case):
    """jit == eager; vmap over parameters == loop; grad == central finite differences."""
    fn = KERNELS[kernel]
    model, over = CASES[case]
    p = pbufjax.build_params(model, over)
    names = [k for k in ("H0", "Om0", "Obh2", "Ok0", "w0", "wa", "k_sat") if k in p]
    x0 = jnp.array([p[k] for k in names])
    z = 1090.0 if kernel == "sound_horizon" else 1.3

    def f(x):
        return fn(z, {**p, **dict(zip(names, x))})

    eager = f(x0)
    jitted = jax.jit(f)(x0)
    assert jitted.dtype == jnp.float64
    assert float(jitted) == pytest.approx(float(eager), rel=1e-13)
    xs = x0 * jnp.array([[1.0], [1.01], [0.99]])
    batched = jax.jit(jax.vmap(f))(xs)
    np.testing.assert_allclose(batched, [float(jax.jit(f)(x)) for x in xs], rtol=1e-13)
    g = jax.jit(jax.grad(f))(x0)
    for i, name in enumerate(names):
        step = 1e-4 * max(abs(float(x0[i])), 0.1)
        e = jnp.zeros_like(x0).at[i].set(step)
        fd = (float(jax.jit(f)(x0 + e)) - float(jax.jit(f)(x0 - e))) / (2 * step)
        assert float(g[i]) == pytest.approx(fd, rel=1e-6, abs=1e-9 * abs(float(eager))), name


def test_vmap_over_redshift_and_gradient_of_array():
    p = pbufjax.build_params("lcdm")
    z = jnp.linspace(0.1, 2.0, 100)
    per_z = jax.vmap(lambda zz: call(cosmology.comoving_transverse_distance, p, zz))(z)
    np.testing.assert_allclose(per_z, call(cosmology.comoving_transverse_distance, p, z), rtol=1e-13)
    q = numeric(p)
    def total(h0):
        return jnp.sum(cosmology.comoving_transverse_distance(z, {**q, "H0": h0}))

    g = jax.grad(total)(q["H0"])  # eager (un-jitted) reverse mode
    fd = (float(total(q["H0"] + 1e-3)) - float(total(q["H0"] - 1e-3))) / 2e-3
    assert np.isfinite(float(g))
    assert float(g) == pytest.approx(fd, rel=1e-7)
    # D_M ∝ 1/H0 at fixed Om0 up to the radiation term
    assert float(g) == pytest.approx(-float(total(q["H0"])) / q["H0"], rel=1e-3)


def test_results_are_float64():
    p = pbufjax.build_params("lcdm")
    assert call(cosmology.hubble, p, 1.0).dtype == jnp.float64
    assert cosmology.comoving_transverse_distance(jnp.float32(1.0), p).dtype == jnp.float64
    assert jax.config.read("jax_enable_x64")
