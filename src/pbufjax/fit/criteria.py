r"""When a fit counts as converged: the tolerances and the tests on gradient and curvature.

Every result states honestly how the solver stopped. A non-finite χ² is never a success,
nor is a point whose projected gradient exceeds :data:`PGTOL` unless the exact Hessian
shows less than :data:`GAINTOL` of χ² left to gain there (:func:`predicted_gain`).
"""

from __future__ import annotations

import numpy as np

from .transforms import to_unit

#: χ² assigned to non-finite points inside the optimizers (finite, so that line
#: searches back off instead of failing); a result at or above it is "failed".
BAD_CHI2 = 1.0e12

#: Relative distance to a bound (in t-space, as a fraction of the range) under
#: which a parameter is reported in ``bounds_reached``.
BOUND_TOL = 1.0e-3

#: Largest projected-gradient norm of χ² (unit-box coordinates) at a point reported
#: as a converged minimum. With curvatures of order 1–1e6 in these coordinates the
#: χ² still to be gained there is below ~1e-6.
PGTOL = 1.0e-3

#: Curvature (unit-box χ² Hessian eigenvalue) below which a direction counts as flat:
#: its 1σ width would exceed half the bound range.
FLAT_CURVATURE = 4.0
#: χ² still to gain below which a point counts as a minimum even if its gradient
#: exceeds :data:`PGTOL` (the gradient is then at the χ²'s rounding level, which
#: happens in directions with very large curvature).
GAINTOL = 1.0e-6


def _box(u, bounds):
    if bounds is None:
        return np.zeros_like(u), np.ones_like(u)
    lo, hi = np.asarray(bounds, float).reshape(-1, 2).T
    return lo, hi


def _held(u, g, bounds, tol):
    lo, hi = _box(u, bounds)
    span = np.where(hi > lo, hi - lo, 1.0)
    return (((u - lo) <= tol * span) & (g > 0)) | (((hi - u) <= tol * span) & (g < 0))


def projected_gradient_norm(u, g, bounds=None, tol: float = BOUND_TOL) -> float:
    """2-norm of the gradient ``g`` at ``u`` without the components that push against an
    active bound (the first-order optimality measure of a box-constrained minimum)."""
    u = np.asarray(u, float)
    g = np.asarray(g, float)
    return float(np.linalg.norm(np.where(_held(u, g, bounds, tol), 0.0, g)))


def predicted_gain(u, g, h, bounds=None, tol: float = BOUND_TOL) -> float:
    r"""Upper estimate of the χ² still to gain from ``u`` (unit box).

    On the parameters not held at a bound, with :math:`H = \sum_i w_i v_i v_i^T`:
    :math:`\sum_{w_i \ge w_{flat}} (v_i^T g)^2/(2 w_i)` (the Newton decrement) plus, for
    flat or negative-curvature directions, the most a unit step can gain,
    :math:`|v_i^T g| + \max(-w_i, 0)/2`.
    """
    u = np.asarray(u, float)
    g = np.asarray(g, float)
    h = np.asarray(h, float)
    free = ~_held(u, g, bounds, tol)
    if not free.any():
        return 0.0
    if not (np.all(np.isfinite(h)) and np.all(np.isfinite(g))):
        return float("inf")
    w, v = np.linalg.eigh(0.5 * (h + h.T)[np.ix_(free, free)])
    p = v.T @ g[free]
    steep = w >= FLAT_CURVATURE
    gain = np.sum(p[steep] ** 2 / (2.0 * w[steep])) + np.sum(np.abs(p[~steep]) + 0.5 * np.maximum(-w[~steep], 0.0))
    return float(gain)


def bounds_reached(x, lower, upper, log_mask, names, tol: float = BOUND_TOL) -> list[str]:
    """Names of the parameters within ``tol`` (fraction of the range, t-space) of a bound."""
    u = to_unit(np.asarray(x, float), np.asarray(lower, float), np.asarray(upper, float), np.asarray(log_mask, bool))
    return [n for n, ui in zip(names, u) if ui <= tol or ui >= 1.0 - tol]


__all__ = ["BAD_CHI2", "BOUND_TOL", "FLAT_CURVATURE", "GAINTOL", "PGTOL", "bounds_reached", "predicted_gain",
           "projected_gradient_norm"]
