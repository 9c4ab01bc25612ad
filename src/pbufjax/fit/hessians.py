r"""The exact chain rule between χ² Hessians in physical and in unit-box coordinates.

With :math:`u_i(x_i)` the per-parameter map of :func:`pbufjax.fit.transforms.to_unit`
(linear, or linear in :math:`\log_{10} x` for log-space parameters).
"""

from __future__ import annotations

import math

import numpy as np

from .transforms import to_t


def value_gradient_hessian(f):
    """``g(x) -> (f(x), ∇f(x), ∇²f(x))`` of a scalar JAX function, from one forward-over-forward
    pass (the value and gradient are the pass's lower orders, kept as auxiliary outputs;
    the Hessian is symmetrized). For the few parameters of a fit it compiles faster than
    forward-over-reverse; traceable, so it serves compiled solvers and reports alike."""
    import jax

    def value(x):
        v = f(x)
        return v, v

    def gradient(x):
        g, v = jax.jacfwd(value, has_aux=True)(x)
        return g, (g, v)

    def vgh(x):
        h, (g, v) = jax.jacfwd(gradient, has_aux=True)(x)
        return v, g, 0.5 * (h + h.T)

    return vgh


def unit_hessian_to_physical(hess_unit, grad_unit, x, lower, upper, log_mask) -> np.ndarray:
    r"""Hessian of χ² in physical parameters from the unit-box one (exact chain rule).

    With :math:`u_i(x_i)` the per-parameter map of :func:`to_unit`,
    :math:`\partial^2\chi^2/\partial x_i\partial x_j = H^u_{ij} u_i' u_j' + \delta_{ij} g^u_i u_i''`.
    """
    x = np.asarray(x, float)
    log_mask = np.asarray(log_mask, bool)
    tl, th = to_t(np.asarray(lower, float), log_mask, np), to_t(np.asarray(upper, float), log_mask, np)
    span = th - tl
    ln10 = math.log(10.0)
    d1 = np.where(log_mask, 1.0 / (np.where(log_mask, x, 1.0) * ln10 * span), 1.0 / span)
    d2 = np.where(log_mask, -1.0 / (np.where(log_mask, x, 1.0) ** 2 * ln10 * span), 0.0)
    h = np.asarray(hess_unit, float) * np.outer(d1, d1)
    return h + np.diag(np.asarray(grad_unit, float) * d2)


def physical_hessian_to_unit(hess_phys, grad_phys, x, lower, upper, log_mask) -> np.ndarray:
    r"""Hessian of χ² in unit-box coordinates from the physical one (inverse of
    :func:`unit_hessian_to_physical`):
    :math:`H^u_{ij} = H_{ij} x_i' x_j' + \delta_{ij} g_i x_i''` with :math:`x(u)` per parameter."""
    x = np.asarray(x, float)
    log_mask = np.asarray(log_mask, bool)
    tl, th = to_t(np.asarray(lower, float), log_mask, np), to_t(np.asarray(upper, float), log_mask, np)
    span = th - tl
    ln10 = math.log(10.0)
    d1 = np.where(log_mask, x * ln10 * span, span)
    d2 = np.where(log_mask, x * (ln10 * span) ** 2, 0.0)
    return np.asarray(hess_phys, float) * np.outer(d1, d1) + np.diag(np.asarray(grad_phys, float) * d2)




__all__ = ["physical_hessian_to_unit", "unit_hessian_to_physical", "value_gradient_hessian"]
