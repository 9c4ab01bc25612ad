"""Compiled functions whose tree of outputs travels to the host as one array."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np


def packed_jit(fn: Callable, aot_key: Any = None) -> Callable:
    """``jax.jit(fn)`` whose output, a tree of nested dicts of arrays, travels to the host as
    one float64 array (one device-to-host transfer instead of one per leaf).

    The layout (key paths, shapes, dtypes) is recorded while ``fn`` is traced, and stored
    with the program when ``aot_key`` is given (:class:`pbufjax.aot_cache.StoredJit`); the
    returned callable unpacks the array into nested dicts of numpy arrays.
    """
    import jax
    import jax.numpy as jnp

    from ..runtime.stored_programs import StoredJit

    layout: dict = {}

    def packed(*args):
        out = fn(*args)
        flat, _ = jax.tree_util.tree_flatten_with_path(out)
        layout["leaves"] = [([str(k.key) for k in path], [int(d) for d in jnp.shape(v)], str(jnp.result_type(v)))
                            for path, v in flat]
        return jnp.concatenate([jnp.ravel(jnp.asarray(v, jnp.float64)) for _, v in flat] or [jnp.zeros(0)])

    jitted = StoredJit(packed, aot_key, meta=lambda: layout["leaves"]) if aot_key is not None else None
    if jitted is None:
        plain = jax.jit(packed)

        def jitted(*args):
            return plain(*args)

    plan: list = []  # (keys, start, stop, shape, dtype) of each leaf, from the layout once

    def call(*args):
        flat = np.asarray(jitted(*args))
        if not plan:
            i = 0
            for keys, shape, dtype in (layout["leaves"] if "leaves" in layout else jitted.meta):
                n = math.prod(int(d) for d in shape)
                plan.append((tuple(keys), i, i + n, tuple(shape), np.dtype(dtype)))
                i += n
        out: dict = {}
        for keys, start, stop, shape, dtype in plan:
            node = out
            for k in keys[:-1]:
                node = node.setdefault(k, {})
            leaf = flat[start:stop].reshape(shape)
            node[keys[-1]] = leaf if leaf.dtype == dtype else leaf.astype(dtype)
        return out

    return call


__all__ = ["packed_jit"]
