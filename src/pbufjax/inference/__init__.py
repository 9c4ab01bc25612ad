"""Inference on the fit layer: sharded, chunked batches (:mod:`.sharding`), posterior sampling
(:mod:`.sampling`) and batched fits — mocks, model comparison, profiles, many starts
(:mod:`.batch`).

Importing it does no work: the persistent compile cache is switched on by the first batch or
sampling call, and the compiled-function caches register with :func:`pbufjax.runtime.register_cache`.
"""
