"""The one result type of every solver, and its status enum.

Every solver — the compiled kernels (:func:`pbufjax.fit.solvers.lbfgs.fit_lbfgs`,
:func:`pbufjax.fit.solvers.newton.fit_newton`, the optimistix kernels), the host adapters of
the registry and :func:`pbufjax.fit.run.run_optimizer` / :func:`pbufjax.fit.run.solve` —
returns a :class:`SolverResult`. It is a frozen dataclass registered as a JAX pytree
(:func:`jax.tree_util.register_dataclass`; ``message``, ``library`` and ``method`` are static),
so a kernel's result is a pytree that ``jax.vmap`` stacks field by field; inside compiled code
the status is an ``int32`` code (:meth:`Status.code`), on the host a :class:`Status`.

It is deliberately not an ``equinox.Module``: measured on the warm ΛCDM DESI DR2 + Union3 fit,
building the seven results of one ``gauss_newton`` run as equinox Modules cost ≈ 0.9 ms on the
host (their checked ``__init__``/``__setattr__``), which tripled the fit's time (1.1 → 3.1 ms);
a plain dataclass costs a few µs.

Example:
    >>> Status.from_code(1), Status.MAX_ITER.code, Status.SUCCESS == "success"
    (<Status.MAX_ITER: 'max_iter'>, 1, True)
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

import jax


class Status(str, enum.Enum):
    """How a solver stopped: the API reference's ``"success" | "max_iter" | "failed"``.

    A ``str`` subclass: a member compares equal to, formats as and serializes to its value.
    """

    SUCCESS = "success"
    MAX_ITER = "max_iter"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def code(self) -> int:
        """The integer code used inside compiled code (0 success, 1 max_iter, 2 failed)."""
        return _CODES.index(self)

    @classmethod
    def from_code(cls, code) -> Status:
        """Integer code (a Python int or a 0-d array) → member."""
        return _CODES[int(code)]

    @classmethod
    def coerce(cls, value) -> Status | None:
        """A member, its value or its code → member; anything else → None."""
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            return cls._value2member_map_.get(value)
        return None


_CODES = (Status.SUCCESS, Status.MAX_ITER, Status.FAILED)

STATUS_SUCCESS = Status.SUCCESS
STATUS_MAX_ITER = Status.MAX_ITER
STATUS_FAILED = Status.FAILED

#: Mapping-style keys of the pre-redesign result dicts → field names.
_KEY_ALIASES = {"n_iterations": "n_iter", "nit": "n_iter", "nfev": "n_eval", "jac": "grad_unit",
                "gradient_unit": "grad_unit", "gradient_norm": "grad_norm"}
#: Keys a Mapping view reports (the pre-redesign ``run_optimizer``/``solve`` dict).
_RUN_KEYS = ("x", "fun", "status", "success", "message", "n_iterations", "n_function_evaluations",
             "n_gradient_evaluations", "time", "bounds_reached", "method", "library", "extra", "gradient_norm",
             "gradient_unit", "predicted_gain", "chi2_start", "x0")


@dataclasses.dataclass(frozen=True)
class SolverResult:
    """Outcome of any solver.

    A kernel fills the array fields (``x`` … ``hess_unit``, ``status`` an int code); a host
    solver and :func:`~pbufjax.fit.run.run_optimizer` also the descriptive ones. Read access
    by key (``result["status"]``, ``result.get("extra", {})``) keeps the pre-redesign dict
    keys working (``n_iterations``, ``gradient_norm``, ``jac`` …).

    Attributes:
        x: best-fit parameters (physical for kernels and runs; unit box for host adapters).
        fun: χ² at ``x`` (:data:`~pbufjax.fit.criteria.BAD_CHI2` if no finite value was found).
        status: :class:`Status` (host) or its int code (inside compiled code).
        grad_norm: gradient norm at ``x`` (kernels: of their own coordinates; runs: projected,
            unit box).
        n_iter: iterations.
        n_eval: χ² (value+gradient) evaluations.
        fun_start: χ² at the starting point.
        grad_unit: gradient of χ² in unit-box coordinates at ``x`` (or None).
        hess_unit: Hessian of χ² in unit-box coordinates at ``x`` (or None).
        message: how it stopped, in words.
        library: the library behind the solver.
        method: the solver's registry name.
        extra: solver-specific details (e.g. the multi-start spread).
        n_function_evaluations: χ² evaluations counted by the objective (filled by
            :func:`~pbufjax.fit.run.run_optimizer` / ``solve``, as are the next fields).
        n_gradient_evaluations: gradient evaluations counted by the objective.
        time: wall time of the run [s].
        bounds_reached: names of the parameters at a bound.
        chi2_start: χ² at the starting point.
        x0: the starting point (physical).
        predicted_gain: χ² the exact Hessian says is still to gain at ``x``.
    """

    x: Any
    fun: Any
    status: Any
    grad_norm: Any = None
    n_iter: Any = 0
    n_eval: Any = 0
    fun_start: Any = None
    grad_unit: Any = None
    hess_unit: Any = None
    message: str = ""
    library: str | None = None
    method: str | None = None
    extra: dict = dataclasses.field(default_factory=dict)
    n_function_evaluations: Any = None
    n_gradient_evaluations: Any = None
    time: Any = None
    bounds_reached: Any = None
    chi2_start: Any = None
    x0: Any = None
    predicted_gain: Any = None

    @property
    def success(self) -> bool:
        """True if :attr:`status` is success (host results)."""
        return Status.coerce(self.status) is Status.SUCCESS or (
            not isinstance(self.status, str) and self.status is not None and int(self.status) == 0)

    @property
    def nit(self):
        return self.n_iter

    @property
    def nfev(self):
        return self.n_eval

    @property
    def jac(self):
        return self.grad_unit

    @property
    def status_name(self) -> Status:
        """:attr:`status` as a :class:`Status` (whether it is a code or a member)."""
        return Status.coerce(self.status) or Status.from_code(self.status)

    def replace(self, **changes) -> SolverResult:
        """A copy with ``changes`` (fields or their pre-redesign key names)."""
        return dataclasses.replace(self, **{_KEY_ALIASES.get(k, k): v for k, v in changes.items()})

    # -- read-only Mapping view (the pre-redesign dict keys) -------------------

    def __getitem__(self, key: str):
        if key == "success":
            return self.success
        name = _KEY_ALIASES.get(key, key)
        if not isinstance(key, str) or name not in self.__dataclass_fields__:
            raise KeyError(key)
        return getattr(self, name)

    def get(self, key: str, default=None):
        try:
            value = self[key]
        except KeyError:
            return default
        return default if value is None else value

    def __contains__(self, key) -> bool:
        return self.get(key) is not None

    def keys(self) -> list[str]:
        """The pre-redesign keys that hold a value."""
        return [k for k in _RUN_KEYS if k in self]

    def asdict(self) -> dict[str, Any]:
        """``{key: value}`` of :meth:`keys` (the pre-redesign dict)."""
        return {k: self[k] for k in self.keys()}

    def _asdict(self) -> dict[str, Any]:  # NamedTuple spelling of the pre-redesign kernel results
        return {k: getattr(self, k) for k in ("x", "fun", "status", "grad_norm", "n_iter", "n_eval", "fun_start",
                                              "grad_unit", "hess_unit") if getattr(self, k) is not None}


_STATIC_FIELDS = ("message", "library", "method")
jax.tree_util.register_dataclass(
    SolverResult,
    data_fields=[f.name for f in dataclasses.fields(SolverResult) if f.name not in _STATIC_FIELDS],
    meta_fields=list(_STATIC_FIELDS),
)

#: Pre-redesign names of the one result type.
LBFGSResult = SolverResult
NewtonResult = SolverResult
OptimizerResult = SolverResult


class AttrDict(dict):
    """A dict whose keys are also attributes (``result.chi2_improvement``)."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key, value):
        self[key] = value


def host_result(x, fun, status, message, nit=0, *, library=None, method=None, jac=None, hess_unit=None, nfev=0,
                **extra) -> SolverResult:
    """A host solver's :class:`SolverResult` (``x`` in unit-box coordinates; ``extra``: its details)."""
    import numpy as np

    return SolverResult(x=np.asarray(x, np.float64), fun=float(fun), status=Status(status), message=str(message),
                        n_iter=int(nit), n_eval=int(nfev), library=library, method=method,
                        grad_unit=None if jac is None else np.asarray(jac, np.float64), hess_unit=hess_unit,
                        extra={k: v for k, v in extra.items() if v is not None})


def lbfgs_status_name(code: int) -> Status:
    """A kernel's status code → :class:`Status`."""
    return Status.from_code(code)


__all__ = [
    "STATUS_FAILED",
    "STATUS_MAX_ITER",
    "STATUS_SUCCESS",
    "AttrDict",
    "LBFGSResult",
    "NewtonResult",
    "OptimizerResult",
    "SolverResult",
    "Status",
    "host_result",
    "lbfgs_status_name",
]
