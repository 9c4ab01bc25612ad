"""Gaussian likelihoods of CMB distance priors, BAO and SN Ia data, and their joint χ².

Every block is a Gaussian χ² of a data vector :math:`d` with covariance :math:`C`
(scaled to :math:`sC` by ``covariance_scaling``):

.. math::

    \\chi^2 = r^T C^{-1} r = \\lVert L^{-1} r \\rVert^2,\\qquad r = d - m(\\theta),\\quad C = L L^T .

The Cholesky factor :math:`L` and, from it, the precision matrix
:math:`P = C^{-1} = L^{-T}L^{-1}` are computed once when a likelihood is built, so an
evaluation is one matrix-vector product :math:`y = Pr` per block, and the gradient
reuses it (:math:`\\partial\\chi^2/\\partial r = 2y`, a custom JVP rule): no
factorization, inversion or second product on the hot path.

Blocks
------
* **CMB distance priors** (Chen, Huang & Wang 2019, arXiv:1808.05724):
  :math:`m = (R, \\ell_A, \\omega_b[, n_s])` with
  :math:`R = \\sqrt{\\Omega_m H_0^2} D_M(z_*)/c` and :math:`\\ell_A = \\pi D_M(z_*)/r_s(z_*)`
  from :func:`pbufjax.cosmology.cmb.derived`.
* **BAO** (one generic kernel; DESI, arXiv:2503.14738; BOSS, arXiv:1607.03155): each entry is
  one of :data:`pbufjax.data.BAO_QUANTITIES`: :math:`D_V/r_d`, :math:`D_M/r_d`,
  :math:`D_H/r_d`, :math:`D_A/r_d`, :math:`r_d/D_V`, :math:`D_M r_{d,fid}/r_d` [Mpc],
  :math:`H r_d/r_{d,fid}` [km/s/Mpc], with :math:`D_V = [z D_M^2 D_H]^{1/3}`,
  :math:`D_H = c/H(z)` and :math:`r_d = r_s(z_d)`.
* **Tabulated BAO** (SDSS DR7 MGS, arXiv:1409.3242): a non-Gaussian :math:`\\chi^2(\\alpha)` table,
  :math:`\\alpha = (D_V/r_d)/(D_V/r_d)_{fid}`, interpolated by a cubic spline
  (:mod:`~pbufjax.likelihood.tabulated`). Every BAO block takes :math:`r_d = (h r_d)/h` instead
  of :math:`r_s(z_d)` when the nuisance parameter ``hrd`` is free or set.
* **SN Ia**: :math:`\\mu_{th} = 5\\log_{10}[(1+z_{hel}) D_M(z_{cmb})/{\\rm Mpc}] + 25`. The
  unknown offset (absolute magnitude :math:`M_B`, or Union3's arbitrary zero point) is
  marginalized analytically (Conley et al. 2011, arXiv:1104.1443, appendix C; the
  convention of the published Cobaya likelihoods): with :math:`r = d - \\mu_{th}`,

  .. math::

      A = r^T C^{-1} r,\\quad B = \\mathbf 1^T C^{-1} r,\\quad E = \\mathbf 1^T C^{-1}\\mathbf 1,\\qquad
      \\chi^2 = A - B^2/E ,

  which is also :math:`\\min_M \\chi^2(M)` (the best offset is :math:`B/E`); the constant
  :math:`\\ln(E/2\\pi)` of the marginal likelihood is dropped. For ``pantheonplus_shoes``
  the theory for the SH0ES calibrators is their Cepheid distance ``CEPH_DIST``, and when
  the nuisance parameter ``M_B`` is free (or set in ``overrides``) the χ² is the explicit
  :math:`r^T C^{-1} r` with :math:`r = m_B - M_B - \\mu` (Brout et al. 2022, arXiv:2202.04077).

Non-physical parameters (:math:`E^2(z)\\le0` or non-finite on :math:`0\\le z\\le10^5`,
:math:`H_0\\le0`, :math:`\\Omega_m\\le0`, :math:`\\omega_b\\le0`) and any non-finite block χ²
give :math:`\\chi^2=+\\infty`, never NaN; at non-physical points the gradient is 0.

Entry points
------------
* :func:`build_likelihood` / :func:`build_chi2`: the joint χ² of a dataset list as a pure
  function of a parameter vector (``jax.jit``, ``jax.grad``, ``jax.vmap``).
* :func:`likelihood_cmb`, :func:`likelihood_bao`, :func:`likelihood_bao_ani`,
  :func:`likelihood_sn`: the API reference's ``f(params, data) -> (chi2, predictions)``.
* :data:`LIKELIHOOD_FUNCTIONS`: dataset name or type (or ``(model, name)``) -> function or
  :class:`Block` subclass; :func:`register_block` gives a new dataset kind its block.
* :class:`Block`: the public base class of every block (subclass it for new kinds of data:
  see :mod:`pbufjax.likelihood.blocks`).

Modules: :mod:`~pbufjax.likelihood.gaussian` (Cholesky factors, quadratic forms),
:mod:`~pbufjax.likelihood.blocks` (Block, Context and the built-in blocks),
:mod:`~pbufjax.likelihood.joint` (:class:`Likelihood`), :mod:`~pbufjax.likelihood.functions`
(the API functions and the dispatch table), :mod:`~pbufjax.likelihood.build`
(:func:`build_likelihood`, :func:`build_chi2`).

Example:
    >>> import jax, jax.numpy as jnp
    >>> from pbufjax.likelihood import build_likelihood
    >>> lik = build_likelihood("lcdm", ["cmb", "bao", "sn"], ["H0", "Om0", "Obh2"])  # doctest: +SKIP
    >>> theta = jnp.array([67.4, 0.315, 0.02237])                                   # doctest: +SKIP
    >>> jax.jit(jax.value_and_grad(lik.chi2))(theta)                                 # doctest: +SKIP
"""

from .blocks import BLOCK_TYPES, BAOBlock, Block, CMBBlock, Context, FunctionBlock, SNBlock, register_block
from .build import NUISANCE_PARAMETERS, build_chi2, build_likelihood
from .functions import (
    LIKELIHOOD_FUNCTIONS,
    get_likelihood_function,
    likelihood_bao,
    likelihood_bao_ani,
    likelihood_cmb,
    likelihood_sn,
)
from .joint import Likelihood
from .tabulated import BAOTableBlock  # registers the block of kind "bao_tabulated"
from .priors import PriorBlock  # registers the block of the 'prior' dataset type

__all__ = [
    "BLOCK_TYPES",
    "LIKELIHOOD_FUNCTIONS",
    "NUISANCE_PARAMETERS",
    "BAOBlock",
    "BAOTableBlock",
    "Block",
    "CMBBlock",
    "Context",
    "FunctionBlock",
    "Likelihood",
    "PriorBlock",
    "SNBlock",
    "build_chi2",
    "build_likelihood",
    "get_likelihood_function",
    "likelihood_bao",
    "likelihood_bao_ani",
    "likelihood_cmb",
    "likelihood_sn",
    "register_block",
]
