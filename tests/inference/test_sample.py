"""Posterior sampling (pbufjax.sample): NUTS on the compiled χ².

The published check: flat ΛCDM on DESI DR2 BAO with Obh2 = 0.02237 fixed and H0, Ωm
free gives Ωm = 0.2975 ± 0.0086 and h·r_d = 101.54 ± 0.73 Mpc (DESI 2025,
arXiv:2503.14738, table of BAO-only constraints). With 4 chains × 1000 samples the
effective sample size is ≳ 2500, so the Monte-Carlo error of a mean is ≲ 0.02σ and
of a standard deviation ≲ 1.5%: the 0.1σ / 10% tolerances leave room for the
physics, not for sampling noise.

Every sampler call below uses the same sampler configuration, so the NUTS program is
compiled once (the priors, fixed values, seeds and starting points are inputs of
the compiled program, not part of it).
"""

import json
import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pbufjax  # noqa: F401
from pbufjax import cli_sampling, sample

DESI = ["desi_dr2"]
OVER = {"Obh2": 0.02237}
CFG = {"num_samples": 1000, "num_warmup": 500, "num_chains": 4}


@pytest.fixture(scope="module")
def desi():
    return sample.sample_posterior("lcdm", DESI, ["H0", "Om0"], overrides=OVER, seed=0, use_store=False, **CFG)


# ---------------------------------------------------------------------------
# published posterior
# ---------------------------------------------------------------------------


def test_desi_dr2_posterior_matches_published(desi):
    s = desi["summary"]
    for name, mean, sigma in (("Om0", 0.2975, 0.0086), ("h_rd", 101.54, 0.73)):
        assert abs(s[name]["mean"] - mean) < 0.1 * sigma, (name, s[name])
        assert abs(s[name]["std"] / sigma - 1) < 0.10, (name, s[name])
    for name in ("H0", "Om0", "h_rd"):
        assert s[name]["r_hat"] < 1.01
        assert s[name]["ess"] > 1000
    assert desi["diagnostics"]["num_divergences"] == 0


def test_result_contract(desi):
    assert desi["free_params"] == ["H0", "Om0"]
    assert desi["derived_params"] == list(sample.DERIVED_NAMES)
    for name in desi["free_params"] + desi["derived_params"]:
        assert desi["samples"][name].shape == (4000,)
        assert desi["chains"][name].shape == (4, 1000)
        assert desi["samples"][name].dtype == np.float64
        assert set(desi["summary"][name]) == set(sample.SUMMARY_KEYS)
    s = desi["summary"]["Om0"]
    assert s["q025"] < s["q16"] < s["median"] < s["q84"] < s["q975"]
    assert s["mean"] == pytest.approx(desi["samples"]["Om0"].mean())
    # samples stay inside the prior (the optimization bounds)
    assert desi["samples"]["Om0"].min() > 0.01 and desi["samples"]["Om0"].max() < 0.99
    assert desi["timing"]["sampling"] > 0 and desi["ess_per_second"] > 0
    assert desi["priors"]["H0"] == {"type": "uniform", "lower": 20.0, "upper": 150.0}
    assert desi["fixed_params"]["Obh2"] == 0.02237
    assert desi["init"]["points"].shape == (4, 2)
    assert desi["config"]["chain_method"] == ("sequential" if jax.default_backend() == "cpu" else "vectorized")


def test_derived_quantities_are_consistent(desi):
    s = desi["samples"]
    h = s["H0"] / 100
    np.testing.assert_allclose(s["Omh2"], s["Om0"] * h * h, rtol=1e-12)
    np.testing.assert_allclose(s["h_rd"], h * s["r_s_drag"], rtol=1e-12)
    # r_d of one sample against the physics kernel directly
    from pbufjax.cosmology.cmb import derived_jit
    from pbufjax.parameter import build_params

    p = build_params("lcdm", {"H0": float(s["H0"][7]), "Om0": float(s["Om0"][7]), "Obh2": 0.02237}, derived=False)
    d = derived_jit(p)
    assert float(d["r_drag"]) == pytest.approx(s["r_s_drag"][7], rel=1e-10)
    assert 100 * float(d["theta_star"]) == pytest.approx(s["100theta_star"][7], rel=1e-10)


def test_compiled_once_and_seeded(desi):
    again = sample.sample_posterior("lcdm", DESI, ["H0", "Om0"], overrides=OVER, seed=0, use_store=False, **CFG)
    assert again["timing"]["compile"] < 1.0  # the cached program
    np.testing.assert_array_equal(again["samples"]["Om0"], desi["samples"]["Om0"])
    other = sample.sample_posterior("lcdm", DESI, ["H0", "Om0"], overrides=OVER, seed=1, use_store=False, **CFG)
    assert not np.array_equal(other["samples"]["Om0"], desi["samples"]["Om0"])
    assert other["summary"]["Om0"]["mean"] == pytest.approx(desi["summary"]["Om0"]["mean"], abs=0.002)


def test_gaussian_prior_matches_grid_integration(desi):
    """A Gaussian prior H0 ~ N(73, 0.5): the posterior mean and width of H0 and Ωm agree with
    a direct integration of exp(-χ²/2)·prior on a 111×141 grid (spacing 0.05 in H0 and 0.001
    in Ωm, the posterior negligible at the edges) within 0.05σ for the means and 5% for the
    widths (Monte-Carlo errors ≲ 0.02σ and 1.5%)."""
    prior = {"H0": {"type": "gaussian", "mean": 73.0, "sigma": 0.5}}
    r = sample.sample_posterior("lcdm", DESI, ["H0", "Om0"], overrides=OVER, seed=2, use_store=False,
                                priors=prior, **CFG)
    assert r["priors"]["H0"] == {"type": "gaussian", "mean": 73.0, "sigma": 0.5}
    post = sample.Posterior("lcdm", DESI, ["H0", "Om0"], overrides=OVER, priors=prior)
    h, om = np.meshgrid(np.linspace(68.0, 73.5, 111), np.linspace(0.22, 0.36, 141), indexing="ij")
    lp = np.asarray(jax.jit(jax.vmap(post.log_prob))(jnp.asarray(np.stack([h.ravel(), om.ravel()], 1))))
    w = np.exp(lp - lp.max()).reshape(h.shape)
    assert max(w[0].max(), w[-1].max(), w[:, 0].max(), w[:, -1].max()) < 1e-5
    for name, x in (("H0", h), ("Om0", om)):
        mean = (w * x).sum() / w.sum()
        std = np.sqrt((w * (x - mean) ** 2).sum() / w.sum())
        s = r["summary"][name]
        assert abs(s["mean"] - mean) < 0.05 * std, (name, s["mean"], mean)
        assert abs(s["std"] / std - 1) < 0.05, (name, s["std"], std)
    # the prior pulls H0 up from the likelihood's 68.9
    assert r["summary"]["H0"]["mean"] > desi["summary"]["H0"]["mean"] + 1.0


def test_starts_from_the_stored_best_fit(tmp_path):
    from pbufjax.parameter_store import OptimizedParameterStore

    OptimizedParameterStore(tmp_path).update_model_defaults("lcdm", {"H0": 68.8, "Om0": 0.298},
                                                            {"convergence_status": "success"})
    r = sample.sample_posterior("lcdm", DESI, ["H0", "Om0"], overrides=OVER, seed=3, store_dir=tmp_path, **CFG)
    assert r["init"]["source"] == "parameter store (H0, Om0)"
    assert r["init"]["center"] == {"H0": 68.8, "Om0": 0.298}
    r = sample.sample_posterior("lcdm", DESI, ["H0", "Om0"], overrides=OVER, seed=3, store_dir=tmp_path,
                                use_store=False, init_params={"H0": 70.0}, **CFG)
    assert r["init"]["source"] == "init_params" and r["init"]["center"]["H0"] == 70.0


def test_save_and_load(desi, tmp_path):
    path = sample.save_samples(desi, tmp_path / "chains.npz")
    back = sample.load_samples(path)
    np.testing.assert_array_equal(back["chains"]["Om0"], desi["chains"]["Om0"])
    np.testing.assert_array_equal(back["samples"]["h_rd"], desi["samples"]["h_rd"])
    assert back["summary"]["Om0"]["mean"] == desi["summary"]["Om0"]["mean"]
    assert back["free_params"] == ["H0", "Om0"] and back["config"]["num_chains"] == 4
    with pytest.raises(ValueError, match=r"unknown sample file extension '.txt'.*valid: .npz, .nc"):
        sample.save_samples(desi, tmp_path / "chains.txt")
    with pytest.raises(FileNotFoundError):
        sample.load_samples(tmp_path / "missing.npz")
    try:
        import arviz  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="arviz"):
            sample.save_samples(desi, tmp_path / "chains.nc")
    else:
        nc = sample.save_samples(desi, tmp_path / "chains.nc")
        back = sample.load_samples(nc)
        np.testing.assert_allclose(back["chains"]["Om0"], desi["chains"]["Om0"])


@pytest.mark.release_files("desi_dr2", "union3")
def test_cli_sample_writes_file_and_summary(tmp_path, capsys):
    out = tmp_path / "s.npz"
    rc = cli_sampling.main(["sample", "--datasets", "desi_dr2", "--params", "H0,Om0", "--set", "Obh2=0.02237",
                            "--samples", "1000", "--warmup", "500", "--chains", "4", "--no-store", "--json",
                            "--output", str(out)])
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"]["Om0"]["mean"] == pytest.approx(0.2975, abs=0.001)
    assert sample.load_samples(out)["chains"]["H0"].shape == (4, 1000)


# ---------------------------------------------------------------------------
# the log-density (Union3, Ωm: quick to compile)
# ---------------------------------------------------------------------------


def test_log_density_is_chi2_plus_jacobian_and_differentiable():
    post = sample.Posterior("lcdm", ["union3"], ["Om0"])
    chi2 = post.problem.likelihood.chi2
    z = jnp.array([-0.6])
    theta = post.to_physical(z)
    jac = float(jax.nn.log_sigmoid(z[0]) + jax.nn.log_sigmoid(-z[0]))
    assert float(post.log_density(z)) == pytest.approx(-0.5 * float(chi2(theta)) + jac, rel=1e-12)
    np.testing.assert_allclose(post.to_unconstrained(theta), z, atol=1e-12)
    lp = jax.jit(post.log_density)
    g = jax.grad(post.log_density)(z)
    h = 1e-5
    fd = (float(lp(z + h)) - float(lp(z - h))) / (2 * h)
    assert float(g[0]) == pytest.approx(fd, rel=1e-6)
    zs = jnp.linspace(-2, 2, 5)[:, None]
    np.testing.assert_allclose(jax.vmap(lp)(zs), [float(lp(zz)) for zz in zs], rtol=1e-12)
    # physical-space log-posterior: -χ²/2 inside the bounds, -inf outside
    assert float(post.log_prob(jnp.array([0.3]))) == pytest.approx(-0.5 * float(chi2(np.array([0.3]))), rel=1e-12)
    assert float(post.log_prob(jnp.array([1.2]))) == -np.inf


def test_log_space_prior_density_is_consistent():
    """For a log-space parameter (PBUF's Rmax, uniform in log10) the unconstrained density
    equals the physical one times |dθ/dz|: log p_z − log p_θ − Σ log σ(z)σ(−z) − log θ_Rmax
    is the same constant everywhere."""
    post = sample.Posterior("pbuf", ["union3"], ["Om0", "Rmax"])
    lp_z, lp_t = jax.jit(post.log_density), jax.jit(post.log_prob)
    consts = []
    for z in ([0.1, -1.0], [-0.4, 0.7], [0.3, 2.0]):
        z = jnp.array(z)
        th = post.to_physical(z)
        jac = float(jnp.sum(jax.nn.log_sigmoid(z) + jax.nn.log_sigmoid(-z)))
        consts.append(float(lp_z(z)) - float(lp_t(jnp.asarray(th))) - jac - np.log(th[1]))
    assert np.ptp(consts) < 1e-9


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kw, exc, needle", [
    ({"num_samples": 0}, ValueError, "num_samples must be >= 1, got 0"),
    ({"num_samples": -5}, ValueError, "num_samples must be >= 1, got -5"),
    ({"num_chains": 0}, ValueError, "num_chains must be >= 1, got 0"),
    ({"num_warmup": -1}, ValueError, "num_warmup must be >= 0, got -1"),
    ({"num_samples": 10.5}, TypeError, "num_samples must be an integer"),
    ({"chain_method": "threads"}, ValueError,
     "unknown chain_method 'threads'; valid: auto, vectorized, sequential, parallel"),
    ({"target_accept_prob": 1.5}, ValueError, r"target_accept_prob must be in \(0, 1\)"),
    ({"seed": "a"}, TypeError, "seed must be an integer"),
    ({"chain_method": "parallel", "devices": 64}, ValueError, "64 devices requested but only"),
    ({"init_params": {"w0": -1.0}}, ValueError, "init_params gives 'w0', which is not sampled"),
    ({"priors": {"Obh2": ("gaussian", 0.0224, 0.001)}}, ValueError,
     "prior given for 'Obh2', which is not a free parameter; free parameters: H0, Om0"),
    ({"priors": {"H0": ("gaussian", 70.0, 0.0)}}, ValueError, "sigma must be > 0"),
    ({"priors": {"H0": ("cauchy", 70.0, 1.0)}}, ValueError, "prior type of 'H0' is 'cauchy'; valid types: uniform, gaussian"),
    ({"priors": {"H0": ("uniform", 80.0, 60.0)}}, ValueError, "lower 80.0 must be < upper 60.0"),
    ({"priors": {"H0": 70.0}}, TypeError, "prior of 'H0' must be"),
])
def test_bad_sampler_input(kw, exc, needle):
    with pytest.raises(exc, match=needle):
        sample.sample_posterior("lcdm", DESI, ["H0", "Om0"], overrides=OVER, **kw)


def test_bad_parameters():
    with pytest.raises(ValueError, match=r"parameter 'k_sat' cannot be optimized for model 'lcdm'.*valid parameters"):
        sample.sample_posterior("lcdm", DESI, ["H0", "k_sat"])
    with pytest.raises(ValueError, match="no free parameters to sample"):
        sample.sample_posterior("lcdm", DESI, [])
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        sample.sample_posterior("nope", DESI, ["H0"])
    with pytest.raises(KeyError):
        sample.sample_posterior("lcdm", ["nope"], ["H0"])


@pytest.mark.parametrize("argv, needle", [
    (["sample", "--datasets", "desi_dr2", "--params", "H0", "--samples", "0"], "--samples: must be >= 1, got 0"),
    (["sample", "--datasets", "desi_dr2", "--params", "H0", "--chains", "-2"], "--chains: must be >= 1, got -2"),
    (["sample", "--datasets", "desi_dr2", "--params", "H0,w0"], "parameter 'w0' cannot be optimized"),
    (["sample", "--datasets", "desi_dr2", "--params", "H0", "--prior", "H0=gauss"], "--prior expects"),
    (["sample", "--datasets", "desi_dr2", "--params", "H0", "--output", "x.npz", "--samples", "1", "--warmup", "0",
      "--chains", "1", "--prior", "H0=cauchy:1:2"], "prior type of 'H0' is 'cauchy'"),
])
@pytest.mark.release_files("desi_dr2", "union3")
def test_cli_sample_bad_input(argv, needle, capsys):
    assert cli_sampling.main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------------------
# other chain methods (each compiles its own program)
# ---------------------------------------------------------------------------


@pytest.mark.slow
def test_sequential_chains_and_progress_bar_agree():
    r = sample.sample_posterior("lcdm", ["union3"], ["Om0"], num_samples=400, num_warmup=300, num_chains=2,
                                seed=5, chain_method="sequential", use_store=False, progress_bar=True)
    v = sample.sample_posterior("lcdm", ["union3"], ["Om0"], num_samples=400, num_warmup=300, num_chains=2,
                                seed=5, chain_method="vectorized", use_store=False)
    # different programs (lax.map vs vmap) round differently, so the chains drift apart: compare
    # the posteriors (Union3: Ωm = 0.356 +0.028 −0.026, arXiv:2311.12098), not the samples
    for res in (r, v):
        assert res["summary"]["Om0"]["mean"] == pytest.approx(0.356, abs=0.006)
        assert res["summary"]["Om0"]["std"] == pytest.approx(0.027, rel=0.15)
    assert r["config"]["chain_method"] == "sequential"


@pytest.mark.release_files("desi_dr2", "union3")
@pytest.mark.slow
def test_parallel_chains_over_two_host_devices():
    script = textwrap.dedent(
        """
        import json, numpy as np, pbufjax
        from pbufjax import sample
        kw = dict(num_samples=300, num_warmup=200, num_chains=2, seed=9, use_store=False)
        p = sample.sample_posterior("lcdm", ["union3"], ["Om0"], chain_method="parallel", **kw)
        v = sample.sample_posterior("lcdm", ["union3"], ["Om0"], chain_method="vectorized", **kw)
        print("RESULT" + json.dumps({"n": p["config"]["n_devices"],
              "diff": float(np.max(np.abs(p["samples"]["Om0"] - v["samples"]["Om0"])))}))
        """
    )
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", JAX_PLATFORMS="cpu")
    proc = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, env=env,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = json.loads([ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")][-1][6:])
    assert res["n"] == 2
    assert res["diff"] < 1e-8


def test_sample_posterior_checks_the_output_extension_before_sampling(monkeypatch):
    """Before: a wrong ``output`` extension was found only after the whole run."""
    from pbufjax.inference.sampling import run as sampling_run

    def boom(*a, **k):  # pragma: no cover - reached only if the check came too late
        raise AssertionError("sampling started before the output path was checked")

    monkeypatch.setattr(sampling_run, "enable_from_environment", boom)
    with pytest.raises(ValueError, match=r"unknown sample file extension '.csv'.*valid: .npz, .nc"):
        sample.sample_posterior("lcdm", DESI, ["H0", "Om0"], overrides=OVER, output="chains.csv")
