"""One configured fit (:class:`FitProblem`) and the cache that reuses it (:func:`get_problem`).

Caches (cleared by :func:`clear_cache`, registered as ``fit.problems`` with
:func:`pbufjax.runtime.register_cache`): built likelihoods, compiled χ² functions and fit
configurations, keyed on the configuration and the resolved data folders.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..cosmology.neutrinos import MASSLESS_SWITCHES
from ..cosmology.validity import valid_range
from ..runtime import register_cache
from .criteria import BAD_CHI2
from .hessians import value_gradient_hessian
from .names import (
    canonical_datasets,
    check_bound_pair,
    model_numeric_params,
    nuisance_bounds,
    nuisance_default,
    nuisance_for,
)
from .objective import CompiledChi2, Objective
from .packing import packed_jit
from .transforms import to_unit

_LIKELIHOOD_CACHE: dict = {}
_COMPILED_CACHE: dict = {}
_PROBLEM_CACHE: dict = {}
_PROBLEM_CACHE_SIZE = 256
_FOLDERS: dict = {}


def clear_cache() -> None:
    """Forget every cached likelihood, compiled χ² and fit configuration (the next fit recompiles)."""
    _LIKELIHOOD_CACHE.clear()
    _COMPILED_CACHE.clear()
    _PROBLEM_CACHE.clear()
    _FOLDERS.clear()


register_cache("fit.problems", clear_cache)


def hashable_config(obj):
    """Hashable snapshot of a configuration value (TypeError if it cannot be frozen)."""
    if isinstance(obj, Mapping):
        return tuple(sorted((str(k), hashable_config(v)) for k, v in obj.items()))
    if isinstance(obj, (list, tuple)):
        return tuple(hashable_config(v) for v in obj)
    if isinstance(obj, (str, bool, int, float, type(None))):
        return (type(obj).__name__, obj)
    if isinstance(obj, np.generic):
        return (type(obj).__name__, obj.item())
    raise TypeError("unhashable")


def data_folders(data_dir=None) -> tuple[str, ...]:
    """The resolved folders searched for release files (:func:`pbufjax.data.files.search_dirs`):
    the part of a cache key that says which data a likelihood was built from.

    Memoized on what the search depends on (``data_dir`` and the environment settings, the
    switch of the package's shipped copies included):
    resolving the folders costs ≈ 0.3 ms, a fifth of a warm fit. The files inside them are
    checked by the dataset cache itself (path, size and modification time).
    """
    import os

    from ..data.files import ENV_CACHE_DIR, ENV_DATA_DIR, ENV_SHIPPED_DATA, search_dirs, shipped_dir

    key = (None if data_dir is None else str(data_dir), os.environ.get(ENV_DATA_DIR), os.environ.get(ENV_CACHE_DIR),
           os.environ.get("XDG_CACHE_HOME"), os.environ.get("HOME"), os.environ.get(ENV_SHIPPED_DATA))
    hit = _FOLDERS.get(key)
    if hit is None:
        folders = [str(p.resolve()) for p in search_dirs(data_dir)]
        shipped = shipped_dir()  # the package's own copies come last (switched off: absent from the key)
        if shipped is not None:
            folders.append(str(shipped))
        hit = _FOLDERS[key] = tuple(dict.fromkeys(folders))
    return hit


def stored_program_key(model: str, lik, ckey) -> list | None:
    """Key of a fit problem's stored programs (:mod:`pbufjax.aot_cache`), or None when it
    involves code outside the package (a user-registered model or χ² function)."""
    from ..cosmology import models as _models

    m = _models.MODELS.get(model)
    if m is not None and getattr(m.e2, "__module__", None) != _models.__name__:
        return None
    digest = lik.fingerprint()
    if digest is None:
        return None
    (mname, _, defaults, datasets, recomb, cov_scale, nuisance, traced, _, massless), free, log_mask = ckey
    return [mname, [list(d) for d in defaults], list(datasets), recomb, cov_scale, list(nuisance), list(traced),
            list(free), list(log_mask), digest, [list(m) for m in massless]]


def get_problem(model, datasets, free_params=(), overrides=None, covariance_scaling=1.0, bounds=None, *,
                data_dir=None) -> FitProblem:
    """A :class:`FitProblem`, reused when the same configuration was built before.

    Same arguments and errors as :class:`FitProblem`; the cache key holds the resolved data
    folders (:func:`data_folders`), never the environment. Configurations containing
    values that cannot be hashed (e.g. arrays) are built afresh each time.
    """
    from ..cosmology import models as _models
    from ..cosmology.parameters import DEFAULTS

    try:
        key = (hashable_config(model), hashable_config(datasets), hashable_config(free_params), hashable_config(overrides),
               hashable_config(covariance_scaling), hashable_config(bounds), id(_models.MODELS.get(model) if isinstance(model, str)
                                                              else None),
               id(DEFAULTS.get(model) if isinstance(model, str) else None), data_folders(data_dir))
    except TypeError:
        key = None
    if key is not None:
        prob = _PROBLEM_CACHE.get(key)
        if prob is not None:
            return prob
    prob = FitProblem(model, datasets, free_params, overrides, covariance_scaling, bounds, data_dir=data_dir)
    if key is not None:
        if len(_PROBLEM_CACHE) >= _PROBLEM_CACHE_SIZE:
            _PROBLEM_CACHE.pop(next(iter(_PROBLEM_CACHE)))
        _PROBLEM_CACHE[key] = prob
    return prob


class FitProblem:
    """One configured fit: model, datasets, free parameters, fixed values, bounds.

    The likelihood is built, and its χ² compiled, once per (model, datasets, free
    parameters, names of the overridden parameters, recombination method,
    covariance scaling). The free and the overridden parameters travel through
    the compiled code as arrays; the others are compile-time constants at their
    defaults. Another fit with different override values, starting point or
    bounds therefore reuses the compiled code (a warm fit takes milliseconds),
    and gradients are not burdened with derivatives of parameters never set.

    Args:
        model: model name.
        datasets: dataset names or aliases.
        free_params: parameters to optimize (may be empty).
        overrides: values of fixed parameters and starting values of free ones
            (``recomb_method`` and dataset nuisance parameters such as ``M_B``
            allowed).
        covariance_scaling: :math:`s` in :math:`C \\to sC`.
        bounds: optional ``{name: (lower, upper)}`` replacing the default bounds
            of free parameters.
        data_dir: folder searched first for the release files (passed to
            :func:`pbufjax.likelihoods.build_likelihood`; default: the documented search path).

    Raises:
        ValueError: unknown model; empty dataset list; a parameter that cannot be
            optimized for the model; bounds reversed, for a non-free parameter or
            (log-space parameters) not positive; a starting value outside its
            bounds; non-physical parameters; bad ``covariance_scaling``.
        KeyError: unknown dataset.
        TypeError: wrong argument types (e.g. a string parameter value).
    """

    def __init__(self, model: str, datasets: Sequence[str] | str, free_params: Sequence[str] | str = (),
                 overrides: Mapping[str, Any] | None = None, covariance_scaling: float = 1.0,
                 bounds: Mapping[str, Any] | None = None, *, data_dir=None):
        from ..cosmology import parameters as P
        from ..cosmology import models as _models

        P.check_model_name(model)
        self.model = model
        self.datasets = canonical_datasets(datasets)
        if isinstance(covariance_scaling, bool) or not isinstance(covariance_scaling, (numbers.Real, np.generic)):
            raise TypeError(f"covariance_scaling must be a number, got {type(covariance_scaling).__name__}")
        covariance_scaling = float(covariance_scaling)
        if not (math.isfinite(covariance_scaling) and covariance_scaling > 0):
            raise ValueError(f"covariance_scaling must be finite and > 0, got {covariance_scaling}")
        self.covariance_scaling = covariance_scaling
        nuisance = nuisance_for(self.datasets)
        valid = P.optimizable_parameters(model) + nuisance
        if isinstance(free_params, str):
            free_params = [s.strip() for s in free_params.split(",") if s.strip()]
        if free_params is None:
            free_params = []
        if not isinstance(free_params, (list, tuple)):
            raise TypeError(f"parameters to optimize must be a list of names, got {type(free_params).__name__}")
        free = []
        for p in free_params:
            if not isinstance(p, str):
                raise TypeError(f"parameter names must be strings, got {type(p).__name__} ({p!r})")
            if p not in valid:
                raise ValueError(f"parameter {p!r} cannot be optimized for model {model!r} with datasets "
                                 f"{list(self.datasets)}; valid parameters: {', '.join(valid)}")
            if p in free:
                raise ValueError(f"parameter {p!r} listed twice in the parameters to optimize")
            free.append(p)
        self.free_params = tuple(free)

        if overrides is not None and not isinstance(overrides, Mapping):
            raise TypeError(f"overrides must be a dict of parameter values, got {type(overrides).__name__}")
        overrides = dict(overrides or {})
        nuis_values = {}
        for k in list(overrides):
            if k in nuisance:
                v = overrides.pop(k)
                nuis_values[k] = P.check_number(k, v)
        self.overrides = overrides
        base = P.build_params(model, overrides, derived=False)
        self.recomb_method = base["recomb_method"]
        used_nuisance = [k for k in nuisance if k in free or k in nuis_values]
        self.nuisance = tuple(used_nuisance)
        model_params = model_numeric_params(model)
        all_params = model_params + used_nuisance
        self.all_params = tuple(all_params)
        base_num = {k: float(base[k]) for k in model_params}
        for k in used_nuisance:
            base_num[k] = nuis_values.get(k, nuisance_default(k, self.datasets))
        self.base_values = base_num
        log_params = set(P.log_space_params(model))
        # bounds
        if bounds is not None and not isinstance(bounds, Mapping):
            raise TypeError(f"bounds must be a dict name -> (lower, upper), got {type(bounds).__name__}")
        user = dict(bounds or {})
        for k in user:
            if k not in free:
                raise ValueError(f"bounds given for {k!r}, which is not optimized; optimized parameters: "
                                 f"{', '.join(free) or '(none)'}")
        lo, hi = [], []
        self.bounds = {}
        for k in free:
            b = check_bound_pair(k, user[k]) if k in user else (
                nuisance_bounds(k, self.datasets) if k in nuisance else P.get_optimization_bounds(model, k))
            if k in user and k not in nuisance:
                vlo, vhi = valid_range(model, k)
                if not vlo <= b[0] < b[1] <= vhi:
                    raise ValueError(f"bounds of {k!r} ({b[0]:g}, {b[1]:g}) must lie inside its valid range "
                                     f"[{vlo:g}, {vhi:g}] for model {model!r}")
            if k in log_params and b[0] <= 0:
                raise ValueError(f"bounds of {k!r} must be > 0 (it is optimized in log space), got {b}")
            self.bounds[k] = (float(b[0]), float(b[1]))
            lo.append(b[0])
            hi.append(b[1])
        self.lower = np.array(lo, np.float64)
        self.upper = np.array(hi, np.float64)
        self.x0 = np.array([base_num[k] for k in free], np.float64)
        for k, v, a, b in zip(free, self.x0, self.lower, self.upper):
            if not a <= v <= b:
                raise ValueError(f"starting value {k} = {v} is outside its bounds ({a}, {b}); "
                                 f"change the start (overrides) or the bounds")
        # Parameters that flow through the compiled χ² as arrays: the free ones, then those
        # set in ``overrides`` (the overrides' *structure* is part of the compiled code, their
        # values are not). Everything else is a compile-time constant at its default, which
        # keeps the gradient free of derivatives nobody asked for.
        # A massless-neutrino override (mnu = 0 or num_massive_neutrinos = 0, CAMB's massless
        # branch) is the exception: a compile-time constant, so the program has no
        # Fermi-Dirac terms at all (a fit with massive neutrinos compiles its own program).
        massless = tuple(sorted((k, 0.0) for k in MASSLESS_SWITCHES  # neutrinos.split's static branch
                                if k in overrides and k not in free and float(base_num.get(k, 1.0)) == 0.0))
        traced = list(free) + sorted(k for k in set(overrides) | set(nuis_values)
                                     if k in base_num and k not in free and k not in dict(massless))
        self.traced_params = tuple(traced)
        from ..likelihood import build_likelihood

        defaults_key = tuple(sorted((k, v) for k, v in P.get_defaults(model).items()
                                    if isinstance(v, (int, float)) and not isinstance(v, bool)))
        lik_key = (model, id(_models.MODELS.get(model)), defaults_key, self.datasets, self.recomb_method,
                   covariance_scaling, self.nuisance, self.traced_params, data_folders(data_dir), massless)
        lik = _LIKELIHOOD_CACHE.get(lik_key)
        if lik is None:
            lik_over = {"recomb_method": self.recomb_method, **dict(massless)}
            for k in used_nuisance:
                lik_over[k] = base_num[k]
            lik = build_likelihood(model, list(self.datasets), traced, lik_over, covariance_scaling, data_dir=data_dir)
            if tuple(lik.free_params) != self.traced_params:  # pragma: no cover - interface guard
                raise RuntimeError("likelihood did not accept the requested parameter vector")
            _LIKELIHOOD_CACHE[lik_key] = lik
        self.likelihood = lik
        self.base_vector = np.array([base_num[k] for k in traced], np.float64)
        self.free_index = np.arange(len(free), dtype=np.int32)

        self.log_mask = tuple(k in log_params for k in free)
        ckey = (lik_key, self.free_params, self.log_mask)
        compiled = _COMPILED_CACHE.get(ckey)
        if compiled is None:
            nfree = len(free)

            def chi2(theta, aux):  # the plain function: no nested jit to re-trace under differentiation
                return lik.chi2_traced(full_vector(theta, aux, nfree))

            def residuals(theta, aux):
                return lik.residuals_data(full_vector(theta, aux, nfree))

            compiled = _COMPILED_CACHE[ckey] = CompiledChi2(chi2, self.free_params, self.log_mask,
                                                            residuals if lik.has_residuals else None,
                                                            aot_key=stored_program_key(model, lik, ckey))
        self.compiled = compiled
        self._device_args = None
        self._valid_fn = None
        self._single_objective: Objective | None = None  # the last objective of fit_in_one_program

    # -- evaluation ----------------------------------------------------------

    @property
    def n_free(self) -> int:
        return len(self.free_params)

    def full(self, theta) -> np.ndarray:
        """The likelihood's parameter vector (ordered as :attr:`traced_params`) with ``theta``
        in the free slots."""
        v = self.base_vector.copy()
        if self.n_free:
            v[self.free_index] = np.asarray(theta, np.float64)
        return v

    def objective(self) -> Objective:
        """A fresh :class:`Objective` (evaluation counters at zero).

        Inside :func:`single_program` its value and gradient come from :meth:`single_program`'s
        one compiled call, whose last output :meth:`report` reuses (:func:`fit_in_one_program`).
        """
        zs = _SINGLE_PROGRAM.get()
        program = self.single_program(zs) if zs is not None and self.n_free else None
        obj = Objective(self.compiled, self.lower, self.upper, aux=self.base_vector, device_args=self._device_args,
                        program=program)
        self._device_args = obj.device_args if self._device_args is None else self._device_args
        if program is not None:
            self._single_objective = obj
        return obj

    def single_program(self, redshifts: Sequence[float] = ()) -> Callable:
        """One compiled ``(u, lower, upper, aux) -> {"value", "grad", "x", "report"}``: the
        unit-box χ² and its gradient and, at the same point, everything :meth:`report` returns,
        from one forward-over-forward pass that yields the value, the gradient and the exact
        Hessian together (no separate reverse-mode program).

        A process that fits once pays one trace and one compilation instead of two (the value
        and gradient, then the report); each evaluation costs the report's run time, so
        repeated fits keep the lean programs (:func:`fit_in_one_program` chooses).
        """
        from .transforms import from_unit

        zs = tuple(float(z) for z in redshifts)
        key = ("single", zs)
        fn = self.compiled.programs.get(key)
        if fn is None:
            import jax
            import jax.numpy as jnp

            chi2, body, nfree = self.compiled.chi2, self._report_body(False, zs), self.n_free
            mask = np.asarray(self.log_mask, bool)

            def run(u, lo, hi, aux):
                x = from_unit(u, lo, hi, mask, jnp)
                full = full_vector(x, aux, nfree)
                # one forward-over-forward pass: the Hessian, with the value and gradient on the way
                v, gx, hess = value_gradient_hessian(lambda y: chi2(y, full))(x)
                gu = jax.jacfwd(lambda w: from_unit(w, lo, hi, mask, jnp))(u).T @ gx
                rep = body(x, full)
                rep["hessian"] = hess
                return {"value": jnp.where(jnp.isfinite(v), v, BAD_CHI2), "grad": jnp.where(jnp.isfinite(gu), gu, 0.0),
                        "x": x, "report": rep}

            aot = None if self.compiled.aot_key is None else [self.compiled.aot_key, "single", list(zs)]
            fn = self.compiled.programs[key] = packed_jit(run, aot)
        return fn

    def chi2(self, theta=None) -> float:
        """Total χ² at ``theta`` (default: the starting point); ``inf`` at non-physical points.

        Uses the optimizers' compiled value-and-gradient when parameters are free
        (no extra compilation).
        """
        theta = self.x0 if theta is None else np.asarray(theta, np.float64)
        if self.n_free:
            u = to_unit(theta, self.lower, self.upper, np.asarray(self.log_mask, bool))
            v = float(self.compiled.unit_value_and_grad(u, self.lower, self.upper, self.base_vector)[0])
            return float("inf") if v >= BAD_CHI2 else v
        return float(self.compiled.value(theta, self.base_vector))

    def valid_points(self, thetas) -> np.ndarray:
        """Which rows of ``thetas`` (``(n, n_free)``, physical units) are valid points
        (:meth:`pbufjax.likelihood.Likelihood.is_valid`), as a boolean array."""
        import jax

        thetas = np.atleast_2d(np.asarray(thetas, np.float64))
        if self._valid_fn is None:
            lik, nfree = self.likelihood, self.n_free
            self._valid_fn = jax.jit(jax.vmap(lambda th, aux: lik.is_valid(full_vector(th, aux, nfree)),
                                              in_axes=(0, None)))
        return np.asarray(self._valid_fn(thetas, self.base_vector), bool)

    def gradient(self, theta) -> np.ndarray:
        """Exact gradient of χ² with respect to the free parameters (physical units)."""
        return np.asarray(self.compiled.gradient(np.asarray(theta, np.float64), self.base_vector))

    def hessian(self, theta) -> np.ndarray:
        """Exact Hessian :math:`\\partial^2\\chi^2/\\partial\\theta_i\\partial\\theta_j` (physical units)."""
        return np.asarray(self.compiled.hessian(np.asarray(theta, np.float64), self.base_vector))

    def report(self, theta, hessian: bool = True, redshifts: Sequence[float] = ()) -> dict[str, Any]:
        """Everything the engine reports at ``theta`` from one compiled call and one transfer.

        Args:
            theta: free-parameter values (physical).
            hessian: also return the exact Hessian of χ² (physical units).
            redshifts: redshifts at which to return :math:`H(z)` [km/s/Mpc].

        Returns:
            dict with ``blocks`` (as :meth:`evaluate`), ``z_star``, ``z_drag``, ``r_drag``, ``Onu0``,
            ``H`` (array at ``redshifts``) and ``hessian`` (k x k array, or None).
        """
        x = np.asarray(theta, np.float64).reshape(self.n_free)
        zs = tuple(float(z) for z in redshifts)
        obj = self._single_objective
        if obj is not None and _SINGLE_PROGRAM.get() == zs and self.n_free:
            # inside single_program: the point's outputs from the one compiled call (the
            # solver's last evaluation when it is this point, else one more call)
            u = obj.to_unit(x)
            last = obj.last_output
            if last is None or not np.array_equal(last[0], u):
                obj.last_output = last = (u, obj.program(u, *obj.device_args))
            out = last[1]["report"]
            if not hessian:
                out = {k: v for k, v in out.items() if k != "hessian"}
        else:
            out = self._report_fn(hessian, redshifts)(x, self.full(x))
        return {"blocks": self.likelihood.report_host(out["chi2s"], out["preds"]),
                "z_star": float(out["z_star"]), "z_drag": float(out["z_drag"]), "r_drag": float(out["r_drag"]),
                "Onu0": float(out["Onu0"]), "H": np.asarray(out["H"]), "hessian": np.asarray(out["hessian"]) if "hessian" in out else None}

    def _report_fn(self, hessian: bool, redshifts: Sequence[float]) -> Callable:
        """The compiled report function for these options (built once per compiled χ²)."""
        zs = tuple(float(z) for z in redshifts)
        key = ("report", bool(hessian) and self.n_free > 0, zs)
        cache = self.compiled.programs
        fn = cache.get(key)
        if fn is None:
            aot = None if self.compiled.aot_key is None else [self.compiled.aot_key, "report", list(key[1:])]
            fn = cache[key] = packed_jit(self._report_body(key[1], zs), aot)
        return fn

    def _report_body(self, want_h: bool, zs: tuple) -> Callable:
        """The pure ``(x, aux) -> outputs`` of :meth:`report` (``aux``: the full traced vector)."""
        import jax.numpy as jnp

        from ..cosmology import hubble
        from ..cosmology.models import densities

        lik, chi2, nfree = self.likelihood, self.compiled.chi2, self.n_free
        want_h = bool(want_h) and nfree > 0

        def rep(x, aux):
            full = full_vector(x, aux, nfree)
            chi2s, preds, d = lik.evaluate_traced(full, {}, with_derived=True)
            q = lik.params(full)
            out = {"chi2s": chi2s, "preds": preds, "z_star": d["z_star"], "z_drag": d["z_drag"],
                   "r_drag": d["r_drag"], "H": hubble(np.asarray(zs, np.float64), q),
                   "Onu0": jnp.asarray(densities(q).omega_nu, jnp.float64)}
            if want_h:
                out["hessian"] = value_gradient_hessian(lambda y: chi2(y, aux))(x)[2]
            return out

        return rep

    def evaluate(self, theta=None) -> dict:
        """Per-dataset ``{"chi2", "predictions", "residuals"}`` at ``theta``."""
        theta = self.x0 if theta is None else theta
        return self.likelihood.evaluate(self.full(theta))

    def values(self, theta=None) -> dict[str, float]:
        """Every numeric parameter (model and nuisance) at ``theta``."""
        out = dict(self.base_values)
        theta = self.x0 if theta is None else np.asarray(theta, np.float64)
        for k, v in zip(self.free_params, np.atleast_1d(theta)):
            out[k] = float(v)
        return out

    def params(self, theta=None, derived: bool = True, validate: bool = True) -> dict[str, Any]:
        """ParameterDict at ``theta``: the fixed values, ``theta`` in the free slots, derived keys filled.

        Args:
            theta: free-parameter values (default the starting point).
            derived: fill the derived keys (``Omh2, z_recomb, z_drag, r_s_drag, omnuh2, Onu0``).
            validate: run :func:`pbufjax.parameter.build_params`'s checks. A point where
                the likelihood returned a finite χ² has passed the same physical checks
                inside it, so the engine skips them there.

        Raises:
            ValueError: non-physical values (with ``validate``).
        """
        from ..cosmology.parameters import build_params, derived_params

        vals = self.values(theta)
        model_vals = {k: v for k, v in vals.items() if k not in self.nuisance}
        if validate:
            p = build_params(self.model, {**model_vals, "recomb_method": self.recomb_method}, derived=derived)
        else:
            p = dict(model_vals)
            p["model_class"] = self.model
            p["recomb_method"] = self.recomb_method
            if derived:
                p.update(derived_params(p))
        for k in self.nuisance:
            p[k] = vals[k]
        return p

    def __repr__(self) -> str:
        return (f"FitProblem(model={self.model!r}, datasets={list(self.datasets)}, free={list(self.free_params)}, "
                f"covariance_scaling={self.covariance_scaling})")


#: The report redshifts of the fits run inside :func:`fit_in_one_program`, or None.
_SINGLE_PROGRAM: contextvars.ContextVar[tuple | None] = contextvars.ContextVar("pbufjax_single_program", default=None)


@contextlib.contextmanager
def fit_in_one_program(redshifts: Sequence[float] = ()):
    """Fits inside run each evaluation and the final report as one compiled program
    (:meth:`FitProblem.single_program`, reporting :math:`H` at ``redshifts``).

    For a process that fits once, the command line: one program is traced, compiled (or
    loaded from the caches) instead of two, which saves about a second on a first run and a
    cache load on later ones. Each evaluation then also computes the report (a few hundred
    µs), so code that fits many times should not use it.
    """
    token = _SINGLE_PROGRAM.set(tuple(float(z) for z in redshifts))
    try:
        yield
    finally:
        _SINGLE_PROGRAM.reset(token)


def full_vector(theta, aux, nfree: int):
    """A likelihood's parameter vector from a fit's free values ``theta`` and the vector
    ``aux`` of all traced values (whose first ``nfree`` entries are the free ones' defaults)."""
    import jax.numpy as jnp

    aux = jnp.asarray(aux, jnp.float64)
    return jnp.concatenate([jnp.asarray(theta, jnp.float64), aux[nfree:]]) if nfree else aux


__all__ = ["FitProblem", "canonical_datasets", "clear_cache", "data_folders", "fit_in_one_program", "full_vector",
           "get_problem", "hashable_config", "nuisance_for", "stored_program_key"]
