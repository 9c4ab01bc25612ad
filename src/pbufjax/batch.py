"""Batched fits: mock-data calibration, model comparison, profile likelihoods, many starts.

Every batch job here is *one* pure function that fits a single case — a bounded fit of
the joint χ² of :class:`pbufjax.likelihoods.Likelihood` by one of the pure-JAX optimizers
of :mod:`pbufjax.optimizer` — vectorized with ``jax.vmap``, compiled once, sharded over
the available devices and run in memory-bounded chunks by
:class:`pbufjax.sharding.BatchRunner`.

Optimizer
---------
``method="gauss_newton"`` (default; :func:`pbufjax.optimizer.fit_newton` with the
whitened residuals of :meth:`pbufjax.likelihoods.Likelihood.residuals_data`: damped
projected Newton steps on the Gauss-Newton matrix :math:`2J^TJ`, exact gradient, so the
minima are those of the exact χ²), ``"newton"`` (the same with the exact Hessian) or
``"lbfgs"`` (:func:`pbufjax.optimizer.fit_lbfgs`). In a vmapped ``while_loop`` every member
runs until the slowest has finished, and finished members still execute the (masked) loop
body. The Newton bodies are one value+gradient+(Gauss-Newton or exact) Hessian evaluation
and converge in a few iterations; the Gauss-Newton one needs only k forward-mode tangents
(the exact Hessian k(k+1)), about 4x less work per fit here. L-BFGS's body holds
a line search that, at an already converged point, runs to its step limit — so a batch of
L-BFGS fits costs many times the sum of the single fits (measured in
``documents/sampling_and_batch.md``).

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

Model comparison
----------------
With :math:`\\chi^2_0` (null model, :math:`k_0` free parameters) and :math:`\\chi^2_1`
(alternative, :math:`k_1`) minimized on the same data,

.. math::

    \\Delta\\chi^2 = \\chi^2_0 - \\chi^2_1,\\qquad
    \\Delta\\mathrm{AIC} = (\\chi^2_1 + 2k_1) - (\\chi^2_0 + 2k_0)

(Akaike 1974; negative ΔAIC favours the alternative). The distribution of
:math:`\\Delta\\chi^2` over mocks drawn from the null model's best fit calibrates the
value seen on the real data; the p-value is
:math:`p = (1 + \\#\\{\\Delta\\chi^2_{mock} \\ge \\Delta\\chi^2_{obs}\\})/(1 + K)`
(Davison & Hinkley 1997, eq. 4.11), which is never zero for finite :math:`K`.
Wilks' theorem (a :math:`\\chi^2_{k_1-k_0}` law) need not hold when parameters sit at a
bound or are unidentified under the null — the reason for calibrating with mocks.

Profile likelihoods
-------------------
For profiled parameters :math:`\\psi` on a grid, :math:`\\chi^2_p(\\psi) = \\min_\\lambda
\\chi^2(\\psi, \\lambda)` over the other free parameters :math:`\\lambda`;
:math:`\\Delta\\chi^2 = \\chi^2_p - \\chi^2_{min}`. One-dimensional 68/95% intervals are
:math:`\\Delta\\chi^2 \\le 1, 3.84`; two-dimensional regions :math:`\\Delta\\chi^2 \\le 2.30,
5.99` (Wilks 1938; the χ² law with 1 and 2 degrees of freedom).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from . import compile_cache as _compile_cache
from . import optimizer as _opt
from .sharding import BatchRunner, _check_count

logger = logging.getLogger(__name__)

_compile_cache.enable_from_environment()  # a second process reuses the compiled programs

#: Δχ² thresholds of 68% and 95% regions for 1 and 2 profiled parameters.
DELTA_CHI2_LEVELS: dict[int, dict[str, float]] = {
    1: {"68": 1.0, "95": 3.841458820694124},
    2: {"68": 2.295748928898636, "95": 5.991464547107979},
}

#: Batch fit methods -> the options each accepts in ``fit_options``: ``"lbfgs"``
#: (:func:`pbufjax.optimizer.fit_lbfgs`), ``"newton"`` (:func:`pbufjax.optimizer.fit_newton`,
#: damped projected Newton with the exact Hessian) and ``"gauss_newton"`` (the same
#: iteration with the Gauss-Newton matrix of the whitened residuals,
#: :meth:`pbufjax.likelihoods.Likelihood.residuals_data`; exact gradient, so the same
#: minima; falls back to ``newton`` when a dataset is a user χ² function).
FIT_METHODS: dict[str, tuple[str, ...]] = {
    "lbfgs": ("maxiter", "gtol", "ftol", "memory_size", "max_linesearch_steps"),
    "newton": ("maxiter", "gtol", "ftol", "damping"),
    "gauss_newton": ("maxiter", "gtol", "ftol", "damping"),
}
#: Default batch fit method.
DEFAULT_METHOD = "gauss_newton"

_RUNNERS: dict = {}


# ---------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------


_CASTS = {"maxiter": int, "memory_size": int, "max_linesearch_steps": int, "gtol": float, "ftol": float,
          "damping": float}


def _fit_options(options: Mapping | None, method: str = DEFAULT_METHOD) -> dict:
    """Validated ``fit_options`` with the method under ``"method"``."""
    if not isinstance(method, str) or method not in FIT_METHODS:
        raise ValueError(f"unknown batch fit method {method!r}; valid methods: {', '.join(FIT_METHODS)}")
    if options is None:
        options = {}
    if not isinstance(options, Mapping):
        raise TypeError(f"fit_options must be a dict, got {type(options).__name__}")
    bad = sorted(set(options) - set(FIT_METHODS[method]))
    if bad:
        raise ValueError(f"unknown fit option(s) {bad} for method {method!r}; valid options: "
                         f"{', '.join(FIT_METHODS[method])}")
    out = {"method": method}
    for k, v in options.items():
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise TypeError(f"fit option {k!r} must be a number, got {v!r}")
        out[k] = _CASTS[k](v)
        if out[k] <= 0 and k != "damping" or out[k] < 0:
            raise ValueError(f"fit option {k!r} must be > 0, got {v!r}")
    return out


def _fit_one(chi2, x0, lower, upper, mask, options: Mapping, residuals=None):
    """One bounded fit with the configured pure-JAX optimizer (jit/vmap-able).

    ``residuals(theta) -> (w, ok)`` (whitened residuals) is used by ``gauss_newton``;
    without it that method is exact Newton."""
    opts = dict(options)
    method = opts.pop("method", DEFAULT_METHOD)
    if method == "lbfgs":
        return _opt.fit_lbfgs(chi2, x0, lower, upper, log_mask=mask, **opts)
    if method == "gauss_newton" and residuals is not None:
        opts["residuals"] = residuals
    return _opt.fit_newton(chi2, x0, lower, upper, log_mask=mask, **opts)


def _problem(model, datasets_list, free_params, overrides, covariance_scaling, bounds, *, allow_empty=False):
    prob = _opt.get_problem(model, datasets_list, free_params, overrides, covariance_scaling, bounds)
    if prob.n_free == 0 and not allow_empty:
        raise ValueError(f"no free parameters: give at least one of {', '.join(_valid_free(prob))}")
    return prob


def _valid_free(prob) -> list[str]:
    from .parameter import optimizable_parameters

    return optimizable_parameters(prob.model) + list(_opt._nuisance_for(prob.datasets))


def _runner(prob, kind: str, options: Mapping, build) -> BatchRunner:
    key = (id(prob.likelihood), prob.free_params, prob.log_mask, kind, tuple(sorted(options.items())))
    hit = _RUNNERS.get(key)
    if hit is None or hit[0] is not prob.likelihood:
        hit = _RUNNERS[key] = (prob.likelihood, BatchRunner(build()))
    return hit[1]


def clear_cache() -> None:
    """Forget the compiled batch functions."""
    _RUNNERS.clear()


def _best_of_starts(rs):
    """Index the best start of a vmapped :class:`LBFGSResult` (converged fits preferred)."""
    import jax
    import jax.numpy as jnp

    ok = rs.status < 2
    score = jnp.where(ok, rs.fun, jnp.inf)
    score = jnp.where(jnp.any(ok), score, rs.fun)
    best = jnp.argmin(score)
    return jax.tree.map(lambda a: a[best], rs), jnp.sum(ok & (jnp.abs(rs.fun - rs.fun[best]) <= 1e-4))


def _result_arrays(prob, out, n: int) -> dict[str, Any]:
    x = np.asarray(out["x"], np.float64).reshape(n, prob.n_free)
    status = np.asarray(out["status"], np.int32)
    return {
        "params": {k: x[:, i].copy() for i, k in enumerate(prob.free_params)},
        "chi2": np.asarray(out["fun"], np.float64),
        "status": status,
        "converged": status == 0,
        "n_iter": np.asarray(out["n_iter"], np.int32),
        "n_eval": np.asarray(out["n_eval"], np.int32),
        "n_at_best": np.asarray(out["n_at_best"], np.int32),
    }


# ---------------------------------------------------------------------------
# Single fits on the real data (shared with the engine's compiled L-BFGS)
# ---------------------------------------------------------------------------


def fit_real(prob, x0=None, options: Mapping | None = None) -> dict[str, Any]:
    """Fit a :class:`~pbufjax.optimizer.FitProblem` to its real data with a pure-JAX optimizer.

    Uses the problem's compiled single-fit solver (the one behind
    ``run_fit(..., optimizer_config={"method": "lbfgs"})`` or ``"newton"``; ``"gauss_newton"``
    uses the exact ``newton`` solver here).

    Args:
        prob: the fit problem.
        x0: start (default the problem's).
        options: ``{"method": "lbfgs" | "newton" | "gauss_newton", **fit options}`` (:data:`FIT_METHODS`).

    Returns:
        ``{"params": {name: value}, "chi2", "status", "x"}``.
    """
    opts = dict(options or {})
    method = opts.pop("method", DEFAULT_METHOD)
    opts = _fit_options(opts, method)
    opts.pop("method")
    x0 = prob.x0 if x0 is None else np.asarray(x0, np.float64)
    if prob.n_free == 0:
        chi2 = prob.chi2()
        return {"params": {}, "chi2": chi2, "status": _opt.STATUS_SUCCESS, "x": np.zeros(0)}
    # one real-data fit: exact Newton (its Hessian is the one reported) for both Newton methods
    solver = prob.compiled.lbfgs_solver if method == "lbfgs" else prob.compiled.newton_solver
    r = solver(**opts)(x0, prob.lower, prob.upper, prob.base_vector)
    x = np.asarray(r.x, np.float64)
    return {"params": dict(zip(prob.free_params, (float(v) for v in x))), "chi2": float(r.fun),
            "status": _opt.lbfgs_status_name(int(r.status)), "x": x}


# ---------------------------------------------------------------------------
# Fiducial model and mock data
# ---------------------------------------------------------------------------


def fiducial_model(datasets_list, free_params: Sequence[str] | str = (), *, overrides=None, fiducial=None,
                   model: str = "lcdm", covariance_scaling: float = 1.0,
                   method: str = DEFAULT_METHOD) -> dict[str, Any]:
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

    Returns:
        ``{"model", "params" (every numeric parameter), "data": {name: vector},
        "chi2_real" (χ² of the real data at the fiducial), "source"}``.

    Raises:
        ValueError: a fiducial parameter the model does not have (lists the valid ones),
            or a failed fit to the real data.
        TypeError: ``fiducial`` not a dict.
    """
    from .parameter import STATIC_PARAMS, get_defaults, optimizable_parameters

    valid = [k for k in get_defaults(model) if k != "model_class"]
    own = set(valid) | set(_opt.NUISANCE_BOUNDS)
    if isinstance(free_params, str):
        free_params = [s.strip() for s in free_params.split(",") if s.strip()]
    over = {k: v for k, v in dict(overrides or {}).items() if k in own or k in STATIC_PARAMS}
    if fiducial is not None:
        if not isinstance(fiducial, Mapping):
            raise TypeError(f"fiducial must be a dict of parameter values, got {type(fiducial).__name__}")
        bad = sorted(k for k in fiducial if k not in own)
        if bad:
            raise ValueError(f"fiducial parameter(s) {bad} are not parameters of model {model!r}; valid: "
                             f"{', '.join(valid)}")
        prob = _opt.get_problem(model, datasets_list, [], {**over, **dict(fiducial)}, covariance_scaling)
        theta, source = prob.x0, "given"
    else:
        usable = optimizable_parameters(model) + list(_opt._nuisance_for(_opt.canonical_datasets(datasets_list)))
        free = [p for p in free_params if p in usable]
        prob = _opt.get_problem(model, datasets_list, free, over, covariance_scaling)
        if free:
            fit = fit_real(prob, options={"method": method})
            if fit["status"] == _opt.STATUS_FAILED:
                raise ValueError(f"the fit of the fiducial model {model!r} to the real data failed")
            theta, source = fit["x"], f"best fit of {model} to the real data (free: {', '.join(free)})"
        else:
            theta, source = prob.x0, f"{model} at the given values"
    blocks = prob.evaluate(theta)
    data = {name: np.asarray(b["predictions"]["values"], np.float64) for name, b in blocks.items()}
    return {"model": model, "params": prob.values(theta), "data": data,
            "chi2_real": float(sum(b["chi2"] for b in blocks.values())), "source": source}


def _mock_vectors(key, index, fid: Mapping, chol: Mapping, names: Sequence[str], noise=1.0):
    """Mock data vectors of one mock index (pure JAX; see the module docstring)."""
    import jax
    import jax.numpy as jnp

    k = jax.random.fold_in(key, index)
    out = {}
    for j, name in enumerate(names):
        eps = jax.random.normal(jax.random.fold_in(k, j), (fid[name].shape[0],), jnp.float64)
        out[name] = fid[name] + noise * (chol[name] @ eps)
    return out


def _seed_key(seed):
    import jax

    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, got {type(seed).__name__} ({seed!r})")
    return jax.random.PRNGKey(int(seed))


def draw_mocks(datasets_list, n_mocks: int, *, fiducial: Mapping | None = None, seed: int = 0,
               overrides=None, free_params: Sequence[str] | str = ("H0", "Om0"), fiducial_model_name: str = "lcdm",
               covariance_scaling: float = 1.0) -> dict[str, np.ndarray]:
    """Mock data vectors (the same ones :func:`fit_mocks` fits for the same arguments).

    Returns:
        dataset name -> array ``(n_mocks, n_data)``.

    Raises:
        ValueError: ``n_mocks < 1``.
    """
    import jax
    import jax.numpy as jnp

    n_mocks = _check_count("n_mocks", n_mocks)
    key = _seed_key(seed)
    fid = fiducial_model(datasets_list, free_params, overrides=overrides, fiducial=fiducial,
                         model=fiducial_model_name, covariance_scaling=covariance_scaling)
    prob = _opt.get_problem(fid["model"], datasets_list, [], None, covariance_scaling)
    names = list(prob.likelihood.datasets)
    chol = {k: jnp.asarray(prob.likelihood.cholesky[k]) for k in names}
    fdat = {k: jnp.asarray(fid["data"][k]) for k in names}
    fn = jax.jit(jax.vmap(lambda i: _mock_vectors(key, i, fdat, chol, names)))
    return {k: np.asarray(v) for k, v in fn(jnp.arange(n_mocks)).items()}


def _starts(prob, n: int, n_starts: int, x0, seed: int) -> np.ndarray:
    """Starting points ``(n, n_starts, k)``: ``x0`` first, then uniform draws in the box."""
    x = np.broadcast_to(np.asarray(x0, np.float64), (n, 1, prob.n_free)).copy()
    if n_starts == 1:
        return x
    rng = np.random.default_rng([int(seed), 7919])
    u = rng.uniform(0.0, 1.0, (n, n_starts - 1, prob.n_free))
    extra = _opt.from_unit(u, prob.lower, prob.upper, np.asarray(prob.log_mask, bool))
    return np.concatenate([x, extra], axis=1)


def _mock_runner(prob, options):
    def build():
        import jax
        import jax.numpy as jnp

        lik = prob.likelihood
        idx = np.asarray(prob.free_index)
        mask = np.asarray(prob.log_mask, bool)
        names = list(lik.datasets)

        def fit_case(case, shared):
            obs = _mock_vectors(shared["key"], case["index"], shared["fid"], shared["chol"], names, case["noise"])

            def chi2(theta):
                return lik.chi2_data(shared["aux"].at[idx].set(theta), obs)

            def residuals(theta):
                return lik.residuals_data(shared["aux"].at[idx].set(theta), obs)

            def one(x0):
                return _fit_one(chi2, x0, shared["lower"], shared["upper"], mask, options,
                                residuals if lik.has_residuals else None)

            r, n_best = _best_of_starts(jax.vmap(one)(case["x0"]))
            return {"x": r.x, "fun": r.fun, "status": r.status, "n_iter": r.n_iter, "n_eval": r.n_eval,
                    "n_at_best": n_best, "chi2_fid": lik.chi2_data(shared["aux_fid"], obs)
                    if shared.get("aux_fid") is not None else jnp.nan}

        return fit_case

    return _runner(prob, "mocks", options, build)


def _run_mocks(prob, fid, n_mocks, *, seed, n_starts, options, devices, chunk_size, max_memory, progress,
               indices=None, noise=None, desc="mock fits"):
    import jax.numpy as jnp

    names = list(prob.likelihood.datasets)
    chol = {k: jnp.asarray(prob.likelihood.cholesky[k]) for k in names}
    fdat = {k: jnp.asarray(fid["data"][k]) for k in names}
    # start every fit at the fiducial values of the parameters the fiducial model has
    start = np.array([fid["params"].get(k, v) for k, v in zip(prob.free_params, prob.x0)], np.float64)
    start = np.clip(start, prob.lower, prob.upper)
    aux_fid = None
    if prob.model == fid["model"]:
        # χ² at the truth is reported when the fiducial lives in this problem's parameter space:
        # same values for everything that is a compile-time constant of the compiled χ²
        traced = tuple(getattr(prob, "traced_params", prob.free_params))
        consts = {k: v for k, v in prob.values().items() if k not in traced}
        if all(abs(fid["params"].get(k, v) - v) <= 1e-12 * max(1.0, abs(v)) for k, v in consts.items()):
            aux_fid = np.array([fid["params"].get(k, v) for k, v in zip(traced, prob.base_vector)], np.float64)
    idx = np.arange(n_mocks) if indices is None else np.asarray(indices)
    cases = {
        "index": idx.astype(np.int32),
        "x0": _starts(prob, len(idx), n_starts, start, seed),
        "noise": np.ones(len(idx)) if noise is None else np.asarray(noise, np.float64),
    }
    shared = {"key": _seed_key(seed), "fid": fdat, "chol": chol, "aux": jnp.asarray(prob.base_vector),
              "lower": jnp.asarray(prob.lower), "upper": jnp.asarray(prob.upper),
              "aux_fid": None if aux_fid is None else jnp.asarray(aux_fid)}
    runner = _mock_runner(prob, options)
    t0 = time.perf_counter()
    out = runner.run(cases, shared, devices=devices, chunk_size=chunk_size, max_memory=max_memory,
                     progress=progress, desc=desc)
    elapsed = time.perf_counter() - t0
    res = _result_arrays(prob, out, len(idx))
    res["chi2_fiducial"] = np.asarray(out["chi2_fid"], np.float64) if aux_fid is not None else None
    res["plan"] = dict(runner.last_plan)
    res["time"] = elapsed
    return res


def fit_mocks(model: str, datasets_list, free_params: Sequence[str] | str, n_mocks: int, *, overrides=None,
              fiducial: Mapping | None = None, seed: int = 0, fiducial_model_name: str = "lcdm",
              covariance_scaling: float = 1.0, bounds: Mapping | None = None, n_starts: int = 1,
              devices=None, chunk_size: int | None = None, max_memory: float | None = None,
              progress: bool = False, return_mocks: bool = False, method: str = DEFAULT_METHOD,
              fit_options: Mapping | None = None) -> dict[str, Any]:
    """Draw ``n_mocks`` mock data sets around a fiducial model and fit ``model`` to each.

    All fits are one vmapped, jit-compiled bounded fit (``method``: damped Newton with the
    exact Hessian by default, or L-BFGS), sharded over ``devices`` and run in chunks
    (:mod:`pbufjax.sharding`).

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
        method: ``"gauss_newton"`` (default), ``"newton"`` or ``"lbfgs"`` (:data:`FIT_METHODS`;
            module docstring).
        fit_options: options of the method (:data:`FIT_METHODS`).

    Returns:
        ``{"params": {name: array[K]}, "chi2": array[K], "status" (0 converged, 1
        max_iter, 2 failed), "converged", "n_iter", "n_eval", "n_at_best" (starts
        reaching the best χ² within 1e-4), "chi2_fiducial" (χ² of each mock at the
        fiducial parameters when ``model`` is the fiducial model, else None),
        "fiducial", "model", "datasets", "free_params", "n_mocks", "n_data", "dof",
        "seed", "plan" (devices, chunks), "time" [s], "mocks" (optional)}``.

    Raises:
        ValueError: ``n_mocks < 1``, ``n_starts < 1``, no or unknown free parameters,
            unknown model, bad fiducial, more devices than exist.
        KeyError: unknown dataset.
        TypeError: wrong argument types.

    Example:
        >>> r = fit_mocks("lcdm", ["desi_dr2"], ["H0", "Om0"], 100, overrides={"Obh2": 0.02237})  # doctest: +SKIP
        >>> r["chi2"].mean()                                                                        # doctest: +SKIP
    """
    n_mocks = _check_count("n_mocks", n_mocks)
    n_starts = _check_count("n_starts", n_starts)
    options = _fit_options(fit_options, method)
    prob = _problem(model, datasets_list, free_params, overrides, covariance_scaling, bounds)
    fid = fiducial_model(prob.datasets, free_params, overrides=overrides, fiducial=fiducial,
                         model=fiducial_model_name, covariance_scaling=covariance_scaling, method=method)
    res = _run_mocks(prob, fid, n_mocks, seed=seed, n_starts=n_starts, options=options, devices=devices,
                     chunk_size=chunk_size, max_memory=max_memory, progress=progress)
    n_data = int(prob.likelihood.n_total)
    n_bad = int(np.sum(res["status"] == 2))
    if n_bad:
        logger.warning("%d of %d mock fits failed (non-finite χ²)", n_bad, n_mocks)
    res.update(model=model, datasets=list(prob.datasets), free_params=list(prob.free_params), n_mocks=n_mocks,
               n_data=n_data, dof=n_data - prob.n_free, seed=int(seed), fiducial=fid)
    if return_mocks:
        res["mocks"] = draw_mocks(prob.datasets, n_mocks, fiducial=fid["params"], seed=seed,
                                  fiducial_model_name=fid["model"], covariance_scaling=covariance_scaling)
    return res


# ---------------------------------------------------------------------------
# Model comparison calibrated with mocks
# ---------------------------------------------------------------------------


def compare_models(datasets_list, n_mocks: int, *, null_model: str = "lcdm", alt_model: str = "pbuf",
                   null_params: Sequence[str] | str = ("H0", "Om0"),
                   alt_params: Sequence[str] | str = ("H0", "Om0", "k_sat"), overrides=None,
                   fiducial: Mapping | None = None, seed: int = 0, covariance_scaling: float = 1.0,
                   n_starts: int = 1, devices=None, chunk_size: int | None = None, max_memory: float | None = None,
                   progress: bool = False, method: str = DEFAULT_METHOD,
                   fit_options: Mapping | None = None) -> dict[str, Any]:
    """Distribution of Δχ² and ΔAIC between two models over mocks of the null model.

    Mocks are drawn from the null model's best fit to the real data (or
    ``fiducial``); both models are fitted to the same mocks (one vmapped batch each)
    and to the real data. See the module docstring for the definitions.

    Args:
        datasets_list: datasets.
        n_mocks: number of mocks K (≥ 1).
        null_model, alt_model: the two models (default ΛCDM against PBUF).
        null_params, alt_params: their free parameters.
        overrides: fixed values (each model takes the ones it has).
        fiducial: parameter values of the null model for the mocks.
        seed, covariance_scaling, n_starts, devices, chunk_size, max_memory, progress,
            method, fit_options: as in :func:`fit_mocks`.

    Returns:
        ``{"delta_chi2": array[K], "delta_aic": array[K], "valid": bool array (both
        fits converged), "observed": {"chi2_null", "chi2_alt", "delta_chi2",
        "delta_aic", "params_null", "params_alt"}, "p_value" (of the observed Δχ²),
        "n_valid", "quantiles": {"delta_chi2": {"16", "50", "84", "95"}}, "null",
        "alt" (the :func:`fit_mocks` results), "k_null", "k_alt", "fiducial"}``.

    Raises:
        ValueError, KeyError, TypeError: as :func:`fit_mocks`.
    """
    from .parameter import STATIC_PARAMS, get_defaults

    n_mocks = _check_count("n_mocks", n_mocks)
    n_starts = _check_count("n_starts", n_starts)
    options = _fit_options(fit_options, method)

    def own(model):
        keys = set(get_defaults(model)) | set(STATIC_PARAMS) | set(_opt.NUISANCE_BOUNDS)
        return {k: v for k, v in dict(overrides or {}).items() if k in keys}

    p0 = _problem(null_model, datasets_list, null_params, own(null_model), covariance_scaling, None)
    p1 = _problem(alt_model, datasets_list, alt_params, own(alt_model), covariance_scaling, None)
    real0 = fit_real(p0, options=options)
    if fiducial is None:
        if real0["status"] == _opt.STATUS_FAILED:
            raise ValueError(f"the fit of {null_model!r} to the real data failed")
        fid = fiducial_model(p0.datasets, [], overrides=own(null_model), fiducial={**real0["params"]},
                             model=null_model, covariance_scaling=covariance_scaling)
        fid["source"] = f"best fit of {null_model} to the real data (free: {', '.join(p0.free_params)})"
    else:
        fid = fiducial_model(p0.datasets, [], overrides=own(null_model), fiducial=fiducial, model=null_model,
                             covariance_scaling=covariance_scaling)
    # alternative on the real data: from its own start and from the null best fit, keep the better
    x1 = np.array([real0["params"].get(k, v) for k, v in zip(p1.free_params, p1.x0)])
    real1 = min((fit_real(p1, options=options), fit_real(p1, np.clip(x1, p1.lower, p1.upper), options)),
                key=lambda r: r["chi2"])
    kw = {"seed": seed, "n_starts": n_starts, "options": options, "devices": devices, "chunk_size": chunk_size,
          "max_memory": max_memory, "progress": progress}
    r0 = _run_mocks(p0, fid, n_mocks, desc=f"{null_model} mock fits", **kw)
    r1 = _run_mocks(p1, fid, n_mocks, desc=f"{alt_model} mock fits", **kw)
    k0, k1 = p0.n_free, p1.n_free
    dchi2 = r0["chi2"] - r1["chi2"]
    daic = (r1["chi2"] + 2 * k1) - (r0["chi2"] + 2 * k0)
    valid = (r0["status"] < 2) & (r1["status"] < 2) & np.isfinite(dchi2)
    obs_d = real0["chi2"] - real1["chi2"]
    obs_aic = (real1["chi2"] + 2 * k1) - (real0["chi2"] + 2 * k0)
    dv = dchi2[valid]
    p_value = float((1 + np.sum(dv >= obs_d)) / (1 + dv.size)) if dv.size else float("nan")
    quant = {q: float(np.percentile(dv, float(q))) for q in ("16", "50", "84", "95")} if dv.size else {}
    n_data = int(p0.likelihood.n_total)
    for r, p, m in ((r0, p0, null_model), (r1, p1, alt_model)):
        r.update(model=m, datasets=list(p.datasets), free_params=list(p.free_params), n_mocks=n_mocks,
                 n_data=n_data, dof=n_data - p.n_free, seed=int(seed), fiducial=fid)
    if int(valid.sum()) < n_mocks:
        logger.warning("%d of %d mocks excluded: a fit failed", n_mocks - int(valid.sum()), n_mocks)
    return {
        "delta_chi2": dchi2,
        "delta_aic": daic,
        "valid": valid,
        "n_valid": int(valid.sum()),
        "observed": {"chi2_null": real0["chi2"], "chi2_alt": real1["chi2"], "delta_chi2": float(obs_d),
                     "delta_aic": float(obs_aic), "params_null": real0["params"], "params_alt": real1["params"],
                     "status_null": real0["status"], "status_alt": real1["status"]},
        "p_value": p_value,
        "quantiles": {"delta_chi2": quant},
        "null": r0,
        "alt": r1,
        "null_model": null_model,
        "alt_model": alt_model,
        "k_null": k0,
        "k_alt": k1,
        "datasets": list(p0.datasets),
        "fiducial": fid,
        "n_mocks": n_mocks,
        "seed": int(seed),
    }


# ---------------------------------------------------------------------------
# Profile likelihoods
# ---------------------------------------------------------------------------


def _check_grid(grid, prob) -> tuple[list[str], list[np.ndarray]]:
    if not isinstance(grid, Mapping):
        raise TypeError(f"grid must be a dict name -> values, got {type(grid).__name__}")
    if not 1 <= len(grid) <= 2:
        raise ValueError(f"grid must profile one or two parameters, got {len(grid)}: {list(grid)}")
    names, values = [], []
    for k, v in grid.items():
        if k not in prob.free_params:
            raise ValueError(f"profiled parameter {k!r} is not among the free parameters "
                             f"{list(prob.free_params)}; list it in free_params")
        arr = np.asarray(v, np.float64).reshape(-1)
        if arr.size == 0:
            raise ValueError(f"grid of {k!r} has no points; give at least one value")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"grid of {k!r} has non-finite values")
        i = prob.free_params.index(k)
        lo, hi = prob.lower[i], prob.upper[i]
        if np.any(arr < lo) or np.any(arr > hi):
            raise ValueError(f"grid of {k!r} leaves its bounds ({lo}, {hi}): [{arr.min()}, {arr.max()}]")
        names.append(k)
        values.append(arr)
    return names, values


def _profile_runner(prob, others_idx, options):
    def build():
        import jax.numpy as jnp

        lik = prob.likelihood
        idx_all = np.asarray(prob.free_index)
        idx = idx_all[np.asarray(others_idx, int)]
        mask = np.asarray(prob.log_mask, bool)[np.asarray(others_idx, int)]

        def fit_case(case, shared):
            aux = case["aux"]
            if idx.size == 0:
                v = lik.chi2(aux)
                return {"x": jnp.zeros(0), "fun": v, "status": jnp.where(jnp.isfinite(v), 0, 2).astype(jnp.int32),
                        "n_iter": jnp.int32(0), "n_eval": jnp.int32(1), "n_at_best": jnp.int32(1)}

            def chi2(theta):
                return lik.chi2(aux.at[idx].set(theta))

            def residuals(theta):
                return lik.residuals_data(aux.at[idx].set(theta))

            r = _fit_one(chi2, case["x0"], shared["lower"], shared["upper"], mask, options,
                         residuals if lik.has_residuals else None)
            return {"x": r.x, "fun": r.fun, "status": r.status, "n_iter": r.n_iter, "n_eval": r.n_eval,
                    "n_at_best": jnp.int32(1)}

        return fit_case

    return _runner(prob, ("profile", tuple(others_idx)), options, build)


def _interval_1d(x: np.ndarray, d: np.ndarray, level: float) -> dict[str, Any]:
    """Where Δχ²(x) crosses ``level`` on each side of the minimum (linear interpolation)."""
    ok = np.isfinite(d)
    x, d = x[ok], d[ok]
    if x.size == 0:
        return {"lower": float("nan"), "upper": float("nan"), "lower_closed": False, "upper_closed": False}
    order = np.argsort(x)
    x, d = x[order], d[order]
    i0 = int(np.argmin(d))
    lo, lo_closed = float(x[0]), False
    for i in range(i0, 0, -1):
        if d[i - 1] >= level > d[i] or (d[i - 1] >= level and d[i] <= level):
            lo = float(x[i] + (level - d[i]) * (x[i - 1] - x[i]) / (d[i - 1] - d[i])) if d[i - 1] != d[i] else float(x[i])
            lo_closed = True
            break
    hi, hi_closed = float(x[-1]), False
    for i in range(i0, x.size - 1):
        if d[i + 1] >= level > d[i] or (d[i + 1] >= level and d[i] <= level):
            hi = float(x[i] + (level - d[i]) * (x[i + 1] - x[i]) / (d[i + 1] - d[i])) if d[i + 1] != d[i] else float(x[i])
            hi_closed = True
            break
    return {"lower": lo, "upper": hi, "lower_closed": lo_closed, "upper_closed": hi_closed}


def profile_likelihood(model: str, datasets_list, free_params: Sequence[str] | str, grid: Mapping[str, Any], *,
                       overrides=None, covariance_scaling: float = 1.0, bounds: Mapping | None = None,
                       devices=None, chunk_size: int | None = None, max_memory: float | None = None,
                       progress: bool = False, method: str = DEFAULT_METHOD,
                       fit_options: Mapping | None = None) -> dict[str, Any]:
    """Profile χ² on a grid of one or two parameters, minimized over the other free ones.

    Args:
        model: model name.
        datasets_list: datasets.
        free_params: free parameters, including the profiled ones.
        grid: ``{name: values}`` for one or two of ``free_params`` (a 2-D grid is the
            outer product, shape ``(len(values_1), len(values_2))``).
        overrides, covariance_scaling, bounds: as in :func:`fit_mocks`.
        devices, chunk_size, max_memory, progress, method, fit_options: as in :func:`fit_mocks`.

    Returns:
        ``{"names", "grid": {name: values}, "chi2" (grid shape), "delta_chi2",
        "chi2_min", "best" (global best fit of every free parameter), "params"
        ({other parameter: array of grid shape}), "status", "intervals" (1-D: {"68":
        {"lower", "upper", "lower_closed", "upper_closed"}, "95": ...}; 2-D: the
        range of each parameter inside the region), "levels" (Δχ² thresholds)}``.
        An interval side that does not cross the level inside the grid is reported at
        the grid edge with ``*_closed`` False.

    Raises:
        ValueError: a grid with no points, more than two profiled parameters, a
            profiled parameter not among ``free_params`` or outside its bounds.
        TypeError: ``grid`` not a dict.
    """
    options = _fit_options(fit_options, method)
    prob = _problem(model, datasets_list, free_params, overrides, covariance_scaling, bounds)
    names, values = _check_grid(grid, prob)
    shape = tuple(v.size for v in values)
    mesh = np.meshgrid(*values, indexing="ij")
    pts = np.stack([m.reshape(-1) for m in mesh], axis=1)  # (n, n_prof)
    n = pts.shape[0]
    prof_idx = [prob.free_params.index(k) for k in names]
    others = [i for i in range(prob.n_free) if i not in prof_idx]

    best = fit_real(prob, options=options)
    chi2_best = best["chi2"] if best["status"] != _opt.STATUS_FAILED else float("inf")
    x_best = best["x"]
    aux = np.tile(prob.base_vector, (n, 1))
    for j, i in enumerate(prof_idx):
        aux[:, prob.free_index[i]] = pts[:, j]
    cases = {"aux": aux}
    if others:
        cases["x0"] = np.tile(x_best[others], (n, 1))
        shared = {"lower": prob.lower[others], "upper": prob.upper[others]}
    else:
        shared = {"lower": np.zeros(0), "upper": np.zeros(0)}
    runner = _profile_runner(prob, others, options)
    out = runner.run(cases, shared, devices=devices, chunk_size=chunk_size, max_memory=max_memory,
                     progress=progress, desc="profile")
    chi2 = np.asarray(out["fun"], np.float64)
    chi2 = np.where(np.asarray(out["status"]) == 2, np.inf, chi2)
    chi2_min = float(min(chi2_best, np.min(chi2)))
    delta = chi2 - chi2_min
    levels = DELTA_CHI2_LEVELS[len(names)]
    intervals: dict[str, Any] = {}
    if len(names) == 1:
        for lab, lev in levels.items():
            intervals[lab] = _interval_1d(values[0], delta, lev)
    else:
        dgrid = delta.reshape(shape)
        for lab, lev in levels.items():
            inside = dgrid <= lev
            intervals[lab] = {
                k: ({"lower": float(v[np.any(inside, axis=1 - a)].min()), "upper": float(v[np.any(inside, axis=1 - a)].max())}
                    if inside.any() else {"lower": float("nan"), "upper": float("nan")})
                for a, (k, v) in enumerate(zip(names, values))
            }
    x = np.asarray(out["x"], np.float64).reshape(n, len(others))
    return {
        "model": model,
        "datasets": list(prob.datasets),
        "free_params": list(prob.free_params),
        "names": names,
        "grid": dict(zip(names, values)),
        "chi2": chi2.reshape(shape),
        "delta_chi2": delta.reshape(shape),
        "chi2_min": chi2_min,
        "best": best["params"],
        "params": {prob.free_params[i]: x[:, j].reshape(shape) for j, i in enumerate(others)},
        "status": np.asarray(out["status"], np.int32).reshape(shape),
        "intervals": intervals,
        "levels": dict(levels),
        "plan": dict(runner.last_plan),
    }


# ---------------------------------------------------------------------------
# Many starts
# ---------------------------------------------------------------------------


def multistart(model: str, datasets_list, free_params: Sequence[str] | str, n_starts: int, *, overrides=None,
               covariance_scaling: float = 1.0, bounds: Mapping | None = None, seed: int = 0, devices=None,
               chunk_size: int | None = None, max_memory: float | None = None, progress: bool = False,
               method: str = DEFAULT_METHOD, fit_options: Mapping | None = None,
               agree_tol: float = 1e-4) -> dict[str, Any]:
    """Fit the real data from ``n_starts`` points in one vmapped batch (multimodal problems).

    The first start is the problem's starting point (defaults/overrides), the others
    are uniform in the unit box of the bounds (log-space parameters uniform in
    :math:`\\log_{10}`), drawn with ``seed``.

    Returns:
        ``{"params": {name: array[n_starts]}, "chi2", "status", "starts" (n_starts,
        k), "best": {name: value}, "chi2_min", "n_converged", "n_at_best" (within
        ``agree_tol`` of the best χ²), "distinct_minima" (χ² values of the distinct
        converged minima, rounded to ``agree_tol``)}``.

    Raises:
        ValueError: ``n_starts < 1``, bad parameters.
    """
    n_starts = _check_count("n_starts", n_starts)
    options = _fit_options(fit_options, method)
    prob = _problem(model, datasets_list, free_params, overrides, covariance_scaling, bounds)
    starts = _starts(prob, 1, n_starts, prob.x0, seed)[0]
    res = _run_cases_with_starts(prob, starts, seed, options, devices, chunk_size, max_memory, progress)
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
        "starts": starts,
        "best": {k: float(v[best]) for k, v in res["params"].items()},
        "chi2_min": float(chi2[best]),
        "n_converged": int(ok.sum()),
        "n_at_best": int(at_best.sum()),
        "distinct_minima": distinct,
        "plan": res["plan"],
    }


def _run_cases_with_starts(prob, starts, seed, options, devices, chunk_size, max_memory, progress):
    """Fits of the real data from each row of ``starts``: the mock batch function with zero
    noise around the observed data vectors (no second compiled program)."""
    import jax.numpy as jnp

    names = list(prob.likelihood.datasets)
    n = starts.shape[0]
    cases = {"index": np.zeros(n, np.int32), "x0": starts[:, None, :], "noise": np.zeros(n)}
    shared = {"key": _seed_key(seed), "fid": {k: jnp.asarray(prob.likelihood.observations[k]) for k in names},
              "chol": {k: jnp.asarray(prob.likelihood.cholesky[k]) for k in names},
              "aux": jnp.asarray(prob.base_vector), "lower": jnp.asarray(prob.lower),
              "upper": jnp.asarray(prob.upper),
              # same inputs as a mock batch (the value is unused): one compiled program serves both
              "aux_fid": jnp.asarray(prob.base_vector)}
    runner = _mock_runner(prob, options)
    out = runner.run(cases, shared, devices=devices, chunk_size=chunk_size, max_memory=max_memory,
                     progress=progress, desc="starts")
    res = _result_arrays(prob, out, n)
    res["plan"] = dict(runner.last_plan)
    return res


__all__ = [
    "DEFAULT_METHOD",
    "DELTA_CHI2_LEVELS",
    "FIT_METHODS",
    "clear_cache",
    "compare_models",
    "draw_mocks",
    "fiducial_model",
    "fit_mocks",
    "fit_real",
    "multistart",
    "profile_likelihood",
]
