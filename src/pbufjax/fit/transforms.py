r"""The one coordinate map between physical parameters and the spaces solvers and samplers work in.

Three coordinates, used by every optimizer and by the sampler:

* :math:`t` — the parameter itself, or :math:`\log_{10}` of it for log-space
  parameters (``log_mask`` true);
* :math:`u \in [0, 1]` — the unit box, :math:`u = (t - t_{lo}) / (t_{hi} - t_{lo})`,
  well scaled whatever the parameters' units (the bounded solvers' space);
* :math:`z \in \mathbb{R}` — unconstrained, :math:`u = \mathrm{sigmoid}(z)`
  (the unconstrained solvers' and the sampler's space). The log-Jacobian of
  :math:`z \mapsto u` is :math:`\log\sigma(z) + \log\sigma(-z)`.

Every function takes ``xp`` (``numpy`` or ``jax.numpy``), so the same map serves
host code and traced code.
"""

from __future__ import annotations

import numpy as np


def to_t(x, log_mask, xp=np):
    """Physical value → :math:`t` (``log10`` where ``log_mask``)."""
    return xp.where(log_mask, xp.log10(xp.where(log_mask, x, 1.0)), x)


def from_t(t, log_mask, xp=np):
    """:math:`t` → physical value (inverse of :func:`to_t`)."""
    return xp.where(log_mask, 10.0 ** xp.where(log_mask, t, 0.0), t)


def to_unit(x, lower, upper, log_mask, xp=np):
    """Physical parameters → unit-box coordinates :math:`u = (t - t_{lo})/(t_{hi} - t_{lo})`."""
    tl, th = to_t(lower, log_mask, xp), to_t(upper, log_mask, xp)
    return (to_t(x, log_mask, xp) - tl) / (th - tl)


def from_unit(u, lower, upper, log_mask, xp=np):
    """Unit-box coordinates → physical parameters (inverse of :func:`to_unit`)."""
    tl, th = to_t(lower, log_mask, xp), to_t(upper, log_mask, xp)
    return from_t(tl + u * (th - tl), log_mask, xp)


def unit_to_free(u, xp=np):
    r"""Unit box → unconstrained :math:`z = \log u - \log(1 - u)` (logit)."""
    return xp.log(u) - xp.log1p(-u)


def free_to_unit(z, xp=np):
    r"""Unconstrained :math:`z` → unit box, :math:`u = 1 / (1 + e^{-z})`."""
    if xp is np:
        return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=float)))
    import jax

    return jax.nn.sigmoid(z)


def from_free(z, lower, upper, log_mask, xp=np):
    r"""Unconstrained :math:`z` → physical parameters: :math:`t = t_{lo} + (t_{hi}-t_{lo})\,\sigma(z)`."""
    return from_unit(free_to_unit(z, xp), lower, upper, log_mask, xp)


def to_free(x, lower, upper, log_mask, xp=np):
    """Physical parameters → unconstrained :math:`z` (inverse of :func:`from_free`; bounds map to ±inf)."""
    return unit_to_free(to_unit(x, lower, upper, log_mask, xp), xp)


def free_log_jacobian(z):
    r""":math:`\sum_i \log\sigma(z_i) + \log\sigma(-z_i)`, the log-Jacobian of :math:`z \mapsto u` (JAX)."""
    import jax
    import jax.numpy as jnp

    return jnp.sum(jax.nn.log_sigmoid(z) + jax.nn.log_sigmoid(-z))


def unit_bounds(bounds, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper unit-box bounds from a solver's ``bounds`` (``[(lo, hi)] * n``; None: the unit box)."""
    if bounds is None:
        return np.zeros(n), np.ones(n)
    b = np.asarray(bounds, float).reshape(n, 2)
    return b[:, 0], b[:, 1]


__all__ = ["free_log_jacobian", "free_to_unit", "from_free", "from_t", "from_unit", "to_free", "to_t", "to_unit",
           "unit_bounds", "unit_to_free"]
