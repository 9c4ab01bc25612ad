r"""pbufjax's likelihoods inside Cobaya (``pip install "pbufjax[cobaya]"``).

:class:`PbufjaxLikelihood` is a :class:`cobaya.likelihood.Likelihood` configured by a
``model``, its ``datasets`` and ``fixed`` parameter values. Its input parameters are
pbufjax's own names (``H0``, ``Om0``, ``w0``, ``k_sat``, nuisance parameters such as
``M_B``): every parameter of the input's ``params`` block that the model can vary is
handed to it (Cobaya's ``get_can_support_params`` mechanism), so one input file samples or
minimizes pbufjax's likelihoods with Cobaya's own samplers (``mcmc``, ``minimize``,
``polychord``). The log-likelihood is

.. math:: \ln\mathcal{L}(\theta) = -\tfrac12\,\chi^2(\theta),

exactly the compiled joint χ² that :func:`pbufjax.engine.run_fit` reports and minimizes
(no Gaussian normalization constant), and :math:`-\infty` at non-physical points.
The derived quantities of :data:`pbufjax.sample.DERIVED_NAMES` (``h_rd``, ``Omh2``, ...)
are offered as Cobaya derived parameters.

Example (an input dict for :func:`cobaya.run`; :func:`cobaya_params` writes the
``params`` block with uniform priors over pbufjax's optimization bounds)::

    info = {
        "likelihood": {"pbufjax": {"external": PbufjaxLikelihood, "model": "lcdm",
                                   "datasets": ["desi_dr2"], "fixed": {"Obh2": 0.02237}}},
        "params": cobaya_params("lcdm", ["H0", "Om0"]),
        "sampler": {"minimize": {}},
    }

In a yaml file the class is named by its path, ``pbufjax.interop.cobaya.PbufjaxLikelihood``.

References:
    Torrado & Lewis, "Cobaya: code for Bayesian analysis of hierarchical physical models",
    JCAP 05 (2021) 057, arXiv:2005.05290.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

try:
    from cobaya.likelihood import Likelihood as _CobayaLikelihood
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError('pbufjax.interop.cobaya needs Cobaya: pip install "pbufjax[cobaya]"') from exc

from ..fit import canonical_datasets, get_problem, nuisance_for
from ..fit.names import nuisance_bounds, nuisance_default
from ..inference.sampling.posterior import DERIVED_NAMES, derived_quantities


def supported_params(model: str, datasets) -> list[str]:
    """pbufjax parameters that Cobaya may vary for ``model`` with ``datasets``: the model's
    optimizable parameters, then the datasets' nuisance parameters.

    Raises:
        ValueError: unknown model.
        KeyError: unknown dataset (the message lists the valid names).
    """
    from ..cosmology import parameters as P

    P.check_model_name(model)
    return list(P.optimizable_parameters(model)) + list(nuisance_for(canonical_datasets(datasets)))


def cobaya_params(model: str, free_params: Sequence[str] | str, datasets: Sequence[str] | str = (), *,
                  fixed: Mapping[str, Any] | None = None, proposal_fraction: float = 0.01) -> dict[str, dict]:
    """A Cobaya ``params`` block sampling ``free_params`` of ``model``.

    Each entry has a uniform ``prior`` over pbufjax's optimization bounds
    (:func:`pbufjax.cosmology.parameters.get_optimization_bounds`; a nuisance parameter's from its
    dataset spec), ``ref`` at the model default (or the value in ``fixed``, a start only
    here) and a ``proposal`` width of ``proposal_fraction`` times the prior width.

    Args:
        model: model name.
        free_params: pbufjax parameter names (list or ``"H0,Om0"``).
        datasets: the datasets, needed only for their nuisance parameters (``M_B``).
        fixed: starting values replacing the defaults.
        proposal_fraction: proposal width over prior width, in (0, 1].

    Returns:
        ``{name: {"prior": {"min", "max"}, "ref", "proposal", "latex"}}``.

    Raises:
        ValueError: unknown model, a parameter the model cannot vary (the message lists
            those it can), a bad ``proposal_fraction``.
        KeyError: unknown dataset.
    """
    from ..cosmology import parameters as P

    if isinstance(free_params, str):
        free_params = [s.strip() for s in free_params.split(",") if s.strip()]
    if not (isinstance(proposal_fraction, (int, float)) and 0 < proposal_fraction <= 1):
        raise ValueError(f"proposal_fraction must be in (0, 1], got {proposal_fraction!r}")
    names = canonical_datasets(datasets) if datasets else ()
    valid = supported_params(model, names) if names else list(P.optimizable_parameters(model))
    nuisance = set(nuisance_for(names)) if names else set()
    defaults = P.get_defaults(model)
    start = dict(fixed or {})
    out = {}
    for k in free_params:
        if k not in valid:
            raise ValueError(f"parameter {k!r} cannot be varied for model {model!r}; valid parameters: "
                             f"{', '.join(valid)}")
        lo, hi = nuisance_bounds(k, names) if k in nuisance else P.get_optimization_bounds(model, k)
        ref = start.get(k, nuisance_default(k, names) if k in nuisance else defaults[k])
        out[k] = {"prior": {"min": float(lo), "max": float(hi)}, "ref": float(ref),
                  "proposal": float(proposal_fraction * (hi - lo)), "latex": _latex(k)}
    return out


def _latex(name: str) -> str:
    """LaTeX label for Cobaya/getdist, from the package's one label table (without dollars)."""
    from ..cosmology import labels

    return str(labels.latex(name)).strip("$")


class PbufjaxLikelihood(_CobayaLikelihood):
    """pbufjax's compiled joint χ² as a Cobaya likelihood: :math:`\\ln\\mathcal{L} = -\\chi^2/2`.

    Options (keys of its block under ``likelihood`` in a Cobaya input):

    * ``model``: pbufjax model name (``lcdm``, ``wcdm``, ``w0wacdm``, ``pbuf``, ...).
    * ``datasets``: dataset names, aliases or combinations (``[desi_dr2, union3]``).
    * ``fixed``: values of parameters held fixed (``{Obh2: 0.02237}``); the others that
      Cobaya does not vary stay at the model defaults.
    * ``covariance_scaling``: :math:`s` in :math:`C \\to sC`; ``data_dir``: folder searched
      first for the release files.

    The sampled parameters are those of the input's ``params`` block that the model can
    vary (:func:`supported_params`), by pbufjax's names; derived parameters named in
    :data:`pbufjax.sample.DERIVED_NAMES` are computed on request.

    Raises:
        ValueError: unknown model; a parameter both sampled and ``fixed``; bad ``fixed``
            values (through :class:`pbufjax.fit.FitProblem`).
        KeyError: unknown dataset (the message names it and lists the valid ones).
        TypeError: ``fixed`` not a mapping.
    """

    model: str = "lcdm"
    datasets: Any = None
    fixed: dict | None = None
    covariance_scaling: float = 1.0
    data_dir: str | None = None

    def initialize(self):
        """Check the model and datasets (before Cobaya assigns the parameters)."""
        from ..data.spec import list_datasets

        if self.datasets is None or (not isinstance(self.datasets, str) and not list(self.datasets)):
            raise ValueError(f"{self.get_name()}: give 'datasets'; valid datasets: {', '.join(list_datasets())}")
        if self.fixed is not None and not isinstance(self.fixed, Mapping):
            raise TypeError(f"{self.get_name()}: 'fixed' must be a mapping name -> value, got "
                            f"{type(self.fixed).__name__}")
        self._datasets = canonical_datasets(self.datasets)
        self._supported = supported_params(self.model, self._datasets)
        self._problem = None

    def get_can_support_params(self) -> list[str]:
        """pbufjax parameters this likelihood takes from the ``params`` block."""
        return list(self._supported)

    def get_can_provide_params(self) -> list[str]:
        """Derived parameters it can compute (:data:`pbufjax.sample.DERIVED_NAMES`)."""
        return list(DERIVED_NAMES)

    def initialize_with_params(self):
        """Build (or reuse) the compiled χ² for the parameters Cobaya assigned."""
        import jax

        names = list(self.input_params)
        fixed = dict(self.fixed or {})
        both = sorted(set(names) & set(fixed))
        if both:
            raise ValueError(f"{self.get_name()}: parameter(s) {both} are both sampled (params block) and fixed")
        self._problem = prob = get_problem(self.model, list(self._datasets), names, fixed, self.covariance_scaling,
                                           data_dir=self.data_dir)
        self._names = list(prob.free_params)
        self._value = prob.compiled.value
        self._aux = prob.base_vector.copy()
        lik, idx = prob.likelihood, prob.free_index
        self._derived_fn = jax.jit(lambda th, aux: derived_quantities(lik, idx, th, aux))
        self._want = [p for p in (self.output_params or []) if p in DERIVED_NAMES]

    @property
    def problem(self):
        """The :class:`pbufjax.fit.FitProblem` behind the likelihood (after Cobaya set it up)."""
        return self._problem

    def chi2(self, **params_values) -> float:
        """Joint χ² at the given sampled values (``inf`` at non-physical points)."""
        theta = np.array([float(params_values[k]) for k in self._names], np.float64)
        c = float(self._value(theta, self._aux))
        return c if math.isfinite(c) else math.inf

    def logp(self, **params_values) -> float:
        """:math:`-\\chi^2/2` at the sampled values; ``-inf`` at non-physical points."""
        derived = params_values.pop("_derived", None)
        c = self.chi2(**params_values)
        if derived is not None and self._want:
            if math.isfinite(c):
                theta = np.array([float(params_values[k]) for k in self._names], np.float64)
                d = self._derived_fn(theta, self._aux)
                derived.update({k: float(d[k]) for k in self._want})
            else:
                derived.update({k: math.nan for k in self._want})
        return -0.5 * c if math.isfinite(c) else -math.inf


__all__ = ["PbufjaxLikelihood", "cobaya_params", "supported_params"]
