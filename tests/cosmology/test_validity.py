"""Valid parameter ranges: refused outside jit with the parameter, value and range named;
+inf with a finite gradient inside jit; host and traced checks agree; accuracy of the
recombination fits over the whole valid domain against CAMB (tests/data/validity_reference.json,
made by tests/data/make_validity_reference.py)."""

from __future__ import annotations

import json
import re
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pbufjax.cosmology import models as M
from pbufjax.cosmology import parameters as P
from pbufjax.cosmology import validity as V

REF = pathlib.Path(__file__).resolve().parents[1] / "data" / "validity_reference.json"


@pytest.mark.parametrize("model, over, name, lo, hi", [
    ("lcdm", {"H0": 1e10}, "H0", 10, 200),
    ("lcdm", {"H0": 1e308}, "H0", 10, 200),
    ("lcdm", {"Om0": 1e10}, "Om0", 0.001, 1),
    ("lcdm", {"Neff": 1e6}, "Neff", 0, 10),
    ("wcdm", {"w0": 5}, "w0", -5, 0.333333),
    ("w0wacdm", {"wa": 10}, "wa", -5, 5),
    ("pbuf", {"k_sat": -5}, "k_sat", 0.05, 5),
])
def test_outside_the_valid_range_is_refused_by_name(model, over, name, lo, hi):
    """Before: these returned NaN z_recomb / z_drag / r_s_drag (Om0 = 1e10 gave z_recomb = -0.99999)."""
    value = over[name]
    with pytest.raises(ValueError, match="^" + re.escape(f"{name} = {value:g} is outside its valid range [{lo:g}, {hi:g}]")):
        P.build_params(model, over)


def test_every_optimization_bound_and_default_lies_inside_the_valid_range():
    for name, model in M.MODELS.items():
        valid = model.all_valid_ranges
        for key, (lo, hi) in model.all_bounds.items():
            vlo, vhi = valid[key]
            assert vlo <= lo < hi <= vhi, (name, key)
        for key, value in model.all_defaults.items():
            assert V.valid_range(name, key)[0] <= value <= V.valid_range(name, key)[1]


def test_register_model_refuses_bounds_outside_the_valid_range():
    bad = M.Model("tmp_bad_bounds", M.e2_lcdm, defaults={"x": 1.0}, bounds={"x": (0.0, 5.0)},
                  valid_ranges={"x": (0.5, 2.0)})
    with pytest.raises(ValueError, match=r"bounds x = \(0, 5\) must lie inside its valid range \[0.5, 2\]"):
        M.register_model(bad)
    assert "tmp_bad_bounds" not in M.MODELS


def test_the_lower_h0_bound_names_h0():
    """Before: H0 = 20 (the documented lower bound) failed with an Obh2 message that did not name H0."""
    with pytest.raises(ValueError, match=r"Obh2 = 0.02237 must be below Om0\*h\^2 = 0.0126 \(H0 = 20, Om0 = 0.315\)"):
        P.build_params("lcdm", {"H0": 20.0})
    assert P.build_params("lcdm", {"H0": 20.0, "Om0": 0.9})["z_recomb"] > 1000


def test_dark_energy_dominating_recombination_is_refused():
    with pytest.raises(ValueError, match="expansion during recombination is outside the validated domain.*w0 = -1, wa = 2"):
        P.build_params("w0wacdm", {"w0": -1.0, "wa": 2.0})
    P.build_params("w0wacdm", {"w0": -0.75, "wa": -0.9})  # the DESI DR2 region is fine


def test_derived_keys_are_refused_unless_they_agree():
    """Before: {"Omh2": 99} was silently ignored."""
    with pytest.raises(ValueError, match=r"Omh2 is a derived parameter .*cannot be set \(got 99\)"):
        P.build_params("lcdm", {"Omh2": 99.0})
    with pytest.raises(ValueError, match="z_recomb is a derived parameter"):
        P.build_params("lcdm", {"z_recomb": 1000.0}, derived=False)
    p = P.build_params("pbuf", {"k_sat": 1.1})
    assert P.build_params("pbuf", p) == p  # a complete dict rebuilds: its derived keys agree
    stale = dict(p, H0=70.0)
    with pytest.raises(ValueError, match="r_s_drag is a derived parameter|Omh2 is a derived parameter"):
        P.build_params("pbuf", stale)


def test_range_violations_reports_every_bad_value_without_raising():
    out = V.range_violations("lcdm", {"H0": -70, "Om0": 1e300, "Obh2": 0.0224, "ns": float("nan"),
                                      "model_class": "lcdm", "M_B": -19.3, "flag": True})
    assert set(out) == {"H0", "Om0", "ns", "flag"}
    assert out["H0"] == "H0 = -70 is outside its valid range [10, 200] for model 'lcdm'"
    assert "not finite" in out["ns"] and "not a number" in out["flag"]
    assert V.valid_range("lcdm", "M_B") == (-np.inf, np.inf)
    with pytest.raises(ValueError, match="unknown model"):
        V.valid_range("nope", "H0")


@pytest.mark.parametrize("model", ["lcdm", "w0wacdm", "pbuf"])
def test_traced_mask_agrees_with_the_host_check(model):
    """One table of conditions: physical_mask (inside jit) and check_point (outside) never disagree."""
    rng = np.random.default_rng(7)
    free = P.optimizable_parameters(model)
    defaults = {k: v for k, v in P.get_defaults(model).items() if not isinstance(v, str)}
    keys = sorted(defaults)
    mask = jax.jit(lambda vec: V.physical_mask(dict(zip(keys, vec)), model))
    n_bad = 0
    for _ in range(60):
        point = dict(defaults)
        for k in free:
            lo, hi = P.get_optimization_bounds(model, k)
            vlo, vhi = V.valid_range(model, k)
            span = (min(hi, vhi) - max(lo, vlo))
            point[k] = float(rng.uniform(lo - 0.2 * span, hi + 0.2 * span))
        try:
            V.check_point(point, model)
            host = True
        except ValueError:
            host = False
        n_bad += not host
        assert bool(mask(np.array([point[k] for k in keys]))) == host, point
    assert 0 < n_bad < 60


def test_inside_jit_an_invalid_point_gives_inf_and_a_zero_gradient():
    """Before: grad was NaN at non-physical points inside the optimization box, and values
    outside the valid ranges gave finite garbage."""
    from pbufjax.likelihood import build_likelihood

    lik = build_likelihood("w0wacdm", ["cmb", "bao", "sn"], ["H0", "w0", "wa"])
    vg = jax.jit(jax.value_and_grad(lik.chi2))
    v, g = vg(jnp.array([67.4, -0.8, -0.5]))
    assert np.isfinite(v) and np.all(np.isfinite(g)) and np.any(g != 0)
    for bad in ([1e10, -1.0, 0.0], [67.4, 5.0, 0.0], [67.4, -1.0, 2.0], [np.nan, -1.0, 0.0], [20.0, -1.0, 0.0]):
        v, g = vg(jnp.array(bad))
        assert v == np.inf, bad
        assert np.all(g == 0.0), bad


def test_recombination_fits_hold_their_stated_accuracy_over_the_valid_domain():
    ref = json.loads(REF.read_text())
    worst, calib = np.zeros(3), np.zeros(3)
    for r in ref["points"]:
        p = P.build_params("lcdm", {**{k: r[k] for k in ("H0", "Om0", "Obh2", "Neff")}, "mnu": 0.0})
        err = np.abs([p["z_recomb"] / r["zstar"] - 1, p["z_drag"] / r["zdrag"] - 1, p["r_s_drag"] / r["rdrag"] - 1])
        worst = np.maximum(worst, err)
        omh2 = r["Om0"] * (r["H0"] / 100) ** 2
        if 0.016 <= r["Obh2"] <= 0.03 and 0.085 <= omh2 <= 0.215 and r["Neff"] <= 7.5:
            calib = np.maximum(calib, err)
    assert len(ref["points"]) >= 150
    assert np.all(worst < [4e-3, 2.7e-2, 2.5e-2]), worst  # the figures in models.BASE_VALID_RANGES' comment
    assert np.all(calib < 5e-5), calib


@pytest.mark.parametrize("bad, exc, match", [
    ("1.0", TypeError, r"z must be a real number or an array of real numbers, got str \('1.0'\)"),
    (None, TypeError, "got NoneType"),
    (True, TypeError, "got bool"),
    (1 + 2j, TypeError, "dtype complex"),
    ([0.1, "x"], TypeError, "dtype <U"),
    (-0.5, ValueError, r"z must be a redshift >= 0, got -0.5"),
    ([0.5, -1.0, -2.0], ValueError, r"got -1 \(and 1 more\)"),
    (float("nan"), ValueError, "got nan"),
])
def test_every_kernel_checks_its_redshift_input(bad, exc, match):
    """Before: hubble("1.0", p) worked, D_M(None) was NaN, D_M(-0.5) = 0 and mu(-0.5) = -inf."""
    from pbufjax import cosmology as C

    p = P.build_params("lcdm")
    for fn in (C.hubble, C.expansion_rate, C.comoving_distance, C.comoving_transverse_distance,
               C.angular_diameter_distance, C.luminosity_distance, C.hubble_distance_z,
               C.volume_averaged_distance, C.distance_modulus, C.sound_horizon):
        with pytest.raises(exc, match=match):
            fn(bad, p)


def test_negative_redshift_inside_jit_is_nan_and_valid_ones_unchanged():
    from pbufjax import cosmology as C

    p = {k: v for k, v in P.build_params("lcdm").items() if not isinstance(v, str)}
    for fn in (C.hubble, C.comoving_transverse_distance, C.distance_modulus, C.sound_horizon):
        jf = jax.jit(lambda z, fn=fn: fn(z, p))
        assert np.isnan(float(jf(-0.5)))
        assert float(jf(0.7)) == pytest.approx(float(fn(0.7, p)), rel=1e-13)
    with pytest.raises(ValueError, match="z_hel must be a redshift >= 0"):
        C.distance_modulus(0.5, p, z_hel=-0.1)
