"""The one record of a solver (:class:`SolverSpec`) and the registry every consumer reads.

A solver's facts — its name, host function, library, whether it runs entirely in compiled
JAX code, the options it accepts (with their types), the option that receives a
convergence tolerance, and its batch (jit/vmap-able) form — live in one
:class:`SolverSpec`. The CLI's choices, the batch methods, the provenance of a fit, the
docs table and the shared solver test all read this registry, never a second list.

Example:
    >>> from pbufjax.fit.solvers import get_solver
    >>> spec = get_solver("newton")
    >>> spec.pure_jax, spec.tolerance_option, spec.batch is not None
    (True, 'ftol', True)
    >>> spec.check_options({"maxiter": 50.0})
    {'maxiter': 50}
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any

import numpy as np

#: An option's type: ``int``, ``float``, ``bool``, ``str``, ``object`` (anything) or a tuple
#: of those (``None`` in a tuple: the value may be None).
OptionType = Any


@dataclasses.dataclass(frozen=True)
class SolverSpec:
    """One registered solver.

    Attributes:
        name: registry name (the ``method`` of a fit).
        function: host entry point ``fn(objective, initial_params, bounds=None, options=None)``
            on an :class:`pbufjax.fit.objective.Objective` in unit-box coordinates, returning a
            :class:`pbufjax.fit.result.SolverResult` (or anything with ``x``).
        library: the numerical library behind it (``"scipy"``, ``"optax"``, ``"jax"``,
            ``"optimistix"``, ``"custom"``); its version is :attr:`version`.
        pure_jax: True if it runs entirely in compiled JAX code (no BLAS calls from Python:
            no thread guard, no scipy import).
        options: ``{name: type}`` of the accepted options, or None to pass any options
            through unchecked (a user function registered without a declaration).
        tolerance_option: the option that receives ``--tol`` / ``convergence_tolerance``,
            or None if the solver has no single tolerance.
        batch: the jit/vmap-able kernel
            ``batch(chi2, x0, lower, upper, log_mask, options, residuals=None) -> SolverResult``
            (physical coordinates, ``options`` as returned by :meth:`check_options`), or None
            for host-only solvers.
        positive: options that must be > 0.
        nonnegative: options that must be >= 0.
        description: one line for tables and help texts.
    """

    name: str
    function: Callable
    library: str = "custom"
    pure_jax: bool = False
    options: Mapping[str, OptionType] | None = None
    tolerance_option: str | None = None
    batch: Callable | None = None
    positive: frozenset = frozenset()
    nonnegative: frozenset = frozenset()
    description: str = ""

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"solver name must be a non-empty string, got {self.name!r}")
        if not callable(self.function):
            raise TypeError(f"solver {self.name!r} must be callable, got {type(self.function).__name__}")
        if self.batch is not None and not callable(self.batch):
            raise TypeError(f"batch form of solver {self.name!r} must be callable or None")
        if self.options is not None:
            object.__setattr__(self, "options", dict(self.options))
            extra = sorted((set(self.positive) | set(self.nonnegative)
                            | ({self.tolerance_option} - {None})) - set(self.options))
            if extra:
                raise ValueError(f"solver {self.name!r}: {extra} are not among its options")
        object.__setattr__(self, "positive", frozenset(self.positive))
        object.__setattr__(self, "nonnegative", frozenset(self.nonnegative))

    @property
    def version(self) -> str:
        """Version of :attr:`library` (``"unknown"`` for custom code)."""
        from ..versions import library_versions

        return library_versions().get(self.library, "unknown")

    def check_options(self, options: Mapping | None, *, kind: str = "", role: str = "optimizer") -> dict:
        """Validated options with their declared types.

        Args:
            options: ``{name: value}`` (None: no options).
            kind: word of the error messages (``"unknown {kind}option(s) [...] for {role} 'name'"``).
            role: word of the same messages.

        Returns:
            A new dict: numbers cast to the declared ``int``/``float``; other values unchanged.

        Raises:
            TypeError: ``options`` not a dict, or a value of the wrong type (a bool or a string for
                a number, a non-integral number such as 1.5 for an ``int``).
            ValueError: an option the solver does not take (lists the valid ones), a number that
                is not finite, or a value out of range.
        """
        if options is None:
            return {}
        if not isinstance(options, Mapping):
            raise TypeError(f"{kind}options must be a dict, got {type(options).__name__}")
        if self.options is None:
            return dict(options)
        bad = sorted(set(options) - set(self.options))
        if bad:
            raise ValueError(f"unknown {kind}option(s) {bad} for {role} {self.name!r}; "
                             f"valid options: {', '.join(sorted(self.options))}")
        return {k: self._check_value(k, v, kind) for k, v in options.items()}

    def _check_value(self, key: str, value: Any, kind: str) -> Any:
        typ = self.options[key]
        types = typ if isinstance(typ, tuple) else (typ,)
        if value is None and None in types:
            return None
        types = tuple(t for t in types if t is not None)
        if object in types:
            return value
        for t in types:
            if t in (int, float) and isinstance(value, (numbers.Real, np.integer, np.floating)) \
                    and not isinstance(value, (bool, np.bool_)):
                try:
                    finite = bool(np.isfinite(float(value)))
                except OverflowError:  # an int beyond the float range
                    finite = False
                if not finite:
                    raise ValueError(f"{kind}option {key!r} must be a finite number, got {value!r}")
                if t is int and float(value) != int(value):
                    if float in types:
                        continue
                    raise TypeError(f"{kind}option {key!r} must be an integer, got {value!r}")
                out = t(value)
                if key in self.positive and not out > 0 or key in self.nonnegative and not out >= 0:
                    bound = "> 0" if key in self.positive else ">= 0"
                    raise ValueError(f"{kind}option {key!r} must be {bound}, got {value!r}")
                return out
            if t is bool and isinstance(value, (bool, np.bool_)):
                return bool(value)
            if t is str and isinstance(value, str):
                return value
        names = " or ".join("a number" if t in (int, float) else t.__name__ for t in types)
        raise TypeError(f"{kind}option {key!r} must be {names}, got {value!r}")


_REGISTRY: dict[str, SolverSpec] = {}


def register_solver(spec: SolverSpec, overwrite: bool = False) -> SolverSpec:
    """Add ``spec`` to the registry.

    Raises:
        TypeError: not a :class:`SolverSpec`. ValueError: the name is taken (without ``overwrite``).
    """
    if not isinstance(spec, SolverSpec):
        raise TypeError(f"register_solver takes a SolverSpec, got {type(spec).__name__}")
    if spec.name in _REGISTRY and not overwrite:
        raise ValueError(f"optimizer {spec.name!r} is already registered; pass overwrite=True to replace it")
    _REGISTRY[spec.name] = spec
    return spec


def unregister_solver(name: str) -> SolverSpec | None:
    """Remove a solver (returns its spec, or None if it was not registered)."""
    return _REGISTRY.pop(name, None)


def get_solver(name: str) -> SolverSpec:
    """The :class:`SolverSpec` registered as ``name``.

    Raises:
        ValueError: unknown name (the message lists the registered ones).
    """
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(f"unknown optimizer method {name!r}; valid methods: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def solver_names() -> list[str]:
    """Registered solver names, sorted."""
    return sorted(_REGISTRY)


def batch_solvers() -> dict[str, SolverSpec]:
    """The solvers with a batch (jit/vmap-able) form, by name, in registration order."""
    return {k: s for k, s in _REGISTRY.items() if s.batch is not None}


def solver_table() -> str:
    """The registry as a Markdown table (the documentation's optimizer table is this output).

    Columns: name, library, compiled (pure JAX), batch form, tolerance option, options.
    """
    rows = ["| solver | library | pure JAX | batch | tolerance option | options |", "|---|---|---|---|---|---|"]
    for name, spec in _REGISTRY.items():
        opts = "any" if spec.options is None else ", ".join(sorted(spec.options)) or "none"
        rows.append(f"| `{name}` | {spec.library} | {'yes' if spec.pure_jax else 'no'} | "
                    f"{'yes' if spec.batch is not None else 'no'} | {spec.tolerance_option or '—'} | {opts} |")
    return "\n".join(rows)


class OptimizerTable(MutableMapping):
    """``name -> host function`` view of the registry (the API reference's ``OPTIMIZERS``).

    ``OPTIMIZERS["name"] = fn`` registers a host :class:`SolverSpec` for a plain function
    (library ``"custom"``, any options); ``del``/``pop`` unregister it.
    """

    def __getitem__(self, name: str) -> Callable:
        return _REGISTRY[name].function

    def __setitem__(self, name: str, fn: Callable) -> None:
        register_solver(SolverSpec(name=name, function=fn), overwrite=True)

    def __delitem__(self, name: str) -> None:
        del _REGISTRY[name]

    def __iter__(self) -> Iterator[str]:
        return iter(list(_REGISTRY))

    def __len__(self) -> int:
        return len(_REGISTRY)

    def __repr__(self) -> str:
        return f"OPTIMIZERS({', '.join(_REGISTRY)})"


#: ``name -> fn(objective, initial_params, bounds=None, options=None)``: a view of the solver
#: registry. ``OPTIMIZERS["name"] = fn`` registers a host solver (library "custom").
OPTIMIZERS = OptimizerTable()


def register_optimizer(name: str, fn: Callable, *, overwrite: bool = False) -> Callable:
    """Add a plain host function as a solver (same as ``OPTIMIZERS[name] = fn``; any options).

    For a solver with declared options, library or batch form register a
    :class:`~pbufjax.fit.solvers.SolverSpec` with :func:`pbufjax.fit.solvers.register_solver`.

    Raises:
        TypeError: ``fn`` is not callable. ValueError: the name is taken.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"optimizer name must be a non-empty string, got {name!r}")
    register_solver(SolverSpec(name=name, function=fn), overwrite=overwrite)
    return fn


def get_optimizer(method: str) -> Callable:
    """The host function of solver ``method``.

    Raises:
        ValueError: unknown method (the message lists the registered ones).
    """
    return get_solver(method).function


__all__ = ["OPTIMIZERS", "OptimizerTable", "SolverSpec", "batch_solvers", "get_optimizer", "get_solver",
           "register_optimizer", "register_solver", "solver_names", "solver_table", "unregister_solver"]
