"""Times and volumes (``pbufjax.cosmology.times``): accuracy against CAMB and astropy
(``tests/data/times_reference.json``, made by ``tests/data/make_times_reference.py``), against
scipy quadrature, identities, curvature branches, jit / vmap / grad (gradients against central
finite differences) and bad input.

Measured when the reference was made (11 cosmologies: flat, open, closed ΛCDM, wCDM, w0wa,
N_eff 2.5-4, T_CMB 2.6), maximum relative differences:

* age vs CAMB ``physical_time`` at tolerance 1e-10: 1.6e-10 (the two codes' Mpc in metres);
  vs CAMB at its default tolerance: 3.7e-5 (CAMB's, it converges to pbufjax's value as its
  ``AccuracyBoost`` grows); vs astropy: 1.5e-10 (z <= 100), 9.6e-7 (z = 1000-1100), both astropy's own quad error (checked against scipy at 2e-12).
* lookback time vs astropy: 9e-13; conformal time vs CAMB: 1.7e-10.
* comoving volume vs astropy: 2.8e-8 (astropy's cancellation at z = 1e-3 in curved space;
  astropy is wrong beyond the equator of closed space), vs 4π∫ astropy's dV/dz: 2.6e-13;
  differential comoving volume vs astropy: 1.3e-12.
"""

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad

import pbufjax
from pbufjax import cosmology
from pbufjax.cosmology import background as bg
from pbufjax.cosmology import times

from ._util import call

REF = json.loads((Path(__file__).resolve().parents[1] / "data" / "times_reference.json").read_text())
Z = np.array(REF["z"])
LABELS = [c["label"] for c in REF["cosmologies"]]


def massless(model, over):
    """``build_params`` with massless neutrinos (``mnu = 0`` where the parameter exists), as the references."""
    over = dict(over)
    if "mnu" in cosmology.get_defaults(model):
        over.setdefault("mnu", 0.0)
    return pbufjax.build_params(model, over)


@pytest.fixture(params=LABELS, scope="module")
def ref(request):
    case = REF["cosmologies"][LABELS.index(request.param)]
    return case, massless(case["model"], case["pbufjax_overrides"])


# ---------------------------------------------------------------------------------------------
# Accuracy against the stored references
# ---------------------------------------------------------------------------------------------


def test_radiation_densities_match_astropy(ref):
    """The references were made at matched densities: astropy's photon and neutrino densities are
    pbufjax's to round-off (its (7/8)(4/11)^(4/3) is rounded to 0.22710731766, 1.1e-12)."""
    case, p = ref
    d = cosmology.densities(p)
    assert float(d.omega_gamma) == pytest.approx(case["pbufjax_densities"]["Ogamma0"], rel=1e-14)
    assert float(d.omega_gamma) == pytest.approx(case["astropy"]["Ogamma0"], rel=1e-14)
    assert float(d.omega_r - d.omega_gamma) == pytest.approx(case["astropy"]["Onu0"], rel=2e-12)
    assert case["astropy"]["Ok0"] == pytest.approx(float(d.omega_k), abs=1e-15)


def test_age_against_camb(ref):
    case, p = ref
    age = np.asarray(times.age(Z, p))
    np.testing.assert_allclose(age, case["camb"]["physical_time_tol1e-10"], rtol=1e-9)
    # CAMB's default tolerance leaves physical_time and the derived age up to 3.7e-5 short
    np.testing.assert_allclose(age, case["camb"]["physical_time"], rtol=5e-5)
    assert float(age[0]) == pytest.approx(case["camb"]["age"], rel=5e-5)


def test_age_and_lookback_time_against_astropy(ref):
    case, p = ref
    age = np.asarray(times.age(Z, p))
    ap = np.asarray(case["astropy"]["age"])
    low, recomb = Z <= 100.0, Z <= 1100.0  # astropy's quad(z, inf) loses accuracy beyond
    np.testing.assert_allclose(age[low], ap[low], rtol=3e-10)
    np.testing.assert_allclose(age[recomb], ap[recomb], rtol=1e-6)
    lookback = np.asarray(times.lookback_time(Z, p))
    np.testing.assert_allclose(lookback[1:], case["astropy"]["lookback_time"][1:], rtol=1e-11)
    assert lookback[0] == 0.0 == case["astropy"]["lookback_time"][0]


def test_conformal_time_against_camb(ref):
    case, p = ref
    np.testing.assert_allclose(np.asarray(times.conformal_time(Z, p)), case["camb"]["conformal_time"], rtol=1e-9)
    zs = case["camb"]["z_star"]  # CAMB's own z*
    assert float(times.conformal_time(zs, p)) == pytest.approx(case["camb"]["conformal_time_star"], rel=1e-9)
    assert float(times.age(zs, p)) == pytest.approx(case["camb"]["physical_time_star"], rel=1e-9)
    assert float(bg.comoving_distance(zs, p)) == pytest.approx(case["camb"]["DC_star"], rel=1e-9)
    # at pbufjax's own z* (CAMBFIT, within ~1e-6 of CAMB's): D_C moves by ~1e-8
    assert float(times.comoving_distance_to_last_scattering(p)) == pytest.approx(case["camb"]["DC_star"], rel=1e-6)


def test_volumes_against_astropy(ref):
    case, p = ref
    pos = Z > 0
    vc = np.asarray(times.comoving_volume(Z, p))
    np.testing.assert_allclose(vc[pos], np.asarray(case["astropy"]["comoving_volume_by_quad"])[pos], rtol=1e-11)
    # astropy's Hogg eq. 29 for closed space holds only up to the equator, chi < pi R / 2
    ok = float(cosmology.densities(p).omega_k)
    chi = np.asarray(case["astropy"]["comoving_distance"])
    below = pos & (np.sqrt(max(-ok, 0.0)) * chi / float(bg.hubble_distance(p)) < np.pi / 2)
    np.testing.assert_allclose(vc[below], np.asarray(case["astropy"]["comoving_volume"])[below], rtol=1e-7)
    assert vc[0] == 0.0
    dv = np.asarray(times.differential_comoving_volume(Z, p))
    np.testing.assert_allclose(dv[pos], np.asarray(case["astropy"]["differential_comoving_volume"])[pos], rtol=1e-10)
    assert dv[0] == 0.0


def test_closed_volume_past_the_equator_keeps_growing():
    """Where astropy's arcsin branch turns over (Ok0 = -0.3, z > 30), the volume keeps growing."""
    p = massless("lcdm", {"H0": 60.0, "Om0": 0.35, "Ok0": -0.3})
    z = np.geomspace(1.0, 1e5, 200)
    assert np.all(np.diff(np.asarray(times.comoving_volume(z, p))) > 0)
    r = float(bg.hubble_distance(p)) / np.sqrt(0.3)
    assert float(bg.comoving_distance(1e5, p)) > np.pi / 2 * r  # past the equator indeed


# ---------------------------------------------------------------------------------------------
# Against direct quadrature, over the parameter bounds
# ---------------------------------------------------------------------------------------------

CORNERS = [
    ("lcdm", {}), ("lcdm", {"Om0": 0.99, "H0": 150.0, "Obh2": 0.1}), ("lcdm", {"Om0": 0.03, "Obh2": 0.006}),
    ("lcdm", {"Neff": 10.0}), ("lcdm", {"Neff": 0.0}), ("lcdm", {"Ok0": 0.3}), ("lcdm", {"Ok0": -0.3}),
    ("w0wacdm", {"w0": -3.0, "wa": 2.0}), ("w0wacdm", {"w0": 0.0, "wa": -3.0}), ("pbuf", {}),
]


def _quad(f, lo, hi):
    pts = [x for x in (1e-4, 1e-3, 1e-2, 0.1) if lo < x < hi]
    return quad(f, lo, hi, epsabs=0.0, epsrel=1e-13, limit=500, points=pts or None)[0]


@pytest.mark.parametrize("model,over", CORNERS)
def test_times_against_scipy(model, over):
    """Age and conformal time (difference rule above DIRECT_BELOW, direct rule below, up to z = 1e8)
    within 3e-11, lookback time within 2e-10, at the corners of the bounds; concrete and traced."""
    p = massless(model, over)
    z = np.array([0.0, 1e-4, 0.01, 0.5, 1.0, 3.0, 10.0, 100.0, 1000.0, 1109.0, 1112.0, 1e4, 1e6, 1e8])
    u = 1.0 / np.sqrt(1.0 + z)
    ftj, fej = (jax.jit(lambda x, f=f: f(x, p)) for f in (times.time_integrand, times.conformal_integrand))
    ft, fe = (lambda x, f=f: float(f(x)) for f in (ftj, fej))
    t_h, d_h = float(times.hubble_time(p)), float(bg.hubble_distance(p))
    age = t_h * np.array([_quad(ft, 0.0, x) for x in u])
    eta = d_h * np.array([_quad(fe, 0.0, x) for x in u])
    look = t_h * np.array([_quad(ft, x, 1.0) for x in u[1:]])
    for got in (times.age(z, p), call(times.age, p, z)):
        np.testing.assert_allclose(np.asarray(got), age, rtol=3e-11)
    for got in (times.conformal_time(z, p), call(times.conformal_time, p, z)):
        np.testing.assert_allclose(np.asarray(got), eta, rtol=3e-11)
    for got in (times.lookback_time(z, p), call(times.lookback_time, p, z)):
        np.testing.assert_allclose(np.asarray(got)[1:], look, rtol=2e-10)


def test_the_two_rules_agree_at_the_switch():
    """At u = DIRECT_BELOW the difference rule and the direct rule give the same age, and the age
    is continuous across the switch: its logarithmic slope there is that of the integrand."""
    p = massless("lcdm", {})
    fvals = times.time_integrand(jnp.asarray(bg.NODES), p)
    u = np.array([times.DIRECT_BELOW])
    direct = float(times._direct(jnp.asarray(u), times.time_integrand, p)[0])
    by_diff = float(jnp.dot(bg.FULL_WEIGHTS, fvals) - bg.integrate_from(u, fvals)[0])
    assert direct == pytest.approx(by_diff, rel=3e-11)
    u = times.DIRECT_BELOW * np.array([1 - 1e-7, 1 + 1e-7])  # one point on each side
    a = np.asarray(times.age(1.0 / u**2 - 1.0, p))
    slope = np.log(a[1] / a[0]) / np.log(u[1] / u[0])
    assert slope == pytest.approx(times.DIRECT_BELOW * float(times.time_integrand(times.DIRECT_BELOW, p)) / direct,
                                  rel=1e-3)


# ---------------------------------------------------------------------------------------------
# Identities
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["flat", "open", "closed", "w0wa", "pbuf"])
def test_identities(case):
    model, over = {"flat": ("lcdm", {}), "open": ("lcdm", {"Ok0": 0.1}), "closed": ("lcdm", {"Ok0": -0.1}),
                   "w0wa": ("w0wacdm", {"w0": -0.7, "wa": -1.0}), "pbuf": ("pbuf", {})}[case]
    p = massless(model, over)
    z = np.concatenate([[0.0], np.geomspace(1e-3, 1e4, 60)])
    age, look = np.asarray(times.age(z, p)), np.asarray(times.lookback_time(z, p))
    assert look[0] == 0.0 and float(times.lookback_time(0.0, p)) == 0.0
    np.testing.assert_allclose(age[0] - age, look, rtol=1e-12, atol=1e-14)
    assert np.all(np.diff(age) < 0) and np.all(np.diff(look) > 0)
    assert np.all(np.diff(np.asarray(call(times.age, p, z))) < 0)
    eta = np.asarray(times.conformal_time(z, p))
    np.testing.assert_allclose(eta[0] - eta, np.asarray(bg.comoving_distance(z, p)), rtol=1e-12, atol=1e-9)
    # dV_C/dz integrates to V_C
    dv = lambda zz: float(call(times.differential_comoving_volume, p, zz))
    for zz in (0.1, 1.0, 3.0, 50.0):
        vq = 4.0 * np.pi * 1e-9 * quad(dv, 0.0, zz, epsabs=0.0, epsrel=1e-12, limit=200)[0]
        assert float(times.comoving_volume(zz, p)) == pytest.approx(vq, rel=1e-10)
    # derivatives in z: dV/dz = 4 pi dV/dz/dOmega, dt/dz = -1/((1+z) H), d(c eta)/dz = -c/H
    zt = jnp.array([0.3, 2.0, 1500.0])
    kernels = (times.comoving_volume, times.age, times.lookback_time, times.conformal_time)
    derivs = jax.jit(jax.vmap(jax.jacrev(lambda x: jnp.stack([fn(x, p) for fn in kernels]))))(zt)
    dvdz, dtdz, dtldz, detadz = np.asarray(derivs).T
    np.testing.assert_allclose(dvdz, 4e-9 * np.pi * call(times.differential_comoving_volume, p, zt), rtol=1e-10)
    dt = -times.hubble_time(p) / ((1 + zt) * call(bg.expansion_rate, p, zt))
    np.testing.assert_allclose(dtdz, dt, rtol=1e-10)
    np.testing.assert_allclose(dtldz, -dt, rtol=1e-10)
    np.testing.assert_allclose(detadz, -call(bg.hubble_distance_z, p, zt), rtol=1e-10)


def test_last_scattering_matches_the_cmb_kernels():
    for model, over in (("lcdm", {}), ("lcdm", {"Ok0": -0.05}), ("w0wacdm", {"w0": -0.7, "wa": -1.0}), ("pbuf", {})):
        p = massless(model, over)
        ls = call(times.last_scattering, p)
        der = call(cosmology.derived, p)
        assert float(ls["z_star"]) == float(der["z_star"])
        assert float(bg.transverse_from_radial(ls["DC_star"], p)) == pytest.approx(float(der["DM_star"]), rel=1e-13)
        zd = der["z_drag"]
        assert float(ls["DC_star"]) == pytest.approx(float(bg.recombination_integrals(p, ls["z_star"], zd)[2]),
                                                     rel=1e-13)
        assert float(call(times.comoving_distance_to_last_scattering, p)) == float(ls["DC_star"])
        zs = float(ls["z_star"])
        assert float(ls["eta_star"]) == pytest.approx(float(times.conformal_time(zs, p)), rel=1e-12)
        assert float(ls["eta_0"]) == pytest.approx(float(times.conformal_time(0.0, p)), rel=1e-14)
        assert float(ls["t_star"]) == pytest.approx(float(times.age(zs, p)), rel=1e-12)
        assert float(ls["t_0"]) == pytest.approx(float(times.age(0.0, p)), rel=1e-14)
        assert float(ls["eta_0"] - ls["eta_star"]) == pytest.approx(float(ls["DC_star"]), rel=1e-13)


# ---------------------------------------------------------------------------------------------
# Curvature branches of the comoving volume
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ok", [-0.2, -0.05, -1e-3, 0.0, 1e-3, 0.05, 0.2])
def test_comoving_volume_curvature_branches_hogg_eq29(ok):
    p = massless("lcdm", {"H0": 70.0, "Om0": 0.3, "Ok0": ok})
    z = np.array([0.01, 0.5, 2.0, 10.0, 1100.0])
    dm = np.asarray(cosmology.comoving_transverse_distance(z, p))
    dh = float(bg.hubble_distance(p))
    x = dm / dh
    if ok > 0:
        hogg = 4 * np.pi * dh**3 / (2 * ok) * (x * np.sqrt(1 + ok * x**2) - np.arcsinh(np.sqrt(ok) * x) / np.sqrt(ok))
    elif ok < 0:
        hogg = 4 * np.pi * dh**3 / (2 * ok) * (x * np.sqrt(1 + ok * x**2) - np.arcsin(np.sqrt(-ok) * x) / np.sqrt(-ok))
    else:
        hogg = 4 * np.pi / 3 * dm**3
    # Hogg's form cancels as Ok0 x^2 -> 0: its own error is ~1e-16 / (Ok0 x^2)
    tol = 1e-12 if ok == 0 else max(1e-12, 1e-15 / abs(ok * x.min() ** 2))
    np.testing.assert_allclose(np.asarray(times.comoving_volume(z, p)) * 1e9, hogg, rtol=tol)
    # dV = 4 pi D_M^2 dchi with dD_M/dchi = cosh (open) or cos (closed): V below/above 4 pi D_M^3 / 3
    ratio = np.asarray(times.comoving_volume(z, p)) * 1e9 / (4 * np.pi / 3 * dm**3)
    assert np.all(ratio < 1) if ok > 0 else np.all(ratio > 1) if ok < 0 else np.allclose(ratio, 1, rtol=1e-13)


def test_comoving_volume_smooth_through_flat_space():
    flat = massless("lcdm", {"H0": 70.0, "Om0": 0.3})
    f = jax.jit(lambda ok: times.comoving_volume(1100.0, {**flat, "Ok0": ok}))
    oks = np.array([-2e-3, -1e-7, 0.0, 1e-7, 2e-3])
    vals = np.array([float(f(ok)) for ok in oks])
    assert np.all(np.diff(vals) > 0)
    g0 = float(jax.grad(f)(0.0))
    h = 1e-4
    assert g0 == pytest.approx((float(f(h)) - float(f(-h))) / (2 * h), rel=1e-6)
    # the series and the closed forms meet at |y| = 0.1
    for y in (0.1, -0.1):
        r = np.sqrt(abs(y))
        closed = (np.sinh(2 * r) - 2 * r) / r**3 if y > 0 else (2 * r - np.sin(2 * r)) / r**3
        assert float(times._volume_factor(jnp.asarray(y * (1 - 1e-12)))) == pytest.approx(closed, rel=1e-14)
        assert float(times._volume_factor(jnp.asarray(y * (1 + 1e-12)))) == pytest.approx(closed, rel=1e-14)


# ---------------------------------------------------------------------------------------------
# jit / vmap / grad
# ---------------------------------------------------------------------------------------------

KERNELS = {
    "age": times.age,
    "lookback_time": times.lookback_time,
    "conformal_time": times.conformal_time,
    "comoving_volume": times.comoving_volume,
    "differential_comoving_volume": times.differential_comoving_volume,
}
CASES = {
    "lcdm_closed": ("lcdm", {"H0": 70.0, "Om0": 0.3, "Ok0": -0.04}),
    "w0wacdm": ("w0wacdm", {"w0": -0.7, "wa": -1.0, "Ok0": 0.02}),
    "pbuf": ("pbuf", {"k_sat": 0.8, "alpha": 1e-2, "Rmax": 1e6, "eps0": 2.0, "n_eps": 2.0}),
}


def _check_jit_vmap_grad(f, x0, names):
    eager = f(x0)
    jitted = jax.jit(f)(x0)
    assert jitted.dtype == jnp.float64
    assert float(jitted) == pytest.approx(float(eager), rel=1e-13)
    xs = x0 * jnp.array([[1.0], [1.01], [0.99]])
    np.testing.assert_allclose(jax.jit(jax.vmap(f))(xs), [float(jax.jit(f)(x)) for x in xs], rtol=1e-13)
    g = jax.jit(jax.grad(f))(x0)
    assert np.all(np.isfinite(np.asarray(g)))
    for i, name in enumerate(names):
        h = 1e-5 * max(abs(float(x0[i])), 1e-2)
        e = jnp.zeros_like(x0).at[i].set(h)
        fd = (float(jax.jit(f)(x0 + e)) - float(jax.jit(f)(x0 - e))) / (2 * h)
        assert float(g[i]) == pytest.approx(fd, rel=1e-6, abs=1e-9 * abs(float(eager)) / h), name


@pytest.mark.parametrize("kernel,case,z", [(k, c, 1.3) for k in sorted(KERNELS) for c in sorted(CASES)]
                         + [("age", "lcdm_closed", 1500.0), ("conformal_time", "w0wacdm", 1500.0)])
def test_kernel_jit_vmap_grad(kernel, case, z):
    """jit == eager; vmap over parameters == loop; grad in (H0, Om0, Ok0, w0, ..., z) == central differences
    (z = 1500: the direct rule of the age and conformal time)."""
    fn = KERNELS[kernel]
    p = massless(*CASES[case])
    names = [k for k in ("H0", "Om0", "Ok0", "w0", "wa", "k_sat") if k in p]
    x0 = jnp.array([p[k] for k in names] + [z])

    def f(x):
        return fn(x[-1], {**p, **dict(zip(names, x[:-1]))})

    _check_jit_vmap_grad(f, x0, names + ["z"])
    # vmap over redshifts at fixed parameters == the array call
    zs = jnp.array([0.1, z, 2 * z])
    np.testing.assert_allclose(jax.vmap(lambda zz: call(fn, p, zz))(zs), fn(np.asarray(zs), p), rtol=1e-12)


@pytest.mark.parametrize("key", ["DC_star", "eta_star", "eta_0", "t_star", "t_0"])
def test_last_scattering_jit_vmap_grad(key):
    p = massless("lcdm", {"Ok0": -0.02})
    names = ["H0", "Om0", "Obh2", "Ok0"]
    x0 = jnp.array([p[k] for k in names])

    def f(x):
        return times.last_scattering({**p, **dict(zip(names, x))})[key]

    _check_jit_vmap_grad(f, x0, names)


# ---------------------------------------------------------------------------------------------
# Input checks, shapes, dtype
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kernel", sorted(KERNELS))
@pytest.mark.parametrize("bad,exc", [("1.0", TypeError), (None, TypeError), (True, TypeError), (1 + 2j, TypeError),
                                     ([0.5, "x"], TypeError), (-0.1, ValueError), (float("nan"), ValueError),
                                     ([0.5, -1.0], ValueError)])
def test_bad_redshift_raises_like_background(kernel, bad, exc):
    p = massless("lcdm", {})
    with pytest.raises(exc) as got:
        KERNELS[kernel](bad, p)
    with pytest.raises(exc) as expected:
        bg.comoving_distance(bad, p)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("kernel", sorted(KERNELS))
def test_negative_redshift_inside_jit_is_nan(kernel):
    p = massless("lcdm", {})
    assert np.isnan(float(call(KERNELS[kernel], p, -0.5)))


@pytest.mark.parametrize("kernel", sorted(KERNELS))
def test_shapes_and_dtype(kernel):
    p = massless("lcdm", {"Ok0": 0.01})
    fn = KERNELS[kernel]
    assert np.shape(fn(1.0, p)) == ()
    z = np.array([[0.1, 1.0], [10.0, 2000.0]])
    out = fn(z, p)
    assert out.shape == (2, 2) and out.dtype == jnp.float64
    np.testing.assert_allclose(np.asarray(out).ravel(), np.asarray(fn(z.ravel(), p)), rtol=1e-14)
    np.testing.assert_allclose(np.asarray(out), np.asarray(call(fn, p, z)), rtol=1e-11)
    assert float(fn(0, p)) == float(fn(0.0, p))  # integers accepted


@pytest.mark.skipif("mnu" not in cosmology.get_defaults("lcdm"), reason="no massive neutrinos in this tree")
def test_massive_neutrinos_enter_through_e2():
    """With mnu > 0 the kernels follow E^2: the age moves, and its gradient in mnu matches central differences."""
    p = pbufjax.build_params("lcdm", {"mnu": 0.06})
    assert float(times.age(0.0, p)) != pytest.approx(float(times.age(0.0, massless("lcdm", {}))), rel=1e-6)
    numeric = {k: v for k, v in p.items() if k in ("H0", "Om0", "Obh2", "mnu")}
    static = {k: v for k, v in p.items() if k not in numeric}
    for fn in (times.age, times.comoving_volume):
        f = jax.jit(lambda m, fn=fn: fn(2.0, {**static, **numeric, "mnu": m}))
        h = 2e-5  # the curvature in mnu is strong: the difference's error is 1.6e-6 at h = 1e-4
        fd = (float(f(0.06 + h)) - float(f(0.06 - h))) / (2 * h)
        assert float(jax.grad(f)(0.06)) == pytest.approx(fd, rel=3e-6)
