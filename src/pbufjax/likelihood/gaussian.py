"""The Gaussian χ² algebra of every block, done once at build time.

.. math::

    \\chi^2 = r^T C^{-1} r = \\lVert L^{-1} r \\rVert^2,\\qquad C = L L^T .

The Cholesky factor :math:`L`, the whitening matrix :math:`L^{-1}` and the precision
matrix :math:`P = L^{-T}L^{-1}` are computed host-side once, so an evaluation is one
matrix-vector product :math:`y = Pr` and its gradient reuses it (a custom JVP rule): no
factorization, inversion or second product on the hot path.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from ..data.validation import check_covariance


def factor_covariance(cov: np.ndarray, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower Cholesky factor :math:`L` of ``scale*cov`` (validated), the precision matrix and
    :math:`L^{-1}` (whitening: :math:`\\chi^2 = |L^{-1}r|^2`), host-side, once.

    Raises:
        DatasetValidationError: ``cov`` is not a finite, symmetric, positive-definite matrix.
    """
    chol = check_covariance(np.asarray(cov, dtype=np.float64) * scale)
    linv = np.tril(np.linalg.solve(chol, np.eye(chol.shape[0])))
    prec = linv.T @ linv
    return chol, 0.5 * (prec + prec.T), linv


def is_diagonal(matrix: np.ndarray) -> bool:
    """Whether a square host matrix has no non-zero entry off its diagonal."""
    m = np.asarray(matrix)
    return m.ndim == 2 and m.shape[0] == m.shape[1] and not np.any(m - np.diag(np.diag(m)))


def matrix_product(matrix: np.ndarray) -> Callable:
    """``f(r) -> M r`` for a host matrix fixed at build time: elementwise when ``M`` is diagonal
    (independent errors, e.g. a statistical-only SN covariance), O(n) instead of O(n^2)."""
    m = np.asarray(matrix, dtype=np.float64)
    if is_diagonal(m):
        d = jnp.asarray(np.diag(m).copy())
        return lambda r: d * r
    dense = jnp.asarray(m)
    return lambda r: dense @ r


def quadratic_forms(prec: np.ndarray, vec: np.ndarray | None = None) -> Callable:
    """``f(r) -> (r^T P r, v^T r)`` with one product :math:`Pr` for the value and the derivative.

    The JVP rule :math:`d(r^TPr) = 2(Pr)^T dr` reuses :math:`Pr` (P symmetric), so
    reverse mode needs no second product with P; forward mode and higher derivatives
    work too (``jax.hessian``). A diagonal :math:`P` (independent errors) is applied
    elementwise, :math:`O(n)` rather than :math:`O(n^2)`.
    """
    v = jnp.zeros(prec.shape[0]) if vec is None else jnp.asarray(vec)
    product = matrix_product(prec)

    @jax.custom_jvp
    def forms(r):
        return jnp.dot(r, product(r)), jnp.dot(v, r)

    @forms.defjvp
    def _forms_jvp(primals, tangents):
        (r,), (dr,) = primals, tangents
        y = product(r)
        return (jnp.dot(r, y), jnp.dot(v, r)), (2.0 * jnp.dot(y, dr), jnp.dot(v, dr))

    return forms


def finite_or_inf(x):
    """``x`` where finite, else :math:`+\\infty` (a χ² is never NaN)."""
    return jnp.where(jnp.isfinite(x), x, jnp.inf)


__all__ = ["factor_covariance", "finite_or_inf", "is_diagonal", "matrix_product", "quadratic_forms"]
