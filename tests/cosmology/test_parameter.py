"""Parameter dictionaries: defaults, bounds, validation, derived keys, extensibility."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

import pbufjax
from pbufjax import parameter as P
from pbufjax.cosmology import models as M


def test_defaults_of_every_model():
    for name in ("lcdm", "wcdm", "w0wacdm", "pbuf"):
        d = P.get_defaults(name)
        assert d["model_class"] == name
        for k in ("H0", "Om0", "Obh2", "ns", "Neff", "Tcmb", "Ok0"):
            assert isinstance(d[k], float)
    pb = P.get_defaults("pbuf")
    assert (pb["alpha"], pb["Rmax"], pb["eps0"], pb["n_eps"], pb["k_sat"]) == (5e-4, 1e9, 0.7, 0.0, 0.9762)
    # a fresh copy each time
    pb["alpha"] = 1.0
    assert P.get_defaults("pbuf")["alpha"] == 5e-4


def test_unknown_model_lists_valid_ones():
    with pytest.raises(ValueError, match="valid models: .*lcdm.*pbuf"):
        P.get_defaults("nope")
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        P.build_params("nope")
    with pytest.raises(TypeError, match="model must be a string"):
        P.get_defaults(3)


def test_build_params_derived_keys_float64():
    p = P.build_params("lcdm", {"H0": 70.0, "Om0": 0.3})
    assert p["Omh2"] == pytest.approx(0.3 * 0.49)
    # CAMB-calibrated default: z* ≈ 1090, z_d ≈ 1060, r_d ≈ 147 Mpc near Planck values
    assert 1085 < p["z_recomb"] < 1095
    assert 1055 < p["z_drag"] < 1065
    assert 140 < p["r_s_drag"] < 152
    for k in ("Omh2", "z_recomb", "z_drag", "r_s_drag", "H0"):
        assert type(p[k]) is float
    assert p["recomb_method"] == "CAMBFIT" and p["model_class"] == "lcdm"


def test_build_params_errors():
    with pytest.raises(TypeError, match="'H0' must be a real number"):
        P.build_params("lcdm", overrides={"H0": "invalid"})
    with pytest.raises(TypeError, match="overrides must be a dict"):
        P.build_params("lcdm", overrides=[("H0", 70.0)])
    with pytest.raises(ValueError, match="unknown parameter 'k_sat' for model 'lcdm'; valid parameters"):
        P.build_params("lcdm", overrides={"k_sat": 1.0})
    with pytest.raises(ValueError, match=r"H0 = -1 is outside its valid range \[10, 200\]"):
        P.build_params("lcdm", overrides={"H0": -1.0})
    with pytest.raises(ValueError, match="Obh2 .* must be below Om0"):
        P.build_params("lcdm", overrides={"Obh2": 0.09, "Om0": 0.15})
    with pytest.raises(ValueError, match="must be finite"):
        P.build_params("lcdm", overrides={"Om0": float("nan")})
    with pytest.raises(ValueError, match="unknown recomb_method"):
        P.build_params("lcdm", recomb_method="XYZ")


def test_optimization_metadata_kept():
    meta = {"optimized_params": ["k_sat", "alpha"], "optimization_source": "cmb", "timestamp": "2025-10-22T14:42:00Z"}
    p = P.build_params("pbuf", overrides={"k_sat": 0.9762}, optimization_metadata=meta)
    assert p["optimization_metadata"] == meta
    # a dict carrying its metadata validates and rebuilds
    assert P.validate_params(p)
    P.build_params("pbuf", overrides=p)


def test_documented_bounds():
    expected = {"H0": (20.0, 150.0), "Om0": (0.01, 0.99), "Obh2": (0.005, 0.1), "ns": (0.8, 1.2)}
    for model in ("lcdm", "pbuf"):
        for k, b in expected.items():
            assert P.get_optimization_bounds(model, k) == b
    pbuf = {"k_sat": (0.1, 2.0), "alpha": (1e-6, 1e-2), "Rmax": (1e6, 1e12), "eps0": (0.0, 2.0), "n_eps": (-2.0, 2.0)}
    for k, b in pbuf.items():
        assert P.get_optimization_bounds("pbuf", k) == b
    assert P.get_bounds("lcdm", ["H0"]) == {"H0": (20.0, 150.0)}


def test_bounds_errors():
    with pytest.raises(ValueError, match="'k_sat' cannot be optimized for model 'lcdm'; valid parameters: H0"):
        P.get_optimization_bounds("lcdm", "k_sat")
    with pytest.raises(ValueError, match="unknown model"):
        P.get_optimization_bounds("nope", "H0")
    with pytest.raises(ValueError, match="cannot be optimized"):
        P.get_optimization_bounds("lcdm", "Tcmb")


def test_log_space_parameters():
    assert P.log_space_params("pbuf") == ("Rmax",)
    assert P.log_space_params("lcdm") == ()


def test_validate_free_params():
    assert P.validate_free_params("pbuf", "k_sat, alpha,H0") == ["k_sat", "alpha", "H0"]
    assert P.validate_free_params("lcdm", ["H0", "Om0"]) == ["H0", "Om0"]
    with pytest.raises(ValueError, match="'alpha' cannot be optimized for model 'lcdm'"):
        P.validate_free_params("lcdm", ["H0", "alpha"])
    with pytest.raises(ValueError, match="listed twice"):
        P.validate_free_params("lcdm", ["H0", "H0"])
    with pytest.raises(TypeError):
        P.validate_free_params("lcdm", [1.0])
    with pytest.raises(TypeError):
        P.validate_free_params("lcdm", 5)


def test_optimizable_parameters_table():
    assert P.OPTIMIZABLE_PARAMETERS["lcdm"][:4] == ["H0", "Om0", "Obh2", "ns"]
    assert {"k_sat", "alpha", "Rmax", "eps0", "n_eps"} <= set(P.OPTIMIZABLE_PARAMETERS["pbuf"])
    assert "w0" in P.optimizable_parameters("wcdm") and "wa" in P.optimizable_parameters("w0wacdm")


def test_validate_params_rejects_nonphysical_expansion():
    p = P.build_params("lcdm", derived=False)
    p["Ok0"] = 0.0
    assert P.validate_params(p)
    bad = dict(p, Om0=0.05, Ok0=-0.5)  # a bounce: E^2 < 0 near z = 1
    with pytest.raises(ValueError, match="non-physical expansion"):
        P.validate_params(bad)
    with pytest.raises(ValueError, match="missing parameter"):
        P.validate_params({"model_class": "lcdm", "H0": 70.0})


def test_extensibility_defaults_entry_inherits_lcdm():
    """The API reference's example: a DEFAULTS entry alone makes a usable model."""
    name = "test_new_model_param"
    try:
        P.DEFAULTS[name] = {"H0": 67.4, "Om0": 0.315, "new_param1": 1.0, "new_param2": 0.5, "model_class": name}
        p = pbufjax.build_params(name)
        assert p["new_param1"] == 1.0 and p["new_param2"] == 0.5 and p["model_class"] == name
        assert P.OPTIMIZABLE_PARAMETERS[name] == P.OPTIMIZABLE_PARAMETERS["lcdm"]
        ref = pbufjax.build_params("lcdm", {"H0": 67.4, "Om0": 0.315})
        z = jnp.array([0.5, 2.0, 1000.0])
        np.testing.assert_allclose(M.e2(z, p), M.e2(z, ref), rtol=1e-15)
        assert p["z_recomb"] == pytest.approx(ref["z_recomb"], rel=1e-14)
    finally:
        P.DEFAULTS.pop(name, None)
        M.MODELS.pop(name, None)
        P.OPTIMIZABLE_PARAMETERS.pop(name, None)


def test_registered_model_gets_optimizable_parameters():
    name = "test_registered_e2"
    try:
        M.register_model(M.Model(name, M.e2_lcdm, defaults={"beta": 0.1}, bounds={"beta": (0.0, 1.0)}))
        assert P.optimizable_parameters(name)[-1] == "beta"
        assert P.get_optimization_bounds(name, "beta") == (0.0, 1.0)
        assert P.build_params(name, {"beta": 0.2})["beta"] == 0.2
    finally:
        M.MODELS.pop(name, None)


def test_derived_params_match_kernels():
    from pbufjax.cosmology.cmb import derived

    p = P.build_params("pbuf", {"k_sat": 1.1})
    d = derived(p)
    assert p["z_recomb"] == pytest.approx(float(d["z_star"]), rel=1e-12)
    assert p["r_s_drag"] == pytest.approx(float(d["r_drag"]), rel=1e-12)
    assert math.isclose(p["Omh2"], p["Om0"] * (p["H0"] / 100) ** 2)


def test_registry_lives_in_cosmology_layer():
    from pbufjax import cosmology
    from pbufjax.cosmology import parameters as CP

    assert P.DEFAULTS is CP.DEFAULTS is cosmology.DEFAULTS is pbufjax.DEFAULTS
    assert P.OPTIMIZABLE_PARAMETERS is CP.OPTIMIZABLE_PARAMETERS is pbufjax.OPTIMIZABLE_PARAMETERS
    for name in ("build_params", "get_defaults", "validate_params"):
        assert getattr(P, name) is getattr(CP, name) is getattr(cosmology, name) is getattr(pbufjax, name)


def test_check_helpers_are_public():
    assert P.check_model_name("lcdm") == "lcdm"
    with pytest.raises(ValueError, match="valid models"):
        P.check_model_name("no_such_model")
    assert P.check_number("H0", np.float32(70.0)) == 70.0
    with pytest.raises(TypeError, match="'H0'"):
        P.check_number("H0", True)
    with pytest.raises(ValueError, match="finite"):
        P.check_number("H0", float("nan"))


def test_compiled_caches_are_registered_and_cleared():
    from pbufjax.cosmology import parameters as CP
    from pbufjax.runtime import clear_caches, registered_caches

    p = P.build_params("lcdm", {"H0": 69.0})
    from pbufjax.cosmology import validity as V

    assert V._JOINT_CACHE and CP._DERIVED_CACHE
    assert {"cosmology.validity.joint", "cosmology.parameters.derived"} <= set(registered_caches())
    clear_caches()
    assert not V._JOINT_CACHE and not CP._DERIVED_CACHE
    assert P.build_params("lcdm", {"H0": 69.0}) == p  # rebuilt on first use, same values


def test_build_params_accepts_a_concrete_jax_scalar_and_names_a_traced_one():
    import jax
    import jax.numpy as jnp

    from pbufjax import build_params

    assert build_params("lcdm", {"H0": jnp.float64(70.0)}, derived=False)["H0"] == 70.0
    assert build_params("lcdm", {"Om0": jnp.array([0.31])}, derived=False)["Om0"] == 0.31
    with pytest.raises(TypeError, match="traced JAX value"):
        jax.jit(lambda h: build_params("lcdm", {"H0": h}, derived=False)["H0"])(70.0)
