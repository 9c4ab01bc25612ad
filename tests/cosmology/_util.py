"""Test helpers: evaluate kernels through jax.jit (fast) with the static strings closed over."""

import functools

import jax

STATIC = ("model_class", "recomb_method")


def numeric(p):
    return {k: v for k, v in p.items() if k not in STATIC and isinstance(v, (int, float))}


@functools.lru_cache(maxsize=None)
def _compiled(fn, static_items):
    static = dict(static_items)
    return jax.jit(lambda q, *args: fn(*args, {**q, **static}) if args else fn({**q, **static}))


def call(fn, p, *args):
    """fn(*args, p) (or fn(p)) compiled once per (fn, model, method)."""
    static = tuple(sorted((k, p[k]) for k in STATIC if k in p))
    return _compiled(fn, static)(numeric(p), *args)
