"""The API reference's likelihood functions ``f(params, data) -> (chi2, predictions)`` and the
dispatch table :data:`LIKELIHOOD_FUNCTIONS` that picks the block of each dataset.

Register a likelihood for a dataset (or for one model only with a ``(model, dataset)`` key)
either as a function — χ² only, as in the API reference — or as a
:class:`~pbufjax.likelihood.Block` subclass, which also gives the whitened residuals the
Gauss-Newton and batch fits need::

    LIKELIHOOD_FUNCTIONS["new_dataset"] = likelihood_new_dataset   # χ² only
    LIKELIHOOD_FUNCTIONS["new_dataset"] = NewDatasetBlock          # χ², residuals, batch fits
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..data.spec import get_dataset_spec
from .blocks import BLOCK_TYPES, Block, FunctionBlock, make_block


def _run_block(kind: Sequence[str], params: Mapping[str, Any], data: Mapping[str, Any], fname: str):
    if not isinstance(data, Mapping):
        raise TypeError(f"{fname}: data must be a dataset dict, got {type(data).__name__}")
    dtype = (data.get("metadata") or {}).get("dataset_type")
    if dtype not in kind:
        raise ValueError(f"{fname}: dataset {data.get('name')!r} has dataset_type {dtype!r}, expected one of {list(kind)}")
    return BLOCK_TYPES[dtype].likelihood(params, data)


def likelihood_cmb(params: Mapping[str, Any], data: Mapping[str, Any]):
    """χ² of the CMB distance priors (Chen, Huang & Wang 2019, arXiv:1808.05724).

    .. math::

        \\chi^2 = (d - m)^T C^{-1} (d - m),\\quad m = \\Big(\\tfrac{\\sqrt{\\Omega_m}H_0 D_M(z_*)}{c},\\;
        \\tfrac{\\pi D_M(z_*)}{r_s(z_*)},\\;\\omega_b[,\\;n_s]\\Big).

    Args:
        params: parameter dict (``build_params`` output; numeric entries may be traced).
        data: a ``cmb`` dataset dict (``load_dataset("cmb")``).

    Returns:
        ``(chi2, predictions)``: predictions hold ``R``, ``l_A``, ``omega_b`` (and ``n_s``),
        ``z_star``, ``r_star``, ``DM_star`` and ``values`` (the model vector).

    Example:
        >>> from pbufjax import build_params
        >>> from pbufjax.data import load_dataset
        >>> chi2, pred = likelihood_cmb(build_params("lcdm"), load_dataset("cmb"))
    """
    return _run_block(("cmb",), params, data, "likelihood_cmb")


def likelihood_bao(params: Mapping[str, Any], data: Mapping[str, Any]):
    """χ² of BAO measurements with the generic BAO kernel (any :data:`~pbufjax.data.BAO_QUANTITIES`).

    .. math::

        \\chi^2 = (d - m)^T C^{-1} (d - m),\\quad m_i \\in \\{D_V/r_d, D_M/r_d, D_H/r_d, D_A/r_d, r_d/D_V,
        D_M r_{d,fid}/r_d, H r_d/r_{d,fid}\\},

    :math:`D_V = [z D_M^2 c/H]^{1/3}` (Eisenstein et al. 2005, astro-ph/0501171),
    :math:`r_d = r_s(z_d)` of the parameters.

    Args:
        params: parameter dict.
        data: a ``bao`` or ``bao_ani`` dataset dict (e.g. ``load_dataset("bao")``, DESI DR2).

    Returns:
        ``(chi2, predictions)`` with ``values`` (model vector) and ``r_d`` [Mpc].
    """
    return _run_block(("bao", "bao_ani"), params, data, "likelihood_bao")


def likelihood_bao_ani(params: Mapping[str, Any], data: Mapping[str, Any]):
    """χ² of anisotropic BAO (e.g. BOSS DR12 consensus, arXiv:1607.03155): the generic BAO kernel.

    BOSS DR12 provides :math:`D_M(z)\\,r_{d,fid}/r_d` [Mpc] and :math:`H(z)\\,r_d/r_{d,fid}`
    [km/s/Mpc] with :math:`r_{d,fid} = 147.78` Mpc.

    Returns:
        ``(chi2, predictions)`` as :func:`likelihood_bao`.
    """
    return _run_block(("bao", "bao_ani"), params, data, "likelihood_bao_ani")


def likelihood_sn(params: Mapping[str, Any], data: Mapping[str, Any]):
    """χ² of SN Ia distance moduli with the offset marginalized analytically.

    .. math::

        \\mu_{th} = 5\\log_{10}\\frac{(1+z_{hel})D_M(z_{cmb})}{\\rm Mpc} + 25,\\quad r = d - \\mu_{th},\\quad
        \\chi^2 = A - \\frac{B^2}{E},\\; A = r^TC^{-1}r,\\; B = \\mathbf1^TC^{-1}r,\\; E = \\mathbf1^TC^{-1}\\mathbf1

    (Conley et al. 2011, arXiv:1104.1443). For SH0ES-calibrated data the calibrators'
    theory is ``CEPH_DIST``; when ``params`` has ``M_B`` the χ² is :math:`r'^TC^{-1}r'` with
    :math:`r' = r - M_B` instead.

    Returns:
        ``(chi2, predictions)`` with ``mu_theory``, ``offset`` (best-fit :math:`B/E`, or
        ``M_B``) and ``values`` = ``mu_theory + offset``.
    """
    return _run_block(("sn",), params, data, "likelihood_sn")



#: Dataset name, dataset type or ``(model, dataset)`` -> ``f(params, data) -> (chi2, predictions)``
#: or a :class:`~pbufjax.likelihood.Block` subclass. :func:`pbufjax.likelihood.build_likelihood`
#: looks up ``(model, name)``, then ``name``, then ``(model, type)``, then the dataset's type.
LIKELIHOOD_FUNCTIONS: dict[Any, Callable] = {
    "cmb": likelihood_cmb,
    "bao": likelihood_bao,
    "bao_ani": likelihood_bao_ani,
    "sn": likelihood_sn,
}
BUILTIN_FUNCTIONS = frozenset({likelihood_cmb, likelihood_bao, likelihood_bao_ani, likelihood_sn})


def _is_block_class(entry) -> bool:
    return isinstance(entry, type) and issubclass(entry, Block)


def lookup(model: str, name: str, dtype: str | None):
    """The :data:`LIKELIHOOD_FUNCTIONS` entry for a dataset (None when there is none)."""
    for key in ((model, name), name, (model, dtype), dtype):
        if key in LIKELIHOOD_FUNCTIONS:
            return LIKELIHOOD_FUNCTIONS[key]
    return None


def block_for(model: str, data: Mapping[str, Any], scale: float = 1.0, explicit: frozenset = frozenset()) -> Block:
    """The block evaluating a dataset dict under ``model``: a registered Block subclass, the
    built-in block of its type, or a :class:`~pbufjax.likelihood.blocks.FunctionBlock` around a user function.

    Raises:
        ValueError: no entry and no block for the dataset's type (the message says what to register).
    """
    name = data.get("name")
    dtype = (data.get("metadata") or {}).get("dataset_type")
    entry = lookup(model, name, dtype)
    if _is_block_class(entry):
        return entry(data, scale, **entry.options(data, explicit))
    if entry is not None and entry not in BUILTIN_FUNCTIONS:
        return FunctionBlock(data, entry, scale)
    return make_block(data, scale, explicit)


def get_likelihood_function(model: str, dataset: str) -> Callable:
    """The likelihood function used for ``dataset`` under ``model`` (see :data:`LIKELIHOOD_FUNCTIONS`).

    Looks up ``(model, name)``, ``name``, ``(model, type)`` and ``type``, in that order; a
    registered Block subclass (there or in ``BLOCK_TYPES``) gives its ``likelihood`` method.

    Raises:
        KeyError: unknown dataset, or no function for its name or type.
    """
    spec = get_dataset_spec(dataset)
    fn = lookup(model, spec.name, spec.kind)
    if fn is None and spec.kind in BLOCK_TYPES:
        fn = BLOCK_TYPES[spec.kind]
    if fn is None:
        raise KeyError(f"no likelihood function registered for dataset {spec.name!r} (type {spec.kind!r})")
    return fn.likelihood if _is_block_class(fn) else fn


__all__ = [
    "BUILTIN_FUNCTIONS",
    "LIKELIHOOD_FUNCTIONS",
    "block_for",
    "get_likelihood_function",
    "likelihood_bao",
    "likelihood_bao_ani",
    "likelihood_cmb",
    "likelihood_sn",
    "lookup",
]
