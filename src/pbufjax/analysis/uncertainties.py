"""Parameter uncertainties from the χ² Hessian, and their propagation to derived quantities.

With :math:`H_{ij} = \\partial^2\\chi^2/\\partial\\theta_i\\partial\\theta_j` at the
minimum (exact, by forward-mode automatic differentiation in the physical
parameters), the Fisher matrix of the Gaussian likelihood
:math:`L \\propto e^{-\\chi^2/2}` is :math:`F = H/2` and the covariance is
:math:`C = F^{-1}` (Laplace approximation; e.g. Tegmark, Taylor & Heavens 1997,
astro-ph/9603021). Parameters the data do not constrain are detected on the
Fisher matrix in unit-box coordinates (each parameter scaled by its bound range,
log-space parameters in :math:`\\log_{10}`): while its smallest eigenvalue
corresponds to a 1σ width larger than :data:`UNCONSTRAINED_FRACTION` of the range,
the parameter dominating that eigenvector is flagged and removed. Flagged
parameters get NaN σ, and the covariance of the others is conditional on them
(held at their best-fit values).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..cosmology.parameters import DERIVED_PARAMS

#: A parameter whose 1σ (Fisher) width exceeds this fraction of its bound range
#: is reported as unconstrained.
UNCONSTRAINED_FRACTION = 0.5

#: Derived keys of a ParameterDict, never treated as inputs of a propagated function.
_DERIVED_KEYS = DERIVED_PARAMS


def empty_uncertainties(status: str = "no free parameters") -> dict[str, Any]:
    """The :func:`hessian_uncertainties` result of a fit with nothing to report."""
    return {"covariance": np.zeros((0, 0)), "correlation": np.zeros((0, 0)), "sigma": {}, "unconstrained": [],
            "status": status, "fisher_eigenvalues_unit": [], "sigma_fraction": {}}


def _unit_fisher(fisher, x, lower, upper, log_mask) -> np.ndarray:
    """Fisher matrix in unit-box coordinates :math:`u` (:math:`F_u = S F S`, :math:`S = dx/du`)."""
    log_mask = np.asarray(log_mask, bool)
    tl = np.where(log_mask, np.log10(np.where(log_mask, lower, 1.0)), lower)
    th = np.where(log_mask, np.log10(np.where(log_mask, upper, 1.0)), upper)
    dxdt = np.where(log_mask, x * math.log(10.0), 1.0)
    scale = dxdt * (th - tl)
    return fisher * np.outer(scale, scale)


def _flag_flat_directions(fu: np.ndarray, fraction: float) -> tuple[list[int], list[int], np.ndarray]:
    """(kept, flagged) indices and the unit-box eigenvalues, removing the parameter that
    dominates the flattest direction while that direction is wider than ``fraction``."""
    k = fu.shape[0]
    w, v = np.linalg.eigh(fu)
    eigenvalues = w
    threshold = 1.0 / fraction**2
    keep = list(range(k))
    flagged: list[int] = []
    while keep and w[0] < threshold:
        j = keep[int(np.argmax(np.abs(v[:, 0])))]
        flagged.append(j)
        keep.remove(j)
        if keep:
            w, v = np.linalg.eigh(fu[np.ix_(keep, keep)])
    return keep, flagged, eigenvalues


def hessian_uncertainties(hessian: np.ndarray, x: np.ndarray, names: Sequence[str], lower: np.ndarray,
                          upper: np.ndarray, log_mask: Sequence[bool],
                          fraction: float = UNCONSTRAINED_FRACTION) -> dict[str, Any]:
    """Covariance, σ, correlation and unconstrained parameters from the χ² Hessian.

    Args:
        hessian: :math:`\\partial^2\\chi^2/\\partial\\theta^2` at the best fit (physical units).
        x: best-fit parameters.
        names: parameter names.
        lower: lower bounds (physical).
        upper: upper bounds (physical).
        log_mask: True for parameters whose range is measured in :math:`\\log_{10}`.
        fraction: a parameter is unconstrained when its 1σ width exceeds this
            fraction of its range.

    Returns:
        dict with ``covariance`` and ``correlation`` (k×k, NaN rows/columns for
        unconstrained parameters), ``sigma`` (name → σ or NaN), ``unconstrained``
        (names), ``status`` (str), ``fisher_eigenvalues_unit`` (eigenvalues of the
        unit-box Fisher matrix) and ``sigma_fraction`` (name → conditional 1σ as a
        fraction of the range).

    Example:
        >>> u = hessian_uncertainties(np.diag([2 / 0.5**2]), np.array([68.0]), ["H0"],
        ...                           np.array([20.0]), np.array([150.0]), [False])
        >>> round(u["sigma"]["H0"], 6), u["status"]
        (0.5, 'positive definite')
    """
    k = len(names)
    h = np.asarray(hessian, np.float64).reshape(k, k)
    x = np.asarray(x, np.float64)
    nan = np.full((k, k), np.nan)
    out: dict[str, Any] = {"covariance": nan.copy(), "correlation": nan.copy(),
                           "sigma": {n: float("nan") for n in names}, "unconstrained": [],
                           "fisher_eigenvalues_unit": [], "sigma_fraction": {}}
    if k == 0:
        out["status"] = "no free parameters"
        return out
    if not np.all(np.isfinite(h)):
        out["unconstrained"] = list(names)
        out["status"] = "non-finite Hessian: no uncertainties"
        return out
    fisher = 0.5 * (h + h.T) / 2.0  # F = H/2, symmetrized
    fu = _unit_fisher(fisher, x, lower, upper, log_mask)
    out["sigma_fraction"] = {n: (float(1.0 / math.sqrt(d)) if d > 0 else float("inf"))
                             for n, d in zip(names, np.diag(fu))}
    keep, flagged, eigenvalues = _flag_flat_directions(fu, fraction)
    out["fisher_eigenvalues_unit"] = eigenvalues.tolist()
    out["unconstrained"] = [names[j] for j in sorted(flagged)]
    if keep:
        try:
            chol = np.linalg.cholesky(fisher[np.ix_(keep, keep)])
        except np.linalg.LinAlgError:
            out["unconstrained"] = list(names)
            out["status"] = "Fisher matrix not positive definite: no uncertainties"
            return out
        inv_l = np.linalg.solve(chol, np.eye(len(keep)))
        cov_sub = inv_l.T @ inv_l
        sig = np.sqrt(np.diag(cov_sub))
        out["covariance"][np.ix_(keep, keep)] = cov_sub
        out["correlation"][np.ix_(keep, keep)] = cov_sub / np.outer(sig, sig)
        for j, s in zip(keep, sig):
            out["sigma"][names[j]] = float(s)
    if not flagged:
        out["status"] = "positive definite"
    elif keep:
        out["status"] = f"unconstrained parameters ({', '.join(out['unconstrained'])}) held fixed in the covariance"
    else:
        out["status"] = "no parameter is constrained"
    return out


def propagate_uncertainty(result: Mapping[str, Any], fn: Callable[[Mapping[str, Any]], Any]) -> tuple[float, float]:
    """Value and 1σ of a derived quantity by linear error propagation.

    :math:`\\sigma_f^2 = \\nabla f^T C\\, \\nabla f` with the exact gradient of ``fn``
    with respect to the constrained free parameters at the best fit.

    Args:
        result: a joint :func:`pbufjax.engine.run_fit` result with free parameters.
        fn: function of a parameter dict (numeric entries may be traced JAX
            arrays) returning a scalar, e.g.
            ``lambda p: p["H0"] / 100 * cosmology.cmb.derived(p)["r_drag"]``.

    Returns:
        ``(value, sigma)``.

    Raises:
        ValueError: the result has no free parameters or no covariance.
    """
    import jax
    import jax.numpy as jnp

    free = list(result.get("free_params") or [])
    if not free:
        raise ValueError("the result has no free parameters to propagate")
    params = result["params"]
    static = {k: v for k, v in params.items() if isinstance(v, str)}
    numeric = {k: float(v) for k, v in params.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
               and k not in _DERIVED_KEYS}
    x = np.array([numeric[k] for k in free])

    def f(theta):
        q = {**numeric, **static}
        for i, k in enumerate(free):
            q[k] = theta[i]
        return jnp.asarray(fn(q), jnp.float64)

    val, grad = jax.jit(jax.value_and_grad(f))(x)
    grad = np.asarray(grad)
    cov = np.asarray(result["covariance"], float)
    ok = np.isfinite(np.diag(cov))
    if not ok.any():
        raise ValueError("the result has no finite covariance")
    g = grad[ok]
    var = float(g @ cov[np.ix_(ok, ok)] @ g)
    return float(val), math.sqrt(max(var, 0.0))


__all__ = ["UNCONSTRAINED_FRACTION", "empty_uncertainties", "hessian_uncertainties", "propagate_uncertainty"]
