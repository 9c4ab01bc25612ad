"""Tabulated, non-Gaussian BAO likelihoods: a :math:`\\chi^2(\\alpha)` table interpolated by a cubic spline.

Some BAO releases give the likelihood of the dilation :math:`\\alpha` as a table instead of
a mean and an error. SDSS DR7 MGS (Ross et al. 2015, arXiv:1409.3242) tabulates
:math:`\\chi^2` at 399 values of

.. math::

    \\alpha = \\frac{D_V(z)/r_d}{(D_V/r_d)_{fid}},\\qquad (D_V/r_d)_{fid} = 638.9518/148.69,

which is strongly non-Gaussian (a second, shallow minimum near :math:`\\alpha = 0.80`).

The table is interpolated by the interpolating cubic spline with not-a-knot end
conditions, the curve of Cobaya's ``sdss_dr7_mgs`` (``UnivariateSpline(s=0)``): :math:`C^2`,
so the χ² has exact first and second derivatives under ``jax.grad`` / ``jax.hessian``.
Outside the table the χ² is :math:`+\\infty` (as in Cobaya: the release says nothing there;
the gradient stays finite, zero).

The block's χ² is :math:`S(\\alpha) - S_{min}`, with :math:`S` the spline and
:math:`S_{min}` its minimum over the table (:math:`-6.9\\times10^{-5}` for MGS, whose table
has 0 at its lowest node: the spline dips slightly below it). The constant shift changes no
fit; it makes :math:`\\chi^2 \\ge 0` with a single zero at :math:`\\alpha_*`, so the block has
an exact residual form, the signed root

.. math::

    w(\\alpha) = \\mathrm{sign}(\\alpha - \\alpha_*)\\sqrt{S(\\alpha) - S_{min}},\\qquad w^2 = \\chi^2,

smooth through :math:`\\alpha_*` (on the spline piece holding :math:`\\alpha_*` it is evaluated
as :math:`d\\sqrt{a_2 + a_3 d}`, :math:`d = \\alpha - \\alpha_*`, without a 0/0), so
Gauss-Newton and batch fits use it like the Gaussian blocks.

With the covariance scaling :math:`s` of the likelihood, :math:`\\chi^2 \\to \\chi^2/s`
(the Gaussian rule :math:`C \\to sC`). A replacement data vector :math:`d'` (a mock) in place
of the published summary :math:`d` rescales the measured dilation:
:math:`\\chi^2 = S(\\alpha\\,d/d') - S_{min}`, i.e. the same likelihood shape centred on the mock.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from .blocks import BAOBlock, register_block
from .gaussian import finite_or_inf


class SplineTable(NamedTuple):
    """A cubic spline through a table, with its minimum (numpy, built once).

    Attributes:
        knots: the table's abscissae, strictly increasing (n,).
        coef: piece coefficients (4, n-1): on :math:`[x_i, x_{i+1}]`,
            :math:`S = c_0 t^3 + c_1 t^2 + c_2 t + c_3`, :math:`t = x - x_i`.
        x_min: :math:`\\alpha_*`, where the spline is lowest (inside the table).
        f_min: :math:`S_{min} = S(\\alpha_*)`.
        piece_min: index of the piece holding :math:`\\alpha_*`.
        a2, a3: on that piece :math:`S - S_{min} = d^2 (a_2 + a_3 d)`, :math:`d = x - \\alpha_*`.
    """

    knots: np.ndarray
    coef: np.ndarray
    x_min: float
    f_min: float
    piece_min: int
    a2: float
    a3: float


def spline_table(x, y) -> SplineTable:
    """The not-a-knot interpolating cubic spline of ``(x, y)`` and its global minimum.

    Args:
        x: strictly increasing, finite abscissae (at least 4).
        y: finite values at ``x``.

    Returns:
        :class:`SplineTable`.

    Raises:
        ValueError: fewer than 4 points, shapes that differ, non-finite values, ``x`` not
            strictly increasing, or a minimum on the table's edge or with zero curvature
            (the signed-root residual form needs an interior, quadratic minimum).
    """
    from scipy.interpolate import CubicSpline

    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    if x.ndim != 1 or x.shape != y.shape or x.size < 4:
        raise ValueError(f"a spline table needs two 1-D arrays of the same length >= 4, got shapes {x.shape}, {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("a spline table needs finite values")
    if not np.all(np.diff(x) > 0):
        raise ValueError("a spline table needs strictly increasing abscissae")
    coef = CubicSpline(x, y, bc_type="not-a-knot").c  # (4, n-1), highest power first
    # candidates for the global minimum: every node and every interior critical point of a piece
    best = (float(y.min()), float(x[np.argmin(y)]))
    for i in range(x.size - 1):
        c0, c1, c2, c3 = coef[:, i]
        h = x[i + 1] - x[i]
        roots = np.roots([3.0 * c0, 2.0 * c1, c2]) if (c0 or c1) else np.array([])
        for t in roots[np.isreal(roots)].real:
            if 0.0 < t < h:
                f = ((c0 * t + c1) * t + c2) * t + c3
                if f < best[0]:
                    best = (float(f), float(x[i] + t))
    f_min, x_min = best
    if not x[0] < x_min < x[-1]:
        raise ValueError(f"the tabulated chi2 is lowest at the table's edge (x = {x_min}); a minimum inside the "
                         "table is needed")
    k = int(np.clip(np.searchsorted(x, x_min, side="right") - 1, 0, x.size - 2))
    c0, c1, c2, c3 = coef[:, k]
    t = x_min - x[k]
    a3 = float(c0)
    a2 = float(3.0 * c0 * t + c1)  # S''(x_min)/2
    if not (a2 > 0 and a2 + a3 * (x[k] - x_min) > 0 and a2 + a3 * (x[k + 1] - x_min) > 0):
        raise ValueError(f"the tabulated chi2 has a degenerate minimum at x = {x_min} (zero curvature)")
    return SplineTable(x, coef, x_min, f_min, k, a2, a3)


def _clip(table: SplineTable, x):
    """``x`` clipped to the table (gradient 1 on its edges, unlike ``jnp.clip``'s 1/2)."""
    lo, hi = float(table.knots[0]), float(table.knots[-1])
    return jnp.where(x < lo, lo, jnp.where(x > hi, hi, x)), (x >= lo) & (x <= hi)


def _piece(table: SplineTable, x):
    """``(index, S(x))`` at ``x`` inside the table (traceable)."""
    knots = jnp.asarray(table.knots)
    i = jnp.clip(jnp.searchsorted(knots, x, side="right") - 1, 0, table.knots.size - 2)
    c = jnp.asarray(table.coef)[:, i]
    t = x - knots[i]
    return i, ((c[0] * t + c[1]) * t + c[2]) * t + c[3]


def spline_value(table: SplineTable, x) -> jnp.ndarray:
    """:math:`S(x)` (the interpolated table), :math:`+\\infty` outside ``[knots[0], knots[-1]]``; traceable."""
    xc, inside = _clip(table, jnp.asarray(x, jnp.float64))
    _, f = _piece(table, xc)
    return jnp.where(inside, f, jnp.inf)


def signed_root(table: SplineTable, x) -> jnp.ndarray:
    """:math:`w = \\mathrm{sign}(x - x_*)\\sqrt{S(x) - S_{min}}` (:math:`+\\infty` outside the table); traceable.

    Smooth through :math:`x_*` (no 0/0 in value or derivative): on the piece holding
    :math:`x_*` it is :math:`d\\sqrt{a_2 + a_3 d}`.
    """
    xc, inside = _clip(table, jnp.asarray(x, jnp.float64))
    i, f = _piece(table, xc)
    d = xc - table.x_min
    on_min = i == table.piece_min
    near = d * jnp.sqrt(jnp.where(on_min, table.a2 + table.a3 * d, 1.0))
    g = f - table.f_min
    pos = (~on_min) & (g > 0)
    far = jnp.sign(d) * jnp.sqrt(jnp.where(pos, g, 1.0))
    w = jnp.where(on_min, near, jnp.where(pos, far, 0.0))
    return jnp.where(inside, w, jnp.inf)


class BAOTableBlock(BAOBlock):
    """One BAO quantity with a tabulated :math:`\\chi^2(\\alpha)` likelihood (kind ``bao_tabulated``).

    The dataset dict has the BAO keys for its single point (``redshifts``, ``quantities``,
    ``rd_fid``; ``observations`` and ``covariance`` are the published Gaussian summary, used
    for reports, plots and mocks) and ``table_alpha``, ``table_chi2`` and
    ``table_reference``: :math:`\\alpha = m(\\theta)/` ``table_reference``, with
    :math:`m` the model quantity (e.g. :math:`D_V/r_d`). The sound horizon follows
    :class:`~pbufjax.likelihood.blocks.BAOBlock` (``hrd`` free or set: :math:`r_d = h r_d/h`).
    See :mod:`pbufjax.likelihood.tabulated` for the χ² and its residual form.
    """

    dataset_type = "bao_tabulated"
    fingerprint_attributes = BAOBlock.fingerprint_attributes + ("table_alpha", "table_chi2", "table_reference",
                                                                "scale")

    def __init__(self, data, scale=1.0, free_rd: bool = False):
        super().__init__(data, scale, free_rd)
        if self.n != 1:
            raise ValueError(f"dataset {self.name!r}: a tabulated BAO likelihood has one data point, got {self.n}")
        for key in ("table_alpha", "table_chi2", "table_reference"):
            if key not in data:
                raise ValueError(f"dataset {self.name!r}: missing key {key!r} of a tabulated BAO likelihood")
        self.table_alpha = np.asarray(data["table_alpha"], np.float64)
        self.table_chi2 = np.asarray(data["table_chi2"], np.float64)
        self.table_reference = float(data["table_reference"])
        if not (np.isfinite(self.table_reference) and self.table_reference > 0):
            raise ValueError(f"dataset {self.name!r}: table_reference must be finite and > 0, "
                             f"got {self.table_reference}")
        try:
            self.table = spline_table(self.table_alpha, self.table_chi2)
        except ValueError as exc:
            raise ValueError(f"dataset {self.name!r}: {exc}") from None
        self.scale = float(scale)

    def alpha(self, p, ctx, obs):
        """``(alpha, model, predictions)``: :math:`\\alpha = (m/m_{fid})(d/d')` at the data vector ``obs``."""
        model, pred = self.predict(p, ctx)
        shift = jnp.asarray(self.observations) / obs  # 1 exactly for the real data
        return model / self.table_reference * shift, model, pred

    def chi2(self, p, ctx, obs):
        a, model, pred = self.alpha(p, ctx, obs)
        chi2 = (spline_value(self.table, a[0]) - self.table.f_min) / self.scale
        pred.update(values=model, alpha=a[0])
        return finite_or_inf(chi2), pred

    def whitened(self, p, ctx, obs):
        a, _, _ = self.alpha(p, ctx, obs)
        return signed_root(self.table, a) / np.sqrt(self.scale)


register_block("bao_tabulated", BAOTableBlock)

__all__ = ["BAOTableBlock", "SplineTable", "signed_root", "spline_table", "spline_value"]
