"""Building a joint likelihood from a model name, dataset names and free parameters.

Example:
    >>> import jax, jax.numpy as jnp
    >>> from pbufjax.likelihood import build_likelihood
    >>> lik = build_likelihood("lcdm", ["cmb", "bao", "sn"], ["H0", "Om0", "Obh2"])  # doctest: +SKIP
    >>> theta = jnp.array([67.4, 0.315, 0.02237])                                   # doctest: +SKIP
    >>> jax.jit(jax.value_and_grad(lik.chi2))(theta)                                 # doctest: +SKIP
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..data.catalog import load_dataset
from ..data.spec import (LiveMapping, dataset_specs, expand_datasets, is_combination, list_datasets, nuisance_parameters,
                         nuisance_users)
from ..cosmology.parameters import DERIVED_PARAMS, build_params, numeric_parameters
from .functions import block_for
from .joint import Likelihood


#: Nuisance parameters: name -> (datasets that use it, description) — a view of the dataset
#: specs (:func:`pbufjax.data.nuisance_parameters` has their defaults and bounds).
NUISANCE_PARAMETERS: Mapping[str, tuple[tuple[str, ...], str]] = LiveMapping(
    lambda: {p.name: (tuple(nuisance_users(p.name)), p.description) for p in nuisance_parameters().values()})


def _as_list(x, what: str) -> list:
    if isinstance(x, (str, Mapping)):
        return [x]
    if isinstance(x, (list, tuple, np.ndarray)):
        return list(x.tolist() if isinstance(x, np.ndarray) else x)
    raise TypeError(f"{what} must be a list, got {type(x).__name__}")


def build_likelihood(
    model: str,
    datasets_list: Sequence[str | Mapping] | str,
    free_params: Sequence[str] | str = (),
    overrides: Mapping[str, Any] | None = None,
    covariance_scaling: float = 1.0,
    *,
    data_dir=None,
) -> Likelihood:
    """Build the joint likelihood of ``datasets_list`` for ``model``.

    Args:
        model: model name (``lcdm``, ``wcdm``, ``w0wacdm``, ``pbuf`` or a registered one).
        datasets_list: dataset names/aliases/combinations (or loaded dataset dicts), e.g. ``["cmb", "bao", "sn"]``
            or ``["sdss_legacy"]`` (a combination stands for its member datasets).
        free_params: parameters forming ``theta``, in order (list or ``"H0,Om0"``); any numeric
            parameter of the model, plus the datasets' nuisance parameters
            (:func:`pbufjax.data.nuisance_parameters`, e.g. ``M_B`` with ``pantheonplus_shoes``).
        overrides: values replacing the model defaults for the fixed parameters (and the
            starting values of free ones); may include ``recomb_method`` and ``M_B``.
        covariance_scaling: :math:`s` in :math:`C \\to sC` for every block (> 0).
        data_dir: data directory searched first for release files (passed to the loaders;
            then the fallbacks of :func:`pbufjax.data.files.search_dirs`).

    Returns:
        :class:`Likelihood`.

    Raises:
        ValueError: unknown model, empty or duplicated datasets, unknown or duplicated free
            parameter (the message lists the model's parameters), bad ``covariance_scaling``.
        KeyError: unknown dataset (the message lists the valid names).
        TypeError: wrong argument types.
        DataFileNotFoundError: a release file is missing (the message says how to fetch it).
    """
    if not isinstance(model, str):
        raise TypeError(f"model must be a string, got {type(model).__name__}")
    model_params = numeric_parameters(model)  # raises ValueError for an unknown model
    items = _as_list(datasets_list, "datasets_list")
    if not items:
        raise ValueError(f"datasets_list is empty; valid datasets: {', '.join(list_datasets())}")
    if isinstance(covariance_scaling, bool) or not isinstance(covariance_scaling, numbers.Real):
        raise TypeError(f"covariance_scaling must be a number, got {type(covariance_scaling).__name__}")
    if not (math.isfinite(covariance_scaling) and covariance_scaling > 0):
        raise ValueError(f"covariance_scaling must be finite and > 0, got {covariance_scaling}")

    loaded = []
    for item in items:
        if isinstance(item, Mapping):
            name = item.get("name")
            if not isinstance(name, str):
                raise TypeError(f"a dataset dict in datasets_list needs a string 'name', got {name!r}")
            entries = [(name, item)]
        elif isinstance(item, str):  # a name, an alias, or a combination standing for several datasets
            entries = [(n, None) for n in expand_datasets([item])]
        else:
            raise TypeError(f"datasets_list entries must be names or dataset dicts, got {type(item).__name__}")
        for name, data in entries:
            if name in [n for n, _ in loaded]:
                via = f" (the combination {item!r} includes it)" if is_combination(item) else ""
                raise ValueError(f"dataset {name!r} listed twice in datasets_list (after resolving aliases){via}")
            loaded.append((name, load_dataset(name, data_dir) if data is None else data))

    names = [n for n, _ in loaded]
    registered = [n for n in names if n in dataset_specs()]  # dataset dicts need not be registered
    nuisance_spec = nuisance_parameters(registered)
    nuisance = list(nuisance_spec)
    valid = model_params + nuisance

    if isinstance(free_params, str):
        free_params = [s.strip() for s in free_params.split(",") if s.strip()]
    free = _as_list(free_params, "free_params")
    for k in free:
        if not isinstance(k, str):
            raise TypeError(f"free parameter names must be strings, got {type(k).__name__} ({k!r})")
        if k not in valid:
            raise ValueError(f"unknown free parameter {k!r} for model {model!r}; valid parameters: {', '.join(valid)}")
    dup = sorted({k for k in free if free.count(k) > 1})
    if dup:
        raise ValueError(f"free parameter(s) {dup} listed twice")

    overrides = dict(overrides or {})
    nuis_values = {}
    for k in list(overrides):
        users = nuisance_users(k)
        if users:
            if k not in nuisance:
                raise ValueError(f"parameter {k!r} is only used with datasets {users}")
            v = overrides.pop(k)
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
                raise TypeError(f"parameter {k!r} must be a finite real number, got {v!r}")
            nuis_values[k] = float(v)
    base = build_params(model, overrides, derived=False)  # the likelihood computes its own derived quantities
    for k in DERIVED_PARAMS + ("optimization_metadata",):
        base.pop(k, None)
    explicit = frozenset(k for k in nuisance if k in free or k in nuis_values)
    for k in explicit:  # starting value: the dataset spec's default unless overridden
        base[k] = nuis_values.get(k, nuisance_spec[k].default)
    blocks = [block_for(model, data, covariance_scaling, explicit) for _, data in loaded]
    return Likelihood(model, blocks, free, base, covariance_scaling)


def build_chi2(
    model: str,
    datasets_list: Sequence[str | Mapping] | str,
    free_params: Sequence[str] | str = (),
    overrides: Mapping[str, Any] | None = None,
    covariance_scaling: float = 1.0,
    *,
    data_dir=None,
) -> Callable:
    """The joint χ² as a pure function ``chi2(theta)`` of a 1-D array ordered as ``free_params``.

    Same arguments as :func:`build_likelihood`; returns ``build_likelihood(...).chi2``,
    which works under ``jax.jit``, ``jax.grad`` and ``jax.vmap``.

    Example:
        >>> chi2 = build_chi2("lcdm", ["bao"], ["H0", "Om0"])   # doctest: +SKIP
        >>> jax.grad(chi2)(jnp.array([68.0, 0.30]))              # doctest: +SKIP
    """
    return build_likelihood(
        model, datasets_list, free_params, overrides, covariance_scaling, data_dir=data_dir
    ).chi2


__all__ = ["NUISANCE_PARAMETERS", "build_chi2", "build_likelihood"]
