"""What every batch job shares: the fit method and its options, the fit problem, the
cache of compiled batch functions, starting points, and the single fit to the real data.

Fit methods
-----------
The batch methods are the solvers of the registry with a batch (jit/vmap-able) form,
:func:`pbufjax.fit.solvers.batch_solvers`: ``"gauss_newton"`` (default; damped projected
Newton steps on the Gauss-Newton matrix :math:`2J^TJ` of the whitened residuals of
:meth:`pbufjax.likelihoods.Likelihood.residuals_data`, exact gradient, so the minima are
those of the exact χ²; exact Newton when a dataset is a user χ² function), ``"newton"``
(the exact Hessian) and ``"lbfgs"``; a solver registered with a batch form is one more.
In a vmapped ``while_loop`` every member runs until the slowest has finished, and finished
members still execute the (masked) loop body. The Newton bodies are one
value+gradient+(Gauss-Newton or exact) Hessian evaluation and converge in a few
iterations; the Gauss-Newton one needs only k forward-mode tangents (the exact Hessian
k(k+1)), about 4x less work per fit here. L-BFGS's body holds a line search that, at an
already converged point, runs to its step limit — so a batch of L-BFGS fits costs many
times the sum of the single fits (measured in ``documents/sampling_and_batch.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from ... import data as _data
from ... import fit as _fit
from ...fit.solvers import batch_solvers
from ...fit.transforms import from_unit
from ...runtime import distributed, register_cache
from ..sharding import BatchRunner

#: Default batch fit method.
DEFAULT_METHOD = "gauss_newton"

_RUNNERS: dict = {}


class FitMethods(Mapping):
    """``{method: option names}`` of the batch fit methods: a live view of
    :func:`pbufjax.fit.solvers.batch_solvers` (a solver registered later appears here)."""

    def __getitem__(self, name: str) -> tuple[str, ...]:
        return tuple(batch_solvers()[name].options or ())

    def __iter__(self) -> Iterator[str]:
        return iter(batch_solvers())

    def __len__(self) -> int:
        return len(batch_solvers())

    def __repr__(self) -> str:
        return repr(dict(self))


#: Batch fit methods -> the options each accepts in ``fit_options`` (from the solver registry).
FIT_METHODS = FitMethods()


def check_fit_options(options: Mapping | None, method: str = DEFAULT_METHOD) -> dict:
    """Validated ``fit_options`` of a batch method (their declared types), with the method under ``"method"``.

    Raises:
        ValueError: an unknown method or option (the message lists the valid ones), a value out of range.
        TypeError: ``options`` not a dict, a value of the wrong type.
    """
    solvers = batch_solvers()
    if not isinstance(method, str) or method not in solvers:
        raise ValueError(f"unknown batch fit method {method!r}; valid methods: {', '.join(solvers)}")
    return {"method": method, **solvers[method].check_options(options, kind="fit ", role="method")}


def fit_one(chi2, x0, lower, upper, mask, options: Mapping, residuals=None):
    """One bounded fit with the configured batch solver (jit/vmap-able; a
    :class:`~pbufjax.fit.result.SolverResult` with an int status code).

    ``residuals(theta) -> (w, ok)`` (whitened residuals) is used by ``gauss_newton``."""
    opts = dict(options)
    spec = batch_solvers()[opts.pop("method", DEFAULT_METHOD)]
    return spec.batch(chi2, x0, lower, upper, mask, opts, residuals)


def problem(model, datasets_list, free_params, overrides=None, covariance_scaling=1.0, bounds=None, *,
            data_dir=None, allow_empty: bool = False):
    """The :class:`~pbufjax.optimizer.FitProblem` of a batch job (at least one free parameter).

    Raises:
        ValueError: no free parameters (lists the valid ones) or as :func:`pbufjax.optimizer.get_problem`.
    """
    prob = _fit.get_problem(model, datasets_list, free_params, overrides, covariance_scaling, bounds,
                            data_dir=data_dir)
    if prob.n_free == 0 and not allow_empty:
        raise ValueError(f"no free parameters: give at least one of {', '.join(valid_free(prob.model, prob.datasets))}")
    return prob


def valid_free(model: str, datasets: Sequence[str]) -> list[str]:
    """Parameters that can be free for ``model`` on the (canonical) ``datasets``."""
    from ...cosmology.parameters import optimizable_parameters

    return optimizable_parameters(model) + list(_fit.nuisance_for(datasets))


def dataset_keys(datasets_list) -> dict[str, str]:
    """``{name as the caller wrote it: canonical name}`` (results keyed by dataset use the caller's names).

    Raises:
        as :func:`pbufjax.optimizer.canonical_datasets`.
    """
    _fit.canonical_datasets(datasets_list)  # the checks and their messages
    return dict(_data.dataset_name_pairs(datasets_list))  # a combination gives its members, each by its name


def cached(prob, kind, options: Mapping, build: Callable[[], Any]) -> Any:
    """``build()`` once per likelihood, free parameters, ``kind`` and options."""
    key = (id(prob.likelihood), prob.free_params, prob.log_mask, kind, tuple(sorted(options.items())))
    hit = _RUNNERS.get(key)
    if hit is None or hit[0] is not prob.likelihood:
        hit = _RUNNERS[key] = (prob.likelihood, build())
    return hit[1]


def runner(prob, kind, options: Mapping, build: Callable[[], Callable]) -> BatchRunner:
    """The (cached) :class:`~pbufjax.inference.sharding.BatchRunner` of the case function ``build()``."""
    return cached(prob, ("runner", kind), options, lambda: BatchRunner(build()))


def clear_cache() -> None:
    """Forget the compiled batch functions."""
    _RUNNERS.clear()


register_cache("inference.batch", clear_cache)


def best_of_starts(rs):
    """Index the best start of a vmapped solver result (converged fits preferred)."""
    import jax
    import jax.numpy as jnp

    ok = rs.status < 2
    score = jnp.where(ok, rs.fun, jnp.inf)
    score = jnp.where(jnp.any(ok), score, rs.fun)
    best = jnp.argmin(score)
    return jax.tree.map(lambda a: a[best], rs), jnp.sum(ok & (jnp.abs(rs.fun - rs.fun[best]) <= 1e-4))


def result_arrays(prob, out, n: int) -> dict[str, Any]:
    """The per-case arrays of a batch of fits (``params``, ``chi2``, ``status`` codes, counts)."""
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


def package_version() -> str:
    """The installed pbufjax version (recorded in campaign files)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pbufjax")
    except PackageNotFoundError:  # pragma: no cover - source tree without installation
        return "unknown"


def open_campaign(output, resume: bool, kind: str, prob, options: Mapping, **fields):
    """The :class:`~pbufjax.runtime.campaign.Campaign` of a batch job streamed to ``output``, or None.

    The configuration recorded (and compared on resume) is the job ``kind``, the problem
    (model, datasets, free parameters, every parameter value, bounds, log-space mask,
    covariance scaling, recombination), the method and its options, the package version,
    a SHA-256 of the data vectors and Cholesky factors, and ``fields`` (seed, size, ...).
    The folder is checked at once (process 0), before any fit is run.

    Raises:
        CampaignError: an existing campaign without ``resume``, another configuration,
            a corrupted folder (:mod:`pbufjax.runtime.campaign`).
    """
    if output is None:
        if resume:
            raise ValueError("resume=True needs output= (the campaign folder to resume)")
        return None
    from ...runtime.campaign import Campaign, array_digest

    lik = prob.likelihood
    data = {f"obs/{k}": v for k, v in lik.observations.items()} | {f"chol/{k}": v for k, v in lik.cholesky.items()}
    config = {"kind": kind, "model": prob.model, "datasets": list(prob.datasets),
              "free_params": list(prob.free_params), "values": prob.values(), "lower": prob.lower,
              "upper": prob.upper, "log_mask": list(prob.log_mask), "covariance_scaling": prob.covariance_scaling,
              "recomb_method": prob.recomb_method, "options": dict(options), "package_version": package_version(),
              "data_sha256": array_digest(data), **fields}
    camp = Campaign(output, config, resume=resume)
    distributed.on_main(camp.check, f"checking the campaign folder {output}")
    return camp


def finish_campaign(camp, plan: Mapping, elapsed: float) -> dict[str, Any]:
    """Mark ``camp`` complete (process 0) and return the facts a result records about it."""
    if camp is None:
        return {}
    info = {"n_processes": plan.get("n_processes", 1), "n_devices": plan.get("n_devices", 1), "time": elapsed}
    if distributed.is_main():
        camp.finish(info)
    return {"output": str(camp.path), "resumed_chunks": int(plan.get("resumed_chunks", 0))}


def seed_key(seed):
    """``jax.random.PRNGKey(seed)``.

    Raises:
        TypeError: ``seed`` not an integer.
    """
    import jax

    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, got {type(seed).__name__} ({seed!r})")
    return jax.random.PRNGKey(int(seed))


def starts(prob, n: int, n_starts: int, x0, seed: int) -> np.ndarray:
    """Starting points ``(n, n_starts, k)``: ``x0`` first, then uniform draws in the box
    (log-space parameters uniform in :math:`\\log_{10}`) among its valid points: a draw where
    the parameters are not valid (e.g. baryons above the matter at a corner of the box, where
    χ² = +inf and the gradient is zero) is redrawn, up to :data:`MAX_REDRAWS` times."""
    x = np.broadcast_to(np.asarray(x0, np.float64), (n, 1, prob.n_free))
    if n_starts == 1:
        return x  # a read-only view: no memory per case
    rng = np.random.default_rng([int(seed), 7919])
    mask = np.asarray(prob.log_mask, bool)
    extra = from_unit(rng.uniform(0.0, 1.0, (n, n_starts - 1, prob.n_free)), prob.lower, prob.upper, mask)
    flat = extra.reshape(-1, prob.n_free)
    bad = ~prob.valid_points(flat)
    for _ in range(MAX_REDRAWS):
        if not bad.any():
            break
        flat[bad] = from_unit(rng.uniform(0.0, 1.0, (int(bad.sum()), prob.n_free)), prob.lower, prob.upper, mask)
        bad[bad] = ~prob.valid_points(flat[bad])
    return np.concatenate([x, flat.reshape(extra.shape)], axis=1)


#: Redraws of a start that falls on a point that is not valid (:func:`starts`).
MAX_REDRAWS = 20


#: The batch methods whose single fit is the problem's own compiled solver (shared with
#: ``run_fit``'s compiled fits; one real-data fit uses exact Newton, whose Hessian is reported,
#: for both Newton methods).
_PROBLEM_SOLVERS = {"lbfgs": "lbfgs_solver", "newton": "newton_solver", "gauss_newton": "newton_solver"}


def _real_solver(prob, method: str, opts: Mapping) -> Callable:
    """``solve(x0, lower, upper, aux)`` of one fit to the real data with ``method``."""
    if method in _PROBLEM_SOLVERS:
        return getattr(prob.compiled, _PROBLEM_SOLVERS[method])(**opts)

    def build():
        import jax

        spec, comp = batch_solvers()[method], prob.compiled
        mask = np.asarray(prob.log_mask, bool)

        def solve(x0, lo, hi, aux):
            res = None if comp.residuals is None else (lambda th: comp.residuals(th, aux))
            return spec.batch(lambda th: comp.chi2(th, aux), x0, lo, hi, mask, dict(opts), res)

        return jax.jit(solve)

    return cached(prob, ("real", method), opts, build)


def fit_real(prob, x0=None, options: Mapping | None = None) -> dict[str, Any]:
    """Fit a :class:`~pbufjax.optimizer.FitProblem` to its real data with a batch method.

    Uses the problem's compiled single-fit solver (the one behind
    ``run_fit(..., optimizer_config={"method": "lbfgs"})`` or ``"newton"``; ``"gauss_newton"``
    uses the exact ``newton`` solver here).

    Args:
        prob: the fit problem.
        x0: start (default the problem's).
        options: ``{"method": name, **fit options}`` (:data:`FIT_METHODS`).

    Returns:
        ``{"params": {name: value}, "chi2", "status" (:class:`~pbufjax.optimizer.Status`), "x"}``.
    """
    opts = dict(options or {})
    method = opts.pop("method", DEFAULT_METHOD)
    opts = check_fit_options(opts, method)
    opts.pop("method")
    x0 = prob.x0 if x0 is None else np.asarray(x0, np.float64)
    if prob.n_free == 0:
        return {"params": {}, "chi2": prob.chi2(), "status": _fit.Status.SUCCESS, "x": np.zeros(0)}
    r = _real_solver(prob, method, opts)(x0, prob.lower, prob.upper, prob.base_vector)
    x = np.asarray(r.x, np.float64)
    return {"params": dict(zip(prob.free_params, (float(v) for v in x))), "chi2": float(r.fun),
            "status": _fit.Status.from_code(int(r.status)), "x": x}


__all__ = [
    "DEFAULT_METHOD",
    "FIT_METHODS",
    "MAX_REDRAWS",
    "FitMethods",
    "best_of_starts",
    "cached",
    "check_fit_options",
    "clear_cache",
    "dataset_keys",
    "finish_campaign",
    "fit_one",
    "fit_real",
    "open_campaign",
    "package_version",
    "problem",
    "result_arrays",
    "runner",
    "seed_key",
    "starts",
    "valid_free",
]
