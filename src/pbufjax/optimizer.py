"""Optimizers for χ² minimization with exact JAX gradients.

Three layers, each usable on its own:

1. :func:`fit_lbfgs` — one bounded fit as a pure JAX function (optax L-BFGS with
   a zoom line search; Nocedal & Wright 1999, alg. 7.4–7.5; Liu & Nocedal 1989).
   Bounds are handled by a smooth transform: in :math:`t`-space (the parameter,
   or :math:`\\log_{10}` of it for log-space parameters)

   .. math::

       t = t_{lo} + (t_{hi} - t_{lo})\\,\\mathrm{sigmoid}(z),\\qquad z \\in \\mathbb{R},

   so the optimizer is unconstrained in :math:`z`. Being pure, the whole fit
   (loop, line search, convergence test) ``jax.jit``-compiles into one function
   that ``jax.vmap`` batches over starting points or data realizations.

2. :data:`OPTIMIZERS` — the registry ``name -> fn(objective, initial_params,
   bounds=None, options=None)`` used by :func:`pbufjax.engine.run_fit`. Every
   registered function sees the fit in *unit-box coordinates*
   :math:`u \\in [0,1]^k`, :math:`u = (t - t_{lo})/(t_{hi} - t_{lo})` (well-scaled
   whatever the parameters' units), receives an :class:`Objective` (callable on
   :math:`u`, with exact ``value_and_grad`` and a vmapped ``batch``) and returns a
   ``scipy.optimize.OptimizeResult``-like object with at least ``x``. Built in:
   ``minimize`` (scipy L-BFGS-B fed the exact gradient), ``lbfgs`` (pure JAX),
   ``differential_evolution`` (scipy, whole population in one vmapped call, then
   a gradient polish), ``basinhopping`` (alias ``custom_basinhopping``, the
   registry example) and ``multistart`` (N L-BFGS fits in one vmapped batch).

3. :class:`ParameterOptimizer` and :func:`optimize_cmb_parameters` — the API
   reference's optimization entry points on the real likelihoods, returning
   ``OptimizationResult`` / ``CMBOptimizationResult`` dicts with provenance.

Every result states honestly how the optimizer stopped: ``"success"``,
``"max_iter"`` or ``"failed"``; a non-finite χ² is never a success.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import logging
import math
import numbers
import time
from typing import Any, Callable, Mapping, NamedTuple, Sequence

import numpy as np

logger = logging.getLogger(__name__)

#: χ² assigned to non-finite points inside the optimizers (finite, so that line
#: searches back off instead of failing); a result at or above it is "failed".
BAD_CHI2 = 1.0e12

#: Relative distance to a bound (in t-space, as a fraction of the range) under
#: which a parameter is reported in ``bounds_reached``.
BOUND_TOL = 1.0e-3

STATUS_SUCCESS = "success"
STATUS_MAX_ITER = "max_iter"
STATUS_FAILED = "failed"
_STATUS_CODES = (STATUS_SUCCESS, STATUS_MAX_ITER, STATUS_FAILED)


class AttrDict(dict):
    """A dict whose keys are also attributes (``result.chi2_improvement``)."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key, value):
        self[key] = value


class OptimizationResult(AttrDict):
    """The API reference's OptimizationResult (a dict with attribute access).

    Keys: ``model, optimized_params, starting_params, final_chi2,
    chi2_improvement, convergence_status, n_function_evaluations,
    optimization_time, bounds_reached, optimizer_info, covariance_scaling,
    metadata``.
    """


class CMBOptimizationResult(AttrDict):
    """The API reference's CMBOptimizationResult (a dict with attribute access).

    Keys: ``model, optimized_params, cmb_chi2, chi2_improvement,
    convergence_diagnostics, parameter_bounds_info, provenance``.
    """


# ---------------------------------------------------------------------------
# Coordinates: physical x <-> t (log10 for log-space parameters) <-> unit box u
# ---------------------------------------------------------------------------


def _t(x, log_mask, xp):
    return xp.where(log_mask, xp.log10(xp.where(log_mask, x, 1.0)), x)


def _t_inv(t, log_mask, xp):
    return xp.where(log_mask, 10.0 ** xp.where(log_mask, t, 0.0), t)


def to_unit(x, lower, upper, log_mask, xp=np):
    """Physical parameters → unit-box coordinates :math:`u = (t - t_{lo})/(t_{hi} - t_{lo})`."""
    tl, th = _t(lower, log_mask, xp), _t(upper, log_mask, xp)
    return (_t(x, log_mask, xp) - tl) / (th - tl)


def from_unit(u, lower, upper, log_mask, xp=np):
    """Unit-box coordinates → physical parameters (inverse of :func:`to_unit`)."""
    tl, th = _t(lower, log_mask, xp), _t(upper, log_mask, xp)
    return _t_inv(tl + u * (th - tl), log_mask, xp)


# ---------------------------------------------------------------------------
# Layer 1: pure-JAX bounded L-BFGS
# ---------------------------------------------------------------------------


class LBFGSResult(NamedTuple):
    """Outcome of :func:`fit_lbfgs` (a pytree: ``vmap`` stacks each field).

    Attributes:
        x: best-fit parameters (physical).
        fun: χ² at ``x`` (:data:`BAD_CHI2` if the fit never found a finite value).
        grad_norm: 2-norm of the gradient in the unconstrained coordinates.
        n_iter: L-BFGS iterations.
        n_eval: χ² value-and-gradient evaluations (iterations + line-search steps).
        status: 0 converged (gradient below ``gtol`` or χ² change below ``ftol``
            twice in a row), 1 stopped at ``maxiter``, 2 failed (non-finite χ²).
    """

    x: Any
    fun: Any
    grad_norm: Any
    n_iter: Any
    n_eval: Any
    status: Any


def fit_lbfgs(
    chi2: Callable,
    x0,
    lower,
    upper,
    *,
    log_mask=None,
    maxiter: int = 500,
    gtol: float = 1e-7,
    ftol: float = 1e-13,
    memory_size: int = 10,
    max_linesearch_steps: int = 40,
) -> LBFGSResult:
    """Minimize ``chi2`` within bounds; a pure JAX function (jit/vmap-able).

    The bounds are imposed by the sigmoid transform of the module docstring, so
    the fit is an unconstrained L-BFGS (optax ``lbfgs`` with its zoom line search)
    in :math:`z`. Stops when :math:`|\\nabla_z\\chi^2| <` ``gtol``, when the χ²
    change is below ``ftol``·max(1, χ²) on two consecutive iterations, or at
    ``maxiter``.

    Args:
        chi2: pure JAX function of a 1-D array of physical parameters → scalar.
        x0: starting point (physical; clipped just inside the bounds).
        lower, upper: physical bounds (arrays of the same length as ``x0``).
        log_mask: booleans, True for parameters handled in :math:`\\log_{10}` space
            (their bounds must be > 0). Default: none.
        maxiter: maximum L-BFGS iterations (static).
        gtol, ftol: convergence tolerances (see above).
        memory_size: L-BFGS history length (static).
        max_linesearch_steps: zoom line-search budget per iteration (static).

    Returns:
        :class:`LBFGSResult`.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> f = lambda x: jnp.sum((x - jnp.array([1.0, 2.0])) ** 2)
        >>> r = jax.jit(lambda x0: fit_lbfgs(f, x0, jnp.zeros(2), jnp.full(2, 5.0)))(jnp.ones(2))
        >>> [round(float(v), 6) for v in r.x]
        [1.0, 2.0]
    """
    import jax
    import jax.numpy as jnp
    import optax
    import optax.tree_utils as otu

    x0 = jnp.asarray(x0, jnp.float64)
    lower = jnp.broadcast_to(jnp.asarray(lower, jnp.float64), x0.shape)
    upper = jnp.broadcast_to(jnp.asarray(upper, jnp.float64), x0.shape)
    if log_mask is None:
        log_mask = jnp.zeros(x0.shape, bool)
    log_mask = jnp.asarray(log_mask, bool)
    tl, th = _t(lower, log_mask, jnp), _t(upper, log_mask, jnp)
    span = th - tl

    def to_x(z):
        return _t_inv(tl + span * jax.nn.sigmoid(z), log_mask, jnp)

    s0 = jnp.clip((_t(x0, log_mask, jnp) - tl) / span, 1e-9, 1.0 - 1e-9)
    z0 = jnp.log(s0) - jnp.log1p(-s0)

    def f(z):
        v = chi2(to_x(z))
        return jnp.where(jnp.isfinite(v), v, BAD_CHI2)

    solver = optax.lbfgs(
        memory_size=memory_size,
        linesearch=optax.scale_by_zoom_linesearch(max_linesearch_steps=max_linesearch_steps),
    )
    vg = optax.value_and_grad_from_state(f)
    state0 = solver.init(z0)
    f0 = f(z0)

    def cond(carry):
        z, state, it, nev, fprev, stall, gnorm = carry
        return (it == 0) | ((it < maxiter) & (gnorm >= gtol) & (stall < 2))

    def body(carry):
        z, state, it, nev, fprev, stall, gnorm = carry
        value, grad = vg(z, state=state)
        updates, state = solver.update(grad, state, z, value=value, grad=grad, value_fn=f)
        z = optax.apply_updates(z, updates)
        fnew = otu.tree_get(state, "value")
        gnew = otu.tree_get(state, "grad")
        info = otu.tree_get(state, "info")
        small = jnp.abs(fprev - fnew) <= ftol * jnp.maximum(1.0, jnp.abs(fnew))
        stall = jnp.where(small, stall + 1, 0)
        nev = nev + jnp.asarray(info.num_linesearch_steps, jnp.int32)
        return z, state, it + 1, nev, fnew, stall, jnp.sqrt(jnp.sum(gnew * gnew))

    init = (z0, state0, jnp.int32(0), jnp.int32(1), f0, jnp.int32(0), jnp.asarray(jnp.inf, jnp.float64))
    z, state, it, nev, fval, stall, gnorm = jax.lax.while_loop(cond, body, init)
    fval = otu.tree_get(state, "value")
    ok = jnp.isfinite(fval) & (fval < BAD_CHI2)
    converged = (gnorm < gtol) | (stall >= 2)
    status = jnp.where(~ok, 2, jnp.where(converged, 0, 1)).astype(jnp.int32)
    return LBFGSResult(to_x(z), fval, gnorm, it, nev, status)


def lbfgs_status_name(code: int) -> str:
    """:attr:`LBFGSResult.status` code → ``"success"``, ``"max_iter"`` or ``"failed"``."""
    return _STATUS_CODES[int(code)]


# ---------------------------------------------------------------------------
# Compiled χ² and the objective the registry optimizers see
# ---------------------------------------------------------------------------


class CompiledChi2:
    """Jit-compiled evaluators of one χ² function, built once and reused.

    ``chi2(theta, aux)`` is a pure JAX function of the free physical parameters
    ``theta`` (1-D) and a pytree ``aux`` of arrays that flow through jit unchanged
    (the values of the fixed parameters): new fixed values, bounds or starting
    points never trigger a recompilation.

    Attributes:
        names: free-parameter names (order of ``theta``).
        log_mask: tuple of booleans (static), True for log-space parameters.
    """

    def __init__(self, chi2: Callable, names: Sequence[str], log_mask: Sequence[bool] | None = None):
        import jax
        import jax.numpy as jnp

        self.chi2 = chi2
        self.names = tuple(names)
        self.log_mask = tuple(bool(b) for b in (log_mask or [False] * len(self.names)))
        mask = np.asarray(self.log_mask, bool)

        def unit_value(u, lo, hi, aux):
            v = chi2(from_unit(u, lo, hi, mask, jnp), aux)
            return jnp.where(jnp.isfinite(v), v, BAD_CHI2)

        def unit_vg(u, lo, hi, aux):
            v, g = jax.value_and_grad(unit_value)(u, lo, hi, aux)
            return v, jnp.where(jnp.isfinite(g), g, 0.0)

        self.value = jax.jit(chi2)
        self.unit_value = jax.jit(unit_value)
        self.unit_value_and_grad = jax.jit(unit_vg)
        self.unit_batch = jax.jit(jax.vmap(unit_value, in_axes=(0, None, None, None)))
        self.hessian = jax.jit(jax.hessian(chi2))
        self.gradient = jax.jit(jax.grad(chi2))
        self._lbfgs: dict = {}

    def lbfgs_solver(self, batched: bool = False, **options) -> Callable:
        """Jitted ``solve(x0, lower, upper, aux) -> LBFGSResult`` (``batched``: x0 of shape (n, k)).

        One compilation per distinct set of static options.
        """
        import jax

        key = (batched, tuple(sorted(options.items())))
        fn = self._lbfgs.get(key)
        if fn is None:
            mask = np.asarray(self.log_mask, bool)
            chi2 = self.chi2

            def solve(x0, lo, hi, aux):
                return fit_lbfgs(lambda th: chi2(th, aux), x0, lo, hi, log_mask=mask, **options)

            if batched:
                solve = jax.vmap(solve, in_axes=(0, None, None, None))
            fn = self._lbfgs[key] = jax.jit(solve)
        return fn


class Objective:
    """χ² in unit-box coordinates, as handed to every function in :data:`OPTIMIZERS`.

    Calling it returns χ² at ``u`` (a float; non-finite points give
    :data:`BAD_CHI2`). It also offers the exact gradient (``value_and_grad``), a
    vmapped evaluation of many points (``batch``), the bounds in physical units and
    the coordinate maps. Evaluations are counted (``nfev``, ``ngev``).

    Attributes:
        names: free-parameter names.
        lower, upper: physical bounds.
        log_mask: log-space flags.
        bounds: ``[(0, 1)] * k``, the bounds in the optimizers' coordinates.
        compiled: the :class:`CompiledChi2` behind it.
        aux: the fixed-parameter values passed to the χ².
    """

    def __init__(self, compiled: CompiledChi2, lower, upper, aux=None):
        self.compiled = compiled
        self.names = compiled.names
        self.lower = np.asarray(lower, np.float64)
        self.upper = np.asarray(upper, np.float64)
        self.log_mask = np.asarray(compiled.log_mask, bool)
        self.aux = aux
        self.bounds = [(0.0, 1.0)] * len(self.names)
        self.nfev = 0
        self.ngev = 0
        self.nbatch = 0

    @property
    def n(self) -> int:
        return len(self.names)

    def to_physical(self, u) -> np.ndarray:
        """Unit-box coordinates → physical parameters."""
        return from_unit(np.asarray(u, np.float64), self.lower, self.upper, self.log_mask)

    def to_unit(self, x) -> np.ndarray:
        """Physical parameters → unit-box coordinates."""
        return to_unit(np.asarray(x, np.float64), self.lower, self.upper, self.log_mask)

    def __call__(self, u) -> float:
        self.nfev += 1
        return float(self.compiled.unit_value(np.asarray(u, np.float64), self.lower, self.upper, self.aux))

    def value_and_grad(self, u) -> tuple[float, np.ndarray]:
        """χ² and its exact gradient with respect to ``u``."""
        self.nfev += 1
        self.ngev += 1
        v, g = self.compiled.unit_value_and_grad(np.asarray(u, np.float64), self.lower, self.upper, self.aux)
        return float(v), np.asarray(g, np.float64)

    def batch(self, us) -> np.ndarray:
        """χ² at many points at once (``us`` of shape (m, k)), one vmapped call."""
        us = np.asarray(us, np.float64)
        self.nfev += us.shape[0]
        self.nbatch += 1
        return np.asarray(self.compiled.unit_batch(us, self.lower, self.upper, self.aux), np.float64)



# ---------------------------------------------------------------------------
# BLAS threads: scipy's L-BFGS-B calls OpenBLAS on vectors of a few entries; with
# OpenBLAS's worker threads competing against JAX's for the same cores, each call
# can cost ~1 ms instead of ~10 µs. The scipy optimizers therefore run with
# OpenBLAS limited to one thread (restored afterwards).
# ---------------------------------------------------------------------------

_BLAS_HANDLES: list | None = None


def _blas_thread_handles() -> list:
    global _BLAS_HANDLES
    if _BLAS_HANDLES is None:
        import ctypes

        import scipy.linalg  # noqa: F401  (load scipy's BLAS before looking for it)
        import scipy.optimize  # noqa: F401

        handles = []
        try:
            with open("/proc/self/maps") as fh:
                paths = sorted({ln.split()[-1] for ln in fh if "openblas" in ln.lower() and ln.split()[-1].startswith("/")})
        except OSError:
            paths = []
        names = (
            ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
            ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
            ("openblas_get_num_threads", "openblas_set_num_threads"),
            ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
        )
        for path in paths:
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            for get, set_ in names:
                if hasattr(lib, get) and hasattr(lib, set_):
                    handles.append((getattr(lib, get), getattr(lib, set_)))
                    break
        _BLAS_HANDLES = handles
    return _BLAS_HANDLES


class single_threaded_blas:
    """Context manager: OpenBLAS limited to one thread inside, restored on exit (no-op
    where OpenBLAS is not found)."""

    def __enter__(self):
        self._saved = []
        for get, set_ in _blas_thread_handles():
            try:
                n = int(get())
                set_(1)
                self._saved.append((set_, n))
            except Exception:  # pragma: no cover - exotic BLAS builds
                pass
        return self

    def __exit__(self, *exc):
        for set_, n in self._saved:
            set_(n)
        return False

# ---------------------------------------------------------------------------
# Layer 2: the registry
# ---------------------------------------------------------------------------


def _result(x, fun, status, message, nit=0, **extra):
    from scipy.optimize import OptimizeResult

    return OptimizeResult(
        x=np.asarray(x, np.float64), fun=float(fun), status=status, success=status == STATUS_SUCCESS,
        message=str(message), nit=int(nit), **extra,
    )


def _clean_options(options: Mapping | None, allowed: Sequence[str], method: str) -> dict:
    options = dict(options or {})
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(
            f"unknown option(s) {unknown} for optimizer {method!r}; valid options: {', '.join(sorted(allowed))}"
        )
    return options


_SCIPY_GRADIENT_METHODS = ("L-BFGS-B", "TNC", "SLSQP", "trust-constr")
_SCIPY_BOUNDED_METHODS = _SCIPY_GRADIENT_METHODS + ("Powell", "Nelder-Mead")


def optimize_minimize(objective: Objective, initial_params, bounds=None, options=None):
    """``scipy.optimize.minimize`` (default L-BFGS-B) with the exact JAX gradient.

    Options: ``method`` (L-BFGS-B, TNC, SLSQP, trust-constr, Powell, Nelder-Mead),
    ``maxiter`` (1000), ``ftol`` (1e-13, relative χ² change), ``gtol`` (1e-8,
    projected-gradient tolerance in unit-box coordinates), ``xtol`` (used by the
    methods that take it), ``maxfun``, ``maxcor``.

    L-BFGS-B: Byrd, Lu, Nocedal & Zhu 1995 (doi:10.1137/0916069).
    """
    from scipy.optimize import minimize

    opts = _clean_options(options, ("method", "maxiter", "ftol", "gtol", "xtol", "maxfun", "maxcor", "disp"), "minimize")
    method = opts.pop("method", "L-BFGS-B")
    if method not in _SCIPY_BOUNDED_METHODS:
        raise ValueError(f"unknown scipy method {method!r}; valid methods: {', '.join(_SCIPY_BOUNDED_METHODS)}")
    maxiter = int(opts.pop("maxiter", 1000))
    ftol = float(opts.pop("ftol", 1e-13))
    gtol = float(opts.pop("gtol", 1e-8))
    xtol = opts.pop("xtol", None)
    bounds = bounds if bounds is not None else objective.bounds
    if method == "L-BFGS-B":
        sopts = {"maxiter": maxiter, "ftol": ftol, "gtol": gtol, "maxcor": int(opts.pop("maxcor", 20))}
        if "maxfun" in opts:
            sopts["maxfun"] = int(opts.pop("maxfun"))
    elif method == "TNC":
        sopts = {"maxfun": int(opts.pop("maxfun", maxiter * 10)), "ftol": ftol, "gtol": gtol}
        if xtol is not None:
            sopts["xtol"] = float(xtol)
    elif method == "SLSQP":
        sopts = {"maxiter": maxiter, "ftol": ftol}
    elif method == "trust-constr":
        sopts = {"maxiter": maxiter, "gtol": gtol}
        if xtol is not None:
            sopts["xtol"] = float(xtol)
    elif method == "Powell":
        sopts = {"maxiter": maxiter, "ftol": ftol, "xtol": float(xtol or 1e-8)}
    else:  # Nelder-Mead
        sopts = {"maxiter": maxiter, "fatol": max(ftol, 1e-10), "xatol": float(xtol or 1e-8)}
    if method in _SCIPY_GRADIENT_METHODS:
        res = minimize(objective.value_and_grad, np.asarray(initial_params, float), jac=True, method=method,
                       bounds=bounds, options=sopts)
    else:
        res = minimize(objective, np.asarray(initial_params, float), method=method, bounds=bounds, options=sopts)
    fun = float(res.fun)
    if not math.isfinite(fun) or fun >= BAD_CHI2:
        status = STATUS_FAILED
    elif res.success:
        status = STATUS_SUCCESS
    elif _is_max_iter(res, method):
        status = STATUS_MAX_ITER
    else:
        status = STATUS_FAILED
    msg = res.message if isinstance(res.message, str) else str(res.message)
    return _result(res.x, fun, status, f"scipy {method}: {msg}", getattr(res, "nit", 0),
                   library="scipy", method=f"minimize/{method}")


def _is_max_iter(res, method) -> bool:
    msg = str(res.message).lower()
    if method == "L-BFGS-B" and res.status == 1:
        return True
    return "maximum number" in msg or "max" in msg and "iter" in msg or "exceeded" in msg


def optimize_lbfgs(objective: Objective, initial_params, bounds=None, options=None):
    """Pure-JAX bounded L-BFGS (:func:`fit_lbfgs`), one jit-compiled call per fit.

    Options: ``maxiter`` (500), ``gtol`` (1e-7), ``ftol`` (1e-13), ``memory_size``
    (10), ``max_linesearch_steps`` (40).
    """
    opts = _clean_options(options, ("maxiter", "gtol", "ftol", "memory_size", "max_linesearch_steps"), "lbfgs")
    lo, hi = _unit_bounds(bounds, objective.n)
    solve = objective.compiled.lbfgs_solver(**_lbfgs_static(opts))
    # the solver works in physical coordinates; convert the unit-box box to physical
    plo, phi = objective.to_physical(lo), objective.to_physical(hi)
    x0 = objective.to_physical(initial_params)
    r = solve(x0, plo, phi, objective.aux)
    nev = int(r.n_eval)
    objective.nfev += nev
    objective.ngev += nev
    status = lbfgs_status_name(r.status)
    msg = {
        STATUS_SUCCESS: "converged (gradient norm or χ² change below tolerance)",
        STATUS_MAX_ITER: "stopped at maxiter",
        STATUS_FAILED: "non-finite χ²",
    }[status]
    u = np.clip(objective.to_unit(np.asarray(r.x)), 0.0, 1.0)
    return _result(u, float(r.fun), status, f"optax L-BFGS: {msg}", int(r.n_iter),
                   grad_norm=float(r.grad_norm), nfev=nev, library="optax", method="lbfgs")


def _lbfgs_static(opts: Mapping) -> dict:
    out = {}
    for k, cast in (("maxiter", int), ("gtol", float), ("ftol", float), ("memory_size", int),
                    ("max_linesearch_steps", int)):
        if k in opts:
            out[k] = cast(opts[k])
    return out


def _unit_bounds(bounds, n):
    if bounds is None:
        return np.zeros(n), np.ones(n)
    b = np.asarray(bounds, float).reshape(n, 2)
    return b[:, 0], b[:, 1]


def optimize_differential_evolution(objective: Objective, initial_params, bounds=None, options=None):
    """``scipy.optimize.differential_evolution`` with the population evaluated in one
    vmapped call per generation (``vectorized=True``), then a gradient polish
    (L-BFGS-B with the exact gradient). Storn & Price 1997 (doi:10.1023/A:1008202821328).

    Options: ``maxiter`` (1000 generations), ``popsize`` (15), ``tol`` (0.01),
    ``atol`` (0), ``seed``, ``mutation``, ``recombination``, ``strategy``, ``init``,
    ``polish`` (True), ``x0_in_population`` (True: seed the population with the
    starting point).
    """
    from scipy.optimize import differential_evolution

    opts = _clean_options(
        options,
        ("maxiter", "popsize", "tol", "atol", "seed", "mutation", "recombination", "strategy", "init", "polish",
         "x0_in_population", "rng"),
        "differential_evolution",
    )
    polish = bool(opts.pop("polish", True))
    use_x0 = bool(opts.pop("x0_in_population", True))
    seed = opts.pop("seed", opts.pop("rng", None))
    bounds = bounds if bounds is not None else objective.bounds

    def f(xs):  # scipy passes (k, S)
        return objective.batch(np.asarray(xs).T)

    kw = dict(maxiter=int(opts.pop("maxiter", 1000)), popsize=int(opts.pop("popsize", 15)),
              tol=float(opts.pop("tol", 0.01)), atol=float(opts.pop("atol", 0.0)), **opts)
    if use_x0:
        kw["x0"] = np.clip(np.asarray(initial_params, float), [b[0] for b in bounds], [b[1] for b in bounds])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "updating='deferred'" notice
        res = differential_evolution(f, bounds, vectorized=True, updating="deferred", polish=False, rng=seed, **kw)
    de_status = STATUS_SUCCESS if res.success else (STATUS_MAX_ITER if "maximum" in str(res.message).lower()
                                                    else STATUS_FAILED)
    x, fun, msg, status = res.x, float(res.fun), f"scipy differential_evolution: {res.message}", de_status
    polish_info = None
    if polish:
        pol = optimize_minimize(objective, res.x, bounds=bounds, options={"method": "L-BFGS-B"})
        polish_info = {"status": pol.status, "fun": float(pol.fun), "nit": int(pol.nit)}
        if pol.fun <= fun:
            x, fun = pol.x, float(pol.fun)
        msg += f"; gradient polish: {pol.message}"
        # the polished point is a local minimum whatever the population's spread
        if pol.status == STATUS_SUCCESS and de_status == STATUS_MAX_ITER:
            msg += " (population not converged: reported as max_iter)"
    if not math.isfinite(fun) or fun >= BAD_CHI2:
        status = STATUS_FAILED
    return _result(x, fun, status, msg, int(res.nit), library="scipy", method="differential_evolution",
                   polish=polish_info, population_energies_spread=float(np.ptp(res.population_energies))
                   if hasattr(res, "population_energies") else None)


class _BoxStep:
    """basinhopping step: uniform random displacement, reflected into the unit box."""

    def __init__(self, stepsize, rng):
        self.stepsize = stepsize
        self.rng = rng

    def __call__(self, x):
        x = x + self.rng.uniform(-self.stepsize, self.stepsize, np.shape(x))
        x = np.abs(x)  # reflect at 0
        return 1.0 - np.abs(1.0 - x)  # reflect at 1


def optimize_basinhopping(objective: Objective, initial_params, bounds=None, options=None):
    """``scipy.optimize.basinhopping`` (Wales & Doye 1997, arXiv:cond-mat/9803344),
    local minimizations by L-BFGS-B with the exact gradient; steps stay inside the
    box. The API reference's custom-method example, registered as
    ``basinhopping`` and ``custom_basinhopping``.

    Options: ``niter`` (20), ``T`` (1.0, in χ² units), ``stepsize`` (0.5, unit-box
    units), ``seed``, ``niter_success``.
    """
    from scipy.optimize import basinhopping

    opts = _clean_options(options, ("niter", "T", "stepsize", "seed", "niter_success"), "basinhopping")
    bounds = bounds if bounds is not None else objective.bounds
    rng = np.random.default_rng(opts.get("seed"))
    step = _BoxStep(float(opts.get("stepsize", 0.5)), rng)
    minimizer_kwargs = {"method": "L-BFGS-B", "jac": True, "bounds": bounds,
                        "options": {"ftol": 1e-13, "gtol": 1e-8, "maxiter": 1000}}
    res = basinhopping(objective.value_and_grad, np.asarray(initial_params, float), niter=int(opts.get("niter", 20)),
                       T=float(opts.get("T", 1.0)), take_step=step, minimizer_kwargs=minimizer_kwargs,
                       niter_success=opts.get("niter_success"), rng=rng)
    low = res.lowest_optimization_result
    fun = float(res.fun)
    if not math.isfinite(fun) or fun >= BAD_CHI2:
        status = STATUS_FAILED
    elif low.success:
        status = STATUS_SUCCESS
    elif getattr(low, "status", None) == 1:
        status = STATUS_MAX_ITER
    else:
        status = STATUS_FAILED
    msg = res.message[0] if isinstance(res.message, (list, tuple)) else res.message
    return _result(res.x, fun, status, f"scipy basinhopping: {msg}; best local fit: {low.message}", int(res.nit),
                   library="scipy", method="basinhopping")


def optimize_multistart(objective: Objective, initial_params, bounds=None, options=None):
    """N bounded L-BFGS fits from random starts in one vmapped, jit-compiled batch.

    The first start is ``initial_params``; the others are drawn uniformly in the
    box (seeded). The best converged fit is returned, with the spread of the
    minima in ``result.multistart``: χ² of every start, how many reached the best
    χ² within ``agree_tol``, and the standard deviation of their parameters.

    Options: ``n_starts`` (16), ``seed`` (0), ``agree_tol`` (1e-4 in χ²), and the
    :func:`optimize_lbfgs` options.
    """
    opts = _clean_options(
        options, ("n_starts", "seed", "agree_tol", "maxiter", "gtol", "ftol", "memory_size", "max_linesearch_steps"),
        "multistart",
    )
    n_starts = int(opts.pop("n_starts", 16))
    if n_starts < 1:
        raise ValueError(f"n_starts must be >= 1, got {n_starts}")
    rng = np.random.default_rng(opts.pop("seed", 0))
    agree_tol = float(opts.pop("agree_tol", 1e-4))
    lo, hi = _unit_bounds(bounds, objective.n)
    u0 = np.vstack([np.asarray(initial_params, float)[None, :], rng.uniform(lo, hi, (n_starts - 1, objective.n))])
    solve = objective.compiled.lbfgs_solver(batched=True, **_lbfgs_static(opts))
    plo, phi = objective.to_physical(lo), objective.to_physical(hi)
    x0 = np.array([objective.to_physical(u) for u in u0])
    r = solve(x0, plo, phi, objective.aux)
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
        st = lbfgs_status_name(status[best])
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
    return _result(u, float(fun[best]), st, msg, int(np.asarray(r.n_iter)[best]), library="optax",
                   method="multistart", multistart=spread, nfev=nev)


#: name -> optimizer ``fn(objective, initial_params, bounds=None, options=None)``.
#: Add your own with ``OPTIMIZERS["name"] = fn`` (or :func:`register_optimizer`).
OPTIMIZERS: dict[str, Callable] = {
    "minimize": optimize_minimize,
    "lbfgs": optimize_lbfgs,
    "differential_evolution": optimize_differential_evolution,
    "basinhopping": optimize_basinhopping,
    "custom_basinhopping": optimize_basinhopping,
    "multistart": optimize_multistart,
}

#: Library behind each built-in optimizer (for provenance).
_LIBRARIES = {
    "minimize": "scipy",
    "lbfgs": "optax",
    "differential_evolution": "scipy",
    "basinhopping": "scipy",
    "custom_basinhopping": "scipy",
    "multistart": "optax",
}


def register_optimizer(name: str, fn: Callable, *, overwrite: bool = False) -> Callable:
    """Add an optimizer to :data:`OPTIMIZERS` (same as ``OPTIMIZERS[name] = fn``).

    Raises:
        TypeError: ``fn`` is not callable. ValueError: the name is taken.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"optimizer name must be a non-empty string, got {name!r}")
    if not callable(fn):
        raise TypeError(f"optimizer {name!r} must be callable, got {type(fn).__name__}")
    if name in OPTIMIZERS and not overwrite:
        raise ValueError(f"optimizer {name!r} is already registered; pass overwrite=True to replace it")
    OPTIMIZERS[name] = fn
    return fn


def get_optimizer(method: str) -> Callable:
    """Look an optimizer up in :data:`OPTIMIZERS`.

    Raises:
        ValueError: unknown method (the message lists the registered ones).
    """
    if not isinstance(method, str) or method not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer method {method!r}; valid methods: {', '.join(sorted(OPTIMIZERS))}")
    return OPTIMIZERS[method]


def library_versions() -> dict[str, str]:
    """Versions of the numerical libraries (provenance)."""
    import jax
    import optax
    import scipy

    from . import __version__

    return {"pbufjax": __version__, "jax": jax.__version__, "optax": optax.__version__,
            "scipy": scipy.__version__, "numpy": np.__version__}


def _normalize(res, objective: Objective) -> dict:
    """Any optimizer's return value → (x_unit, fun, status, message, nit)."""
    if isinstance(res, Mapping) and "x" in res:
        get = res.get
    elif hasattr(res, "x"):
        def get(k, default=None):
            return getattr(res, k, default)
    else:
        arr = np.asarray(res, float)

        def get(k, default=None):
            return arr if k == "x" else default
    x = np.asarray(get("x"), float).reshape(-1)
    if x.shape != (objective.n,):
        raise ValueError(f"optimizer returned x of shape {x.shape}, expected ({objective.n},)")
    fun = get("fun")
    fun = float(fun) if fun is not None else float(objective(x))
    status = get("status")
    success = get("success")
    if status not in _STATUS_CODES:
        status = STATUS_SUCCESS if (success is None or bool(success)) else STATUS_FAILED
    if not math.isfinite(fun) or fun >= BAD_CHI2 or not np.all(np.isfinite(x)):
        status = STATUS_FAILED
    message = get("message", "") or ""
    return {"x": x, "fun": fun, "status": status, "message": str(message), "nit": int(get("nit", 0) or 0),
            "raw": res}


def bounds_reached(x, lower, upper, log_mask, names, tol: float = BOUND_TOL) -> list[str]:
    """Names of the parameters within ``tol`` (fraction of the range, t-space) of a bound."""
    u = to_unit(np.asarray(x, float), np.asarray(lower, float), np.asarray(upper, float), np.asarray(log_mask, bool))
    return [n for n, ui in zip(names, u) if ui <= tol or ui >= 1.0 - tol]


def run_optimizer(objective: Objective, x0, method: str = "minimize", options: Mapping | None = None) -> dict:
    """Run one registered optimizer from physical starting point ``x0``.

    Returns:
        dict with ``x`` (physical), ``fun``, ``status`` (``success``/``max_iter``/
        ``failed``), ``success``, ``message``, ``n_iterations``,
        ``n_function_evaluations``, ``n_gradient_evaluations``, ``time`` [s],
        ``bounds_reached``, ``method``, ``library`` and ``extra`` (optimizer-specific
        details, e.g. the multi-start spread).

    Raises:
        ValueError: unknown method, or options the method does not take.
    """
    fn = get_optimizer(method)
    if options is not None and not isinstance(options, Mapping):
        raise TypeError(f"optimizer options must be a dict, got {type(options).__name__}")
    u0 = np.clip(objective.to_unit(x0), 0.0, 1.0)
    n0, g0 = objective.nfev, objective.ngev
    t0 = time.perf_counter()
    with single_threaded_blas():
        res = fn(objective, u0, bounds=objective.bounds, options=dict(options or {}))
    elapsed = time.perf_counter() - t0
    out = _normalize(res, objective)
    x_unit = np.clip(out["x"], 0.0, 1.0)
    x = objective.to_physical(x_unit)
    raw = out.pop("raw")
    extra = {}
    for key in ("multistart", "polish", "grad_norm", "population_energies_spread"):
        val = raw.get(key) if isinstance(raw, Mapping) else getattr(raw, key, None)
        if val is not None:
            extra[key] = val
    library = (raw.get("library") if isinstance(raw, Mapping) else getattr(raw, "library", None)) or _LIBRARIES.get(
        method, "custom")
    return {
        "x": x,
        "fun": out["fun"],
        "status": out["status"],
        "success": out["status"] == STATUS_SUCCESS,
        "message": out["message"],
        "n_iterations": out["nit"],
        "n_function_evaluations": int(objective.nfev - n0),
        "n_gradient_evaluations": int(objective.ngev - g0),
        "time": elapsed,
        "bounds_reached": bounds_reached(x, objective.lower, objective.upper, objective.log_mask, objective.names),
        "method": method,
        "library": library,
        "extra": extra,
    }
