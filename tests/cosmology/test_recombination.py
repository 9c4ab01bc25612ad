"""Recombination methods: the CAMB-calibrated default's physical responses, derived quantities,
build_params' derived keys, and method validation. (Accuracy against CAMB: test_camb_accuracy.py.)"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pbufjax
from pbufjax import cosmology
from pbufjax.cosmology import recomb_fit, recombination
from pbufjax.cosmology.cmb import DERIVED_KEYS, derived

from ._util import call, numeric


def test_derived_keys_and_definitions():
    p = pbufjax.build_params("lcdm", {"H0": 67.36, "Om0": 0.3153})
    d = call(derived, p)
    assert set(d) == set(DERIVED_KEYS)
    # the fused evaluation and comoving_distance share one quadrature rule
    dm_ref = float(call(cosmology.comoving_transverse_distance, p, float(d["z_star"])))
    assert float(d["DM_star"]) == pytest.approx(dm_ref, rel=1e-13)
    rs_ref = float(call(cosmology.sound_horizon, p, float(d["z_star"])))
    assert float(d["r_star"]) == pytest.approx(rs_ref, rel=1e-13)
    dm = float(d["DM_star"])
    assert float(d["theta_star"]) == pytest.approx(float(d["r_star"]) / dm, rel=1e-13)
    assert float(d["l_A"]) == pytest.approx(np.pi * dm / float(d["r_star"]), rel=1e-13)
    assert float(d["R"]) == pytest.approx(np.sqrt(0.3153) * 67.36 * dm / 299792.458, rel=1e-13)
    # Planck 2018 ballpark (TT,TE,EE+lowE): 100 θ* = 1.0411, z* ≈ 1090, r_d ≈ 147
    assert 100 * float(d["theta_star"]) == pytest.approx(1.0411, abs=2e-3)
    assert float(d["z_star"]) == pytest.approx(1090.0, abs=1.0)
    assert float(d["r_drag"]) == pytest.approx(147.1, abs=0.5)


def test_build_params_fills_derived_keys():
    p = pbufjax.build_params("pbuf")
    d = call(derived, p)
    assert p["z_recomb"] == pytest.approx(float(d["z_star"]), rel=1e-14)
    assert p["z_drag"] == pytest.approx(float(d["z_drag"]), rel=1e-14)
    assert p["r_s_drag"] == pytest.approx(float(d["r_drag"]), rel=1e-14)
    assert p["Omh2"] == pytest.approx(p["Om0"] * (p["H0"] / 100) ** 2, rel=1e-15)
    assert p["recomb_method"] == recombination.DEFAULT_METHOD == "CAMBFIT"


def test_effective_densities_recover_lcdm():
    p = pbufjax.build_params("lcdm", {"Neff": 3.7, "mnu": 0.0})  # massless: the matching is exact
    om, orad = recomb_fit.effective_early_densities(numeric(p))
    dens = cosmology.densities(p)
    assert float(om) == pytest.approx(float(dens.omega_m * dens.h**2), rel=1e-8)
    assert float(orad) == pytest.approx(float(dens.omega_r * dens.h**2), rel=1e-6)


def test_yhe_bbn_matches_planck_value():
    # CAMB's BBN helium fraction at Planck values is 0.2457
    assert float(recomb_fit.yhe_bbn(0.02237, 3.046)) == pytest.approx(0.24568, abs=2e-5)
    assert float(recomb_fit.yhe_bbn(0.02237, 4.0)) > float(recomb_fit.yhe_bbn(0.02237, 3.0))


def test_responds_to_early_expansion():
    """More radiation at recombination (PBUF k_sat > 1, or larger Neff) raises z* and lowers r*."""
    base = call(derived, pbufjax.build_params("pbuf", {"k_sat": 1.0, "alpha": 0.0}))
    hi = call(derived, pbufjax.build_params("pbuf", {"k_sat": 1.3, "alpha": 0.0}))
    lo = call(derived, pbufjax.build_params("pbuf", {"k_sat": 0.7, "alpha": 0.0}))
    assert float(hi["z_star"]) > float(base["z_star"]) > float(lo["z_star"])
    assert float(hi["r_star"]) < float(base["r_star"]) < float(lo["r_star"])
    n4 = call(derived, pbufjax.build_params("lcdm", {"Neff": 4.0}))
    n3 = call(derived, pbufjax.build_params("lcdm", {"Neff": 3.046}))
    assert float(n4["r_drag"]) < float(n3["r_drag"])


def test_helium_override():
    p = pbufjax.build_params("lcdm")
    q = numeric(p)
    zs_bbn = float(jax.jit(lambda q: recomb_fit.z_star_and_drag(q)[0])(q))
    zs_hi = float(jax.jit(lambda q: recomb_fit.z_star_and_drag({**q, "YHe": 0.30})[0])(q))
    assert zs_hi > zs_bbn + 1.0  # CAMB: Y_He 0.2457 -> 0.30 raises z* by ~2.4


def test_tcmb_scaling_is_exact_in_temperature():
    """(1+z*) T_CMB is invariant when the photon temperature and every density scale together
    (massless neutrinos: a neutrino mass does not scale with the temperature)."""
    p = pbufjax.build_params("lcdm", {"H0": 67.36, "Om0": 0.3153, "mnu": 0.0})
    s = 1.01
    q = pbufjax.build_params(
        "lcdm", {"H0": 67.36 * s**2, "Om0": 0.3153 / s, "Obh2": p["Obh2"] * s**3, "Tcmb": p["Tcmb"] * s, "mnu": 0.0}
    )
    a, b = call(derived, p), call(derived, q)
    assert (1 + float(b["z_star"])) * s == pytest.approx(1 + float(a["z_star"]), rel=1e-10)


@pytest.mark.parametrize("method", sorted(recombination.RECOMBINATION_METHODS))
def test_every_method_jit_vmap_grad(method):
    p = pbufjax.build_params("lcdm", {"recomb_method": method})
    q = numeric(p)

    def f(x):
        d = derived({**q, "Obh2": x[0], "Om0": x[1], "recomb_method": method})
        return d["l_A"] + d["r_drag"] + d["z_star"]

    x0 = jnp.array([q["Obh2"], q["Om0"]])
    fj = jax.jit(f)
    val = fj(x0)
    assert np.isfinite(float(val))
    assert float(val) == pytest.approx(float(f(x0)), rel=1e-13)  # eager == compiled
    xs = x0 * jnp.array([[1.0, 1.0], [1.02, 0.98]])
    np.testing.assert_allclose(jax.jit(jax.vmap(f))(xs), [float(fj(x)) for x in xs], rtol=1e-12)
    g = jax.jit(jax.grad(f))(x0)
    for i in range(2):
        h = 1e-5 * float(x0[i])
        e = jnp.zeros(2).at[i].set(h)
        fd = (float(fj(x0 + e)) - float(fj(x0 - e))) / (2 * h)
        assert float(g[i]) == pytest.approx(fd, rel=1e-6)


def test_unknown_method():
    with pytest.raises(ValueError, match="valid methods: CAMBFIT, HS96"):
        recombination.check_method("RECFAST2")


def test_derived_and_distances_fuses_one_evaluation():
    from pbufjax.cosmology.cmb import derived_and_distances

    p = pbufjax.build_params("lcdm", {"H0": 67.36, "Om0": 0.3153})
    z = np.array([0.3, 0.51, 1.0, 2.33])
    d, dm = derived_and_distances(p, z)
    ref = derived(p)
    for k in DERIVED_KEYS:
        assert float(d[k]) == pytest.approx(float(ref[k]), rel=1e-14), k
    np.testing.assert_allclose(dm, cosmology.comoving_transverse_distance(z, p), rtol=1e-13)
    assert derived_and_distances(p, None)[1] is None
    for bad in (np.array([-0.1, 1.0]), np.array([np.nan]), np.zeros(5000)):
        with pytest.raises(ValueError, match="redshifts >= 0"):
            derived_and_distances(p, bad)
