r"""Damped, projected Newton and Gauss-Newton: the kernel :func:`fit_newton`, its registry
adapters (``newton``, ``gauss_newton``) and their batch forms.

Why not optimistix (0.1.0), measured side by side by ``benchmarks/bench_solvers.py`` on the
benchmark fits (``benchmarks/results/solvers.json``: ΛCDM desi_dr2+union3 with H0, Ωm free;
PBUF cmb+bao+sn with H0, Ωm, Obh2, k_sat, α free; one jitted fit and a vmapped batch of 256
random starts; optimistix in the sigmoid coordinates, rtol = atol = 1e-8, 256 steps):

Figures of a run on an idle 2-core CPU (2026-12-01; a first run at load 8 gave the same verdict):

* ``optx.GaussNewton`` takes 1.37× (single fit) and 1.61× (batch) the time of this kernel's
  Gauss-Newton on ΛCDM, and being undamped and unbounded it diverged from 62 of 256 ΛCDM
  starts and from the PBUF start itself (failed, χ² 4.6e5 above the minimum 39.08);
* ``optx.LevenbergMarquardt`` converges on ΛCDM but takes 3.1× (single) to 23× (batch) the
  time, and stops at its step limit on PBUF (9.9× the time);
* ``optx.BFGS`` takes 1.55× (single) to 5.7× (batch) on ΛCDM, misses the best χ² from 6 of
  256 ΛCDM starts and stops at its step limit on PBUF (189 of 256 batch starts).

None is within 1.3× while converging as this kernel does (every start of both fits), so the
hand-written kernel stays the ``newton`` / ``gauss_newton`` solver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from collections.abc import Callable

import numpy as np

from ..criteria import BAD_CHI2, PGTOL
from ..hessians import value_gradient_hessian
from ..result import STATUS_FAILED, STATUS_MAX_ITER, STATUS_SUCCESS, SolverResult, Status
from ..transforms import unit_bounds, from_unit, to_unit
from .spec import SolverSpec, register_solver

if TYPE_CHECKING:  # annotations only (the objective module builds these solvers lazily)
    from ..objective import Objective

#: The Newton options and their types.
NEWTON_OPTIONS = {"maxiter": int, "gtol": float, "ftol": float, "damping": float}


def fit_newton(
    chi2: Callable,
    x0,
    lower,
    upper,
    *,
    log_mask=None,
    maxiter: int = 100,
    gtol: float = PGTOL,
    ftol: float = 1e-14,
    damping: float = 1e-3,
    residuals: Callable | None = None,
    final_hessian: bool = False,
) -> SolverResult:
    r"""Minimize ``chi2`` within bounds by damped, projected Newton steps with the exact
    Hessian; a pure JAX function (jit/vmap-able). Kept over optimistix's GaussNewton,
    LevenbergMarquardt and BFGS for the measured reasons in the module docstring.

    Works in unit-box coordinates :math:`u`. Each iteration solves
    :math:`(|H| + \lambda\,\max|{\rm eig}\,H|)\,p = -g` on the parameters not
    held at a bound (:math:`|H|` = the Hessian with its eigenvalues replaced by their
    absolute values, so that every step descends; Levenberg 1944, Marquardt 1963;
    projected Newton: Bertsekas 1982, doi:10.1137/0320018), clips :math:`u + p`
    to the box and accepts it if χ² decreases (then :math:`\lambda \to 0.3\lambda`,
    else :math:`\lambda \to 10\lambda`). Near the minimum the steps are pure
    Newton steps (quadratic convergence), and the Hessian at the optimum — needed
    for the uncertainties anyway — comes out with the result.

    Args:
        chi2: pure JAX function of a 1-D array of physical parameters → scalar.
        x0: starting point (physical).
        lower: physical lower bounds.
        upper: physical upper bounds.
        log_mask: True for parameters handled in :math:`\log_{10}` space.
        maxiter: maximum trial steps (static).
        gtol: projected-gradient norm (unit box) at which to stop (default :data:`PGTOL`:
            the χ² still to gain is then below ~1e-7 along any direction whose 1σ
            width is under half the bound range, and Newton's quadratic convergence
            means one more step would change the parameters by far less than σ).
        ftol: relative χ² change under which two successive accepted steps stop it.
        damping: initial relative damping :math:`\lambda`.
        residuals: optional ``residuals(x) -> (w, ok)`` with :math:`\chi^2 = |w|^2`
            (e.g. :meth:`pbufjax.likelihoods.Likelihood.residuals_data`). Then the steps
            use the Gauss-Newton matrix :math:`2J^TJ`, :math:`J = \partial w/\partial u`
            from one forward-mode pass (k tangents instead of the k(k+1) of the exact
            Hessian), and ``hess_unit`` in the result is that matrix. The gradient
            :math:`2J^Tw` is exact, so the stopping test and the minimum are those of
            the exact χ²; convergence becomes linear with a small rate for these
            nearly linear models (about one more iteration than exact Newton).
        final_hessian: with ``residuals``, return in ``hess_unit`` the exact Hessian at
            the solution instead of the Gauss-Newton matrix (one exact evaluation after
            the loop, in the same compiled call; static).

    Returns:
        :class:`~pbufjax.fit.result.SolverResult` with ``x`` (physical), ``fun``, ``grad_unit`` and
        ``hess_unit`` (unit box, at ``x``), ``grad_norm`` (projected, unit box), ``n_iter`` (trial
        steps), ``n_eval``, ``fun_start`` and ``status`` (int code: 0 converged, 1 ``maxiter``,
        2 failed).
    """
    import jax
    import jax.numpy as jnp

    x0 = jnp.asarray(x0, jnp.float64)
    n = x0.shape[0]
    lower = jnp.broadcast_to(jnp.asarray(lower, jnp.float64), x0.shape)
    upper = jnp.broadcast_to(jnp.asarray(upper, jnp.float64), x0.shape)
    if log_mask is None:
        log_mask = jnp.zeros(x0.shape, bool)
    log_mask = jnp.asarray(log_mask, bool)

    def to_x(u):
        return from_unit(u, lower, upper, log_mask, jnp)

    def f(u):
        v = chi2(to_x(u))
        return jnp.where(jnp.isfinite(v), v, BAD_CHI2)

    # value, gradient and Hessian in forward mode (forward-over-forward)
    fgh_exact = value_gradient_hessian(f)

    def wres_aux(u):
        w, ok = residuals(to_x(u))
        return w, (w, ok)

    def fgh_gauss_newton(u):
        jac, (w, ok) = jax.jacfwd(wres_aux, has_aux=True)(u)
        v = jnp.where(ok, jnp.sum(w * w), BAD_CHI2)
        return v, 2.0 * jac.T @ w, 2.0 * jac.T @ jac

    def fgh(u):
        v, g, h = (fgh_exact if residuals is None else fgh_gauss_newton)(u)
        ok = jnp.isfinite(v) & (v < BAD_CHI2) & jnp.all(jnp.isfinite(g)) & jnp.all(jnp.isfinite(h))
        g = jnp.where(ok, g, 0.0)
        h = jnp.where(ok, h, 0.0)
        return jnp.where(ok, v, BAD_CHI2), g, h

    def pgnorm(u, g):
        held = ((u <= 0.0) & (g > 0)) | ((u >= 1.0) & (g < 0))
        return jnp.sqrt(jnp.sum(jnp.where(held, 0.0, g) ** 2))

    u0 = jnp.clip(to_unit(x0, lower, upper, log_mask, jnp), 0.0, 1.0)

    # One evaluation per iteration, at the trial point (a single copy of the χ² graph
    # in the compiled loop): the first "trial" is the start itself (zero step from a
    # state with χ² = +inf).
    def cond(c):
        u, v, g, h, lam, it, nev, stall, stuck, v0 = c
        return (it == 0) | ((it < maxiter) & (pgnorm(u, g) >= gtol) & (stall < 2) & (~stuck) & (v < BAD_CHI2))

    def body(c):
        u, v, g, h, lam, it, nev, stall, stuck, v0 = c
        held = ((u <= 0.0) & (g > 0)) | ((u >= 1.0) & (g < 0))
        free = ~held
        gf = jnp.where(free, g, 0.0)
        hf = jnp.where(free[:, None] & free[None, :], h, 0.0) + jnp.diag(jnp.where(free, 0.0, 1.0))
        w, vec = jnp.linalg.eigh(hf)
        wa = jnp.abs(w)
        scale = jnp.maximum(jnp.max(wa), 1e-300)
        p = -vec @ ((vec.T @ gf) / (wa + lam * scale))
        p = jnp.where(free & jnp.isfinite(p), p, 0.0)
        un = jnp.clip(u + p, 0.0, 1.0)
        vn, gn, hn = fgh(un)
        first = it == 0
        # accept a decrease, or no change beyond rounding (near the minimum the χ² differences
        # of Newton steps reach the last bits; two such steps in a row stop the loop)
        accept = (vn <= v + 4e-16 * jnp.maximum(1.0, jnp.abs(v))) | first
        small = accept & ~first & ((v - vn) <= ftol * jnp.maximum(1.0, jnp.abs(vn)))
        stall = jnp.where(small, stall + 1, jnp.where(accept, 0, stall))
        lam_new = jnp.where(first, lam, jnp.where(accept, jnp.maximum(lam * 0.3, 1e-12), lam * 10.0))
        stuck = (~accept) & (lam_new > 1e10)
        u = jnp.where(accept, un, u)
        v = jnp.where(accept, vn, v)
        g = jnp.where(accept, gn, g)
        h = jnp.where(accept, hn, h)
        v0 = jnp.where(first, vn, v0)
        return u, v, g, h, lam_new, it + 1, nev + 1, stall, stuck, v0

    zero = jnp.zeros(x0.shape, jnp.float64)
    inf = jnp.asarray(jnp.inf, jnp.float64)
    init = (u0, inf, zero, jnp.zeros((n, n), jnp.float64), jnp.asarray(damping, jnp.float64), jnp.int32(0),
            jnp.int32(0), jnp.int32(0), jnp.asarray(False), inf)
    u, v, g, h, lam, it, nev, stall, stuck, v0 = jax.lax.while_loop(cond, body, init)
    if residuals is not None and final_hessian:  # the exact Hessian at the solution
        h = jnp.where(jnp.isfinite(v) & (v < BAD_CHI2), fgh_exact(u)[2], h)
    pg = pgnorm(u, g)
    ok = jnp.isfinite(v) & (v < BAD_CHI2)
    converged = (pg < gtol) | (stall >= 2) | (stuck & (pg < PGTOL))
    status = jnp.where(~ok, 2, jnp.where(converged, 0, jnp.where(it >= maxiter, 1, 2))).astype(jnp.int32)
    return SolverResult(x=to_x(u), fun=v, status=status, grad_norm=pg, n_iter=it, n_eval=nev, fun_start=v0,
                        grad_unit=g, hess_unit=h)


def optimize_newton(objective: Objective, initial_params, bounds=None, options=None, *, gauss_newton=False):
    r"""Damped projected Newton with the exact Hessian (:func:`fit_newton`), one jit-compiled
    call per fit. Fast for the few-parameter fits of background cosmology (a handful
    of iterations), and the Hessian at the optimum comes with the result.

    Options: ``maxiter`` (100), ``gtol`` (:data:`PGTOL`), ``ftol`` (1e-14), ``damping`` (1e-3).
    """
    static = (GAUSS_NEWTON_SPEC if gauss_newton else NEWTON_SPEC).check_options(options)
    lo, hi = unit_bounds(bounds, objective.n)
    if gauss_newton and objective.compiled.residuals is None:  # user χ² functions: exact Newton
        gauss_newton = False
    solve = objective.compiled.newton_solver_host(gauss_newton=gauss_newton, **static)
    if np.array_equal(lo, np.zeros(objective.n)) and np.array_equal(hi, np.ones(objective.n)):
        plo, phi = objective.device_args[0], objective.device_args[1]
    else:
        plo, phi = objective.to_physical(lo), objective.to_physical(hi)
    r = solve(objective.to_physical(initial_params), plo, phi, objective.device_args[2])
    objective.remember(np.asarray(initial_params, float), float(r.fun_start))
    nev = int(r.n_eval)
    objective.nfev += nev
    objective.ngev += nev
    status = Status.from_code(r.status)
    msg = {STATUS_SUCCESS: "converged", STATUS_MAX_ITER: "stopped at maxiter",
           STATUS_FAILED: "no further decrease possible away from a minimum, or non-finite χ²"}[status]
    u = np.clip(objective.to_unit(np.asarray(r.x)), 0.0, 1.0)
    gu = np.asarray(r.grad_unit, float)
    # the solver's unit box is [lo, hi] of the bounds it was given; rescale to the objective's
    scale = (hi - lo)
    # (with gauss_newton the solver returns the exact Hessian at the solution, not the
    # Gauss-Newton matrix: see newton_solver_host)
    name = "Gauss-Newton" if gauss_newton else "Newton"
    return SolverResult(x=u, fun=float(r.fun), status=status, message=f"JAX {name}: {msg}", n_iter=int(r.n_iter),
                        n_eval=nev, library="jax", method="gauss_newton" if gauss_newton else "newton",
                        grad_unit=gu / scale, hess_unit=np.asarray(r.hess_unit, float) / np.outer(scale, scale))


def optimize_gauss_newton(objective: Objective, initial_params, bounds=None, options=None):
    r"""Damped projected Gauss-Newton (:func:`fit_newton` with the whitened residuals of
    :meth:`pbufjax.likelihoods.Likelihood.residuals_data`), one jit-compiled call per fit.

    Steps use :math:`2J^TJ` (one forward-mode pass of k tangents per iteration instead of
    the exact Hessian's k(k+1)); the gradient is exact, so the minimum and the stopping test
    are those of the exact χ². The uncertainties still come from the exact Hessian at the
    optimum, evaluated once at the end of the same compiled call. Falls back to exact
    Newton when a dataset is a user χ² function. Options as :func:`optimize_newton`.
    """
    return optimize_newton(objective, initial_params, bounds, options, gauss_newton=True)


def batch_newton(chi2, x0, lower, upper, log_mask, options, residuals=None) -> SolverResult:
    """Batch form of ``newton`` (jit/vmap-able): exact-Hessian :func:`fit_newton`; ``residuals`` unused."""
    return fit_newton(chi2, x0, lower, upper, log_mask=log_mask, **options)


def batch_gauss_newton(chi2, x0, lower, upper, log_mask, options, residuals=None) -> SolverResult:
    """Batch form of ``gauss_newton`` (jit/vmap-able): :func:`fit_newton` on the Gauss-Newton matrix of
    ``residuals(x) -> (w, ok)``; exact Newton when ``residuals`` is None (a user χ² function)."""
    return fit_newton(chi2, x0, lower, upper, log_mask=log_mask, residuals=residuals, **options)


_COMMON = dict(library="jax", pure_jax=True, options=NEWTON_OPTIONS, tolerance_option="ftol",
               positive=frozenset({"maxiter", "gtol", "ftol"}), nonnegative=frozenset({"damping"}))
NEWTON_SPEC = register_solver(SolverSpec(
    name="newton", function=optimize_newton, batch=batch_newton,
    description="damped projected Newton on the exact Hessian (JAX), one compiled call", **_COMMON,
), overwrite=True)
GAUSS_NEWTON_SPEC = register_solver(SolverSpec(
    name="gauss_newton", function=optimize_gauss_newton, batch=batch_gauss_newton,
    description="damped projected Gauss-Newton on the whitened residuals (JAX), exact Hessian at the end",
    **_COMMON,
), overwrite=True)

__all__ = ["GAUSS_NEWTON_SPEC", "NEWTON_OPTIONS", "NEWTON_SPEC", "batch_gauss_newton", "batch_newton", "fit_newton",
           "optimize_gauss_newton", "optimize_newton"]
