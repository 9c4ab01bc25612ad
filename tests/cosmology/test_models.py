"""Model registry, radiation bookkeeping, PBUF limits and bad input."""

import jax.numpy as jnp
import numpy as np
import pytest

import pbufjax
from pbufjax import constants
from pbufjax.cosmology import models

from ._util import call


def test_photon_density_full_precision():
    assert constants.omega_gamma_h2(2.7255) == pytest.approx(2.472975e-5, rel=2e-7)
    # the T^4 law
    assert constants.omega_gamma_h2(2 * 2.7255) == pytest.approx(16 * constants.omega_gamma_h2(2.7255), rel=1e-15)
    assert constants.NEUTRINO_FACTOR == pytest.approx(7 / 8 * (4 / 11) ** (4 / 3), rel=1e-16)
    og = constants.omega_gamma_h2()
    assert constants.omega_radiation_h2(neff=3.046) == pytest.approx(og * (1 + 3.046 * 0.22710731766), rel=1e-10)


@pytest.mark.parametrize("name", sorted(models.MODELS))
def test_budget_closes(name):
    p = pbufjax.build_params(name, {"Ok0": 0.03})
    assert float(models.e2(0.0, p)) == pytest.approx(1.0, abs=1e-15)


def test_pbuf_reduces_to_lcdm_exactly():
    over = {"H0": 68.1, "Om0": 0.31, "Obh2": 0.0223, "Neff": 3.2, "Ok0": 0.01}
    lcdm = pbufjax.build_params("lcdm", over)
    pbuf = pbufjax.build_params("pbuf", {**over, "k_sat": 1.0, "alpha": 0.0})
    zp1 = jnp.geomspace(1.0, 1e6, 500)
    np.testing.assert_array_equal(models.e2_pbuf(zp1, pbuf), models.e2_lcdm(zp1, lcdm))
    for k in ("z_recomb", "z_drag", "r_s_drag"):
        assert pbuf[k] == pytest.approx(lcdm[k], rel=1e-14)


def test_pbuf_elastic_term_is_tiny_within_bounds():
    """σ(z)/E²(z) < 1e-4 at every redshift for every corner of the PBUF bounds."""
    b = models.MODELS["pbuf"].bounds
    zp1 = jnp.geomspace(1.0, 1e7, 2000)
    worst = 0.0
    for alpha in b["alpha"]:
        for rmax in b["Rmax"]:
            for eps0 in b["eps0"]:
                for n_eps in b["n_eps"]:
                    for k_sat in b["k_sat"]:
                        p = pbufjax.build_params(
                            "pbuf",
                            dict(alpha=alpha, Rmax=rmax, eps0=eps0, n_eps=n_eps, k_sat=k_sat),
                            derived=False,
                        )
                        ratio = models.pbuf_elastic_term(zp1, p) / models.e2_pbuf(zp1, p)
                        worst = max(worst, float(jnp.max(jnp.abs(ratio))))
    assert 1e-6 < worst < 1e-4


def test_pbuf_radiation_factor_limits():
    assert float(models.pbuf_radiation_factor(1e9, 0.5)) == pytest.approx(1.0, abs=1e-6)
    assert float(models.pbuf_radiation_factor(1.0, 0.5)) == pytest.approx(1 + (-0.5) / 1.001)
    p = pbufjax.build_params("pbuf", {"k_sat": 1.5})
    q = pbufjax.build_params("pbuf", {"k_sat": 0.5})
    # more radiation at recombination -> larger H there
    assert float(call(pbufjax.cosmology.hubble, p, 1100.0)) > float(call(pbufjax.cosmology.hubble, q, 1100.0))


def test_cpl_density():
    zp1 = jnp.array([1.0, 2.0, 11.0])
    np.testing.assert_allclose(models._cpl_density(zp1, -1.0, 0.0), 1.0, rtol=1e-15)
    np.testing.assert_allclose(models._cpl_density(zp1, -0.5, 0.0), zp1**1.5, rtol=1e-14)
    a = 1 / zp1
    expect = a ** (-3 * (1 - 0.9 + 0.4)) * np.exp(-3 * 0.4 * (1 - a))
    np.testing.assert_allclose(models._cpl_density(zp1, -0.9, 0.4), expect, rtol=1e-14)


def test_unknown_model_lists_valid():
    with pytest.raises(ValueError, match="valid models: .*lcdm.*pbuf"):
        pbufjax.build_params("lambda")
    with pytest.raises(ValueError, match="valid models"):
        models.e2(0.5, {"model_class": "nope", "H0": 70.0, "Om0": 0.3})


def test_register_model_is_one_entry():
    def e2_flat_matter_lambda_plus(zp1, p):
        return models.e2_lcdm(zp1, p) + p["eps"] * (zp1 - 1.0) ** 2 / zp1**2

    models.register_model(
        models.Model("test_toy", e2_flat_matter_lambda_plus, defaults={"eps": 0.0}, bounds={"eps": (0, 1)}),
        overwrite=True,
    )
    try:
        pbufjax.parameter.DEFAULTS["test_toy"] = models.MODELS["test_toy"].all_defaults | {"model_class": "test_toy"}
        p = pbufjax.build_params("test_toy", {"eps": 0.0})
        q = pbufjax.build_params("lcdm")
        assert p["z_recomb"] == pytest.approx(q["z_recomb"], rel=1e-14)
        assert float(pbufjax.cosmology.comoving_transverse_distance(1.0, {**p, "eps": 0.01})) != pytest.approx(
            float(pbufjax.cosmology.comoving_transverse_distance(1.0, p)), rel=1e-6
        )
        with pytest.raises(ValueError, match="already registered"):
            models.register_model(models.Model("test_toy", e2_flat_matter_lambda_plus))
    finally:
        models.MODELS.pop("test_toy", None)
        pbufjax.parameter.DEFAULTS.pop("test_toy", None)


@pytest.mark.parametrize(
    "over, match",
    [
        ({"H0": -70.0}, "H0"),
        ({"H0": 0.0}, "H0"),
        ({"Om0": 0.0}, "Om0"),
        ({"Obh2": 0.5}, "Obh2"),
        ({"Obh2": -0.01}, "Obh2"),
        ({"H0": float("nan")}, "H0"),
        ({"Om0": float("inf")}, "Om0"),
        ({"Tcmb": 0.0}, "Tcmb"),
        ({"Neff": -1.0}, "Neff"),
        ({"Ok0": -0.5, "Om0": 0.05}, "non-physical"),
        ({"Ok0": -0.9, "Om0": 0.05}, r"Ok0 = -0.9 is outside its valid range \[-0.5, 0.5\]"),
        ({"bogus": 1.0}, "unknown parameter 'bogus'"),
        ({"recomb_method": "SAHA"}, "valid methods"),
    ],
)
def test_bad_parameters_raise_at_build_time(over, match):
    with pytest.raises(ValueError, match=match):
        pbufjax.build_params("lcdm", over)


def test_wrong_type_is_type_error():
    with pytest.raises(TypeError, match="H0"):
        pbufjax.build_params("lcdm", {"H0": "seventy"})
    with pytest.raises(TypeError):
        pbufjax.build_params(3)


def test_nonphysical_point_inside_jit_is_not_silent():
    """A traced parameter set with E^2 < 0 somewhere gives NaN distances (which likelihoods turn into inf χ²)."""
    import jax

    p = pbufjax.build_params("lcdm")
    q = {k: v for k, v in p.items() if isinstance(v, float)}
    f = jax.jit(lambda ok: pbufjax.cosmology.comoving_transverse_distance(3.0, {**q, "Ok0": ok, "Om0": 0.05}))
    assert np.isfinite(float(f(0.0)))
    assert not np.isfinite(float(f(-0.9)))
