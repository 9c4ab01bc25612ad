r"""The Dark Energy Task Force figure of merit of the CPL parameters :math:`(w_0, w_a)`.

.. math::

    \mathrm{FoM} = \frac{1}{\sqrt{\det \mathrm{Cov}(w_0, w_a)}}

(Albrecht et al. 2006, the DETF report, astro-ph/0609591: the inverse area of the error
ellipse, here without its constant factor). The
2×2 covariance is the marginal one: the :math:`(w_0, w_a)` block of the full covariance, from
the Hessian of a fit (Laplace approximation) or from the samples of a chain.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

#: The parameter pair of the figure of merit.
FOM_PARAMS = ("w0", "wa")


def figure_of_merit(covariance, names: Sequence[str]) -> float | None:
    r"""DETF figure of merit :math:`1/\sqrt{\det C_{w_0 w_a}}` from a covariance matrix.

    Args:
        covariance: (k, k) covariance ordered as ``names``.
        names: the parameter names of its rows.

    Returns:
        The figure of merit; ``None`` when ``w0`` and ``wa`` are not both in ``names``;
        NaN when their 2×2 block is not finite or not positive definite (e.g. an
        unconstrained direction).

    Raises:
        ValueError: ``covariance`` is not (k, k) with k = ``len(names)``.
    """
    names = list(names)
    cov = np.asarray(covariance, np.float64)
    if cov.shape != (len(names), len(names)):
        raise ValueError(f"covariance of shape {cov.shape} does not match {len(names)} names {names}")
    if not all(p in names for p in FOM_PARAMS):
        return None
    idx = [names.index(p) for p in FOM_PARAMS]
    block = cov[np.ix_(idx, idx)]
    if not np.all(np.isfinite(block)):
        return float("nan")
    det = float(np.linalg.det(block))
    if not (det > 0.0 and block[0, 0] > 0.0):
        return float("nan")
    return 1.0 / math.sqrt(det)


def figure_of_merit_from_samples(samples: Mapping[str, np.ndarray]) -> float | None:
    r"""DETF figure of merit from samples ``{name: array}`` (any shape; flattened), with the
    unbiased sample covariance of :math:`(w_0, w_a)`.

    Returns:
        The figure of merit; ``None`` when ``w0`` or ``wa`` is not sampled; NaN with fewer
        than 3 samples.

    Raises:
        ValueError: ``w0`` and ``wa`` of different sizes.
    """
    if not all(p in samples for p in FOM_PARAMS):
        return None
    x = [np.asarray(samples[p], np.float64).reshape(-1) for p in FOM_PARAMS]
    if x[0].size != x[1].size:
        raise ValueError(f"w0 and wa have different numbers of samples ({x[0].size}, {x[1].size})")
    if x[0].size < 3:
        return float("nan")
    return figure_of_merit(np.cov(np.stack(x)), FOM_PARAMS)


__all__ = ["FOM_PARAMS", "figure_of_merit", "figure_of_merit_from_samples"]
