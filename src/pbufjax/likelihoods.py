"""Gaussian likelihoods of CMB distance priors, BAO and SN Ia data (API-reference module):
re-exports :mod:`pbufjax.likelihood`, which documents the blocks and the joint χ².

Example:
    >>> import jax, jax.numpy as jnp
    >>> from pbufjax.likelihoods import build_likelihood
    >>> lik = build_likelihood("lcdm", ["cmb", "bao", "sn"], ["H0", "Om0", "Obh2"])  # doctest: +SKIP
    >>> jax.jit(jax.value_and_grad(lik.chi2))(jnp.array([67.4, 0.315, 0.02237]))   # doctest: +SKIP
"""

from .likelihood import (
    BLOCK_TYPES,
    LIKELIHOOD_FUNCTIONS,
    NUISANCE_PARAMETERS,
    BAOBlock,
    Block,
    CMBBlock,
    Likelihood,
    SNBlock,
    build_chi2,
    build_likelihood,
    get_likelihood_function,
    likelihood_bao,
    likelihood_bao_ani,
    likelihood_cmb,
    likelihood_sn,
    register_block,
)
from .parameter import DERIVED_PARAMS, STATIC_PARAMS, build_params, get_defaults

__all__ = [
    "BLOCK_TYPES",
    "DERIVED_PARAMS",
    "LIKELIHOOD_FUNCTIONS",
    "NUISANCE_PARAMETERS",
    "STATIC_PARAMS",
    "BAOBlock",
    "Block",
    "CMBBlock",
    "Likelihood",
    "SNBlock",
    "build_chi2",
    "build_likelihood",
    "build_params",
    "get_defaults",
    "get_likelihood_function",
    "likelihood_bao",
    "likelihood_bao_ani",
    "likelihood_cmb",
    "likelihood_sn",
    "register_block",
]
