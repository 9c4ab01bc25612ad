"""Cold start: a fresh process's ``pbufjax fit --model lcdm --datasets desi_dr2 --optimize H0,Om0``.

Measured in one run, as whole processes (wall time from ``subprocess`` start to exit):

1. the floor: a process that only imports JAX and runs one tiny operation;
2. the first run: empty caches (a new compilation cache, stored-program and parameter-store
   folder for each repetition);
3. the second run: the same caches, filled by a first run just before.

Each is repeated (``--repeat``, default 5) and the median quoted; the goals of the issue are
first ≤ floor + 3 s and second ≤ floor + 0.5 s.

Then one instrumented process of each kind gives the breakdown of where the time goes:
interpreter start and imports, tracing (``jaxpr`` construction), exporting the stored programs
(which traces them too, so those two overlap),
XLA compilation, loading compiled programs from the cache, the rest of the command's Python, and
teardown after the command returns (from the profiler's cumulative times, so the parts are
approximate and overlap a little).

Writes ``benchmarks/results/cold_start.json``. Run: ``python benchmarks/bench_cold_start.py``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import write  # noqa: E402

COMMAND = ["fit", "--model", "lcdm", "--datasets", "desi_dr2", "--optimize", "H0,Om0"]
FLOOR = "import jax, jax.numpy as jnp; jnp.ones(1).block_until_ready()"
GOAL_FIRST_S, GOAL_SECOND_S = 3.0, 0.5

# Run inside the instrumented child: profile the CLI and sum the time of the phases.
PROBE = r"""
import cProfile, json, pstats, sys, time
t_start = time.perf_counter()
prof = cProfile.Profile()
prof.enable()
import pbufjax.cli
t_import = time.perf_counter()
rc = pbufjax.cli.main(sys.argv[1:])
t_main = time.perf_counter()
prof.disable()
stats = pstats.Stats(prof).stats
def cum(file_part, func):
    return sum(v[3] for (f, _, n), v in stats.items() if file_part in f and n == func)
out = {"import_s": t_import - t_start, "command_s": t_main - t_import,
       "trace_s": cum("jax/_src/pjit.py", "_trace_for_jit"),
       "export_s": cum("jax/_src/export/_export.py", "do_export"),
       "compile_s": cum("jax/_src/compiler.py", "backend_compile_and_load"),
       "cache_load_s": cum("jax/_src/compiler.py", "_cache_read") + cum("jax/_src/export/_export.py", "deserialize"),
       "rc": rc, "t_main_end": time.time()}
print("BREAKDOWN" + json.dumps(out), file=sys.stderr)
"""


def _env(cache: Path) -> dict:
    env = dict(os.environ)
    env.update(PBUFJAX_COMPILE_CACHE_DIR=str(cache / "jax"), PBUFJAX_STORE_DIR=str(cache / "store"),
               XDG_CACHE_HOME=str(cache / "xdg"), JAX_PLATFORMS="cpu")
    env.pop("PBUFJAX_NO_COMPILE_CACHE", None)
    return env


def _wall(args: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{args} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return wall


def _breakdown(env: dict) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", PROBE, *COMMAND], env=env, capture_output=True, text=True)
    t_exit = time.time()
    wall = time.perf_counter() - t0
    line = [s for s in proc.stderr.splitlines() if s.startswith("BREAKDOWN")]
    if not line:
        raise RuntimeError(proc.stderr[-2000:])
    out = json.loads(line[-1][len("BREAKDOWN"):])
    out["wall_s"] = wall
    out["teardown_s"] = max(t_exit - out.pop("t_main_end"), 0.0)
    out["interpreter_start_s"] = max(wall - out["import_s"] - out["command_s"] - out["teardown_s"], 0.0)
    # exporting a stored program traces it, so trace_s and export_s overlap: count the larger
    out["other_command_s"] = (out["command_s"] - max(out["trace_s"], out["export_s"]) - out["compile_s"]
                              - out["cache_load_s"])
    return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in out.items()}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--label", default="after", help="name of this measurement in the results file")
    args = ap.parse_args(argv)
    cli = ["-m", "pbufjax", *COMMAND]
    floor, first, second = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            cache = Path(tmp) / f"run{i}"
            env = _env(cache)
            floor.append(_wall(["-c", FLOOR], env))
            first.append(_wall(cli, env))
            second.append(_wall(cli, env))
            print(f"{i}: floor {floor[-1]:.2f}s first {first[-1]:.2f}s second {second[-1]:.2f}s", flush=True)
        env = _env(Path(tmp) / "probe")
        breakdown = {"first": _breakdown(env), "second": _breakdown(env)}
    med = {k: statistics.median(v) for k, v in (("floor", floor), ("first", first), ("second", second))}
    result = {
        "command": "pbufjax " + " ".join(COMMAND), "repeat": args.repeat, "load_average": list(os.getloadavg()),
        "floor_s": floor, "first_s": first, "second_s": second, "median_s": med,
        "first_over_floor_s": med["first"] - med["floor"], "second_over_floor_s": med["second"] - med["floor"],
        "goals_s": {"first_over_floor": GOAL_FIRST_S, "second_over_floor": GOAL_SECOND_S},
        "meets_goals": bool(med["first"] - med["floor"] <= GOAL_FIRST_S and med["second"] - med["floor"] <= GOAL_SECOND_S),
        "breakdown": breakdown,
    }
    print(json.dumps({k: result[k] for k in ("median_s", "first_over_floor_s", "second_over_floor_s", "meets_goals")}))
    print(json.dumps(breakdown, indent=1))
    path = Path(__file__).with_name("results") / "cold_start.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    runs = {k: v for k, v in previous.get("runs", {}).items() if k != args.label}
    runs[args.label] = result
    write("cold_start", {"runs": runs})
    return result


if __name__ == "__main__":
    main()
