"""Likelihood blocks: one dataset's Gaussian χ² each, and the public :class:`Block` base class.

A block holds one dataset's static data (numpy arrays, captured when the likelihood is
built) and evaluates, as pure traceable jnp code, its model vector :math:`m(\\theta)` and
:math:`\\chi^2 = (d-m)^T (sC)^{-1} (d-m)` (see :mod:`pbufjax.likelihood.gaussian`).

Built-in blocks (registered by dataset kind in :data:`BLOCK_TYPES`):

* :class:`CMBBlock` — distance priors (Chen, Huang & Wang 2019, arXiv:1808.05724):
  :math:`m = (R, \\ell_A, \\omega_b[, n_s])`, :math:`R = \\sqrt{\\Omega_m H_0^2} D_M(z_*)/c`,
  :math:`\\ell_A = \\pi D_M(z_*)/r_s(z_*)`.
* :class:`BAOBlock` — one generic kernel for every :data:`~pbufjax.data.BAO_QUANTITIES`
  (DESI, arXiv:2503.14738; BOSS, arXiv:1607.03155), each a monomial
  :math:`k(z, r_{d,fid})\\,D_M^a D_H^b r_d^c` with :math:`D_V = [z D_M^2 D_H]^{1/3}`, :math:`D_H = c/H`;
  with the nuisance parameter ``hrd`` free or set, :math:`r_d = h r_d / h` (calibration-free BAO).
* :class:`SNBlock` — :math:`\\mu_{th} = 5\\log_{10}[(1+z_{hel}) D_M(z_{cmb})/{\\rm Mpc}] + 25` with the
  offset marginalized analytically (Conley et al. 2011, arXiv:1104.1443, appendix C):
  :math:`\\chi^2 = A - B^2/E`, :math:`A = r^TC^{-1}r`, :math:`B = \\mathbf 1^TC^{-1}r`,
  :math:`E = \\mathbf 1^TC^{-1}\\mathbf 1` (:math:`=\\min_M\\chi^2(M)`); with ``M_B`` explicit, the
  plain :math:`r^TC^{-1}r`, :math:`r = m_B - M_B - \\mu` (Brout et al. 2022, arXiv:2202.04077).
* :class:`FunctionBlock` — a user function ``f(params, data) -> (chi2, predictions)``
  (χ² only: no residual form).

Writing a block for a new kind of data: subclass :class:`Block`, set ``dataset_type``, ask
for distances with :meth:`Block.z_dm` / :meth:`Block.z_h`, return the model vector from
:meth:`Block.predict`, and register it with :func:`register_block` (or put the class in
``LIKELIHOOD_FUNCTIONS``). It then has the χ², the whitened residuals (Gauss-Newton and
batch fits), the evaluation report and the fingerprint of the built-in blocks.

Example:
    >>> import numpy as np
    >>> from pbufjax.likelihood import Block, register_block
    >>> class DMBlock(Block):                      # D_M(z) measurements [Mpc]
    ...     dataset_type = "dm_points"
    ...     def __init__(self, data, scale=1.0):
    ...         super().__init__(data, scale)
    ...         self.z = np.asarray(data["redshifts"], np.float64)
    ...     def z_dm(self):
    ...         return self.z
    ...     def predict(self, p, ctx):
    ...         return ctx.dm(self), {}
    >>> register_block("dm_points", DMBlock)       # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .. import constants
from ..cosmology import background as _bg
from ..cosmology import cmb as _cmb
from ..cosmology import models as _models
from ..data.kinds import BAO_QUANTITIES, CMB_OBSERVABLES, PRIOR_QUANTITIES
from .gaussian import factor_covariance, finite_or_inf, matrix_product, quadratic_forms


class Layout(NamedTuple):
    """All blocks' redshift requests concatenated, and each block's slices into them."""

    z_dm: np.ndarray
    z_h: np.ndarray
    slices: dict  # id(block) -> (slice into z_dm, slice into z_h)


def layout(blocks: Sequence[Block]) -> Layout:
    """Concatenate the blocks' redshift requests (one distance call per evaluation for all)."""
    z_dm, z_h, slices = [], [], {}
    n_dm = n_h = 0
    for b in blocks:
        zd, zh = np.asarray(b.z_dm(), np.float64), np.asarray(b.z_h(), np.float64)
        slices[id(b)] = (slice(n_dm, n_dm + zd.size), slice(n_h, n_h + zh.size))
        n_dm += zd.size
        n_h += zh.size
        z_dm.append(zd)
        z_h.append(zh)
    return Layout(np.concatenate(z_dm or [np.zeros(0)]), np.concatenate(z_h or [np.zeros(0)]), slices)


class Context:
    """Quantities of one parameter dict shared by the blocks, computed once per evaluation.

    :math:`D_M(z)` and :math:`H(z)` at every block's redshifts take one call each; the
    recombination-era quantities (``derived``: ``R``, ``l_A``, ``z_star``, ``r_drag``, ...)
    are computed on first access, fused with :math:`D_M` when both are needed. Nothing
    is cached across calls.

    Attributes:
        p: the parameter dict (numeric entries may be traced).
    """

    def __init__(self, p: Mapping[str, Any], lay: Layout, fuse: bool = False):
        self.p = p
        self._lay = lay
        z_dm = lay.z_dm
        self._fuse = fuse and 0 < z_dm.size <= _bg.STATIC_MAX and bool(np.all(z_dm >= 0.0))
        self._derived = self._dm = self._h = None

    @property
    def derived(self) -> dict:
        """Recombination-era derived quantities of :func:`pbufjax.cosmology.cmb.derived`."""
        if self._derived is None:
            if self._fuse:
                self._derived, self._dm = _cmb.derived_and_distances(self.p, self._lay.z_dm)
            else:
                self._derived = _cmb.derived(self.p)
        return self._derived

    def dm(self, block: Block):
        """:math:`D_M` [Mpc] at ``block.z_dm()``."""
        if self._dm is None:
            if self._fuse:
                _ = self.derived  # fills self._dm too
            else:
                self._dm = _bg.comoving_transverse_distance(self._lay.z_dm, self.p)
        return self._dm[self._lay.slices[id(block)][0]]

    def hubble(self, block: Block):
        """:math:`H` [km/s/Mpc] at ``block.z_h()``."""
        if self._h is None:
            self._h = _bg.hubble(np.asarray(self._lay.z_h, np.float64), self.p)  # numpy: fixed factors fold
        return self._h[self._lay.slices[id(block)][1]]


class Block:
    """One dataset's Gaussian χ²: the public base class of every likelihood block.

    Subclasses set :attr:`dataset_type`, override :meth:`predict` (and :meth:`z_dm` /
    :meth:`z_h` to request distances), and may override :meth:`chi2` / :meth:`whitened`
    together (e.g. an analytically marginalized offset) keeping :math:`|w|^2 = \\chi^2`.

    Attributes:
        name: canonical dataset name. data: the dataset dict.
        observations: data vector (numpy). n: its length.
        chol, precision, whitener: :math:`L`, :math:`(sC)^{-1}`, :math:`L^{-1}` of the scaled covariance.
    """

    #: dataset kind this block evaluates
    dataset_type: str = "custom"
    #: whether :meth:`chi2` reads ``ctx.derived`` (recombination quantities)
    needs_derived: bool = False
    #: whether :meth:`whitened` gives residuals with :math:`|w|^2 = \chi^2`
    has_residuals: bool = True
    #: attributes whose values enter :meth:`fingerprint_parts` (static settings of the block)
    fingerprint_attributes: tuple[str, ...] = ()

    def __init__(self, data: Mapping[str, Any], scale: float = 1.0):
        self.name = data.get("name", "<unnamed>")
        self.data = data
        self.observations = np.asarray(data["observations"], dtype=np.float64)
        self.n = self.observations.size
        self.chol, self.precision, self.whitener = factor_covariance(data["covariance"], scale)
        self._forms = quadratic_forms(self.precision)
        self._whiten = matrix_product(self.whitener)  # L^-1 r, elementwise when diagonal

    @classmethod
    def options(cls, data: Mapping[str, Any], explicit: frozenset) -> dict:
        """Constructor keywords given the nuisance parameters that are free or set (``explicit``)."""
        return {}

    def z_dm(self) -> np.ndarray:
        """Redshifts at which the block needs :math:`D_M` (read with ``ctx.dm(self)``)."""
        return np.zeros(0)

    def z_h(self) -> np.ndarray:
        """Redshifts at which the block needs :math:`H` (read with ``ctx.hubble(self)``)."""
        return np.zeros(0)

    def predict(self, p, ctx: Context) -> tuple[jnp.ndarray, dict]:
        """``(model vector, extra predictions)`` at parameters ``p`` (traceable jnp)."""
        raise NotImplementedError(f"{type(self).__name__} must implement predict(p, ctx) -> (model, predictions)")

    def chi2(self, p, ctx: Context, obs) -> tuple[jnp.ndarray, dict]:
        """``(χ², predictions)`` for data vector ``obs``; predictions get ``values`` (the model)."""
        model, pred = self.predict(p, ctx)
        chi2, _ = self._forms(obs - model)
        pred["values"] = model
        return finite_or_inf(chi2), pred

    def whitened(self, p, ctx: Context, obs) -> jnp.ndarray:
        """Whitened residuals :math:`w = L^{-1}(d - m)` with :math:`|w|^2` = this block's χ² (Gauss-Newton fits)."""
        model, _ = self.predict(p, ctx)
        return self._whiten(obs - model)

    def report(self, pred: dict) -> dict:
        """Host-side predictions of the evaluation report (override to add static entries)."""
        return pred

    def fingerprint_parts(self) -> list | None:
        """Everything static the compiled χ² closes over (None: not fingerprintable)."""
        parts = [type(self).__name__, self.name, self.observations, self.chol, self.z_dm(), self.z_h()]
        for k in self.fingerprint_attributes:
            v = getattr(self, k, None)
            parts.append(repr(v) if isinstance(v, (tuple, bool)) else v)
        return parts

    @classmethod
    def likelihood(cls, params: Mapping[str, Any], data: Mapping[str, Any], **kw):
        """``(chi2, predictions)`` of one dataset dict at a parameter dict (no joint likelihood)."""
        block = cls(data, **cls.options(data, frozenset(params)), **kw)
        ctx = Context(params, layout([block]), fuse=block.needs_derived)
        return block.chi2(params, ctx, jnp.asarray(block.observations))


def parameter_value(p, name: str):
    """A quantity of the parameter dict alone (no distance): ``H0``, ``omega_b`` (:math:`\\Omega_b h^2`),
    ``omega_bc`` (:math:`(\\Omega_m - \\Omega_\\nu)h^2`, baryons and CDM, massive neutrinos excluded as
    in DESI's compressed CMB likelihood), ``omega_m`` (:math:`\\Omega_m h^2`), ``Neff`` or ``n_s``.

    Raises:
        KeyError: another name (the message lists the valid ones).
    """
    if name in _PARAMETER_KEYS:
        key = _PARAMETER_KEYS[name]
        return jnp.asarray(p[key] if key in p else _models.BASE_DEFAULTS[key], jnp.float64)
    if name in ("omega_bc", "omega_m"):
        d = _models.densities(p)
        return (d.omega_cb if name == "omega_bc" else d.omega_m) * d.h**2
    raise KeyError(f"unknown parameter quantity {name!r}; valid: {', '.join(PRIOR_QUANTITIES)}")


_PARAMETER_KEYS = {"H0": "H0", "omega_b": "Obh2", "Neff": "Neff", "n_s": "ns"}


class CMBBlock(Block):
    """CMB distance priors :math:`(R, \\ell_A, \\omega_b[, n_s])` (arXiv:1808.05724) and DESI's compressed
    CMB likelihood :math:`(\\theta_*, \\omega_b, \\omega_{bc})` (arXiv:2503.14738, Appendix A):
    :math:`\\theta_* = r_s(z_*)/D_M(z_*)` (radians), :math:`\\omega_{bc} = (\\Omega_b+\\Omega_c)h^2`
    without the massive neutrinos (see :func:`parameter_value`)."""

    dataset_type = "cmb"
    needs_derived = True
    fingerprint_attributes = ("observables",)

    def __init__(self, data, scale=1.0):
        super().__init__(data, scale)
        self.observables = tuple(data["observables"])
        bad = [o for o in self.observables if o not in CMB_OBSERVABLES]
        if bad or len(self.observables) != self.n:
            raise ValueError(f"dataset {self.name!r}: observables {list(self.observables)} must name each of its "
                             f"{self.n} values from {', '.join(CMB_OBSERVABLES)} (unknown: {bad})")

    def predict(self, p, ctx):
        d = ctx.derived
        vals = {o: d[o] if o in ("R", "l_A", "theta_star") else parameter_value(p, o) for o in self.observables}
        model = jnp.stack([vals[o] for o in self.observables])
        pred = dict(vals)
        pred.update(z_star=d["z_star"], r_star=d["r_star"], DM_star=d["DM_star"])
        return model, pred


_BAO_CODES = {name: i for i, name in enumerate(BAO_QUANTITIES)}

#: BAO quantity -> (power of D_M, power of D_H, power of r_d, static prefactor k(z, r_d,fid)):
#: the model value is k * D_M^a * D_H^b * r_d^c, with D_V = (z D_M^2 D_H)^(1/3) and H = c/D_H.
BAO_MONOMIALS = {
    "DV_over_rs": (2.0 / 3.0, 1.0 / 3.0, -1.0, lambda z, f: np.cbrt(z)),
    "DM_over_rs": (1.0, 0.0, -1.0, lambda z, f: 1.0),
    "DH_over_rs": (0.0, 1.0, -1.0, lambda z, f: 1.0),
    "DA_over_rs": (1.0, 0.0, -1.0, lambda z, f: 1.0 / (1.0 + z)),
    "rs_over_DV": (-2.0 / 3.0, -1.0 / 3.0, 1.0, lambda z, f: 1.0 / np.cbrt(z)),
    "DM_rdfid_over_rs": (1.0, 0.0, -1.0, lambda z, f: f),
    "H_rs_over_rdfid": (0.0, -1.0, 1.0, lambda z, f: constants.C_KM_S / f),
}
if set(BAO_MONOMIALS) != set(_BAO_CODES):  # pragma: no cover - keeps the two tables in step
    raise RuntimeError("BAO quantity tables out of step: " + str(set(BAO_MONOMIALS) ^ set(_BAO_CODES)))


class BAOBlock(Block):
    """Isotropic and anisotropic BAO: every quantity one monomial in :math:`D_M, D_H, r_d`.

    The sound horizon is :math:`r_d = r_s(z_d)` of the parameters (``ctx.derived["r_drag"]``),
    or, when the nuisance parameter :attr:`rd_parameter` (``hrd``, :math:`h\\,r_d` in Mpc) is free
    or set (``free_rd``), :math:`r_d = (h r_d)/h` with :math:`h = H_0/100`: no recombination-era
    quantity is computed then (:attr:`needs_derived` is False), as in DESI's BAO-only fits
    (arXiv:2503.14738).
    """

    dataset_type = "bao"
    needs_rd = True
    needs_derived = True
    #: the nuisance parameter :math:`h r_d` [Mpc] that replaces the computed sound horizon
    rd_parameter = "hrd"
    fingerprint_attributes = ("redshifts", "quantities", "rd_fid", "free_rd")

    def __init__(self, data, scale=1.0, free_rd: bool = False):
        super().__init__(data, scale)
        self.free_rd = bool(free_rd)
        self.needs_derived = not self.free_rd
        self.redshifts = np.asarray(data["redshifts"], dtype=np.float64)
        self.quantities = tuple(data["quantities"])
        bad = sorted({q for q in self.quantities if q not in _BAO_CODES})
        if bad:
            raise ValueError(f"dataset {self.name!r}: unknown BAO quantity name(s) {bad}; valid: {', '.join(_BAO_CODES)}")
        self.codes = np.array([_BAO_CODES[q] for q in self.quantities])
        rdfid = data.get("rd_fid")
        self.rd_fid = np.ones(self.n) if rdfid is None else np.where(np.isfinite(rdfid), rdfid, 1.0)
        # k * D_M^a * D_H^b * r_d^c as one exp of a sum of logs: a single fused op, short reverse pass
        terms = [BAO_MONOMIALS[q] for q in self.quantities]
        self._exponents = np.array([t[:3] for t in terms], dtype=np.float64).T.copy()  # (3, n)
        self._log_k = np.log([t[3](z, f) for t, z, f in zip(terms, self.redshifts, self.rd_fid)])

    @classmethod
    def options(cls, data, explicit):
        return {"free_rd": cls.rd_parameter in explicit}

    def z_dm(self):
        return self.redshifts

    def z_h(self):
        return self.redshifts

    def sound_horizon(self, p, ctx):
        """:math:`r_d` [Mpc]: ``hrd * 100 / H0`` when ``free_rd``, else :math:`r_s(z_d)` of the parameters."""
        if self.free_rd:
            return 100.0 * jnp.asarray(p[self.rd_parameter], jnp.float64) / jnp.asarray(p["H0"], jnp.float64)
        return ctx.derived["r_drag"]

    def predict(self, p, ctx):
        dm, hz, rd = ctx.dm(self), ctx.hubble(self), self.sound_horizon(p, ctx)
        a, b, c = (jnp.asarray(e) for e in self._exponents)
        log_dh = np.log(constants.C_KM_S) - jnp.log(hz)
        model = jnp.exp(jnp.asarray(self._log_k) + a * jnp.log(dm) + b * log_dh + c * jnp.log(rd))
        return model, {"r_d": rd}

    def report(self, pred):
        pred["z"] = self.redshifts.copy()
        pred["quantities"] = list(self.quantities)
        return pred


class SNBlock(Block):
    """SN Ia distance moduli, offset marginalized analytically or explicit (``M_B``)."""

    dataset_type = "sn"
    #: the nuisance parameter that makes the offset explicit (SH0ES-calibrated data only)
    offset_parameter = "M_B"
    fingerprint_attributes = ("z_cmb", "z_hel", "is_calibrator", "ceph_dist", "explicit_offset")

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
        self._forms = quadratic_forms(self.precision, self.p_ones)

    @classmethod
    def options(cls, data, explicit):
        return {"explicit_offset": cls.offset_parameter in explicit and "is_calibrator" in data}

    def z_dm(self):
        return self.z_cmb

    def mu_theory(self, p, ctx):
        """:math:`\\mu_{th} = 5\\log_{10}[(1+z_{hel})D_M(z_{cmb})/{\\rm Mpc}] + 25` (calibrators: ``CEPH_DIST``)."""
        mu = 5.0 * jnp.log10((1.0 + jnp.asarray(self.z_hel)) * ctx.dm(self)) + 25.0
        if self.is_calibrator is not None:
            mu = jnp.where(jnp.asarray(self.is_calibrator), jnp.asarray(self.ceph_dist), mu)
        return mu

    def predict(self, p, ctx):  # model vector without the offset
        return self.mu_theory(p, ctx), {}

    def chi2(self, p, ctx, obs):
        mu = self.mu_theory(p, ctx)
        r = obs - mu
        if self.explicit_offset:
            offset = jnp.asarray(p[self.offset_parameter], jnp.float64)
            chi2, _ = self._forms(r - offset)
        else:
            # A - B^2/E is invariant under r -> r - c; removing the mean keeps A and B^2/E small
            # (no cancellation); the shift carries no gradient since chi2 does not depend on it.
            c = jax.lax.stop_gradient(jnp.mean(r))
            a, b = self._forms(r - c)
            chi2 = a - b * b / self.E
            offset = c + b / self.E
        return finite_or_inf(chi2), {"mu_theory": mu, "offset": offset, "values": mu + offset}

    def whitened(self, p, ctx, obs):
        """Whitened residuals; with the offset marginalized, :math:`w = Q L^{-1} r` where
        :math:`Q = I - \\hat v\\hat v^T`, :math:`\\hat v \\propto L^{-1}\\mathbf 1`, so that
        :math:`|w|^2 = r^T(C^{-1} - C^{-1}\\mathbf 1\\mathbf 1^TC^{-1}/E)r = A - B^2/E`."""
        r = obs - self.mu_theory(p, ctx)
        if self.explicit_offset:
            return self._whiten(r - jnp.asarray(p[self.offset_parameter], jnp.float64))
        w = self._whiten(r - jax.lax.stop_gradient(jnp.mean(r)))
        vhat = jnp.asarray(self._offset_dir)
        return w - vhat * jnp.dot(vhat, w)


class FunctionBlock(Block):
    """A dataset whose χ² comes from a user function ``f(params, data) -> (chi2, predictions)``.

    Only the χ² is known: no residual form (so no Gauss-Newton or batch fit with it) and no
    fingerprint (its code is unknown). Subclass :class:`Block` instead to get both.
    """

    has_residuals = False

    def __init__(self, data, fn: Callable, scale=1.0):
        super().__init__(data, scale)
        self.fn = fn
        self.dataset_type = (data.get("metadata") or {}).get("dataset_type", "custom")
        self._data = dict(data)
        self._data["covariance"] = np.asarray(data["covariance"], dtype=np.float64) * scale

    def whitened(self, p, ctx, obs):
        raise NotImplementedError(
            f"dataset {self.name!r} has a user χ² function ({getattr(self.fn, '__name__', self.fn)!r}): no residual "
            "form, so Gauss-Newton and batch fits cannot use it; register a pbufjax.likelihood.Block subclass "
            "with predict() instead (register_block or LIKELIHOOD_FUNCTIONS[...] = MyBlock)")

    def fingerprint_parts(self):
        return None

    def chi2(self, p, ctx, obs):
        d = dict(self._data)
        d["observations"] = obs
        chi2, pred = self.fn(p, d)
        if not isinstance(pred, dict):
            pred = {"values": pred}
        return finite_or_inf(jnp.asarray(chi2, jnp.float64)), dict(pred)


#: dataset kind -> Block subclass used for it (extend with :func:`register_block`).
BLOCK_TYPES: dict[str, type[Block]] = {"cmb": CMBBlock, "bao": BAOBlock, "bao_ani": BAOBlock, "sn": SNBlock}


def register_block(kind: str, cls: type[Block], overwrite: bool = False) -> type[Block]:
    """Use ``cls`` for every dataset of kind ``kind`` (its spec's ``kind`` / ``dataset_type``).

    Raises:
        TypeError: ``cls`` is not a Block subclass. ValueError: ``kind`` is taken (without ``overwrite``).
    """
    if not (isinstance(cls, type) and issubclass(cls, Block)):
        raise TypeError(f"register_block needs a Block subclass, got {cls!r}")
    if kind in BLOCK_TYPES and BLOCK_TYPES[kind] is not cls and not overwrite:
        raise ValueError(f"dataset kind {kind!r} already uses {BLOCK_TYPES[kind].__name__} (pass overwrite=True)")
    BLOCK_TYPES[kind] = cls
    return cls


def make_block(data: Mapping[str, Any], scale: float = 1.0, explicit: frozenset = frozenset()) -> Block:
    """The registered block for a dataset dict's ``metadata["dataset_type"]``.

    Raises:
        ValueError: the dataset has no ``dataset_type`` or one without a block (lists the valid ones).
    """
    dtype = (data.get("metadata") or {}).get("dataset_type")
    if dtype not in BLOCK_TYPES:
        raise ValueError(
            f"dataset {data.get('name', '<unnamed>')!r} has dataset_type {dtype!r}, which has no likelihood block; "
            f"valid types: {', '.join(BLOCK_TYPES)} (register a Block subclass with register_block(kind, cls), "
            "or a function in LIKELIHOOD_FUNCTIONS)")
    cls = BLOCK_TYPES[dtype]
    return cls(data, scale, **cls.options(data, explicit))


__all__ = [
    "BAO_MONOMIALS",
    "BLOCK_TYPES",
    "BAOBlock",
    "Block",
    "CMBBlock",
    "Context",
    "FunctionBlock",
    "Layout",
    "SNBlock",
    "layout",
    "make_block",
    "register_block",
]
