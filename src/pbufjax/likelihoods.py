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
  one of :data:`pbufjax.datasets.BAO_QUANTITIES`: :math:`D_V/r_d`, :math:`D_M/r_d`,
  :math:`D_H/r_d`, :math:`D_A/r_d`, :math:`r_d/D_V`, :math:`D_M r_{d,fid}/r_d` [Mpc],
  :math:`H r_d/r_{d,fid}` [km/s/Mpc], with :math:`D_V = [z D_M^2 D_H]^{1/3}`,
  :math:`D_H = c/H(z)` and :math:`r_d = r_s(z_d)`.
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
* :data:`LIKELIHOOD_FUNCTIONS`: dataset name or type (or ``(model, name)``) -> function.

Example:
    >>> import jax, jax.numpy as jnp
    >>> from pbufjax.likelihoods import build_likelihood
    >>> lik = build_likelihood("lcdm", ["cmb", "bao", "sn"], ["H0", "Om0", "Obh2"])  # doctest: +SKIP
    >>> theta = jnp.array([67.4, 0.315, 0.02237])                                   # doctest: +SKIP
    >>> jax.jit(jax.value_and_grad(lik.chi2))(theta)                                 # doctest: +SKIP
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from . import constants
from . import datasets as _datasets
from .cosmology import background as _bg
from .cosmology import cmb as _cmb
from .cosmology import models as _models
from .parameter import DERIVED_PARAMS, STATIC_PARAMS, build_params, get_defaults

#: Nuisance parameters: name -> (datasets that use it, description).
NUISANCE_PARAMETERS: dict[str, tuple[tuple[str, ...], str]] = {
    "M_B": (("pantheonplus_shoes",), "SN Ia absolute magnitude (Pantheon+ with SH0ES calibrators)"),
}

#: Redshift grid (as 1+z) on which E^2 > 0 is required for a physical point.
_PHYS_ZP1 = np.concatenate([np.linspace(1.0, 10.0, 46), np.geomspace(10.0, 1.0e5, 50)[1:]])

#: Codes of the BAO quantities in the generic kernel.
_BAO_CODES = {name: i for i, name in enumerate(_datasets.BAO_QUANTITIES)}

#: BAO quantity -> (power of D_M, power of D_H, power of r_d, static prefactor k(z, r_d,fid)):
#: the model value is k * D_M^a * D_H^b * r_d^c, with D_V = (z D_M^2 D_H)^(1/3) and H = c/D_H.
_BAO_MONOMIALS = {
    "DV_over_rs": (2.0 / 3.0, 1.0 / 3.0, -1.0, lambda z, f: np.cbrt(z)),
    "DM_over_rs": (1.0, 0.0, -1.0, lambda z, f: 1.0),
    "DH_over_rs": (0.0, 1.0, -1.0, lambda z, f: 1.0),
    "DA_over_rs": (1.0, 0.0, -1.0, lambda z, f: 1.0 / (1.0 + z)),
    "rs_over_DV": (-2.0 / 3.0, -1.0 / 3.0, 1.0, lambda z, f: 1.0 / np.cbrt(z)),
    "DM_rdfid_over_rs": (1.0, 0.0, -1.0, lambda z, f: f),
    "H_rs_over_rdfid": (0.0, -1.0, 1.0, lambda z, f: constants.C_KM_S / f),
}
if set(_BAO_MONOMIALS) != set(_BAO_CODES):  # pragma: no cover - keeps the two tables in step
    raise RuntimeError("BAO quantity tables out of step: " + str(set(_BAO_MONOMIALS) ^ set(_BAO_CODES)))


# ---------------------------------------------------------------------------
# Per-evaluation context: quantities shared by several blocks are computed once
# ---------------------------------------------------------------------------


class _Context:
    """Quantities of one parameter dict shared by several blocks, computed once per evaluation.

    All blocks' redshifts are concatenated at build time, so :math:`D_M(z)` and
    :math:`H(z)` take one call each (one set of quadrature panel sums) per evaluation.
    Nothing is cached across calls.
    """

    def __init__(self, p: Mapping[str, Any], z_dm: np.ndarray, z_h: np.ndarray, fuse: bool = False):
        self.p = p
        self._z_dm = z_dm
        self._z_h = z_h
        # derived quantities and D_M(z) from one integrand evaluation when both are needed
        self._fuse = fuse and 0 < z_dm.size <= _bg.STATIC_MAX and bool(np.all(z_dm >= 0.0))
        self._derived = None
        self._dm = None
        self._h = None

    @property
    def derived(self) -> dict:
        if self._derived is None:
            if self._fuse:
                self._derived, self._dm = _cmb.derived_and_distances(self.p, self._z_dm)
            else:
                self._derived = _cmb.derived(self.p)
        return self._derived

    def dm(self, sl: slice):
        if self._dm is None:
            if self._fuse:
                _ = self.derived  # fills self._dm too
                return self._dm[sl]
            self._dm = _bg.comoving_transverse_distance(self._z_dm, self.p)
        return self._dm[sl]

    def hubble(self, sl: slice):
        if self._h is None:
            self._h = _bg.hubble(jnp.asarray(self._z_h), self.p)
        return self._h[sl]


def _layout(blocks) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate the blocks' redshift requests; give each block its slices."""
    z_dm, z_h = [], []
    n_dm = n_h = 0
    for b in blocks:
        zd, zh = b.z_dm(), b.z_h()
        b._dm_slice = slice(n_dm, n_dm + zd.size)
        b._h_slice = slice(n_h, n_h + zh.size)
        n_dm += zd.size
        n_h += zh.size
        z_dm.append(zd)
        z_h.append(zh)
    return np.concatenate(z_dm or [np.zeros(0)]), np.concatenate(z_h or [np.zeros(0)])


def _factor(cov: np.ndarray, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower Cholesky factor :math:`L` of ``scale*cov`` (validated), the precision matrix and
    :math:`L^{-1}` (whitening: :math:`\\chi^2 = |L^{-1}r|^2`), host-side, once."""
    chol = _datasets.check_covariance(np.asarray(cov, dtype=np.float64) * scale)
    linv = np.tril(np.linalg.solve(chol, np.eye(chol.shape[0])))
    prec = linv.T @ linv
    return chol, 0.5 * (prec + prec.T), linv


def _quadratic_forms(prec: np.ndarray, vec: np.ndarray | None = None) -> Callable:
    """``f(r) -> (r^T P r, v^T r)`` with one product :math:`Pr` for the value and the derivative.

    The JVP rule :math:`d(r^TPr) = 2(Pr)^T dr` reuses :math:`Pr` (P symmetric), so
    reverse mode needs no second product with P; forward mode and higher derivatives
    work too (``jax.hessian``).
    """
    p = jnp.asarray(prec)
    v = jnp.zeros(prec.shape[0]) if vec is None else jnp.asarray(vec)

    @jax.custom_jvp
    def forms(r):
        return jnp.dot(r, p @ r), jnp.dot(v, r)

    @forms.defjvp
    def _forms_jvp(primals, tangents):
        (r,), (dr,) = primals, tangents
        y = p @ r
        return (jnp.dot(r, y), jnp.dot(v, r)), (2.0 * jnp.dot(y, dr), jnp.dot(v, dr))

    return forms


def _finite_or_inf(x):
    return jnp.where(jnp.isfinite(x), x, jnp.inf)


# ---------------------------------------------------------------------------
# Blocks: static description + pure jnp evaluation
# ---------------------------------------------------------------------------


class _Block:
    """One dataset's Gaussian χ². Static data are numpy arrays captured at build time."""

    name: str
    dataset_type: str
    needs_rd = False
    #: whether :meth:`chi2` reads ``ctx.derived`` (recombination quantities)
    needs_derived = False

    def __init__(self, data: Mapping[str, Any], scale: float = 1.0):
        self.name = data.get("name", "<unnamed>")
        self.data = data
        self.observations = np.asarray(data["observations"], dtype=np.float64)
        self.n = self.observations.size
        self.chol, self.precision, self.whitener = _factor(data["covariance"], scale)
        self._forms = _quadratic_forms(self.precision)

    def z_dm(self) -> np.ndarray:
        """Redshifts at which the block needs :math:`D_M`."""
        return np.zeros(0)

    def z_h(self) -> np.ndarray:
        """Redshifts at which the block needs :math:`H`."""
        return np.zeros(0)

    # model vector + extra predictions (jnp, traceable)
    def predict(self, p, ctx: _Context) -> tuple[jnp.ndarray, dict]:  # pragma: no cover - abstract
        raise NotImplementedError

    def chi2(self, p, ctx: _Context, obs) -> tuple[jnp.ndarray, dict]:
        model, pred = self.predict(p, ctx)
        chi2, _ = self._forms(obs - model)
        pred["values"] = model
        return _finite_or_inf(chi2), pred

    def whitened(self, p, ctx: _Context, obs) -> jnp.ndarray:
        """Whitened residuals :math:`w` with :math:`|w|^2` = this block's χ² (Gauss-Newton fits)."""
        model, _ = self.predict(p, ctx)
        return jnp.dot(jnp.asarray(self.whitener), obs - model)


class _CMBBlock(_Block):
    dataset_type = "cmb"
    needs_derived = True

    def __init__(self, data, scale=1.0):
        super().__init__(data, scale)
        self.observables = tuple(data["observables"])

    def predict(self, p, ctx):
        d = ctx.derived
        vals = {
            "R": d["R"],
            "l_A": d["l_A"],
            "omega_b": jnp.asarray(p["Obh2"], jnp.float64),
            "n_s": jnp.asarray(p["ns"], jnp.float64),
        }
        model = jnp.stack([vals[o] for o in self.observables])
        pred = {o: vals[o] for o in self.observables}
        pred.update(z_star=d["z_star"], r_star=d["r_star"], DM_star=d["DM_star"])
        return model, pred


class _BAOBlock(_Block):
    dataset_type = "bao"
    needs_rd = True
    needs_derived = True

    def __init__(self, data, scale=1.0):
        super().__init__(data, scale)
        self.redshifts = np.asarray(data["redshifts"], dtype=np.float64)
        self.quantities = tuple(data["quantities"])
        bad = sorted({q for q in self.quantities if q not in _BAO_CODES})
        if bad:
            raise ValueError(f"dataset {self.name!r}: unknown BAO quantity name(s) {bad}; valid: {', '.join(_BAO_CODES)}")
        self.codes = np.array([_BAO_CODES[q] for q in self.quantities])
        rdfid = data.get("rd_fid")
        self.rd_fid = np.ones(self.n) if rdfid is None else np.where(np.isfinite(rdfid), rdfid, 1.0)
        # every quantity is a monomial  k(z, r_d,fid) * D_M^a * D_H^b * r_d^c  (static k, a, b, c),
        # evaluated as one exp of a sum of logs: a single fused op with a short reverse pass
        terms = [_BAO_MONOMIALS[q] for q in self.quantities]
        self._exponents = np.array([t[:3] for t in terms], dtype=np.float64).T.copy()  # (3, n)
        self._log_k = np.log([t[3](z, f) for t, z, f in zip(terms, self.redshifts, self.rd_fid)])

    def z_dm(self):
        return self.redshifts

    def z_h(self):
        return self.redshifts

    def predict(self, p, ctx):
        dm = ctx.dm(self._dm_slice)
        hz = ctx.hubble(self._h_slice)
        rd = ctx.derived["r_drag"]
        a, b, c = (jnp.asarray(e) for e in self._exponents)
        log_dh = np.log(constants.C_KM_S) - jnp.log(hz)
        model = jnp.exp(jnp.asarray(self._log_k) + a * jnp.log(dm) + b * log_dh + c * jnp.log(rd))
        return model, {"r_d": rd}


class _SNBlock(_Block):
    dataset_type = "sn"

    def __init__(self, data, scale=1.0, explicit_offset: bool = False):
        super().__init__(data, scale)
        self.z_cmb = np.asarray(data["z_cmb"], dtype=np.float64)
        self.z_hel = np.asarray(data["z_hel"], dtype=np.float64)
        self.is_calibrator = np.asarray(data["is_calibrator"], dtype=bool) if "is_calibrator" in data else None
        self.ceph_dist = np.asarray(data["ceph_dist"], dtype=np.float64) if self.is_calibrator is not None else None
        if self.is_calibrator is not None and not self.is_calibrator.any():
            self.is_calibrator = None
        self.explicit_offset = explicit_offset
        self.p_ones = self.precision @ np.ones(self.n)  # C^-1 1
        self.E = float(np.sum(self.p_ones))  # E = 1^T C^-1 1
        v = self.whitener @ np.ones(self.n)  # L^-1 1: the offset direction after whitening
        self._offset_dir = v / np.linalg.norm(v)
        self._forms = _quadratic_forms(self.precision, self.p_ones)

    def z_dm(self):
        return self.z_cmb

    def mu_theory(self, p, ctx):
        """:math:`\\mu_{th} = 5\\log_{10}[(1+z_{hel})D_M(z_{cmb})/{\\rm Mpc}] + 25` (calibrators: ``CEPH_DIST``)."""
        mu = 5.0 * jnp.log10((1.0 + jnp.asarray(self.z_hel)) * ctx.dm(self._dm_slice)) + 25.0
        if self.is_calibrator is not None:
            mu = jnp.where(jnp.asarray(self.is_calibrator), jnp.asarray(self.ceph_dist), mu)
        return mu

    def predict(self, p, ctx):  # model vector without the offset
        return self.mu_theory(p, ctx), {}

    def chi2(self, p, ctx, obs):
        mu = self.mu_theory(p, ctx)
        r = obs - mu
        if self.explicit_offset:
            offset = jnp.asarray(p["M_B"], jnp.float64)
            chi2, _ = self._forms(r - offset)
        else:
            # A - B^2/E is invariant under r -> r - c; removing the mean keeps A and B^2/E small
            # (no cancellation); the shift carries no gradient since chi2 does not depend on it.
            c = jax.lax.stop_gradient(jnp.mean(r))
            a, b = self._forms(r - c)
            chi2 = a - b * b / self.E
            offset = c + b / self.E
        pred = {"mu_theory": mu, "offset": offset, "values": mu + offset}
        return _finite_or_inf(chi2), pred

    def whitened(self, p, ctx, obs):
        """Whitened residuals; with the offset marginalized, :math:`w = Q L^{-1} r` where
        :math:`Q = I - \\hat v\\hat v^T`, :math:`\\hat v \\propto L^{-1}\\mathbf 1`, so that
        :math:`|w|^2 = r^T(C^{-1} - C^{-1}\\mathbf 1\\mathbf 1^TC^{-1}/E)r = A - B^2/E`."""
        r = obs - self.mu_theory(p, ctx)
        if self.explicit_offset:
            return jnp.dot(jnp.asarray(self.whitener), r - jnp.asarray(p["M_B"], jnp.float64))
        w = jnp.dot(jnp.asarray(self.whitener), r - jax.lax.stop_gradient(jnp.mean(r)))
        vhat = jnp.asarray(self._offset_dir)
        return w - vhat * jnp.dot(vhat, w)


class _CustomBlock(_Block):
    """A dataset whose χ² comes from a user function ``f(params, data) -> (chi2, predictions)``."""

    def __init__(self, data, fn: Callable, scale=1.0):
        super().__init__(data, scale)
        self.fn = fn
        self.dataset_type = (data.get("metadata") or {}).get("dataset_type", "custom")
        self._data = dict(data)
        self._data["covariance"] = np.asarray(data["covariance"], dtype=np.float64) * scale

    def whitened(self, p, ctx, obs):
        raise NotImplementedError(f"dataset {self.name!r} has a user χ² function: no residual form")

    def chi2(self, p, ctx, obs):
        d = dict(self._data)
        d["observations"] = obs
        chi2, pred = self.fn(p, d)
        if not isinstance(pred, dict):
            pred = {"values": pred}
        return _finite_or_inf(jnp.asarray(chi2, jnp.float64)), dict(pred)


_BLOCK_TYPES = {"cmb": _CMBBlock, "bao": _BAOBlock, "bao_ani": _BAOBlock, "sn": _SNBlock}


def _make_block(data, scale=1.0, **kw) -> _Block:
    dtype = (data.get("metadata") or {}).get("dataset_type")
    if dtype not in _BLOCK_TYPES:
        raise ValueError(
            f"dataset {data.get('name', '<unnamed>')!r} has dataset_type {dtype!r}; valid types: {', '.join(_BLOCK_TYPES)}"
        )
    return _BLOCK_TYPES[dtype](data, scale, **kw)


# ---------------------------------------------------------------------------
# API-reference entry points: f(params, data) -> (chi2, predictions)
# ---------------------------------------------------------------------------


def _run_block(kind: Sequence[str], params: Mapping[str, Any], data: Mapping[str, Any], fname: str):
    if not isinstance(data, Mapping):
        raise TypeError(f"{fname}: data must be a dataset dict, got {type(data).__name__}")
    dtype = (data.get("metadata") or {}).get("dataset_type")
    if dtype not in kind:
        raise ValueError(f"{fname}: dataset {data.get('name')!r} has dataset_type {dtype!r}, expected one of {list(kind)}")
    kw = {"explicit_offset": "M_B" in params and "is_calibrator" in data} if dtype == "sn" else {}
    block = _make_block(data, **kw)
    ctx = _Context(params, *_layout([block]), fuse=block.needs_derived)
    chi2, pred = block.chi2(params, ctx, jnp.asarray(block.observations))
    return chi2, pred


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
        >>> from pbufjax.datasets import load_dataset
        >>> chi2, pred = likelihood_cmb(build_params("lcdm"), load_dataset("cmb"))
    """
    return _run_block(("cmb",), params, data, "likelihood_cmb")


def likelihood_bao(params: Mapping[str, Any], data: Mapping[str, Any]):
    """χ² of BAO measurements with the generic BAO kernel (any :data:`~pbufjax.datasets.BAO_QUANTITIES`).

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


#: Dataset name, dataset type or ``(model, dataset)`` -> ``f(params, data) -> (chi2, predictions)``.
#: Register a new likelihood with ``LIKELIHOOD_FUNCTIONS["new_dataset"] = f`` (or with a
#: ``(model, dataset)`` key for one model only); :func:`build_likelihood` looks up
#: ``(model, name)``, then ``name``, then the dataset's type.
LIKELIHOOD_FUNCTIONS: dict[Any, Callable] = {
    "cmb": likelihood_cmb,
    "bao": likelihood_bao,
    "bao_ani": likelihood_bao_ani,
    "sn": likelihood_sn,
}
_BUILTIN_FUNCTIONS = {likelihood_cmb, likelihood_bao, likelihood_bao_ani, likelihood_sn}


def _lookup(model: str, name: str, dtype: str | None) -> Callable | None:
    for key in ((model, name), name, (model, dtype), dtype):
        if key in LIKELIHOOD_FUNCTIONS:
            return LIKELIHOOD_FUNCTIONS[key]
    return None


def get_likelihood_function(model: str, dataset: str) -> Callable:
    """The likelihood function used for ``dataset`` under ``model`` (see :data:`LIKELIHOOD_FUNCTIONS`).

    Looks up ``(model, name)``, ``name``, ``(model, type)`` and ``type``, in that order.

    Raises:
        KeyError: unknown dataset, or no function for its name or type.
    """
    name = _datasets.resolve_name(dataset)
    dtype = _datasets._INFO.get(name, {}).get("dataset_type")
    fn = _lookup(model, name, dtype)
    if fn is None:
        raise KeyError(f"no likelihood function registered for dataset {name!r} (type {dtype!r})")
    return fn


# ---------------------------------------------------------------------------
# Joint likelihood
# ---------------------------------------------------------------------------


def _model_parameters(model: str) -> list[str]:
    d = get_defaults(model)
    return [k for k, v in d.items() if k not in STATIC_PARAMS and k not in DERIVED_PARAMS and isinstance(v, numbers.Real)]


class Likelihood:
    """Joint χ² of several datasets as a pure function of a parameter vector.

    Built by :func:`build_likelihood`. All static configuration (model, datasets, free
    parameters, Cholesky factors) is fixed at build time; only arrays flow through
    ``jax.jit``/``jax.grad``/``jax.vmap``. The methods ``chi2``, ``chi2_blocks``,
    ``chi2_data`` and ``predictions`` are already wrapped in ``jax.jit`` (each compiles on
    its first call), so direct calls are fast and they compose with further transformations.

    Attributes:
        model: model name.
        datasets: canonical dataset names (tuple).
        free_params: names of the entries of ``theta`` (tuple).
        base_params: parameter dict at which the non-free parameters are fixed
            (model defaults, then ``overrides``; derived keys removed).
        n_data: dataset name -> number of data points; ``n_total`` is their sum.
        observations: dataset name -> data vector (jnp array).
        cholesky: dataset name -> lower Cholesky factor of the (scaled) covariance (numpy).
        precision: dataset name -> :math:`(sC)^{-1}` computed from the Cholesky factor (numpy).
        covariance_scaling: the factor :math:`s` in :math:`C \\to sC`.
    """

    def __init__(self, model, blocks, free_params, base_params, covariance_scaling):
        self.model = model
        self._blocks = tuple(blocks)
        self._z_dm, self._z_h = _layout(self._blocks)
        self._fuse = any(b.needs_derived for b in self._blocks)
        self.datasets = tuple(b.name for b in self._blocks)
        self.free_params = tuple(free_params)
        self.base_params = dict(base_params)
        self.covariance_scaling = float(covariance_scaling)
        self.n_data = {b.name: int(b.n) for b in self._blocks}
        self.n_total = int(sum(self.n_data.values()))
        self.observations = {b.name: jnp.asarray(b.observations) for b in self._blocks}
        self.cholesky = {b.name: b.chol for b in self._blocks}
        self.precision = {b.name: b.precision for b in self._blocks}
        self.dataset_types = {b.name: b.dataset_type for b in self._blocks}
        self._static = {k: v for k, v in self.base_params.items() if isinstance(v, str)}
        self._numeric = {k: float(v) for k, v in self.base_params.items() if not isinstance(v, str)}
        self._theta0 = np.array([self._numeric[k] for k in self.free_params], dtype=np.float64)
        self._e2 = _models.get_model(self._static.get("model_class", model)).e2
        self._jit_eval = None
        self._jit_vg = None
        # compiled entry points: fast when called directly, and they compose with jit/grad/vmap
        self.chi2 = jax.jit(self._chi2)
        self.chi2_blocks = jax.jit(self._chi2_blocks)
        self.chi2_data = jax.jit(self._chi2_data)
        self.predictions = jax.jit(self._predictions)

    # -- parameters ---------------------------------------------------------

    @property
    def theta0(self) -> np.ndarray:
        """The free parameters' values in :attr:`base_params` (a natural starting point)."""
        return self._theta0.copy()

    def _theta(self, theta):
        theta = jnp.asarray(theta, dtype=jnp.float64)
        if theta.shape != (len(self.free_params),):
            raise ValueError(
                f"theta has shape {theta.shape}; expected ({len(self.free_params)},) ordered as {list(self.free_params)}"
            )
        return theta

    def params(self, theta) -> dict:
        """Full parameter dict: :attr:`base_params` with ``theta`` in the free entries (traceable)."""
        theta = self._theta(theta)
        q: dict[str, Any] = dict(self._numeric)
        for i, k in enumerate(self.free_params):
            q[k] = theta[i]
        q.update(self._static)
        return q

    def _physical(self, q) -> jnp.ndarray:
        zp1 = jnp.asarray(_PHYS_ZP1)
        e2 = self._e2(zp1, q)
        ok = jnp.all(jnp.isfinite(e2) & (e2 > 0.0))
        for k in ("H0", "Om0", "Obh2"):
            v = jnp.asarray(q[k], jnp.float64)
            ok = ok & jnp.isfinite(v) & (v > 0.0)
        return ok

    def _context(self, theta):
        """``(ok, q, ctx)``: physical-validity flag, the parameter dict (at the start point
        where ``theta`` is not physical, so the graph stays finite) and its shared context."""
        theta = self._theta(theta)
        ok = self._physical(self.params(theta))
        safe = jnp.where(ok, theta, jnp.asarray(self._theta0))
        q = self.params(safe)
        return ok, q, _Context(q, self._z_dm, self._z_h, fuse=self._fuse)

    def _observations(self, observations: Mapping[str, Any] | None) -> dict:
        """Replacement data vectors, checked against the datasets (names not given keep the real data)."""
        observations = dict(observations or {})
        unknown = [k for k in observations if k not in self.n_data]
        if unknown:
            raise KeyError(f"unknown dataset(s) {unknown} in observations; this likelihood has {list(self.datasets)}")
        return observations

    def _obs(self, b, observations: Mapping[str, Any]):
        return jnp.asarray(observations[b.name] if b.name in observations else self.observations[b.name], jnp.float64)

    def _evaluate(self, theta, observations, with_derived: bool = False):
        """Per-block χ² and predictions (and, with ``with_derived``, the recombination-era
        derived quantities of the same evaluation: shared with the blocks, not recomputed)."""
        ok, q, ctx = self._context(theta)
        chi2s, preds = {}, {}
        for b in self._blocks:
            c, pr = b.chi2(q, ctx, self._obs(b, observations))
            chi2s[b.name] = jnp.where(ok, c, jnp.inf)
            preds[b.name] = pr
        if with_derived:
            return chi2s, preds, ctx.derived
        return chi2s, preds

    # -- χ² -----------------------------------------------------------------

    def _chi2(self, theta) -> jnp.ndarray:
        """Joint χ² at ``theta`` (1-D array ordered as :attr:`free_params`); pure, jit/grad/vmap-able."""
        chi2s, _ = self._evaluate(theta, {})
        return sum(chi2s.values(), jnp.asarray(0.0))

    def __call__(self, theta) -> jnp.ndarray:
        return self.chi2(theta)

    def _chi2_blocks(self, theta) -> dict:
        """Dataset name -> χ² of that block at ``theta`` (traceable)."""
        chi2s, _ = self._evaluate(theta, {})
        return chi2s

    def _chi2_data(self, theta, observations: Mapping[str, Any]) -> jnp.ndarray:
        """Joint χ² with the data vectors replaced (e.g. mock data).

        Args:
            theta: parameter vector.
            observations: dataset name -> data vector (names not given keep the real data).
                Both ``theta`` and the vectors may be traced, so
                ``jax.vmap(lik.chi2_data)(thetas, {"desi_dr2": mocks})`` fits many mocks.
        """
        chi2s, _ = self._evaluate(theta, self._observations(observations))
        return sum(chi2s.values(), jnp.asarray(0.0))

    def fingerprint(self) -> str | None:
        """SHA-256 of everything the compiled χ² closes over besides code: each block's type,
        name, data vector, Cholesky factor, redshifts and static settings, and the fixed
        parameter values. None when a block is a user χ² function (its code is unknown)."""
        from .aot_cache import array_digest

        if not self.has_residuals:
            return None
        parts = [repr(sorted(self._static.items())), repr(sorted(self._numeric.items())), repr(self.free_params)]
        for b in self._blocks:
            attrs = [type(b).__name__, b.name, b.observations, b.chol, b.z_dm(), b.z_h()]
            for k in ("redshifts", "quantities", "rd_fid", "observables", "z_cmb", "z_hel", "is_calibrator",
                      "ceph_dist", "explicit_offset"):
                v = getattr(b, k, None)
                attrs.append(repr(v) if isinstance(v, (tuple, bool)) else v)
            parts.append(array_digest(*attrs))
        return array_digest(*parts)

    @property
    def has_residuals(self) -> bool:
        """Whether every block has a residual form (:meth:`residuals_data`); user χ² functions do not."""
        return not any(isinstance(b, _CustomBlock) for b in self._blocks)

    def residuals_data(self, theta, observations: Mapping[str, Any] | None = None):
        """Whitened residuals of every block, concatenated: ``(w, ok)`` with :math:`|w|^2` the joint χ².

        For Gauss-Newton fits (:func:`pbufjax.optimizer.fit_newton` with ``residuals``):
        :math:`\\chi^2 = |w|^2`, :math:`\\nabla\\chi^2 = 2J^Tw` and :math:`2J^TJ` approximates the
        Hessian, with :math:`J = \\partial w/\\partial\\theta` from one forward-mode pass. ``ok``
        is False at non-physical parameters (where :meth:`chi2` is +inf). Pure, traceable.

        Raises:
            NotImplementedError: a block is a user χ² function (see :attr:`has_residuals`).
        """
        observations = self._observations(observations)
        ok, q, ctx = self._context(theta)
        w = jnp.concatenate([b.whitened(q, ctx, self._obs(b, observations)) for b in self._blocks])
        return w, ok & jnp.all(jnp.isfinite(w))

    def _predictions(self, theta) -> dict:
        """Dataset name -> predictions dict (traceable)."""
        _, preds = self._evaluate(theta, {})
        return preds

    @property
    def value_and_grad(self) -> Callable:
        """``jax.jit(jax.value_and_grad(self.chi2))`` (compiled once per likelihood)."""
        if self._jit_vg is None:
            self._jit_vg = jax.jit(jax.value_and_grad(self.chi2))
        return self._jit_vg

    def evaluate(self, theta) -> dict:
        """Host-side report: dataset name -> ``{"chi2", "predictions", "residuals"}``.

        ``residuals`` = observations - model vector (for SN, including the fitted offset).
        """
        if self._jit_eval is None:
            self._jit_eval = jax.jit(lambda t: self._evaluate(t, {}))
        theta = np.asarray(theta, np.float64)
        if theta.shape != (len(self.free_params),):
            self._theta(theta)  # raises the shape error
        chi2s, preds = jax.device_get(self._jit_eval(theta))
        return self.report_host(chi2s, preds)

    def report_host(self, chi2s: Mapping[str, Any], preds: Mapping[str, Any]) -> dict:
        """:meth:`evaluate`'s dict from the compiled evaluation's (host) outputs."""
        out = {}
        for b in self._blocks:
            pred = {k: np.asarray(v) if np.ndim(v) else float(v) for k, v in preds[b.name].items()}
            if isinstance(b, _BAOBlock):
                pred["z"] = b.redshifts.copy()
                pred["quantities"] = list(b.quantities)
            values = np.asarray(pred.get("values", np.full(b.n, np.nan)))
            out[b.name] = {
                "chi2": float(chi2s[b.name]),
                "predictions": pred,
                "residuals": b.observations - values,
            }
        return out

    def __repr__(self) -> str:
        return (
            f"Likelihood(model={self.model!r}, datasets={list(self.datasets)}, free_params={list(self.free_params)}, "
            f"n_total={self.n_total}, covariance_scaling={self.covariance_scaling})"
        )


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
        datasets_list: dataset names/aliases (or loaded dataset dicts), e.g. ``["cmb", "bao", "sn"]``.
        free_params: parameters forming ``theta``, in order (list or ``"H0,Om0"``); any numeric
            parameter of the model, plus ``M_B`` with ``pantheonplus_shoes``.
        overrides: values replacing the model defaults for the fixed parameters (and the
            starting values of free ones); may include ``recomb_method`` and ``M_B``.
        covariance_scaling: :math:`s` in :math:`C \\to sC` for every block (> 0).
        data_dir: data directory searched first for release files.

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
    model_params = _model_parameters(model)  # raises ValueError for an unknown model
    items = _as_list(datasets_list, "datasets_list")
    if not items:
        raise ValueError(f"datasets_list is empty; valid datasets: {', '.join(_datasets.list_datasets())}")
    if isinstance(covariance_scaling, bool) or not isinstance(covariance_scaling, numbers.Real):
        raise TypeError(f"covariance_scaling must be a number, got {type(covariance_scaling).__name__}")
    if not (math.isfinite(covariance_scaling) and covariance_scaling > 0):
        raise ValueError(f"covariance_scaling must be finite and > 0, got {covariance_scaling}")

    loaded = []
    for item in items:
        if isinstance(item, Mapping):
            data = item
            name = data.get("name")
            if not isinstance(name, str):
                raise TypeError(f"a dataset dict in datasets_list needs a string 'name', got {name!r}")
        elif isinstance(item, str):
            name = _datasets.resolve_name(item)
            data = _datasets.load_dataset(name, data_dir)
        else:
            raise TypeError(f"datasets_list entries must be names or dataset dicts, got {type(item).__name__}")
        if name in [n for n, _ in loaded]:
            raise ValueError(f"dataset {name!r} listed twice in datasets_list (after resolving aliases)")
        loaded.append((name, data))

    names = [n for n, _ in loaded]
    nuisance = [k for k, (users, _) in NUISANCE_PARAMETERS.items() if any(n in users for n in names)]
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
        if k in NUISANCE_PARAMETERS:
            if k not in nuisance:
                raise ValueError(f"parameter {k!r} is only used with datasets {list(NUISANCE_PARAMETERS[k][0])}")
            v = overrides.pop(k)
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
                raise TypeError(f"parameter {k!r} must be a finite real number, got {v!r}")
            nuis_values[k] = float(v)
    base = build_params(model, overrides, derived=False)  # the likelihood computes its own derived quantities
    for k in DERIVED_PARAMS + ("optimization_metadata",):
        base.pop(k, None)
    explicit_mb = "M_B" in free or "M_B" in nuis_values
    if explicit_mb:
        # starting value: Riess et al. 2022 (arXiv:2112.04510) M_B = -19.253 unless overridden
        base["M_B"] = nuis_values.get("M_B", -19.253)

    blocks = []
    for name, data in loaded:
        dtype = (data.get("metadata") or {}).get("dataset_type")
        fn = _lookup(model, name, dtype)
        if fn is not None and fn not in _BUILTIN_FUNCTIONS:
            blocks.append(_CustomBlock(data, fn, covariance_scaling))
            continue
        kw = {}
        if dtype == "sn":
            kw["explicit_offset"] = explicit_mb and "is_calibrator" in data
        blocks.append(_make_block(data, covariance_scaling, **kw))
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


__all__ = [
    "LIKELIHOOD_FUNCTIONS",
    "NUISANCE_PARAMETERS",
    "Likelihood",
    "build_chi2",
    "build_likelihood",
    "get_likelihood_function",
    "likelihood_bao",
    "likelihood_bao_ani",
    "likelihood_cmb",
    "likelihood_sn",
]
