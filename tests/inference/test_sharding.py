"""Sharding over devices and chunking of batch jobs (pbufjax.sharding).

The multi-device checks run in a subprocess with
``XLA_FLAGS=--xla_force_host_platform_device_count=2`` (the flag must be set before
JAX is imported), comparing sharded and unsharded results of the same batch.
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

import pbufjax  # noqa: F401  (float64)
from pbufjax import sharding


def _toy(case, shared):
    x = case["x"]
    return {"s": jnp.sum(jnp.sin(x) ** 2) * shared["a"], "v": x * shared["a"]}


# ---------------------------------------------------------------------------
# devices
# ---------------------------------------------------------------------------


def test_resolve_devices_defaults_and_counts():
    assert sharding.resolve_devices() == jax.devices()
    assert sharding.resolve_devices("all") == jax.devices()
    assert sharding.resolve_devices(1) == jax.devices()[:1]
    assert sharding.resolve_devices([jax.devices()[0]]) == jax.devices()[:1]


@pytest.mark.parametrize("bad", [0, -2])
def test_resolve_devices_rejects_non_positive(bad):
    with pytest.raises(ValueError, match=rf"devices must be >= 1, got {bad}; valid: 1\.\."):
        sharding.resolve_devices(bad)


def test_resolve_devices_rejects_more_than_exist():
    n = len(jax.devices()) + 1
    with pytest.raises(ValueError, match=rf"{n} devices requested but only {n - 1} .*valid: 1\.\.{n - 1}"):
        sharding.resolve_devices(n)


def test_resolve_devices_rejects_bad_types():
    with pytest.raises(ValueError, match="'all', a number or a list"):
        sharding.resolve_devices("gpu0")
    with pytest.raises(TypeError):
        sharding.resolve_devices(True)
    with pytest.raises(TypeError):
        sharding.resolve_devices(2.5)
    with pytest.raises(ValueError, match="empty list"):
        sharding.resolve_devices([])
    with pytest.raises(ValueError, match="not one of the available devices"):
        sharding.resolve_devices(["cpu:7"])


def test_mesh_and_shardings():
    mesh = sharding.batch_mesh(1)
    assert mesh.axis_names == (sharding.BATCH_AXIS,)
    x = sharding.shard_batch(np.arange(6.0), mesh)
    assert x.sharding.spec == jax.sharding.PartitionSpec(sharding.BATCH_AXIS)
    y = sharding.replicate(np.ones(3), mesh)
    assert y.sharding.spec == jax.sharding.PartitionSpec()


# ---------------------------------------------------------------------------
# chunk planning and memory
# ---------------------------------------------------------------------------


def test_plan_chunks_covers_batch_with_equal_device_multiples():
    for n, c, nd in [(1000, 256, 1), (1000, 256, 2), (7, 100, 2), (1, 1, 1), (33, 8, 4), (64, 64, 1)]:
        n_chunks, size = sharding.plan_chunks(n, c, nd)
        assert size % nd == 0
        assert n_chunks * size >= n
        assert size <= max(c, nd) + nd  # never much above the requested chunk
        assert (n_chunks - 1) * size < n  # no empty chunk
    assert sharding.plan_chunks(1000, 256, 1) == (4, 250)


def test_choose_chunk_size_respects_budget_and_devices():
    # 1 MB per case, 10 MB budget -> 10 cases; 3 devices -> 9
    assert sharding.choose_chunk_size(1000, 10**6, 1, budget=10 * 10**6) == 10
    assert sharding.choose_chunk_size(1000, 10**6, 3, budget=10 * 10**6) == 9
    # never below one case per device, never above n (rounded to the devices)
    assert sharding.choose_chunk_size(1000, 10**9, 2, budget=10) == 2
    assert sharding.choose_chunk_size(5, 1, 1, budget=10**9) == 5
    assert sharding.choose_chunk_size(10**7, 1, 1, budget=10**12) == sharding.MAX_CHUNK


def test_memory_budget():
    assert sharding.memory_budget(max_memory=12345) == 12345
    assert sharding.memory_budget() > 10**6  # a fraction of the host memory on CPU
    for bad in (0, -1, "1GB", True):
        with pytest.raises(ValueError, match="max_memory"):
            sharding.memory_budget(max_memory=bad)


def test_case_bytes_counts_intermediates():
    small = sharding.case_bytes(_toy, {"x": np.ones(10)}, {"a": 2.0})
    large = sharding.case_bytes(_toy, {"x": np.ones(10_000)}, {"a": 2.0})
    assert small > 10 * 8  # at least the input
    assert 500 < large / small < 2000  # scales with the case size


def test_case_bytes_sees_inside_loops():
    def looped(case, shared):
        def body(i, c):
            return c + jnp.outer(case["x"], case["x"]).sum()

        return jax.lax.fori_loop(0, 3, body, 0.0)

    b = sharding.case_bytes(looped, {"x": np.ones(100)}, None)
    assert b >= 100 * 100 * 8  # the 100x100 outer product inside the loop body


# ---------------------------------------------------------------------------
# BatchRunner
# ---------------------------------------------------------------------------


def test_runner_matches_python_loop_and_keeps_float64():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(37, 5))
    runner = sharding.BatchRunner(_toy)
    out = runner.run({"x": x}, {"a": 1.5})
    ref = np.array([1.5 * np.sum(np.sin(r) ** 2) for r in x])
    np.testing.assert_allclose(out["s"], ref, rtol=1e-13)
    np.testing.assert_allclose(out["v"], 1.5 * x, rtol=1e-15)
    assert out["s"].dtype == np.float64 and out["s"].shape == (37,)
    assert runner.last_plan["n_chunks"] == 1 and runner.last_plan["per_case_bytes"] > 0


def test_runner_chunks_equal_single_batch_and_pad_correctly():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(23, 4))
    runner = sharding.BatchRunner(_toy)
    full = runner.run({"x": x}, {"a": 1.0})
    chunked = runner.run({"x": x}, {"a": 1.0}, chunk_size=5, progress=True)
    assert runner.last_plan["n_chunks"] == 5 and runner.last_plan["chunk_size"] == 5
    assert runner.last_plan["padding"] == 2
    np.testing.assert_allclose(chunked["s"], full["s"], rtol=1e-14)
    np.testing.assert_array_equal(chunked["v"], full["v"])


def test_runner_chunk_size_from_memory_budget():
    runner = sharding.BatchRunner(_toy)
    x = np.ones((40, 1000))
    per_case = sharding.case_bytes(_toy, {"x": x[0]}, {"a": 1.0})
    out = runner.run({"x": x}, {"a": 1.0}, max_memory=5 * per_case)
    assert runner.last_plan["chunk_size"] <= 5 and runner.last_plan["n_chunks"] >= 8
    assert out["s"].shape == (40,)


def test_runner_bad_input():
    runner = sharding.BatchRunner(_toy)
    with pytest.raises(ValueError, match="empty"):
        runner.run({"x": np.ones((0, 3))}, {"a": 1.0})
    with pytest.raises(ValueError, match="same leading length"):
        runner.run({"x": np.ones((4, 3)), "y": np.ones((5, 3))}, {"a": 1.0})
    with pytest.raises(ValueError, match="chunk_size must be >= 1, got 0"):
        runner.run({"x": np.ones((4, 3))}, {"a": 1.0}, chunk_size=0)
    with pytest.raises(ValueError, match="devices requested"):
        runner.run({"x": np.ones((4, 3))}, {"a": 1.0}, devices=len(jax.devices()) + 1)
    with pytest.raises(ValueError, match="no arrays"):
        runner.run({}, {"a": 1.0})


# ---------------------------------------------------------------------------
# two host devices (subprocess)
# ---------------------------------------------------------------------------

_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    import jax, jax.numpy as jnp, numpy as np
    import pbufjax
    from pbufjax import sharding, batch

    out = {"n_devices": len(jax.devices())}
    def toy(case, shared):
        return jnp.sum(jnp.cos(case["x"]) * shared["a"]) + case["x"][0] ** 3
    x = np.random.default_rng(0).normal(size=(10, 7))
    r = sharding.BatchRunner(toy)
    one = r.run({"x": x}, {"a": np.arange(7.0)}, devices=1)
    two = r.run({"x": x}, {"a": np.arange(7.0)}, devices=2)
    out["toy_plan"] = r.last_plan
    out["toy_max_diff"] = float(np.max(np.abs(one - two)))
    a = sharding.shard_batch(jnp.arange(8.0), sharding.batch_mesh(2))
    out["shards"] = len(a.addressable_shards)
    try:
        sharding.resolve_devices(3)
    except ValueError as e:
        out["too_many"] = str(e)
    # mock fits: the same batch unsharded and sharded over the two devices
    kw = dict(fiducial={"Om0": 0.3}, seed=4, method="newton")
    f1 = batch.fit_mocks("lcdm", ["union3"], ["Om0"], 9, devices=1, **kw)
    f2 = batch.fit_mocks("lcdm", ["union3"], ["Om0"], 9, devices=2, **kw)
    out["mocks_plan"] = f2["plan"]
    out["chi2_1"] = f1["chi2"].tolist()
    out["chi2_2"] = f2["chi2"].tolist()
    out["om_1"] = f1["params"]["Om0"].tolist()
    out["om_2"] = f2["params"]["Om0"].tolist()
    print("RESULT" + json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def two_devices():
    env = dict(os.environ)
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=2").strip()
    env["JAX_PLATFORMS"] = "cpu"
    proc = subprocess.run([sys.executable, "-c", _SCRIPT], check=False, capture_output=True, text=True, env=env,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")][-1]
    return json.loads(line[len("RESULT"):])


@pytest.mark.release_files("desi_dr2", "union3")
def test_two_host_devices_exist(two_devices):
    assert two_devices["n_devices"] == 2
    assert two_devices["shards"] == 2
    assert "3 devices requested but only 2" in two_devices["too_many"]


@pytest.mark.release_files("desi_dr2", "union3")
def test_sharded_toy_equals_unsharded(two_devices):
    assert two_devices["toy_plan"]["n_devices"] == 2
    assert two_devices["toy_plan"]["padding"] == 0
    assert two_devices["toy_max_diff"] <= 1e-13


@pytest.mark.release_files("desi_dr2", "union3")
def test_sharded_mock_fits_equal_unsharded(two_devices):
    # 9 mocks over 2 devices: one padded case; results agree to rounding (different XLA programs)
    assert two_devices["mocks_plan"]["n_devices"] == 2
    assert two_devices["mocks_plan"]["padding"] == 1
    np.testing.assert_allclose(two_devices["chi2_2"], two_devices["chi2_1"], rtol=1e-10, atol=1e-10)
    # parameters agree to the optimizer's tolerance (~1e-7; σ(Ωm) ≈ 0.025)
    np.testing.assert_allclose(two_devices["om_2"], two_devices["om_1"], atol=1e-6)
    assert len(set(np.round(two_devices["chi2_1"], 6))) == 9  # nine different mocks


def test_runner_estimates_the_memory_once_per_argument_shapes(monkeypatch):
    from pbufjax.inference import sharding as home  # the module the runner reads it from

    calls = []
    real = home.case_bytes
    monkeypatch.setattr(home, "case_bytes", lambda *a: calls.append(1) or real(*a))
    runner = sharding.BatchRunner(_toy)
    for n in (8, 12, 8):  # the batch length is not part of one case's shapes
        runner.run({"x": np.ones((n, 10))}, {"a": 2.0})
    assert len(calls) == 1 and runner.last_plan["per_case_bytes"] > 0
    runner.run({"x": np.ones((8, 10_000))}, {"a": 2.0})  # a larger case: estimated again, and larger
    assert len(calls) == 2
    assert runner.last_plan["per_case_bytes"] > 100 * real(_toy, {"x": np.ones(10)}, {"a": 2.0})
