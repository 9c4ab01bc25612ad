"""Batches over devices and in chunks: one vmapped function, sharded and memory-bounded.

A batch job (mock fits, profile-likelihood grids, many starts, MCMC chains) is one
pure function ``fn(case, shared)`` of a single case, vectorized with ``jax.vmap``
over the leading axis of ``case`` and compiled once. This module runs it

* **sharded**: the batch axis of every input is laid out over a one-dimensional
  :class:`jax.sharding.Mesh` (axis name ``"batch"``) with
  :class:`jax.sharding.NamedSharding`; XLA partitions the computation so each device
  fits its slice (one GPU, several GPUs, several hosts through ``jax.distributed``,
  or several CPU "devices" made with
  ``XLA_FLAGS=--xla_force_host_platform_device_count=N``, which puts the host's cores
  to work in parallel). Results do not depend on the number of devices: every case
  is computed by the same program on the same inputs.
* **in chunks**: a batch larger than memory is cut into equal chunks (the last one
  padded by repeating its first case, so one compilation serves all chunks) that run
  one after the other, with an optional progress bar.

How the chunk size is chosen
----------------------------
``chunk_size=None`` (default) picks the largest chunk whose working memory fits a
budget:

1. **per-case bytes** :math:`b`: the sizes of every intermediate array in the jaxpr of
   one case (:func:`case_bytes`; sub-computations of loops, conditionals and custom
   derivatives included, each loop body counted once). XLA reuses buffers, so this
   over-estimates the live memory: a safe bound.
2. **budget** :math:`B` (:func:`memory_budget`): ``max_memory`` bytes when given, else
   a fraction (:data:`MEMORY_FRACTION`) of the free memory of the first device
   (``device.memory_stats()`` on accelerators), else of the host's physical memory
   (CPU).
3. chunk size :math:`c = \\min(n, \\lfloor B/b \\rfloor, c_{max})`, at least one case
   per device, rounded to a multiple of the device count; :math:`c_{max}`
   (:data:`MAX_CHUNK`; :data:`CPU_MAX_CHUNK` per device on CPU devices, where
   cache-sized chunks run faster) bounds the compile-time array shapes. The batch is then cut
   into :math:`\\lceil n/c \\rceil` chunks of equal size (padding at most
   ``n_chunks·n_devices - 1`` cases).

Peak memory is therefore about :math:`c\\,b` plus the chunk's inputs and outputs,
whatever :math:`n` (with a campaign ``store``, the outputs too: see :meth:`BatchRunner.run`).

Several processes
-----------------
After :func:`pbufjax.runtime.distributed.initialize`, ``jax.devices()`` spans every process;
the mesh is then global, every process builds the same chunk and hands
:func:`jax.make_array_from_callback` the rows of its own devices, and the outputs are
gathered on every process (``multihost_utils.process_allgather``). Each device runs the same
program on the same rows as in one process with as many devices: the results are
bit-identical. Pass ``chunk_size`` to override (e.g. a power of two that keeps
one compiled program for many batch sizes).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..runtime import distributed

logger = logging.getLogger(__name__)

#: Name of the mesh axis that carries the batch.
BATCH_AXIS = "batch"
#: Fraction of the free device (or host) memory a chunk may use.
MEMORY_FRACTION = 0.25
#: Largest chunk (cases) chosen automatically.
MAX_CHUNK = 65536
#: Largest chunk per device chosen automatically on CPU devices: a CPU gains little from
#: wider batches once its vector units are busy, and bounded chunks keep the intermediate
#: arrays and the peak memory small. For 1000 DESI DR2 + Union3 Gauss-Newton mock fits on a
#: 2-core host, one chunk of 1000 took 0.056-0.066 ms per fit and 4 chunks of 250
#: 0.075 ms (min of 5 runs each, A/B twice).
CPU_MAX_CHUNK = 1024


# ---------------------------------------------------------------------------
# Devices and meshes
# ---------------------------------------------------------------------------


def resolve_devices(devices: int | str | Sequence[Any] | None = None) -> list:
    """The devices a batch runs on.

    Args:
        devices: ``None`` or ``"all"`` (every device of the default backend), a
            positive number ``n`` (the first ``n`` devices), or a list of
            :class:`jax.Device`.

    Returns:
        List of devices (at least one).

    Raises:
        ValueError: ``n < 1``, more devices requested than exist (the message gives
            the number available and how to get more CPU devices), or an empty list.
        TypeError: anything else.
    """
    import jax

    avail = jax.devices()
    if devices is None or (isinstance(devices, str) and devices == "all"):
        return list(avail)
    if isinstance(devices, str):
        raise ValueError(f"devices must be 'all', a number or a list of devices, got {devices!r}")  # noqa: TRY004
    if isinstance(devices, bool):
        raise TypeError(f"devices must be 'all', a number or a list of devices, got {devices!r}")
    if isinstance(devices, (int, np.integer)):
        n = int(devices)
        if n < 1:
            raise ValueError(f"devices must be >= 1, got {n}; valid: 1..{len(avail)} (or 'all')")
        if n > len(avail):
            raise ValueError(
                f"{n} devices requested but only {len(avail)} {avail[0].platform} device(s) exist; valid: "
                f"1..{len(avail)} (or 'all'). On CPU, set XLA_FLAGS=--xla_force_host_platform_device_count={n} "
                f"before JAX is imported to split the host into {n} devices")
        return list(avail[:n])
    if isinstance(devices, (list, tuple)):
        if not devices:
            raise ValueError(f"devices is an empty list; valid: 1..{len(avail)} devices (or 'all')")
        for d in devices:
            if d not in avail:
                raise ValueError(f"device {d!r} is not one of the available devices {avail}")
        return list(devices)
    raise TypeError(f"devices must be 'all', a number or a list of devices, got {type(devices).__name__}")


def batch_mesh(devices=None):
    """One-dimensional :class:`jax.sharding.Mesh` over ``devices`` with axis :data:`BATCH_AXIS`."""
    from jax.sharding import Mesh

    devs = resolve_devices(devices)
    return Mesh(np.array(devs, dtype=object), (BATCH_AXIS,))


def batch_sharding(mesh):
    """:class:`~jax.sharding.NamedSharding` splitting the leading axis over the mesh."""
    from jax.sharding import NamedSharding, PartitionSpec

    return NamedSharding(mesh, PartitionSpec(BATCH_AXIS))


def replicated_sharding(mesh):
    """:class:`~jax.sharding.NamedSharding` holding a full copy on every device of the mesh."""
    from jax.sharding import NamedSharding, PartitionSpec

    return NamedSharding(mesh, PartitionSpec())


def shard_batch(tree, mesh):
    """Put every leaf of ``tree`` on the mesh with its leading (batch) axis split over the devices.

    Raises:
        ValueError: a leading axis that is not a multiple of the number of devices.
    """
    import jax

    n = mesh.devices.size
    for leaf in jax.tree.leaves(tree):
        if np.shape(leaf)[0] % n:
            raise ValueError(f"batch axis of length {np.shape(leaf)[0]} cannot be split over {n} devices; "
                             f"pad it to a multiple of {n}")
    return jax.device_put(tree, batch_sharding(mesh))


def replicate(tree, mesh):
    """Put a full copy of every leaf of ``tree`` on every device of the mesh."""
    import jax

    return jax.device_put(tree, replicated_sharding(mesh))


# ---------------------------------------------------------------------------
# Memory: per-case bytes and budget
# ---------------------------------------------------------------------------


def _sub_jaxprs(value):
    if hasattr(value, "eqns"):
        yield value
    elif hasattr(value, "jaxpr") and hasattr(value.jaxpr, "eqns"):
        yield value.jaxpr
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from _sub_jaxprs(v)


def _jaxpr_bytes(jaxpr) -> int:
    total = 0
    for eqn in jaxpr.eqns:
        for v in eqn.outvars:
            aval = getattr(v, "aval", None)
            shape = getattr(aval, "shape", None)
            dtype = getattr(aval, "dtype", None)
            if shape is not None and dtype is not None:
                try:
                    item = np.dtype(dtype).itemsize
                except TypeError:  # extended dtypes (PRNG keys): a few words
                    item = 16
                total += int(np.prod(shape, dtype=np.int64)) * item
        for p in eqn.params.values():
            for sub in _sub_jaxprs(p):
                total += _jaxpr_bytes(sub)
    return total


def case_bytes(fn: Callable, case, shared) -> int:
    """Upper bound of the working memory of one case [bytes].

    Sums the sizes of all intermediate arrays in the jaxpr of ``fn(case, shared)``
    (recursively through loops, conditionals and custom derivatives; a loop body is
    counted once since its buffers are reused across iterations), plus the case's
    inputs and outputs. XLA reuses buffers, so the true peak is lower.

    Args:
        fn: function of one case.
        case: one case (a pytree of arrays without the batch axis).
        shared: the arguments common to all cases.
    """
    import jax

    closed = jax.make_jaxpr(fn)(case, shared)
    inputs = sum(int(np.prod(np.shape(x))) * np.asarray(x).dtype.itemsize for x in jax.tree.leaves(case))
    return int(_jaxpr_bytes(closed.jaxpr) + inputs)


def memory_budget(devices=None, max_memory: float | None = None) -> int:
    """Bytes a chunk may use.

    ``max_memory`` when given; else :data:`MEMORY_FRACTION` of the free memory of the
    first device (``memory_stats()``: ``bytes_limit - bytes_in_use``, accelerators),
    or of the host's physical memory when the device does not report it (CPU),
    divided between the devices that share the host.

    Raises:
        ValueError: ``max_memory`` not > 0.
    """
    if max_memory is not None:
        if isinstance(max_memory, bool) or not isinstance(max_memory, (int, float)) or not max_memory > 0:
            raise ValueError(f"max_memory must be a number of bytes > 0, got {max_memory!r}")
        return int(max_memory)
    devs = resolve_devices(devices)
    stats = None
    try:
        stats = devs[0].memory_stats()
    except Exception:  # noqa: BLE001  # pragma: no cover - backends without memory stats
        stats = None
    if stats and "bytes_limit" in stats:
        free = int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0))
        return max(int(MEMORY_FRACTION * free) * len(devs), 1)
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        total = 4 * 1024**3
    return max(int(MEMORY_FRACTION * total), 1)


def choose_chunk_size(n: int, per_case_bytes: int, n_devices: int = 1, budget: int | None = None,
                      max_chunk: int = MAX_CHUNK) -> int:
    """Chunk size for ``n`` cases (see the module docstring).

    Returns:
        A multiple of ``n_devices``, at least ``n_devices``, at most ``n`` rounded up
        to a multiple of ``n_devices``; chunks are then evened out by :func:`plan_chunks`.
    """
    budget = memory_budget(None, None) if budget is None else int(budget)
    fit = max(budget // max(int(per_case_bytes), 1), 1)
    c = min(int(n), int(fit), int(max_chunk))
    if c >= n:  # one chunk: round up (padding < one case per device)
        return math.ceil(n / n_devices) * n_devices
    return max((c // n_devices) * n_devices, n_devices)


def plan_chunks(n: int, chunk_size: int, n_devices: int = 1) -> tuple[int, int]:
    """``(n_chunks, size)``: equal chunks of at most ``chunk_size`` cases covering ``n``,
    each a multiple of ``n_devices`` (the total may exceed ``n``; the excess is padding)."""
    chunk_size = max(int(chunk_size), 1)
    n_chunks = max(math.ceil(n / chunk_size), 1)
    size = math.ceil(n / n_chunks)
    size = math.ceil(size / n_devices) * n_devices
    return n_chunks, size


def check_count(name: str, value, minimum: int = 1) -> int:
    """``value`` as an ``int`` if it is an integer ``>= minimum``.

    Raises:
        TypeError: not an integer (bools refused). ValueError: below ``minimum`` (the
            message names ``name``, the bound and the value).
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} ({value!r})")
    if int(value) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


# ---------------------------------------------------------------------------
# Running a batch
# ---------------------------------------------------------------------------


class _Progress:
    """Progress bar over cases on stderr (rich): done/total, fits per second and the time left; or nothing.

    ``completed`` cases (chunks read back from a resumed campaign) start the bar; the rate
    counts only the cases computed in this run.
    """

    def __init__(self, enabled: bool, total: int, desc: str, completed: int = 0, unit: str = "fits"):
        self._bar = None
        if enabled:
            try:
                from rich.console import Console
                from rich.progress import (
                    BarColumn,
                    MofNCompleteColumn,
                    Progress,
                    ProgressColumn,
                    TextColumn,
                    TimeRemainingColumn,
                )
                from rich.text import Text

                class Rate(ProgressColumn):
                    def render(self, task):
                        speed = task.finished_speed or task.speed
                        return Text(f"{speed:,.0f} {unit}/s" if speed else f"- {unit}/s")

                self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), Rate(),
                                     TimeRemainingColumn(), console=Console(stderr=True), transient=False)
                self._bar.start()
                self._task = self._bar.add_task(desc, total=total, completed=completed)
            except Exception:  # noqa: BLE001  # pragma: no cover - rich missing or no terminal
                self._bar = None

    def advance(self, k: int):
        if self._bar is not None:
            self._bar.advance(self._task, k)

    def close(self):
        if self._bar is not None:
            self._bar.stop()


def _take(tree, start: int, stop: int, size: int):
    """Rows ``start:stop`` of every leaf, padded to ``size`` rows by repeating row ``start``."""
    import jax

    def cut(x):
        x = np.asarray(x)
        part = x[start:stop]
        if part.shape[0] < size:
            pad = np.repeat(x[start:start + 1], size - part.shape[0], axis=0)
            part = np.concatenate([part, pad], axis=0)
        return part

    return jax.tree.map(cut, tree)


class BatchRunner:
    """A function of one case, vmapped, compiled once per chunk shape, run sharded and in chunks.

    Args:
        fn: ``fn(case, shared) -> pytree``; pure JAX; ``case`` is one case (no batch
            axis), ``shared`` is common to all cases.

    Example:
        >>> import jax.numpy as jnp
        >>> r = BatchRunner(lambda c, s: jnp.sum(c["x"] ** 2) + s)
        >>> out = r.run({"x": jnp.ones((10, 3))}, 1.0)
        >>> out.shape, float(out[0])
        ((10,), 4.0)
    """

    def __init__(self, fn: Callable):
        import jax

        self.fn = fn
        self._batched = jax.jit(jax.vmap(fn, in_axes=(0, None)))
        self.last_plan: dict[str, Any] = {}
        self._case_bytes: dict = {}  # per-case bytes by the structure and shapes of (case, shared)

    def run(self, cases, shared=None, *, devices=None, chunk_size: int | None = None,
            max_memory: float | None = None, progress: bool = False, desc: str = "batch", store=None,
            collect: bool = True):
        """Evaluate ``fn`` on every case.

        Args:
            cases: pytree whose leaves share the leading (batch) axis of length ``n``.
            shared: pytree of arguments common to all cases (replicated on every device).
            devices: devices to shard the batch over (:func:`resolve_devices`; default all;
                with several processes (:mod:`pbufjax.runtime.distributed`) every device of
                every process).
            chunk_size: cases per chunk (default: chosen from memory, module docstring).
            max_memory: memory budget of a chunk [bytes] used to choose the chunk size.
            progress: show a progress bar (fits/s, time left) on stderr.
            desc: progress-bar label.
            store: a :class:`pbufjax.runtime.campaign.Campaign`: each chunk's outputs are
                written to it (on a background thread, while the next chunk runs) and then
                dropped, so the host holds at most two chunks of outputs; chunks it already
                holds (a resumed campaign) are read, not recomputed, and its recorded chunk
                size is used. With several processes, process 0 opens and writes it.
            collect: return the outputs (with ``store``, read back from it at the end);
                ``False`` returns ``None`` and keeps memory bounded by the chunk throughout.

        Returns:
            The outputs, stacked over the ``n`` cases (numpy arrays), or None. ``last_plan``
            records ``n``, ``n_devices``, ``n_processes``, ``chunk_size``, ``n_chunks``,
            ``per_case_bytes``, ``padding`` and (with ``store``) ``resumed_chunks``.

        Raises:
            ValueError: empty batch, leaves with different batch lengths, bad
                ``chunk_size`` or ``devices``; a campaign that cannot be resumed
                (:class:`~pbufjax.runtime.campaign.CampaignError`).
        """
        import jax

        leaves = jax.tree.leaves(cases)
        if not leaves:
            raise ValueError("the batch has no arrays")
        n = int(np.shape(leaves[0])[0]) if np.ndim(leaves[0]) else 0
        if n < 1:
            raise ValueError("the batch is empty (0 cases)")
        if any(np.shape(x)[0] != n for x in leaves):
            raise ValueError(f"every batch input needs the same leading length; got {[np.shape(x)[0] for x in leaves]}")
        devs = resolve_devices(devices)
        multi = distributed.multi_process()
        if multi and len(devs) != len(jax.devices()):
            raise ValueError(f"a run over {jax.process_count()} processes uses all {len(jax.devices())} devices; "
                             f"got devices={devices!r}")
        nd = len(devs)
        explicit = chunk_size is not None
        per_case = None
        if chunk_size is None:
            one = jax.tree.map(lambda x: np.asarray(x)[0], cases)
            # the estimate traces the function: once per structure and shapes of the arguments
            spec = jax.tree.structure((one, shared)), tuple((np.shape(x), str(getattr(x, "dtype", type(x))))
                                                           for x in jax.tree.leaves((one, shared)))
            per_case = self._case_bytes.get(spec)
            if per_case is None:
                per_case = self._case_bytes[spec] = case_bytes(self.fn, one, shared)
            cap = CPU_MAX_CHUNK * nd if all(d.platform == "cpu" for d in devs) else MAX_CHUNK
            chunk_size = choose_chunk_size(n, per_case, nd, memory_budget(devs, max_memory), max_chunk=cap)
        else:
            chunk_size = check_count("chunk_size", chunk_size)
        n_chunks, size = plan_chunks(n, chunk_size, nd)
        done = np.zeros(n_chunks, bool)
        if store is not None:
            info = {"n_processes": int(jax.process_count()), "n_devices": nd}
            got = distributed.on_main(lambda: store.begin(n, size, nd, explicit=explicit, info=info),
                                      "opening the campaign")
            size = int(distributed.broadcast([got if got is not None else 0])[0])
            n_chunks = -(-n // size)
            mask = [i in store.done for i in range(n_chunks)] if distributed.is_main() else [0] * n_chunks
            done = distributed.broadcast(mask).astype(bool)
        padded = -(-size // nd) * nd
        self.last_plan = {"n": n, "n_devices": nd, "n_processes": int(jax.process_count()), "chunk_size": size,
                          "n_chunks": n_chunks, "per_case_bytes": per_case, "padding": n_chunks * padded - n}
        if store is not None:
            self.last_plan["resumed_chunks"] = int(done.sum())
        logger.debug("batch of %d cases: %d chunk(s) of %d on %d device(s)", n, n_chunks, size, nd)
        mesh = batch_mesh(devs) if nd > 1 or multi else None
        shared_dev = self._put(shared, mesh, devs, multi, replicated=True)
        skipped = sum(min((i + 1) * size, n) - i * size for i in np.flatnonzero(done))
        bar = _Progress(progress and distributed.is_main(), n, desc, completed=skipped)
        outs, treedef = [], None
        writer = _Writer(store if distributed.is_main() else None)
        try:
            for i in range(n_chunks):
                start, stop = i * size, min((i + 1) * size, n)
                if start >= n:
                    break
                if done[i]:
                    continue
                chunk = self._put(_take(cases, start, stop, padded), mesh, devs, multi)
                out = self._batched(chunk, shared_dev)
                if multi:
                    from jax.experimental import multihost_utils

                    out = multihost_utils.process_allgather(out, tiled=True)
                keep = stop - start
                parts, treedef = jax.tree.flatten(out)
                parts = [np.array(x)[:keep] for x in parts]  # a host copy of this chunk only
                if store is None:
                    outs.append(parts)
                else:
                    writer.submit(i, parts)
                bar.advance(keep)
            writer.wait()
        finally:
            writer.close()
            bar.close()
        if not collect:
            return None
        if treedef is None:  # every chunk was on disk: the output structure from a trace
            one = _take(cases, 0, min(size, n), padded)
            treedef = jax.tree.structure(jax.eval_shape(self._batched, one, shared))
        if store is None:
            parts = outs[0] if len(outs) == 1 else [np.concatenate(xs, axis=0) for xs in zip(*outs)]
        else:
            parts = store.assemble() if distributed.is_main() else None
            if multi:
                parts = _from_main(parts, self._batched, cases, shared, n)
        return jax.tree.unflatten(treedef, parts)

    @staticmethod
    def _put(tree, mesh, devs, multi: bool, replicated: bool = False):
        """Place a chunk (batch axis split) or the shared inputs (``replicated``) on the devices."""
        import jax

        if mesh is None:
            return jax.device_put(tree, devs[0])
        if not multi:
            return replicate(tree, mesh) if replicated else shard_batch(tree, mesh)
        sh = replicated_sharding(mesh) if replicated else batch_sharding(mesh)

        def one(x):
            x = np.asarray(x)
            return jax.make_array_from_callback(x.shape, sh, lambda idx: x[idx])

        return jax.tree.map(one, tree)


class _Writer:
    """Writes chunks to a store on one background thread, so the disk overlaps the next chunk's
    computation; at most one write is pending (two chunks of outputs on the host at a time), and
    an error of a write is raised by the next :meth:`submit` or :meth:`wait`."""

    def __init__(self, store):
        self._store, self._pool, self._pending = store, None, None

    def submit(self, i: int, parts) -> None:
        if self._store is None:
            return
        self.wait()
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pbufjax-campaign")
        self._pending = self._pool.submit(self._store.write, i, parts)

    def wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)


def _from_main(parts, batched, cases, shared, n: int) -> list[np.ndarray]:
    """Process 0's assembled outputs on every process (one broadcast over all devices)."""
    import jax
    from jax.experimental import multihost_utils

    if parts is None:
        one = jax.tree.map(lambda x: np.asarray(x)[:1], cases)
        shapes = jax.tree.leaves(jax.eval_shape(batched, one, shared))
        parts = [np.zeros((n, *s.shape[1:]), s.dtype) for s in shapes]
    kinds = [p.dtype for p in parts]
    sent = [p.astype(np.int32) if p.dtype == bool else p for p in parts]
    got = multihost_utils.broadcast_one_to_all(sent)
    return [np.asarray(g).astype(k) for g, k in zip(got, kinds)]


__all__ = [
    "BATCH_AXIS",
    "CPU_MAX_CHUNK",
    "MAX_CHUNK",
    "MEMORY_FRACTION",
    "BatchRunner",
    "batch_mesh",
    "batch_sharding",
    "case_bytes",
    "check_count",
    "choose_chunk_size",
    "memory_budget",
    "plan_chunks",
    "replicate",
    "replicated_sharding",
    "resolve_devices",
    "shard_batch",
]
