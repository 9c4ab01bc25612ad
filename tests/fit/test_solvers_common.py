"""One test over every registered solver: each runs on the same problems and must agree.

Problems: a bounded Rosenbrock χ² with a residual form (so Gauss-Newton uses it), a correlated
quadratic with a log-space parameter, and one real fit (flat ΛCDM on Union3, Ωm free;
Ωm = 0.356, χ² ≈ 24.0, arXiv:2311.12098). The host form of every solver (``run_optimizer``)
and the batch form of every batch solver (jit and vmap) are run; a solver registered at run
time goes through the same checks.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pbufjax.fit import CompiledChi2, Objective, Status, get_problem, run_optimizer, solve
from pbufjax.fit.solvers import SolverSpec, batch_solvers, get_solver, register_solver, solver_names, unregister_solver
from pbufjax.fit.transforms import from_unit


def rosen_residuals(th, aux=None):
    x, y = th
    return jnp.stack([10.0 * (y - x**2), 1.0 - x]), jnp.asarray(True)


def rosen(th, aux=None):
    w, _ = rosen_residuals(th)
    return jnp.sum(w * w)


QUAD_TARGET = np.array([0.7, 3.0e8])
QUAD_CURV = np.array([[40.0, 6.0], [6.0, 4.0]])


def quad(th, aux=None):
    d = jnp.stack([th[0] - QUAD_TARGET[0], jnp.log10(th[1]) - jnp.log10(QUAD_TARGET[1])])
    return d @ QUAD_CURV @ d + 2.0


PROBLEMS = {
    # name: (compiled χ², lower, upper, start, minimum, χ²_min)
    "rosenbrock": (lambda: CompiledChi2(rosen, ["x", "y"], [False, False], residuals=rosen_residuals),
                   np.array([-2.0, -1.0]), np.array([2.0, 3.0]), np.array([-1.2, 1.0]), np.array([1.0, 1.0]), 0.0),
    "quadratic_log": (lambda: CompiledChi2(quad, ["a", "r"], [False, True]),
                      np.array([-1.0, 1.0e6]), np.array([2.0, 1.0e12]), np.array([0.0, 1.0e7]), QUAD_TARGET, 2.0),
}

#: host options that keep the slow global searches short but still converge
FAST = {"differential_evolution": {"seed": 1, "maxiter": 200}, "basinhopping": {"seed": 1, "niter": 3},
        "custom_basinhopping": {"seed": 1, "niter": 3}, "multistart": {"n_starts": 4}}


def check_host(name: str, problem: str):
    make, lo, hi, x0, xmin, fmin = PROBLEMS[problem]
    obj = Objective(make(), lo, hi)
    out = run_optimizer(obj, x0, name, FAST.get(name))
    assert out["status"] == Status.SUCCESS and out.success, (name, problem, out.message)
    assert isinstance(out.status, Status)
    assert out.fun == pytest.approx(fmin, abs=1e-6)
    scale = np.where(xmin > 1e3, xmin, 1.0)
    np.testing.assert_allclose(out.x / scale, xmin / scale, atol=2e-3)
    assert out["library"] == get_solver(name).library or get_solver(name).library == "custom"
    assert out.method == name and out.time >= 0 and out.n_function_evaluations >= 0


def check_batch(spec: SolverSpec, problem: str):
    make, lo, hi, x0, xmin, fmin = PROBLEMS[problem]
    compiled = make()
    mask = np.asarray(compiled.log_mask, bool)
    res = None if compiled.residuals is None else (lambda th: compiled.residuals(th, None))

    def fit(start):
        return spec.batch(lambda th: compiled.chi2(th, None), start, lo, hi, mask, spec.check_options({}), res)

    r = jax.jit(fit)(x0)
    assert Status.from_code(r.status) is Status.SUCCESS, (spec.name, problem)
    assert float(r.fun) == pytest.approx(fmin, abs=1e-6)
    u = (np.array([0.2, 0.5]), np.array([0.8, 0.3]), np.array([0.5, 0.9]))
    starts = np.array([from_unit(ui, lo, hi, mask) for ui in u])
    rb = jax.jit(jax.vmap(fit))(starts)
    assert rb.x.shape == (3, 2) and rb.fun.shape == (3,)
    np.testing.assert_allclose(np.asarray(rb.fun), fmin, atol=1e-6)


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize("name", solver_names())
def test_every_registered_solver_reaches_the_minimum(name, problem):
    check_host(name, problem)


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize("name", sorted(batch_solvers()))
def test_every_batch_solver_under_jit_and_vmap(name, problem):
    check_batch(batch_solvers()[name], problem)


@pytest.mark.parametrize("name", solver_names())
def test_every_solver_spec_is_complete(name):
    spec = get_solver(name)
    assert spec.name == name and callable(spec.function) and isinstance(spec.library, str)
    assert spec.version  # "unknown" only for custom code
    if spec.options is not None:
        assert spec.tolerance_option is None or spec.tolerance_option in spec.options
        assert spec.check_options({}) == {}
        with pytest.raises(ValueError, match=f"unknown option\\(s\\) \\['no_such_option'\\] for optimizer '{name}'"):
            spec.check_options({"no_such_option": 1})
    if spec.batch is not None:
        assert spec.pure_jax


@pytest.fixture(scope="module")
def union3():
    return get_problem("lcdm", ["sn"], ["Om0"], {"Om0": 0.25})


@pytest.mark.parametrize("name", solver_names())
def test_every_registered_solver_on_a_real_fit(name, union3):
    out = solve(union3, name, FAST.get(name))
    assert out["status"] == "success", out.message
    assert out.x[0] == pytest.approx(0.356, abs=0.003) and out.fun == pytest.approx(24.0, abs=0.1)
    ref = solve(union3, "newton")
    assert out.fun == pytest.approx(ref.fun, abs=1e-6)
    assert out.x[0] == pytest.approx(ref.x[0], abs=1e-4)


def test_a_solver_registered_at_run_time_is_tested_the_same_way(union3):
    from scipy.optimize import minimize

    def nelder_mead(objective, initial_params, bounds=None, options=None):
        return minimize(objective, initial_params, method="Nelder-Mead", bounds=bounds,
                        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000})

    def batch(chi2, x0, lower, upper, log_mask, options, residuals=None):  # reuse the Newton kernel
        return get_solver("newton").batch(chi2, x0, lower, upper, log_mask, options, residuals)

    spec = SolverSpec(name="test_nelder_mead", function=nelder_mead, library="scipy", options={},
                      batch=batch, pure_jax=True)
    register_solver(spec)
    try:
        assert "test_nelder_mead" in solver_names() and "test_nelder_mead" in batch_solvers()
        for problem in PROBLEMS:
            check_host("test_nelder_mead", problem)
            check_batch(spec, problem)
        assert solve(union3, "test_nelder_mead")["fun"] == pytest.approx(solve(union3, "newton").fun, abs=1e-6)
        with pytest.raises(ValueError, match="already registered"):
            register_solver(spec)
    finally:
        unregister_solver("test_nelder_mead")
    assert "test_nelder_mead" not in solver_names()


def test_plain_function_through_optimizers_table_registers_a_host_spec():
    from pbufjax.optimizer import OPTIMIZERS

    OPTIMIZERS["test_plain"] = lambda f, x0, bounds=None, options=None: np.full(len(x0), 0.5)
    try:
        spec = get_solver("test_plain")
        assert spec.library == "custom" and not spec.pure_jax and spec.batch is None and spec.options is None
        assert spec.check_options({"anything": 1}) == {"anything": 1}
    finally:
        del OPTIMIZERS["test_plain"]
    with pytest.raises(ValueError, match="unknown optimizer method 'test_plain'; valid methods: .*newton"):
        get_solver("test_plain")


def test_option_types_are_checked():
    newton = get_solver("newton")
    assert newton.check_options({"maxiter": 20.0, "damping": 0}) == {"maxiter": 20, "damping": 0.0}
    with pytest.raises(TypeError, match="option 'gtol' must be a number"):
        newton.check_options({"gtol": "1e-3"})
    with pytest.raises(TypeError, match="option 'maxiter' must be a number"):
        newton.check_options({"maxiter": True})
    with pytest.raises(ValueError, match="option 'maxiter' must be > 0"):
        newton.check_options({"maxiter": 0})
    with pytest.raises(ValueError, match="option 'damping' must be >= 0"):
        newton.check_options({"damping": -1.0})
    with pytest.raises(ValueError, match=r"unknown fit option\(s\) \['memory_size'\] for method 'newton'"):
        newton.check_options({"memory_size": 3}, kind="fit ", role="method")
    assert get_solver("minimize").check_options({"polish": None, "method": "TNC"}) == {"polish": None,
                                                                                        "method": "TNC"}
