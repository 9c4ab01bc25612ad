"""Campaigns that survive (pbufjax.runtime.campaign, BatchRunner(store=...), output=/resume= of the batch jobs).

A kill is simulated in-process by making the chunk writer raise after k chunks (the chunks
before it are on disk, the one in flight is lost), then the run is resumed and compared bit
for bit with an uninterrupted one; a real ``SIGKILL`` of the command line is the last test.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tracemalloc

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pbufjax
from pbufjax import cli
from pbufjax.inference import batch
from pbufjax.inference.sharding import BatchRunner
from pbufjax.runtime.campaign import MANIFEST, Campaign, CampaignError


class Killed(Exception):
    """Stands for the process being killed between two chunks."""


@pytest.fixture
def kill_after(monkeypatch):
    """``kill_after(k)``: the next campaign raises :class:`Killed` when it is about to write its chunk k+1."""

    def arm(k: int):
        original = Campaign.write
        count = {"n": 0}

        def write(self, i, leaves):
            if count["n"] >= k:
                raise Killed(f"killed before chunk {i}")
            count["n"] += 1
            original(self, i, leaves)

        monkeypatch.setattr(Campaign, "write", write)
        return lambda: monkeypatch.setattr(Campaign, "write", original)

    return arm


def _toy(case, shared):
    x = case["x"]
    return {"s": jnp.sum(jnp.sin(x) ** 2) * shared["a"], "v": x * shared["a"], "i": jnp.int32(3)}


def _cases(n=23):
    return {"x": np.random.default_rng(1).normal(size=(n, 4))}


# ---------------------------------------------------------------------------
# the folder
# ---------------------------------------------------------------------------


def test_campaign_round_trip_and_manifest(tmp_path):
    c = Campaign(tmp_path / "c", {"kind": "t", "seed": 1})
    assert not (tmp_path / "c").exists()  # nothing touched before begin
    assert c.begin(n=5, chunk_size=2, n_devices=1, info={"n_processes": 1}) == 2
    assert c.n_chunks == 3
    for i in range(3):
        a, b = c.rows(i)
        c.write(i, [np.arange(a, b), np.ones((b - a, 2))])
    c.finish({"time": 1.0})
    doc = json.loads((tmp_path / "c" / MANIFEST).read_text())
    assert doc["complete"] and doc["config"] == {"kind": "t", "seed": 1} and doc["plan"]["chunk_size"] == 2
    assert doc["info"] == {"n_processes": 1, "time": 1.0}
    again = Campaign(tmp_path / "c", {"seed": 1, "kind": "t"}, resume=True)
    assert again.begin(n=5, chunk_size=4) == 2 and again.resumed == 3
    idx, ones = again.assemble()
    assert idx.tolist() == [0, 1, 2, 3, 4] and ones.shape == (5, 2)
    assert not list((tmp_path / "c").glob(".pbufjax-tmp-*"))  # no temporary file left behind


def test_campaign_refusals(tmp_path):
    folder = tmp_path / "c"
    c = Campaign(folder, {"kind": "t", "seed": 1, "n": 4})
    c.begin(n=4, chunk_size=2)
    c.write(0, [np.zeros(2)])
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(CampaignError, match="holds a campaign from an earlier run.*nothing was overwritten"):
        Campaign(folder, {"kind": "t", "seed": 1, "n": 4}).check()
    with pytest.raises(CampaignError, match=r"another configuration \(seed: 1 -> 2\)"):
        Campaign(folder, {"kind": "t", "seed": 2, "n": 4}, resume=True).begin(n=4, chunk_size=2)
    with pytest.raises(CampaignError, match="chunk size 3: it was run with chunks of 2"):
        Campaign(folder, {"kind": "t", "seed": 1, "n": 4}, resume=True).begin(n=4, chunk_size=3, explicit=True)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # nothing written by the refusals
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("x")
    with pytest.raises(CampaignError, match="not a campaign folder"):
        Campaign(other, {"kind": "t"}, resume=True).check()
    empty = Campaign(tmp_path / "fresh", {"kind": "t"}, resume=True)  # resume of nothing: starts
    assert empty.begin(n=3, chunk_size=2) == 2 and empty.resumed == 0


def test_campaign_corruption_is_refused(tmp_path):
    folder = tmp_path / "c"
    c = Campaign(folder, {"kind": "t"})
    c.begin(n=4, chunk_size=2)
    c.write(0, [np.arange(2.0)])
    c.write(1, [np.arange(2.0)])
    chunk = c.chunk_path(1)
    data = bytearray(chunk.read_bytes())
    data[len(data) // 3] ^= 0xFF  # a flipped byte inside an array: the zip CRC catches it
    chunk.write_bytes(bytes(data))
    with pytest.raises(CampaignError, match="chunk file chunk-000001.npz is corrupted"):
        Campaign(folder, {"kind": "t"}, resume=True).begin(n=4, chunk_size=2)
    chunk.write_bytes(bytes(data[:100]))  # truncated
    with pytest.raises(CampaignError, match="corrupted"):
        Campaign(folder, {"kind": "t"}, resume=True).begin(n=4, chunk_size=2)
    (folder / MANIFEST).write_text("{not json")
    with pytest.raises(CampaignError, match="manifest.json is corrupted"):
        Campaign(folder, {"kind": "t"}, resume=True).check()
    # a chunk copied from a campaign of another configuration
    o = Campaign(tmp_path / "o", {"kind": "other"})
    o.begin(n=4, chunk_size=2)
    o.write(0, [np.arange(2.0)])
    d = Campaign(tmp_path / "d", {"kind": "t"})
    d.begin(n=4, chunk_size=2)
    d.chunk_path(0).write_bytes(o.chunk_path(0).read_bytes())
    with pytest.raises(CampaignError, match="another configuration or chunk plan"):
        Campaign(tmp_path / "d", {"kind": "t"}, resume=True).begin(n=4, chunk_size=2)


# ---------------------------------------------------------------------------
# the runner
# ---------------------------------------------------------------------------


def test_runner_resumes_after_a_kill_bit_for_bit(tmp_path, kill_after):
    cases, shared = _cases(), {"a": 1.5}
    runner = BatchRunner(_toy)
    ref = runner.run(cases, shared, chunk_size=5)
    disarm = kill_after(2)
    with pytest.raises(Killed):
        runner.run(cases, shared, chunk_size=5, store=Campaign(tmp_path / "c", {"kind": "toy"}))
    disarm()
    assert sorted(p.name for p in (tmp_path / "c").glob("chunk-*")) == ["chunk-000000.npz", "chunk-000001.npz"]
    calls = []
    counted = BatchRunner(_toy)
    inner = counted._batched

    def counting(c, s):
        if not isinstance(c["x"], jax.core.Tracer):  # a run, not the trace of the output structure
            calls.append(len(c["x"]))
        return inner(c, s)

    counted._batched = counting
    out = counted.run(cases, shared, store=Campaign(tmp_path / "c", {"kind": "toy"}, resume=True))
    assert calls == [5, 5, 5]  # only chunks 2, 3, 4 were recomputed, with the recorded chunk size
    assert counted.last_plan["resumed_chunks"] == 2 and counted.last_plan["chunk_size"] == 5
    for k in ("s", "v", "i"):
        np.testing.assert_array_equal(out[k], ref[k])
        assert out[k].dtype == ref[k].dtype
    # resuming a complete campaign computes nothing and returns the same arrays
    calls.clear()
    again = counted.run(cases, shared, store=Campaign(tmp_path / "c", {"kind": "toy"}, resume=True))
    assert calls == [] and np.array_equal(again["s"], ref["s"])


def test_runner_memory_is_one_chunk_whatever_n(tmp_path):
    """With a store and collect=False the host holds one chunk of outputs: 2000 cases x 64 kB of
    outputs (128 MB in all) run in chunks of 10 cases (640 kB) peak under 8 MB of Python allocations."""
    width = 8000

    def wide(case, shared):
        return {"row": jnp.full((width,), case["x"]) * shared}

    n = 2000
    cases = {"x": np.arange(n, dtype=np.float64)}
    runner = BatchRunner(wide)
    runner.run({"x": cases["x"][:10]}, 2.0, chunk_size=10)  # compile outside the measurement
    store = Campaign(tmp_path / "wide", {"kind": "wide"})
    tracemalloc.start()
    try:
        assert runner.run(cases, 2.0, chunk_size=10, store=store, collect=False) is None
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert runner.last_plan["n_chunks"] == 200
    assert peak < 8e6, peak
    first = store.read(0)[0]
    np.testing.assert_array_equal(first[3], np.full(width, 6.0))
    start, last = list(store.iter_chunks())[-1]
    assert start == n - 10 and last[0][-1, 0] == 2.0 * (n - 1)


# ---------------------------------------------------------------------------
# the batch jobs
# ---------------------------------------------------------------------------

_MOCKS = {"fiducial": {"Om0": 0.3}, "seed": 3, "chunk_size": 8}


@pytest.mark.release_files("union3")
def test_fit_mocks_killed_and_resumed_equals_uninterrupted(tmp_path, kill_after):
    ref = batch.fit_mocks("lcdm", ["union3"], ["Om0"], 30, **_MOCKS)
    disarm = kill_after(2)
    with pytest.raises(Killed):
        batch.fit_mocks("lcdm", ["union3"], ["Om0"], 30, output=tmp_path / "m", **_MOCKS)
    disarm()
    with pytest.raises(CampaignError, match="resume it"):  # no silent overwrite
        batch.fit_mocks("lcdm", ["union3"], ["Om0"], 30, output=tmp_path / "m", **_MOCKS)
    r = batch.fit_mocks("lcdm", ["union3"], ["Om0"], 30, output=tmp_path / "m", resume=True, **_MOCKS)
    assert r["resumed_chunks"] == 2 and r["output"] == str(tmp_path / "m")
    assert r["n_processes"] == 1 and r["n_devices"] == r["plan"]["n_devices"]
    for k in ("chi2", "status", "n_iter", "n_eval", "chi2_fiducial"):
        np.testing.assert_array_equal(r[k], ref[k])
    np.testing.assert_array_equal(r["params"]["Om0"], ref["params"]["Om0"])
    doc = json.loads((tmp_path / "m" / MANIFEST).read_text())
    cfg = doc["config"]
    assert doc["complete"] and cfg["kind"] == "fit_mocks" and cfg["seed"] == 3 and cfg["n"] == 30
    assert cfg["model"] == "lcdm" and cfg["datasets"] == ["union3"] and cfg["free_params"] == ["Om0"]
    assert cfg["options"]["method"] == "gauss_newton" and len(cfg["data_sha256"]) == 64
    assert cfg["package_version"] == pbufjax.__version__ and cfg["fiducial"]["Om0"] == 0.3
    with pytest.raises(CampaignError, match=r"another configuration \(.*n: 30 -> 31"):
        batch.fit_mocks("lcdm", ["union3"], ["Om0"], 31, output=tmp_path / "m", resume=True, **_MOCKS)
    with pytest.raises(ValueError, match="resume=True needs output="):
        batch.fit_mocks("lcdm", ["union3"], ["Om0"], 30, resume=True, **_MOCKS)


@pytest.mark.release_files("union3")
def test_profile_and_multistart_resume(tmp_path, kill_after):
    grid = {"Om0": np.linspace(0.28, 0.4, 9)}
    ref = batch.profile_likelihood("lcdm", ["union3"], ["Om0"], grid, chunk_size=2)
    disarm = kill_after(1)
    with pytest.raises(Killed):
        batch.profile_likelihood("lcdm", ["union3"], ["Om0"], grid, chunk_size=2, output=tmp_path / "p")
    disarm()
    p = batch.profile_likelihood("lcdm", ["union3"], ["Om0"], grid, output=tmp_path / "p", resume=True)
    assert p["resumed_chunks"] == 1
    np.testing.assert_array_equal(p["chi2"], ref["chi2"])
    with pytest.raises(CampaignError, match="another configuration.*grid"):
        batch.profile_likelihood("lcdm", ["union3"], ["Om0"], {"Om0": grid["Om0"][:8]}, output=tmp_path / "p",
                                 resume=True)
    kw = {"seed": 2, "chunk_size": 2}
    m_ref = batch.multistart("lcdm", ["union3"], ["Om0"], 6, **kw)
    disarm = kill_after(2)
    with pytest.raises(Killed):
        batch.multistart("lcdm", ["union3"], ["Om0"], 6, output=tmp_path / "s", **kw)
    disarm()
    m = batch.multistart("lcdm", ["union3"], ["Om0"], 6, output=tmp_path / "s", resume=True, **kw)
    assert m["resumed_chunks"] == 2
    np.testing.assert_array_equal(m["chi2"], m_ref["chi2"])


@pytest.mark.release_files("union3")
def test_compare_models_resume(tmp_path, kill_after):
    kw = {"null_model": "lcdm", "alt_model": "wcdm", "null_params": ["Om0"], "alt_params": ["Om0", "w0"],
          "fiducial": {"Om0": 0.3}, "seed": 4, "chunk_size": 4}
    ref = batch.compare_models(["union3"], 8, **kw)
    disarm = kill_after(3)  # the null campaign complete, the alternative's killed after one chunk
    with pytest.raises(Killed):
        batch.compare_models(["union3"], 8, output=tmp_path / "cmp", **kw)
    disarm()
    c = batch.compare_models(["union3"], 8, output=tmp_path / "cmp", resume=True, **kw)
    assert c["resumed_chunks"] == 3 and sorted(p.name for p in (tmp_path / "cmp").iterdir()) == ["alt", "null"]
    np.testing.assert_array_equal(c["delta_chi2"], ref["delta_chi2"])
    assert c["p_value"] == ref["p_value"]


def test_progress_bar_shows_rate_and_starts_at_resumed_cases():
    from pbufjax.inference.sharding import _Progress

    bar = _Progress(True, 100, "fits", completed=40)
    try:
        task = bar._bar.tasks[0]
        assert task.completed == 40 and task.total == 100
        bar.advance(10)
        columns = [str(c.render(task)) for c in bar._bar.columns[3:]]
        assert "fits/s" in columns[0]
    finally:
        bar.close()


# ---------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------

_ARGV = ["mocks", "--datasets", "union3", "--params", "Om0", "--fiducial", "Om0=0.3", "--seed", "1",
         "--chunk-size", "8", "-q"]


@pytest.mark.release_files("union3")
def test_cli_resume_and_refusals(tmp_path, capsys):
    out = tmp_path / "m.json"
    assert cli.main([*_ARGV, "--n", "20", "--output", str(out)]) == 0
    assert (tmp_path / "m.campaign" / MANIFEST).exists()
    first = out.read_bytes()
    capsys.readouterr()
    for argv, needle in [
        ([*_ARGV, "--n", "20", "--output", str(out)], "holds a campaign from an earlier run"),
        ([*_ARGV, "--n", "21", "--output", str(out), "--resume"], "another configuration (n: 20 -> 21)"),
        ([*_ARGV, "--n", "20", "--resume"], "--resume needs --output"),
        ([*_ARGV, "--n", "20", "--num-processes", "0"], "--num-processes: must be >= 1, got 0"),
        ([*_ARGV, "--n", "20", "--num-processes", "2", "--process-id", "2", "--coordinator", "127.0.0.1:9"],
         "--process-id must be in 0..1"),
        ([*_ARGV, "--n", "20", "--num-processes", "2", "--process-id", "1", "--coordinator", "127.0.0.1:9",
          "--distributed-timeout", "1"], "coordinator 127.0.0.1:9 not reachable within 1 s"),
    ]:
        assert cli.main(argv) == 2, argv
        err = capsys.readouterr().err
        assert needle in err and len(err.strip().splitlines()) == 1, err
    assert out.read_bytes() == first  # nothing overwritten
    chunk = tmp_path / "m.campaign" / "chunk-000001.npz"
    chunk.write_bytes(chunk.read_bytes()[:50])
    assert cli.main([*_ARGV, "--n", "20", "--output", str(out), "--resume"]) == 2
    assert "chunk-000001.npz is corrupted" in capsys.readouterr().err
    assert out.read_bytes() == first


@pytest.mark.release_files("union3")
def test_cli_multistart_streams_resumes_and_refuses(tmp_path, capsys, kill_after):
    out = tmp_path / "s.json"
    argv = ["multistart", "--datasets", "union3", "--params", "Om0", "--n-starts", "9", "--seed", "4",
            "--chunk-size", "3", "--output", str(out), "-q"]
    ref = batch.multistart("lcdm", ["union3"], ["Om0"], 9, seed=4, chunk_size=3)
    disarm = kill_after(2)
    assert cli.main(argv) != 0
    disarm()
    capsys.readouterr()
    assert not out.exists() and len(list((tmp_path / "s.campaign").glob("chunk-*.npz"))) == 2
    assert cli.main([*argv, "--resume", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    doc = json.loads(out.read_text())
    assert doc["resumed_chunks"] == 2 and doc["chi2"] == ref["chi2"].tolist()
    assert summary["best"] == ref["best"] and summary["n_converged"] == ref["n_converged"] == 9
    first = out.read_bytes()
    for extra, needle in [([], "holds a campaign from an earlier run"),
                          (["--resume", "--seed", "5"], "another configuration"),
                          (["--n-starts", "0"], "--n-starts/--n: must be >= 1, got 0"),
                          (["--agree-tol", "0"], "--agree-tol: must be > 0")]:
        assert cli.main([*argv, *extra]) == 2, extra
        err = capsys.readouterr().err
        assert needle in err and len(err.strip().splitlines()) == 1, err
    assert out.read_bytes() == first


@pytest.mark.release_files("union3")
def test_cli_profile_streams_and_resumes(tmp_path, capsys, kill_after):
    out = tmp_path / "p.json"
    argv = ["profile", "--datasets", "union3", "--params", "Om0", "--grid", "Om0=0.28:0.4:7", "--chunk-size", "2",
            "--output", str(out), "-q"]
    disarm = kill_after(2)
    assert cli.main(argv) != 0  # the command line reports the in-process "kill" as an error
    disarm()
    capsys.readouterr()
    assert not out.exists() and len(list((tmp_path / "p.campaign").glob("chunk-*.npz"))) == 2
    assert cli.main([*argv, "--resume", "--json"]) == 0
    doc = json.loads(out.read_text())
    assert doc["resumed_chunks"] == 2 and doc["n_processes"] == 1 and len(doc["chi2"]) == 7


@pytest.mark.slow
@pytest.mark.release_files("union3")
def test_cli_sigkill_then_resume_equals_uninterrupted(tmp_path):
    """A real kill: ``pbufjax mocks`` is SIGKILLed once a few chunks are on disk, then resumed."""
    argv = [sys.executable, "-m", "pbufjax", *_ARGV[:-3], "--chunk-size", "16", "--n", "4000", "-q"]
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    ref, out = tmp_path / "ref.json", tmp_path / "m.json"
    subprocess.run([*argv, "--output", str(ref)], check=True, env=env, timeout=300)
    proc = subprocess.Popen([*argv, "--output", str(out)], env=env)
    try:
        deadline = time.monotonic() + 240
        while len(list((tmp_path / "m.campaign").glob("chunk-*.npz"))) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
            assert proc.poll() is None, "the run ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    assert not out.exists()
    subprocess.run([*argv, "--output", str(out), "--resume"], check=True, env=env, timeout=300)
    a, b = json.loads(ref.read_text()), json.loads(out.read_text())
    assert b["plan"]["resumed_chunks"] >= 3
    assert a["chi2"] == b["chi2"] and a["params"] == b["params"] and a["status"] == b["status"]
