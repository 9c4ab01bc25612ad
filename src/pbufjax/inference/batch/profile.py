"""Profile likelihoods on a grid of one or two parameters.

For profiled parameters :math:`\\psi` on a grid, :math:`\\chi^2_p(\\psi) = \\min_\\lambda
\\chi^2(\\psi, \\lambda)` over the other free parameters :math:`\\lambda`;
:math:`\\Delta\\chi^2 = \\chi^2_p - \\chi^2_{min}`. One-dimensional 68/95% intervals are
:math:`\\Delta\\chi^2 \\le 1, 3.84`; two-dimensional regions :math:`\\Delta\\chi^2 \\le 2.30,
5.99` (Wilks 1938; the χ² law with 1 and 2 degrees of freedom). The grid points are one
vmapped batch of fits (:class:`pbufjax.inference.sharding.BatchRunner`); a grid holds at
most :data:`MAX_PROFILE_POINTS` points in all.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ... import fit as _fit
from ...runtime.compile_cache import enable_from_environment
from .common import (
    DEFAULT_METHOD,
    check_fit_options,
    finish_campaign,
    fit_one,
    fit_real,
    open_campaign,
    problem,
    runner,
)

#: Δχ² thresholds of 68% and 95% regions for 1 and 2 profiled parameters.
DELTA_CHI2_LEVELS: dict[int, dict[str, float]] = {
    1: {"68": 1.0, "95": 3.841458820694124},
    2: {"68": 2.295748928898636, "95": 5.991464547107979},
}


#: Most grid points (the product of the axis sizes) one profile may ask for: each point is one
#: fit, and 100 000 already is a 316 x 316 two-dimensional grid. Larger grids are refused before
#: any work; split the range into pieces instead.
MAX_PROFILE_POINTS = 100_000


def check_grid_size(grid: Mapping[str, Any]) -> int:
    """Total number of points of a profile grid (a 2-D grid is the outer product).

    Raises:
        TypeError: ``grid`` not a dict.
        ValueError: more than :data:`MAX_PROFILE_POINTS` points (the message gives the size
            of each axis and the cap).
    """
    if not isinstance(grid, Mapping):
        raise TypeError(f"grid must be a dict name -> values, got {type(grid).__name__}")
    sizes = {k: int(np.size(v)) for k, v in grid.items()}
    total = int(np.prod(list(sizes.values()), dtype=object)) if sizes else 0
    if total > MAX_PROFILE_POINTS:
        axes = " x ".join(f"{k} {n}" for k, n in sizes.items())
        raise ValueError(f"profile grid of {total} points ({axes}) exceeds MAX_PROFILE_POINTS = "
                         f"{MAX_PROFILE_POINTS} (each point is one fit); use fewer points")
    return total


def check_grid(grid, prob) -> tuple[list[str], list[np.ndarray]]:
    """Names and values of a profile grid.

    Raises:
        TypeError: ``grid`` not a dict.
        ValueError: not one or two parameters, a parameter that is not free, no points,
            more than :data:`MAX_PROFILE_POINTS` points, non-finite values or values outside
            the bounds.
    """
    check_grid_size(grid)
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

            r = fit_one(chi2, case["x0"], shared["lower"], shared["upper"], mask, options,
                        residuals if lik.has_residuals else None)
            return {"x": r.x, "fun": r.fun, "status": r.status, "n_iter": r.n_iter, "n_eval": r.n_eval,
                    "n_at_best": jnp.int32(1)}

        return fit_case

    return runner(prob, ("profile", tuple(others_idx)), options, build)


def _crossing(x: np.ndarray, d: np.ndarray, i: int, j: int, level: float) -> float:
    """Where the segment from point ``i`` (below ``level``) to ``j`` crosses ``level`` (linear)."""
    if d[j] == d[i]:
        return float(x[i])
    return float(x[i] + (level - d[i]) * (x[j] - x[i]) / (d[j] - d[i]))


def interval_1d(x: np.ndarray, d: np.ndarray, level: float) -> dict[str, Any]:
    """Where Δχ²(x) crosses ``level`` on each side of the minimum (linear interpolation);
    a side without a crossing is the grid edge with ``*_closed`` False."""
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
            lo, lo_closed = _crossing(x, d, i, i - 1, level), True
            break
    hi, hi_closed = float(x[-1]), False
    for i in range(i0, x.size - 1):
        if d[i + 1] >= level > d[i] or (d[i + 1] >= level and d[i] <= level):
            hi, hi_closed = _crossing(x, d, i, i + 1, level), True
            break
    return {"lower": lo, "upper": hi, "lower_closed": lo_closed, "upper_closed": hi_closed}


def _intervals(names, values, delta, shape) -> dict[str, Any]:
    levels = DELTA_CHI2_LEVELS[len(names)]
    if len(names) == 1:
        return {lab: interval_1d(values[0], delta, lev) for lab, lev in levels.items()}
    dgrid = delta.reshape(shape)
    out = {}
    for lab, lev in levels.items():
        inside = dgrid <= lev
        out[lab] = {
            k: ({"lower": float(v[np.any(inside, axis=1 - a)].min()), "upper": float(v[np.any(inside, axis=1 - a)].max())}
                if inside.any() else {"lower": float("nan"), "upper": float("nan")})
            for a, (k, v) in enumerate(zip(names, values))
        }
    return out


def profile_likelihood(model: str, datasets_list, free_params: Sequence[str] | str, grid: Mapping[str, Any], *,
                       overrides=None, covariance_scaling: float = 1.0, bounds: Mapping | None = None,
                       devices=None, chunk_size: int | None = None, max_memory: float | None = None,
                       progress: bool = False, method: str = DEFAULT_METHOD,
                       fit_options: Mapping | None = None, data_dir=None, output=None,
                       resume: bool = False) -> dict[str, Any]:
    """Profile χ² on a grid of one or two parameters, minimized over the other free ones.

    Args:
        model: model name.
        datasets_list: datasets.
        free_params: free parameters, including the profiled ones.
        grid: ``{name: values}`` for one or two of ``free_params`` (a 2-D grid is the
            outer product, shape ``(len(values_1), len(values_2))``).
        overrides: fixed parameter values (and starting values).
        covariance_scaling: :math:`s` in :math:`C \\to sC`.
        bounds: ``{name: (lower, upper)}`` replacing the default bounds.
        devices: devices to shard over.
        chunk_size: grid points per chunk.
        max_memory: memory budget of a chunk [bytes].
        progress: progress bar over chunks.
        method: batch fit method (:data:`FIT_METHODS`).
        fit_options: options of the method.
        data_dir: folder of the data files (default: the package's search path).
        output: campaign folder the grid fits are streamed to chunk by chunk
            (:mod:`pbufjax.runtime.campaign`; as in :func:`~pbufjax.inference.batch.mocks.fit_mocks`).
        resume: continue the campaign in ``output`` (same configuration and grid).

    Returns:
        ``{"names", "grid": {name: values}, "chi2" (grid shape), "delta_chi2",
        "chi2_min", "best" (global best fit of every free parameter), "params"
        ({other parameter: array of grid shape}), "status", "intervals" (1-D: {"68":
        {"lower", "upper", "lower_closed", "upper_closed"}, "95": ...}; 2-D: the
        range of each parameter inside the region), "levels" (Δχ² thresholds), "plan",
        "n_processes", "n_devices", "output" and "resumed_chunks" (with ``output``)}``.
        An interval side that does not cross the level inside the grid is reported at
        the grid edge with ``*_closed`` False.

    Raises:
        ValueError: a grid with no points or more than :data:`MAX_PROFILE_POINTS` (checked
            before anything is built), more than two profiled parameters, a profiled
            parameter not among ``free_params`` or outside its bounds.
        TypeError: ``grid`` not a dict.
    """
    check_grid_size(grid)
    enable_from_environment()
    options = check_fit_options(fit_options, method)
    prob = problem(model, datasets_list, free_params, overrides, covariance_scaling, bounds, data_dir=data_dir)
    names, values = check_grid(grid, prob)
    shape = tuple(v.size for v in values)
    pts = np.stack([m.reshape(-1) for m in np.meshgrid(*values, indexing="ij")], axis=1)  # (n, n_prof)
    n = pts.shape[0]
    prof_idx = [prob.free_params.index(k) for k in names]
    others = [i for i in range(prob.n_free) if i not in prof_idx]

    best = fit_real(prob, options=options)
    chi2_best = best["chi2"] if best["status"] != _fit.Status.FAILED else float("inf")
    aux = np.tile(prob.base_vector, (n, 1))
    for j, i in enumerate(prof_idx):
        aux[:, prob.free_index[i]] = pts[:, j]
    cases = {"aux": aux}
    if others:
        cases["x0"] = np.tile(best["x"][others], (n, 1))
        shared = {"lower": prob.lower[others], "upper": prob.upper[others]}
    else:
        shared = {"lower": np.zeros(0), "upper": np.zeros(0)}
    camp = open_campaign(output, resume, "profile_likelihood", prob, options, n=n,
                         grid={k: v.tolist() for k, v in zip(names, values)})
    run = _profile_runner(prob, others, options)
    t0 = time.perf_counter()
    out = run.run(cases, shared, devices=devices, chunk_size=chunk_size, max_memory=max_memory,
                  progress=progress, desc="profile", store=camp)
    done = finish_campaign(camp, run.last_plan, time.perf_counter() - t0)
    chi2 = np.asarray(out["fun"], np.float64)
    chi2 = np.where(np.asarray(out["status"]) == 2, np.inf, chi2)
    chi2_min = float(min(chi2_best, np.min(chi2)))
    delta = chi2 - chi2_min
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
        "intervals": _intervals(names, values, delta, shape),
        "levels": dict(DELTA_CHI2_LEVELS[len(names)]),
        "plan": dict(run.last_plan),
        "n_processes": run.last_plan["n_processes"],
        "n_devices": run.last_plan["n_devices"],
        **done,
    }


__all__ = ["DELTA_CHI2_LEVELS", "MAX_PROFILE_POINTS", "check_grid", "check_grid_size", "interval_1d",
           "profile_likelihood"]
