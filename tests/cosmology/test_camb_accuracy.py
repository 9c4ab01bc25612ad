"""Physics core against CAMB (values in tests/data/camb_reference.json, made by
tests/data/make_camb_reference.py). Tolerances are the targets of the physics core:

* H(z), D_M(z), 0 < z <= 1100: 1e-7 relative
* r_s(z) (from a = 1e-9, as CAMB): 1e-5
* z*, z_drag, r*, r_d, θ*, l_A with the default method: 1e-4
"""

import json
import pathlib

import jax
import numpy as np
import pytest

import pbufjax
from pbufjax import cosmology
from pbufjax.cosmology.cmb import derived

from ._util import call

REF = json.loads((pathlib.Path(__file__).parents[1] / "data" / "camb_reference.json").read_text())
COSMOS = REF["cosmologies"]
IDS = [c["label"] for c in COSMOS]


def params(c, **extra):
    """The reference's cosmology: CAMB ran with massless neutrinos, so ``mnu = 0``."""
    return pbufjax.build_params(c["model"], {**c["pbufjax_overrides"], "mnu": 0.0, **extra})


@pytest.mark.parametrize("c", COSMOS, ids=IDS)
def test_hubble_and_dm(c):
    p = params(c)
    z = np.array(c["z_dist"])
    h = np.asarray(call(cosmology.hubble, p, z))
    np.testing.assert_allclose(h, c["H"], rtol=1e-7, atol=0)
    # traced one at a time, and as one large array: both meet 1e-7
    dm = np.asarray(jax.vmap(lambda zi: call(cosmology.comoving_transverse_distance, p, zi))(z))
    np.testing.assert_allclose(dm, c["DM"], rtol=1e-7, atol=0)
    big = np.concatenate([z, np.linspace(0.02, 3.0, 200)])
    dm_big = np.asarray(call(cosmology.comoving_transverse_distance, p, big))[: len(z)]
    np.testing.assert_allclose(dm_big, c["DM"], rtol=1e-7, atol=0)


def _rs_camb_convention(z, q):
    return cosmology.sound_horizon(z, q, a_min=1e-9)


@pytest.mark.parametrize("c", COSMOS, ids=IDS)
def test_sound_horizon(c):
    p = params(c)
    rs = np.asarray(call(_rs_camb_convention, p, np.array(c["z_rs"])))
    np.testing.assert_allclose(rs, c["rs_from_a_1e-9"], rtol=1e-5, atol=0)


@pytest.mark.parametrize("c", COSMOS, ids=IDS)
def test_default_recombination(c):
    p = params(c)
    ours = call(derived, p)
    ref = c["derived"]
    for key in ("z_star", "z_drag", "r_star", "r_drag", "theta_star", "DM_star"):
        assert float(ours[key]) == pytest.approx(ref[key], rel=1e-4), key
    l_a_ref = np.pi * ref["DM_star"] / ref["r_star"]
    assert float(ours["l_A"]) == pytest.approx(l_a_ref, rel=1e-4)


def _errors(method):
    errs = {k: [] for k in ("z_star", "z_drag", "r_star", "r_drag", "l_A")}
    for c in COSMOS:
        if c["model"] != "lcdm" or c["camb_inputs"].get("nnu", 3.046) != 3.046:
            continue
        d = call(derived, params(c, recomb_method=method))
        ref = dict(c["derived"], l_A=np.pi * c["derived"]["DM_star"] / c["derived"]["r_star"])
        for k in errs:
            errs[k].append(float(d[k]) / ref[k] - 1.0)
    return {k: np.array(v) for k, v in errs.items()}


def test_default_beats_standard_formulas():
    """The default reaches 1e-5 where the classic fitting formulas are 1e-3..4e-2 off."""
    default = _errors("CAMBFIT")
    for k, v in default.items():
        assert np.max(np.abs(v)) < 1e-5, k


def test_hs96_eh98_aubourg_known_offsets():
    """The standard formulas reproduce their known offsets from CAMB (checks their implementation)."""
    hs = _errors("HS96")
    assert np.all((hs["z_star"] > 0.0012) & (hs["z_star"] < 0.0024))  # 0.16-0.20% high
    assert np.all(np.abs(hs["l_A"]) > 5e-4)
    eh = _errors("EH98")
    assert np.all((eh["z_drag"] < -0.030) & (eh["z_drag"] > -0.045))  # ~3.7% low
    assert np.all((eh["r_drag"] > 0.015) & (eh["r_drag"] < 0.035))  # ~2.5% high
    au = _errors("AUBOURG")
    assert np.max(np.abs(au["r_drag"])) < 2e-3  # <= ~0.12% over the ranges
    assert np.max(np.abs(au["r_drag"])) > 1e-5
