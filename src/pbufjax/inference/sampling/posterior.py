r"""The posterior of a configured fit as one pure log-density of an unconstrained vector.

The posterior of the free parameters :math:`\theta` is

.. math::

    p(\theta\mid d) \propto e^{-\chi^2(\theta)/2}\,\pi(\theta),

with :math:`\chi^2` the joint χ² of :func:`pbufjax.likelihoods.build_likelihood` (the
same compiled function the optimizers minimize) and priors :math:`\pi` uniform over the
optimization bounds (uniform in :math:`\log_{10}` for log-space parameters such as PBUF's
``Rmax``) unless a Gaussian prior is given (then truncated to the bounds).

One log-density of an unconstrained vector
------------------------------------------
The sampler sees :math:`z \in \mathbb R^k`, mapped into the box by the one sigmoid map of
:mod:`pbufjax.fit.transforms` (the bounded optimizers' map),
:math:`t = t_{lo} + (t_{hi}-t_{lo})\,\sigma(z)` (:math:`t` the parameter or its
:math:`\log_{10}`). Including the Jacobian of the map,

.. math::

    \log p(z) = -\tfrac12\chi^2(\theta(z))
      + \sum_i \big[\log\sigma(z_i) + \log\sigma(-z_i)\big]
      + \sum_{i\in G}\Big[-\frac{(\theta_i-\mu_i)^2}{2 s_i^2} + [i\ \text{log-space}]\log\theta_i\Big]

up to a constant (:math:`G` the Gaussian-prior parameters; the last term is
:math:`\log|d\theta/dt|`). :meth:`Posterior.log_density` is this function — pure,
``jit``/``grad``/``vmap``-able — and any sampler can sit on it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from ...fit.transforms import free_log_jacobian, from_free, to_unit, unit_to_free
from ...fit import get_problem
from ...runtime.compile_cache import enable_from_environment

#: Prior types.
PRIOR_TYPES = ("uniform", "gaussian")
#: Derived quantities reported for every sample.
DERIVED_NAMES = ("Omh2", "r_s_drag", "h_rd", "100theta_star", "z_recomb", "z_drag")
#: Units / meaning of the derived quantities.
DERIVED_DESCRIPTIONS = {
    "Omh2": "Ω_m h²",
    "r_s_drag": "sound horizon at the drag epoch r_d [Mpc]",
    "h_rd": "h·r_d [Mpc]",
    "100theta_star": "100 θ* = 100 r_s(z*)/D_M(z*)",
    "z_recomb": "z* (photon decoupling)",
    "z_drag": "z_d (baryon drag)",
}


class PosteriorArgs(NamedTuple):
    """Arrays the log-density takes besides :math:`z` (a pytree; new values never recompile)."""

    aux: Any  #: full parameter vector (fixed values; free slots overwritten)
    lower: Any  #: physical lower bounds of the free parameters
    upper: Any  #: physical upper bounds
    log_mask: Any  #: True for log-space parameters
    gauss: Any  #: True where the prior is Gaussian
    mu: Any  #: Gaussian prior means
    sigma: Any  #: Gaussian prior widths


def z_to_theta(z, a: PosteriorArgs):
    """Unconstrained :math:`z` → physical parameters (:func:`pbufjax.fit.transforms.from_free`; JAX)."""
    import jax.numpy as jnp

    return from_free(z, a.lower, a.upper, a.log_mask, jnp)


def log_density(chi2, idx, z, a: PosteriorArgs):
    """:math:`\\log p(z)` of the module docstring for the χ² ``chi2(full_vector)`` whose free
    slots are ``idx``; pure JAX, ``-inf`` where it is not finite."""
    import jax.numpy as jnp

    theta = z_to_theta(z, a)
    c = chi2(a.aux.at[idx].set(theta))
    safe = jnp.where(a.gauss, theta, a.mu)
    g = -0.5 * ((safe - a.mu) / a.sigma) ** 2 + jnp.where(a.log_mask, jnp.log(jnp.where(a.log_mask, safe, 1.0)), 0.0)
    lp = -0.5 * c + free_log_jacobian(z) + jnp.sum(jnp.where(a.gauss, g, 0.0))
    return jnp.where(jnp.isfinite(lp), lp, -jnp.inf)


def _prior_spec(k: str, spec) -> tuple[str, Any, Any]:
    """``(kind, first value, second value)`` of one prior as the user wrote it."""
    if isinstance(spec, Mapping):
        kind = spec.get("type", spec.get("dist"))
        kind = kind if kind is not None else ("gaussian" if "mean" in spec else "uniform")
        if kind == "gaussian":
            return kind, spec.get("mean"), spec.get("sigma", spec.get("std"))
        if kind == "uniform":
            return kind, spec.get("lower"), spec.get("upper")
        return kind, None, None
    if isinstance(spec, (list, tuple)) and len(spec) == 3 and isinstance(spec[0], str):
        return spec[0], spec[1], spec[2]
    raise TypeError(f"prior of {k!r} must be {{'type': 'gaussian', 'mean': m, 'sigma': s}}, "
                    f"{{'type': 'uniform', 'lower': a, 'upper': b}} or ('gaussian', m, s); got {spec!r}")


def parse_priors(priors, names, lower, upper) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gaussian flags, means and widths of the priors; uniform priors overwrite ``lower``/``upper`` in place.

    Raises:
        TypeError: ``priors`` not a dict, or a prior of another form.
        ValueError: a prior of a parameter that is not free, an unknown type, a non-finite
            value, ``sigma <= 0`` or ``lower >= upper``.
    """
    gauss = np.zeros(len(names), bool)
    mu = np.zeros(len(names))
    sig = np.ones(len(names))
    if priors is None:
        return gauss, mu, sig
    if not isinstance(priors, Mapping):
        raise TypeError(f"priors must be a dict name -> prior, got {type(priors).__name__}")
    for k, spec in priors.items():
        if k not in names:
            raise ValueError(f"prior given for {k!r}, which is not a free parameter; free parameters: "
                             f"{', '.join(names)}")
        i = names.index(k)
        kind, m, s = _prior_spec(k, spec)
        if kind not in PRIOR_TYPES:
            raise ValueError(f"prior type of {k!r} is {kind!r}; valid types: {', '.join(PRIOR_TYPES)}")
        for label, v in (("first value", m), ("second value", s)):
            if isinstance(v, bool) or not isinstance(v, (numbers.Real, np.generic)) or not math.isfinite(float(v)):
                raise ValueError(f"{kind} prior of {k!r}: {label} must be a finite number, got {v!r}")
        m, s = float(m), float(s)
        if kind == "gaussian":
            if s <= 0:
                raise ValueError(f"gaussian prior of {k!r}: sigma must be > 0, got {s}")
            gauss[i], mu[i], sig[i] = True, m, s
        else:
            if not m < s:
                raise ValueError(f"uniform prior of {k!r}: lower {m} must be < upper {s}")
            lower[i], upper[i] = m, s
    return gauss, mu, sig


class Posterior:
    """Log-posterior of one configured fit as a function of an unconstrained vector.

    Args:
        model: model name.
        datasets_list: dataset names or aliases.
        free_params: sampled parameters.
        overrides: values of the fixed parameters (and reference values of free ones).
        priors: ``{name: prior}`` with ``{"type": "gaussian", "mean": m, "sigma": s}``
            (or ``("gaussian", m, s)``), or ``{"type": "uniform", "lower": a, "upper":
            b}`` replacing the bounds. Default: uniform over the optimization bounds.
        bounds: ``{name: (lower, upper)}`` replacing the optimization bounds.
        covariance_scaling: :math:`s` in :math:`C \\to sC`.
        data_dir: folder of the data files (default: the package's search path).

    Attributes:
        problem: the :class:`~pbufjax.optimizer.FitProblem` (compiled χ²).
        names: free parameter names (order of :math:`z` and :math:`\\theta`).
        args: :class:`PosteriorArgs` passed to the pure log-density.
        chi2: the χ² of a full parameter vector (the likelihood's compiled function).
        free_index: positions of the free parameters in the full vector.

    Raises:
        ValueError, KeyError, TypeError: bad model, dataset, parameter, prior or bounds.

    Example:
        >>> post = Posterior("lcdm", ["bao"], ["H0", "Om0"], overrides={"Obh2": 0.02237})   # doctest: +SKIP
        >>> z = post.to_unconstrained([68.5, 0.30])                                          # doctest: +SKIP
        >>> jax.grad(post.log_density)(z)                                                    # doctest: +SKIP
    """

    def __init__(self, model: str, datasets_list, free_params: Sequence[str] | str, *, overrides=None,
                 priors: Mapping | None = None, bounds: Mapping | None = None, covariance_scaling: float = 1.0,
                 data_dir=None):
        import jax.numpy as jnp

        enable_from_environment()  # a second process reuses the compiled programs
        prob = get_problem(model, datasets_list, free_params, overrides, covariance_scaling, bounds,
                           data_dir=data_dir)
        if prob.n_free == 0:
            raise ValueError("no free parameters to sample: give at least one in free_params")
        self.problem = prob
        self.model = model
        self.names = list(prob.free_params)
        lower, upper = prob.lower.copy(), prob.upper.copy()
        gauss, mu, sig = parse_priors(priors, self.names, lower, upper)
        for k, lo, hi, m in zip(self.names, lower, upper, prob.log_mask):
            if m and lo <= 0:
                raise ValueError(f"prior range of {k!r} must be > 0 (it is sampled in log space), got ({lo}, {hi})")
        self.lower, self.upper = lower, upper
        self.log_mask = np.asarray(prob.log_mask, bool)
        self.priors = {k: ({"type": "gaussian", "mean": float(m), "sigma": float(s)} if g else
                           {"type": "uniform", "lower": float(lo), "upper": float(hi)})
                       for k, g, m, s, lo, hi in zip(self.names, gauss, mu, sig, lower, upper)}
        self.args = PosteriorArgs(jnp.asarray(prob.base_vector), jnp.asarray(lower), jnp.asarray(upper),
                                  jnp.asarray(self.log_mask), jnp.asarray(gauss), jnp.asarray(mu), jnp.asarray(sig))
        self.chi2 = prob.likelihood.chi2
        self.free_index = np.asarray(prob.free_index)

    @property
    def n(self) -> int:
        """Number of sampled parameters."""
        return len(self.names)

    def log_density(self, z, args: PosteriorArgs | None = None):
        """:math:`\\log p(z)` (module docstring); pure JAX, ``-inf`` where χ² is not finite."""
        return log_density(self.chi2, self.free_index, z, self.args if args is None else args)

    def to_physical(self, z) -> np.ndarray:
        """Unconstrained :math:`z` → physical parameters (any leading shape)."""
        import jax.numpy as jnp

        return np.asarray(z_to_theta(jnp.asarray(z, jnp.float64), self.args))

    def to_unconstrained(self, theta) -> np.ndarray:
        """Physical parameters (strictly inside the prior range) → :math:`z`."""
        u = to_unit(np.asarray(theta, np.float64), self.lower, self.upper, self.log_mask)
        return unit_to_free(np.clip(u, 1e-12, 1 - 1e-12))

    def log_prob(self, theta):
        """Log-posterior in the physical parameters: :math:`-\\chi^2/2 + \\log\\pi(\\theta)`
        (``-inf`` outside the prior range); pure JAX (for samplers working on :math:`\\theta`,
        e.g. emcee through ``jax.jit(jax.vmap(post.log_prob))``)."""
        import jax.numpy as jnp

        a = self.args
        theta = jnp.asarray(theta, jnp.float64)
        inside = jnp.all((theta >= a.lower) & (theta <= a.upper))
        safe = jnp.where(inside, theta, 0.5 * (a.lower + a.upper))
        c = self.chi2(a.aux.at[self.free_index].set(safe))
        gauss = jnp.where(a.gauss, -0.5 * ((safe - a.mu) / a.sigma) ** 2, 0.0)
        # uniform in log10(theta) for log-space parameters: density 1/(theta ln 10) in theta
        loguni = jnp.where(~a.gauss & a.log_mask, -jnp.log(jnp.where(a.log_mask, safe, 1.0)), 0.0)
        lp = -0.5 * c + jnp.sum(gauss) + jnp.sum(loguni)
        return jnp.where(inside & jnp.isfinite(lp), lp, -jnp.inf)

    def derived(self, theta):
        """Derived quantities (:data:`DERIVED_NAMES`) at one parameter vector; pure JAX."""
        return derived_quantities(self.problem.likelihood, self.free_index, theta, self.args.aux)


def derived_quantities(lik, idx, theta, aux) -> dict:
    """:data:`DERIVED_NAMES` of the likelihood's parameters at ``aux`` with ``theta`` in slots ``idx`` (JAX)."""
    import jax.numpy as jnp

    from ...cosmology.cmb import derived

    q = lik.params(aux.at[idx].set(theta))
    d = derived(q)
    h = jnp.asarray(q["H0"], jnp.float64) / 100.0
    return {
        "Omh2": jnp.asarray(q["Om0"], jnp.float64) * h * h,
        "r_s_drag": d["r_drag"],
        "h_rd": h * d["r_drag"],
        "100theta_star": 100.0 * d["theta_star"],
        "z_recomb": d["z_star"],
        "z_drag": d["z_drag"],
    }


__all__ = ["DERIVED_DESCRIPTIONS", "DERIVED_NAMES", "PRIOR_TYPES", "Posterior", "PosteriorArgs",
           "derived_quantities", "log_density", "parse_priors", "z_to_theta"]
