"""N bounded L-BFGS fits from random starts in one vmapped, jit-compiled batch (registry name ``multistart``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..criteria import BAD_CHI2
from ..result import STATUS_FAILED, Status, host_result
from .lbfgs import LBFGS_OPTIONS, LBFGS_POSITIVE
from ..transforms import unit_bounds
from .spec import SolverSpec, register_solver

if TYPE_CHECKING:  # annotations only (the objective module builds these solvers lazily)
    from ..objective import Objective


def optimize_multistart(objective: Objective, initial_params, bounds=None, options=None):
    """N bounded L-BFGS fits from random starts in one vmapped, jit-compiled batch.

    The first start is ``initial_params``; the others are drawn uniformly in the
    box (seeded). The best converged fit is returned, with the spread of the
    minima in ``result.multistart``: χ² of every start, how many reached the best
    χ² within ``agree_tol``, and the standard deviation of their parameters.

    Options: ``n_starts`` (16), ``seed`` (0), ``agree_tol`` (1e-4 in χ²), and the
    :func:`optimize_lbfgs` options.
    """
    import jax

    opts = SPEC.check_options(options)
    n_starts = int(opts.pop("n_starts", 16))
    if n_starts < 1:
        raise ValueError(f"n_starts must be >= 1, got {n_starts}")
    rng = np.random.default_rng(opts.pop("seed", 0))
    agree_tol = float(opts.pop("agree_tol", 1e-4))
    lo, hi = unit_bounds(bounds, objective.n)
    u0 = np.vstack([np.asarray(initial_params, float)[None, :], rng.uniform(lo, hi, (n_starts - 1, objective.n))])
    solve = objective.compiled.lbfgs_solver(batched=True, **opts)
    plo, phi = objective.to_physical(lo), objective.to_physical(hi)
    x0 = np.array([objective.to_physical(u) for u in u0])
    r = jax.device_get(solve(x0, plo, phi, objective.aux))
    objective.remember(np.asarray(initial_params, float), float(np.asarray(r.fun_start)[0]))
    fun = np.asarray(r.fun, float)
    status = np.asarray(r.status)
    xs = np.asarray(r.x, float)
    nev = int(np.sum(np.asarray(r.n_eval)))
    objective.nfev += nev
    objective.ngev += nev
    ok = (status == 0) & np.isfinite(fun) & (fun < BAD_CHI2)
    pool = np.where(ok)[0] if ok.any() else np.where(np.isfinite(fun) & (fun < BAD_CHI2))[0]
    if pool.size == 0:
        best = 0
        st = STATUS_FAILED
    else:
        best = int(pool[np.argmin(fun[pool])])
        st = Status.from_code(status[best])
    at_best = np.isfinite(fun) & (np.abs(fun - fun[best]) <= agree_tol)
    spread = {
        "n_starts": n_starts,
        "n_converged": int(ok.sum()),
        "chi2_min": float(fun[best]),
        "chi2_values": [float(v) for v in np.sort(fun)],
        "chi2_spread": float(np.ptp(fun[ok])) if ok.any() else float("nan"),
        "n_at_best": int(at_best.sum()),
        "param_std_at_best": {n: float(s) for n, s in zip(objective.names, np.std(xs[at_best], axis=0))},
    }
    u = np.clip(objective.to_unit(xs[best]), 0.0, 1.0)
    msg = f"multistart: {int(ok.sum())}/{n_starts} starts converged, {int(at_best.sum())} reached the best χ²"
    return host_result(u, float(fun[best]), st, msg, int(np.asarray(r.n_iter)[best]), library="optax",
                       method="multistart", multistart=spread, nfev=nev)


SPEC = register_solver(SolverSpec(
    name="multistart", function=optimize_multistart, library="optax", pure_jax=True,
    options={"n_starts": int, "seed": object, "agree_tol": float, **LBFGS_OPTIONS}, tolerance_option="ftol",
    positive=LBFGS_POSITIVE, nonnegative=frozenset({"agree_tol"}),
    description="N pure-JAX L-BFGS fits from random starts in one vmapped batch; the spread of the minima",
), overwrite=True)

__all__ = ["SPEC", "optimize_multistart"]
