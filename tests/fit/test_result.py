"""The one solver result type and its status enum."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pbufjax import optimizer as O
from pbufjax.fit.result import SolverResult, Status, host_result
from pbufjax.runtime import dumps


def test_status_is_a_str_enum_with_codes():
    assert [s.value for s in Status] == ["success", "max_iter", "failed"]
    assert [s.code for s in Status] == [0, 1, 2]
    assert all(Status.from_code(s.code) is s for s in Status)
    assert Status.from_code(np.int32(2)) is Status.FAILED and Status.from_code(jnp.int32(1)) is Status.MAX_ITER
    assert Status.SUCCESS == "success" and isinstance(Status.FAILED, str)
    assert f"{Status.MAX_ITER}" == "max_iter" and str(Status.FAILED) == "failed"
    assert json.loads(dumps({"s": Status.SUCCESS})) == {"s": "success"}
    assert Status.coerce("failed") is Status.FAILED and Status.coerce("nope") is None and Status.coerce(0) is None
    assert O.STATUS_SUCCESS is Status.SUCCESS and O.lbfgs_status_name(1) is Status.MAX_ITER


def test_old_result_names_are_the_one_type():
    assert O.LBFGSResult is O.NewtonResult is O.OptimizerResult is SolverResult


def test_kernel_result_is_a_pytree_that_vmap_stacks():
    f = lambda x: jnp.sum((x - jnp.array([1.0, 2.0])) ** 2)
    starts = jnp.array([[0.5, 0.5], [4.0, 4.0], [2.0, 1.0]])
    r = jax.jit(jax.vmap(lambda x0: O.fit_newton(f, x0, jnp.zeros(2), jnp.full(2, 5.0))))(starts)
    assert isinstance(r, SolverResult)
    assert r.x.shape == (3, 2) and r.fun.shape == (3,) and r.status.shape == (3,) and r.hess_unit.shape == (3, 2, 2)
    np.testing.assert_allclose(r.x, np.tile([1.0, 2.0], (3, 1)), atol=1e-5)  # gtol = PGTOL
    assert [Status.from_code(s) for s in r.status] == [Status.SUCCESS] * 3
    leaves = jax.tree_util.tree_leaves(r)
    assert all(isinstance(v, jax.Array) for v in leaves)


def test_host_result_reads_like_the_old_dicts():
    r = host_result([0.5, 0.25], 3.0, "success", "ok", 7, library="scipy", method="minimize", jac=[0.0, 1e-9],
                    polish={"status": "success"})
    assert r.success and r.status is Status.SUCCESS and r.nit == 7 and r["n_iterations"] == 7
    assert r["jac"] is r.grad_unit and r.extra == {"polish": {"status": "success"}}
    assert r.get("hess_unit") is None and r.get("hess_unit", 5) == 5 and "hess_unit" not in r
    with pytest.raises(KeyError):
        r["no_such_key"]
    d = dict(r)
    assert d["status"] == "success" and d["library"] == "scipy" and d["success"] is True
    r2 = r.replace(status=Status.FAILED, gradient_norm=0.1)
    assert r2.status is Status.FAILED and r2.grad_norm == 0.1 and r.status is Status.SUCCESS
    assert not r2.success
