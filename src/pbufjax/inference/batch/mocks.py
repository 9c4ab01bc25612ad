"""Mock data around a fiducial model, and batches of fits to them.

Every batch job is *one* pure function that fits a single case — a bounded fit of the
joint χ² of :class:`pbufjax.likelihoods.Likelihood` by a batch solver
(:mod:`pbufjax.inference.batch.common`) — vectorized with ``jax.vmap``, compiled once,
sharded over the available devices and run in memory-bounded chunks by
:class:`pbufjax.inference.sharding.BatchRunner`.

Mock data
---------
Mock :math:`i` of dataset :math:`j` is drawn around a fiducial data vector
:math:`m_j` (the fiducial model's prediction) from the dataset's covariance
:math:`C_j = L_j L_j^T` (scaled by ``covariance_scaling`` like the likelihood):

.. math::

    d_j^{(i)} = m_j + L_j\\,\\varepsilon,\\qquad \\varepsilon \\sim \\mathcal N(0, 1),

with the normal deviates drawn from the key ``fold_in(fold_in(PRNGKey(seed), i), j)``:
mock :math:`i` is the same whatever the batch size, chunk size or device count.
For supernovae, :math:`m_j` includes the magnitude offset fitted to the real data
(the likelihood marginalizes it, so its value does not matter).

Data vectors and mocks are keyed by the dataset names as the caller wrote them
(aliases included); ``fiducial["dataset_names"]`` maps them to the canonical names.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ... import fit as _fit
from ...runtime.compile_cache import enable_from_environment
from ..sharding import check_count
from .common import (
    DEFAULT_METHOD,
    best_of_starts,
    check_fit_options,
    dataset_keys,
    finish_campaign,
    fit_one,
    fit_real,
    open_campaign,
    problem,
    result_arrays,
    runner,
    seed_key,
    starts,
    valid_free,
)

logger = logging.getLogger(__name__)


def _split(names: Sequence[str] | str) -> list[str]:
    return [s.strip() for s in names.split(",") if s.strip()] if isinstance(names, str) else list(names)


def fiducial_model(datasets_list, free_params: Sequence[str] | str = (), *, overrides=None, fiducial=None,
                   model: str = "lcdm", covariance_scaling: float = 1.0,
                   method: str = DEFAULT_METHOD, data_dir=None) -> dict[str, Any]:
    """The fiducial data vectors mocks are drawn around.

    Args:
        datasets_list: datasets.
        free_params: parameters the fiducial model is fitted in when ``fiducial`` is
            None (those of them that ``model`` has; the others are ignored).
        overrides: fixed parameter values (those that ``model`` has).
        fiducial: parameter values of ``model`` (default: its best fit to the real data).
        model: the fiducial model (default ΛCDM).
        covariance_scaling: :math:`s` in :math:`C \\to sC`.
        method: optimizer of the fit to the real data (:data:`FIT_METHODS`).
        data_dir: folder of the data files (default: the package's search path).

    Returns:
        ``{"model", "params" (every numeric parameter), "data": {name: vector} (keyed by
        the names in ``datasets_list``), "dataset_names": {name: canonical name},
        "chi2_real" (χ² of the real data at the fiducial), "source"}``.

    Raises:
        ValueError: a fiducial parameter the model does not have (lists the valid ones),
            or a failed fit to the real data.
        TypeError: ``fiducial`` not a dict.
    """
    from ...cosmology.parameters import STATIC_PARAMS, get_defaults

    enable_from_environment()
    keys = dataset_keys(datasets_list)
    valid = [k for k in get_defaults(model) if k != "model_class"]
    own = set(valid) | set(_fit.NUISANCE_BOUNDS)
    over = {k: v for k, v in dict(overrides or {}).items() if k in own or k in STATIC_PARAMS}
    if fiducial is not None:
        if not isinstance(fiducial, Mapping):
            raise TypeError(f"fiducial must be a dict of parameter values, got {type(fiducial).__name__}")
        bad = sorted(k for k in fiducial if k not in own)
        if bad:
            raise ValueError(f"fiducial parameter(s) {bad} are not parameters of model {model!r}; valid: "
                             f"{', '.join(valid)}")
        prob = problem(model, datasets_list, [], {**over, **dict(fiducial)}, covariance_scaling, data_dir=data_dir,
                       allow_empty=True)
        theta, source = prob.x0, "given"
    else:
        usable = valid_free(model, tuple(keys.values()))
        free = [p for p in _split(free_params) if p in usable]
        prob = problem(model, datasets_list, free, over, covariance_scaling, data_dir=data_dir, allow_empty=True)
        if free:
            fit = fit_real(prob, options={"method": method})
            if fit["status"] == _fit.Status.FAILED:
                raise ValueError(f"the fit of the fiducial model {model!r} to the real data failed")
            theta, source = fit["x"], f"best fit of {model} to the real data (free: {', '.join(free)})"
        else:
            theta, source = prob.x0, f"{model} at the given values"
    blocks = prob.evaluate(theta)
    # the likelihood's blocks are keyed by canonical name (or, where it keys them as passed, by that)
    data = {name: np.asarray(blocks[c if c in blocks else name]["predictions"]["values"], np.float64)
            for name, c in keys.items()}
    return {"model": model, "params": prob.values(theta), "data": data, "dataset_names": keys,
            "chi2_real": float(sum(b["chi2"] for b in blocks.values())), "source": source}


def canonical_data(fid: Mapping) -> dict[str, np.ndarray]:
    """A :func:`fiducial_model` result's data vectors keyed by canonical dataset name."""
    names = fid.get("dataset_names") or {k: k for k in fid["data"]}
    return {names[k]: v for k, v in fid["data"].items()}


def mock_vectors(key, index, fid: Mapping, chol: Mapping, names: Sequence[str], noise=1.0):
    """Mock data vectors of one mock index (pure JAX; see the module docstring)."""
    import jax
    import jax.numpy as jnp

    k = jax.random.fold_in(key, index)
    out = {}
    for j, name in enumerate(names):
        eps = jax.random.normal(jax.random.fold_in(k, j), (fid[name].shape[0],), jnp.float64)
        out[name] = fid[name] + noise * (chol[name] @ eps)
    return out


def draw_mocks(datasets_list, n_mocks: int, *, fiducial: Mapping | None = None, seed: int = 0,
               overrides=None, free_params: Sequence[str] | str = ("H0", "Om0"), fiducial_model_name: str = "lcdm",
               covariance_scaling: float = 1.0, data_dir=None) -> dict[str, np.ndarray]:
    """Mock data vectors (the same ones :func:`fit_mocks` fits for the same arguments).

    Returns:
        dataset name (as in ``datasets_list``) -> array ``(n_mocks, n_data)``.

    Raises:
        ValueError: ``n_mocks < 1``.
    """
    import jax
    import jax.numpy as jnp

    n_mocks = check_count("n_mocks", n_mocks)
    key = seed_key(seed)
    fid = fiducial_model(datasets_list, free_params, overrides=overrides, fiducial=fiducial,
                         model=fiducial_model_name, covariance_scaling=covariance_scaling, data_dir=data_dir)
    prob = problem(fid["model"], datasets_list, [], None, covariance_scaling, data_dir=data_dir, allow_empty=True)
    names = list(prob.likelihood.datasets)
    chol = {k: jnp.asarray(prob.likelihood.cholesky[k]) for k in names}
    fdat = {k: jnp.asarray(v) for k, v in canonical_data(fid).items()}
    fn = jax.jit(jax.vmap(lambda i: mock_vectors(key, i, fdat, chol, names)))
    out = fn(jnp.arange(n_mocks))
    return {name: np.asarray(out[c]) for name, c in fid["dataset_names"].items()}


def mock_runner(prob, options):
    """The cached batch function fitting ``prob`` to mock ``case["index"]`` (noise ``case["noise"]``,
    0 for the real data) from each start of ``case["x0"]``, keeping the best."""
    def build():
        import jax
        import jax.numpy as jnp

        lik = prob.likelihood
        idx = np.asarray(prob.free_index)
        mask = np.asarray(prob.log_mask, bool)
        names = list(lik.datasets)

        def fit_case(case, shared):
            obs = mock_vectors(shared["key"], case["index"], shared["fid"], shared["chol"], names, case["noise"])

            def chi2(theta):
                return lik.chi2_data(shared["aux"].at[idx].set(theta), obs)

            def residuals(theta):
                return lik.residuals_data(shared["aux"].at[idx].set(theta), obs)

            def one(x0):
                return fit_one(chi2, x0, shared["lower"], shared["upper"], mask, options,
                               residuals if lik.has_residuals else None)

            r, n_best = best_of_starts(jax.vmap(one)(case["x0"]))
            return {"x": r.x, "fun": r.fun, "status": r.status, "n_iter": r.n_iter, "n_eval": r.n_eval,
                    "n_at_best": n_best, "chi2_fid": lik.chi2_data(shared["aux_fid"], obs)
                    if shared.get("aux_fid") is not None else jnp.nan}

        return fit_case

    return runner(prob, "mocks", options, build)


def _truth_vector(prob, fid: Mapping):
    """The full parameter vector of the fiducial in ``prob``'s space, or None: χ² at the truth is
    reported when every compile-time constant of the compiled χ² has the fiducial's value."""
    if prob.model != fid["model"]:
        return None
    traced = tuple(getattr(prob, "traced_params", prob.free_params))
    consts = {k: v for k, v in prob.values().items() if k not in traced}
    if all(abs(fid["params"].get(k, v) - v) <= 1e-12 * max(1.0, abs(v)) for k, v in consts.items()):
        return np.array([fid["params"].get(k, v) for k, v in zip(traced, prob.base_vector)], np.float64)
    return None


def mock_config(fid: Mapping, n_mocks: int, seed: int, n_starts: int) -> dict[str, Any]:
    """What a mock campaign depends on beyond the problem (recorded in its folder)."""
    from ...runtime.campaign import array_digest

    return {"n": int(n_mocks), "seed": int(seed), "n_starts": int(n_starts), "fiducial_model": fid["model"],
            "fiducial": fid["params"], "fiducial_sha256": array_digest(canonical_data(fid))}


def run_mocks(prob, fid, n_mocks, *, seed, n_starts, options, devices, chunk_size, max_memory, progress,
              desc="mock fits", campaign=None) -> dict[str, Any]:
    """Fit ``prob`` to mocks ``0..n_mocks-1`` of the fiducial ``fid`` (:func:`fiducial_model`),
    streaming each chunk to ``campaign`` (a :class:`~pbufjax.runtime.campaign.Campaign`) when given."""
    import jax.numpy as jnp

    names = list(prob.likelihood.datasets)
    chol = {k: jnp.asarray(prob.likelihood.cholesky[k]) for k in names}
    fdat = {k: jnp.asarray(v) for k, v in canonical_data(fid).items()}
    # start every fit at the fiducial values of the parameters the fiducial model has
    start = np.array([fid["params"].get(k, v) for k, v in zip(prob.free_params, prob.x0)], np.float64)
    start = np.clip(start, prob.lower, prob.upper)
    aux_fid = _truth_vector(prob, fid)
    cases = {"index": np.arange(n_mocks, dtype=np.int32), "x0": starts(prob, n_mocks, n_starts, start, seed),
             "noise": np.broadcast_to(np.float64(1.0), (n_mocks,))}
    shared = {"key": seed_key(seed), "fid": fdat, "chol": chol, "aux": jnp.asarray(prob.base_vector),
              "lower": jnp.asarray(prob.lower), "upper": jnp.asarray(prob.upper),
              "aux_fid": None if aux_fid is None else jnp.asarray(aux_fid)}
    run = mock_runner(prob, options)
    t0 = time.perf_counter()
    out = run.run(cases, shared, devices=devices, chunk_size=chunk_size, max_memory=max_memory,
                  progress=progress, desc=desc, store=campaign)
    elapsed = time.perf_counter() - t0
    res = result_arrays(prob, out, n_mocks)
    res["chi2_fiducial"] = np.asarray(out["chi2_fid"], np.float64) if aux_fid is not None else None
    res["plan"] = dict(run.last_plan)
    res["time"] = elapsed
    res["n_processes"], res["n_devices"] = res["plan"]["n_processes"], res["plan"]["n_devices"]
    res.update(finish_campaign(campaign, res["plan"], elapsed))
    return res


def fit_mocks(model: str, datasets_list, free_params: Sequence[str] | str, n_mocks: int, *, overrides=None,
              fiducial: Mapping | None = None, seed: int = 0, fiducial_model_name: str = "lcdm",
              covariance_scaling: float = 1.0, bounds: Mapping | None = None, n_starts: int = 1,
              devices=None, chunk_size: int | None = None, max_memory: float | None = None,
              progress: bool = False, return_mocks: bool = False, method: str = DEFAULT_METHOD,
              fit_options: Mapping | None = None, data_dir=None, output=None, resume: bool = False) -> dict[str, Any]:
    """Draw ``n_mocks`` mock data sets around a fiducial model and fit ``model`` to each.

    All fits are one vmapped, jit-compiled bounded fit (``method``: Gauss-Newton by default,
    exact Newton or L-BFGS), sharded over ``devices`` and run in chunks
    (:mod:`pbufjax.inference.sharding`).

    Args:
        model: the model fitted to the mocks.
        datasets_list: dataset names or aliases.
        free_params: parameters fitted on every mock.
        n_mocks: number of mocks K (≥ 1).
        overrides: fixed parameter values (and starting values).
        fiducial: parameter values of the fiducial model; default its best fit to the
            real data in the free parameters it shares with ``free_params``.
        seed: random seed (mock ``i`` depends only on ``seed`` and ``i``).
        fiducial_model_name: model the mocks are drawn from (default ``"lcdm"``).
        covariance_scaling: :math:`s` in :math:`C \\to sC` (mocks and χ²).
        bounds: ``{name: (lower, upper)}`` replacing the default bounds.
        n_starts: starts per mock (the fiducial, then uniform draws in the box); the
            best converged one is kept (vmapped multi-start).
        devices: devices to shard over (default all; see :func:`pbufjax.sharding.resolve_devices`).
        chunk_size: mocks per chunk (default chosen from memory).
        max_memory: memory budget of a chunk [bytes].
        progress: progress bar over chunks.
        return_mocks: also return the mock data vectors (``"mocks"``).
        method: a batch method, ``"gauss_newton"`` (default), ``"newton"`` or ``"lbfgs"``
            (:data:`FIT_METHODS`; :mod:`pbufjax.inference.batch.common`).
        fit_options: options of the method (:data:`FIT_METHODS`).
        data_dir: folder of the data files (default: the package's search path).
        output: campaign folder: results are streamed there chunk by chunk (one ``.npz``
            per chunk, :mod:`pbufjax.runtime.campaign`), so a killed run can be resumed;
            memory then holds one chunk of fits at a time.
        resume: continue the campaign in ``output`` (same configuration; chunks on disk
            are read, not refitted; a missing folder starts it). Without it an existing
            campaign is refused, never overwritten.

    Returns:
        ``{"params": {name: array[K]}, "chi2": array[K], "status" (0 converged, 1
        max_iter, 2 failed), "converged", "n_iter", "n_eval", "n_at_best" (starts
        reaching the best χ² within 1e-4), "chi2_fiducial" (χ² of each mock at the
        fiducial parameters when ``model`` is the fiducial model, else None),
        "fiducial", "model", "datasets", "free_params", "n_mocks", "n_data", "dof",
        "seed", "plan" (devices, chunks), "n_processes", "n_devices", "time" [s], "mocks"
        (optional, keyed by the names in ``datasets_list``), "output" and "resumed_chunks"
        (with ``output``)}``.

    Raises:
        ValueError: ``n_mocks < 1``, ``n_starts < 1``, no or unknown free parameters,
            unknown model, bad fiducial, more devices than exist; a campaign in ``output``
            that cannot be resumed (:class:`~pbufjax.runtime.campaign.CampaignError`).
        KeyError: unknown dataset.
        TypeError: wrong argument types.

    Example:
        >>> r = fit_mocks("lcdm", ["desi_dr2"], ["H0", "Om0"], 100, overrides={"Obh2": 0.02237})  # doctest: +SKIP
        >>> r["chi2"].mean()                                                                        # doctest: +SKIP
    """
    enable_from_environment()
    n_mocks = check_count("n_mocks", n_mocks)
    n_starts = check_count("n_starts", n_starts)
    options = check_fit_options(fit_options, method)
    prob = problem(model, datasets_list, free_params, overrides, covariance_scaling, bounds, data_dir=data_dir)
    fid = fiducial_model(datasets_list, free_params, overrides=overrides, fiducial=fiducial,
                         model=fiducial_model_name, covariance_scaling=covariance_scaling, method=method,
                         data_dir=data_dir)
    camp = open_campaign(output, resume, "fit_mocks", prob, options, **mock_config(fid, n_mocks, seed, n_starts))
    res = run_mocks(prob, fid, n_mocks, seed=seed, n_starts=n_starts, options=options, devices=devices,
                    chunk_size=chunk_size, max_memory=max_memory, progress=progress, campaign=camp)
    n_data = int(prob.likelihood.n_total)
    n_bad = int(np.sum(res["status"] == 2))
    if n_bad:
        logger.warning("%d of %d mock fits failed (non-finite χ²)", n_bad, n_mocks)
    res.update(model=model, datasets=list(prob.datasets), free_params=list(prob.free_params), n_mocks=n_mocks,
               n_data=n_data, dof=n_data - prob.n_free, seed=int(seed), fiducial=fid)
    if return_mocks:
        res["mocks"] = draw_mocks(datasets_list, n_mocks, fiducial=fid["params"], seed=seed,
                                  fiducial_model_name=fid["model"], covariance_scaling=covariance_scaling,
                                  data_dir=data_dir)
    return res


__all__ = ["canonical_data", "draw_mocks", "fiducial_model", "fit_mocks", "mock_config", "mock_runner", "mock_vectors",
           "run_mocks"]
