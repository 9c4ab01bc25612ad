"""Batches over devices and in chunks (public module; the implementation is :mod:`pbufjax.inference.sharding`)."""

from .inference.sharding import (
    BATCH_AXIS,
    CPU_MAX_CHUNK,
    MAX_CHUNK,
    MEMORY_FRACTION,
    BatchRunner,
    batch_mesh,
    batch_sharding,
    case_bytes,
    check_count,
    choose_chunk_size,
    memory_budget,
    plan_chunks,
    replicate,
    replicated_sharding,
    resolve_devices,
    shard_batch,
)

__all__ = ["BATCH_AXIS", "CPU_MAX_CHUNK", "MAX_CHUNK", "MEMORY_FRACTION", "BatchRunner", "batch_mesh",
           "batch_sharding", "case_bytes", "check_count", "choose_chunk_size", "memory_budget", "plan_chunks",
           "replicate", "replicated_sharding", "resolve_devices", "shard_batch"]
