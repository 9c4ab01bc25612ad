"""Cost of a mock-fit campaign against its size: N = 10³ … 10⁶ fits, streamed to disk.

The job: N mock data sets of ``desi_dr2`` + ``union3`` around the flat-ΛCDM best fit
(Obh2 = 0.02237 fixed), each fitted for H0 and Ωm with the default batch method, results
streamed chunk by chunk to a campaign folder (``fit_mocks(..., output=folder)``:
one ``.npz`` per chunk, written atomically) — the resumable path a long campaign uses.

The chunk size (``--chunk-size``; default 250 per device on CPU, 12500 per device on an
accelerator; the runner evens the chunks of a size out, so a few sizes get a chunk shape of
their own) is compiled by a warm-up run of one chunk of that shape before a size is timed, and
every size is then timed once, warm (compilation excluded, reported apart). The time should grow linearly,
``t(N) ≈ t0 + N/rate``: the script fits that line and reports the rate and the fixed cost, the
exponent p of ``t ∝ N^p`` (1 for linear growth) and the spread of the per-fit cost. With ``--compare-memory`` the smallest sizes are also run
without an output folder, to show what streaming to disk costs.

On an accelerator the same script prints the GPU figure (the device kind and fits/s).

Writes ``benchmarks/results/campaign.json``. Run::

    python benchmarks/bench_campaign.py                          # N = 1e3, 1e4, 1e5, 1e6
    python benchmarks/bench_campaign.py --sizes 1000,4000 --compare-memory
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PBUFJAX_DATA_DIR", str(ROOT.parent / "shared" / "data"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import write

DATASETS = ["desi_dr2", "union3"]
FREE = ["H0", "Om0"]
OVERRIDES = {"Obh2": 0.02237}
DEFAULT_SIZES = (1_000, 10_000, 100_000, 1_000_000)


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def linear_fit(sizes, times) -> dict:
    """Least-squares ``t = t0 + N / rate``, the exponent ``p`` of ``t ∝ N^p`` (1 for linear growth; a
    fit of log t against log N) and the spread of the per-fit cost over the sizes."""
    n, t = np.asarray(sizes, float), np.asarray(times, float)
    per_fit = t / n
    if n.size < 2:
        return {"rate_fits_per_s": float(n[0] / t[0]), "t0_s": 0.0, "exponent": 1.0, "per_fit_max_over_min": 1.0}
    slope, t0 = np.polyfit(n, t, 1)
    exponent = np.polyfit(np.log(n), np.log(t), 1)[0]
    return {"rate_fits_per_s": float(1.0 / slope), "t0_s": float(t0), "exponent": float(exponent),
            "per_fit_max_over_min": float(per_fit.max() / per_fit.min())}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES),
                    help="comma-separated campaign sizes (default 1000,10000,100000,1000000)")
    ap.add_argument("--chunk-size", type=int, default=None, help="fits per chunk (default: see the docstring)")
    ap.add_argument("--folder", default=None, help="where the campaign folders go (default a temporary folder)")
    ap.add_argument("--compare-memory", action="store_true", help="also time sizes <= 1e4 without an output folder")
    ap.add_argument("--no-write", action="store_true", help="do not write benchmarks/results/campaign.json")
    args = ap.parse_args(argv)
    sizes = sorted(int(float(s)) for s in args.sizes.split(",") if s.strip())

    import jax

    from pbufjax.inference import batch

    devs = jax.devices()
    accel = devs[0].platform != "cpu"
    chunk = args.chunk_size or (12500 if accel else 250) * len(devs)
    fid = batch.fiducial_model(DATASETS, FREE, overrides=OVERRIDES)
    fiducial = {**{k: fid["params"][k] for k in FREE}, **OVERRIDES}
    kw = {"overrides": OVERRIDES, "fiducial": fiducial, "seed": 1, "chunk_size": chunk}
    base = Path(args.folder) if args.folder else Path(tempfile.mkdtemp(prefix="pbufjax-campaign-"))
    base.mkdir(parents=True, exist_ok=True)
    out = {"job": f"lcdm mock fits, {'+'.join(DATASETS)}, free {','.join(FREE)}, gauss_newton",
           "device": f"{devs[0].platform}:{getattr(devs[0], 'device_kind', '')}", "n_devices": len(devs),
           "chunk_size": chunk, "runs": []}
    from pbufjax.inference.sharding import plan_chunks

    compiled: dict[int, float] = {}
    try:
        for n in sizes:
            shape = plan_chunks(n, chunk, len(devs))[1]
            if shape not in compiled:  # compile this chunk shape (and run one chunk) outside the timing
                t0 = time.perf_counter()
                batch.fit_mocks("lcdm", DATASETS, FREE, min(shape, n), output=base / f"warmup{shape}", **kw)
                compiled[shape] = time.perf_counter() - t0
                print(f"warm-up (compile + one chunk of {shape}): {compiled[shape]:.2f} s", flush=True)
            folder = base / f"n{n}"
            t0 = time.perf_counter()
            r = batch.fit_mocks("lcdm", DATASETS, FREE, n, output=folder, **kw)
            dt = time.perf_counter() - t0
            row = {"n": n, "time_s": dt, "fits_per_s": n / dt, "us_per_fit": 1e6 * dt / n,
                   "n_chunks": r["plan"]["n_chunks"], "chunk_shape": r["plan"]["chunk_size"], "converged": int(r["converged"].sum()),
                   "folder_bytes": folder_bytes(folder), "mean_chi2": float(np.mean(r["chi2"]))}
            del r
            shutil.rmtree(folder, ignore_errors=True)
            if args.compare_memory and n <= 10_000:
                t0 = time.perf_counter()
                batch.fit_mocks("lcdm", DATASETS, FREE, n, **kw)
                row["in_memory_time_s"] = time.perf_counter() - t0
            out["runs"].append(row)
            extra = f", in memory {row['in_memory_time_s']:.3f} s" if "in_memory_time_s" in row else ""
            print(f"N = {n:>9,d}: {dt:9.3f} s  {row['fits_per_s']:10,.0f} fits/s  {row['us_per_fit']:8.1f} µs/fit  "
                  f"({row['n_chunks']} chunks, {row['folder_bytes'] / n:.0f} B/fit on disk{extra})", flush=True)
    finally:
        if not args.folder:
            shutil.rmtree(base, ignore_errors=True)
    out["warmup_compile_and_one_chunk_s"] = {str(k): v for k, v in compiled.items()}
    out["linear_fit"] = linear_fit([r["n"] for r in out["runs"]], [r["time_s"] for r in out["runs"]])
    lf = out["linear_fit"]
    print(f"t(N) = {lf['t0_s']:.3f} s + N / {lf['rate_fits_per_s']:,.0f} fits/s; t ∝ N^{lf['exponent']:.3f}; "
          f"per-fit cost varies by x{lf['per_fit_max_over_min']:.2f} over the sizes")
    if accel:
        print(f"GPU figure: {out['device']} x{len(devs)}: {lf['rate_fits_per_s']:,.0f} mock fits/s "
              f"({1e6 / lf['rate_fits_per_s']:.2f} µs per fit, chunks of {chunk})")
    if not args.no_write:
        print("wrote", write("campaign", out))
    return out


if __name__ == "__main__":
    main()
