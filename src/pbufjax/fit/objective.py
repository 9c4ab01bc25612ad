r"""The χ² a fit minimizes: compiled once (:class:`CompiledChi2`), seen by the solvers in unit-box
coordinates (:class:`Objective`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .transforms import unit_bounds  # noqa: F401  (re-exported: its home is transforms)

from .criteria import BAD_CHI2
from .hessians import physical_hessian_to_unit
from .packing import packed_jit
from .result import SolverResult
from .transforms import from_unit, to_t


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

    def __init__(self, chi2: Callable, names: Sequence[str], log_mask: Sequence[bool] | None = None,
                 residuals: Callable | None = None, aot_key: Any = None):
        import jax
        import jax.numpy as jnp

        from ..runtime.stored_programs import StoredJit

        self.chi2 = chi2
        #: optional ``residuals(theta, aux) -> (w, ok)`` with ``|w|^2 = chi2`` (Gauss-Newton fits)
        self.residuals = residuals
        #: description of everything ``chi2`` closes over (:mod:`pbufjax.aot_cache`), or None:
        #: with it, the traced programs are stored for later processes
        self.aot_key = aot_key
        self.names = tuple(names)
        self.log_mask = tuple(bool(b) for b in (log_mask or [False] * len(self.names)))
        mask = np.asarray(self.log_mask, bool)

        def unit_value(u, lo, hi, aux):
            v = chi2(from_unit(u, lo, hi, mask, jnp), aux)
            return jnp.where(jnp.isfinite(v), v, BAD_CHI2)

        def unit_vg(u, lo, hi, aux):
            v, g = jax.value_and_grad(unit_value)(u, lo, hi, aux)
            return v, jnp.where(jnp.isfinite(g), g, 0.0)

        #: the pure ``(u, lower, upper, aux) -> (χ², gradient)`` behind :attr:`unit_value_and_grad`
        self.unit_vg_fn = unit_vg

        self.value = jax.jit(chi2)
        self.unit_value = jax.jit(unit_value)
        self.unit_value_and_grad = (jax.jit(unit_vg) if aot_key is None
                                    else StoredJit(unit_vg, [aot_key, "unit_value_and_grad"]))
        self.unit_batch = jax.jit(jax.vmap(unit_value, in_axes=(0, None, None, None)))
        # forward-over-forward: exact, and the cheapest of the Hessian forms to compile here
        self.hessian = jax.jit(jax.jacfwd(jax.jacfwd(chi2)))
        self.gradient = jax.jit(jax.grad(chi2))
        #: compiled solvers and reports of this χ², by their static options
        self.programs: dict = {}

    def newton_solver(self, batched: bool = False, **options) -> Callable:
        """Jitted ``solve(x0, lower, upper, aux) -> SolverResult`` of :func:`~pbufjax.fit.solvers.newton.fit_newton`
        (``batched``: x0 of shape (n, k))."""
        import jax

        from .solvers.newton import fit_newton

        key = ("newton", batched, tuple(sorted(options.items())))
        fn = self.programs.get(key)
        if fn is None:
            mask = np.asarray(self.log_mask, bool)
            chi2 = self.chi2

            def solve(x0, lo, hi, aux):
                return fit_newton(lambda th: chi2(th, aux), x0, lo, hi, log_mask=mask, **options)

            if batched:
                solve = jax.vmap(solve, in_axes=(0, None, None, None))
            fn = self.programs[key] = jax.jit(solve)
        return fn

    def newton_solver_host(self, gauss_newton: bool = False, **options) -> Callable:
        """``solve(x0, lower, upper, aux) -> SolverResult`` of numpy values, the outputs packed
        into one array inside the compiled function (one device-to-host transfer).

        ``gauss_newton``: steps on the Gauss-Newton matrix of :attr:`residuals` (required);
        ``hess_unit`` is then the exact Hessian at the solution (``final_hessian``)."""
        if gauss_newton and self.residuals is None:
            raise ValueError("gauss_newton needs a residual form of the χ² (a dataset is a user χ² function)")
        from .solvers.newton import fit_newton

        key = ("newton-host", bool(gauss_newton), tuple(sorted(options.items())))
        fn = self.programs.get(key)
        if fn is None:
            mask = np.asarray(self.log_mask, bool)
            chi2 = self.chi2
            res = self.residuals

            def solve(x0, lo, hi, aux):
                kw = {"residuals": (lambda th: res(th, aux)), "final_hessian": True} if gauss_newton else {}
                return fit_newton(lambda th: chi2(th, aux), x0, lo, hi, log_mask=mask, **options, **kw)._asdict()

            aot = (None if self.aot_key is None
                   else [self.aot_key, "newton-host", bool(gauss_newton), sorted(options.items())])
            jitted = packed_jit(solve, aot)

            def fn(x0, lo, hi, aux):
                return SolverResult(**jitted(x0, lo, hi, aux))

            self.programs[key] = fn
        return fn

    def lbfgs_solver(self, batched: bool = False, **options) -> Callable:
        """Jitted ``solve(x0, lower, upper, aux) -> SolverResult`` of :func:`~pbufjax.fit.solvers.lbfgs.fit_lbfgs`
        (``batched``: x0 of shape (n, k)).

        One compilation per distinct set of static options.
        """
        import jax

        from .solvers.lbfgs import fit_lbfgs

        key = (batched, tuple(sorted(options.items())))
        fn = self.programs.get(key)
        if fn is None:
            mask = np.asarray(self.log_mask, bool)
            chi2 = self.chi2

            def solve(x0, lo, hi, aux):
                return fit_lbfgs(lambda th: chi2(th, aux), x0, lo, hi, log_mask=mask, **options)

            if batched:
                solve = jax.vmap(solve, in_axes=(0, None, None, None))
            fn = self.programs[key] = jax.jit(solve)
        return fn


class Objective:
    """χ² in unit-box coordinates, as handed to every registered solver's host function.

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

    def __init__(self, compiled: CompiledChi2, lower, upper, aux=None, device_args=None, program=None):
        self.compiled = compiled
        #: optional ``program(u, lower, upper, aux) -> {"value", "grad", ...}`` (one compiled call
        #: that also returns the report, :meth:`pbufjax.fit.FitProblem.single_program`); its
        #: last output is kept in :attr:`last_output` as ``(u, outputs)``
        self.program = program
        self.last_output: tuple[np.ndarray, dict] | None = None
        self.names = compiled.names
        self.lower = np.asarray(lower, np.float64)
        self.upper = np.asarray(upper, np.float64)
        self.log_mask = np.asarray(compiled.log_mask, bool)
        self.aux = aux
        self.bounds = [(0.0, 1.0)] * len(self.names)
        self.nfev = 0
        self.ngev = 0
        self.nbatch = 0
        self._any_log = bool(self.log_mask.any())
        self._tl = to_t(self.lower, self.log_mask, np)
        self._span = to_t(self.upper, self.log_mask, np) - self._tl
        self.first_value: float | None = None  # χ² of the first evaluation (the start, for most optimizers)
        self.first_u: np.ndarray | None = None
        self._device_args = device_args

    @property
    def device_args(self):
        """Device copies of the constant arguments (bounds, fixed values): transferred once."""
        if self._device_args is None:
            import jax

            self._device_args = jax.device_put((self.lower, self.upper, self.aux))
        return self._device_args

    @property
    def n(self) -> int:
        return len(self.names)

    def to_physical(self, u) -> np.ndarray:
        """Unit-box coordinates → physical parameters."""
        t = self._tl + np.asarray(u, np.float64) * self._span
        return np.where(self.log_mask, 10.0 ** np.where(self.log_mask, t, 0.0), t) if self._any_log else t

    def to_unit(self, x) -> np.ndarray:
        """Physical parameters → unit-box coordinates."""
        x = np.asarray(x, np.float64)
        if self._any_log:
            x = np.where(self.log_mask, np.log10(np.where(self.log_mask, x, 1.0)), x)
        return (x - self._tl) / self._span

    def __call__(self, u) -> float:
        self.nfev += 1
        v = float(self.compiled.unit_value(np.asarray(u, np.float64), *self.device_args))
        self.remember(u, v)
        return v

    def remember(self, u, v):
        """Record ``(u, χ²)`` as the first evaluation unless one was recorded (solvers that
        evaluate inside compiled code report their start through it)."""
        if self.first_u is None:
            self.first_u = np.array(u, np.float64, copy=True)
            self.first_value = v

    def value_and_grad(self, u) -> tuple[float, np.ndarray]:
        """χ² and its exact gradient with respect to ``u``."""
        self.nfev += 1
        self.ngev += 1
        u = np.asarray(u, np.float64)
        if self.program is not None:
            out = self.program(u, *self.device_args)
            self.last_output = (u.copy(), out)
            v, g = out["value"], out["grad"]
        else:
            v, g = self.compiled.unit_value_and_grad(u, *self.device_args)
        v = float(v)
        self.remember(u, v)
        return v, np.asarray(g, np.float64)

    def hessian_unit(self, u) -> np.ndarray:
        """Exact Hessian of χ² in unit-box coordinates at ``u`` (from the compiled physical one)."""
        u = np.asarray(u, np.float64)
        x = self.to_physical(u)
        if self.program is not None:  # the one program has both (no other compilation)
            out = self.program(u, *self.device_args)
            hp, gu, x = out["report"]["hessian"], out["grad"], out["x"]
        else:
            hp = np.asarray(self.compiled.hessian(x, self.aux))
            _, gu = self.compiled.unit_value_and_grad(u, *self.device_args)
        tl, th = to_t(self.lower, self.log_mask, np), to_t(self.upper, self.log_mask, np)
        dxdu = np.where(self.log_mask, x * math.log(10.0) * (th - tl), th - tl)
        return physical_hessian_to_unit(hp, np.asarray(gu) / dxdu, x, self.lower, self.upper, self.log_mask)

    def batch(self, us) -> np.ndarray:
        """χ² at many points at once (``us`` of shape (m, k)), one vmapped call."""
        us = np.asarray(us, np.float64)
        self.nfev += us.shape[0]
        self.nbatch += 1
        return np.asarray(self.compiled.unit_batch(us, *self.device_args), np.float64)



__all__ = ["CompiledChi2", "Objective", "unit_bounds"]
