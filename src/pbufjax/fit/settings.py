"""The checks of the settings a fit shares between the Python API and the configuration files.

One function per setting; :func:`pbufjax.analysis.engine.run_fit`, the API reference's
:class:`~pbufjax.fit.api.ParameterOptimizer` and the CLI's configuration loader
(:mod:`pbufjax.cli.config`) all call them, so the same bad value gets the same message
from Python and from the command line (the loader adds the file and the dotted key in
front: ``config run.json: optimization.covariance_scaling = 1e+300 is out of range ...``).

Valid values:

=======================  =================================================================
setting                  valid
=======================  =================================================================
``method``               a registered solver (:func:`pbufjax.fit.solvers.solver_names`)
``options``              the solver's declared options (:class:`~pbufjax.fit.solvers.SolverSpec`):
                         integers where it declares ``int`` (``maxiter`` >= 1), finite numbers,
                         the declared sign (> 0 or >= 0)
``covariance_scaling``   a finite number in :data:`COV_SCALE_RANGE`, ``0 < s <= 1000``
``convergence_tolerance`` a finite number in :data:`TOLERANCE_RANGE`, ``0 < tol < 1``
``frozen_parameters``    names of the model's numeric parameters or of the datasets'
                         nuisance parameters
``bounds``               ``{name: (lower, upper)}``: an optimizable parameter of the model (or a
                         nuisance parameter of the datasets), two finite numbers with
                         ``lower < upper``, inside the parameter's valid range, ``upper - lower``
                         finite (:func:`pbufjax.cosmology.validity.valid_range`)
=======================  =================================================================

Errors are ``TypeError`` (wrong type) or ``ValueError`` (wrong value), each naming the
setting, the value and what is allowed.

Example:
    >>> check_covariance_scaling(2)
    2.0
    >>> check_options("lbfgs", {"maxiter": 50.0})
    {'maxiter': 50}
    >>> check_covariance_scaling(1e300)
    Traceback (most recent call last):
    ...
    ValueError: covariance_scaling = 1e+300 is out of range; allowed: > 0 and <= 1000
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .names import nuisance_for
from .solvers import get_solver

#: Range of ``covariance_scaling`` (exclusive lower bound, inclusive upper bound).
COV_SCALE_RANGE = (0.0, 1000.0)
#: Range of ``convergence_tolerance`` (exclusive bounds).
TOLERANCE_RANGE = (0.0, 1.0)
#: The solver of a fit that names none.
DEFAULT_METHOD = "minimize"


def is_number(value: Any) -> bool:
    """True for a real number that is not a bool (Python or numpy scalar)."""
    return isinstance(value, (numbers.Real, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def check_number(value: Any, key: str, lo: float | None = None, hi: float | None = None, *, lo_open: bool = True,
                 hi_open: bool = False) -> float:
    """A finite real number in ``(lo, hi]`` (or the bounds chosen by ``lo_open``/``hi_open``).

    Args:
        value: the value to check.
        key: the setting's name in the messages.
        lo: the lower bound (None: unbounded below).
        hi: the upper bound (None: unbounded above).
        lo_open: whether ``lo`` itself is excluded.
        hi_open: whether ``hi`` itself is excluded.

    Returns:
        ``value`` as a float.

    Raises:
        TypeError: not a real number (``"{key} must be a number (> 0 and <= 1000), got 'big'"``).
        ValueError: not finite, or out of range (``"{key} = 2 is out of range; allowed: ..."``).
    """
    lo_s = "" if lo is None else f"{'>' if lo_open else '>='} {lo:g}"
    hi_s = "" if hi is None else f"{'<' if hi_open else '<='} {hi:g}"
    rng = " and ".join(s for s in (lo_s, hi_s) if s) or "finite"
    if not is_number(value):
        raise TypeError(f"{key} must be a number ({rng}), got {value!r}")
    try:
        value = float(value)
    except OverflowError:  # an int beyond the float range
        raise ValueError(f"{key} must be a finite number ({rng}), got an integer of {len(str(abs(value)))} digits"
                         ) from None
    if not math.isfinite(value):
        raise ValueError(f"{key} must be a finite number ({rng}), got {value}")
    too_low = lo is not None and (value <= lo if lo_open else value < lo)
    too_high = hi is not None and (value >= hi if hi_open else value > hi)
    if too_low or too_high:
        raise ValueError(f"{key} = {value:g} is out of range; allowed: {rng}")
    return value


def check_covariance_scaling(value: Any, key: str = "covariance_scaling") -> float:
    """``covariance_scaling`` :math:`s` in :math:`C \\to sC`: finite, in :data:`COV_SCALE_RANGE`."""
    return check_number(value, key, *COV_SCALE_RANGE)


def check_tolerance(value: Any, key: str = "convergence_tolerance") -> float | None:
    """``convergence_tolerance``: None, or finite in :data:`TOLERANCE_RANGE` (both ends excluded)."""
    return None if value is None else check_number(value, key, *TOLERANCE_RANGE, hi_open=True)


def check_method(method: Any) -> str:
    """A registered solver name.

    Raises:
        ValueError: unknown name (``"unknown optimizer method 'x'; valid methods: ..."``).
    """
    get_solver(method)
    return method


def check_options(method: str, options: Any, *, partial: bool = False) -> dict:
    """The options of solver ``method``, checked by its :class:`~pbufjax.fit.solvers.SolverSpec`.

    Args:
        method: a registered solver.
        options: ``{name: value}`` or None.
        partial: check only the options ``method`` declares and pass the others through (for a
            configuration file that names no method: the command line may choose another).

    Returns:
        A new dict, numbers cast to the declared types (``50.0`` -> ``50`` for an ``int``).

    Raises:
        TypeError: not a dict, or a value of the wrong type (``"option 'maxiter' must be a
            number, got '100'"``, ``"... must be an integer, got 1.5"``).
        ValueError: unknown method, an option the solver does not take (lists the valid ones), a
            non-finite or out-of-range value (``"option 'maxiter' must be > 0, got -5"``).
    """
    spec = get_solver(method)
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise TypeError(f"options must be a dict, got {type(options).__name__}")
    if not partial or spec.options is None:
        return spec.check_options(options)
    known = spec.check_options({k: v for k, v in options.items() if k in spec.options})
    return {k: known.get(k, v) for k, v in options.items()}


def check_name_list(value: Any, key: str) -> list[str]:
    """A list of parameter names (a comma-separated string allowed; None is the empty list).

    Raises:
        TypeError: not a list (or string) of non-empty strings.
    """
    if value is None:
        return []
    if isinstance(value, str):
        value = [s.strip() for s in value.split(",") if s.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
        raise TypeError(f'{key} must be a list of names (e.g. ["H0", "Om0"]), got {value!r}')
    return list(value)


def _nuisance(datasets: Sequence[str] | None) -> list[str]:
    from .. import data as _ds

    return list(_ds.nuisance_parameters()) if datasets is None else nuisance_for(datasets)


def parameter_names(model: str, datasets: Sequence[str] | None = None) -> list[str]:
    """The names a fit setting may use: the model's numeric parameters, then the nuisance
    parameters of ``datasets`` (canonical names; None: of every registered dataset).

    Raises:
        ValueError: unknown model.
    """
    from ..cosmology.parameters import numeric_parameters

    return numeric_parameters(model) + [k for k in _nuisance(datasets) if k not in numeric_parameters(model)]


def optimizable_names(model: str, datasets: Sequence[str] | None = None) -> list[str]:
    """The parameters a fit may optimize (and bound): the model's optimizable ones, then the
    nuisance parameters of ``datasets`` (None: of every registered dataset)."""
    from ..cosmology.parameters import optimizable_parameters

    own = optimizable_parameters(model)
    return own + [k for k in _nuisance(datasets) if k not in own]


def check_frozen_parameters(model: str, frozen: Any, datasets: Sequence[str] | None = None,
                            key: str = "frozen_parameters") -> list[str]:
    """``frozen_parameters``: each a parameter of ``model`` or a nuisance parameter of ``datasets``.

    Raises:
        TypeError: not a list of names. ValueError: unknown model, or an unknown name
            (``"frozen_parameters: 'zzz' is not a parameter of model 'lcdm' ...; valid names: ..."``).
    """
    names = check_name_list(frozen, key)
    valid = parameter_names(model, datasets)
    for name in names:
        if name not in valid:
            raise ValueError(f"{key}: {name!r} is not a parameter of model {model!r} or a nuisance parameter of "
                             f"the datasets; valid names: {', '.join(valid)}")
    return names


def check_bound_values(name: str, pair: Any) -> tuple[float, float]:
    """One ``(lower, upper)`` pair, model aside: two finite numbers with ``lower < upper``.

    Raises:
        TypeError: not a pair of numbers. ValueError: not finite, reversed or empty.
    """
    if not isinstance(pair, (list, tuple, np.ndarray)) or len(pair) != 2 or not all(is_number(v) for v in pair):
        raise TypeError(f"bounds of {name!r} must be a (lower, upper) pair of numbers, got {pair!r}")
    try:
        lo, hi = float(pair[0]), float(pair[1])
    except OverflowError:
        lo = hi = math.inf
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"bounds of {name!r} must be finite, got {pair!r}")
    if not lo < hi:
        raise ValueError(f"bounds of {name!r} are reversed or empty ({lo:g}, {hi:g}): lower bound must be below "
                         f"upper bound")
    return lo, hi


def check_bounds(model: str, bounds: Any, datasets: Sequence[str] | None = None,
                 free: Sequence[str] | None = None, key: str = "bounds") -> dict[str, tuple[float, float]]:
    """``bounds``: ``{name: (lower, upper)}`` of parameters the fit may optimize.

    Args:
        model: model name.
        bounds: the mapping (None: no bounds).
        datasets: canonical dataset names (for their nuisance parameters; None: every dataset's).
        free: the optimized parameters, when known: bounds of any other are refused.
        key: the setting's name in the messages.

    Returns:
        ``{name: (lower, upper)}`` as floats.

    Raises:
        TypeError: not a dict, or a pair that is not two numbers.
        ValueError: an unknown or (with ``free``) non-optimized parameter, values that are not
            finite, reversed, outside the parameter's valid range or too far apart (``upper - lower``
            overflows)
            (``"bounds of 'H0' (5, 100) must lie inside its valid range [10, 200] for model 'lcdm'"``).
    """
    from ..cosmology.validity import valid_range

    if bounds is None:
        return {}
    if not isinstance(bounds, Mapping):
        raise TypeError(f"{key} must be a dict name -> (lower, upper), got {type(bounds).__name__}")
    valid = optimizable_names(model, datasets)
    out = {}
    for name, pair in bounds.items():
        if name not in valid:
            raise ValueError(f"bounds given for {name!r}, which is not an optimizable parameter of model "
                             f"{model!r}; valid parameters: {', '.join(valid)}")
        if free is not None and name not in free:
            raise ValueError(f"bounds given for {name!r}, which is not optimized; optimized parameters: "
                             f"{', '.join(free) or '(none)'}")
        lo, hi = check_bound_values(name, pair)
        vlo, vhi = valid_range(model, name)
        if lo < vlo or hi > vhi:
            raise ValueError(f"bounds of {name!r} ({lo:g}, {hi:g}) must lie inside its valid range "
                             f"[{vlo:g}, {vhi:g}] for model {model!r}")
        if not math.isfinite(hi - lo):  # the solvers' unit-box map divides by the width
            raise ValueError(f"bounds of {name!r} are too wide: upper - lower = {hi:g} - ({lo:g}) overflows")
        out[name] = (lo, hi)
    return out


__all__ = [
    "COV_SCALE_RANGE",
    "DEFAULT_METHOD",
    "TOLERANCE_RANGE",
    "check_bound_values",
    "check_bounds",
    "check_covariance_scaling",
    "check_frozen_parameters",
    "check_method",
    "check_name_list",
    "check_number",
    "check_options",
    "check_tolerance",
    "is_number",
    "optimizable_names",
    "parameter_names",
]
