"""Importing pbufjax: float64, and single-device CPU programs run inline (opt out with
PBUFJAX_CPU_ASYNC_DISPATCH=1)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _settings(env_value):
    env = dict(os.environ)
    env.pop("PBUFJAX_CPU_ASYNC_DISPATCH", None)
    if env_value is not None:
        env["PBUFJAX_CPU_ASYNC_DISPATCH"] = env_value
    code = ("import jax, pbufjax; v = jax.config.values; "
            "print(v['jax_enable_x64'], v['jax_cpu_enable_async_dispatch'])")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.split()


@pytest.mark.parametrize("value, expected", [(None, ["True", "False"]), ("0", ["True", "False"]),
                                             ("1", ["True", "True"]), ("true", ["True", "True"])])
def test_import_settings(value, expected):
    assert _settings(value) == expected
