"""Many starts of the fit to the real data in one vmapped batch (multimodal problems).

The batch reuses the mock-fit program with zero noise around the observed data vectors,
so a multi-start run and a mock batch of the same problem share one compiled program.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ...runtime.compile_cache import enable_from_environment
from ..sharding import check_count
from .common import (
    DEFAULT_METHOD,
    check_fit_options,
    finish_campaign,
    open_campaign,
    problem,
    result_arrays,
    seed_key,
    starts,
)
from .mocks import mock_runner


def multistart(model: str, datasets_list, free_params: Sequence[str] | str, n_starts: int, *, overrides=None,
               covariance_scaling: float = 1.0, bounds: Mapping | None = None, seed: int = 0, devices=None,
               chunk_size: int | None = None, max_memory: float | None = None, progress: bool = False,
               method: str = DEFAULT_METHOD, fit_options: Mapping | None = None,
               agree_tol: float = 1e-4, data_dir=None, output=None, resume: bool = False) -> dict[str, Any]:
    """Fit the real data from ``n_starts`` points in one vmapped batch (multimodal problems).

    The first start is the problem's starting point (defaults/overrides), the others
    are uniform in the unit box of the bounds (log-space parameters uniform in
    :math:`\\log_{10}`), drawn with ``seed``.

    Args:
        model: model name.
        datasets_list: dataset names or aliases.
        free_params: fitted parameters.
        n_starts: number of starts (≥ 1).
        overrides: fixed parameter values (and the first start).
        covariance_scaling: :math:`s` in :math:`C \\to sC`.
        bounds: ``{name: (lower, upper)}`` replacing the default bounds.
        seed: random seed of the starts.
        devices: devices to shard over.
        chunk_size: starts per chunk.
        max_memory: memory budget of a chunk [bytes].
        progress: progress bar over chunks.
        method: batch fit method (:data:`FIT_METHODS`).
        fit_options: options of the method.
        agree_tol: χ² difference under which two minima are the same.
        data_dir: folder of the data files (default: the package's search path).
        output: campaign folder the fits are streamed to chunk by chunk
            (:mod:`pbufjax.runtime.campaign`; as in :func:`~pbufjax.inference.batch.mocks.fit_mocks`).
        resume: continue the campaign in ``output`` (same configuration).

    Returns:
        ``{"params": {name: array[n_starts]}, "chi2", "status", "starts" (n_starts,
        k), "best": {name: value}, "chi2_min", "n_converged", "n_at_best" (within
        ``agree_tol`` of the best χ²), "distinct_minima" (χ² values of the distinct
        converged minima, rounded to ``agree_tol``), "plan", "n_processes", "n_devices",
        "output" and "resumed_chunks" (with ``output``)}``.

    Raises:
        ValueError: ``n_starts < 1``, bad parameters, a campaign in ``output`` that cannot be resumed.
    """
    enable_from_environment()
    n_starts = check_count("n_starts", n_starts)
    options = check_fit_options(fit_options, method)
    prob = problem(model, datasets_list, free_params, overrides, covariance_scaling, bounds, data_dir=data_dir)
    x0s = starts(prob, 1, n_starts, prob.x0, seed)[0]
    camp = open_campaign(output, resume, "multistart", prob, options, n=n_starts, seed=int(seed))
    res = fit_from_starts(prob, x0s, seed, options, devices=devices, chunk_size=chunk_size, max_memory=max_memory,
                          progress=progress, campaign=camp)
    chi2 = res["chi2"]
    ok = res["status"] == 0
    pool = np.where(ok)[0] if ok.any() else np.where(res["status"] < 2)[0]
    best = int(pool[np.argmin(chi2[pool])]) if pool.size else 0
    at_best = np.isfinite(chi2) & (np.abs(chi2 - chi2[best]) <= agree_tol)
    distinct = sorted({round(float(c) / agree_tol) * agree_tol for c in chi2[ok]})
    return {
        "params": res["params"],
        "chi2": chi2,
        "status": res["status"],
        "starts": x0s,
        "best": {k: float(v[best]) for k, v in res["params"].items()},
        "chi2_min": float(chi2[best]),
        "n_converged": int(ok.sum()),
        "n_at_best": int(at_best.sum()),
        "distinct_minima": distinct,
        "plan": res["plan"],
        **{k: res[k] for k in ("n_processes", "n_devices", "output", "resumed_chunks") if k in res},
    }


def fit_from_starts(prob, x0s, seed, options, *, devices=None, chunk_size=None, max_memory=None,
                    progress=False, campaign=None) -> dict[str, Any]:
    """Fits of the real data from each row of ``x0s``: the mock batch function with zero
    noise around the observed data vectors (no second compiled program); streamed to
    ``campaign`` when given."""
    import jax.numpy as jnp

    names = list(prob.likelihood.datasets)
    n = x0s.shape[0]
    cases = {"index": np.broadcast_to(np.int32(0), (n,)), "x0": x0s[:, None, :],
             "noise": np.broadcast_to(np.float64(0.0), (n,))}
    shared = {"key": seed_key(seed), "fid": {k: jnp.asarray(prob.likelihood.observations[k]) for k in names},
              "chol": {k: jnp.asarray(prob.likelihood.cholesky[k]) for k in names},
              "aux": jnp.asarray(prob.base_vector), "lower": jnp.asarray(prob.lower),
              "upper": jnp.asarray(prob.upper),
              # same inputs as a mock batch (the value is unused): one compiled program serves both
              "aux_fid": jnp.asarray(prob.base_vector)}
    run = mock_runner(prob, options)
    t0 = time.perf_counter()
    out = run.run(cases, shared, devices=devices, chunk_size=chunk_size, max_memory=max_memory,
                  progress=progress, desc="starts", store=campaign)
    res = result_arrays(prob, out, n)
    res["plan"] = dict(run.last_plan)
    res["n_processes"], res["n_devices"] = res["plan"]["n_processes"], res["plan"]["n_devices"]
    res.update(finish_campaign(campaign, res["plan"], time.perf_counter() - t0))
    return res


__all__ = ["fit_from_starts", "multistart"]
