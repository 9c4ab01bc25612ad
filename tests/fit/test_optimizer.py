"""Optimizers: pure-JAX bounded L-BFGS, the registry, honest statuses, ParameterOptimizer."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pbufjax import optimizer as O
from pbufjax.optimizer import (
    OPTIMIZERS,
    CompiledChi2,
    Objective,
    ParameterOptimizer,
    fit_lbfgs,
    optimize_cmb_parameters,
    run_optimizer,
)

# ---------------------------------------------------------------------------
# analytic objectives
# ---------------------------------------------------------------------------

TARGET = np.array([1.3, -0.4])
CURV = np.array([[4.0, 1.0], [1.0, 2.0]])


def quad(x, aux=None):
    d = x - TARGET
    return d @ CURV @ d + 3.0


def rosen(th, aux=None):
    x, y, r = th
    # Rosenbrock plus a weakly constrained log-space parameter r (minimum at r = 1e9)
    return 100 * (y - x**2) ** 2 + (1 - x) ** 2 + 1e-2 * (jnp.log10(r) - 9.0) ** 2


@pytest.fixture(scope="module")
def rosen_compiled():
    return CompiledChi2(rosen, ["x", "y", "r"], [False, False, True])


ROSEN_LO = np.array([-2.0, -2.0, 1e6])
ROSEN_HI = np.array([3.0, 3.0, 1e12])
ROSEN_X0 = np.array([-1.0, 1.0, 1e7])


def test_fit_lbfgs_interior_optimum_float64():
    r = jax.jit(lambda x0: fit_lbfgs(quad, x0, jnp.array([-5.0, -5.0]), jnp.array([5.0, 5.0])))(jnp.zeros(2))
    np.testing.assert_allclose(r.x, TARGET, atol=1e-7)
    assert r.x.dtype == jnp.float64 and r.fun.dtype == jnp.float64
    assert float(r.fun) == pytest.approx(3.0, abs=1e-12)
    assert int(r.status) == 0 and O.lbfgs_status_name(r.status) == "success"
    assert int(r.n_eval) >= int(r.n_iter) > 0


def test_fit_lbfgs_respects_bounds_and_log_space():
    lo, hi = jnp.array([-5.0, 0.0]), jnp.array([1.0, 5.0])  # both optima outside the box
    r = fit_lbfgs(quad, jnp.array([0.0, 1.0]), lo, hi)
    assert float(r.x[0]) <= 1.0 and float(r.x[1]) >= 0.0
    assert float(r.x[0]) == pytest.approx(1.0, abs=2e-3) and float(r.x[1]) == pytest.approx(0.0, abs=2e-3)
    # log-space parameter: minimum of (log10 r - 9)^2 at r = 1e9 from r0 = 1e6.5
    f = lambda th: (jnp.log10(th[0]) - 9.0) ** 2
    r = fit_lbfgs(f, jnp.array([10**6.5]), jnp.array([1e6]), jnp.array([1e12]), log_mask=jnp.array([True]))
    assert float(jnp.log10(r.x[0])) == pytest.approx(9.0, abs=1e-5)


def test_fit_lbfgs_vmap_over_starts_and_data():
    lo, hi = jnp.full(2, -5.0), jnp.full(2, 5.0)
    starts = jnp.array([[0.0, 0.0], [4.0, -4.0], [-3.0, 2.0]])
    r = jax.jit(jax.vmap(lambda x0: fit_lbfgs(quad, x0, lo, hi)))(starts)
    np.testing.assert_allclose(r.x, np.tile(TARGET, (3, 1)), atol=1e-6)
    # batch over "data": each row has its own target
    targets = jnp.array([[0.5, 0.5], [-1.0, 2.0]])

    def one(t):
        return fit_lbfgs(lambda x: jnp.sum((x - t) ** 2), jnp.zeros(2), lo, hi)

    r = jax.vmap(one)(targets)
    np.testing.assert_allclose(r.x, targets, atol=1e-6)


def test_fit_lbfgs_honest_status():
    lo, hi = jnp.full(2, -5.0), jnp.full(2, 5.0)
    r = fit_lbfgs(lambda x: jnp.nan * jnp.sum(x), jnp.zeros(2), lo, hi, maxiter=20)
    assert O.lbfgs_status_name(r.status) == "failed"
    r = fit_lbfgs(lambda x: rosen(jnp.append(x, 1e9)), jnp.array([-1.5, 2.0]), lo, hi, maxiter=3)
    assert O.lbfgs_status_name(r.status) == "max_iter" and int(r.n_iter) == 3


@pytest.mark.parametrize("method", ["minimize", "lbfgs", "differential_evolution", "basinhopping", "multistart",
                                    "newton", "gauss_newton"])
def test_every_builtin_optimizer_reaches_the_minimum(rosen_compiled, method):
    obj = Objective(rosen_compiled, ROSEN_LO, ROSEN_HI)
    opts = {"seed": 3} if method in ("differential_evolution", "basinhopping", "multistart") else None
    if method == "basinhopping":
        opts["niter"] = 5
    out = run_optimizer(obj, ROSEN_X0, method, opts)
    assert out["status"] == "success" and out["success"] is True
    assert out["fun"] < 1e-8
    np.testing.assert_allclose(out["x"][:2], [1.0, 1.0], atol=1e-4)
    assert math.log10(out["x"][2]) == pytest.approx(9.0, abs=1e-3)
    assert out["n_function_evaluations"] > 0 and out["time"] > 0
    assert out["bounds_reached"] == []


def test_differential_evolution_evaluates_whole_population_per_call(rosen_compiled):
    obj = Objective(rosen_compiled, ROSEN_LO, ROSEN_HI)
    out = run_optimizer(obj, ROSEN_X0, "differential_evolution", {"seed": 1, "popsize": 10, "polish": False})
    # one vmapped call per generation: far fewer calls than evaluations
    assert obj.nbatch >= 2 and obj.nfev >= 10 * obj.nbatch
    assert out["fun"] < 1e-2


def test_multistart_reports_spread(rosen_compiled):
    obj = Objective(rosen_compiled, ROSEN_LO, ROSEN_HI)
    out = run_optimizer(obj, ROSEN_X0, "multistart", {"n_starts": 6, "seed": 0})
    ms = out["extra"]["multistart"]
    assert ms["n_starts"] == 6 and len(ms["chi2_values"]) == 6
    assert ms["n_converged"] >= 1 and ms["n_at_best"] >= 1
    assert ms["chi2_min"] == pytest.approx(out["fun"])
    assert set(ms["param_std_at_best"]) == {"x", "y", "r"}


def test_bounds_reached_reported():
    c = CompiledChi2(quad, ["a", "b"])
    obj = Objective(c, np.array([-5.0, 0.0]), np.array([1.0, 5.0]))
    out = run_optimizer(obj, np.array([0.0, 1.0]), "minimize")
    assert out["status"] == "success"
    assert sorted(out["bounds_reached"]) == ["a", "b"]


def test_fit_newton_converges_quadratically_and_returns_the_hessian():
    lo, hi = jnp.full(2, -5.0), jnp.full(2, 5.0)
    r = jax.jit(lambda x0: O.fit_newton(quad, x0, lo, hi))(jnp.array([4.0, 4.0]))
    # default tolerance: projected gradient < 1e-3 in unit-box coordinates
    assert O.lbfgs_status_name(r.status) == "success" and float(r.grad_norm) < 1e-3 and int(r.n_iter) <= 5
    assert float(r.fun) - 3.0 < 1e-7
    np.testing.assert_allclose(r.x, TARGET, atol=1e-4)
    r = O.fit_newton(quad, jnp.array([4.0, 4.0]), lo, hi, gtol=1e-10)
    np.testing.assert_allclose(r.x, TARGET, atol=1e-11)
    assert int(r.n_iter) <= 12  # damping shrinks geometrically, then Newton steps are exact on a quadratic
    h_phys = O.unit_hessian_to_physical(r.hess_unit, r.grad_unit, r.x, lo, hi, np.zeros(2, bool))
    np.testing.assert_allclose(h_phys, 2 * CURV, rtol=1e-10)
    # the chain rule for a log-space parameter, away from the minimum (gradient term included)
    f = lambda th: (jnp.log10(th[0]) - 9.0) ** 2 + th[0] * 1e-12 + 0.1 * th[1] ** 2
    lo2, hi2, mask = np.array([1e6, -1.0]), np.array([1e12, 1.0]), np.array([True, False])
    x = np.array([3e7, 0.2])
    fu = lambda u: f(O.from_unit(u, lo2, hi2, mask, jnp))
    u = O.to_unit(x, lo2, hi2, mask)
    hp = O.unit_hessian_to_physical(jax.hessian(fu)(u), jax.grad(fu)(u), x, lo2, hi2, mask)
    np.testing.assert_allclose(hp, jax.hessian(f)(jnp.asarray(x)), rtol=1e-8)


def test_unit_physical_hessian_round_trip_and_predicted_gain():
    f = lambda th: (jnp.log10(th[0]) - 9.0) ** 2 + 0.1 * th[1] ** 2 + th[0] * th[1] * 1e-9  # noqa: E731
    lo, hi, mask = np.array([1e6, -1.0]), np.array([1e12, 1.0]), np.array([True, False])
    x = np.array([3e7, 0.2])
    u = O.to_unit(x, lo, hi, mask)
    fu = lambda v: f(O.from_unit(v, lo, hi, mask, jnp))  # noqa: E731
    hu = O.physical_hessian_to_unit(jax.hessian(f)(jnp.asarray(x)), jax.grad(f)(jnp.asarray(x)), x, lo, hi, mask)
    np.testing.assert_allclose(hu, jax.hessian(fu)(jnp.asarray(u)), rtol=1e-10)
    # Newton decrement on a quadratic: exactly the χ² above the minimum (curvatures above FLAT_CURVATURE)
    h = 20 * CURV
    u0 = np.array([0.3, 0.7])
    g = h @ (u0 - np.array([0.5, 0.5]))
    assert O.predicted_gain(u0, g, h) == pytest.approx(0.5 * g @ np.linalg.solve(h, g))
    # a flat direction counts its gradient over the whole (unit) range; a held bound counts nothing
    assert O.predicted_gain(np.array([0.5]), np.array([1e-3]), np.array([[0.0]])) == pytest.approx(1e-3)
    assert O.predicted_gain(np.array([0.0]), np.array([5.0]), np.array([[1.0]])) == 0.0


def test_fit_newton_bounds_and_vmap():
    lo, hi = jnp.array([-5.0, 0.0]), jnp.array([1.0, 5.0])
    r = O.fit_newton(quad, jnp.array([0.0, 1.0]), lo, hi)
    np.testing.assert_allclose(r.x, [1.0, 0.0], atol=1e-12)  # both at their bounds, exactly
    assert O.lbfgs_status_name(r.status) == "success" and float(r.grad_norm) < 1e-6
    starts = jnp.array([[0.0, 0.5], [-4.0, 4.0], [0.9, 0.1]])
    rs = jax.vmap(lambda x0: O.fit_newton(quad, x0, lo, hi))(starts)
    np.testing.assert_allclose(rs.x, np.tile([1.0, 0.0], (3, 1)), atol=1e-12)


def test_nan_objective_is_never_success():
    c = CompiledChi2(lambda x, aux: jnp.nan * jnp.sum(x), ["a", "b"])
    for method in ("minimize", "lbfgs", "newton"):
        out = run_optimizer(Objective(c, np.zeros(2), np.ones(2)), np.full(2, 0.5), method)
        assert out["status"] == "failed" and out["success"] is False


def test_max_iter_status(rosen_compiled):
    obj = Objective(rosen_compiled, ROSEN_LO, ROSEN_HI)
    out = run_optimizer(obj, ROSEN_X0, "minimize", {"maxiter": 2})
    assert out["status"] == "max_iter"


def test_custom_optimizer_registration_api_example(rosen_compiled):
    """The API reference's example: OPTIMIZERS["custom_method"] = custom_optimizer."""
    from scipy.optimize import minimize

    def custom_optimizer(objective_func, initial_params, bounds=None, options=None):
        return minimize(objective_func, initial_params, method="Nelder-Mead", bounds=bounds,
                        options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 20000, **(options or {})})

    try:
        OPTIMIZERS["custom_method"] = custom_optimizer
        obj = Objective(CompiledChi2(quad, ["a", "b"]), np.full(2, -5.0), np.full(2, 5.0))
        out = run_optimizer(obj, np.zeros(2), "custom_method", {"maxfev": 50000})
        assert out["status"] == "success" and out["library"] == "custom"
        np.testing.assert_allclose(out["x"], TARGET, atol=1e-5)
        # a bare array is accepted as a result too
        OPTIMIZERS["custom_method"] = lambda f, x0, bounds=None, options=None: np.full(2, 0.5)
        out = run_optimizer(obj, np.zeros(2), "custom_method")
        assert out["fun"] == pytest.approx(quad(np.zeros(2)))  # u = 0.5 is the box centre
    finally:
        OPTIMIZERS.pop("custom_method", None)


def test_registry_errors(rosen_compiled):
    obj = Objective(rosen_compiled, ROSEN_LO, ROSEN_HI)
    with pytest.raises(ValueError, match="unknown optimizer method 'nope'; valid methods: .*basinhopping.*minimize"):
        run_optimizer(obj, ROSEN_X0, "nope")
    with pytest.raises(ValueError, match="unknown option\\(s\\) \\['bogus'\\] for optimizer 'minimize'"):
        run_optimizer(obj, ROSEN_X0, "minimize", {"bogus": 1})
    with pytest.raises(ValueError, match="unknown polish"):
        run_optimizer(obj, ROSEN_X0, "minimize", {"polish": "bfgs"})
    with pytest.raises(ValueError, match="unknown scipy method"):
        run_optimizer(obj, ROSEN_X0, "minimize", {"method": "BFGS-X"})
    with pytest.raises(ValueError, match="already registered"):
        O.register_optimizer("minimize", lambda *a, **k: None)
    with pytest.raises(TypeError):
        O.register_optimizer("x", 3)
    assert "custom_basinhopping" in OPTIMIZERS  # the reference's configuration name


def test_unit_box_round_trip():
    lo, hi, mask = np.array([20.0, 1e6]), np.array([150.0, 1e12]), np.array([False, True])
    x = np.array([67.4, 1e9])
    u = O.to_unit(x, lo, hi, mask)
    np.testing.assert_allclose(u, [(67.4 - 20) / 130, 0.5])
    np.testing.assert_allclose(O.from_unit(u, lo, hi, mask), x, rtol=1e-14)


# ---------------------------------------------------------------------------
# ParameterOptimizer and optimize_cmb_parameters on the real likelihoods
# ---------------------------------------------------------------------------


def test_parameter_optimizer_validation():
    opt = ParameterOptimizer()
    assert opt.validate_optimization_request("pbuf", ["k_sat", "alpha"]) is True
    assert opt.get_optimization_bounds("pbuf", "alpha") == (1e-6, 1e-2)
    with pytest.raises(ValueError, match="'k_sat' cannot be optimized for model 'lcdm'; valid parameters"):
        opt.validate_optimization_request("lcdm", ["k_sat"])
    with pytest.raises(ValueError, match="empty"):
        opt.validate_optimization_request("lcdm", [])
    with pytest.raises(ValueError, match="unknown model"):
        opt.get_optimization_bounds("xcdm", "H0")
    with pytest.raises(ValueError, match="unknown optimizer method"):
        ParameterOptimizer({"method": "simplex"})


def test_optimize_parameters_on_union3():
    opt = ParameterOptimizer()
    r = opt.optimize_parameters("lcdm", ["sn"], ["Om0"], starting_values={"Om0": 0.25}, covariance_scaling=1.0)
    assert r.model == "lcdm" and r.convergence_status == "success"
    # Union3 alone: Ωm = 0.356 (+0.028/-0.026), χ²_min ≈ 24.0 (arXiv:2311.12098)
    assert r.optimized_params["Om0"] == pytest.approx(0.356, abs=0.003)
    assert r.final_chi2 == pytest.approx(24.0, abs=0.1)
    assert r.chi2_improvement > 0 and r["chi2_improvement"] == r.chi2_improvement
    assert r.starting_params == {"Om0": 0.25}
    assert r.optimizer_info["library"] == "scipy" and r.optimizer_info["method"] == "minimize"
    assert r.n_function_evaluations > 0 and r.optimization_time > 0 and r.bounds_reached == []
    assert r.covariance_scaling == 1.0 and r.metadata["datasets"] == ["union3"]
    # scaling the covariance by 2 halves the χ² at the same best fit
    r2 = opt.optimize_parameters("lcdm", ["sn"], ["Om0"], starting_values={"Om0": 0.25}, covariance_scaling=2.0)
    assert r2.final_chi2 == pytest.approx(r.final_chi2 / 2, rel=1e-6)
    assert r2.optimized_params["Om0"] == pytest.approx(r.optimized_params["Om0"], abs=1e-5)


def test_optimize_parameters_bad_input():
    opt = ParameterOptimizer()
    with pytest.raises(KeyError, match="unknown dataset 'nope'"):
        opt.optimize_parameters("lcdm", ["nope"], ["Om0"])
    with pytest.raises(ValueError, match="outside its bounds"):
        opt.optimize_parameters("lcdm", ["sn"], ["Om0"], starting_values={"Om0": 0.995})
    with pytest.raises(ValueError, match="reversed"):
        opt.optimize_parameters("lcdm", ["sn"], ["Om0"], optimizer_config={"bounds": {"Om0": (0.5, 0.1)}})
    with pytest.raises(TypeError, match="'Om0' must be a real number"):
        opt.optimize_parameters("lcdm", ["sn"], ["Om0"], starting_values={"Om0": "0.3"})
    with pytest.raises(ValueError, match="covariance_scaling"):
        opt.optimize_parameters("lcdm", ["sn"], ["Om0"], covariance_scaling=-1.0)


def test_optimize_cmb_parameters_fields():
    r = optimize_cmb_parameters("lcdm", ["H0", "Om0"], starting_params={"H0": 70.0, "Om0": 0.3},
                                covariance_scaling=1.2)
    assert r.model == "lcdm"
    d = r.convergence_diagnostics
    assert d["function_tolerance_reached"] is True and d["n_iterations"] > 0 and d["final_gradient_norm"] < 1e-3
    # Planck 2018 priors with ω_b fixed at 0.02237: H0 ≈ 67-68, Ωm ≈ 0.31-0.32
    assert 66.0 < r.optimized_params["H0"] < 69.5 and 0.30 < r.optimized_params["Om0"] < 0.33
    assert r.chi2_improvement > 0 and r.cmb_chi2 >= 0
    assert r.parameter_bounds_info["bounds_used"]["H0"] == (20.0, 150.0)
    prov = r.provenance
    assert prov["covariance_scaling"] == 1.2 and prov["optimizer_method"] == "minimize"
    assert prov["starting_values"] == {"H0": 70.0, "Om0": 0.3} and prov["timestamp"].endswith("Z")
    assert "scipy" in prov["library_version"]
    with pytest.raises(ValueError, match="not a CMB dataset"):
        optimize_cmb_parameters("lcdm", ["H0"], dataset="sn")


@pytest.mark.slow
def test_vmap_fit_newton_over_mock_data_vectors():
    """The building block of batched mock fits: one compiled Newton fit, vmapped over data."""
    from pbufjax.likelihoods import build_likelihood

    lik = build_likelihood("lcdm", ["desi_dr2"], ["H0", "Om0"], {"Obh2": 0.02237})
    obs = np.asarray(lik.observations["desi_dr2"])
    chol = lik.cholesky["desi_dr2"]
    mocks = obs + (chol @ np.random.default_rng(0).normal(size=(obs.size, 4))).T
    lo, hi, x0 = jnp.array([20.0, 0.01]), jnp.array([150.0, 0.99]), jnp.array([67.4, 0.315])

    def fit_one(d):
        return O.fit_newton(lambda th: lik.chi2_data(th, {"desi_dr2": d}), x0, lo, hi)

    batch = jax.jit(jax.vmap(fit_one))(jnp.asarray(mocks))
    assert np.all(np.asarray(batch.status) == 0)
    for i in (0, 3):
        single = O.fit_newton(lambda th: lik.chi2_data(th, {"desi_dr2": mocks[i]}), x0, lo, hi)
        np.testing.assert_allclose(batch.x[i], single.x, rtol=1e-8)
    assert np.std(np.asarray(batch.x)[:, 1]) > 1e-3  # different data, different best fits
