"""The joint likelihood: the sum of its blocks' χ² as a pure function of a parameter vector.

Points that are not valid (:func:`pbufjax.cosmology.validity.physical_mask`: a parameter
outside its valid range, :math:`\\omega_b \\ge \\Omega_m h^2`, :math:`E^2(z)\\le0` or
non-finite on :math:`0\\le z\\le10^5`, an expansion during recombination outside the
validated domain) and any non-finite block χ² give :math:`\\chi^2=+\\infty`, never NaN. At
points that are not valid everything is evaluated at the start point instead, so the
gradient is finite (zero) and optimizers and samplers step back rather than stop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..cosmology.models import with_densities
from ..cosmology.validity import ZP1_GRID, physical_mask
from .blocks import Context, layout

#: Redshift grid (as 1+z) on which E^2 > 0 is required for a physical point.
PHYSICAL_CHECK_ZP1 = ZP1_GRID


class Likelihood:
    """Joint χ² of several datasets as a pure function of a parameter vector.

    Built by :func:`build_likelihood`. All static configuration (model, datasets, free
    parameters, Cholesky factors) is fixed at build time; only arrays flow through
    ``jax.jit``/``jax.grad``/``jax.vmap``. The methods ``chi2``, ``chi2_blocks``,
    ``chi2_data`` and ``predictions`` are already wrapped in ``jax.jit`` (each compiles on
    its first call), so direct calls are fast and they compose with further transformations.
    Their plain traceable forms, for programs the fit layer compiles itself, are
    :meth:`chi2_traced`, :meth:`evaluate_traced` and :meth:`residuals_data`.

    Attributes:
        model: model name.
        blocks: the :class:`~pbufjax.likelihood.Block` of each dataset, in order.
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
        self.blocks = tuple(blocks)
        self._layout = layout(self.blocks)
        self._fuse = any(b.needs_derived for b in self.blocks)
        self.datasets = tuple(b.name for b in self.blocks)
        self.free_params = tuple(free_params)
        self.base_params = dict(base_params)
        self.covariance_scaling = float(covariance_scaling)
        self.n_data = {b.name: int(b.n) for b in self.blocks}
        self.n_total = int(sum(self.n_data.values()))
        self.observations = {b.name: jnp.asarray(b.observations) for b in self.blocks}
        self.cholesky = {b.name: b.chol for b in self.blocks}
        self.precision = {b.name: b.precision for b in self.blocks}
        self.dataset_types = {b.name: b.dataset_type for b in self.blocks}
        self._static = {k: v for k, v in self.base_params.items() if isinstance(v, str)}
        self._numeric = {k: float(v) for k, v in self.base_params.items() if not isinstance(v, str)}
        self._theta0 = np.array([self._numeric[k] for k in self.free_params], dtype=np.float64)
        self._jit_eval = None
        self._jit_vg = None
        # compiled entry points: fast when called directly, and they compose with jit/grad/vmap
        self.chi2 = jax.jit(self.chi2_traced)
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
        return physical_mask(q, self._static.get("model_class", self.model))

    def is_valid(self, theta) -> jnp.ndarray:
        """True where ``theta`` is a valid point (:func:`pbufjax.cosmology.validity.physical_mask`),
        i.e. where :meth:`chi2` is not +inf because of the parameters; traceable."""
        return self._physical(self.params(theta))

    def _context(self, theta):
        """``(ok, q, ctx)``: physical-validity flag, the parameter dict (at the start point
        where ``theta`` is not physical, so the graph stays finite) and its shared context."""
        theta = self._theta(theta)
        ok = self._physical(self.params(theta))
        safe = jnp.where(ok, theta, jnp.asarray(self._theta0))
        q = with_densities(self.params(safe))
        return ok, q, Context(q, self._layout, fuse=self._fuse)

    def _observations(self, observations: Mapping[str, Any] | None) -> dict:
        """Replacement data vectors, checked against the datasets (names not given keep the real data)."""
        observations = dict(observations or {})
        unknown = [k for k in observations if k not in self.n_data]
        if unknown:
            raise KeyError(f"unknown dataset(s) {unknown} in observations; this likelihood has {list(self.datasets)}")
        return observations

    def _obs(self, b, observations: Mapping[str, Any]):
        return jnp.asarray(observations[b.name] if b.name in observations else self.observations[b.name], jnp.float64)

    def evaluate_traced(self, theta, observations: Mapping[str, Any] | None = None, with_derived: bool = False):
        """Per-block χ² and predictions, traceable and not jit-wrapped (for the fit layer's own programs).

        Args:
            theta: parameter vector ordered as :attr:`free_params`.
            observations: dataset name -> replacement data vector (names not given keep the real data).
            with_derived: also return the recombination-era derived quantities of the same
                evaluation (shared with the blocks, not recomputed).

        Returns:
            ``(chi2s, predictions)`` or ``(chi2s, predictions, derived)``, each keyed by dataset name.
        """
        observations = self._observations(observations)
        ok, q, ctx = self._context(theta)
        chi2s, preds = {}, {}
        for b in self.blocks:
            c, pr = b.chi2(q, ctx, self._obs(b, observations))
            chi2s[b.name] = jnp.where(ok, c, jnp.inf)
            preds[b.name] = pr
        if with_derived:
            return chi2s, preds, ctx.derived
        return chi2s, preds

    # -- χ² -----------------------------------------------------------------

    def chi2_traced(self, theta) -> jnp.ndarray:
        """Joint χ² at ``theta`` (1-D array ordered as :attr:`free_params`): the plain traceable
        function behind :attr:`chi2`, without its ``jax.jit`` (use it inside your own jit/grad)."""
        chi2s, _ = self.evaluate_traced(theta)
        return sum(chi2s.values(), jnp.asarray(0.0))

    def __call__(self, theta) -> jnp.ndarray:
        return self.chi2(theta)

    def _chi2_blocks(self, theta) -> dict:
        """Dataset name -> χ² of that block at ``theta`` (traceable)."""
        chi2s, _ = self.evaluate_traced(theta)
        return chi2s

    def _chi2_data(self, theta, observations: Mapping[str, Any]) -> jnp.ndarray:
        """Joint χ² with the data vectors replaced (e.g. mock data).

        Args:
            theta: parameter vector.
            observations: dataset name -> data vector (names not given keep the real data).
                Both ``theta`` and the vectors may be traced, so
                ``jax.vmap(lik.chi2_data)(thetas, {"desi_dr2": mocks})`` fits many mocks.
        """
        chi2s, _ = self.evaluate_traced(theta, observations)
        return sum(chi2s.values(), jnp.asarray(0.0))

    def fingerprint(self) -> str | None:
        """SHA-256 of everything the compiled χ² closes over besides code: each block's
        :meth:`~pbufjax.likelihood.Block.fingerprint_parts` (type, name, data vector, Cholesky
        factor, redshifts, static settings) and the fixed parameter values. None when a
        block cannot be fingerprinted (a user χ² function: its code is unknown)."""
        from ..runtime.stored_programs import array_digest

        blocks = [b.fingerprint_parts() for b in self.blocks]
        if any(p is None for p in blocks):
            return None
        parts = [repr(sorted(self._static.items())), repr(sorted(self._numeric.items())), repr(self.free_params)]
        return array_digest(*parts, *(array_digest(*p) for p in blocks))

    @property
    def has_residuals(self) -> bool:
        """Whether every block has a residual form (:meth:`residuals_data`); user χ² functions do not."""
        return not self.missing_residuals

    @property
    def missing_residuals(self) -> tuple[str, ...]:
        """Datasets whose block has no residual form (their names, for error messages)."""
        return tuple(b.name for b in self.blocks if not b.has_residuals)

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
        w = jnp.concatenate([b.whitened(q, ctx, self._obs(b, observations)) for b in self.blocks])
        return w, ok & jnp.all(jnp.isfinite(w))

    def _predictions(self, theta) -> dict:
        """Dataset name -> predictions dict (traceable)."""
        _, preds = self.evaluate_traced(theta)
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
            self._jit_eval = jax.jit(lambda t: self.evaluate_traced(t))
        theta = np.asarray(theta, np.float64)
        if theta.shape != (len(self.free_params),):
            self._theta(theta)  # raises the shape error
        chi2s, preds = jax.device_get(self._jit_eval(theta))
        return self.report_host(chi2s, preds)

    def report_host(self, chi2s: Mapping[str, Any], preds: Mapping[str, Any]) -> dict:
        """:meth:`evaluate`'s dict from the compiled evaluation's (host) outputs."""
        out = {}
        for b in self.blocks:
            pred = {k: np.asarray(v) if np.ndim(v) else float(v) for k, v in preds[b.name].items()}
            pred = b.report(pred)
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


__all__ = ["PHYSICAL_CHECK_ZP1", "Likelihood"]
