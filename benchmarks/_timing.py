"""Shared timing helpers for the benchmark runners."""

from __future__ import annotations

import json
import os
import pathlib
import platform
import time

import jax
import numpy as np

RESULTS = pathlib.Path(__file__).with_name("results")


def best_time(fn, *args, number=None, repeat=7, min_time=0.2):
    """Best per-call wall time [s] over ``repeat`` rounds (each round long enough to be timed)."""
    jax.block_until_ready(fn(*args))  # compile / warm
    if number is None:
        number = 1
        while True:
            t0 = time.perf_counter()
            for _ in range(number):
                out = fn(*args)
            jax.block_until_ready(out)
            if time.perf_counter() - t0 > min_time / 5:
                break
            number *= 4
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            out = fn(*args)
        jax.block_until_ready(out)
        times.append((time.perf_counter() - t0) / number)
    return float(np.min(times))


def machine():
    dev = jax.devices()[0]
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "jax": jax.__version__,
        "device": f"{dev.platform}:{getattr(dev, 'device_kind', '')}",
    }


def write(name: str, payload: dict) -> pathlib.Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"machine": machine(), "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **payload}
    path.write_text(json.dumps(payload, indent=1) + "\n")
    return path
