"""Fit statistics: Gaussian χ², degrees of freedom, information criteria.

Conventions (stated once, used by every fit):

* :math:`\\chi^2 = r^T C^{-1} r`, :math:`r` = prediction − observation, computed
  with the Cholesky factor :math:`C = L L^T` (:math:`\\chi^2 = |L^{-1} r|^2`),
  never with an explicit inverse.
* :math:`N` = number of data points of the datasets used, :math:`k` = number of
  free parameters, DOF = :math:`N - k`.
* :math:`\\mathrm{AIC} = \\chi^2_{min} + 2k` (Akaike 1974; for a Gaussian
  likelihood :math:`-2\\ln L_{max} = \\chi^2_{min}` + a constant that cancels in
  every comparison on the same data), :math:`\\mathrm{BIC} = \\chi^2_{min} + k\\ln N`
  (Schwarz 1978). See Liddle 2007, arXiv:astro-ph/0701113, for their use in
  cosmology.
* p-value = :math:`P(\\chi^2_{\\rm DOF} \\ge \\chi^2_{min})`, the survival function of
  the χ² distribution; undefined (NaN) when DOF ≤ 0.
"""

from __future__ import annotations

import logging
import math
import numbers
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..runtime import register_cache

logger = logging.getLogger("pbufjax.statistics")  # the public module's name: what users filter on

def _as_vector(values: Any, keys: Sequence[str] | None, what: str):
    import jax.numpy as jnp

    if isinstance(values, Mapping):
        if keys is None:
            keys = list(values)
        missing = [k for k in keys if k not in values]
        if missing:
            raise KeyError(f"{what} lack the key(s) {missing}; they have: {', '.join(map(str, values))}")
        parts = [jnp.atleast_1d(jnp.asarray(values[k], dtype=jnp.float64)).ravel() for k in keys]
        return jnp.concatenate(parts), list(keys)
    return jnp.atleast_1d(jnp.asarray(values, dtype=jnp.float64)).ravel(), keys


def chi2_generic(predictions: Any, observations: Any, covariance: Any):
    """Gaussian :math:`\\chi^2 = r^T C^{-1} r` with :math:`r` = predictions − observations.

    Solved with the Cholesky factor (:math:`\\chi^2 = |L^{-1} r|^2`, :math:`C = LL^T`),
    without forming :math:`C^{-1}`. Works on concrete values and inside
    ``jax.jit``/``grad``/``vmap`` (predictions may be traced).

    Args:
        predictions: dict name → value (scalar or array) or an array.
        observations: dict with the same keys (their order defines the data
            vector) or an array of the same length.
        covariance: (N, N) symmetric positive-definite matrix in that order, or an
            (N,) vector of variances (a diagonal covariance, stated explicitly).

    Returns:
        χ² (a 0-d float64 array; ``float()`` it for a Python number).

    Raises:
        KeyError: a key of ``observations`` is missing from ``predictions``.
        ValueError: shapes do not match, or a concrete covariance is not
            positive definite.

    Example:
        >>> float(chi2_generic({"R": 1.75, "l_A": 301.8}, {"R": 1.74, "l_A": 301.9},
        ...                    np.diag([0.0046**2, 0.09**2])))  # doctest: +ELLIPSIS
        5.9...
    """
    import jax
    import jax.numpy as jnp
    from jax.scipy.linalg import solve_triangular

    keys = list(observations) if isinstance(observations, Mapping) else None
    obs, keys = _as_vector(observations, keys, "observations")
    pred, _ = _as_vector(predictions, keys, "predictions")
    if pred.shape != obs.shape:
        raise ValueError(f"predictions have {pred.shape[0]} values but observations have {obs.shape[0]}")
    cov = jnp.asarray(covariance, dtype=jnp.float64)
    n = obs.shape[0]
    r = pred - obs
    if cov.ndim == 1:
        if cov.shape[0] != n:
            raise ValueError(f"variance vector has {cov.shape[0]} entries, expected {n}")
        return jnp.sum(r * r / cov)
    if cov.shape != (n, n):
        raise ValueError(f"covariance has shape {tuple(cov.shape)}, expected ({n}, {n})")
    chol = jnp.linalg.cholesky(cov)
    if not isinstance(chol, jax.core.Tracer) and not bool(jnp.all(jnp.isfinite(chol))):
        raise ValueError("covariance is not symmetric positive definite (Cholesky factorization failed)")
    w = solve_triangular(chol, r, lower=True)
    return jnp.sum(w * w)


_N_CACHE: dict[tuple, int] = {}
register_cache("analysis.statistics.n_data_points", _N_CACHE.clear)


def _count_points(name: str, data_dir) -> int:
    """N of one dataset: the registry's count when its spec states one, else the loaded data vector."""
    from .. import data as _data

    spec = _data.get_dataset_spec(name)
    n = spec.metadata.get("n_points")
    if n is not None:
        return int(n)
    folder = None if data_dir is None else str(Path(data_dir).expanduser().resolve())
    key = (spec.name, id(spec), folder)
    if key not in _N_CACHE:
        data = _data.load_dataset(spec.name, data_dir=data_dir)
        meta = data.get("metadata", {}) if isinstance(data, Mapping) else {}
        n = meta.get("n_points")
        if n is None:
            obs = data["observations"]
            n = sum(int(np.size(v)) for v in obs.values()) if isinstance(obs, Mapping) else int(np.size(obs))
        _N_CACHE[key] = int(n)
    return _N_CACHE[key]


def n_data_points(datasets: Iterable[str] | Mapping[str, int] | str, *,
                  data_dir: str | os.PathLike | None = None) -> dict[str, int]:
    """Number of data points per dataset.

    Args:
        datasets: dataset names (aliases allowed, a comma-separated string too) or
            a mapping name → number of points (returned as is, checked).
        data_dir: folder of the release files, read only for a dataset whose
            registry entry states no number of points.

    Returns:
        dict name → N (names as given).

    Raises:
        KeyError: unknown dataset.
        ValueError: a negative or non-integer count.

    Example:
        >>> n_data_points({"desi_dr2": 13})
        {'desi_dr2': 13}
    """
    if isinstance(datasets, Mapping):
        out = {}
        for name, n in datasets.items():
            if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
                raise ValueError(f"number of data points of {name!r} must be an integer >= 0, got {n!r}")
            out[name] = int(n)
        return out
    if isinstance(datasets, str):
        datasets = [s.strip() for s in datasets.split(",") if s.strip()]
    return {name: _count_points(name, data_dir) for name in datasets}


def _total_points(datasets, data_dir) -> int:
    if isinstance(datasets, numbers.Integral) and not isinstance(datasets, bool):
        return int(datasets)
    return sum(n_data_points(datasets, data_dir=data_dir).values())


def _check_n_params(n_params: Any) -> int:
    if isinstance(n_params, bool) or not isinstance(n_params, numbers.Integral):
        raise TypeError(f"n_params must be an integer, got {type(n_params).__name__} ({n_params!r})")
    if n_params < 0:
        raise ValueError(f"n_params must be >= 0, got {n_params}")
    return int(n_params)


def compute_dof(datasets: Iterable[str] | Mapping[str, int] | int, n_params: int, *,
                data_dir: str | os.PathLike | None = None) -> int:
    """Degrees of freedom :math:`N - k`.

    Args:
        datasets: dataset names, a mapping name → number of points, or the total
            number of points N as an int.
        n_params: number of free parameters k.
        data_dir: folder of the release files, where names are given.

    Returns:
        :math:`N - k` (may be ≤ 0 for a fit with more parameters than data; the
        metrics then report the p-value and reduced χ² as NaN).

    Raises:
        KeyError: unknown dataset. TypeError/ValueError: bad ``n_params``.
    """
    k = _check_n_params(n_params)
    return _total_points(datasets, data_dir) - k


def information_criteria(chi2: float, n_params: int, n_data: int) -> dict[str, float]:
    """AIC and BIC: :math:`\\chi^2 + 2k` and :math:`\\chi^2 + k\\ln N`."""
    k = _check_n_params(n_params)
    chi2 = float(chi2)
    bic = chi2 + k * math.log(n_data) if n_data > 0 else float("nan")
    return {"aic": chi2 + 2.0 * k, "bic": bic}


def compute_metrics(chi2: float, n_params: int, datasets: Iterable[str] | Mapping[str, int] | int, *,
                    data_dir: str | os.PathLike | None = None) -> dict[str, Any]:
    """Fit statistics: total χ², AIC, BIC, DOF, p-value, reduced χ².

    Args:
        chi2: minimum (or evaluated) total χ².
        n_params: number of free parameters k.
        datasets: dataset names, a mapping name → N, or the total N.
        data_dir: folder of the release files, where names are given.

    Returns:
        MetricsDict ``{"total_chi2", "aic", "bic", "dof", "p_value",
        "reduced_chi2", "n_data", "n_params"}``. A non-finite χ² gives non-finite
        criteria and a NaN p-value; DOF ≤ 0 gives NaN p-value and reduced χ².

    Raises:
        KeyError: unknown dataset. TypeError/ValueError: bad ``n_params`` or ``chi2``.

    Example:
        >>> m = compute_metrics(10.3, 2, {"desi_dr2": 13})
        >>> m["dof"], round(m["aic"], 1)
        (11, 14.3)
    """
    from scipy import special

    if isinstance(chi2, (str, bytes)) or isinstance(chi2, bool):
        raise TypeError(f"chi2 must be a number, got {type(chi2).__name__}")
    chi2 = float(np.asarray(chi2))
    k = _check_n_params(n_params)
    n = _total_points(datasets, data_dir)
    dof = n - k
    ic = information_criteria(chi2, k, n)
    finite = math.isfinite(chi2)
    if dof > 0 and finite:
        p_value = float(special.chdtrc(dof, chi2))  # survival function of χ²_dof
        reduced = chi2 / dof
    else:
        p_value = float("nan")
        reduced = float("nan")
        if dof <= 0:
            logger.warning("fit has %d free parameters for %d data points (DOF = %d): p-value undefined", k, n, dof)
    return {
        "total_chi2": chi2,
        "aic": ic["aic"],
        "bic": ic["bic"],
        "dof": int(dof),
        "p_value": p_value,
        "reduced_chi2": reduced,
        "n_data": int(n),
        "n_params": k,
    }


def delta_aic(aic1: float, aic2: float) -> float:
    """:math:`\\Delta\\mathrm{AIC} = \\mathrm{AIC}_1 - \\mathrm{AIC}_2`.

    Negative values favour model 1. On the Jeffreys-like scale of Burnham &
    Anderson (2002): |ΔAIC| < 2 no preference, 4–7 considerably less support for
    the disfavoured model, > 10 essentially none.

    Raises:
        TypeError: a non-numeric argument.
    """
    for name, v in (("aic1", aic1), ("aic2", aic2)):
        if isinstance(v, (str, bytes, bool)) or not isinstance(v, (numbers.Real, np.generic, np.ndarray)):
            raise TypeError(f"{name} must be a number, got {type(v).__name__} ({v!r})")
    return float(aic1) - float(aic2)


def delta_bic(bic1: float, bic2: float) -> float:
    """:math:`\\Delta\\mathrm{BIC} = \\mathrm{BIC}_1 - \\mathrm{BIC}_2` (negative favours model 1)."""
    return delta_aic(bic1, bic2)


__all__ = [
    "chi2_generic",
    "compute_dof",
    "compute_metrics",
    "delta_aic",
    "delta_bic",
    "information_criteria",
    "n_data_points",
]
