"""Posterior sampling with NUTS on the compiled joint χ².

The posterior of the free parameters :math:`\\theta` is

.. math::

    p(\\theta\\mid d) \\propto e^{-\\chi^2(\\theta)/2}\\,\\pi(\\theta),

with :math:`\\chi^2` the joint χ² of :func:`pbufjax.likelihoods.build_likelihood` (the
same compiled function the optimizers minimize) and priors :math:`\\pi` uniform over the
optimization bounds (uniform in :math:`\\log_{10}` for log-space parameters such as PBUF's
``Rmax``) unless a Gaussian prior is given (then truncated to the bounds).

One log-density of an unconstrained vector
------------------------------------------
The sampler sees :math:`z \\in \\mathbb R^k`, mapped into the box by the same sigmoid as
the bounded optimizer, :math:`t = t_{lo} + (t_{hi}-t_{lo})\\,\\sigma(z)` (:math:`t` the
parameter or its :math:`\\log_{10}`). Including the Jacobian of the map,

.. math::

    \\log p(z) = -\\tfrac12\\chi^2(\\theta(z))
      + \\sum_i \\big[\\log\\sigma(z_i) + \\log\\sigma(-z_i)\\big]
      + \\sum_{i\\in G}\\Big[-\\frac{(\\theta_i-\\mu_i)^2}{2 s_i^2} + [i\\ \\text{log-space}]\\log\\theta_i\\Big]

up to a constant (:math:`G` the Gaussian-prior parameters; the last term is
:math:`\\log|d\\theta/dt|`). :meth:`Posterior.log_density` is this function — pure,
``jit``/``grad``/``vmap``-able — and any sampler can sit on it; :func:`sample_posterior`
puts numpyro's NUTS (Hoffman & Gelman 2014, arXiv:1111.4246; numpyro: Phan, Pradhan &
Jankowiak 2019, arXiv:1912.11554) on it.

Compiled once, run many times
-----------------------------
Initialization, warm-up (step size by dual averaging to ``target_accept_prob``, mass
matrix — dense by default — by windowed adaptation), sampling and the derived
quantities of every sample are one XLA program, compiled ahead of time and cached per
configuration; a second call with another seed, other fixed values or priors reuses it.
The reported sampling time excludes compilation (``timing["compile"]``).

Chains run ``"vectorized"`` (``vmap`` over chains: every chain waits for the longest
trajectory of the step, which pays on GPUs), ``"sequential"`` (``lax.map``, one chain after
the other inside the same program: on CPU as fast as vectorized for 4 chains, faster for
more, and it compiles ~2.5× faster) or ``"parallel"`` (chains sharded over the devices with
:mod:`pbufjax.sharding`, e.g. the cores of a CPU split with
``XLA_FLAGS=--xla_force_host_platform_device_count=N``). ``"auto"`` (default) is sequential
on CPU and vectorized on accelerators (``documents/sampling_and_batch.md`` has the timings).

Summary statistics: mean, standard deviation, median, 16/84% and 2.5/97.5% quantiles,
split-:math:`\\hat R` (Gelman et al. 2013, BDA3 §11.4) and effective sample size
(Geyer 1992 initial monotone sequence, as in Stan) from numpyro's diagnostics.
"""

from __future__ import annotations

import json
import logging
import math
import numbers
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from . import compile_cache as _compile_cache
from . import optimizer as _opt
from .sharding import _check_count

logger = logging.getLogger(__name__)

_compile_cache.enable_from_environment()  # a second process reuses the compiled programs

#: Ways to run several chains (``"auto"``: ``"sequential"`` on CPU, ``"vectorized"`` on accelerators).
CHAIN_METHODS = ("auto", "vectorized", "sequential", "parallel")
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
#: Statistics in each summary entry.
SUMMARY_KEYS = ("mean", "std", "median", "q16", "q84", "q025", "q975", "r_hat", "ess")

_SAMPLERS: dict = {}


class PosteriorArgs(NamedTuple):
    """Arrays the log-density takes besides :math:`z` (a pytree; new values never recompile)."""

    aux: Any  #: full parameter vector (fixed values; free slots overwritten)
    lower: Any  #: physical lower bounds of the free parameters
    upper: Any  #: physical upper bounds
    log_mask: Any  #: True for log-space parameters
    gauss: Any  #: True where the prior is Gaussian
    mu: Any  #: Gaussian prior means
    sigma: Any  #: Gaussian prior widths


# ---------------------------------------------------------------------------
# The log-density
# ---------------------------------------------------------------------------


def _z_to_theta(z, a: PosteriorArgs):
    import jax
    import jax.numpy as jnp

    tl, th = _opt._t(a.lower, a.log_mask, jnp), _opt._t(a.upper, a.log_mask, jnp)
    return _opt._t_inv(tl + (th - tl) * jax.nn.sigmoid(z), a.log_mask, jnp)


def _log_density(chi2, idx, z, a: PosteriorArgs):
    import jax
    import jax.numpy as jnp

    theta = _z_to_theta(z, a)
    c = chi2(a.aux.at[idx].set(theta))
    jac = jnp.sum(jax.nn.log_sigmoid(z) + jax.nn.log_sigmoid(-z))
    safe = jnp.where(a.gauss, theta, a.mu)
    g = -0.5 * ((safe - a.mu) / a.sigma) ** 2 + jnp.where(a.log_mask, jnp.log(jnp.where(a.log_mask, safe, 1.0)), 0.0)
    lp = -0.5 * c + jac + jnp.sum(jnp.where(a.gauss, g, 0.0))
    return jnp.where(jnp.isfinite(lp), lp, -jnp.inf)


def _parse_priors(priors, names, lower, upper) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
        if isinstance(spec, Mapping):
            kind = spec.get("type", spec.get("dist"))
            kind = kind if kind is not None else ("gaussian" if "mean" in spec else "uniform")
            if kind == "gaussian":
                m, s = spec.get("mean"), spec.get("sigma", spec.get("std"))
            elif kind == "uniform":
                m, s = spec.get("lower"), spec.get("upper")
            else:
                m = s = None
        elif isinstance(spec, (list, tuple)) and len(spec) == 3 and isinstance(spec[0], str):
            kind, m, s = spec
        else:
            raise TypeError(f"prior of {k!r} must be {{'type': 'gaussian', 'mean': m, 'sigma': s}}, "
                            f"{{'type': 'uniform', 'lower': a, 'upper': b}} or ('gaussian', m, s); got {spec!r}")
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

    Attributes:
        problem: the :class:`~pbufjax.optimizer.FitProblem` (compiled χ²).
        names: free parameter names (order of :math:`z` and :math:`\\theta`).
        args: :class:`PosteriorArgs` passed to the pure log-density.

    Raises:
        ValueError, KeyError, TypeError: bad model, dataset, parameter, prior or bounds.

    Example:
        >>> post = Posterior("lcdm", ["bao"], ["H0", "Om0"], overrides={"Obh2": 0.02237})   # doctest: +SKIP
        >>> z = post.to_unconstrained([68.5, 0.30])                                          # doctest: +SKIP
        >>> jax.grad(post.log_density)(z)                                                    # doctest: +SKIP
    """

    def __init__(self, model: str, datasets_list, free_params: Sequence[str] | str, *, overrides=None,
                 priors: Mapping | None = None, bounds: Mapping | None = None, covariance_scaling: float = 1.0):
        import jax.numpy as jnp

        prob = _opt.get_problem(model, datasets_list, free_params, overrides, covariance_scaling, bounds)
        if prob.n_free == 0:
            raise ValueError("no free parameters to sample: give at least one in free_params")
        self.problem = prob
        self.model = model
        self.names = list(prob.free_params)
        lower, upper = prob.lower.copy(), prob.upper.copy()
        gauss, mu, sig = _parse_priors(priors, self.names, lower, upper)
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
        self._chi2 = prob.likelihood.chi2
        self._idx = np.asarray(prob.free_index)

    @property
    def n(self) -> int:
        return len(self.names)

    def log_density(self, z, args: PosteriorArgs | None = None):
        """:math:`\\log p(z)` (module docstring); pure JAX, ``-inf`` where χ² is not finite."""
        return _log_density(self._chi2, self._idx, z, self.args if args is None else args)

    def to_physical(self, z) -> np.ndarray:
        """Unconstrained :math:`z` → physical parameters (any leading shape)."""
        import jax.numpy as jnp

        return np.asarray(_z_to_theta(jnp.asarray(z, jnp.float64), self.args))

    def to_unconstrained(self, theta) -> np.ndarray:
        """Physical parameters (strictly inside the prior range) → :math:`z`."""
        u = _opt.to_unit(np.asarray(theta, np.float64), self.lower, self.upper, self.log_mask)
        u = np.clip(u, 1e-12, 1 - 1e-12)
        return np.log(u) - np.log1p(-u)

    def log_prob(self, theta):
        """Log-posterior in the physical parameters: :math:`-\\chi^2/2 + \\log\\pi(\\theta)`
        (``-inf`` outside the prior range); pure JAX (for samplers working on :math:`\\theta`,
        e.g. emcee through ``jax.jit(jax.vmap(post.log_prob))``)."""
        import jax.numpy as jnp

        a = self.args
        theta = jnp.asarray(theta, jnp.float64)
        inside = jnp.all((theta >= a.lower) & (theta <= a.upper))
        safe = jnp.where(inside, theta, 0.5 * (a.lower + a.upper))
        c = self._chi2(a.aux.at[self._idx].set(safe))
        gauss = jnp.where(a.gauss, -0.5 * ((safe - a.mu) / a.sigma) ** 2, 0.0)
        # uniform in log10(theta) for log-space parameters: density 1/(theta ln 10) in theta
        loguni = jnp.where(~a.gauss & a.log_mask, -jnp.log(jnp.where(a.log_mask, safe, 1.0)), 0.0)
        lp = -0.5 * c + jnp.sum(gauss) + jnp.sum(loguni)
        return jnp.where(inside & jnp.isfinite(lp), lp, -jnp.inf)

    def derived(self, theta):
        """Derived quantities (:data:`DERIVED_NAMES`) at one parameter vector; pure JAX."""
        return _derived(self.problem.likelihood, self._idx, theta, self.args.aux)


def _derived(lik, idx, theta, aux):
    import jax.numpy as jnp

    from .cosmology.cmb import derived

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


# ---------------------------------------------------------------------------
# The compiled sampler
# ---------------------------------------------------------------------------


class _Config(NamedTuple):
    num_warmup: int
    num_samples: int
    num_chains: int
    chain_method: str
    target_accept_prob: float
    dense_mass: bool
    max_tree_depth: int
    forward_mode: bool
    derived: bool
    progress_every: int
    n_devices: int


def _build_program(post: Posterior, cfg: _Config, progress_cb):
    import jax
    import jax.numpy as jnp
    from numpyro.infer.hmc import hmc

    chi2, idx, lik = post._chi2, post._idx, post.problem.likelihood

    def potential_gen(a):
        return lambda z: -_log_density(chi2, idx, z, a)

    init_kernel, sample_kernel = hmc(potential_fn_gen=potential_gen, algo="NUTS")
    total = cfg.num_warmup + cfg.num_samples

    def tick(i):
        if progress_cb is not None:
            jax.lax.cond((i + 1) % cfg.progress_every == 0,
                         lambda: jax.debug.callback(progress_cb, i + 1), lambda: None)

    def one_chain(key, z0, zc, a):
        ok = jnp.isfinite(_log_density(chi2, idx, z0, a))
        z0 = jnp.where(ok, z0, zc)
        st = init_kernel(z0, cfg.num_warmup, dense_mass=cfg.dense_mass, target_accept_prob=cfg.target_accept_prob,
                         max_tree_depth=cfg.max_tree_depth, forward_mode_differentiation=cfg.forward_mode,
                         model_args=(a,), rng_key=key)

        def warm(i, s):
            tick(i)
            return sample_kernel(s, model_args=(a,))

        st = jax.lax.fori_loop(0, cfg.num_warmup, warm, st)

        def step(s, i):
            tick(i)
            s = sample_kernel(s, model_args=(a,))
            return s, (s.z, s.potential_energy, s.num_steps, s.accept_prob, s.diverging)

        last, (z, pe, nsteps, acc, div) = jax.lax.scan(step, st, jnp.arange(cfg.num_warmup, total))
        theta = _z_to_theta(z, a)
        out = {"theta": theta, "potential_energy": pe, "num_steps": nsteps, "accept_prob": acc, "diverging": div,
               "step_size": last.adapt_state.step_size, "inverse_mass_matrix": last.adapt_state.inverse_mass_matrix}
        if cfg.derived:
            out["derived"] = jax.vmap(lambda t: _derived(lik, idx, t, a.aux))(theta)
        return out

    if cfg.chain_method == "sequential":
        def run(keys, z0s, zc, a):
            return jax.lax.map(lambda kz: one_chain(kz[0], kz[1], zc, a), (keys, z0s))
    else:
        def run(keys, z0s, zc, a):
            return jax.vmap(one_chain, in_axes=(0, 0, None, None))(keys, z0s, zc, a)
    return run


def _start_point(post: Posterior, init_params, use_store: bool, store_dir) -> tuple[np.ndarray, str]:
    """Centre of the chains' starting points (physical) and where it came from."""
    x = post.problem.x0.copy()
    source = "model defaults / overrides"
    if init_params is not None:
        if not isinstance(init_params, Mapping):
            raise TypeError(f"init_params must be a dict name -> value, got {type(init_params).__name__}")
        for k, v in init_params.items():
            if k not in post.names:
                raise ValueError(f"init_params gives {k!r}, which is not sampled; sampled parameters: "
                                 f"{', '.join(post.names)}")
            x[post.names.index(k)] = float(v)
        source = "init_params"
    elif use_store:
        try:
            from .parameter_store import OptimizedParameterStore

            stored = OptimizedParameterStore(store_dir).get_stored_parameters(post.model)
        except Exception as exc:  # noqa: BLE001 - a broken store must not stop sampling
            logger.warning("parameter store not used for the starting point: %s", exc)
            stored = {}
        used = [k for k in post.names if k in stored]
        for k in used:
            x[post.names.index(k)] = float(stored[k])
        if used:
            source = f"parameter store ({', '.join(used)})"
    inside = (x > post.lower) & (x < post.upper)
    if not np.all(inside):
        bad = [k for k, ok in zip(post.names, inside) if not ok]
        logger.warning("starting values of %s are outside the prior range; using the range centre", bad)
        mid = _opt.from_unit(np.full(post.n, 0.5), post.lower, post.upper, post.log_mask)
        x = np.where(inside, x, mid)
    return x, source


class _ProgressBar:
    def __init__(self, total: int, desc: str):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=total, desc=desc, leave=True)

    def __call__(self, i):
        i = int(np.max(np.asarray(i)))
        if i > self.bar.n:
            self.bar.update(i - self.bar.n)

    def close(self):
        self.bar.close()


def summarize(chains: Mapping[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Summary statistics of chains ``{name: array (num_chains, num_samples)}``.

    Returns:
        ``{name: {"mean", "std", "median", "q16", "q84", "q025", "q975", "r_hat", "ess"}}``
        (``r_hat``: split-:math:`\\hat R`; ``ess``: effective sample size over all chains).
    """
    from numpyro.diagnostics import effective_sample_size, split_gelman_rubin

    out = {}
    for k, x in chains.items():
        x = np.asarray(x, np.float64)
        flat = x.reshape(-1)
        q = np.percentile(flat, [2.5, 16, 50, 84, 97.5])
        try:
            rhat = float(split_gelman_rubin(x)) if x.shape[1] >= 4 else float("nan")
            ess = float(effective_sample_size(x)) if x.shape[1] >= 2 else float("nan")
        except (AssertionError, ValueError, FloatingPointError):
            rhat, ess = float("nan"), float("nan")
        out[k] = {"mean": float(flat.mean()), "std": float(flat.std(ddof=1)) if flat.size > 1 else 0.0,
                  "median": float(q[2]), "q16": float(q[1]), "q84": float(q[3]), "q025": float(q[0]),
                  "q975": float(q[4]), "r_hat": rhat, "ess": ess}
    return out


def sample_posterior(model: str, datasets_list, free_params: Sequence[str] | str, *, overrides=None,
                     num_samples: int = 2000, num_warmup: int = 1000, num_chains: int = 4, seed: int = 0,
                     priors: Mapping | None = None, bounds: Mapping | None = None, covariance_scaling: float = 1.0,
                     target_accept_prob: float = 0.8, dense_mass: bool = True, max_tree_depth: int = 10,
                     chain_method: str = "auto", init_params: Mapping | None = None,
                     init_spread: float = 0.1, use_store: bool = True, store_dir=None, derived: bool = True,
                     forward_mode: bool | None = None, progress_bar: bool = False, devices=None,
                     output: str | Path | None = None) -> dict[str, Any]:
    """Sample the posterior of ``free_params`` with NUTS (numpyro) on the compiled χ².

    Args:
        model: model name.
        datasets_list: dataset names or aliases.
        free_params: sampled parameters.
        overrides: fixed parameter values (e.g. ``{"Obh2": 0.02237}``).
        num_samples: samples kept per chain (≥ 1).
        num_warmup: warm-up (adaptation) iterations per chain (≥ 0).
        num_chains: number of chains (≥ 1).
        seed: random seed.
        priors: Gaussian priors / uniform ranges (see :class:`Posterior`).
        bounds: replacement optimization bounds (the default uniform prior ranges).
        covariance_scaling: :math:`s` in :math:`C \\to sC`.
        target_accept_prob: dual-averaging target (0 < p < 1).
        dense_mass: adapt a dense (True) or diagonal mass matrix.
        max_tree_depth: NUTS tree-depth limit.
        chain_method: ``"auto"`` (sequential on CPU, vectorized on accelerators),
            ``"vectorized"``, ``"sequential"`` or ``"parallel"`` (:data:`CHAIN_METHODS`).
        init_params: centre of the chains' starting points (default: the values stored
            in the parameter store for ``model`` when ``use_store``, else the model
            defaults/overrides). Each chain starts at the centre plus ``init_spread``
            times a standard normal in :math:`z`.
        init_spread: dispersion of the starting points in unconstrained units.
        use_store: start from the stored best fit when one exists.
        store_dir: parameter-store folder (default ``$PBUFJAX_STORE_DIR`` or
            ``./optimization_results``).
        derived: also return the derived quantities (:data:`DERIVED_NAMES`).
        forward_mode: gradients by forward-mode differentiation (default: when ≤ 4
            parameters, where it is faster).
        progress_bar: show a progress bar (stderr).
        devices: devices for ``chain_method="parallel"`` (:func:`pbufjax.sharding.resolve_devices`).
        output: save the result there (``.npz``, or ``.nc`` through arviz) with :func:`save_samples`.

    Returns:
        ``{"samples": {name: array[num_chains·num_samples]} (free and derived),
        "chains": {name: array (num_chains, num_samples)}, "summary": {name: {"mean",
        "std", "median", "q16", "q84", "q025", "q975", "r_hat", "ess"}}, "free_params",
        "derived_params", "model", "datasets", "priors", "diagnostics" (divergences,
        mean acceptance, mean leapfrog steps, step sizes, inverse mass matrices),
        "init" (starting points and their source), "timing" ({"compile", "sampling",
        "total"} [s]), "ess_per_second" (smallest ESS of the free parameters per second
        of sampling), "config"}``.

    Raises:
        ValueError: ``num_samples < 1``, ``num_warmup < 0``, ``num_chains < 1``, an
            unknown chain method, a parameter not in the model, bad priors, more
            devices than exist, or a posterior that is zero at every start.
        KeyError: unknown dataset.
        TypeError: wrong argument types.

    Example:
        >>> r = sample_posterior("lcdm", ["desi_dr2"], ["H0", "Om0"], overrides={"Obh2": 0.02237},
        ...                      num_samples=1000, num_warmup=500, num_chains=4, seed=0)  # doctest: +SKIP
        >>> r["summary"]["Om0"]["mean"], r["summary"]["h_rd"]["std"]                    # doctest: +SKIP
    """
    import jax
    import jax.numpy as jnp

    t_start = time.perf_counter()
    num_samples = _check_count("num_samples", num_samples, 1)
    num_warmup = _check_count("num_warmup", num_warmup, 0)
    num_chains = _check_count("num_chains", num_chains, 1)
    max_tree_depth = _check_count("max_tree_depth", max_tree_depth, 1)
    if not isinstance(chain_method, str) or chain_method not in CHAIN_METHODS:
        raise ValueError(f"unknown chain_method {chain_method!r}; valid: {', '.join(CHAIN_METHODS)}")
    if isinstance(target_accept_prob, bool) or not isinstance(target_accept_prob, (int, float)) \
            or not 0.0 < float(target_accept_prob) < 1.0:
        raise ValueError(f"target_accept_prob must be in (0, 1), got {target_accept_prob!r}")
    if isinstance(init_spread, bool) or not isinstance(init_spread, (int, float)) or not init_spread >= 0:
        raise ValueError(f"init_spread must be a number >= 0, got {init_spread!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, got {type(seed).__name__} ({seed!r})")

    post = Posterior(model, datasets_list, free_params, overrides=overrides, priors=priors, bounds=bounds,
                     covariance_scaling=covariance_scaling)
    if chain_method == "auto":
        chain_method = "sequential" if jax.default_backend() == "cpu" else "vectorized"
    n_devices = 1
    mesh = None
    if chain_method == "parallel":
        from . import sharding

        devs = sharding.resolve_devices(devices)
        n_devices = len(devs)
        if num_chains % n_devices:
            raise ValueError(f"chain_method='parallel' needs num_chains ({num_chains}) to be a multiple of the "
                             f"number of devices ({n_devices}); valid num_chains: multiples of {n_devices}")
        mesh = sharding.batch_mesh(devs) if n_devices > 1 else None
    elif devices is not None:
        from . import sharding

        sharding.resolve_devices(devices)  # validate
    if forward_mode is None:
        forward_mode = post.n <= 4
    total = num_warmup + num_samples
    cfg = _Config(num_warmup, num_samples, num_chains, chain_method, float(target_accept_prob), bool(dense_mass),
                  max_tree_depth, bool(forward_mode), bool(derived), max(total // 50, 1) if progress_bar else 0,
                  n_devices)

    # starting points
    x_c, init_source = _start_point(post, init_params, use_store, store_dir)
    zc = post.to_unconstrained(x_c)
    rng = np.random.default_rng([int(seed), 104729])
    z0 = zc[None, :] + float(init_spread) * rng.standard_normal((num_chains, post.n))
    keys = jax.random.split(jax.random.PRNGKey(int(seed)), num_chains)

    bar = _ProgressBar(total, f"NUTS {model}") if progress_bar else None
    cache_key = (id(post.problem.likelihood), tuple(post.names), tuple(post.log_mask), cfg, progress_bar)
    hit = _SAMPLERS.get(cache_key)
    t0 = time.perf_counter()
    inputs = (keys, jnp.asarray(z0), jnp.asarray(zc), post.args)
    if mesh is not None:
        from . import sharding

        keys_s, z0_s = sharding.shard_batch((keys, jnp.asarray(z0)), mesh)
        zc_s, args_s = sharding.replicate((jnp.asarray(zc), post.args), mesh)
        inputs = (keys_s, z0_s, zc_s, args_s)
    if hit is None or hit[0] is not post.problem.likelihood or progress_bar:
        # a progress bar's callback is baked into the program: no caching with it
        program = _build_program(post, cfg, bar)
        compiled = jax.jit(program).lower(*inputs).compile()
        if not progress_bar:
            _SAMPLERS[cache_key] = (post.problem.likelihood, compiled)
    else:
        compiled = hit[1]
    t_compile = time.perf_counter() - t0
    t1 = time.perf_counter()
    try:
        out = jax.block_until_ready(compiled(*inputs))
    finally:
        if bar is not None:
            bar.close()
    t_sample = time.perf_counter() - t1
    out = jax.tree.map(np.asarray, out)

    if not np.any(np.isfinite(out["potential_energy"])):
        raise ValueError(f"the posterior is zero (χ² not finite) at every sample; starting point {x_c.tolist()} "
                         f"({init_source}) — give init_params inside the physical region")
    theta = out["theta"]  # (C, S, k)
    chains = {k: theta[:, :, i] for i, k in enumerate(post.names)}
    derived_names: list[str] = []
    if derived:
        for k in DERIVED_NAMES:
            if k in post.names:
                continue
            chains[k] = out["derived"][k]
            derived_names.append(k)
    summary = summarize(chains)
    samples = {k: v.reshape(-1) for k, v in chains.items()}
    min_ess = min(summary[k]["ess"] for k in post.names)
    n_div = int(np.sum(out["diverging"]))
    if n_div:
        logger.warning("%d divergent transitions after warm-up (raise target_accept_prob)", n_div)
    worst = max(summary[k]["r_hat"] for k in post.names)
    if num_chains > 1 and math.isfinite(worst) and worst > 1.01:
        logger.warning("r_hat up to %.4f > 1.01: chains not converged (more warm-up or samples)", worst)
    result = {
        "samples": samples,
        "chains": chains,
        "summary": summary,
        "free_params": list(post.names),
        "derived_params": derived_names,
        "model": model,
        "datasets": list(post.problem.datasets),
        "fixed_params": {k: v for k, v in post.problem.values().items() if k not in post.names},
        "priors": post.priors,
        "diagnostics": {
            "num_divergences": n_div,
            "accept_prob_mean": float(np.mean(out["accept_prob"])),
            "num_steps_mean": float(np.mean(out["num_steps"])),
            "step_size": np.asarray(out["step_size"]).tolist(),
            "inverse_mass_matrix": np.asarray(out["inverse_mass_matrix"]),
            "potential_energy": out["potential_energy"],
        },
        "init": {"source": init_source, "center": dict(zip(post.names, x_c.tolist())),
                 "points": post.to_physical(z0)},
        "timing": {"compile": t_compile, "sampling": t_sample, "total": time.perf_counter() - t_start},
        "ess_per_second": float(min_ess / t_sample) if t_sample > 0 else float("nan"),
        "config": {"num_samples": num_samples, "num_warmup": num_warmup, "num_chains": num_chains, "seed": int(seed),
                   "chain_method": chain_method, "target_accept_prob": float(target_accept_prob),
                   "dense_mass": bool(dense_mass), "max_tree_depth": max_tree_depth,
                   "forward_mode": bool(forward_mode), "covariance_scaling": float(covariance_scaling),
                   "n_devices": n_devices},
    }
    logger.info("NUTS %s on %s: %d×%d samples in %.2f s (compile %.2f s), min ESS %.0f, %.0f ESS/s", model,
                ",".join(post.problem.datasets), num_chains, num_samples, t_sample, t_compile, min_ess,
                result["ess_per_second"])
    if output is not None:
        save_samples(result, output)
    return result


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------

_META_KEYS = ("summary", "free_params", "derived_params", "model", "datasets", "fixed_params", "priors", "config",
              "timing", "ess_per_second")


def _jsonable(obj):
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def save_samples(result: Mapping[str, Any], path: str | Path) -> Path:
    """Write a :func:`sample_posterior` result to ``.npz`` (numpy) or ``.nc`` (netCDF via arviz).

    The npz holds ``chains/<name>`` arrays (num_chains, num_samples) and a JSON
    ``metadata`` string (summary, configuration, priors, fixed values); the netCDF is
    an arviz ``InferenceData`` with the chains as its ``posterior`` group and the
    metadata as attributes.

    Raises:
        ValueError: another file extension (lists the valid ones).
        ImportError: ``.nc`` without arviz installed.
    """
    path = Path(path)
    meta = json.dumps(_jsonable({k: result.get(k) for k in _META_KEYS}))
    if path.suffix == ".npz":
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {f"chains/{k}": np.asarray(v) for k, v in result["chains"].items()}
        np.savez(path, metadata=np.asarray(meta), **arrays)
        return path
    if path.suffix == ".nc":
        try:
            import arviz as az
        except ImportError as exc:
            raise ImportError("saving to netCDF (.nc) needs arviz: pip install arviz (or save to .npz)") from exc
        path.parent.mkdir(parents=True, exist_ok=True)
        idata = az.from_dict(posterior={k: np.asarray(v) for k, v in result["chains"].items()},
                             attrs={"pbufjax_metadata": meta})
        idata.to_netcdf(str(path))
        return path
    raise ValueError(f"unknown sample file extension {path.suffix!r} ({path}); valid: .npz, .nc")


def load_samples(path: str | Path) -> dict[str, Any]:
    """Read a file written by :func:`save_samples`.

    Returns:
        ``{"chains", "samples", "summary", "free_params", ...}`` (the saved metadata).

    Raises:
        FileNotFoundError: no such file. ValueError: not a sample file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"sample file {path} does not exist")
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as f:
            if "metadata" not in f.files:
                raise ValueError(f"{path} is not a pbufjax sample file (no metadata)")
            meta = json.loads(str(f["metadata"]))
            chains = {k.split("/", 1)[1]: f[k] for k in f.files if k.startswith("chains/")}
    elif path.suffix == ".nc":
        try:
            import arviz as az
        except ImportError as exc:
            raise ImportError("reading netCDF (.nc) needs arviz: pip install arviz") from exc
        idata = az.from_netcdf(str(path))
        post = idata.posterior
        chains = {k: np.asarray(post[k]) for k in post.data_vars}
        meta = json.loads(idata.attrs.get("pbufjax_metadata", post.attrs.get("pbufjax_metadata", "{}")))
    else:
        raise ValueError(f"unknown sample file extension {path.suffix!r} ({path}); valid: .npz, .nc")
    out = dict(meta)
    out["chains"] = chains
    out["samples"] = {k: np.asarray(v).reshape(-1) for k, v in chains.items()}
    return out


def clear_cache() -> None:
    """Forget the compiled samplers."""
    _SAMPLERS.clear()


__all__ = [
    "CHAIN_METHODS",
    "DERIVED_NAMES",
    "PRIOR_TYPES",
    "Posterior",
    "PosteriorArgs",
    "clear_cache",
    "load_samples",
    "sample_posterior",
    "save_samples",
    "summarize",
]
