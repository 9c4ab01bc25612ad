r"""Bayesian evidence of a configured fit: nested sampling or the Laplace approximation.

.. math::

    Z = \int L(\theta)\,\pi(\theta)\,d^k\theta,\qquad L(\theta) = e^{-\chi^2(\theta)/2},

with :math:`\chi^2` the compiled joint χ² the optimizers minimize and :math:`\pi` the
normalized priors of :mod:`.priors`. :math:`L` carries **no** Gaussian normalization
:math:`(2\pi)^{-n/2}|C|^{-1/2}`: it is the same for every model fitted to the same data,
so :math:`\ln Z` of two models on the same datasets (and covariance scaling) compare
directly, :math:`\ln B_{12} = \ln Z_1 - \ln Z_2` (Trotta 2008, arXiv:0803.4089).

Laplace approximation
---------------------
Around the maximum :math:`\hat\theta` of the posterior, with
:math:`A = \tfrac12\nabla^2\chi^2 - \nabla^2\ln\pi` at :math:`\hat\theta` (the exact
Hessian of the fit layer, :meth:`pbufjax.fit.problem.FitProblem.hessian`),

.. math::

    \ln Z \approx -\tfrac12\chi^2(\hat\theta) + \ln\pi(\hat\theta)
       + \tfrac k2\ln 2\pi - \tfrac12\ln\det A .

It assumes the posterior is Gaussian and well inside the prior; a warning is issued
(and ``"prior_edge"`` lists the parameters) when :math:`\hat\theta` lies within
:data:`EDGE_SIGMAS` standard deviations of a uniform prior's edge.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ...fit import get_problem
from ...runtime.compile_cache import enable_from_environment
from .nested import EVIDENCE_METHODS, NESTED_LIBRARIES, run_nested
from .priors import EvidencePriors, resolve_priors

#: Standard deviations from a uniform prior's edge below which Laplace warns.
EDGE_SIGMAS = 3.0
#: Points per compiled likelihood call (batches are padded to a multiple: one compilation).
CHUNK = 256


def batched_log_likelihood(prob, chunk: int = CHUNK):
    """``points (n, k) -> -χ²/2 (n,)`` of a :class:`~pbufjax.fit.problem.FitProblem`: one
    ``jit(vmap)`` of the likelihood's χ², called on chunks of ``chunk`` points (padded)."""
    import jax
    import jax.numpy as jnp

    chi2, idx, aux = prob.likelihood.chi2, np.asarray(prob.free_index), jnp.asarray(prob.base_vector)
    f = jax.jit(jax.vmap(lambda th, a: -0.5 * chi2(a.at[idx].set(th)), in_axes=(0, None)))

    def log_l(x):
        x = np.atleast_2d(np.asarray(x, np.float64))
        n = x.shape[0]
        size = chunk if n > 1 else 1
        pad = (-n) % size
        xp = np.concatenate([x, np.repeat(x[-1:], pad, axis=0)]) if pad else x
        out = [np.asarray(f(xp[i:i + size], aux)) for i in range(0, xp.shape[0], size)]
        return np.concatenate(out)[:n]

    return log_l


def _check(method, seed, library):
    if not isinstance(method, str) or method not in EVIDENCE_METHODS:
        raise ValueError(f"unknown evidence method {method!r}; valid: {', '.join(EVIDENCE_METHODS)}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, got {type(seed).__name__} ({seed!r})")
    if library is not None and library not in NESTED_LIBRARIES:
        raise ValueError(f"unknown nested-sampling library {library!r}; valid: {', '.join(NESTED_LIBRARIES)}")


def log_evidence(model: str, datasets_list, free_params: Sequence[str] | str, *, overrides=None,
                 priors: Mapping | None = None, method: str = "nested", seed: int = 0, library: str | None = None,
                 n_live: int | None = None, covariance_scaling: float = 1.0, data_dir=None) -> dict[str, Any]:
    """:math:`\\ln Z` of a model on datasets (module docstring).

    The likelihood is :math:`e^{-\\chi^2/2}` **without** the Gaussian normalization constant,
    so :math:`\\ln Z` of different models on the same data compare directly.

    Args:
        model: model name.
        datasets_list: dataset names or aliases.
        free_params: parameters integrated over (≥ 1).
        overrides: values of the fixed parameters.
        priors: ``{name: ("uniform", lo, hi) | ("normal", mean, sigma)}``; default uniform
            over each parameter's optimization bounds (:mod:`.priors`).
        method: ``"nested"`` or ``"laplace"`` (:data:`EVIDENCE_METHODS`).
        seed: random seed (nested sampling).
        library: nested-sampling library (:data:`~.nested.NESTED_LIBRARIES`; default the first).
        n_live: live points of the nested sampler (default: the library's, :func:`~.nested.run_nested`).
        covariance_scaling: :math:`s` in :math:`C \\to sC`.
        data_dir: folder of the data files.

    Returns:
        ``{"log_z", "log_z_err" (NaN for Laplace), "method", "library" ("laplace" for
        Laplace), "n_likelihood_evaluations", "time_s", "priors" ({name: (type, a, b)})}``;
        Laplace adds ``"map"`` ({name: value}), ``"chi2_map"`` and ``"prior_edge"`` (names).

    Raises:
        ValueError: unknown method or library, no free parameters, or a bad prior (unknown
            type, zero width, outside the parameter's valid range).
        KeyError: unknown dataset.
        TypeError: wrong argument types.
        ImportError: the nested-sampling library is missing (``pip install "pbufjax[evidence]"``).

    Example:
        >>> r = log_evidence("lcdm", ["desi_dr2"], ["H0", "Om0"], overrides={"Obh2": 0.02237},
        ...                  priors={"H0": ("uniform", 50, 90), "Om0": ("uniform", 0.1, 0.5)})  # doctest: +SKIP
        >>> r["log_z"], r["log_z_err"]                                                           # doctest: +SKIP
    """
    import time

    _check(method, seed, library)
    enable_from_environment()
    t0 = time.perf_counter()
    prob = get_problem(model, datasets_list, free_params, overrides, covariance_scaling, data_dir=data_dir)
    if prob.n_free == 0:
        raise ValueError("no free parameters to integrate over: give at least one in free_params")
    pri = resolve_priors(model, prob.free_params, prob.lower, prob.upper, prob.log_mask, priors)
    if method == "nested":
        out = run_nested(batched_log_likelihood(prob), pri.transform, prob.n_free, library=library or NESTED_LIBRARIES[0], seed=int(seed),
                         n_live=n_live)
    else:
        out = laplace(prob, pri, data_dir=data_dir)
    out.update(method=method, priors=pri.as_dict(), time_s=time.perf_counter() - t0)
    return out


def _search_box(pri: EvidencePriors, prob) -> list[tuple[float, float]]:
    """Where the maximum posterior is searched: the uniform ranges; μ ± 10σ inside the
    optimization bounds for normal priors."""
    box = []
    for i, k in enumerate(pri.names):
        if pri.normal[i]:
            box.append((max(prob.lower[i], pri.a[i] - 10 * pri.b[i]), min(prob.upper[i], pri.a[i] + 10 * pri.b[i])))
        else:
            box.append((float(pri.a[i]), float(pri.b[i])))
    return box


def laplace(prob, pri: EvidencePriors, *, data_dir=None) -> dict[str, Any]:
    """Laplace :math:`\\ln Z` (module docstring) of a fit problem with priors ``pri``.

    The maximum posterior is the fit layer's bounded χ² minimum over the prior ranges
    (:func:`pbufjax.fit.run.solve`), polished by L-BFGS-B with the prior terms when a prior
    is not flat; the Hessian is the fit layer's exact one.
    """
    from scipy.optimize import minimize

    from ...fit.run import solve

    box = _search_box(pri, prob)
    lo, hi = np.array([b[0] for b in box]), np.array([b[1] for b in box])
    start = dict(zip(prob.free_params, np.clip(prob.x0, lo, hi).tolist()))
    fixed = {**prob.overrides, **{k: prob.base_values[k] for k in prob.nuisance}, **start}
    bounded = get_problem(prob.model, list(prob.datasets), list(prob.free_params), fixed, prob.covariance_scaling,
                          dict(zip(prob.free_params, box)), data_dir=data_dir)
    res = solve(bounded)
    x = np.asarray(res.x, np.float64)
    calls = [int(getattr(res, "n_function_evaluations", None) or res.n_eval or 0)]
    if np.any(pri.normal) or np.any(pri.log_mask):
        f_best = [0.5 * prob.chi2(x) - pri.log_density(x)]

        def neg_log_post(z):
            calls[0] += 1
            lp, c = pri.log_density(z), prob.chi2(z)
            if not (math.isfinite(lp) and math.isfinite(c)):
                return f_best[0] + 1e6, np.zeros_like(z)
            g = 0.5 * prob.gradient(z) + np.where(pri.normal, (z - pri.a) / pri.b ** 2, 0.0) \
                + np.where(pri.log_mask, 1.0 / z, 0.0)
            return 0.5 * c - lp, g

        r = minimize(neg_log_post, x, jac=True, method="L-BFGS-B", bounds=box,
                     options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10})
        if r.fun < f_best[0]:
            x = np.asarray(r.x, np.float64)
    chi2 = prob.chi2(x)
    if not math.isfinite(chi2):
        raise ValueError(f"the χ² is not finite at every point tried for the maximum posterior ({x.tolist()}); "
                         "give priors inside the physical region")
    a_mat = 0.5 * prob.hessian(x) + np.diag(pri.curvature(x))
    sign, logdet = np.linalg.slogdet(a_mat)
    if sign <= 0:
        raise ValueError(f"the posterior's Hessian at its maximum {dict(zip(pri.names, x.tolist()))} is not "
                         "positive definite: the Laplace approximation does not apply (use method='nested')")
    k = len(x)
    log_z = -0.5 * chi2 + pri.log_density(x) + 0.5 * k * math.log(2 * math.pi) - 0.5 * logdet
    sd = np.sqrt(np.diag(np.linalg.inv(a_mat)))
    edge = [n for n, xi, s, nrm, a, b in zip(pri.names, x, sd, pri.normal, pri.a, pri.b)
            if not nrm and (xi - a < EDGE_SIGMAS * s or b - xi < EDGE_SIGMAS * s)]
    if edge:
        warnings.warn(f"Laplace evidence: the posterior touches the prior edge of {', '.join(edge)} (maximum within "
                      f"{EDGE_SIGMAS:g}σ of a bound); the approximation is unreliable, use method='nested'",
                      stacklevel=3)
    return {"log_z": float(log_z), "log_z_err": float("nan"), "library": "laplace",
            "n_likelihood_evaluations": int(calls[0] + 2), "map": dict(zip(pri.names, x.tolist())),
            "chi2_map": float(chi2), "prior_edge": edge}


__all__ = ["CHUNK", "EDGE_SIGMAS", "EVIDENCE_METHODS", "batched_log_likelihood", "laplace", "log_evidence"]
