"""Several processes through ``jax.distributed`` (pbufjax.runtime.distributed), on CPU.

Two processes on 127.0.0.1, each with two CPU devices
(``XLA_FLAGS=--xla_force_host_platform_device_count=2``, JAX's gloo CPU collectives), fit the
same mocks as one process with four devices: the global batch is laid out over the four
devices of both processes, so every device runs the same program on the same rows and the
results are bit-identical. Both processes run as subprocesses under a hard timeout and are
killed at the end whatever happens.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from pbufjax.runtime import distributed

_SCRIPT = textwrap.dedent(
    """
    import json, sys
    coordinator, n_proc, pid, folder = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    from pbufjax import cli
    layout = ["--coordinator", coordinator, "--num-processes", str(n_proc), "--process-id", str(pid),
              "--distributed-timeout", "60"] if n_proc > 1 else []
    # the command line joins the layout (jax.distributed.initialize) and streams to folder/m.campaign
    rc = cli.main(["mocks", "--datasets", "union3", "--params", "Om0", "--fiducial", "Om0=0.3", "--seed", "5",
                   "--chunk-size", "8", "--n", "22", "--output", folder + "/m.json", "-q", *layout])
    from pbufjax.inference import batch
    from pbufjax.runtime import distributed
    r = batch.fit_mocks("lcdm", ["union3"], ["Om0"], 22, fiducial={"Om0": 0.3}, seed=5, chunk_size=8)
    p = batch.profile_likelihood("lcdm", ["union3"], ["Om0"], {"Om0": [0.3, 0.32, 0.34, 0.36, 0.38]}, chunk_size=4)
    # resuming the command line's finished campaign: every chunk is read by process 0 and broadcast
    again = batch.fit_mocks("lcdm", ["union3"], ["Om0"], 22, fiducial={"Om0": 0.3}, seed=5,
                            output=folder + "/m.campaign", resume=True)
    # many starts of the real-data fit: the same batch program, laid out over every process
    ms_rc = cli.main(["multistart", "--datasets", "union3", "--params", "Om0", "--n-starts", "10", "--seed", "3",
                      "--chunk-size", "4", "--output", folder + "/s.json", "-q", *layout])
    ms = batch.multistart("lcdm", ["union3"], ["Om0"], 10, seed=3, chunk_size=4)
    print("RESULT" + json.dumps({"rc": rc, "info": distributed.process_info(), "chi2": r["chi2"].tolist(),
                                 "resumed": again["resumed_chunks"], "resumed_chi2": again["chi2"].tolist(),
                                 "om": r["params"]["Om0"].tolist(), "status": r["status"].tolist(),
                                 "n_processes": r["n_processes"], "n_devices": r["n_devices"],
                                 "profile": p["chi2"].tolist(), "profile_devices": p["n_devices"],
                                 "ms_rc": ms_rc, "ms_chi2": ms["chi2"].tolist(), "ms_layout": [ms["n_processes"],
                                 ms["n_devices"]], "ms_best": ms["best"]}))
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(devices: int) -> dict:
    env = dict(os.environ)
    env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    env["JAX_PLATFORMS"] = "cpu"
    return env


def _result(out: str) -> dict:
    line = [ln for ln in out.splitlines() if ln.startswith("RESULT")][-1]
    return json.loads(line[len("RESULT"):])


def _launch(n_proc: int, devices: int, folder, timeout: float = 240) -> list[dict]:
    port = _free_port()
    procs = [subprocess.Popen([sys.executable, "-c", _SCRIPT, f"127.0.0.1:{port}", str(n_proc), str(i), str(folder)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(devices))
             for i in range(n_proc)]
    deadline = time.monotonic() + timeout
    outs = []
    try:
        for p in procs:
            out, err = p.communicate(timeout=max(deadline - time.monotonic(), 1))
            assert p.returncode == 0, err[-3000:]
            outs.append(_result(out))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
    return outs


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("distributed")
    (tmp / "two").mkdir()
    (tmp / "one").mkdir()
    two = _launch(2, 2, tmp / "two")
    one = _launch(1, 4, tmp / "one")[0]
    return two, one, tmp


@pytest.mark.release_files("union3")
def test_two_processes_see_every_device(runs):
    two, _, _ = runs
    assert [r["rc"] for r in two] == [0, 0]
    assert [r["info"]["process_id"] for r in two] == [0, 1]
    assert all(r["info"]["n_processes"] == 2 and r["info"]["n_devices"] == 4 for r in two)
    assert all(r["info"]["n_local_devices"] == 2 for r in two)
    assert all(r["n_processes"] == 2 and r["n_devices"] == 4 for r in two)


@pytest.mark.release_files("union3")
def test_two_processes_equal_one_process_bit_for_bit(runs):
    two, one, tmp = runs
    for r in two:  # every process returns the gathered results
        assert r["chi2"] == one["chi2"] and r["om"] == one["om"] and r["status"] == one["status"]
        assert r["profile"] == one["profile"]
        assert r["ms_rc"] == 0 and r["ms_chi2"] == one["ms_chi2"] and r["ms_best"] == one["ms_best"]
    assert [r["ms_layout"] for r in two] == [[2, 4], [2, 4]] and one["ms_layout"] == [1, 4]
    assert one["n_processes"] == 1 and one["n_devices"] == 4
    assert len(set(np.round(one["chi2"], 8))) == 22
    for r in (*two, one):  # a finished campaign resumed: nothing refitted, the same arrays on every process
        assert r["resumed"] == 3 and r["resumed_chi2"] == one["chi2"]
    for name in ("m.json", "s.json"):  # the command line's files (mocks, multistart)
        a, b = (json.loads((tmp / w / name).read_text()) for w in ("two", "one"))
        assert a["chi2"] == b["chi2"] and a["params"] == b["params"]
        assert (a["n_processes"], a["n_devices"], b["n_processes"], b["n_devices"]) == (2, 4, 1, 4)


@pytest.mark.release_files("union3")
def test_process_zero_writes_the_campaign(runs):
    _, _, tmp = runs
    folder = tmp / "two" / "m.campaign"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["complete"] and manifest["info"]["n_processes"] == 2 and manifest["info"]["n_devices"] == 4
    assert len(list(folder.glob("chunk-*.npz"))) == 3
    assert sorted(p.name for p in (tmp / "two").iterdir()) == ["m.campaign", "m.json", "s.campaign", "s.json"]


@pytest.mark.parametrize("layout, needle", [
    (("127.0.0.1:1234", 0, 0), "num_processes must be an integer >= 1"),
    (("127.0.0.1:1234", 2, 2), r"process_id must be in 0\.\.1"),
    (("127.0.0.1:1234", 2, -1), r"process_id must be in 0\.\.1"),
    (("127.0.0.1", 2, 0), "expected HOST:PORT"),
    (("127.0.0.1:99999", 2, 0), "port must be in 1..65535"),
    (("127.0.0.1:1234", None, 0), "together"),
])
def test_bad_layouts(layout, needle):
    with pytest.raises(distributed.DistributedError, match=needle):
        distributed.initialize(*layout)


def test_unreachable_coordinator_is_an_error_within_the_timeout():
    t0 = time.monotonic()
    with pytest.raises(distributed.DistributedError, match="not reachable within 1 s"):
        distributed.initialize(f"127.0.0.1:{_free_port()}", 2, 1, timeout=1)
    assert time.monotonic() - t0 < 10


def test_one_process_is_a_no_op():
    info = distributed.initialize()
    assert info["n_processes"] == 1 and info["process_id"] == 0
    assert distributed.on_main(lambda: 7, "x") == 7
    assert distributed.broadcast([1, 2]).tolist() == [1, 2]
